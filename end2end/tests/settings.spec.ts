import { test, expect, hydrated, signIn, openOwnProduct } from "./fixtures";

// The owner connects each shop through the platform's own authorization page (the
// sandbox's consent page here) and lands back on Settings with the shop connected.
for (const [platform, label] of [
  ["shopee", "Shopee"],
  ["tiktok", "TikTok Shop"],
] as const) {
  test(`the owner connects ${label} through its authorization page`, async ({ page }) => {
    await signIn(page, "/dashboard/settings");
    const card = page.getByTestId(`shop-${platform}`);
    await expect(card).toBeVisible();
    await card.getByRole("link", { name: new RegExp(`^(Connect|Reconnect) ${label}$`) }).click();
    // The platform's page, on the sandbox's own origin.
    await expect(page.getByRole("heading", { name: /authorize SyncStore/ })).toBeVisible();
    expect(new URL(page.url()).origin).not.toBe(new URL(process.env.E2E_BASE_URL!).origin);
    await page.getByRole("button", { name: "Authorize" }).click();
    await expect(page).toHaveURL(/\/dashboard\/settings\?connected=/);
    await hydrated(page);
    await expect(page.getByTestId("settings-notice")).toContainText(`${label} connected: Toko Sandbox`);
    await expect(card.getByTestId("shop-name")).toHaveText("Toko Sandbox");
    await expect(card.getByTestId("shop-status")).toHaveText("connected");
    await expect(card.getByTestId("shop-source")).toContainText("oauth");
    await expect(card).toContainText("Access token ends");
    // The API says the same, and never carries a token.
    const shops = await (await page.request.get("/api/shops")).json();
    const shop = shops.shops.find((s: { platform: string }) => s.platform === platform);
    expect(shop.status).toBe("connected");
    expect(JSON.stringify(shops)).not.toMatch(/"(access|refresh)_token"/);
  });
}

test("a denied authorization comes back as a clear message", async ({ page }) => {
  await signIn(page, "/dashboard/settings");
  await page.getByTestId("shop-tiktok").getByRole("link", { name: /^(Connect|Reconnect) TikTok Shop$/ }).click();
  await page.getByRole("button", { name: "Deny" }).click();
  await expect(page).toHaveURL(/\/dashboard\/settings\?error=/);
  await hydrated(page);
  await expect(page.getByText(/authorization was denied on TikTok Shop/)).toBeVisible();
});

test("the settings show each platform's markup with what a change re-prices", async ({ page }) => {
  await signIn(page, "/dashboard/settings");
  await expect(page.getByLabel("Shopee markup (%)")).toHaveValue("15.00");
  await expect(page.getByLabel("TikTok Shop markup (%)")).toHaveValue("20.00");
  await expect(page.getByTestId("markup-shopee").getByTestId("markup-outdated")).toContainText("markup");
});

test("operators are refused the settings", async ({ page }) => {
  await signIn(page, "/dashboard/products", {
    email: process.env.E2E_OPERATOR_EMAIL!,
    password: process.env.E2E_OPERATOR_PASSWORD!,
  });
  const res = await page.request.post("/api/fn/set_markup", { form: { platform: "shopee", percent: "99" } });
  expect(res.status()).toBe(403);
  const start = await page.request.get("/oauth/shopee/start", { maxRedirects: 0 });
  expect(start.status()).toBe(403);
});

test("a title override is checked as it is typed and saved for the next sync", async ({ page }) => {
  await openOwnProduct(page);
  const form = page.getByTestId("title-override-tiktok");
  const field = form.getByLabel("Title override");
  await expect(form.getByTestId("title-check")).toContainText("generated SEO title is used");
  await field.fill("Kaos Polos");
  await expect(form.getByTestId("title-length")).toHaveText("10 characters (25–255)");
  await expect(form.getByTestId("title-length")).toHaveClass(/text-red-700/);
  await expect(form.getByRole("button", { name: "Save title" })).toBeDisabled();
  const master = (await page.getByTestId("product-title").textContent())!.trim();
  await field.fill(`${master} Pilihan Toko`);
  await expect(form.getByTestId("title-length")).toHaveClass(/text-emerald-700/);
  await expect(form.getByTestId("title-similarity")).toContainText("% similar to the master title");
  await form.getByRole("button", { name: "Save title" }).click();
  await expect(form.getByRole("status")).toHaveText("Saved: the next sync uses this title.");
  await page.reload();
  await hydrated(page);
  await expect(page.getByTestId("title-override-tiktok").getByLabel("Title override")).toHaveValue(`${master} Pilihan Toko`);
});

test("category mappings are chosen from the shop's own tree, with its mandatory attributes", async ({ page }) => {
  await signIn(page, "/dashboard/settings");
  const shopee = page.getByTestId("categories-shopee");
  const row = shopee.getByTestId("category-row").filter({ has: page.getByText("Fashion", { exact: true }) });
  const select = row.getByLabel("Fashion", { exact: true });
  await expect(select.locator("option:checked")).toHaveText("Pakaian › Atasan");
  await expect(select.locator("option", { hasText: "Pakaian › Bawahan" })).toHaveCount(1);
  await expect(row.getByTestId("mandatory-attributes")).toContainText("Merek: filled with “Tidak Ada Merek”");
  // Saved as it is (other tests create Fashion listings meanwhile).
  await row.getByRole("button", { name: "Save" }).click();
  await expect(shopee.getByRole("status")).toHaveText("Fashion now goes to Pakaian › Atasan.");
  await expect(page.getByTestId("categories-tiktok").getByLabel("Fashion", { exact: true }).locator("option:checked")).toHaveText(
    "Fashion Wanita & Pria › Kaos & Atasan",
  );
});
