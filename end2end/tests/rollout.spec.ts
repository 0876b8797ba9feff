import { test, expect, hydrated, signIn } from "./fixtures";

test("the owner finds the rollout from the menu with what the next approval needs", async ({ page, isMobile }) => {
  await signIn(page);
  // Phones get a compact menu instead of a row of links that wraps onto three lines.
  if (isMobile) {
    await expect(page.getByRole("link", { name: "Rollout" })).toBeHidden();
    await page.getByTestId("phone-menu").getByText("Menu").click();
  }
  await page.getByRole("link", { name: "Rollout" }).click();
  await expect(page).toHaveURL(/\/dashboard\/rollout$/);
  await hydrated(page);
  // The end-to-end server starts with the pilot and the 10-product stage approved.
  await expect(page.getByTestId("rollout-stage")).toHaveText("Batches of 50");
  await expect(page.getByTestId("rollout-limit")).toHaveText("Batches of at most 50 products, one at a time.");
  await expect(page.getByTestId("rollout-steps").locator('[aria-current="step"]')).toHaveText("Batches of 50");
  await expect(page.getByTestId("rollout-missing")).toContainText("validation");
  await expect(page.getByTestId("rollout-approvals").locator("li")).toHaveCount(2);
  await expect(page.getByTestId("rollout-approvals")).toContainText("recorded by end2end/run.sh");
  const approve = page.getByTestId("approve-form").getByRole("button", { name: "Approve this stage" });
  await expect(approve).toBeVisible();
  await expect(approve).toBeDisabled();

  // The completion report, generated from the data, says why it cannot be signed off yet.
  await page.getByRole("link", { name: "Completion report" }).click();
  await expect(page).toHaveURL(/\/dashboard\/reports\/completion$/);
  await expect(page.getByTestId("completion-status")).toHaveText("Not ready");
  // A page a person reads: headings, tables with badges, the Markdown one click away.
  const report = page.getByTestId("completion-report");
  await expect(report.getByRole("heading", { name: "Success metrics" })).toBeVisible();
  await expect(report).toContainText("Not ready for sign-off");
  await expect(report.locator("table").first()).toBeVisible();
  const download = await page.request.get(
    (await page.getByTestId("report-download").getAttribute("href"))!,
  );
  expect(download.status()).toBe(200);
  expect(download.headers()["content-disposition"]).toContain("attachment");
  expect(await download.text()).toContain("## Success metrics");
});

test("an operator sees the rollout without approve controls, and the API refuses them", async ({ page }) => {
  await signIn(page, "/dashboard/rollout", {
    email: process.env.E2E_OPERATOR_EMAIL!,
    password: process.env.E2E_OPERATOR_PASSWORD!,
  });
  await expect(page.getByTestId("rollout-stage")).toHaveText("Batches of 50");
  await expect(page.getByTestId("approve-form")).toHaveCount(0);
  const res = await page.request.post("/api/rollout/approve", { data: { note: "let me" } });
  expect(res.status()).toBe(403);
  expect((await res.json()).error.code).toBe("FORBIDDEN");
});
