import { test, expect, hydrated, openOwnProduct, ownProductsPage, ownTwoImageProduct, signIn, EXPECTED_404 } from "./fixtures";

test("a wrong password keeps the user on the login page with a message", async ({ page }) => {
  await page.goto("/login");
  await hydrated(page);
  await page.getByLabel("Email").fill(process.env.E2E_EMAIL!);
  await page.getByLabel("Password").fill("not the password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("alert")).toContainText("Email or password is wrong");
});

test("operators page through 4,147 products and search by title", async ({ page, isMobile }) => {
  await signIn(page);
  await expect(page.getByTestId("result-summary")).toHaveText("4147 products · page 1 of 83");
  const list = page.getByTestId("products-table");
  await expect(list).toBeVisible();
  // A table from md up; on a phone the same rows are cards, without column headers.
  for (const column of ["ID", "Title", "Master Price", "Shopee Price", "TikTok Price", "Status"]) {
    const header = page.getByRole("columnheader", { name: column, exact: true });
    if (isMobile) await expect(header).toBeHidden();
    else await expect(header).toBeVisible();
  }
  await expect(list.locator("tbody tr")).toHaveCount(50);
  // Every card fits the phone's width: nothing scrolls sideways.
  const width = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
  expect(width[0]).toBeLessThanOrEqual(width[1]);
  await expect(list).toContainText(/Rp \d{1,3}(\.\d{3})+/);

  await page.getByRole("link", { name: "Next" }).click();
  await expect(page).toHaveURL(/page=2/);
  await expect(page.getByTestId("result-summary")).toHaveText("4147 products · page 2 of 83");
  await page.goBack();
  await expect(page.getByTestId("result-summary")).toHaveText("4147 products · page 1 of 83");

  await page.getByLabel("Search by title").fill("Serum Wajah");
  await page.getByRole("button", { name: "Search" }).click();
  await expect(page).toHaveURL(/q=Serum/);
  await expect(page.getByTestId("result-summary")).toContainText("products · page 1 of");
  const titles = list.locator("tbody td:nth-child(3) a");
  await expect(titles.first()).toContainText("Serum Wajah");
});

test("opening a product shows its master fields and mappings", async ({ page }) => {
  await signIn(page, "/dashboard/products?q=Kaos%20Polos");
  const list = page.getByTestId("products-table");
  const first = list.getByRole("link").first();
  const title = (await first.textContent())!.trim();
  await first.click();
  await expect(page).toHaveURL(/\/dashboard\/products\/\d+$/);
  await expect(page.getByTestId("product-title")).toHaveText(title);
  await expect(page.getByTestId("base-price")).toHaveText(/^Rp \d{1,3}(\.\d{3})*$/);
  await expect(page.getByTestId("gallery").locator("img")).not.toHaveCount(0);
  await expect(page.getByTestId("mapping-shopee")).toContainText("Not Synced");
  await expect(page.getByTestId("mapping-tiktok")).toContainText("Not Synced");
  await expect(page.getByText("Tokopedia status")).toBeVisible();
});

test("the products page needs no other page's code; a product's arrives when it is opened", async ({ page }) => {
  // The lazily loaded parts of a split build (`cargo leptos build --split`).
  const lazy: string[] = [];
  page.on("request", (req) => {
    const file = new URL(req.url()).pathname.split("/").pop()!;
    if (file.startsWith("split_") || file.startsWith("chunk_")) lazy.push(file);
  });
  await signIn(page, `/dashboard/products?page=${ownProductsPage()}`);
  await expect(page.getByTestId("result-summary")).toContainText("4147 products");
  expect(lazy, "WASM the products page fetched beyond its own").toEqual([]);

  const list = page.getByTestId("products-table");
  await list.getByRole("link").first().click();
  await expect(page).toHaveURL(/\/dashboard\/products\/\d+$/);
  await expect(page.getByTestId("product-title")).toBeVisible();
  expect(lazy.some((f) => f.startsWith("split___product_view")), `fetched: ${lazy.join(", ")}`).toBe(true);
});

test("an unknown product gets the 404 page", async ({ page }) => {
  await signIn(page);
  const res = await page.goto(EXPECTED_404);
  expect(res?.status()).toBe(404);
  await expect(page.getByTestId("not-found")).toContainText("This product does not exist");
});

test("syncing a product shows Syncing… then Synced with the marketplace ids", async ({ page }) => {
  await openOwnProduct(page);
  await expect(page.getByTestId("mapping-shopee")).toContainText("Not Synced");

  await page.getByRole("button", { name: "Sync to Both" }).click();
  await expect(page.getByRole("button", { name: "Syncing…" })).toBeVisible();
  // The claimed product may have variants: more calls on both shops than a simple one.
  await expect(page.getByTestId("sync-outcomes")).toContainText("Shopee: created", { timeout: 30_000 });
  await expect(page.getByTestId("sync-outcomes")).toContainText("TikTok Shop: created");
  await expect(page.getByTestId("mapping-shopee")).toContainText("Synced");
  await expect(page.getByTestId("mapping-tiktok")).toContainText("Synced");
  await expect(page.getByText("ACTIVATE")).toBeVisible();
  await expect(page.getByRole("button", { name: "Sync to Both" })).toBeEnabled();

  await page.getByRole("button", { name: "Verify on marketplace" }).click();
  await expect(page.getByTestId("verify-result")).toContainText(/All \d+ checks match/);
});

test("a product with too few images shows the Error state with what to fix", async ({ page }) => {
  const id = ownTwoImageProduct();
  await signIn(page, `/dashboard/products/${id}`);
  await page.getByRole("button", { name: "Sync to Shopee" }).click();
  const outcome = page.getByTestId("sync-outcomes");
  await expect(outcome).toContainText("Shopee: INVALID_PRODUCT", { timeout: 20_000 });
  await expect(outcome).toContainText("at least 3 are needed");
  await expect(outcome).toContainText("Fix the product in the master catalog");
  await expect(page.getByTestId("mapping-shopee")).toContainText("Error");
  await outcome.getByRole("link", { name: "See the sync log" }).click();
  await expect(page).toHaveURL(new RegExp(`/dashboard/sync-logs\\?product=${id}&platform=shopee`));
  await expect(page.getByTestId("sync-logs")).toContainText("INVALID_PRODUCT");
});
