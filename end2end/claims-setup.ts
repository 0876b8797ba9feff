import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

/** Gives every Playwright run a fresh place for the product claims of `tests/fixtures.ts`
 * (`end2end/run.sh` names one per run; a direct `npx playwright test` gets its own). The
 * workers start after this and inherit the variable. */
export default function claimsSetup() {
  if (!process.env.E2E_CLAIMS_DIR) {
    process.env.E2E_CLAIMS_DIR = fs.mkdtempSync(path.join(os.tmpdir(), "syncstore-e2e-claims-"));
  }
}
