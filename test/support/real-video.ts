/**
 * Real camera-like video for the frame sampler, made at test time with ffmpeg: a photograph (the
 * public-domain fixture, test/fixtures/faces) as the scene at 1280x720, with temporal sensor noise
 * (ffmpeg's noise filter, seeded), optionally a slow exposure ramp or a person-sized object walking
 * through, encoded with libx264 (P-frames, a keyframe a second, CRF 30: visible compression), then
 * decoded as GetImages would serve it: one JPEG a second at the stream's own size.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import { SamplerServices, seedState, VIDEO_ARN } from './frame-sampler-harness';
import { FFMPEG } from './media-tools';

export const SCENE_PHOTO = path.join(__dirname, '..', 'fixtures', 'faces', 'astronaut.jpg');
export const WIDTH = 1280;
export const HEIGHT = 720;
const FPS = 5;

export interface SceneOptions {
  /** ffmpeg noise filter amplitude (uniform, +-levels): 10 a lit room, 30 a dark one. */
  readonly noise: number;
  /** Brightness added per second (ffmpeg eq brightness units: 1 = 255 levels). */
  readonly exposurePerSecond?: number;
  /** A person-sized block (w x h pixels, dark grey) walking left to right at this many pixels a second, from x0. */
  readonly walker?: { readonly width: number; readonly height: number; readonly x0: number; readonly pxPerSecond: number };
  readonly seconds: number;
}

/** The H.264 MKV of a scene, in `dir`. */
export function sceneVideo(dir: string, name: string, o: SceneOptions): string {
  const out = path.join(dir, `${name}.mkv`);
  let graph = `[0]scale=${WIDTH}:${HEIGHT}:force_original_aspect_ratio=increase,crop=${WIDTH}:${HEIGHT},format=yuv420p`;
  if (o.exposurePerSecond) {
    graph += `,eq=brightness='t*${o.exposurePerSecond}':eval=frame`;
  }
  graph += `,noise=alls=${o.noise}:allf=t:all_seed=7`;
  const inputs = ['-loop', '1', '-framerate', String(FPS), '-i', SCENE_PHOTO];
  if (o.walker) {
    const w = o.walker;
    inputs.push('-f', 'lavfi', '-i', `color=c=0x505050:s=${w.width}x${w.height}:r=${FPS}`);
    graph += `[bg];[bg][1]overlay=x='${w.x0}+t*${w.pxPerSecond}':y=${HEIGHT - w.height - 40}`;
  }
  execFileSync(FFMPEG, ['-v', 'error', '-y', ...inputs, '-filter_complex', graph, '-t', String(o.seconds),
    '-c:v', 'libx264', '-preset', 'ultrafast', '-crf', '30', '-g', String(FPS), '-bf', '0', out], { stdio: ['ignore', 'ignore', 'pipe'] });
  return out;
}

/** One JPEG a second of the video (GetImages' JPEG at the stream's size), in time order. */
export function jpegsPerSecond(video: string, width = WIDTH): Buffer[] {
  const dir = `${video}.frames`;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir);
  execFileSync(FFMPEG, ['-v', 'error', '-i', video, '-vf', `fps=1,scale=${width}:-2`, '-q:v', '4', path.join(dir, '%03d.jpg')], { stdio: ['ignore', 'ignore', 'pipe'] });
  return readdirSync(dir).sort().map((f) => readFileSync(path.join(dir, f)));
}

/**
 * Serves `jpegs` (one a second) from the local GetImages as the camera's stored video, starting
 * 400 s ago on a fragment boundary, and sets the camera's state to sample it from its start.
 */
export function serveJpegsPerSecond(services: SamplerServices, jpegs: Buffer[]): void {
  const start = Math.floor((Date.now() - 400_000) / 2000) * 2000;
  services.kvs.addStream({
    arn: VIDEO_ARN,
    retentionHours: 24,
    media: [[start, start + jpegs.length * 1000]],
    render: (t) => jpegs[Math.min(jpegs.length - 1, Math.floor((t - start) / 1000))],
  });
  seedState(services.dynamodb, { position: { N: String(start - 1000) } });
}
