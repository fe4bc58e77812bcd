/**
 * Benchmarks, `npm run bench [name ...]`. Every module `bench/<name>.bench.ts` exports
 * `bench(ctx): Promise<Row[]>`; every figure is a ratio against a baseline measured in the same
 * run on the same machine, never an absolute time compared with a fixed number. Names given on
 * the command line run only those modules.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
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
  const times: Array<{ name: string } & Clocks> = [];
  try {
    const empty = path.join(dir, 'empty.js');
    writeFileSync(empty, '');
    const ctx: BenchContext = { dir, empty };
    const t0 = clocks();
    for (const name of modules) {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { bench } = require(`./${name}.bench`) as { bench: (c: BenchContext) => Promise<Row[]> };
      console.error(`bench: ${name}`);
      const t = clocks();
      rows.push(...(await bench(ctx)));
      times.push({ name, ...since(t) });
      console.error(`bench: ${name} took ${format(times[times.length - 1])}`);
    }
    times.push({ name: `all ${modules.length} module(s)`, ...since(t0) });
    // the budget: every module together within 5 minutes of wall time on the project's 2-core machine
    console.error(`bench: ${format(times[times.length - 1])} (budget 300 s wall)`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  console.log('| benchmark | subject | baseline | ratio | detail |');
  console.log('|---|---|---|---|---|');
  for (const row of rows) {
    console.log(`| ${row.benchmark} | ${row.subject} | ${row.baseline} | ${row.ratio.toFixed(3)}x | ${row.detail} |`);
  }
  console.log('');
  console.log(`| module | wall | CPU (this process + its children) | load average (1 min) at start / end, ${cpus().length} CPUs |`);
  console.log('|---|---|---|---|');
  for (const t of times) {
    console.log(`| ${t.name} | ${t.wallS.toFixed(1)} s | ${t.cpuS.toFixed(1)} s | ${t.loadStart.toFixed(1)} / ${t.loadEnd.toFixed(1)} |`);
  }
}

interface Clocks {
  readonly wallS: number;
  readonly cpuS: number;
  readonly loadStart: number;
  readonly loadEnd: number;
}

/**
 * CPU seconds of this process and of its children that ended (Linux /proc/self/stat cutime and
 * cstime, in clock ticks of 100 Hz; 0 elsewhere): the benches run tools, synths and handlers in
 * processes of their own. On a shared machine CPU time says what a module costs; wall time, what
 * it took there.
 */
function cpuSeconds(): number {
  const own = process.cpuUsage();
  let children = 0;
  try {
    const fields = readFileSync('/proc/self/stat', 'utf8').replace(/^.*\) /s, '').split(' ');
    // after the name: state is field 3, cutime and cstime are fields 16 and 17
    children = (Number(fields[16 - 3]) + Number(fields[17 - 3])) / 100;
  } catch {
    children = 0;
  }
  return (own.user + own.system) / 1e6 + children;
}

function clocks(): { wall: bigint; cpu: number; load: number } {
  return { wall: process.hrtime.bigint(), cpu: cpuSeconds(), load: loadavg()[0] };
}

function since(start: ReturnType<typeof clocks>): Clocks {
  return { wallS: Number(process.hrtime.bigint() - start.wall) / 1e9, cpuS: cpuSeconds() - start.cpu, loadStart: start.load, loadEnd: loadavg()[0] };
}

function format(t: Clocks): string {
  return `${t.wallS.toFixed(1)} s wall, ${t.cpuS.toFixed(1)} s CPU, load average ${t.loadStart.toFixed(1)} -> ${t.loadEnd.toFixed(1)}`;
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
