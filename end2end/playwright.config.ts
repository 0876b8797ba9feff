import { defineConfig } from "@playwright/test";

export default defineConfig({
  testDir: "./tests",
  globalSetup: "./claims-setup.ts",
  timeout: 30_000,
  retries: 0,
  workers: 2,
  reporter: [["list"]],
  outputDir: "./test-results",
  use: {
    baseURL: process.env.E2E_BASE_URL ?? "http://127.0.0.1:3107",
    launchOptions: {
      executablePath: "/usr/bin/chromium",
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    },
  },
  // One batch runs at a time (SPEC §7), so the batch tests of the two viewports run one
  // after the other; everything else runs side by side.
  projects: [
    { name: "desktop", testIgnore: /batches\.spec\.ts/, use: { viewport: { width: 1280, height: 800 } } },
    {
      name: "phone",
      testIgnore: /batches\.spec\.ts/,
      use: { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true },
    },
    { name: "desktop-batches", testMatch: /batches\.spec\.ts/, use: { viewport: { width: 1280, height: 800 } } },
    {
      name: "phone-batches",
      testMatch: /batches\.spec\.ts/,
      dependencies: ["desktop-batches"],
      use: { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true },
    },
  ],
});
