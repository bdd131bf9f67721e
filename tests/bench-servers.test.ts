// The benchmark compares like with like only if every server sends the same response, framed
// the same way. bench/run.ts checks this before it measures; here the same check runs on every
// server the root install can start: those of bench/course-servers.ts. (Fastify and Express come
// from bench/'s own install, which `npm test` does not make: run.ts checks those two each run.)
import { createServer } from 'node:http';
import { describe, expect, it } from 'vitest';
import { BASELINE_SERVER, checkSameResponse, COURSE_SERVERS, REFERENCE_SERVER } from '../bench/course-servers.ts';
import { start } from './helpers/server.ts';

describe('bench/course-servers.ts', () => {
  const servers = [BASELINE_SERVER, ...COURSE_SERVERS, REFERENCE_SERVER];

  it('has the course servers the benchmark compares', () => {
    expect(servers.map((spec) => spec.name)).toEqual([
      'node-http',
      'part2',
      'part3',
      'part3-generator',
      'micro',
      'mvc',
      'node-gateway',
      'net-minimal',
    ]);
  });

  it.each(servers.map((spec) => [spec.label, spec] as const))(
    '%s answers 200 text/plain "Hello, World!\\n" with Content-Length: 14',
    async (_label, spec) => {
      const server = await start(await spec.create());
      try {
        await expect(checkSameResponse(spec.label, server.port)).resolves.toBeUndefined();
      } finally {
        await server.close();
      }
    },
  );

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
