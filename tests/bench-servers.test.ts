// The benchmark compares like with like only if every server sends the same response, framed
// the same way. bench/run.ts checks this before it measures; here the same check runs on every
// server of bench/servers.ts that the root install can start. (Fastify and Express come from
// bench/'s own install, which `npm test` does not make: run.ts checks those two at every run.)
import { createServer } from 'node:http';
import { describe, expect, it } from 'vitest';
import { checkSameResponse, SERVERS } from '../bench/servers.ts';
import { start } from './helpers/server.ts';

const NEEDS_BENCH_INSTALL = new Set(['fastify', 'express']);

describe('bench/servers.ts', () => {
  const servers = SERVERS.filter((spec) => !NEEDS_BENCH_INSTALL.has(spec.name));

  it('has the servers the benchmark compares', () => {
    expect(SERVERS.map((spec) => spec.name)).toEqual(expect.arrayContaining(['node-http', 'part2', 'part3', 'micro', 'mvc', 'fastify', 'express']));
  });

  it.each(servers.map((spec) => [spec.label, spec] as const))('%s answers 200 text/plain "Hello, World!\\n" with Content-Length: 14', async (_label, spec) => {
    const server = await start(await spec.create());
    try {
      await expect(checkSameResponse(spec.label, server.port)).resolves.toBeUndefined();
    } finally {
      await server.close();
    }
  });

  it('refuses a server that sends the same body chunked', async () => {
    // What node:http does when writeHead() is called without Content-Length: the baseline did
    // this until the check looked at the framing.
    const chunked = createServer((_request, response) => {
      response.writeHead(200, { 'Content-Type': 'text/plain' });
      response.end('Hello, World!\n');
    });
    const server = await start(chunked);
    try {
      await expect(checkSameResponse('chunked', server.port)).rejects.toThrow('chunked');
    } finally {
      await server.close();
    }
  });
});
