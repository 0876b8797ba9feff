import { test, expect, hydrated, ownProductsPage, ownTwoImageProduct, signIn } from "./fixtures";

test("ten selected products synced as a batch fill the live progress bar to 100%", async ({ page }) => {
  test.setTimeout(120_000);
  await signIn(page, `/dashboard/products?page=${ownProductsPage()}`);
  const boxes = page.locator("[data-select]:visible");
  for (let i = 0; i < 10; i++) await boxes.nth(i).check();
  await expect(page.getByTestId("selected-count")).toHaveText("10 selected");
  await page.getByRole("button", { name: "Sync to Both" }).click();

  await expect(page).toHaveURL(/\/dashboard\/batches\/[0-9a-f-]{36}$/);
  await hydrated(page);
  const bar = page.getByRole("progressbar", { name: "Batch progress" });
  await expect(bar).toBeVisible();
  // No reload: the page follows the batch's server-sent events.
  await expect(page.getByTestId("batch-percent")).toHaveText("100%", { timeout: 90_000 });
  await expect(bar).toHaveAttribute("aria-valuenow", "100");
  await expect(page.getByTestId("batch-status")).toHaveText("Completed");
  await expect(page.getByTestId("count-completed")).toHaveText("20");
  await expect(page.getByTestId("count-failed")).toHaveText("0");
  await expect(page.getByTestId("batch-jobs").locator("tbody tr")).toHaveCount(20);

  await page.getByRole("link", { name: "Batch test report" }).click();
  const report = page.getByTestId("batch-report");
  await expect(report.getByRole("row", { name: /Success rate/ })).toContainText("100.0% (20 of 20)");
  await expect(page.getByTestId("report-chart").first()).toContainText("Time per product");
  await expect(page.getByTestId("report-chart").first().locator("rect")).toHaveCount(10);
  const md = await page.request.get((await page.getByTestId("report-download").getAttribute("href"))!);
  expect(await md.text()).toContain("| Success rate | 100.0% (20 of 20) |");
  await page.getByTestId("spot-check").click();
  await expect(page.getByText("Read back 3 products.")).toBeVisible({ timeout: 30_000 });
  await expect(page.getByTestId("batch-report-status")).toHaveText("Batch test passed");
});

test("a batch holds at most 50 products", async ({ page }) => {
  await signIn(page, "/dashboard/products?page=60");
  await page.getByTestId("select-page").check();
  await expect(page.getByTestId("selected-count")).toHaveText("50 selected");
  await page.getByRole("link", { name: "Next" }).click();
  await expect(page).toHaveURL(/page=61/);
  await expect(page.getByTestId("result-summary")).toHaveText("4147 products · page 61 of 83");
  await page.locator("[data-select]:visible").first().check();
  await expect(page.getByTestId("selected-count")).toHaveText("51 selected");
  await expect(page.getByTestId("batch-bar")).toContainText("A batch holds at most 50 products");
  await expect(page.getByRole("button", { name: "Sync to Both" })).toBeDisabled();
  await page.getByRole("button", { name: "Clear" }).click();
  await expect(page.getByTestId("batch-bar")).toBeHidden();
});

test("a failed job goes to the dead-letter queue and is discarded with a reason", async ({ page }) => {
  test.setTimeout(60_000);
  const id = ownTwoImageProduct();
  await signIn(page, "/dashboard/products?q=Dua%20Gambar");
  await page.locator(`[data-select="${id}"]:visible`).check();
  await page.getByRole("button", { name: "Sync to TikTok" }).click();
  await expect(page).toHaveURL(/\/dashboard\/batches\//);
  await hydrated(page);
  await expect(page.getByTestId("batch-status")).toHaveText("Completed with errors", { timeout: 30_000 });
  await expect(page.getByTestId("count-failed")).toHaveText("1");
  const job = await page.getByTestId("batch-jobs").locator("tbody tr").first().getAttribute("data-job");

  await page.getByRole("link", { name: "Review failed jobs" }).click();
  await expect(page).toHaveURL(/\/dashboard\/dead-letters$/);
  await hydrated(page);
  const letter = page.locator(`li[data-job="${job}"]`);
  await expect(letter).toContainText("INVALID_PRODUCT");
  await expect(letter).toContainText("at least 3");
  await letter.getByLabel("Reason for discarding").fill("Listed by hand with the right photos");
  await letter.getByRole("button", { name: "Discard" }).click();
  await expect(letter).toHaveCount(0);

  // The discard is in the audit log, with who did it and why.
  await page.goto("/dashboard/audit?action=dead_letter.discard");
  await hydrated(page);
  const entry = page.getByTestId("audit-entries").locator("li").filter({ hasText: job! });
  await expect(entry).toContainText("Dead letter discarded");
  await expect(entry).toContainText(process.env.E2E_EMAIL!);
  await expect(entry).toContainText("Listed by hand with the right photos");
});

test("the owner rolls a batch back from its page: plan first, then live progress", async ({ page }) => {
  test.setTimeout(120_000);
  await signIn(page, `/dashboard/products?page=${ownProductsPage()}`);
  const boxes = page.locator("[data-select]:visible");
  for (let i = 0; i < 2; i++) await boxes.nth(i).check();
  await page.getByRole("button", { name: "Sync to Both" }).click();
  await expect(page).toHaveURL(/\/dashboard\/batches\/[0-9a-f-]{36}$/);
  const batchUrl = page.url();
  await hydrated(page);
  await expect(page.getByTestId("batch-status")).toHaveText("Completed", { timeout: 60_000 });

  // The dry run: the batch created all four listings, so the plan deletes them.
  const panel = page.getByTestId("rollback-panel");
  await expect(panel).toBeVisible();
  await panel.getByRole("button", { name: "Show rollback plan" }).click();
  const plan = panel.getByTestId("rollback-plan");
  await expect(plan.locator("tbody tr")).toHaveCount(4);
  await expect(plan.locator('tbody tr[data-action="delete"]')).toHaveCount(4);

  await panel.getByTestId("rollback-confirm").click();
  await expect(page).not.toHaveURL(batchUrl);
  await expect(page).toHaveURL(/\/dashboard\/batches\/[0-9a-f-]{36}$/);
  await hydrated(page);
  await expect(page.getByRole("heading", { level: 1 })).toContainText("Rollback");
  await expect(page.getByTestId("rollback-of")).toBeVisible();
  await expect(page.getByTestId("batch-percent")).toHaveText("100%", { timeout: 60_000 });
  await expect(page.getByTestId("batch-status")).toHaveText("Completed");
  await expect(page.getByTestId("rollback-step")).toHaveText(Array(4).fill("delete → deleted"));
  // A rollback is not rolled back from its own page.
  await expect(page.getByTestId("rollback-panel")).toHaveCount(0);

  // The products are unlisted again.
  const first = await page.getByTestId("batch-jobs").locator("tbody tr a").first().getAttribute("href");
  await page.goto(first!);
  await hydrated(page);
  await expect(page.getByTestId("mapping-shopee")).toContainText("Not Synced");
  await expect(page.getByTestId("mapping-tiktok")).toContainText("Not Synced");
});
