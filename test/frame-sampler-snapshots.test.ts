/**
 * Snapshots of the bundled frame sampler (assets/frame-sampler/index.js), through the real AWS SDK
 * v3 clients against local Kinesis Video Streams, Rekognition, Kinesis, DynamoDB and S3 servers, and
 * on through the bundled consumer to events: the face JPEG is the face's box plus the margin (pixel
 * content compared with the rendered frame), the frame JPEG is the analysed frame, the keys are in the
 * record and in the event, one sighting per person and de-duplication window is stored (the one the
 * consumer sends), and an S3 refusal loses nothing.
 */
import * as jpeg from 'jpeg-js';
import { SNAPSHOT_METRICS } from '../lib/metric-names';
import { validateRecord } from '../lib/runtime/face-records/parser';
import { snapshotKeys } from '../lib/runtime/shared/snapshot-keys';
import { ConsumerServices, kinesisEvent, kinesisRecord, loadConsumer, startServices } from './support/consumer-harness';
import { check, readmeSchema } from './support/event-schema';
import { FakeS3 } from './support/fake-s3';
import { PALETTE, renderFrame, renderPixels, SceneFace } from './support/frames';
import { cameraInput, COLLECTION, context, DATA_ARN, loadSampler, SamplerServices, seedState, startSamplerServices, VIDEO_ARN } from './support/frame-sampler-harness';
import { checkIam } from './support/iam-check';
import { samplerSnapshotsDeployment, samplerSnapshotsRole } from './support/iam-deployments';

// the sampler's calls (AKIDEXAMPLE) are checked against the policies of a stack with snapshots on; the
// consumer's (AKIDCONSUMER) against its own deployment in test/face-consumer-handler.test.ts
checkIam({ deployment: samplerSnapshotsDeployment, callers: { AKIDEXAMPLE: samplerSnapshotsRole }, ignoreKeys: ['AKIDCONSUMER'] });

const BUCKET = 'snapshots-bucket';
const PREFIX = 'snapshots/';
const MARGIN = 0.25;
const WINDOW_SECONDS = 10;
/** The camera's schedule input of the deployment checked (its pipeline's key encrypts the bucket). */
const snapshots = { bucket: BUCKET, prefix: PREFIX, faceMargin: MARGIN, quality: 85, windowSeconds: WINDOW_SECONDS, kmsKeyArn: 'arn:aws:kms:us-west-2:123456789012:key/snapshots-key' };

let consumer: ConsumerServices;
let services: SamplerServices;
const s3 = new FakeS3();

beforeAll(async () => {
  consumer = await startServices();
  services = await startSamplerServices(consumer.dynamodb);
  process.env.AWS_ENDPOINT_URL_S3 = await s3.start();
  process.env.S3_FORCE_PATH_STYLE = 'true';
});
afterAll(async () => {
  await s3.stop();
  await services.stop();
  await consumer.stop();
});
beforeEach(() => {
  consumer.reset();
  services.reset();
  s3.reset();
  services.kinesis.streams.add(DATA_ARN);
  services.rekognition.enrol(COLLECTION, 'alice', 'face-alice-1');
  services.rekognition.enrol(COLLECTION, 'bob', 'face-bob-1');
});

const W = 480;
const H = 270;
jest.setTimeout(120_000);
const t0 = () => Math.floor((Date.now() - 400_000) / 2000) * 2000;

/**
 * 30 s of video: alice walks in at the frame's left edge (2-22 s, so her first snapshot's margin is
 * clipped by the edge), bob stands at the right (5-9 s), a stranger passes (12-14 s).
 */
function scene(sinceMs: number): SceneFace[] {
  const s = Math.floor(sinceMs / 1000);
  const faces: SceneFace[] = [];
  if (s >= 2 && s < 22) faces.push({ person: 'alice', x: 4 + (s - 2) * 6, y: 80, size: 72 });
  if (s >= 5 && s < 9) faces.push({ person: 'bob', x: 360, y: 100, size: 64 });
  if (s >= 12 && s < 14) faces.push({ person: 'stranger', x: 220, y: 150, size: 64 });
  return faces;
}
const sceneAt = (start: number, t: number) => ({ width: W, height: H, noise: 3, seed: t % 7919, faces: scene(t - start) });

function addVideo(start: number): void {
  services.kvs.addStream({ arn: VIDEO_ARN, retentionHours: 24, media: [[start, start + 30_000]], mediaErrors: new Set(), render: (t) => renderFrame(sceneAt(start, t)) });
}

const decode = (bytes: Buffer) => jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true });

/** Mean absolute difference of the RGB channels of a decoded image and a region of an RGBA frame. */
function meanDifference(image: { width: number; height: number; data: Uint8Array }, frame: Buffer, frameWidth: number, x: number, y: number): number {
  let sum = 0;
  for (let row = 0; row < image.height; row++) {
    for (let col = 0; col < image.width; col++) {
      const a = (row * image.width + col) * 4;
      const b = ((y + row) * frameWidth + x + col) * 4;
      for (let c = 0; c < 3; c++) sum += Math.abs(image.data[a + c] - frame[b + c]);
    }
  }
  return sum / (image.width * image.height * 3);
}

/** What the parser makes of a record's face i: the sighting id (face-records/parser.ts). */
const sightingId = (record: any, i: number) => {
  const kv = record.InputInformation.KinesisVideo;
  return `${kv.StreamArn}|${kv.FragmentNumber}|${kv.ProducerTimestamp}|${kv.FrameOffsetInSeconds}|${i}`;
};

async function consume() {
  const handler = loadConsumer(consumer, { dedupeWindowSeconds: WINDOW_SECONDS });
  process.env.AWS_ACCESS_KEY_ID = 'AKIDCONSUMER';
  try {
    return await handler(kinesisEvent(services.kinesis.records.map((r) => kinesisRecord(r.data.toString('base64')))));
  } finally {
    process.env.AWS_ACCESS_KEY_ID = 'AKIDEXAMPLE';
  }
}

/** Runs the sampler with its EMF output captured: answers the sum of each metric published. */
async function sampleWithMetrics(input: object): Promise<Record<string, number>> {
  process.env.POWERTOOLS_METRICS_DISABLED = 'false';
  const handler = loadSampler();
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
  const lines: string[] = [];
  const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: any) => {
    lines.push(String(chunk));
    return true;
  });
  const log = jest.spyOn(console, 'log').mockImplementation((...args: unknown[]) => {
    lines.push(args.map(String).join(' '));
  });
  try {
    const result = await handler(input, context());
    expect(result.stoppedEarly).toBeUndefined();
  } finally {
    spy.mockRestore();
    log.mockRestore();
  }
  const sums: Record<string, number> = {};
  for (const line of lines.flatMap((l) => l.split('\n')).map((l) => l.trim()).filter((l) => l.includes('"_aws"'))) {
    const emf = JSON.parse(line);
    for (const m of emf._aws.CloudWatchMetrics[0].Metrics) {
      const value = emf[m.Name];
      sums[m.Name] = (sums[m.Name] ?? 0) + (Array.isArray(value) ? value.reduce((a: number, b: number) => a + b, 0) : value);
    }
  }
  return sums;
}

test('face and frame stored before the record, named in it and in the event: the face box plus the margin, the analysed frame, one per person and window', async () => {
  const start = t0();
  addVideo(start);
  seedState(services.dynamodb, { position: { N: String(start - 1000) } });

  const metrics = await sampleWithMetrics(cameraInput({ snapshots }));

  const records = services.kinesis.json(DATA_ARN);
  expect(records.length).toBe(20); // alice's 20 s (bob and the stranger are within them)
  const named: Array<{ record: any; i: number; time: number; person: string; snapshot: any }> = [];
  for (const record of records) {
    expect(() => validateRecord(record)).not.toThrow();
    record.FaceSearchResponse.forEach((face: any, i: number) => {
      if (face.Snapshot) {
        named.push({ record, i, time: record.InputInformation.KinesisVideo.ProducerTimestamp * 1000 - start, person: face.MatchedFaces[0]?.Face.ExternalImageId ?? 'unknown', snapshot: face.Snapshot });
      }
    });
  }
  // the sightings that open a window of the consumer's de-duplication (10 s): alice at 2 s and 12 s, bob at 5 s, the stranger at 12 s
  expect(named.map((n) => `${n.person}@${n.time / 1000}`).sort()).toEqual(['alice@12', 'alice@2', 'bob@5', 'unknown@12']);
  expect(metrics[SNAPSHOT_METRICS.STORED]).toBe(4);
  expect(metrics[SNAPSHOT_METRICS.FAILED] ?? 0).toBe(0);

  for (const n of named) {
    const keys = snapshotKeys(PREFIX, 'front-door', sightingId(n.record, n.i));
    expect(n.snapshot).toEqual({ Bucket: BUCKET, FaceKey: keys.faceKey, FrameKey: keys.frameKey });
    expect(keys.faceKey).toMatch(new RegExp(`^snapshots/front-door/${new Date(start + n.time).toISOString().slice(0, 10)}/${start + n.time}-${n.i}-[0-9a-f]{16}/face\\.jpg$`));
    const face = s3.object(BUCKET, keys.faceKey)!;
    const frame = s3.object(BUCKET, keys.frameKey)!;
    expect(face.contentType).toBe('image/jpeg');
    expect(frame.contentType).toBe('image/jpeg');

    // the frame: the very image GetImages answered for that time, pixel for pixel
    const analysed = renderFrame(sceneAt(start, start + n.time));
    expect(frame.body.equals(analysed)).toBe(true);
    const decodedFrame = decode(frame.body);
    expect(Buffer.from(decodedFrame.data).equals(Buffer.from(decode(analysed).data))).toBe(true);

    // the face: the scene's square plus a quarter of its size on each side, clipped at the frame's edge
    const square = scene(n.time).find((f) => (n.person === 'unknown' ? f.person === 'stranger' : f.person === n.person))!;
    const pad = square.size * MARGIN;
    const x = Math.max(0, Math.round(square.x - pad));
    const y = Math.max(0, Math.round(square.y - pad));
    const right = Math.min(W, Math.round(square.x + square.size + pad));
    const bottom = Math.min(H, Math.round(square.y + square.size + pad));
    const image = decode(face.body);
    expect(Math.abs(image.width - (right - x))).toBeLessThanOrEqual(2);
    expect(Math.abs(image.height - (bottom - y))).toBeLessThanOrEqual(2);
    // its pixels are the rendered frame's there (JPEG twice: a small mean difference), and not another region's
    const pixels = renderPixels(sceneAt(start, start + n.time));
    expect(meanDifference(image, pixels, W, x, y)).toBeLessThan(6);
    expect(meanDifference(image, pixels, W, Math.min(W - image.width, x + 40), y)).toBeGreaterThan(20);
    // the person's colour at the centre, the background in the margin
    const at = (px: number, py: number) => Array.from(image.data.slice((py * image.width + px) * 4, (py * image.width + px) * 4 + 3));
    const colour = PALETTE[square.person];
    at(Math.floor(image.width / 2), Math.floor(image.height / 2)).forEach((v, c) => expect(Math.abs(v - colour[c])).toBeLessThan(20));
    const [r, g, b] = at(image.width - 3, Math.floor(image.height / 2));
    expect(Math.max(r, g, b) - Math.min(r, g, b)).toBeLessThan(20); // grey background
  }
  // alice's first face, at the left edge: the margin is clipped there (4 px of it instead of 18)
  const first = named.find((n) => n.person === 'alice' && n.time === 2000)!;
  expect(decode(s3.object(BUCKET, first.snapshot.FaceKey)!.body).width).toBe(4 + 72 + 18);
  // nothing stored but what the records name
  expect(s3.keys(BUCKET)).toEqual(named.flatMap((n) => [n.snapshot.FaceKey, n.snapshot.FrameKey]).sort());

  // through the consumer (de-duplication window 10 s, as the sampler was told): every event has its pictures
  expect(await consume()).toEqual({ batchItemFailures: [] });
  const events = consumer.eventBridge.events;
  expect(events.map((e) => `${e.Detail.match?.externalImageId ?? 'unknown'}@${(Date.parse(e.Detail.frameTime) - start) / 1000}`).sort()).toEqual(['alice@12', 'alice@2', 'bob@5', 'unknown@12']);
  const schema = readmeSchema();
  for (const e of events) {
    expect(check(schema, e.Detail, schema)).toEqual([]);
    const keys = snapshotKeys(PREFIX, 'front-door', e.Detail.id);
    expect(e.Detail.snapshot).toEqual({ bucket: BUCKET, faceKey: keys.faceKey, frameKey: keys.frameKey });
    expect(s3.exists(BUCKET, keys.faceKey) && s3.exists(BUCKET, keys.frameKey)).toBe(true);
  }
  expect(consumer.sqs.bodies()).toEqual([]);
});

test('window 0 (no de-duplication): every sighting stored', async () => {
  const start = t0();
  addVideo(start);
  seedState(services.dynamodb, { position: { N: String(start - 1000) } });
  await loadSampler()(cameraInput({ snapshots: { ...snapshots, windowSeconds: 0 } }), context());
  const faces = services.kinesis.json(DATA_ARN).flatMap((r) => r.FaceSearchResponse);
  expect(faces.length).toBe(20 + 4 + 2);
  expect(faces.every((f: any) => f.Snapshot)).toBe(true);
  expect(s3.keys(BUCKET)).toHaveLength(2 * faces.length);
});

test('the next invocation knows the windows: a person still in view is not stored again within the window', async () => {
  const start = t0();
  addVideo(start);
  seedState(services.dynamodb, { position: { N: String(start - 1000) } });
  const input = cameraInput({ snapshots });
  // a cold sampler each time (a new container): the window is known from the tracked faces in the state row
  await loadSampler()(input, context());
  const stored = s3.keys(BUCKET).length;
  const row = services.dynamodb.tables.get('sampler-state')!.get(input.stateKey)!;
  // stop mid-window: as if the invocation had ended at 7 s (alice's window 2-12 s, bob's 5-15 s still open)
  services.kinesis.reset();
  services.kinesis.streams.add(DATA_ARN);
  s3.reset();
  const tracks = JSON.parse(row.tracks.S!);
  expect(tracks.every((t: any) => typeof t.snapshotUntil === 'number')).toBe(true);
  seedState(services.dynamodb, { position: { N: String(start + 7000) }, tracks: { S: JSON.stringify([{ box: { Width: 72 / W, Height: 72 / H, Left: (4 + 5 * 6) / W, Top: 80 / H }, lastSeen: start + 7000, searchedAt: start + 2000, matches: [{ Similarity: 99, Face: { FaceId: 'face-alice-1', ExternalImageId: 'alice' } }], snapshotUntil: start + 12_000 }]) } });
  await loadSampler()(input, context());
  const people = services.kinesis
    .json(DATA_ARN)
    .flatMap((r) => r.FaceSearchResponse.filter((f: any) => f.Snapshot).map((f: any) => `${f.MatchedFaces[0]?.Face.ExternalImageId ?? 'unknown'}@${(r.InputInformation.KinesisVideo.ProducerTimestamp * 1000 - start) / 1000}`))
    .sort();
  // alice's window (2-12 s) came with her track: her next is at 12 s; bob's window is not in this row (seeded without `windows`, as rows written before
  // windows were saved), and his track ended at 9 s, so he is stored at 8 s (the next test: a row with its windows)
  expect(people).toEqual(['alice@12', 'bob@8', 'unknown@12']);
  expect(stored).toBe(8);
});

test('a person who left the view: the next invocation (another container) knows their window from the state row, and stores nothing no event will name', async () => {
  const start = t0();
  addVideo(start);
  seedState(services.dynamodb, { position: { N: String(start - 1000) } });
  const input = cameraInput({ snapshots });
  await loadSampler()(input, context());
  const row = services.dynamodb.tables.get('sampler-state')!.get(input.stateKey)!;
  const windows = JSON.parse(row.windows.S!);
  // the windows of the whole run are saved with the camera's state (those still open at its end)
  expect(Object.keys(windows).length).toBeGreaterThan(0);
  // as above, the run stopped at 7 s, bob's track gone from the saved faces; but the row keeps his window
  services.kinesis.reset();
  services.kinesis.streams.add(DATA_ARN);
  s3.reset();
  seedState(services.dynamodb, {
    position: { N: String(start + 7000) },
    tracks: { S: JSON.stringify([]) },
    windows: { S: JSON.stringify({ 'person:alice': start + 12_000, 'person:bob': start + 15_000, unknown: start + 12_000 }) },
  });
  await loadSampler()(input, context());
  const people = services.kinesis
    .json(DATA_ARN)
    .flatMap((r) => r.FaceSearchResponse.filter((f: any) => f.Snapshot).map((f: any) => `${f.MatchedFaces[0]?.Face.ExternalImageId ?? 'unknown'}@${(r.InputInformation.KinesisVideo.ProducerTimestamp * 1000 - start) / 1000}`))
    .sort();
  // bob's window (5-15 s) came with the row: he is not stored at 8 s (the consumer would drop that sighting), nor is anyone before their window ends
  expect(people.filter((p) => p.startsWith('bob@8'))).toEqual([]);
  for (const p of people) {
    const [who, at] = p.split('@');
    const end = { alice: 12, bob: 15, unknown: 12 }[who as 'alice' | 'bob' | 'unknown'];
    expect(Number(at)).toBeGreaterThanOrEqual(end);
  }
  expect(people).toContain('alice@12');
});

test('records that could not be written: the page is analysed again, and its pictures stored again under the same keys (windows open only once written)', async () => {
  const start = t0();
  addVideo(start);
  seedState(services.dynamodb, { position: { N: String(start - 1000) } });
  const handler = loadSampler({ RETRY_ATTEMPTS: '2' });
  const input = cameraInput({ snapshots });
  services.kinesis.failEntries = 1_000_000;
  try {
    await expect(handler(input, context())).rejects.toBeDefined();
  } finally {
    delete process.env.RETRY_ATTEMPTS;
  }
  expect(services.kinesis.records).toHaveLength(0);
  const storedFirst = s3.keys(BUCKET);
  expect(storedFirst.length).toBeGreaterThan(0);

  // the same container (its windows in memory) tries again: the sightings that open windows are the same
  services.kinesis.failEntries = 0;
  await handler(input, context());
  const named = services.kinesis
    .json(DATA_ARN)
    .flatMap((r) => r.FaceSearchResponse.filter((f: any) => f.Snapshot).map((f: any) => `${f.MatchedFaces[0]?.Face.ExternalImageId ?? 'unknown'}@${(r.InputInformation.KinesisVideo.ProducerTimestamp * 1000 - start) / 1000}`))
    .sort();
  expect(named).toEqual(['alice@12', 'alice@2', 'bob@5', 'unknown@12']);
  // the first attempt's pictures were overwritten, not doubled
  expect(s3.keys(BUCKET)).toHaveLength(8);
  expect(storedFirst.every((k) => s3.keys(BUCKET).includes(k))).toBe(true);
});

test('S3 refuses: every record and event is still there, without snapshot, and SnapshotsFailed counts them; a throttled put is retried', async () => {
  const start = t0();
  addVideo(start);
  seedState(services.dynamodb, { position: { N: String(start - 1000) } });
  s3.refusePuts('AccessDenied', 403);

  const metrics = await sampleWithMetrics(cameraInput({ snapshots }));

  const records = services.kinesis.json(DATA_ARN);
  expect(records.length).toBe(20);
  expect(records.flatMap((r) => r.FaceSearchResponse).length).toBe(26);
  expect(records.flatMap((r) => r.FaceSearchResponse).some((f: any) => f.Snapshot)).toBe(false);
  expect(metrics[SNAPSHOT_METRICS.FAILED]).toBe(4);
  expect(metrics[SNAPSHOT_METRICS.STORED] ?? 0).toBe(0);
  expect(s3.keys(BUCKET)).toEqual([]);
  expect(await consume()).toEqual({ batchItemFailures: [] });
  const events = consumer.eventBridge.events;
  expect(events).toHaveLength(4);
  expect(events.every((e) => e.Detail.snapshot === undefined)).toBe(true);

  // throttled (503 SlowDown) twice: the shared withRetry tries again, and the pictures are stored
  services.kinesis.reset();
  services.kinesis.streams.add(DATA_ARN);
  s3.reset();
  s3.refusePuts('SlowDown', 503, 2);
  seedState(services.dynamodb, { position: { N: String(start - 1000) } });
  await loadSampler()(cameraInput({ snapshots: { ...snapshots, windowSeconds: 60 } }), context());
  const stored = services.kinesis.json(DATA_ARN).flatMap((r) => r.FaceSearchResponse).filter((f: any) => f.Snapshot);
  expect(stored).toHaveLength(3); // alice, bob, the stranger: one window each
  expect(s3.keys(BUCKET)).toHaveLength(6);
});

test('a bad snapshots field of the schedule input is refused with the field named', async () => {
  const handler = loadSampler();
  expect(await handler(cameraInput({ snapshots: { ...snapshots, faceMargin: 2 } }), context())).toEqual({ skipped: 'schedule input field snapshots.faceMargin: expected a number 0-1, got 2' });
  expect(await handler(cameraInput({ snapshots: { ...snapshots, prefix: 'no-slash' } }), context())).toEqual({ skipped: 'schedule input field snapshots.prefix: expected empty or ending with "/", got "no-slash"' });
  expect(services.kvs.calls).toEqual([]);
});
