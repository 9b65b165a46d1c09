#!/usr/bin/env node
// Plays the person at the browser for MailMover's end-to-end sign-in test:
//   node testenv/browser-login.mjs URL
// opens URL (an authorization request) in Debian's headless chromium with a fresh
// profile, types MM_OIDC_USER / MM_OIDC_PASSWORD into the provider's login form, submits,
// waits for the loopback redirect page (http://127.0.0.1|localhost|[::1]:PORT/...) and
// prints that page's text. Exits non-zero on any failure. Used as $BROWSER ("node
// testenv/browser-login.mjs %s") by e2e tests. With MM_BROWSER_OUT set, it also writes
// {"ok": bool, "text": page text, "error": message} there when it is completely done
// (the program that started it as a browser does not see its output).
import { chromium } from 'playwright-core';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const url = process.argv[2];
const user = process.env.MM_OIDC_USER;
const password = process.env.MM_OIDC_PASSWORD;
if (!url || !user || !password) {
  console.error('usage: MM_OIDC_USER=u MM_OIDC_PASSWORD=p node browser-login.mjs URL');
  process.exit(2);
}
const timeout = Number(process.env.MM_BROWSER_TIMEOUT_MS || 60000);
const profile = mkdtempSync(join(tmpdir(), 'mm-chromium-'));
let context;
let result = { ok: false, text: '', error: '' };
try {
  context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.MM_CHROMIUM || '/usr/bin/chromium',
    headless: true,
    timeout,
    // No accessibility bridge: it would start at-spi on the test's private bus.
    env: { ...process.env, NO_AT_BRIDGE: '1' },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const page = context.pages()[0] || await context.newPage();
  page.setDefaultTimeout(timeout);
  await page.goto(url);
  await page.locator('#username').fill(user);
  await page.locator('#password').fill(password);
  const loopback = /^http:\/\/(127\.0\.0\.1|localhost|\[::1\]):\d+\//;
  await Promise.all([
    page.waitForURL(loopback, { waitUntil: 'load' }),
    page.locator('button[type=submit]').click(),
  ]);
  const text = (await page.locator('body').innerText()).trim();
  console.log(text);
  result = { ok: true, text, error: '' };
} catch (err) {
  result.error = `browser-login: ${err && err.message ? err.message.split('\n')[0] : err}`;
  console.error(result.error);
  process.exitCode = 1;
} finally {
  if (context) await context.close().catch(() => {});
  rmSync(profile, { recursive: true, force: true });
  if (process.env.MM_BROWSER_OUT) writeFileSync(process.env.MM_BROWSER_OUT, JSON.stringify(result));
}
