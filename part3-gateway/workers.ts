// `npm run part3 -- app.ts --workers N`: N processes serve one app, like gunicorn's workers.
//
// The primary process (this file) forks the workers with node:cluster; each runs main.ts's
// server, and node:cluster shares the listening port among them. A worker that crashes is
// replaced; one that cannot start (port in use, a bad app) stops them all, with one message.
// Ctrl-C or SIGTERM to the primary stops every worker gracefully, then the primary.
import cluster, { type Worker } from 'node:cluster';
import { stopOnSignals } from '../part1-sockets/cli.ts';

/**
 * The primary process: fork `count` workers, replace one that crashes, stop them all on a
 * signal. `announce(port)` runs when all of them listen (again after a replacement).
 */
export function superviseWorkers(count: number, announce: (port: number) => void): void {
  let stopping = false;
  let listening = 0;
  let listenErrorShown = false;
  const fork = (): void => {
    const worker = cluster.fork();
    // The primary listens on the port for its workers and sends each the outcome. If a worker
    // dies before its answer is sent (we kill the others when one fails to start), the send fails
    // with EPIPE, emitted here; unhandled, it would crash the primary with a stack trace. Nothing
    // to do about it: the worker is gone, and the 'exit' handler below deals with that.
    worker.on('error', () => {});
    worker.on('message', (message: { listening?: number; listenError?: string }) => {
      if (message.listenError !== undefined && !listenErrorShown) {
        listenErrorShown = true;
        console.error(message.listenError);
      }
      if (message.listening === undefined) return;
      listening++;
      if (listening === count) announce(message.listening);
    });
  };
  cluster.on('exit', (worker, code, signal) => {
    if (stopping) return;
    if (listening < count) {
      // Failed before it could serve (port in use, bad app): forking again would fail again.
      if (!listenErrorShown)
        console.error(`A worker exited during start-up (code ${code}); stopping.`);
      stopping = true;
      // The other workers are starting too, and would fail the same way, or write to a primary
      // that is gone (EPIPE, a stack trace): stop them first. They serve nothing yet.
      const others = Object.values(cluster.workers ?? {}).filter(
        (other): other is Worker => other !== undefined && !other.isDead(),
      );
      void Promise.all(
        others.map((other) => new Promise((resolve) => other.once('exit', resolve))),
      ).then(() => process.exit(1));
      for (const other of others) other.process.kill('SIGKILL');
      return;
    }
    console.error(
      `Worker ${worker.process.pid} died (${signal ?? `code ${code}`}); starting a replacement.`,
    );
    listening--;
    fork();
  });
  for (let i = 0; i < count; i++) fork();
  stopOnSignals(async () => {
    stopping = true;
    const workers = Object.values(cluster.workers ?? {});
    await Promise.all(
      workers.map(
        (worker) =>
          new Promise<void>((resolve) => {
            if (worker === undefined || worker.isDead()) return resolve();
            worker.once('exit', () => resolve());
            worker.disconnect();
          }),
      ),
    );
  });
}
