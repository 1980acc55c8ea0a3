// Fails fast, saying exactly what to do, when no Chromium is available for the e2e tests and benchmarks.
import { existsSync } from 'node:fs';

const path = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
if (!existsSync(path)) {
  console.error(
    `Tabgrid's e2e tests and benchmarks drive real Chromium tabs, and none was found at ${path}.\n` +
      `Install Debian's Chromium with:  sudo apt-get install -y chromium\n` +
      `or point CHROMIUM_PATH at an existing Chromium/Chrome binary.\n` +
      `(Playwright's own browser download cannot be used: it needs network access beyond the npm registry.)`,
  );
  process.exit(1);
}
