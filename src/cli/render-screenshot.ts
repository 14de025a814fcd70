/**
 * `render --screenshot`: the reader's HTML as PNGs at the preview widths (600 and 375 px,
 * full height) with the installed Chromium, for CI artifacts and pull-request review.
 * playwright-core drives it (a dev dependency: present wherever `npm ci` ran); the browser
 * is CHROMIUM_PATH, else /usr/bin/chromium. Scripts are off, as in a mail client.
 */
import { InputError } from '../errors.js';

export const SCREENSHOT_WIDTHS = [600, 375] as const;

export interface Screenshotter {
  shoot(html: string, basePath: string): Promise<string[]>;
  close(): Promise<void>;
}

export async function openScreenshotter(executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'): Promise<Screenshotter> {
  let chromium: typeof import('playwright-core').chromium;
  try {
    ({ chromium } = await import('playwright-core'));
  } catch {
    throw new InputError('--screenshot needs the playwright-core package (npm ci installs it with the dev dependencies)');
  }
  const browser = await chromium
    .launch({ executablePath, args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'] })
    .catch((err: Error) => {
      throw new InputError(`--screenshot: cannot start Chromium at ${executablePath} (set CHROMIUM_PATH): ${err.message.split('\n')[0]}`);
    });
  return {
    async shoot(html, basePath) {
      const written: string[] = [];
      for (const width of SCREENSHOT_WIDTHS) {
        const context = await browser.newContext({ viewport: { width, height: 800 }, javaScriptEnabled: false });
        try {
          const page = await context.newPage();
          // Remote images get a few seconds (CI may have no network); the layout is what matters.
          await page.setContent(html, { waitUntil: 'load', timeout: 15_000 }).catch(() => undefined);
          const path = `${basePath}-${width}.png`;
          await page.screenshot({ path, fullPage: true });
          written.push(path);
        } finally {
          await context.close();
        }
      }
      return written;
    },
    close: () => browser.close(),
  };
}
