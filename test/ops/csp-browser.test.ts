import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { launchChromium } from '../e2e/helpers.js';

let s: TestServer;
let browser: Browser;
beforeAll(async () => {
  s = await startTestServer();
  browser = await launchChromium();
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await s?.close();
});

/** Opens a page in Chromium and records every CSP violation the browser reports. */
async function open(url: string): Promise<{ page: Page; violations: string[] }> {
  const page = await browser.newPage();
  const violations: string[] = [];
  page.on('console', (msg) => {
    if (/Content Security Policy/i.test(msg.text())) violations.push(msg.text());
  });
  await page.addInitScript(() => {
    // Runs in the page (no DOM types in this project's tsconfig).
    const doc = (globalThis as any).document;
    doc.addEventListener('securitypolicyviolation', (e: { violatedDirective: string; blockedURI: string }) =>
      console.error(`Content Security Policy: ${e.violatedDirective} ${e.blockedURI}`),
    );
  });
  await page.goto(url);
  return { page, violations };
}

describe('the CSP in a real browser', () => {
  it('refuses an inline script on an app page (and this watcher sees the violation)', async () => {
    const { page, violations } = await open(`${s.url}/healthz`);
    await page.addScriptTag({ content: 'window.injected = true' }).catch(() => undefined);
    expect(await page.evaluate(() => (globalThis as { injected?: boolean }).injected)).toBeUndefined();
    await expect.poll(() => violations.length).toBeGreaterThan(0);
    await page.close();
  });

  it('lets the Swagger UI at /docs render the API from /docs/json without a violation', async () => {
    const { page, violations } = await open(`${s.url}/docs`);
    await page.locator('.swagger-ui .info .title').filter({ hasText: 'Engawa API' }).waitFor({ timeout: 15_000 });
    expect(await page.locator('.opblock').count()).toBeGreaterThan(10);
    expect(violations).toEqual([]);
    await page.close();
  });

  it('lets the SPA load its scripts and styles and render without a violation', async () => {
    const { page, violations } = await open(`${s.url}/`);
    await page.waitForLoadState('networkidle');
    // The app mounted: its script ran under script-src 'self'.
    expect(await page.evaluate(() => String((globalThis as any).document.body.innerText).trim().length)).toBeGreaterThan(0);
    expect(violations).toEqual([]);
    await page.close();
  });
});
