// A real browser signs each guestbook (the course's one browser test): headless Chromium from Debian's `chromium`
// package, driven by playwright-core (the library without its own browser downloads), opens
// the page, fills in the HTML form, submits it, follows the 303 like any browser, and must
// see the new entry, shown as text even when it looks like HTML. undici cannot check this
// part: that the form, the redirect and the escaping work the way a browser reads them.
//
// One browser for the whole file. With CI=true the test must run (.ci/run installs Chromium);
// elsewhere, without /usr/bin/chromium, it is skipped with a printed reason.
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSite, SERVERS, type ServerName } from '../part4-frameworks/site.ts';
import { start, type RunningServer } from './helpers/server.ts';
import { ViolationLog } from './helpers/validator.ts';

const CHROMIUM = '/usr/bin/chromium';
const FOUND = existsSync(CHROMIUM);
const MUST_RUN = process.env.CI === 'true';
const SKIP_REASON = `no Chromium at ${CHROMIUM} (install it with: apt-get install chromium)`;
if (!FOUND && !MUST_RUN) console.warn(`tests/part4-browser.test.ts skipped: ${SKIP_REASON}`);

/** The flags: quiet, no GPU, no sandbox (CI runs as root), no network of its own. */
const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
];

/** Each pair, both guestbooks mounted side by side by the site (the dispatcher) on each server. */
const VISITS: Array<{ where: string; server: ServerName; mount: string }> = [
  { where: 'micro at /micro/ on the gateway', server: 'gateway', mount: '/micro' },
  { where: 'mvc at /mvc/ on the gateway', server: 'gateway', mount: '/mvc' },
  { where: 'micro at /micro/ on node:http', server: 'node', mount: '/micro' },
  { where: 'mvc at /mvc/ on node:http', server: 'node', mount: '/mvc' },
  { where: 'hono at /hono/ on the gateway', server: 'gateway', mount: '/hono' },
  { where: 'hono at /hono/ on node:http', server: 'node', mount: '/hono' },
];

/** The mvc guestbook logs each request to gateway.errors; the test reads the page instead. */
const QUIET = { write: () => {}, flush: () => {} };

describe.skipIf(!FOUND && !MUST_RUN)(`a browser signs each guestbook (skipped when ${SKIP_REASON})`, () => {
  let userDataDir = '';
  let browser: BrowserContext | null = null;
  const servers: RunningServer[] = [];
  const violations = new ViolationLog();

  beforeAll(async () => {
    if (!FOUND)
      throw new Error(
        `CI=true, so the browser test must run, but there is ${SKIP_REASON}: .ci/run should have installed it.`,
      );
    // A fresh profile every run: no cache, cookies or saved form data from an earlier run.
    userDataDir = await mkdtemp(join(tmpdir(), 'part4-chromium-'));
    browser = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_FLAGS,
    });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await Promise.all(servers.map((server) => server.close()));
    if (userDataDir !== '') await rm(userDataDir, { recursive: true, force: true });
    expect(violations.messages()).toEqual([]);
  });

  for (const { where, server, mount } of VISITS)
    it(`${where}: the form posts, redirects, and the new entry is listed, escaped`, async () => {
      if (browser === null) throw new Error('the browser did not start');
      const served = await start(SERVERS[server](violations.validated(createSite()), { errors: QUIET }));
      servers.push(served);
      const page = await browser.newPage();
      const statuses: string[] = [];
      page.on('response', (response) =>
        statuses.push(`${response.request().method()} ${new URL(response.url()).pathname} ${response.status()}`),
      );

      await page.goto(`${served.url}/`);
      // From the site's index page, as a visitor would: its relative link leads to the guestbook.
      await page.getByRole('link', { name: `The guestbook on ${mount.slice(1)}` }).click();
      await page.waitForURL(`${served.url}${mount}/`);
      await expect(page.locator('h1').textContent()).resolves.toBe('Guestbook');

      await page.locator('input[name="name"]').fill('<b>Ada</b>');
      await page.locator('textarea[name="message"]').fill('Hello from Chromium <script>alert(1)</script>');
      // The page's URL will not change (the 303 leads back to it): wait for the GET it leads to.
      const landed = page.waitForResponse(
        (response) => response.request().method() === 'GET' && new URL(response.url()).pathname === `${mount}/`,
      );
      await page.getByRole('button', { name: 'Sign the guestbook' }).click();
      await landed;
      await page.waitForLoadState();

      const afterPost = statuses
        .slice(statuses.indexOf(`POST ${mount}/entries 303`))
        .filter((line) => !line.includes('favicon'));
      expect(afterPost).toEqual([`POST ${mount}/entries 303`, `GET ${mount}/ 200`]);
      // Shown as the text that was typed: the page made no <b> or <script> element of it.
      await expect(page.locator('.entries li').allTextContents()).resolves.toEqual([
        '<b>Ada</b>: Hello from Chromium <script>alert(1)</script>',
      ]);
      await expect(page.locator('.entries b, .entries script').count()).resolves.toBe(0);
      await page.close();
    });
});
