// Static files from part2-tcp-http/public/: the right bytes and Content-Type, 404 for what is
// not there, and no spelling of a path that reaches a file outside the folder.
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSiteServer } from '../part2-tcp-http/site.ts';
import { PUBLIC_DIR } from '../part2-tcp-http/static.ts';
import { exchangeResponses, type RawResponse } from './helpers/http-text.ts';
import { start, type RunningServer } from './helpers/server.ts';

let server: RunningServer;
beforeAll(async () => {
  server = await start(createSiteServer({ logError: () => {} }));
});
afterAll(() => server.close());

/** Raw bytes, because undici (like any URL parser) would resolve "..", and we want it sent as is. */
async function getRaw(port: number, target: string): Promise<RawResponse> {
  const [response] = await exchangeResponses(port, `GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
  return response;
}

describe('serving files', () => {
  const files: Array<[name: string, type: string]> = [
    ['hello.txt', 'text/plain; charset=utf-8'],
    ['about.html', 'text/html; charset=utf-8'],
    ['style.css', 'text/css; charset=utf-8'],
    ['logo.svg', 'image/svg+xml'],
    ['data.json', 'application/json'],
  ];
  for (const [name, type] of files) {
    it(`sends public/${name} byte for byte as ${type}`, async () => {
      const response = await request(`${server.url}/static/${name}`);
      expect(response.statusCode).toBe(200);
      expect(response.headers['content-type']).toBe(type);
      expect(response.headers['x-content-type-options']).toBe('nosniff');
      expect(Buffer.from(await response.body.arrayBuffer())).toEqual(await readFile(join(PUBLIC_DIR, name)));
    });
  }

  it('answers 404 for a file that does not exist and for the folder itself', async () => {
    for (const path of ['/static/missing.txt', '/static/', '/static/hello.txt/more']) {
      const response = await request(`${server.url}${path}`);
      expect(response.statusCode, path).toBe(404);
      await response.body.dump();
    }
  });
});

describe('path traversal', () => {
  // Each of these would name a file outside public/ if the server got the path wrong.
  const attempts = [
    '/static/../server.ts',
    '/static/../../package.json',
    '/static/./../parser.ts',
    '/static/%2e%2e/server.ts',
    '/static/%2E%2E/%2E%2E/package.json',
    '/static/..%2fserver.ts',
    '/static/..%2f..%2fpackage.json',
    '/static%2f..%2fserver.ts',
    '/static/..%5cserver.ts',
    '/static/..\\server.ts',
    '/static/%252e%252e/server.ts',
    '/static/hello.txt%00.png',
    '/static/%00../server.ts',
    '/static//etc/passwd',
    '/static/%2fetc%2fpasswd',
    '/static/../../../../../../etc/passwd',
    `/static/${'../'.repeat(20)}etc/passwd`,
  ];
  for (const target of attempts) {
    it(`never leaves public/ for ${target}`, async () => {
      const response = await getRaw(server.port, target);
      expect([400, 403, 404]).toContain(response.status);
      // Nothing from outside: not our own source, not package.json, not /etc/passwd.
      expect(response.body).not.toMatch(/import |"devDependencies"|root:/);
      expect(response.body.length).toBeLessThan(200);
    });
  }

  it('refuses a symlink inside the folder that points outside it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'part2-static-'));
    try {
      const inside = join(dir, 'public');
      await writeFile(join(dir, 'secret.txt'), 'the secret');
      await mkdir(inside);
      await writeFile(join(inside, 'ok.txt'), 'fine');
      await symlink(join(dir, 'secret.txt'), join(inside, 'link.txt'));
      const other = await start(createSiteServer({ publicDir: inside }));
      try {
        expect((await getRaw(other.port, '/static/ok.txt')).body).toBe('fine');
        const response = await getRaw(other.port, '/static/link.txt');
        expect(response.status).toBe(403);
        expect(response.body).not.toContain('the secret');
      } finally {
        await other.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
