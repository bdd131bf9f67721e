// The servers run as plain JavaScript, compiled ahead, as a server would be deployed: not
// through tsx, the loader the course uses so that `npm run part3` needs no build step.
//
//   bench/serve.ts and every module it imports, found by following relative imports
//   → TypeScript's transpileModule (types erased, `.ts` in imports rewritten to `.js`)
//   → bench/.build/, in the repository's own layout, so relative imports still meet
//
// Why it matters here: tsx runs its loader on a thread of its own, a second JavaScript heap of
// about 55 MiB in every server process. The peak-memory column measured that loader, not the
// servers (node:http ran under it too: every server read about 120 MiB, 62 without it). tsx
// also keeps function names (esbuild's keepNames), a property definition for every function it
// creates, which costs a little per request in code that makes functions per request.
//
// Only transpiling, no type check: `npm run typecheck` does that, and a file that does not
// parse stops its server at start-up, which the runner reports. Run by run.ts before it starts
// the servers.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
// bench/'s own TypeScript 5.9 (bench/package.json): the root's TypeScript 7, a native compiler,
// type-checks but has no JavaScript API such as transpileModule yet.
import ts from 'typescript';

const REPOSITORY = fileURLToPath(new URL('..', import.meta.url));
const OUTPUT = fileURLToPath(new URL('./.build/', import.meta.url));
const ENTRY = fileURLToPath(new URL('./serve.ts', import.meta.url));

const COMPILER_OPTIONS: ts.CompilerOptions = {
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.ESNext,
  verbatimModuleSyntax: true,
  rewriteRelativeImportExtensions: true,
};

/** Compiles serve.ts and what it imports into bench/.build/; returns the path of serve.js there. */
export function compileServers(): string {
  compileFiles([ENTRY], OUTPUT);
  return outputPath(ENTRY, OUTPUT);
}

/**
 * Compiles `entries` (absolute paths of .ts files) and what they import into `output`, emptied
 * first, in the repository's layout; returns where each entry's .js went.
 */
export function compileFiles(entries: string[], output: string): string[] {
  rmSync(output, { recursive: true, force: true });
  const pending = [...entries];
  const done = new Set<string>();
  for (let file = pending.pop(); file !== undefined; file = pending.pop()) {
    if (done.has(file)) continue;
    done.add(file);
    const source = readFileSync(file, 'utf8');
    const { outputText } = ts.transpileModule(source, { compilerOptions: COMPILER_OPTIONS, fileName: file });
    const target = outputPath(file, output);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, outputText);
    // Static and dynamic imports alike; packages (fastify, node:http) are left to Node.
    for (const { fileName } of ts.preProcessFile(source, true, true).importedFiles) {
      if (fileName.startsWith('.')) pending.push(resolve(dirname(file), fileName));
    }
  }
  return entries.map((entry) => outputPath(entry, output));
}

/** `<repository>/part3-gateway/server.ts` → `bench/.build/part3-gateway/server.js` */
function outputPath(file: string, output: string): string {
  return join(output, relative(REPOSITORY, file)).replace(/\.ts$/, '.js');
}
