/**
 * One round of the scale benchmark (scale.bench.ts), in a process of its own:
 * `node --import tsx bench/scale-synth.ts <dir> <streamProcessor|frameSampling> <cameras>...`
 * synthesizes one warm-up app (module loads, first compilations), then one app per camera count
 * given, in that order, and prints a JSON array: each app's synth time (new App to app.synth())
 * and its template files' sizes.
 */
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { FaceSearchEngine, FaceStreamPipeline } from '../lib';

export type EngineName = 'streamProcessor' | 'frameSampling';

export interface SynthRun {
  readonly cameras: number;
  readonly ms: number;
  readonly files: Array<{ file: string; bytes: number }>;
}

/** The nested stacks the cameras are spread over. */
export const STACKS = 3;

function synthOnce(dir: string, cameras: number, engine: EngineName): SynthRun {
  const outdir = mkdtempSync(path.join(dir, 'scale-'));
  try {
    const start = process.hrtime.bigint();
    const app = new App({ outdir });
    new FaceStreamPipeline(new Stack(app, 'Site'), 'Faces', {
      engine: engine === 'frameSampling' ? FaceSearchEngine.frameSampling() : FaceSearchEngine.streamProcessor(),
      cameraStacks: STACKS,
      cameras: Array.from({ length: cameras }, (_, i) => ({ name: `camera-${String(i + 1).padStart(3, '0')}` })),
    });
    app.synth();
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    const files = readdirSync(outdir)
      .filter((file) => file.endsWith('.template.json'))
      .map((file) => ({ file, bytes: statSync(path.join(outdir, file)).size }));
    const nested = files.filter((f) => f.file.endsWith('.nested.template.json')).length;
    if (nested !== STACKS) {
      throw new Error(`${cameras} cameras filled ${nested} of ${STACKS} nested stacks: their per-camera cost would carry a nested stack's`);
    }
    return { cameras, ms, files };
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  const [dir, engine, ...counts] = process.argv.slice(2);
  if (engine !== 'streamProcessor' && engine !== 'frameSampling') {
    throw new Error(`engine must be streamProcessor or frameSampling, not ${engine}`);
  }
  synthOnce(dir, 20, engine); // warm-up
  process.stdout.write(JSON.stringify(counts.map((n) => synthOnce(dir, Number(n), engine))));
}
