// Headless Debian Chromium with worker tabs open on a server.
import { chromium } from 'playwright-core';

export async function openTabs(url, count, query = '') {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-background-timer-throttling',
      '--disable-renderer-backgrounding',
      '--disable-backgrounding-occluded-windows',
    ],
  });
  for (let i = 0; i < count; i++) {
    const page = await browser.newPage();
    await page.goto(`${url}/${query}`);
    await page.getByTestId('connection-state').filter({ hasText: 'connected' }).waitFor();
  }
  return browser;
}
