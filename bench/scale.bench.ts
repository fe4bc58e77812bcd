/**
 * Scale (issue 13): what one more camera costs at synth time and in template bytes, at 10 cameras
 * and at 100, one pipeline with its cameras in 3 nested stacks (alarms on), for each engine. A
 * camera's cost at n is that of the cameras added last, (cost(n) - cost(n / 2)) / (n / 2), so that
 * what the first cameras create once (nested stacks, the processor provider, the sampler) is not
 * spread over them; the ratio is the cost per camera at 100 over that at 10 (target at most 1.2x:
 * synth stays linear, nothing grows with the square of the cameras).
 * Synth time is the median of BENCH_SCALE_RUNS in-process `app.synth()` runs (each a new App; four
 * times as many at 5 and 10 cameras).
 */
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { FaceSearchEngine, FaceStreamPipeline } from '../lib';
import { BenchContext, median, Row } from './common';

const RUNS = Number(process.env.BENCH_SCALE_RUNS ?? 5);

interface Cost {
  readonly ms: number;
  readonly bytes: number;
  readonly largest: { file: string; bytes: number };
}

function synthOnce(dir: string, cameras: number, engine: FaceSearchEngine | undefined): { ms: number; files: Array<{ file: string; bytes: number }> } {
  const outdir = mkdtempSync(path.join(dir, 'scale-'));
  try {
    const start = process.hrtime.bigint();
    const app = new App({ outdir });
    new FaceStreamPipeline(new Stack(app, 'Site'), 'Faces', {
      engine,
      cameraStacks: 3,
      cameras: Array.from({ length: cameras }, (_, i) => ({ name: `camera-${String(i + 1).padStart(3, '0')}` })),
    });
    app.synth();
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    const files = readdirSync(outdir)
      .filter((file) => file.endsWith('.template.json'))
      .map((file) => ({ file, bytes: statSync(path.join(outdir, file)).size }));
    return { ms, files };
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

function cost(dir: string, cameras: number, engine: FaceSearchEngine | undefined): Cost {
  // small apps synthesize in tens of milliseconds, where a collection pause weighs: more runs
  const runs = Array.from({ length: cameras <= 10 ? RUNS * 4 : RUNS }, () => synthOnce(dir, cameras, engine));
  const files = runs[0].files;
  const largest = files.reduce((a, b) => (b.bytes > a.bytes ? b : a));
  return { ms: median(runs.map((r) => r.ms)), bytes: files.reduce((sum, f) => sum + f.bytes, 0), largest };
}

export async function bench(ctx: BenchContext): Promise<Row[]> {
  const rows: Row[] = [];
  for (const [name, engine] of [
    ['stream processor', undefined],
    ['frame sampling', FaceSearchEngine.frameSampling()],
  ] as const) {
    synthOnce(ctx.dir, 100, engine); // warm: module loads and JIT
    synthOnce(ctx.dir, 10, engine);
    const five = cost(ctx.dir, 5, engine);
    const ten = cost(ctx.dir, 10, engine);
    const fifty = cost(ctx.dir, 50, engine);
    const hundred = cost(ctx.dir, 100, engine);
    const per = (c: Cost, n: number, key: 'ms' | 'bytes') => (c[key] - (n === 100 ? fifty : five)[key]) / (n / 2);
    rows.push(
      {
        benchmark: `synth time per camera, ${name}, 100 cameras vs 10 (3 nested stacks, median of ${RUNS})`,
        subject: `${per(hundred, 100, 'ms').toFixed(1)} ms`,
        baseline: `${per(ten, 10, 'ms').toFixed(1)} ms`,
        ratio: per(hundred, 100, 'ms') / per(ten, 10, 'ms'),
        detail: `(synth(n) - synth(n/2)) / (n/2); synth(10) ${ten.ms.toFixed(0)} ms, synth(100) ${hundred.ms.toFixed(0)} ms; target at most 1.2x`,
      },
      {
        benchmark: `template bytes per camera, ${name}, 100 cameras vs 10`,
        subject: `${Math.round(per(hundred, 100, 'bytes'))} B`,
        baseline: `${Math.round(per(ten, 10, 'bytes'))} B`,
        ratio: per(hundred, 100, 'bytes') / per(ten, 10, 'bytes'),
        detail: `all templates, nested included; largest at 100 cameras: ${hundred.largest.file} ${hundred.largest.bytes} B of CloudFormation's 1 MB; target at most 1.2x`,
      },
    );
  }
  return rows;
}
