/**
 * The frame-sampling engine's frugality over a scripted camera-hour (a quiet scene with sensor
 * noise and a slow light drift, and two visits of two people walking by), run through the bundled
 * sampler (assets/frame-sampler/index.js) against the local fakes (GetImages, DetectFaces,
 * SearchFacesByImage, PutRecords, DynamoDB), at one frame per second:
 * - Rekognition calls per camera-hour, against the naive baseline of one DetectFaces per frame
 *   plus one SearchFacesByImage per face of each frame (target: at most 10%), and no missed visit;
 * - the sampler's CPU per frame fetched, against just decoding that frame's JPEG (measured in the
 *   same run): the fakes' own work (rendering and detecting) is measured and subtracted.
 * The two hours (faces mode, users mode) run at the same time, each in a process of its own with
 * fakes of its own (`node --import tsx bench/frame-sampling.bench.ts [users]` prints an hour's
 * figures as JSON): on two cores the module takes the time of one hour. The figures are call counts,
 * which the machine's load does not move, and CPU time (the faces-mode process's), not wall time.
 * The sampler bundle is never loaded in the bench runner's process, whose later modules load it
 * with endpoints of their own.
 */
import { spawn } from 'node:child_process';
import type { Context } from 'aws-lambda';
import * as jpeg from 'jpeg-js';
import { startSamplerServices } from '../test/support/frame-sampler-harness';
import { renderFrame, SceneFace } from '../test/support/frames';
import { BenchContext, median, root, Row } from './common';
import * as path from 'node:path';

const W = 640;
const H = 360;
const HOUR_S = 3600;
const VISITS: Array<[number, number]> = [
  [900, 960],
  [2700, 2745],
];
const VIDEO_ARN = 'arn:aws:kinesisvideo:us-west-2:123456789012:stream/bench/1700000000000';
const DATA_ARN = 'arn:aws:kinesis:us-west-2:123456789012:stream/bench-faces';

function facesAt(s: number): SceneFace[] {
  for (const [from, to] of VISITS) {
    if (s >= from && s < to) {
      const k = s - from;
      return [
        { person: 'alice', x: 30 + k * 8, y: 100, size: 80 },
        { person: 'bob', x: 560 - k * 8, y: 150, size: 70 },
      ];
    }
  }
  return [];
}

/**
 * Sensor noise cycles through this many patterns: consecutive frames still differ by noise (and
 * the light drifts), but the fake renders and encodes each distinct frame once (about 330 of
 * 3,600), so that the bench's time goes to the sampler it measures, not to the fake's JPEG encoder.
 */
const NOISE_PATTERNS = 8;

const rendered = new Map<string, Buffer>();

function frame(pattern: number, light: number, faces: SceneFace[]): Buffer {
  const key = JSON.stringify([pattern, light, faces]);
  let jpegBytes = rendered.get(key);
  if (!jpegBytes) {
    jpegBytes = renderFrame({ width: W, height: H, noise: 3, seed: 1 + pattern * 997, light, faces });
    rendered.set(key, jpegBytes);
  }
  return jpegBytes;
}

/**
 * The fakes' own work (rendering and detecting), not the sampler's: measured and subtracted, as CPU
 * time (not wall time: on a busy machine wall time counts other processes' turns too).
 */
let fakeNs = 0n;
function timed<T>(fn: () => T): T {
  const t = process.cpuUsage();
  try {
    return fn();
  } finally {
    const used = process.cpuUsage(t);
    fakeNs += BigInt(used.user + used.system) * 1000n;
  }
}

type Services = Awaited<ReturnType<typeof startSamplerServices>>;

/**
 * One camera-hour through the bundled sampler, in faces mode or users mode (SearchUsersByImage).
 * The services are the same for both runs: the bundle's SDK clients keep the endpoints they were
 * loaded with.
 */
async function sampleHour(services: Services, identity?: 'users') {
  services.reset();
  const { kvs, rekognition, kinesis, dynamodb } = services;
  const start = Math.floor((Date.now() - (HOUR_S + 120) * 1000) / 2000) * 2000;
  kvs.addStream({
    arn: VIDEO_ARN,
    retentionHours: 24,
    media: [[start, start + HOUR_S * 1000]],
    render: (t) => timed(() => frame(Math.floor(t / 1000) % NOISE_PATTERNS, Math.round(((t - start) / 1000 / HOUR_S) * 20), facesAt(Math.floor((t - start) / 1000)))),
  });
  rekognition.collections.clear();
  rekognition.users.clear();
  // each person has three pictures: three faces, and in users mode one user built from them
  for (const person of ['alice', 'bob']) {
    rekognition.enrolUser('faces', person, [1, 2, 3].map((i) => `face-${person}-${i}`));
  }
  kinesis.streams.add(DATA_ARN);
  dynamodb.tables.set('state', new Map([['camera|bench', { pk: { S: 'camera|bench' }, position: { N: String(start - 1000) } }]]));

  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { handler } = require(path.join(root, 'assets', 'frame-sampler', 'index.js'));
  const input = {
    camera: 'bench', stateKey: 'camera|bench', videoStreamArn: VIDEO_ARN, dataStreamArn: DATA_ARN, collectionId: 'faces',
    faceMatchThreshold: 80, samplingIntervalMs: 1000, imageWidth: 0, minFaceConfidence: 90, minFaceWidth: 0.04, maxFacesPerFrame: 5,
    ...(identity ? { identity } : {}),
  };
  const cpu0 = process.cpuUsage();
  const wall0 = process.hrtime.bigint();
  fakeNs = 0n;
  let invocations = 0;
  for (;;) {
    invocations++;
    const out = await handler(input, { awsRequestId: `bench-${invocations}`, getRemainingTimeInMillis: () => 3_600_000 } as unknown as Context);
    if (out.position >= start + HOUR_S * 1000 - 1000 || invocations > 20) break;
  }
  const cpu = process.cpuUsage(cpu0);
  const cpuMs = (cpu.user + cpu.system) / 1000 - Number(fakeNs) / 1e6;
  const wallMs = Number(process.hrtime.bigint() - wall0) / 1e6;

  const detect = rekognition.count('DetectFaces');
  const search = rekognition.count(identity ? 'SearchUsersByImage' : 'SearchFacesByImage');
  // visits seen: each visit has a record naming each person
  const records = kinesis.json(DATA_ARN);
  const seen = (from: number, to: number, person: string) =>
    records.some((r) => {
      const s = r.InputInformation.KinesisVideo.ProducerTimestamp - start / 1000;
      return s >= from && s < to + 1 && r.FaceSearchResponse.some((f: any) => f.MatchedFaces[0]?.Face.ExternalImageId === person);
    });
  const missed = VISITS.flatMap(([from, to]) => ['alice', 'bob'].filter((p) => !seen(from, to, p)).map((p) => `${p}@${from}s`));
  // matches per matched face reported: three faces per person in faces mode, one user in users mode
  const matched = records.flatMap((r) => r.FaceSearchResponse).filter((f: any) => f.MatchedFaces.length > 0);
  const matchesPerFace = matched.reduce((n: number, f: any) => n + f.MatchedFaces.length, 0) / Math.max(1, matched.length);
  const fetched = kvs.imagesServed;
  if (missed.length > 0) {
    throw new Error(`frame-sampling bench${identity ? ' (users mode)' : ''}: visits missed: ${missed.join(', ')}`);
  }
  return { detect, search, records: records.length, matchesPerFace, fetched, invocations, cpuMs, wallMs, fakeNs };
}

async function startServices(): Promise<Services> {
  const services = await startSamplerServices();
  Object.assign(process.env, {
    STATE_TABLE_NAME: 'state',
    REKOGNITION_TPS: '100000',
    MAX_CATCH_UP_SECONDS: '7200',
  });
  // the fake's detection (decode + flood fill) is its own work, not the sampler's
  const original = (services.rekognition as any).dispatch.bind(services.rekognition);
  (services.rekognition as any).dispatch = (op: string, body: Record<string, unknown>) => timed(() => original(op, body));
  return services;
}

type Hour = Awaited<ReturnType<typeof sampleHour>>;

/** One camera-hour with services of its own, in this process. */
async function hour(identity?: 'users'): Promise<Hour> {
  const services = await startServices();
  try {
    return await sampleHour(services, identity);
  } finally {
    await services.stop();
  }
}

/** One camera-hour in a process of its own (its last line of output is the JSON of the figures). */
function hourInProcess(identity: 'faces' | 'users'): Promise<Hour> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', __filename, identity], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('exit', (code) => {
      const last = out.trim().split('\n').pop() ?? '';
      if (code !== 0 || !last.startsWith('{')) {
        reject(new Error(`frame-sampling bench: the ${identity}-mode hour failed (exit ${code}): ${out.slice(-500)}`));
        return;
      }
      const parsed = JSON.parse(last) as Omit<Hour, 'fakeNs'> & { fakeNs: string };
      resolve({ ...parsed, fakeNs: BigInt(parsed.fakeNs) });
    });
  });
}

export async function bench(_ctx: BenchContext): Promise<Row[]> {
  // both hours at once, on two cores
  const [faces, users] = await Promise.all([hourInProcess('faces'), hourInProcess('users')]);
  const { detect, search, records, fetched, invocations, cpuMs, wallMs, fakeNs: fakeTime, matchesPerFace } = faces;
  let naiveSearch = 0;
  for (let s = 0; s < HOUR_S; s++) naiveSearch += facesAt(s).length;
  const naive = HOUR_S + naiveSearch;
  const ours = detect + search;

  // baseline: decoding one frame's JPEG
  const sample = renderFrame({ width: W, height: H, noise: 3, seed: 7 });
  const decodes: number[] = [];
  for (let i = 0; i < 41; i++) {
    const t = process.cpuUsage();
    jpeg.decode(sample, { useTArray: true, formatAsRGBA: true });
    const used = process.cpuUsage(t);
    decodes.push((used.user + used.system) / 1000);
  }
  const decodeMs = median(decodes);
  const analysed = detect;
  return [
    {
      benchmark: 'frame-sampling',
      subject: `Rekognition calls per camera-hour at 1 s (${detect} DetectFaces + ${search} SearchFacesByImage)`,
      baseline: `naive: a DetectFaces per frame + a search per face (${HOUR_S} + ${naiveSearch})`,
      ratio: ours / naive,
      detail: `${ours} vs ${naive} calls; ${fetched} frames fetched, ${analysed} analysed, ${fetched - analysed} skipped unchanged; ${records} records; no visit missed (2 visits x 2 people); ${invocations} invocation(s), ${(wallMs / 1000).toFixed(1)} s wall`,
    },
    {
      benchmark: 'frame-sampling',
      subject: `users mode (FaceIdentity.users()): Rekognition calls per camera-hour (${users.detect} DetectFaces + ${users.search} SearchUsersByImage)`,
      baseline: `faces mode, the same hour (${detect} DetectFaces + ${search} SearchFacesByImage)`,
      ratio: (users.detect + users.search) / ours,
      detail: `matches per matched face: ${users.matchesPerFace.toFixed(1)} (one user per person) vs ${matchesPerFace.toFixed(1)} (each of a person's 3 pictures); ${users.records} vs ${records} records; no visit missed`,
    },
    {
      benchmark: 'frame-sampling',
      subject: 'sampler CPU per frame fetched (decode, thumbnail, compare, tracking, crops, SDK calls)',
      baseline: `decoding the frame's JPEG alone (${W}x${H}, jpeg-js, ${decodeMs.toFixed(2)} ms median)`,
      ratio: cpuMs / fetched / decodeMs,
      detail: `${(cpuMs / fetched).toFixed(2)} ms per frame fetched over ${fetched} frames (the fakes' rendering and detection, ${(Number(fakeTime) / 1e6 / 1000).toFixed(1)} s, subtracted)`,
    },
  ];
}

if (require.main === module) {
  hour(process.argv[2] === 'users' ? 'users' : undefined).then(
    (result) => process.stdout.write(`\n${JSON.stringify({ ...result, fakeNs: String(result.fakeNs) })}\n`, () => process.exit(0)),
    (error) => {
      console.error(error);
      process.exit(1);
    },
  );
}
