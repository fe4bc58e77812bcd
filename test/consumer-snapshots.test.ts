/**
 * Snapshots of stream-processor sightings, taken by the bundled consumer (assets/face-consumer/,
 * index.js loading snapshots.js) against local Kinesis Video Streams (GetDataEndpoint, GetImages),
 * S3 (PutObject), EventBridge, SQS and DynamoDB servers, through the real AWS SDK v3 clients: the
 * frame at the record's producer timestamp is fetched once per frame of a sighting that is sent
 * (never per record, never for a de-duplicated sighting), its face crop and the frame are stored,
 * and only then is the event sent, naming them. A snapshot that cannot be stored never costs the
 * event.
 */
import { execFile } from 'node:child_process';
import * as jpeg from 'jpeg-js';
import { recordWith, toData } from './fixtures/face-records';
import { CONSUMER_BUNDLE, ConsumerServices, DATA_STREAM_ARN, Gate, kinesisEvent, kinesisRecord, loadConsumer, startServices } from './support/consumer-harness';
import { check, readmeSchema } from './support/event-schema';
import { FakeKvsImages, ManualClock } from './support/fake-kvs-images';
import { FakeS3 } from './support/fake-s3';
import { renderFrame, renderPixels, Scene } from './support/frames';
import { checkIam } from './support/iam-check';
import { consumerSnapshotsDeployment, SNAPSHOT_OWN_VIDEO_ARN, snapshotConsumerRole } from './support/iam-deployments';

// every call the bundle makes is evaluated against the policies of a pipeline with snapshots on
checkIam({ deployment: consumerSnapshotsDeployment, callers: { AKIDEXAMPLE: snapshotConsumerRole } });

jest.setTimeout(60_000);

const BUCKET = 'snapshots-bucket';
const GARAGE_DATA_ARN = 'arn:aws:kinesis:us-west-2:123456789012:stream/garage-faces';
/** The pipeline's own video stream of camera front-door, as deployed (named with the pipeline's prefix). */
let frontDoorVideo: string;

let services: ConsumerServices;
const kvs = new FakeKvsImages();
const s3 = new FakeS3();

/** A frame's producer time on the fake's 200 ms frame grid, and the record's producer timestamp and offset giving it. */
const PRODUCER_S = 1700000000;
const OFFSET_S = 0.4;
const FRAME_MS = PRODUCER_S * 1000 + OFFSET_S * 1000;

/** The face in the frame at FRAME_MS, and its box as Rekognition gives it. */
const WIDTH = 320;
const HEIGHT = 240;
const FACE = { person: 'alice', x: 96, y: 60, size: 64 };
const BOX = { Width: FACE.size / WIDTH, Height: FACE.size / HEIGHT, Left: FACE.x / WIDTH, Top: FACE.y / HEIGHT };
/** Another face of the same frame, for a second sighting of it. */
const FACE2 = { person: 'stranger', x: 220, y: 120, size: 48 };
const BOX2 = { Width: FACE2.size / WIDTH, Height: FACE2.size / HEIGHT, Left: FACE2.x / WIDTH, Top: FACE2.y / HEIGHT };

/** The frame at FRAME_MS shows the faces; every other frame is an empty, brighter scene (a wrong frame is caught). */
const sceneAt = (t: number): Scene => (t === FRAME_MS ? { width: WIDTH, height: HEIGHT, faces: [FACE, FACE2] } : { width: WIDTH, height: HEIGHT, light: 60 });

function addVideo(arn: string, media: Array<[number, number]> = [[PRODUCER_S * 1000 - 10_000, PRODUCER_S * 1000 + 100_000]]): void {
  kvs.addStream({ arn, retentionHours: 24, media, render: (t) => renderFrame(sceneAt(t)) });
}

/** A stream-processor record of the frame at FRAME_MS (or `second` seconds later) with faces of these boxes. */
function frameRecord(boxes: Array<{ box: typeof BOX; matches: string[] }>, options: { second?: number; videoArn?: string; dataArn?: string; engine?: string } = {}) {
  const record = recordWith(
    boxes.map((b) => ({ matches: b.matches })),
    { producerTime: PRODUCER_S + (options.second ?? 0), offset: OFFSET_S, streamArn: options.videoArn ?? frontDoorVideo },
  );
  boxes.forEach((b, i) => (record.FaceSearchResponse[i].DetectedFace.BoundingBox = { ...b.box }));
  if (options.engine) {
    record.Engine = options.engine;
  }
  return kinesisRecord(toData(record), options.dataArn ?? DATA_STREAM_ARN);
}

function loadWithSnapshots(options: { dedupeWindowSeconds?: number; metrics?: boolean } = {}) {
  Object.assign(process.env, { SNAPSHOT_BUCKET: BUCKET, SNAPSHOT_PREFIX: 'snapshots/', SNAPSHOT_FACE_MARGIN: '0.25' });
  if (options.metrics) process.env.POWERTOOLS_METRICS_DISABLED = 'false';
  try {
    return loadConsumer(services, { dedupeWindowSeconds: options.dedupeWindowSeconds, cameras: { [DATA_STREAM_ARN]: 'front-door', [GARAGE_DATA_ARN]: 'garage' } });
  } finally {
    process.env.POWERTOOLS_METRICS_DISABLED = 'true';
  }
}

/** Whether both objects of each event's snapshot existed when EventBridge received the event. */
function probeObjectsAtPutEvents(): Array<{ id: string; face: boolean; frame: boolean }> {
  const seen: Array<{ id: string; face: boolean; frame: boolean }> = [];
  services.eventBridge.failMatching((detail) => {
    if (detail?.snapshot) {
      seen.push({ id: detail.id, face: s3.exists(BUCKET, detail.snapshot.faceKey), frame: s3.exists(BUCKET, detail.snapshot.frameKey) });
    }
    return false; // a probe: nothing fails
  });
  return seen;
}

/** Mean absolute difference of the RGB channels of two equally sized RGBA images. */
function meanDifference(a: Uint8Array, b: Uint8Array): number {
  let sum = 0;
  let n = 0;
  for (let i = 0; i < a.length; i += 4) {
    sum += Math.abs(a[i] - b[i]) + Math.abs(a[i + 1] - b[i + 1]) + Math.abs(a[i + 2] - b[i + 2]);
    n += 3;
  }
  return sum / n;
}

/** The rectangle [x, x+w) x [y, y+h) of an RGBA image. */
function region(data: Uint8Array, width: number, x: number, y: number, w: number, h: number): Uint8Array {
  const out = new Uint8Array(w * h * 4);
  for (let row = 0; row < h; row++) {
    out.set(data.subarray(((y + row) * width + x) * 4, ((y + row) * width + x + w) * 4), row * w * 4);
  }
  return out;
}

/** Captures the embedded-metric lines the handler prints while `fn` runs. */
async function metricsOf(fn: () => Promise<unknown>): Promise<any[]> {
  const lines: string[] = [];
  const write = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: any) => {
    lines.push(String(chunk));
    return true;
  });
  const log = jest.spyOn(console, 'log').mockImplementation((...args: unknown[]) => {
    lines.push(args.map(String).join(' '));
  });
  try {
    await fn();
  } finally {
    write.mockRestore();
    log.mockRestore();
  }
  return lines.map((l) => l.trim()).filter((l) => l.includes('"_aws"')).map((l) => JSON.parse(l));
}

beforeAll(async () => {
  const d = consumerSnapshotsDeployment();
  frontDoorVideo = d.arn(d.resource('AWS::KinesisVideo::Stream', /front-door\/VideoStream\/Resource$/));
  services = await startServices();
  const [kvsUrl, s3Url] = await Promise.all([kvs.start(), s3.start()]);
  Object.assign(process.env, { AWS_ENDPOINT_URL_KINESIS_VIDEO: kvsUrl, AWS_ENDPOINT_URL_S3: s3Url, S3_FORCE_PATH_STYLE: 'true' });
}, 180_000);
afterAll(async () => {
  await Promise.all([services.stop(), kvs.stop(), s3.stop()]);
});
beforeEach(() => {
  services.reset();
  kvs.reset();
  s3.reset();
  addVideo(frontDoorVideo);
  addVideo(SNAPSHOT_OWN_VIDEO_ARN);
});

test('a stream-processor sighting: GetImages at its producer timestamp, the face crop and the frame stored, then the event naming them', async () => {
  const handler = loadWithSnapshots();
  const atPut = probeObjectsAtPutEvents();
  const response = await handler(kinesisEvent([frameRecord([{ box: BOX, matches: ['alice'] }])]));

  expect(response).toEqual({ batchItemFailures: [] });
  // the frame's own sampling point is the second: a start inside a fragment may miss the first
  expect(kvs.callsOf('/getDataEndpoint').map((c) => c.body)).toEqual([{ StreamARN: frontDoorVideo, APIName: 'GET_IMAGES' }]);
  expect(kvs.callsOf('/getImages').map((c) => c.body)).toEqual([
    {
      StreamARN: frontDoorVideo,
      ImageSelectorType: 'PRODUCER_TIMESTAMP',
      StartTimestamp: (FRAME_MS - 200) / 1000,
      EndTimestamp: FRAME_MS / 1000,
      SamplingInterval: 200,
      Format: 'JPEG',
      FormatConfig: { JPEGQuality: '85' },
      MaxResults: 2,
    },
  ]);

  const events = services.eventBridge.events;
  expect(events).toHaveLength(1);
  const detail = events[0].Detail;
  expect(detail.snapshot).toEqual({
    bucket: BUCKET,
    faceKey: expect.stringMatching(/^snapshots\/front-door\/2023-11-14\/1700000000400-0-[0-9a-f]{16}\/face\.jpg$/),
    frameKey: expect.stringMatching(/^snapshots\/front-door\/2023-11-14\/1700000000400-0-[0-9a-f]{16}\/frame\.jpg$/),
  });
  expect(detail.snapshot.frameKey.replace(/frame\.jpg$/, '')).toBe(detail.snapshot.faceKey.replace(/face\.jpg$/, ''));
  expect(check(readmeSchema(), detail, readmeSchema())).toEqual([]);
  // stored before the event was sent
  expect(atPut).toEqual([{ id: detail.id, face: true, frame: true }]);
  expect(s3.keys(BUCKET).sort()).toEqual([detail.snapshot.faceKey, detail.snapshot.frameKey].sort());

  // frame.jpg: the frame as GetImages served it
  const frame = s3.object(BUCKET, detail.snapshot.frameKey)!;
  expect(frame.contentType).toBe('image/jpeg');
  expect(frame.body.equals(renderFrame(sceneAt(FRAME_MS)))).toBe(true);

  // face.jpg: the box and a margin of a quarter of its size on each side, of that frame
  const face = s3.object(BUCKET, detail.snapshot.faceKey)!;
  expect(face.contentType).toBe('image/jpeg');
  const crop = jpeg.decode(face.body, { useTArray: true, formatAsRGBA: true });
  const margin = FACE.size / 4;
  expect([crop.width, crop.height]).toEqual([FACE.size + 2 * margin, FACE.size + 2 * margin]);
  const expected = region(renderPixels(sceneAt(FRAME_MS)), WIDTH, FACE.x - margin, FACE.y - margin, crop.width, crop.height);
  expect(meanDifference(crop.data, expected)).toBeLessThan(6); // JPEG twice (the frame, then the crop)
  // and not some other part of the frame
  const shifted = region(renderPixels(sceneAt(FRAME_MS)), WIDTH, FACE.x - margin + 40, FACE.y - margin, crop.width, crop.height);
  expect(meanDifference(crop.data, shifted)).toBeGreaterThan(20);
});

test('two faces of one frame share one GetImages; de-duplicated sightings fetch nothing (one request per frame sent, never per record)', async () => {
  const handler = loadWithSnapshots({ dedupeWindowSeconds: 60 });
  const atPut = probeObjectsAtPutEvents();
  const records = [
    frameRecord([
      { box: BOX, matches: ['alice'] },
      { box: BOX2, matches: [] },
    ]),
    // the same people again within the window: de-duplicated, no frame fetched for them
    ...[1, 2, 3].map((second) => frameRecord([{ box: BOX, matches: ['alice'] }, { box: BOX2, matches: [] }], { second })),
  ];
  const response = await handler(kinesisEvent(records));

  expect(response).toEqual({ batchItemFailures: [] });
  const events = services.eventBridge.events;
  expect(events.map((e) => [e.DetailType, e.Detail.faceIndex])).toEqual([
    ['Face Matched', 0],
    ['Face Not Matched', 1],
  ]);
  expect(kvs.callsOf('/getImages')).toHaveLength(1);
  expect(s3.keys(BUCKET)).toHaveLength(4);
  expect(atPut).toEqual(events.map((e) => ({ id: e.Detail.id, face: true, frame: true })));
  // each face cropped from the shared frame
  const second = jpeg.decode(s3.object(BUCKET, events[1].Detail.snapshot.faceKey)!.body, { useTArray: true, formatAsRGBA: true });
  const margin = FACE2.size / 4;
  expect([second.width, second.height]).toEqual([FACE2.size + 2 * margin, FACE2.size + 2 * margin]);
  const expected = region(renderPixels(sceneAt(FRAME_MS)), WIDTH, FACE2.x - margin, FACE2.y - margin, second.width, second.height);
  expect(meanDifference(second.data, expected)).toBeLessThan(6);
});

test('a camera with a video stream of its own (by ARN) is read too; frame-sampling records bring their own snapshots and fetch nothing', async () => {
  const handler = loadWithSnapshots();
  const response = await handler(
    kinesisEvent([
      frameRecord([{ box: BOX, matches: ['alice'] }], { videoArn: SNAPSHOT_OWN_VIDEO_ARN, dataArn: GARAGE_DATA_ARN }),
      frameRecord([{ box: BOX, matches: ['alice'] }], { second: 5, engine: 'frame-sampling' }),
    ]),
  );
  expect(response).toEqual({ batchItemFailures: [] });
  expect(kvs.callsOf('/getImages').map((c) => c.body.StreamARN)).toEqual([SNAPSHOT_OWN_VIDEO_ARN]);
  const [garage, sampled] = services.eventBridge.events.map((e) => e.Detail);
  expect(garage).toMatchObject({ camera: 'garage', snapshot: { faceKey: expect.stringMatching(/^snapshots\/garage\//) } });
  expect(sampled.engine).toBe('frame-sampling');
  expect(sampled.snapshot).toBeUndefined();
});

test('GetImages refused, or no video at that time: the events go without a snapshot, SnapshotsFailed counts them, the batch succeeds', async () => {
  const handler = loadWithSnapshots({ metrics: true });
  kvs.fail('/getImages', 'AccessDeniedException', 1, 403);
  const refused = await metricsOf(async () => {
    expect(await handler(kinesisEvent([frameRecord([{ box: BOX, matches: ['alice'] }])]))).toEqual({ batchItemFailures: [] });
  });
  // an old frame whose video is not there (expired, or never stored): NO_MEDIA, not asked for again
  kvs.addStream({ arn: SNAPSHOT_OWN_VIDEO_ARN, retentionHours: 24, media: [], render: () => Buffer.alloc(0) });
  const missing = await metricsOf(async () => {
    const record = frameRecord([{ box: BOX, matches: ['bob'] }], { videoArn: SNAPSHOT_OWN_VIDEO_ARN, dataArn: GARAGE_DATA_ARN });
    expect(await handler(kinesisEvent([record]))).toEqual({ batchItemFailures: [] });
  });
  const events = services.eventBridge.events;
  expect(events.map((e) => [e.Detail.camera, e.Detail.snapshot])).toEqual([
    ['front-door', undefined],
    ['garage', undefined],
  ]);
  for (const e of events) expect(check(readmeSchema(), e.Detail, readmeSchema())).toEqual([]);
  // a refusal is not retried; the old frame is asked for once
  expect(kvs.callsOf('/getImages')).toHaveLength(2);
  expect(s3.keys(BUCKET)).toEqual([]);
  for (const emf of [refused, missing]) {
    expect(emf).toHaveLength(1);
    expect(emf[0]).toMatchObject({ SnapshotsStored: 0, SnapshotsFailed: 1, FacesMatched: 1, EventsFailed: 0 });
  }
});

test('S3 refuses the objects: the event goes without a snapshot, SnapshotsFailed counts it, the batch succeeds', async () => {
  const handler = loadWithSnapshots({ metrics: true });
  s3.refusePuts('AccessDenied', 403);
  let response;
  const emf = await metricsOf(async () => {
    response = await handler(kinesisEvent([frameRecord([{ box: BOX, matches: ['alice'] }])]));
  });
  expect(response).toEqual({ batchItemFailures: [] });
  expect(services.eventBridge.events.map((e) => e.Detail.snapshot)).toEqual([undefined]);
  expect(emf[0]).toMatchObject({ SnapshotsStored: 0, SnapshotsFailed: 1, FacesMatched: 1 });

  // S3 back: stored and counted
  s3.reset();
  services.eventBridge.reset();
  const again = await metricsOf(() => handler(kinesisEvent([frameRecord([{ box: BOX, matches: ['alice'] }], { second: 1 })])));
  expect(services.eventBridge.events[0].Detail.snapshot).toBeDefined();
  expect(again[0]).toMatchObject({ SnapshotsStored: 1, SnapshotsFailed: 0 });
});

test('video not stored yet (its fragment still open): asked again after a wait, then stored', async () => {
  const handler = loadWithSnapshots();
  // "now" is a second after the frame: its 2 s fragment is not complete, so GetImages answers NO_MEDIA;
  // each call moves the service's clock 3 s on, so the second call finds it stored
  const clock = new ManualClock(FRAME_MS + 1_000);
  kvs.clock = clock.read;
  kvs.onGetImages = () => clock.advance(3_000);
  await handler(kinesisEvent([frameRecord([{ box: BOX, matches: ['alice'] }])]));
  const calls = kvs.callsOf('/getImages');
  expect(calls).toHaveLength(2);
  expect(calls[0].body).toEqual(calls[1].body);
  expect(services.eventBridge.events[0].Detail.snapshot).toBeDefined();
});

test('Kinesis Video Streams not answering: the snapshot is given up within the invocation\'s time, and the event is sent without it', async () => {
  const handler = loadWithSnapshots();
  // every request to Kinesis Video Streams waits at the gate until the test ends
  const gate = new Gate(process.env.AWS_ENDPOINT_URL_KINESIS_VIDEO!, 1000);
  await gate.start();
  try {
    const context = { getRemainingTimeInMillis: () => 17_000 } as any; // 2 s for snapshots, 15 s kept for the rest
    const started = Date.now();
    const response = await gate.use('AWS_ENDPOINT_URL_KINESIS_VIDEO', () => (handler as any)(kinesisEvent([frameRecord([{ box: BOX, matches: ['alice'] }])]), context));
    expect(response).toEqual({ batchItemFailures: [] });
    expect(services.eventBridge.events.map((e) => e.Detail.snapshot)).toEqual([undefined]);
    // bounded by the time left, not by the service: far below the 15 s it kept (generous for a loaded machine)
    expect(Date.now() - started).toBeLessThan(12_000);
    await gate.arrived(1); // the request was made, and is still held
  } finally {
    await gate.stop(); // lets the held request through to the fake
  }
  // that request lands before the next test (which expects no call) starts
  for (let i = 0; i < 500 && kvs.calls.length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 20));
  expect(kvs.callsOf('/getDataEndpoint')).toHaveLength(1);
});

/** Runs the bundle in a fresh node process (its own module cache) with one record; answers which snapshot files it loaded. */
function runFresh(env: Record<string, string>): Promise<{ loaded: string[]; response: unknown }> {
  const event = kinesisEvent([frameRecord([{ box: BOX, matches: ['alice'] }])]);
  const script = `
    const { handler } = require(${JSON.stringify(CONSUMER_BUNDLE)});
    handler(${JSON.stringify(event)}).then((response) => {
      const loaded = Object.keys(require.cache).filter((f) => /snapshots\\.js$/.test(f));
      process.stdout.write('RESULT' + JSON.stringify({ loaded, response }) + '\\n');
    });`;
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['-e', script], { env: { ...process.env, ...env } }, (error, stdout, stderr) => {
      if (error) return reject(new Error(`${error.message}\n${stderr}`));
      const line = stdout.split('\n').find((l) => l.startsWith('RESULT'));
      if (!line) return reject(new Error(`no result: ${stdout}\n${stderr}`));
      resolve(JSON.parse(line.slice('RESULT'.length)));
    });
  });
}

test('snapshots off: the snapshot code is not even loaded, and nothing is fetched or stored', async () => {
  loadWithSnapshots(); // sets the consumer's environment for the fresh processes
  const off = await runFresh({ SNAPSHOT_BUCKET: '' });
  expect(off).toEqual({ loaded: [], response: { batchItemFailures: [] } });
  expect(kvs.calls).toEqual([]);
  expect(s3.calls).toEqual([]);
  expect(services.eventBridge.events.map((e) => e.Detail.snapshot)).toEqual([undefined]);

  // the same process with snapshots on loads it (what the check above would see)
  const on = await runFresh({ SNAPSHOT_BUCKET: BUCKET });
  expect(on.loaded).toEqual([expect.stringMatching(/assets\/face-consumer\/snapshots\.js$/)]);
  expect(services.eventBridge.events[1].Detail.snapshot).toBeDefined();
});
