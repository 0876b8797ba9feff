import { test, expect, hydrated, openOwnProduct } from "./fixtures";

test("validation run from the page names a product synced to one platform only", async ({ page, isMobile }) => {
  test.setTimeout(60_000);
  // A product of this test's own, synced to Shopee only: validation must miss its TikTok
  // mapping.
  const id = await openOwnProduct(page);
  await page.getByRole("button", { name: "Sync to Shopee" }).click();
  await expect(page.getByTestId("sync-outcomes")).toContainText("Shopee: created");

  if (isMobile) await page.getByTestId("phone-menu").getByText("Menu").click();
  await page.getByRole("link", { name: "Validation" }).click();
  await expect(page).toHaveURL(/\/dashboard\/validation$/);
  await hydrated(page);
  await page.getByTestId("run-database").click();
  const mappings = page.getByTestId("check-mappings");
  await expect(mappings).toContainText("Failed", { timeout: 30_000 });
  const row = mappings.getByTestId("failing-row").filter({ hasText: `Product #${id}` });
  await expect(row).toContainText("tiktok");
  await expect(row).toContainText("never synced to this platform");
  await expect(row.getByRole("link", { name: "Sync logs" })).toHaveAttribute(
    "href",
    `/dashboard/sync-logs?product=${id}&platform=tiktok`,
  );
  await expect(page.getByTestId("check-pricing")).toBeVisible();
});
