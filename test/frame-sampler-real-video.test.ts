/**
 * The frame sampler's unchanged-frame detector on real video: H.264 from ffmpeg of a photographed
 * scene with sensor noise and compression artefacts (test/support/real-video.ts), decoded to one
 * JPEG a second and served by the local GetImages. The bundled sampler runs over each scene; every
 * frame it does not skip is a DetectFaces call, so the fake Rekognition's count is what it analysed.
 * The README's figures ("Unchanged frames on real video") come from these scenes.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { thumbnail } from '../lib/runtime/frame-sampler/frames';
import { decode } from '../lib/runtime/shared/pictures';
import { cameraInput, context, DATA_ARN, loadSampler, SamplerServices, startSamplerServices } from './support/frame-sampler-harness';
import { jpegsPerSecond, SceneOptions, sceneVideo, serveJpegsPerSecond } from './support/real-video';
import { checkIam } from './support/iam-check';
import { samplerDeployment, samplerRole } from './support/iam-deployments';

// every AWS call the sampler makes is evaluated against the synthesized policies (test/support/iam-check.ts)
checkIam({ deployment: samplerDeployment, callers: { AKIDEXAMPLE: samplerRole } });

const SECONDS = 8;
const SCENES: Record<string, SceneOptions> = {
  'a static scene, lit (noise +-10 levels)': { noise: 10, seconds: SECONDS },
  'a static scene, dark (noise +-30 levels)': { noise: 30, seconds: SECONDS },
  'a slow exposure change (+1 level a second)': { noise: 10, exposurePerSecond: 1 / 255, seconds: SECONDS },
  'a person walking through (160 x 440, 90 px/s)': { noise: 10, walker: { width: 160, height: 440, x0: 100, pxPerSecond: 90 }, seconds: SECONDS },
  'a distant person standing nearly still (64 x 176, 8 px/s)': { noise: 10, walker: { width: 64, height: 176, x0: 300, pxPerSecond: 8 }, seconds: SECONDS },
};

let services: SamplerServices;
let dir: string;
const frames = new Map<string, Buffer[]>();
jest.setTimeout(180_000);

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'real-video-'));
  for (const [name, options] of Object.entries(SCENES)) {
    frames.set(name, jpegsPerSecond(sceneVideo(dir, name.replace(/[^a-z0-9]+/gi, '-'), options)));
  }
  services = await startSamplerServices();
});
afterAll(async () => {
  await services?.stop();
  rmSync(dir, { recursive: true, force: true });
});
beforeEach(() => {
  services.reset();
  services.kinesis.streams.add(DATA_ARN);
});

/** Runs the bundled sampler over a scene's frames; how many it analysed (DetectFaces) and skipped. */
async function sample(scene: string): Promise<{ analysed: number; skipped: number; samples: number }> {
  const jpegs = frames.get(scene)!;
  serveJpegsPerSecond(services, jpegs);
  await loadSampler()(cameraInput(), context());
  const analysed = services.rekognition.count('DetectFaces');
  return { analysed, skipped: jpegs.length - analysed, samples: jpegs.length };
}

/** The detector's two measures between consecutive frames: mean and largest cell change (levels). */
function differences(scene: string): Array<{ mean: number; max: number }> {
  const thumbs = frames.get(scene)!.map((j) => thumbnail(decode(j)));
  return thumbs.slice(1).map((t, i) => {
    let total = 0;
    let max = 0;
    t.forEach((v, c) => {
      const d = Math.abs(v - thumbs[i][c]);
      total += d;
      max = Math.max(max, d);
    });
    return { mean: total / t.length, max };
  });
}

test('the scenes are real video: noise and compression change every frame of a static scene', () => {
  for (const scene of Object.keys(SCENES)) {
    expect(frames.get(scene)).toHaveLength(SECONDS);
  }
  const lit = differences('a static scene, lit (noise +-10 levels)');
  const dark = differences('a static scene, dark (noise +-30 levels)');
  expect(Math.min(...lit.map((d) => d.mean))).toBeGreaterThan(0.3);
  expect(Math.min(...dark.map((d) => d.mean))).toBeGreaterThan(1.2); // at the old 1.5 threshold's door
  expect(Math.max(...dark.map((d) => d.max))).toBeLessThan(14);
  // a person-sized object changes some cell by far more than any noise does
  const walking = differences('a person walking through (160 x 440, 90 px/s)');
  const distant = differences('a distant person standing nearly still (64 x 176, 8 px/s)');
  expect(Math.min(...walking.map((d) => d.max))).toBeGreaterThan(60);
  expect(Math.min(...distant.map((d) => d.max))).toBeGreaterThan(18);
});

test('a static scene is analysed once, lit or dark: every later frame is skipped as unchanged', async () => {
  expect(await sample('a static scene, lit (noise +-10 levels)')).toEqual({ analysed: 1, skipped: SECONDS - 1, samples: SECONDS });
  services.reset();
  services.kinesis.streams.add(DATA_ARN);
  expect(await sample('a static scene, dark (noise +-30 levels)')).toEqual({ analysed: 1, skipped: SECONDS - 1, samples: SECONDS });
});

test('a slow exposure change is analysed now and then, not at every frame', async () => {
  const { analysed } = await sample('a slow exposure change (+1 level a second)');
  expect(analysed).toBeGreaterThan(1); // the light drifts: the reference frame is renewed
  expect(analysed).toBeLessThanOrEqual(SECONDS / 2);
});

test('a person-sized object is never skipped, walking or nearly still and far away', async () => {
  expect(await sample('a person walking through (160 x 440, 90 px/s)')).toMatchObject({ analysed: SECONDS });
  services.reset();
  services.kinesis.streams.add(DATA_ARN);
  expect(await sample('a distant person standing nearly still (64 x 176, 8 px/s)')).toMatchObject({ analysed: SECONDS });
});
