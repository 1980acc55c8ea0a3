import { defineConfig } from '@playwright/test';

/**
 * Real Chromium tabs against a real server. Uses Debian's Chromium (or CHROMIUM_PATH): a
 * Playwright browser download cannot work without internet access.
 */
export default defineConfig({
  testDir: './tests',
  // The machine has 2 cores: the server and the tabs of one test already use both.
  workers: 1,
  fullyParallel: false,
  timeout: 120_000,
  expect: { timeout: 30_000 },
  retries: 0,
  reporter: [['list']],
  outputDir: './test-results',
  // Two projects, so `npm test` can run the background-tab test (seven minutes, mostly a hidden
  // tab waiting, measured against a visible tab over the same seconds) beside the rest:
  // `playwright test` runs both one after the other, `--project=suite` / `--project=background`
  // one. Each has its output dir, as two Playwright processes each clear theirs when they start.
  projects: [
    {
      name: 'suite',
      testIgnore: /volunteer-background\.spec\.ts$/,
      outputDir: './test-results/suite',
    },
    {
      name: 'background',
      testMatch: /volunteer-background\.spec\.ts$/,
      outputDir: './test-results/background',
    },
  ],
  use: {
    browserName: 'chromium',
    headless: true,
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
        '--disable-quic',
        // Background tabs must keep computing at full speed.
        '--disable-background-timer-throttling',
        '--disable-renderer-backgrounding',
        '--disable-backgrounding-occluded-windows',
      ],
    },
  },
});
