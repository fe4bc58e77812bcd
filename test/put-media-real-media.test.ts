/**
 * Real H.264 MKVs through the bundled put-media CLI: files written by ffmpeg (its default matroska
 * muxer) and by GStreamer's matroskamux with streamable=true (as kvssink writes), at several sizes,
 * frame rates and keyframe intervals, streamed to the local PutMedia endpoint. Every Cluster an
 * independent reader (test/support/mkv-reader.ts) finds in the file is sent and acknowledged
 * PERSISTED with its own timecode. Files that break a fragment rule (a first frame that is not a
 * keyframe; open-GOP B-frames; ffmpeg's Clusters cut by size when it writes to a pipe) end with
 * exit 7 and its message, never a hang. B-frames in closed GOPs (x264's default) break no rule:
 * Rekognition Video reads I, B and P frames, and every fragment still starts on an I-frame.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { cliEnv } from './support/cli-env';
import { FakeKinesisVideo } from './support/fake-kinesis-video';
import { ffmpegMkv, FFMPEG, gstreamerMkv, VideoOptions } from './support/media-tools';
import { readMkv } from './support/mkv-reader';
import { checkIam } from './support/iam-check';
import { cliDeployment, role } from './support/iam-deployments';

// every AWS call the CLI makes is evaluated against the synthesized policies (test/support/iam-check.ts)
checkIam({ deployment: cliDeployment, callers: { AKIDEXAMPLE: role(/Uploader\/Resource$/) } });

const CLI = path.join(__dirname, '..', 'assets', 'cli', 'index.js');
let kvs: FakeKinesisVideo;
let endpoint: string;
let dir: string;

beforeAll(async () => {
  kvs = new FakeKinesisVideo();
  endpoint = await kvs.start();
  dir = mkdtempSync(path.join(tmpdir(), 'real-media-'));
});
afterAll(async () => {
  await kvs.stop();
  rmSync(dir, { recursive: true, force: true });
});
beforeEach(() => {
  kvs.reset();
  kvs.streams.add('front-door');
});

interface Run {
  readonly code: number | null;
  readonly stderr: string;
}

/** put-media with `args`; `stdin` piped from another process's stdout when given. */
function putMedia(args: string[], stdinFrom?: NodeJS.ReadableStream): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, 'put-media', '--stream', 'front-door', '--ack-timeout', '20', ...args], {
      env: cliEnv(endpoint, dir),
    });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.stdout.resume();
    if (stdinFrom) {
      // a put-media that stops reading (exit 7 part way) closes the pipe, as for a shell's `ffmpeg | put-media`:
      // the writer's EPIPE is that, not a failure of the test (any other error still is)
      child.stdin.on('error', (error: NodeJS.ErrnoException) => {
        if (error.code !== 'EPIPE') throw error;
      });
      stdinFrom.pipe(child.stdin);
    } else {
      child.stdin.end();
    }
    child.on('close', (code) => {
      // the writer (ffmpeg) is told too: its pipe is closed, and it stops
      (stdinFrom as NodeJS.ReadableStream & { destroy?: () => void } | undefined)?.destroy?.();
      resolve({ code, stderr });
    });
  });
}

/** What the fake acknowledged PERSISTED, by fragment timecode, in order. */
const persisted = () => kvs.sessions.flatMap((session) => session.acks).filter((a: any) => a.EventType === 'PERSISTED').map((a: any) => a.FragmentTimecode);

/** [name, tool, video, ffmpeg's extra encoder flags] */
const cases: Array<[string, 'ffmpeg' | 'gstreamer', VideoOptions, string[]]> = [
  ['ffmpeg 320x240 15 fps, a keyframe a second', 'ffmpeg', { width: 320, height: 240, fps: 15, gop: 15, seconds: 4 }, []],
  ['ffmpeg 640x360 30 fps, a keyframe every 2 s', 'ffmpeg', { width: 640, height: 360, fps: 30, gop: 60, seconds: 6 }, []],
  ['ffmpeg 160x120 10 fps, a keyframe every 0.5 s', 'ffmpeg', { width: 160, height: 120, fps: 10, gop: 5, seconds: 3 }, []],
  ['ffmpeg 320x240 25 fps with B-frames in closed GOPs (x264 default)', 'ffmpeg', { width: 320, height: 240, fps: 25, gop: 25, seconds: 4 }, ['-bf', '3']],
  ['GStreamer matroskamux streamable=true 320x240 15 fps, key-int-max 15', 'gstreamer', { width: 320, height: 240, fps: 15, gop: 15, seconds: 4 }, []],
  ['GStreamer matroskamux streamable=true 640x480 30 fps, key-int-max 45', 'gstreamer', { width: 640, height: 480, fps: 30, gop: 45, seconds: 5 }, []],
  ['GStreamer matroskamux streamable=true 1280x720 5 fps, key-int-max 10', 'gstreamer', { width: 1280, height: 720, fps: 5, gop: 10, seconds: 4 }, []],
];

test.each(cases)('%s: every Cluster sent and acknowledged PERSISTED with its timecode', async (name, tool, options, extra) => {
  const file = path.join(dir, `${name.replace(/[^a-z0-9]+/gi, '-')}.mkv`);
  if (tool === 'ffmpeg') {
    ffmpegMkv(file, options, extra);
  } else {
    gstreamerMkv(file, options);
  }
  const bytes = readFileSync(file);
  const mkv = readMkv(bytes);
  expect(mkv.timecodeScale).toBe(1_000_000);
  // the file is what the case says: one Cluster per keyframe interval, each starting on a keyframe
  const gopMs = Math.round((options.gop / options.fps) * 1000);
  expect(mkv.clusters.length).toBe(Math.ceil((options.fps * options.seconds) / options.gop));
  expect(mkv.clusters.every((c) => c.frames[0].keyframe)).toBe(true);
  expect(mkv.clusters.reduce((n, c) => n + c.frames.length, 0)).toBe(options.fps * options.seconds);
  const timecodes = mkv.clusters.map((c) => c.timecode);
  timecodes.forEach((tc, k) => expect(Math.abs(tc - k * gopMs)).toBeLessThanOrEqual(1));

  const run = await putMedia(['--file', file]);
  expect(run).toEqual({ code: 0, stderr: expect.stringContaining(`done: ${bytes.length} bytes sent, ${timecodes.length} fragments persisted`) });
  expect(kvs.sessions).toHaveLength(1);
  expect(kvs.sessions[0].body.equals(bytes)).toBe(true);
  expect(persisted()).toEqual(timecodes);
});

/** ffmpeg writing Matroska to a pipe, into put-media's standard input. */
function ffmpegPipe(muxerFlags: string[]) {
  return spawn(FFMPEG, ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=15', '-t', '4', '-c:v', 'libx264', '-preset', 'ultrafast',
    '-pix_fmt', 'yuv420p', '-bf', '0', '-g', '15', ...muxerFlags, '-f', 'matroska', '-'], { stdio: ['ignore', 'pipe', 'inherit'] }).stdout;
}

test('ffmpeg piped into put-media with the README\'s muxer flags: one fragment per keyframe, every one persisted', async () => {
  const run = await putMedia(['-'], ffmpegPipe(['-cluster_size_limit', '10M', '-cluster_time_limit', '10000']));
  const mkv = readMkv(kvs.sessions[0].body);
  expect(mkv.clusters.map((c) => [c.timecode, c.frames[0].keyframe])).toEqual([[0, true], [1000, true], [2000, true], [3000, true]]);
  expect(run).toEqual({ code: 0, stderr: expect.stringContaining('4 fragments persisted') });
  expect(persisted()).toEqual([0, 1000, 2000, 3000]);
});

test('ffmpeg piped without them starts Clusters between keyframes (32 KB each): exit 7, with the flags to use', async () => {
  const run = await putMedia(['-'], ffmpegPipe([]));
  expect(run.code).toBe(7);
  expect(run.stderr).toMatch(/the fragment at timecode \d+ does not start with a keyframe; sending stopped there/);
  expect(run.stderr).toContain('-cluster_size_limit 10M -cluster_time_limit 10000');
});

test('an ffmpeg file that does not start with a keyframe: exit 7 naming the fragment, nothing persisted', async () => {
  const source = path.join(dir, 'source.mkv');
  ffmpegMkv(source, { width: 320, height: 240, fps: 15, gop: 15, seconds: 3 });
  // cut 0.4 s in, copying the frames before the next keyframe too: the first Cluster starts on a P-frame
  const cut = path.join(dir, 'cut.mkv');
  execFileSync(FFMPEG, ['-v', 'error', '-y', '-i', source, '-ss', '0.4', '-copyinkf', '-c', 'copy', cut]);
  const mkv = readMkv(readFileSync(cut));
  expect(mkv.clusters[0].frames[0].keyframe).toBe(false);
  const run = await putMedia(['--file', cut]);
  expect(run.code).toBe(7);
  expect(run.stderr).toContain(`the fragment at timecode ${mkv.clusters[0].timecode} does not start with a keyframe`);
  expect(persisted()).toEqual([]);
});

test('an ffmpeg file with open-GOP B-frames: exit 7 at the first fragment holding frames of the one before', async () => {
  const file = path.join(dir, 'open-gop.mkv');
  ffmpegMkv(file, { width: 320, height: 240, fps: 30, gop: 30, seconds: 4 }, ['-bf', '3', '-x264-params', 'open-gop=1']);
  const mkv = readMkv(readFileSync(file));
  const bad = mkv.clusters.findIndex((c) => c.frames.some((f) => f.timecode < c.timecode));
  expect(bad).toBeGreaterThan(0);
  const run = await putMedia(['--file', file]);
  expect(run.code).toBe(7);
  expect(run.stderr).toContain(`the fragment at timecode ${mkv.clusters[bad].timecode} has a frame at timecode`);
  expect(run.stderr).toContain('B-frames of an open GOP');
  expect(persisted()).not.toContain(mkv.clusters[bad].timecode);
});
