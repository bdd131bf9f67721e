// The inspector's page in a real browser: headless Chromium (Debian's `chromium`, driven by
// playwright-core, as in tests/part4-browser.test.ts) opens the page; then traffic goes through
// the proxy to part 2's server, started in-process: a keep-alive connection, three pipelined
// requests, a chunked request and a chunked response. Each message must appear, live, in its
// connection's lane, in order, with `\r\n` visible; copy, pause and clear must do what they say.
//
// With CI=true the test must run (.ci/run installs Chromium); elsewhere, without
// /usr/bin/chromium, it is skipped with a printed reason.
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPageServer } from '../inspector/page.ts';
import { createProxy } from '../inspector/proxy.ts';
import { Recorder } from '../inspector/recorder.ts';
import { createSiteServer } from '../part2-tcp-http/site.ts';
import { start, type RunningServer } from './helpers/server.ts';
import { openSocket, readUntil, readUntilClose } from './helpers/wire.ts';

const CHROMIUM = '/usr/bin/chromium';
const FOUND = existsSync(CHROMIUM);
const MUST_RUN = process.env.CI === 'true';
const SKIP_REASON = `no Chromium at ${CHROMIUM} (install it with: apt-get install chromium)`;
if (!FOUND && !MUST_RUN) console.warn(`tests/inspector-browser.test.ts skipped: ${SKIP_REASON}`);

/** The flags this machine needs (as tests/part4-browser.test.ts): quiet, no GPU, no sandbox, no network of its own. */
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

/** How long the page may take to show what went through the proxy (the feed sends every 100 ms). */
const SHOWN_WITHIN_MS = 10_000;

const request = (path: string, extra = ''): string => `GET ${path} HTTP/1.1\r\nHost: inspector.test\r\n${extra}\r\n`;
const CLOSE = 'Connection: close\r\n';

describe.skipIf(!FOUND && !MUST_RUN)(`the inspector page in a browser (skipped when ${SKIP_REASON})`, () => {
  let userDataDir = '';
  let browser: BrowserContext | null = null;
  let page: Page | null = null;
  let site: RunningServer | null = null;
  let proxy: RunningServer | null = null;
  let stopPage: (() => Promise<void>) | null = null;
  const recorder = new Recorder();

  beforeAll(async () => {
    if (!FOUND)
      throw new Error(
        `CI=true, so the browser test must run, but there is ${SKIP_REASON}: .ci/run should have installed it.`,
      );
    site = await start(createSiteServer({ streamIntervalMs: 20 }));
    proxy = await start(createProxy({ host: '127.0.0.1', port: site.port }, recorder));
    const pageServer = createPageServer(recorder, {
      proxy: `127.0.0.1:${proxy.port}`,
      server: `127.0.0.1:${site.port}`,
    });
    stopPage = pageServer.stop;
    await new Promise<void>((resolve) => pageServer.server.listen(0, '127.0.0.1', resolve));
    const pageUrl = `http://127.0.0.1:${(pageServer.server.address() as AddressInfo).port}/`;

    userDataDir = await mkdtemp(join(tmpdir(), 'inspector-chromium-'));
    browser = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_FLAGS,
    });
    await browser.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: new URL(pageUrl).origin });
    page = await browser.newPage();
    await page.goto(pageUrl);
    await expect(page.locator('#status').textContent()).resolves.toMatch(/live|connecting/);
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await stopPage?.();
    await proxy?.close();
    await site?.close();
    if (userDataDir !== '') await rm(userDataDir, { recursive: true, force: true });
  });

  function open(): Page {
    if (page === null) throw new Error('the browser did not start');
    return page;
  }

  /** The lane of the one connection whose bytes contain `text`, once it shows it closed. */
  async function laneWith(text: string): Promise<Locator> {
    const lane = open().locator('[data-connection]', { hasText: text });
    await lane.getByText('connection closed').waitFor({ timeout: SHOWN_WITHIN_MS });
    await expect(lane.count()).resolves.toBe(1);
    return lane;
  }

  function titles(lane: Locator): Promise<string[]> {
    return lane.locator('.msg-title').allTextContents();
  }

  function port(): number {
    if (proxy === null) throw new Error('the proxy did not start');
    return proxy.port;
  }

  it('draws a keep-alive connection as one lane: a request, its answer, then the next request on the same connection', async () => {
    const socket = await openSocket(port());
    socket.write(request('/hello?name=KeepAlive1'));
    await readUntil(socket, (soFar) => soFar.toString('latin1').endsWith('</html>\n'));
    const rest = readUntilClose(socket);
    socket.write(request('/hello?name=KeepAlive2', CLOSE));
    await rest;

    const lane = await laneWith('KeepAlive1');
    const shown = await titles(lane);
    expect(shown).toHaveLength(4);
    expect(shown[0]).toBe('→ request 1: GET /hello?name=KeepAlive1 HTTP/1.1 (no body)');
    expect(shown[1]).toMatch(/^← response to request 1: HTTP\/1\.1 200 OK \(Content-Length: \d+\)$/);
    expect(shown[2]).toBe('→ request 2: GET /hello?name=KeepAlive2 HTTP/1.1 (no body)');
    expect(shown[3]).toMatch(/^← response to request 2: HTTP\/1\.1 200 OK \(Content-Length: \d+\)$/);
    // Client-to-server messages point at the server, answers at the client.
    await expect(lane.locator('.to-server .msg').count()).resolves.toBe(2);
    await expect(lane.locator('.to-client .msg').count()).resolves.toBe(2);
  });

  it('draws three pipelined requests before their three answers, each answer paired with its request in order', async () => {
    const socket = await openSocket(port());
    const answers = readUntilClose(socket);
    socket.write(request('/hello?name=Pipe1') + request('/hello?name=Pipe2') + request('/hello?name=Pipe3', CLOSE));
    await answers;

    const shown = await titles(await laneWith('Pipe1'));
    expect(shown.map((title) => title.replace(/ \(Content-Length: \d+\)$/, ''))).toEqual([
      '→ request 1: GET /hello?name=Pipe1 HTTP/1.1 (no body)',
      '→ request 2: GET /hello?name=Pipe2 HTTP/1.1 (no body)',
      '→ request 3: GET /hello?name=Pipe3 HTTP/1.1 (no body)',
      '← response to request 1: HTTP/1.1 200 OK',
      '← response to request 2: HTTP/1.1 200 OK',
      '← response to request 3: HTTP/1.1 200 OK',
    ]);
  });

  it('draws a chunked request body and a chunked response, chunk sizes and \\r\\n visible', async () => {
    const socket = await openSocket(port());
    const answers = readUntilClose(socket);
    socket.write(
      'POST /echo HTTP/1.1\r\nHost: inspector.test\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nChunk\r\n3\r\ned!\r\n0\r\n\r\n' +
        request('/stream', CLOSE),
    );
    await answers;

    const lane = await laneWith('POST /echo');
    const shown = await titles(lane);
    // Both requests went in one write (pipelined): both are drawn before the first answer.
    expect(shown[0]).toBe('→ request 1: POST /echo HTTP/1.1 (chunked: 8 bytes of data)');
    expect(shown[1]).toBe('→ request 2: GET /stream HTTP/1.1 (no body)');
    expect(shown[2]).toMatch(/^← response to request 1: HTTP\/1\.1 200 OK/);
    expect(shown[3]).toMatch(/^← response to request 2: HTTP\/1\.1 200 OK \(chunked: \d+ bytes of data\)$/);
    const request1 = (await lane.locator('.to-server .msg').first().locator('.bytes').textContent()) ?? '';
    expect(request1).toContain(
      'Transfer-Encoding: chunked\\r\\n\n\\r\\n\n5\\r\\n\nChunk\\r\\n\n3\\r\\n\ned!\\r\\n\n0\\r\\n\n\\r\\n\n',
    );
    const stream = (await lane.locator('.to-client .msg').nth(1).locator('.bytes').textContent()) ?? '';
    expect(stream).toContain('Transfer-Encoding: chunked\\r\\n');
    expect(stream.endsWith('0\\r\\n\n\\r\\n\n')).toBe(true);
    // The escapes stand out: CR and LF are marked up, not bare text.
    await lane.locator('.esc', { hasText: '\\r' }).first().waitFor();
  });

  it("copies a connection's transcript as text", async () => {
    const lane = await laneWith('Pipe1');
    await lane.getByRole('button', { name: 'Copy transcript' }).click();
    await lane.getByRole('button', { name: 'Copied ✓' }).waitFor({ timeout: SHOWN_WITHIN_MS });
    // As a string: the script runs in the page, whose globals (navigator) this Node program's types do not have.
    const copied = await open().evaluate<string>('navigator.clipboard.readText()');
    expect(copied).toMatch(/^Connection \d+: client 127\.0\.0\.1:\d+ → proxy → server 127\.0\.0\.1:\d+\n/);
    expect(copied).toContain('→ request 3: GET /hello?name=Pipe3 HTTP/1.1 (no body)\n');
    expect(copied).toContain('| GET /hello?name=Pipe3 HTTP/1.1\\r\\n\n');
  });

  it('stands still while paused, catches up on resume, and clears', async () => {
    const paused = open();
    await paused.getByRole('button', { name: 'Pause' }).click();
    await expect(paused.locator('#status').textContent()).resolves.toMatch(/^paused/);
    // A second page, not paused, is the witness: once it shows the new connection, so would the first.
    const witness = await (browser ?? expect.fail('no browser')).newPage();
    await witness.goto(paused.url());
    const socket = await openSocket(port());
    const answer = readUntilClose(socket);
    socket.write(request('/hello?name=WhilePaused', CLOSE));
    await answer;
    await witness.locator('[data-connection]', { hasText: 'WhilePaused' }).getByText('connection closed').waitFor();
    await expect(paused.locator('[data-connection]', { hasText: 'WhilePaused' }).count()).resolves.toBe(0);

    await paused.getByRole('button', { name: 'Resume' }).click();
    await laneWith('WhilePaused');

    // Clear empties every viewer's page: the recorder forgets, and each feed starts again.
    await paused.getByRole('button', { name: 'Clear' }).click();
    for (const viewer of [paused, witness]) {
      await viewer.locator('[data-connection]').first().waitFor({ state: 'detached', timeout: SHOWN_WITHIN_MS });
      await viewer.locator('#empty').waitFor({ state: 'visible' });
    }
    await witness.close();
  });
});
