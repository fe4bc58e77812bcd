/**
 * What every benchmark module shares: the row it reports, the run count, medians, cold module
 * loads in fresh processes and SDK-only baseline bundles. Every figure is a ratio against a
 * baseline measured in the same run on the same machine.
 */
import { execFileSync, spawn } from 'node:child_process';
import { statSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { buildSync } from 'esbuild';
import { recordWith, documentedRecord, toData } from '../test/fixtures/face-records';
import { handlerBuildOptions } from '../scripts/esbuild-options.mjs';

export const root = path.join(__dirname, '..');
export const RUNS = Number(process.env.BENCH_RUNS ?? 11);

export interface Row {
  readonly benchmark: string;
  readonly subject: string;
  readonly baseline: string;
  readonly ratio: number;
  readonly detail: string;
}

/** What the runner hands every module: a scratch folder and an empty module (node start-up). */
export interface BenchContext {
  readonly dir: string;
  readonly empty: string;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** Wall time of `node -e require(file)` in a fresh process, in milliseconds. */
export function coldLoad(file: string): number {
  const start = process.hrtime.bigint();
  execFileSync(process.execPath, ['-e', `require(${JSON.stringify(file)})`], { stdio: 'ignore' });
  return Number(process.hrtime.bigint() - start) / 1e6;
}

/** An esbuild bundle of only the given SDK clients and commands, built like the handlers. */
export function sdkBaseline(dir: string, name: string, clients: Record<string, { client: string; commands: string[] }>): string {
  const entry = path.join(dir, `${name}-entry.ts`);
  const lines: string[] = [];
  for (const [pkg, { client, commands }] of Object.entries(clients)) {
    lines.push(`import { ${client}, ${commands.join(', ')} } from '${pkg}';`);
    lines.push(`export const ${client}Instance = new ${client}({ maxAttempts: 1 });`);
    lines.push(`export const ${client}Commands = [${commands.join(', ')}];`);
  }
  writeFileSync(entry, lines.join('\n') + '\n');
  const outfile = path.join(dir, `${path.basename(entry, '.ts')}.js`);
  buildSync({
    entryPoints: [entry],
    outfile,
    ...handlerBuildOptions,
    nodePaths: [path.join(root, 'node_modules')],
  });
  return outfile;
}

export function compareColdLoad(name: string, subject: string, baseline: string, empty: string): Row {
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

/**
 * Instructions that `node -e require(file)` executes in a fresh process, counted by valgrind's
 * callgrind (undefined without valgrind). Unlike wall time it does not depend on what else the
 * machine runs: with V8 on one thread and fixed seeds, repeated counts agree to about 1 in 10^6.
 * So counts may run side by side (compareColdInstructions runs its three at once).
 */
export function coldInstructions(file: string): Promise<number | undefined> {
  const flags = ['--single-threaded', '--hash-seed=1', '--random-seed=1'];
  return new Promise((resolve, reject) => {
    const child = spawn('valgrind', ['--tool=callgrind', '--callgrind-out-file=/dev/null', process.execPath, ...flags, '-e', `require(${JSON.stringify(file)})`], {
      env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', (error: NodeJS.ErrnoException) => (error.code === 'ENOENT' ? resolve(undefined) : reject(error)));
    child.on('close', (status) => {
      const collected = /Collected : (\d+)/.exec(stderr);
      if (status !== 0 || !collected) {
        reject(new Error(`valgrind on ${file} failed (${status}): ${stderr.slice(-500)}`));
      } else {
        resolve(Number(collected[1]));
      }
    });
  });
}

/**
 * Cold load as instructions executed (valgrind callgrind), net of node's start-up (an empty
 * module): the same figure on a busy machine as on an idle one, so a ratio of 1.05 means the
 * bundle, not the neighbours. Falls back to wall time (compareColdLoad) without valgrind.
 */
export async function compareColdInstructions(name: string, subject: string, baseline: string, empty: string): Promise<Row> {
  const [e, a0, b0] = await Promise.all([coldInstructions(empty), coldInstructions(subject), coldInstructions(baseline)]);
  if (e === undefined || a0 === undefined || b0 === undefined) {
    const row = compareColdLoad(name, subject, baseline, empty);
    return { ...row, detail: `${row.detail}; valgrind not installed: wall time, noisy` };
  }
  const a = a0 - e;
  const b = b0 - e;
  return {
    benchmark: `${name}: cold module load, instructions net of node start-up (valgrind callgrind, one fresh process each)`,
    subject: `${(a / 1e6).toFixed(1)} M instr`,
    baseline: `${(b / 1e6).toFixed(1)} M instr`,
    ratio: a / b,
    detail: `bundle ${(statSync(subject).size / 1024).toFixed(1)} KiB, SDK-only bundle ${(statSync(baseline).size / 1024).toFixed(1)} KiB; node start-up ${(e / 1e6).toFixed(1)} M instr`,
  };
}

export function compareSizes(name: string, subject: string, baseline: string): Row {
  return {
    benchmark: `${name}: bundle size`,
    subject: `${statSync(subject).size} B`,
    baseline: `${statSync(baseline).size} B`,
    ratio: statSync(subject).size / statSync(baseline).size,
    detail: 'baseline: the same SDK clients and commands bundled alone',
  };
}

/** A corpus like a busy camera's: empty frames, single faces, crowds; matched and unknown. */
export function recordCorpus(): string[] {
  const corpus: string[] = [];
  for (let i = 0; i < 200; i++) {
    const kind = i % 5;
    if (kind === 0) {
      corpus.push(toData(recordWith([], { producerTime: 1700000000 + i })));
    } else if (kind === 1) {
      corpus.push(toData(documentedRecord()));
    } else if (kind === 2) {
      corpus.push(toData(recordWith([{ matches: [] }], { producerTime: 1700000000 + i })));
    } else if (kind === 3) {
      corpus.push(toData(recordWith([{ matches: ['alice', 'alice-2'] }, { matches: [] }, { matches: ['bob'] }], { producerTime: 1700000000 + i })));
    } else {
      corpus.push(toData(recordWith(Array.from({ length: 10 }, (_, j) => ({ matches: j % 2 ? [`p${j}`] : [] })), { producerTime: 1700000000 + i })));
    }
  }
  return corpus;
}

export function timeLoop(rounds: number, fn: () => void): number {
  const start = process.hrtime.bigint();
  for (let r = 0; r < rounds; r++) {
    fn();
  }
  return Number(process.hrtime.bigint() - start) / 1e6;
}

