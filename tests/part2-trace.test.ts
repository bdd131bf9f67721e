// Trace mode: every byte received and sent, curl -v style, with CR and LF made visible.
import { request } from 'undici';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createSiteServer } from '../part2-tcp-http/site.ts';
import { start, type RunningServer } from './helpers/server.ts';
import { exchange } from './helpers/wire.ts';

let server: RunningServer;
const lines: string[] = [];
beforeAll(async () => {
  server = await start(createSiteServer({ trace: (line) => lines.push(line) }));
});
afterAll(() => server.close());

it('prints the request with "> " and the response with "< ", one wire line per line, \\r\\n visible', async () => {
  lines.length = 0;
  const response = await request(`${server.url}/hello?name=Trace`);
  await response.body.text();
  expect(lines).toContain('> GET /hello?name=Trace HTTP/1.1\\r\\n');
  expect(lines).toContain('< HTTP/1.1 200 OK\\r\\n');
  expect(lines).toContain('< Content-Type: text/html; charset=utf-8\\r\\n');
  expect(lines.filter((line) => line === '> \\r\\n' || line === '< \\r\\n')).toHaveLength(2);
  expect(lines.some((line) => line.startsWith('< ') && line.includes('<h1>Hello, Trace!</h1>'))).toBe(true);
});

it('shows control bytes as \\xHH and traces the error response to bad input', async () => {
  lines.length = 0;
  await exchange(server.port, 'GET / HTTP/1.1\r\nHost: x\r\nX-Nul: a\0b\r\n\r\n');
  expect(lines).toContain('> X-Nul: a\\x00b\\r\\n');
  expect(lines).toContain('< HTTP/1.1 400 Bad Request\\r\\n');
  expect(lines).toContain('< Connection: close\\r\\n');
});
