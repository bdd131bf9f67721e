// HTTP/1.1 conformance over a real socket, on every server that parses requests: part 2's site,
// part 3's gateway (part 2's connection loop under any app), and where it applies part 4's
// node:http server. Each rule here was found broken by an outside check (an independent HTTP/1.1
// suite, a peer parser's test cases); the RFC section is named in each describe.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createSiteServer } from '../part2-tcp-http/site.ts';
import type { Application } from '../part3-gateway/contract.ts';
import { createNodeGatewayServer } from '../part4-frameworks/node-server.ts';
import { TEXT } from './fixtures/contract-apps.ts';
import { bytes, startGateway } from './helpers/gateway.ts';
import { exchangeResponses, header, statuses, type RawResponse } from './helpers/http-text.ts';
import { start, type RunningServer } from './helpers/server.ts';

/** What the gateway's app and the node server's app were asked to run, `METHOD target`. */
const calls: string[] = [];

/** Answers /hello with 200 and anything else with 404, without reading the body. */
const app: Application = (environ, startResponse) => {
  calls.push(`${environ.REQUEST_METHOD} ${environ.REQUEST_URI}`);
  if (environ.PATH_INFO === '/hello') {
    startResponse('200 OK', TEXT);
    return [bytes('hello\n')];
  }
  startResponse('404 Not Found', TEXT);
  return [bytes('not found\n')];
};

const QUIET = { write: () => {}, flush: () => {} };
const servers: Record<string, RunningServer> = {};

beforeAll(async () => {
  servers['part 2 site'] = await start(createSiteServer({ logError: () => {} }));
  servers['part 3 gateway'] = await startGateway(app);
  servers['part 4 node server'] = await start(createNodeGatewayServer(app, { errors: QUIET }));
});
afterAll(() => Promise.all(Object.values(servers).map((server) => server.close())));
beforeEach(() => {
  calls.length = 0;
});

/** The two servers built on part 2's parser and connection loop. */
const PART2_LOOP = ['part 2 site', 'part 3 gateway'];

/** Send `bytes` (latin1) on a fresh connection; the responses received until the server closed it. */
function send(server: string, text: string): Promise<RawResponse[]> {
  return exchangeResponses(servers[server].port, Buffer.from(text, 'latin1'));
}

/** A GET /hello with this Host value (and Connection: close, so the server ends the exchange). */
const withHost = (value: string): string => `GET /hello HTTP/1.1\r\nHost: ${value}\r\nConnection: close\r\n\r\n`;

/** The parts on part 2's loop, and part 4's node server, which checks the Host value itself. */
const EVERY_SERVER = [...PART2_LOOP, 'part 4 node server'];

describe.each(EVERY_SERVER)('the Host field (RFC 9112 §3.2, RFC 3986 §3.2.2) on the %s', (server) => {
  it('answers 400 and closes when the Host value is not a host with an optional port', async () => {
    for (const value of ['exa mple.com', '127.0.0.1/evil', 'example.com:80a', 'example.com:99999', 'user@example.com', '[::1', '[not-an-address]']) {
      const responses = await send(server, withHost(value));
      expect(statuses(responses), value).toEqual([400]);
      expect(header(responses[0], 'connection')).toBe('close');
      expect(responses[0].body).toContain('Host');
      expect(responses[0].body).not.toContain(value);
    }
  });

  it('accepts a name, an IPv4 address, a bracketed IPv6 address, each with or without a port, and an empty Host', async () => {
    for (const value of ['example.com', 'my_host.local:8080', '127.0.0.1:8002', '[::1]', '[::1]:8080', 'xn--caf-dma.example', '']) {
      expect(statuses(await send(server, withHost(value))), value).toEqual([200]);
    }
  });
});

describe.each(PART2_LOOP)('HTTP versions (RFC 9110 §6.2, RFC 9112 §2.3) on the %s', (server) => {
  it('answers a request sent as HTTP/1.9 as HTTP/1.1, the highest 1.x it implements', async () => {
    const responses = await send(server, 'GET /hello HTTP/1.9\r\nHost: x\r\nConnection: close\r\n\r\n');
    expect(statuses(responses)).toEqual([200]);
    expect(responses[0].raw.startsWith('HTTP/1.1 200 OK\r\n')).toBe(true);
  });

  it('still answers 505 to HTTP/2.0 and HTTP/0.9 in the request line', async () => {
    for (const version of ['HTTP/2.0', 'HTTP/0.9']) {
      const responses = await send(server, `GET /hello ${version}\r\nHost: x\r\n\r\n`);
      expect(statuses(responses), version).toEqual([505]);
      expect(responses[0].raw.startsWith('HTTP/1.1 505 ')).toBe(true);
    }
  });
});
