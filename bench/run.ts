/**
 * Benchmarks, `npm run bench`. Every figure is a ratio against a baseline measured in the same
 * run on the same machine, never an absolute time compared with a fixed number.
 *
 * - stream-processor handler: bundle size, and cold module load time (a fresh `node` process that
 *   requires the bundle) against an esbuild bundle of only the SDK client and commands it calls.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { buildSync } from 'esbuild';
import { handlerBuildOptions } from '../scripts/esbuild-options.mjs';

const root = path.join(__dirname, '..');
const RUNS = Number(process.env.BENCH_RUNS ?? 21);

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** Wall time of `node -e require(file)` in a fresh process, in milliseconds. */
function coldLoad(file: string): number {
  const start = process.hrtime.bigint();
  execFileSync(process.execPath, ['-e', `require(${JSON.stringify(file)})`], { stdio: 'ignore' });
  return Number(process.hrtime.bigint() - start) / 1e6;
}

function sdkBaseline(dir: string, client: string, commands: string[]): string {
  const entry = path.join(dir, `${client.replace(/\W/g, '_')}-entry.ts`);
  const clientClass = `${client.split('/')[1].replace('client-', '').replace(/(^|-)(\w)/g, (_m, _d, c: string) => c.toUpperCase())}Client`;
  writeFileSync(
    entry,
    `import { ${clientClass}, ${commands.join(', ')} } from '${client}';\n` +
      `export const client = new ${clientClass}({ maxAttempts: 1 });\n` +
      `export const commands = [${commands.join(', ')}];\n`,
  );
  const outfile = path.join(dir, `${path.basename(entry, '.ts')}.js`);
  buildSync({
    entryPoints: [entry],
    outfile,
    ...handlerBuildOptions,
    nodePaths: [path.join(root, 'node_modules')],
  });
  return outfile;
}

interface Row {
  readonly benchmark: string;
  readonly subject: string;
  readonly baseline: string;
  readonly ratio: number;
  readonly detail: string;
}

function compareColdLoad(name: string, subject: string, baseline: string, empty: string): Row {
  coldLoad(subject); // warm the file system cache
  coldLoad(baseline);
  const a: number[] = [];
  const b: number[] = [];
  const e: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    // interleaved, so drift in machine load hits all alike
    a.push(coldLoad(subject));
    b.push(coldLoad(baseline));
    e.push(coldLoad(empty));
  }
  // node's own start-up (an empty module) is subtracted from both: what is left is module load
  const me = median(e);
  const ma = median(a) - me;
  const mb = median(b) - me;
  return {
    benchmark: `${name}: cold module load, net of node start-up (median of ${RUNS} fresh processes)`,
    subject: `${ma.toFixed(1)} ms`,
    baseline: `${mb.toFixed(1)} ms`,
    ratio: ma / mb,
    detail: `bundle ${(statSync(subject).size / 1024).toFixed(1)} KiB, SDK-only bundle ${(statSync(baseline).size / 1024).toFixed(1)} KiB`,
  };
}

function main(): void {
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-'));
  const rows: Row[] = [];
  try {
    const handler = path.join(root, 'assets', 'stream-processor', 'index.js');
    const baseline = sdkBaseline(dir, '@aws-sdk/client-rekognition', [
      'CreateStreamProcessorCommand',
      'DeleteStreamProcessorCommand',
      'DescribeStreamProcessorCommand',
      'StartStreamProcessorCommand',
      'StopStreamProcessorCommand',
      'TagResourceCommand',
      'UntagResourceCommand',
      'UpdateStreamProcessorCommand',
    ]);
    const empty = path.join(dir, 'empty.js');
    writeFileSync(empty, '');
    rows.push(compareColdLoad('stream-processor handler', handler, baseline, empty));
    rows.push({
      benchmark: 'stream-processor handler: bundle size',
      subject: `${statSync(handler).size} B`,
      baseline: `${statSync(baseline).size} B`,
      ratio: statSync(handler).size / statSync(baseline).size,
      detail: 'baseline: the same SDK client and commands bundled alone',
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  console.log('| benchmark | subject | baseline | ratio | detail |');
  console.log('|---|---|---|---|---|');
  for (const row of rows) {
    console.log(`| ${row.benchmark} | ${row.subject} | ${row.baseline} | ${row.ratio.toFixed(3)}x | ${row.detail} |`);
  }
}

main();
