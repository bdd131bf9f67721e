// One server of servers.ts in this process, started by the bench runner (run.ts):
//
//   node bench/.build/bench/serve.js <name>      (with an IPC channel to the runner)
//
// That is this file compiled to JavaScript by compile.ts, as every server's code is: the
// runner measures the servers without tsx's loader in their process.
//
// It listens on 127.0.0.1, port 0 (the OS picks a free port), and reports the port over the
// IPC channel. It exits on SIGTERM, so that `node --cpu-prof` writes its profile, and when the
// runner goes away (the channel closes).
import { SERVERS } from './servers.ts';

/** Messages between the runner and a server process. */
export type ServerMessage = { type: 'listening'; port: number } | { type: 'memory'; maxRssBytes: number };
export type RunnerMessage = { type: 'memory?' };

async function main(name: string | undefined): Promise<void> {
  const spec = SERVERS.find((candidate) => candidate.name === name);
  if (spec === undefined || process.send === undefined) {
    console.error(`Usage: started by bench/run.ts, with one of: ${SERVERS.map((server) => server.name).join(', ')}`);
    process.exit(2);
  }
  const server = await spec.create();
  server.listen(0, '127.0.0.1', () => {
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('Expected a TCP address.');
    send({ type: 'listening', port: address.port });
  });
  // Peak resident memory, for platforms without /proc (on Linux the runner reads VmHWM from
  // outside). resourceUsage().maxRSS is getrusage()'s ru_maxrss, in kilobytes.
  process.on('message', (message: RunnerMessage) => {
    if (message.type === 'memory?') send({ type: 'memory', maxRssBytes: process.resourceUsage().maxRSS * 1024 });
  });
  process.on('SIGTERM', () => process.exit(0));
  process.on('disconnect', () => process.exit(0));
}

function send(message: ServerMessage): void {
  process.send?.(message);
}

await main(process.argv[2]);
