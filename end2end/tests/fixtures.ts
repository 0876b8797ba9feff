import { test as base, expect, Page } from "@playwright/test";
import * as fs from "node:fs";
import * as path from "node:path";

/** Every test fails on a browser console error, an uncaught exception or a failed request. */
/** The one URL the tests visit expecting a 404. */
export const EXPECTED_404 = "/dashboard/products/424242";

export const test = base.extend<{ problems: string[] }>({
  problems: [
    async ({ page }, use) => {
      const problems: string[] = [];
      // A test may visit a page that is meant to answer 404; the browser logs that too.
      let expected404s = 0;
      page.on("console", (msg) => {
        if (msg.type() !== "error") return;
        if (expected404s > 0 && msg.text().includes("status of 404")) {
          expected404s -= 1;
          return;
        }
        problems.push(`console: ${msg.text()}`);
      });
      page.on("pageerror", (err) => problems.push(`page error: ${err.message}`));
      page.on("requestfailed", (req) => {
        // Navigations abort their predecessors' requests; that is not a failure.
        if (req.failure()?.errorText !== "net::ERR_ABORTED") problems.push(`request failed: ${req.url()}`);
      });
      page.on("response", (res) => {
        if (res.status() === 404 && res.url().includes(EXPECTED_404)) expected404s += 1;
        else if (res.status() >= 400) problems.push(`HTTP ${res.status()}: ${res.url()}`);
      });
      await use(problems);
      expect(problems, "browser problems").toEqual([]);
    },
    { auto: true },
  ],
});

export { expect };

/** A fresh context hydrates in 0.4–0.7 s on a quiet 2-core machine (size-optimised dev
 * WASM, fastest gzip; `node scripts/hydration-time.mjs`). The wait allows a busy machine
 * fifteen times that before it calls the page broken. */
export async function hydrated(page: Page) {
  await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true", { timeout: 10_000 });
}

export async function signIn(
  page: Page,
  next = "/dashboard/products",
  as: { email: string; password: string } = { email: process.env.E2E_EMAIL!, password: process.env.E2E_PASSWORD! },
) {
  await page.goto(next);
  await expect(page).toHaveURL(/\/login\?next=/);
  await hydrated(page);
  await page.getByLabel("Email").fill(as.email);
  await page.getByLabel("Password").fill(as.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(new RegExp(next.replace(/[?]/g, "\\?") + "$"));
  await hydrated(page);
}

/** Takes the first item of `candidates` no other test of this run has taken. A claim is a
 * file only one process can create (`wx`), so two Playwright workers never get the same
 * products, whatever order the tests run in. */
function claim(pool: string, candidates: number[]): number {
  const dir = path.join(process.env.E2E_CLAIMS_DIR!, pool);
  fs.mkdirSync(dir, { recursive: true });
  for (const candidate of candidates) {
    try {
      fs.writeFileSync(path.join(dir, String(candidate)), "", { flag: "wx" });
      return candidate;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    }
  }
  throw new Error(`every ${pool} candidate is taken: add more to the pool`);
}

/** A page of 50 demo products that no other test touches (pages 62–82: away from the
 * first pages and 60–61, which tests only read). */
export function ownProductsPage(): number {
  return claim("pages", Array.from({ length: 21 }, (_, i) => 62 + i));
}

/** One of the demo products `end2end/run.sh` left with only two images, no other test's. */
export function ownTwoImageProduct(): number {
  return claim("two-image", [4121, 4126, 4131, 4136, 4141, 4146]);
}

/** Signs in on a page of products of this test's own and opens its first product; answers
 * the product's id. */
export async function openOwnProduct(page: Page): Promise<string> {
  await signIn(page, `/dashboard/products?page=${ownProductsPage()}`);
  const list = page.getByTestId("products-table");
  await list.getByRole("link").first().click();
  await expect(page).toHaveURL(/\/dashboard\/products\/\d+$/);
  await hydrated(page);
  return page.url().match(/(\d+)$/)![1];
}
