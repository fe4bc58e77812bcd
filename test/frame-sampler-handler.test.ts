/**
 * Behaviour of the bundled frame sampler (assets/frame-sampler/index.js) through the real AWS SDK
 * v3 clients against local servers speaking the wire protocols of Kinesis Video Streams
 * (GetDataEndpoint, GetImages), Rekognition (DetectFaces, SearchFacesByImage), Kinesis
 * (PutRecords) and DynamoDB; and end to end through the bundled consumer to face events valid
 * against the README's JSON Schema.
 */
import { validateRecord } from '../lib/runtime/face-records/parser';
import { ConsumerServices, kinesisEvent, kinesisRecord, loadConsumer, startServices } from './support/consumer-harness';
import { check, readmeSchema } from './support/event-schema';
import { renderFrame, SceneFace } from './support/frames';
import { cameraInput, COLLECTION, context, DATA_ARN, loadSampler, SamplerServices, seedState, startSamplerServices, STATE_TABLE, stateRow, VIDEO_ARN } from './support/frame-sampler-harness';
import { checkIam } from './support/iam-check';
import { samplerDeployment, samplerRole } from './support/iam-deployments';

// every AWS call made in these tests is evaluated against the synthesized policies (test/support/iam-check.ts),
// as a site's sampler: its own state table "sampler-state", the budget rows in its hub's "hub-budget"
// (the end-to-end test's consumer signs with AKIDCONSUMER: its calls are checked against the consumer's
// own deployment in test/face-consumer-handler.test.ts, not against the sampler's role)
checkIam({ deployment: samplerDeployment, callers: { AKIDEXAMPLE: samplerRole }, ignoreKeys: ['AKIDCONSUMER'] });

let consumer: ConsumerServices;
let services: SamplerServices;

beforeAll(async () => {
  consumer = await startServices();
  services = await startSamplerServices(consumer.dynamodb);
});
afterAll(async () => {
  await services.stop();
  await consumer.stop();
});
beforeEach(() => {
  consumer.reset();
  services.reset();
  services.kinesis.streams.add(DATA_ARN);
  services.rekognition.enrol(COLLECTION, 'alice', 'face-alice-1');
  services.rekognition.enrol(COLLECTION, 'bob', 'face-bob-1');
});

const W = 480;
const H = 270;
jest.setTimeout(120_000);
/** A fragment-aligned start, far enough in the past that all of it is "stored video". */
const t0 = () => Math.floor((Date.now() - 400_000) / 2000) * 2000;

/** Video from `start` for `seconds`: a quiet noisy scene, with faces where `faces(t)` says. */
function addVideo(start: number, seconds: number, faces: (sinceStartMs: number) => SceneFace[], extra: { retentionHours?: number; gaps?: Array<[number, number]>; mediaErrors?: number[] } = {}) {
  const media: Array<[number, number]> = [];
  let from = start;
  for (const [gapFrom, gapTo] of extra.gaps ?? []) {
    media.push([from, start + gapFrom * 1000]);
    from = start + gapTo * 1000;
  }
  media.push([from, start + seconds * 1000]);
  services.kvs.addStream({
    arn: VIDEO_ARN,
    retentionHours: extra.retentionHours ?? 24,
    media,
    mediaErrors: new Set((extra.mediaErrors ?? []).map((s) => start + s * 1000)),
    render: (t) => renderFrame({ width: W, height: H, noise: 3, seed: t % 7919, faces: faces(t - start) }),
  });
}

const walk = (person: string, x0: number, sinceMs: number, size = 72): SceneFace => ({ person, x: x0 + Math.round(sinceMs / 1000) * 6, y: 120, size });

test('end to end: frames in, records of the documented shape out, events valid against the README schema', async () => {
  const start = t0();
  // alice walks by alone (20-40 s), alice and bob together (60-80 s: crops), a stranger (90-95 s)
  addVideo(start, 120, (ms) => {
    const s = ms / 1000;
    if (s >= 20 && s < 40) return [walk('alice', 40, ms - 20_000)];
    if (s >= 60 && s < 80) return [walk('alice', 40, ms - 60_000, 80), walk('bob', 360, ms - 60_000, 64)];
    if (s >= 90 && s < 95) return [walk('stranger', 200, ms - 90_000)];
    return [];
  });
  seedState(services.dynamodb, { position: { N: String(start - 1000) } });
  const handler = loadSampler();

  const result = await handler(cameraInput(), context());

  expect(result.stoppedEarly).toBeUndefined();
  const records = services.kinesis.json(DATA_ARN);
  expect(records.length).toBeGreaterThan(0);
  for (const r of records) {
    expect(() => validateRecord(r)).not.toThrow();
    expect(r).toMatchObject({ Engine: 'frame-sampling', StreamProcessorInformation: { Status: 'RUNNING' } });
    expect(r.InputInformation.KinesisVideo).toMatchObject({ StreamArn: VIDEO_ARN, FrameOffsetInSeconds: 0, FragmentNumber: `frame-sampling-${r.InputInformation.KinesisVideo.ProducerTimestamp * 1000}` });
  }
  // every face searched on its own: the crops of the two-face frames really covered each face
  expect(services.rekognition.searched).toEqual(['alice', 'alice', 'bob', 'stranger']);
  // identities carried forward between frames: far fewer searches than faces reported
  const facesReported = records.reduce((n, r) => n + r.FaceSearchResponse.length, 0);
  expect(facesReported).toBeGreaterThan(40);
  // quiet frames are not sent to Rekognition
  expect(services.rekognition.count('DetectFaces')).toBeLessThan(60);
  // the position reached the end of the video (and the 300 s window was respected by every call)
  expect(Number(stateRow(services.dynamodb)!.position.N)).toBeGreaterThanOrEqual(start + 119_000);

  const consume = loadConsumer(consumer);
  process.env.AWS_ACCESS_KEY_ID = 'AKIDCONSUMER'; // read by the consumer's clients at their first call
  const response = await consume(kinesisEvent(services.kinesis.records.map((r) => kinesisRecord(r.data.toString('base64')))));
  process.env.AWS_ACCESS_KEY_ID = 'AKIDEXAMPLE';
  expect(response).toEqual({ batchItemFailures: [] });
  const events = consumer.eventBridge.events;
  const people = [...new Set(events.map((e) => `${e.DetailType}:${e.Detail.match?.externalImageId ?? '-'}`))].sort();
  expect(people).toEqual(['Face Matched:alice', 'Face Matched:bob', 'Face Not Matched:-']);
  const schema = readmeSchema();
  for (const e of events) {
    expect(check(schema, e.Detail, schema)).toEqual([]);
  }
  // the event's box is DetectFaces' box in the whole frame, not the crop's
  const bob = events.find((e) => e.Detail.match?.externalImageId === 'bob')!;
  expect(bob.Detail.face.boundingBox.width).toBeCloseTo(64 / W, 2);
  expect(consumer.sqs.bodies()).toEqual([]);
});

test('a person stepping into the spot another left seconds before is searched and named, not given the other\'s name', async () => {
  const start = t0();
  // alice walks up to the door (4-8 s, last seen at x 200) and leaves; 3 s later bob stands on that spot (10-14 s)
  addVideo(start, 20, (ms) => {
    const s = Math.floor(ms / 1000);
    if (s >= 4 && s < 8) return [{ person: 'alice', x: 200 - (7 - s) * 8, y: 100, size: 72 }];
    if (s >= 10 && s < 14) return [{ person: 'bob', x: 200, y: 100, size: 72 }];
    return [];
  });
  seedState(services.dynamodb, { position: { N: String(start - 1000) } });
  await loadSampler()(cameraInput(), context());
  const named = (from: number, to: number) =>
    services.kinesis
      .json(DATA_ARN)
      .filter((r) => r.InputInformation.KinesisVideo.ProducerTimestamp * 1000 >= start + from * 1000 && r.InputInformation.KinesisVideo.ProducerTimestamp * 1000 < start + to * 1000)
      .flatMap((r) => r.FaceSearchResponse.map((f: any) => f.MatchedFaces[0]?.Face.ExternalImageId));
  expect(new Set(named(4, 8))).toEqual(new Set(['alice']));
  expect(new Set(named(10, 14))).toEqual(new Set(['bob']));
  expect(services.rekognition.searched).toEqual(['alice', 'bob']);
});

test('pages, NO_MEDIA gaps, MEDIA_ERROR, a throttled GetImages and partly failed PutRecords: nothing lost, nothing twice', async () => {
  const start = t0();
  const faceAt = (ms: number) => (ms >= 10_000 && ms < 60_000) || (ms >= 100_000 && ms < 140_000) || (ms >= 300_000 && ms < 350_000);
  addVideo(start, 360, (ms) => (faceAt(ms) ? [walk('alice', 40, ms % 50_000)] : []), { gaps: [[120, 130]], mediaErrors: [50, 51] });
  seedState(services.dynamodb, { position: { N: String(start - 1000) } });
  services.kvs.fail('/getImages', 'ClientLimitExceededException');
  services.kinesis.failEntries = 3;
  const handler = loadSampler();

  await handler(cameraInput(), context());

  const pages = services.kvs.callsOf('/getImages');
  expect(pages.length).toBeGreaterThan(10);
  for (const p of pages) {
    expect(p.body.EndTimestamp - p.body.StartTimestamp).toBeLessThanOrEqual(300);
    expect(p.body).toMatchObject({ ImageSelectorType: 'PRODUCER_TIMESTAMP', Format: 'JPEG', SamplingInterval: 1000 });
  }
  expect(pages.some((p) => p.body.NextToken)).toBe(true);
  // GetDataEndpoint once (cached), with GET_IMAGES
  expect(services.kvs.callsOf('/getDataEndpoint').map((c) => c.body.APIName)).toEqual(['GET_IMAGES']);
  expect(services.kinesis.failedEntries).toBe(3);
  const times = services.kinesis.json().map((r) => r.InputInformation.KinesisVideo.ProducerTimestamp * 1000 - start);
  expect(new Set(times).size).toBe(times.length); // no frame written twice
  expect(times.filter((t) => t >= 120_000 && t < 130_000)).toEqual([]); // the gap
  expect(times).not.toContain(50_000); // MEDIA_ERROR
  expect(times).toContain(49_000);
  // every second with a face and media (minus the gap and the two media errors) has a record, past the first 300 s window too
  expect(times.length).toBe(50 + 40 + 50 - 10 - 2);
  expect(times.filter((t) => t >= 300_000)).toHaveLength(50);

  // the next invocation resumes where this one stopped: no record again
  const before = services.kinesis.records.length;
  await handler(cameraInput(), context());
  expect(services.kinesis.records.length).toBe(before);
});

test('Rekognition throttling: the shared budget halves its rate, the caller backs off, the frame is still analysed', async () => {
  const start = t0();
  addVideo(start, 20, (ms) => (ms >= 5000 && ms < 8000 ? [walk('bob', 100, 0)] : []));
  seedState(services.dynamodb, { position: { N: String(start - 1000) } });
  services.rekognition.fail({ operation: 'DetectFaces', type: 'ProvisionedThroughputExceededException', message: 'Provisioned rate exceeded', times: 2 });
  const handler = loadSampler({ REKOGNITION_TPS: '1000' });

  await handler(cameraInput(), context());

  const bucket = services.dynamodb.tables.get(STATE_TABLE)!.get('budget|DetectFaces')!;
  expect(Number(bucket.rate.N)).toBeLessThan(1000);
  expect(services.kinesis.json().some((r) => r.FaceSearchResponse[0]?.MatchedFaces[0]?.Face.ExternalImageId === 'bob')).toBe(true);
});

test('a site\'s sampler paces its calls against its hub\'s budget (BUDGET_TABLE_NAME): the budget rows are there, the camera state stays home', async () => {
  const start = t0();
  addVideo(start, 20, (ms) => (ms >= 5000 && ms < 8000 ? [walk('bob', 100, 0)] : []));
  seedState(services.dynamodb, { position: { N: String(start - 1000) } });
  services.rekognition.fail({ operation: 'DetectFaces', type: 'ProvisionedThroughputExceededException', message: 'Provisioned rate exceeded', times: 1 });
  try {
    const handler = loadSampler({ REKOGNITION_TPS: '1000', BUDGET_TABLE_NAME: 'hub-budget' });
    await handler(cameraInput(), context());
  } finally {
    delete process.env.BUDGET_TABLE_NAME;
  }
  const hub = services.dynamodb.tables.get('hub-budget')!;
  expect(Number(hub.get('budget|DetectFaces')!.rate.N)).toBeLessThan(1000);
  expect(hub.get('budget|SearchFacesByImage')).toBeDefined();
  const home = services.dynamodb.tables.get(STATE_TABLE)!;
  expect([...home.keys()].filter((key) => key.startsWith('budget|'))).toEqual([]);
  expect(stateRow(services.dynamodb)?.position).toBeDefined();
  expect(services.kinesis.json().some((r) => r.FaceSearchResponse[0]?.MatchedFaces[0]?.Face.ExternalImageId === 'bob')).toBe(true);
});

test('a camera whose lease another invocation holds is not sampled; a stopped camera is not sampled', async () => {
  const start = t0();
  addVideo(start, 60, () => []);
  seedState(services.dynamodb, { position: { N: String(start) }, leaseOwner: { S: 'other' }, leaseUntil: { N: String(Date.now() + 60_000) } });
  const handler = loadSampler();
  expect(await handler(cameraInput(), context())).toMatchObject({ skipped: 'lease held' });
  seedState(services.dynamodb, { position: { N: String(start) }, stopped: { BOOL: true } });
  expect(await handler(cameraInput(), context())).toMatchObject({ skipped: 'stopped' });
  expect(services.kvs.calls).toEqual([]);
});

test('started by its schedule, a camera resumes at the start time, not where it stopped the day before', async () => {
  const start = t0();
  addVideo(start, 120, () => []);
  seedState(services.dynamodb, { position: { N: String(start - 86_400_000) }, stopped: { BOOL: false }, startedAt: { S: new Date(start + 100_000).toISOString() } });
  const handler = loadSampler();
  await handler(cameraInput(), context());
  const first = services.kvs.callsOf('/getImages')[0].body;
  expect(first.StartTimestamp * 1000).toBe(start + 100_000 - 2000); // a fragment before the start
});

test('a video stream without retention fails the invocation with NoDataRetentionException and keeps the position', async () => {
  const start = t0();
  addVideo(start, 60, () => [], { retentionHours: 0 });
  seedState(services.dynamodb, { position: { N: String(start) } });
  const handler = loadSampler();
  await expect(handler(cameraInput(), context())).rejects.toMatchObject({ name: 'NoDataRetentionException' });
  expect(stateRow(services.dynamodb)!.position.N).toBe(String(start));
  expect(stateRow(services.dynamodb)!.leaseUntil.N).toBe('0'); // released
});

test('a bad schedule input is refused with the field named, and nothing is called', async () => {
  const handler = loadSampler();
  expect(await handler(cameraInput({ samplingIntervalMs: 100 }), context())).toEqual({ skipped: 'schedule input field samplingIntervalMs: expected milliseconds, at least 200, got 100' });
  expect(services.kvs.calls).toEqual([]);
});
