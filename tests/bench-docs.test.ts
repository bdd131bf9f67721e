// Keeps bench/ honest without running it (a benchmark is not a test, and its numbers depend on
// the machine): the files bench/README.md links to exist, `npm run bench` is wired the way the
// README says, and the root install stays free of the benchmark's dependencies.
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const read = (path: string): string => readFileSync(new URL(`../${path}`, import.meta.url), 'utf8');

interface PackageJson {
  scripts?: Record<string, string>;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}

describe('bench/', () => {
  it('README links only to files that exist', () => {
    const readme = read('bench/README.md');
    const links = [...readme.matchAll(/\]\(([^)#:]+)\)/g)].map((match) => match[1]);
    expect(links.length).toBeGreaterThan(5);
    const missing = links.filter((link) => !existsSync(new URL(`../bench/${link}`, import.meta.url)));
    expect(missing).toEqual([]);
  });

  it('names in its server table the servers that servers.ts and course-servers.ts start', () => {
    const servers = read('bench/servers.ts') + read('bench/course-servers.ts');
    const readme = read('bench/README.md');
    const labels = [...servers.matchAll(/label: '([^']+)'/g)].map((match) => match[1]);
    expect(labels.length).toBeGreaterThan(5);
    // "node:net, no parser (reference)" is "node:net, no parser" in the table.
    const missing = labels
      .map((label) => label.replace(/ \(reference\)$/, ''))
      .filter((label) => !readme.includes(label.replace(/^part 4 /, '')));
    expect(missing).toEqual([]);
  });

  it('is run from the root by npm run bench, which installs bench/ on its own', () => {
    const root = JSON.parse(read('package.json')) as PackageJson;
    expect(root.scripts?.bench).toContain('npm --prefix bench install');
    expect(root.scripts?.bench).toContain('npm --prefix bench run bench');
    const bench = JSON.parse(read('bench/package.json')) as PackageJson;
    expect(Object.keys(bench.dependencies ?? {})).toEqual(expect.arrayContaining(['autocannon', 'express', 'fastify']));
    expect(existsSync(new URL('../bench/package-lock.json', import.meta.url))).toBe(true);
  });

  it('leaves the root install lean: no benchmark dependency in the root package.json', () => {
    const root = JSON.parse(read('package.json')) as PackageJson;
    const rootDependencies = Object.keys({ ...root.dependencies, ...root.devDependencies });
    for (const name of ['autocannon', 'express', 'fastify']) expect(rootDependencies).not.toContain(name);
  });
});
