import { Session } from 'node:inspector/promises';
import { writeFileSync } from 'node:fs';
const session = new Session();
session.connect();
await session.post('HeapProfiler.startSampling', {
  samplingInterval: 512,
  includeObjectsCollectedByMajorGC: true,
  includeObjectsCollectedByMinorGC: true,
} as any);
process.argv = [process.argv[0], 'in-process.ts', process.env.SERVER ?? 'part2'];
await import('../bench/in-process.ts');
const { profile } = (await session.post('HeapProfiler.stopSampling')) as any;
const agg = new Map<string, number>();
function walk(n: any, parent: string) {
  const name = `${n.callFrame.functionName || '(anon)'} ${n.callFrame.url.split('/').slice(-2).join('/')}:${n.callFrame.lineNumber + 1}`;
  if (n.selfSize) agg.set(name, (agg.get(name) ?? 0) + n.selfSize);
  for (const c of n.children ?? []) walk(c, name);
}
walk(profile.head, '');
const total = [...agg.values()].reduce((a, b) => a + b, 0);
console.log('total sampled MB', (total / 1e6).toFixed(0));
for (const [k, v] of [...agg.entries()].sort((a, b) => b[1] - a[1]).slice(0, 35))
  console.log(
    ((v / total) * 100).toFixed(1).padStart(5) + '%',
    (v / 520000).toFixed(0).padStart(5),
    'B/req',
    k,
  );
