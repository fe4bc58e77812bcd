/**
 * Scale (issue 13): what one more camera costs at synth time and in template bytes, at 10 cameras
 * and at 100, one pipeline with its cameras in 3 nested stacks (alarms on), for each engine. A
 * camera's cost is that of cameras added to a pipeline that already has every stack and shared
 * resource, so that what the first cameras create once (nested stacks, the processor provider, the
 * sampler) is not spread over them: at 100 cameras (cost(100) - cost(50)) / 50, at 10 cameras
 * (cost(20) - cost(10)) / 10. Not (cost(10) - cost(5)) / 5: camera-001..005 fill only two of the
 * three nested stacks, so that figure would carry a whole nested stack's cost; every app measured
 * here has all three, and the bench fails if one does not. The ratio is the cost per camera at 100
 * over that at 10 (target at most 1.2x: synth stays linear, nothing grows with the square of the
 * cameras).
 *
 * Synth time is the median of BENCH_SCALE_RUNS rounds (four runs a round at 20 cameras or fewer).
 * Each round is a process of its own (bench/scale-synth.ts): one warm-up synth, then every size in
 * an order that turns from round to round. Not one process for all: aws-cdk-lib keeps every token
 * of every app in a process-wide registry, so each 50-camera app leaves about 5 MiB that is never
 * freed; after a hundred apps every collection marks hundreds of MiB, and the apps that allocate
 * most (the large ones) pay most. A `cdk synth` runs one app in a fresh process.
 */
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { BenchContext, median, root, Row } from './common';
import type { EngineName, SynthRun } from './scale-synth';

const RUNS = Number(process.env.BENCH_SCALE_RUNS ?? 5);

interface Cost {
  readonly ms: number;
  readonly bytes: number;
  readonly largest: { file: string; bytes: number };
}

const SIZES = [10, 20, 50, 100] as const;

/** Every size's cost: RUNS rounds, each in a process of its own, the order of the sizes turning. */
function costs(dir: string, engine: EngineName): Record<(typeof SIZES)[number], Cost> {
  const runs = new Map<number, SynthRun[]>(SIZES.map((n) => [n, []]));
  for (let round = 0; round < RUNS; round++) {
    const order = SIZES.map((_, i) => SIZES[(i + round) % SIZES.length]);
    // small apps synthesize in tens of milliseconds, where a stray pause weighs: more runs
    const plan = order.flatMap((n) => Array<number>(n <= 20 ? 4 : 1).fill(n));
    const out = execFileSync(process.execPath, ['--import', 'tsx', path.join(__dirname, 'scale-synth.ts'), dir, engine, ...plan.map(String)], {
      cwd: root,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    for (const run of JSON.parse(out) as SynthRun[]) {
      runs.get(run.cameras)!.push(run);
    }
  }
  const cost = (n: number): Cost => {
    const all = runs.get(n)!;
    const files = all[0].files;
    const largest = files.reduce((a, b) => (b.bytes > a.bytes ? b : a));
    return { ms: median(all.map((r) => r.ms)), bytes: files.reduce((sum, f) => sum + f.bytes, 0), largest };
  };
  return { 10: cost(10), 20: cost(20), 50: cost(50), 100: cost(100) };
}

export async function bench(ctx: BenchContext): Promise<Row[]> {
  const rows: Row[] = [];
  for (const [name, engine] of [
    ['stream processor', 'streamProcessor'],
    ['frame sampling', 'frameSampling'],
  ] as const) {
    const { 10: ten, 20: twenty, 50: fifty, 100: hundred } = costs(ctx.dir, engine);
    const per = (n: 10 | 100, key: 'ms' | 'bytes') => (n === 100 ? (hundred[key] - fifty[key]) / 50 : (twenty[key] - ten[key]) / 10);
    rows.push(
      {
        benchmark: `synth time per camera, ${name}, 100 cameras vs 10 (3 nested stacks, median of ${RUNS})`,
        subject: `${per(100, 'ms').toFixed(1)} ms`,
        baseline: `${per(10, 'ms').toFixed(1)} ms`,
        ratio: per(100, 'ms') / per(10, 'ms'),
        detail: `at 100: (synth(100) - synth(50)) / 50, at 10: (synth(20) - synth(10)) / 10; synth(10) ${ten.ms.toFixed(0)} ms, synth(100) ${hundred.ms.toFixed(0)} ms; target at most 1.2x`,
      },
      {
        benchmark: `template bytes per camera, ${name}, 100 cameras vs 10`,
        subject: `${Math.round(per(100, 'bytes'))} B`,
        baseline: `${Math.round(per(10, 'bytes'))} B`,
        ratio: per(100, 'bytes') / per(10, 'bytes'),
        detail: `all templates, nested included, counted like synth time; largest at 100 cameras: ${hundred.largest.file} ${hundred.largest.bytes} B of CloudFormation's 1 MB; target at most 1.2x`,
      },
    );
  }
  return rows;
}
