/**
 * Benchmarks, `npm run bench [name ...]`. Every module `bench/<name>.bench.ts` exports
 * `bench(ctx): Promise<Row[]>`; every figure is a ratio against a baseline measured in the same
 * run on the same machine, never an absolute time compared with a fixed number. Names given on
 * the command line run only those modules.
 */
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { BenchContext, Row } from './common';

// the bundles pin their SDK: its notice that later releases need Node 22 is noise in bench output
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

async function main(): Promise<void> {
  const wanted = process.argv.slice(2);
  const modules = readdirSync(__dirname)
    .filter((file) => file.endsWith('.bench.ts'))
    .map((file) => file.slice(0, -'.bench.ts'.length))
    .filter((name) => wanted.length === 0 || wanted.includes(name))
    .sort();
  if (wanted.length > 0 && modules.length !== wanted.length) {
    throw new Error(`unknown benchmark(s): ${wanted.filter((w) => !modules.includes(w)).join(', ')}`);
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-'));
  const rows: Row[] = [];
  try {
    const empty = path.join(dir, 'empty.js');
    writeFileSync(empty, '');
    const ctx: BenchContext = { dir, empty };
    const t0 = Date.now();
    for (const name of modules) {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { bench } = require(`./${name}.bench`) as { bench: (c: BenchContext) => Promise<Row[]> };
      console.error(`bench: ${name}`);
      const t = Date.now();
      rows.push(...(await bench(ctx)));
      // the budget: every module together within 5 minutes on the project's 2-core machine
      console.error(`bench: ${name} took ${((Date.now() - t) / 1000).toFixed(0)} s`);
    }
    console.error(`bench: ${modules.length} module(s) in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  console.log('| benchmark | subject | baseline | ratio | detail |');
  console.log('|---|---|---|---|---|');
  for (const row of rows) {
    console.log(`| ${row.benchmark} | ${row.subject} | ${row.baseline} | ${row.ratio.toFixed(3)}x | ${row.detail} |`);
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
