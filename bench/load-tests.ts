// The three load tests every server meets (run.ts runs them; report.ts names them).

/** The three tests: what each sends and how many connections it opens at once. */
export const TESTS = [
  { id: 'keepAlive', title: 'keep-alive, 50 connections', connections: 50, close: false },
  { id: 'close', title: 'Connection: close, 50 connections', connections: 50, close: true },
  { id: 'oneConnection', title: 'one connection (latency)', connections: 1, close: false },
] as const;
export type TestId = (typeof TESTS)[number]['id'];
