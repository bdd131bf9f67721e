// The memory of a server in a process of its own (tests/fixtures/memory-server.ts), read from
// its GET /stats while a test's work runs: the peak resident size against the one before.
//
//   const { result, growth } = await measured(port, () => upload(...));
//   expect(growth).toBeLessThan(64 * MiB);
import { exchangeResponses } from './http-text.ts';

export const MiB = 1024 * 1024;
const SAMPLE_EVERY_MS = 50;

/** The server's resident memory now, in bytes. */
export async function serverRss(port: number): Promise<number> {
  const [response] = await exchangeResponses(port, 'GET /stats HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  return (JSON.parse(response.body) as { rss: number }).rss;
}

/** Run `work` while sampling the server's RSS; resolve with its result and the largest growth seen. */
export async function measured<T>(port: number, work: () => Promise<T>): Promise<{ result: T; growth: number }> {
  const baseline = await serverRss(port);
  let peak = baseline;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      peak = Math.max(peak, await serverRss(port));
      await new Promise((resolve) => setTimeout(resolve, SAMPLE_EVERY_MS));
    }
  })();
  try {
    const result = await work();
    peak = Math.max(peak, await serverRss(port));
    return { result, growth: peak - baseline };
  } finally {
    sampling = false;
    await sampler;
  }
}
