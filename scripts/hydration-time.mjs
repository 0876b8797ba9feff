// Measures how long a fresh browser context takes from navigation to a hydrated page
// (`data-hydrated="true"`), as the end-to-end tests wait for it. Usage:
//   node scripts/hydration-time.mjs http://127.0.0.1:3107/login [runs]
import { chromium } from "@playwright/test";

const url = process.argv[2] ?? "http://127.0.0.1:3107/login";
const runs = Number(process.argv[3] ?? 5);
const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const times = [];
for (let i = 0; i < runs; i++) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const started = Date.now();
  await page.goto(url);
  await page.waitForSelector('body[data-hydrated="true"]', { timeout: 60_000 });
  times.push(Date.now() - started);
  await context.close();
}
await browser.close();
times.sort((a, b) => a - b);
console.log(JSON.stringify({ url, runs, ms: times, median_ms: times[Math.floor(runs / 2)] }));
