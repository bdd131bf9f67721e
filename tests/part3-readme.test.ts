// Keeps part3-gateway/README.md and REFERENCE.md honest (a doc that names files, functions and commands drifts unless a test pins it):
// the files it names exist, its ten-line app runs and prints what its table shows, and the
// break-it app answers as its "Break it" section says.
import { createReadStream, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { afterAll, describe, expect, it } from 'vitest';
import { app as breakIt } from '../part3-gateway/apps/break-it.ts';
import { loadApplication } from '../part3-gateway/loader.ts';
import { startGateway } from './helpers/gateway.ts';
import { exchange } from './helpers/wire.ts';

const README = readFileSync('part3-gateway/README.md', 'utf8');
const REFERENCE = readFileSync('part3-gateway/REFERENCE.md', 'utf8');
const scratch = mkdtempSync(join(tmpdir(), 'part3-readme-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('part3-gateway/README.md (the lesson) and REFERENCE.md', () => {
  it.each([
    ['README.md', README, 5],
    ['REFERENCE.md', REFERENCE, 20],
  ])('%s names only files that exist', (_file, text, atLeast) => {
    const missing: string[] = [];
    let checked = 0;
    // A file the learner creates (my-app.ts, part3-gateway/my-gateway.ts) is not expected to exist.
    const mine = (name: string): boolean => /(?:^|\/)my-[\w-]+\.ts$/.test(name);
    for (const [path] of text.matchAll(/\b(?:part3-gateway|tests)\/[\w./-]+\.ts\b/g)) {
      if (mine(path)) continue;
      checked++;
      if (!existsSync(path)) missing.push(path);
    }
    // Bare names (`handler.ts`, `hello.ts`, `part3-cli.test.ts`): in the stage, its apps, or tests/.
    for (const [, file] of text.matchAll(/`([\w-]+(?:\.test)?\.ts)`/g)) {
      if (mine(file) || file.includes('*')) continue;
      checked++;
      if (!['part3-gateway', 'part3-gateway/apps', 'tests'].some((folder) => existsSync(join(folder, file))))
        missing.push(file);
    }
    expect(checked).toBeGreaterThan(atLeast);
    expect(missing).toEqual([]);
  });

  it('its ten-line app runs and shows the environ keys of its table', async () => {
    const code = /Save this as `my-app\.ts`[^]*?```ts\n([^]*?)```/.exec(README)?.[1];
    expect(code).toBeDefined();
    const file = join(scratch, 'my-app.ts');
    writeFileSync(file, code ?? '');
    const gateway = await startGateway(await loadApplication(file));
    try {
      const response = await request(`${gateway.url}/caf%C3%A9/menu?lang=fr&n=2`, {
        method: 'POST',
        headers: { 'content-type': 'text/plain', 'x-tag': ['a', 'b'] },
        body: 'hello',
      });
      const text = await response.body.text();
      for (const line of [
        'REQUEST_METHOD = "POST"',
        'PATH_INFO = "/café/menu"',
        'QUERY_STRING = "lang=fr&n=2"',
        'CONTENT_TYPE = "text/plain"',
        'HTTP_X_TAG = "a, b"',
        'CONTENT_LENGTH = "5"',
      ]) {
        expect(text).toContain(line);
      }
    } finally {
      await gateway.close();
    }
  });

  it('a Node Readable of bytes works as a body, as it says', async () => {
    const gateway = await startGateway((_environ, startResponse) => {
      startResponse('200 OK', [['Content-Type', 'text/markdown']]);
      return createReadStream('part3-gateway/README.md');
    });
    try {
      expect(await (await request(gateway.url)).body.text()).toBe(README);
    } finally {
      await gateway.close();
    }
  });
});

describe('apps/break-it.ts answers as "Break it" says', () => {
  it('/throw: a clean 500; /hop-by-hop: a 500 naming the header; /throw-late: the first chunk, then a cut', async () => {
    const gateway = await startGateway(breakIt);
    try {
      const thrown = await request(`${gateway.url}/throw`);
      expect(thrown.statusCode).toBe(500);
      expect(await thrown.body.text()).toBe(
        '500 Internal Server Error: The application failed while answering; the details are in the server log.\n',
      );
      const hop = await request(`${gateway.url}/hop-by-hop`);
      expect(hop.statusCode).toBe(500);
      await hop.body.text();
      const late = await exchange(gateway.port, 'GET /throw-late HTTP/1.1\r\nHost: t\r\n\r\n');
      expect(late).toContain('The first chunk went out fine...\n');
      expect(late.endsWith('0\r\n\r\n')).toBe(false);
      const log = gateway.log.join('');
      expect(log).toContain('[gateway] GET /throw: answered 500: Error: something broke before the first chunk');
      expect(log).toContain(
        "The hop-by-hop header Connection is the server's to set, not the application's: remove it.",
      );
      expect(log).toContain('GET /throw-late: connection cut (head already sent)');
    } finally {
      await gateway.close();
    }
  });
});
