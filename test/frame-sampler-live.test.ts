/**
 * Live mode of the bundled frame sampler (assets/frame-sampler/index.js), through the real AWS SDK
 * v3 against local servers, with a fake Kinesis Video Streams that ingests live: a frame is
 * readable only once its 2 s fragment is complete and persisted (0.5 s later). Time is scripted, not
 * waited for: the fake's clock moves 500 ms per GetImages call, and each follower's remaining
 * Lambda time is read from that clock, so hand-overs happen at the same point of the video on every
 * run. Every sampled frame holds a moving face, so every analysed second is one record: "each
 * second analysed exactly once" is "each second of the span has exactly one record".
 */
import { ChildProcess, spawn } from 'node:child_process';
import type { Context } from 'aws-lambda';
import { FakeLambda } from './support/fake-lambda';
import { ManualClock } from './support/fake-kvs-images';
import { renderFrame } from './support/frames';
import { cameraInput, COLLECTION, DATA_ARN, loadSampler, SAMPLER_BUNDLE, SamplerHandler, SamplerServices, seedState, startSamplerServices, STATE_KEY, STATE_TABLE, stateRow, VIDEO_ARN } from './support/frame-sampler-harness';
import { checkIam } from './support/iam-check';
import { samplerDeployment, samplerRole } from './support/iam-deployments';

// every AWS call the followers make (the hand-over's Invoke included) is evaluated against the synthesized policies
checkIam({ deployment: samplerDeployment, callers: { AKIDEXAMPLE: samplerRole } });

let services: SamplerServices;
let lambda: FakeLambda;
let clock: ManualClock;
jest.setTimeout(180_000);

const LIVE_ENV = {
  LIVE_POLL_MS: '5',
  MIN_GET_IMAGES_GAP_MS: '0',
  GAP_MARGIN_SECONDS: '10',
  HAND_OVER_SECONDS: '30',
  SAFETY_MARGIN_SECONDS: '10',
  LEASE_SECONDS: '30',
};
const W = 320;
const H = 180;
/** A fragment-aligned start, far enough in the past that real-time checks never matter. */
const T0 = Math.floor((Date.now() - 600_000) / 2000) * 2000;

beforeAll(async () => {
  services = await startSamplerServices();
  lambda = new FakeLambda();
  process.env.AWS_ENDPOINT_URL_LAMBDA = await lambda.start();
});
afterAll(async () => {
  await services.stop();
  await lambda.stop();
});
beforeEach(() => {
  services.reset();
  lambda.reset();
  services.kinesis.streams.add(DATA_ARN);
  services.rekognition.enrol(COLLECTION, 'alice', 'face-alice-1');
  clock = new ManualClock(T0 + 4000);
  services.kvs.clock = clock.read;
  services.kvs.onGetImages = () => clock.advance(500);
  // a camera streaming since T0, still streaming: alice walks across the whole time
  services.kvs.addStream({
    arn: VIDEO_ARN,
    retentionHours: 24,
    media: [[T0, Number.POSITIVE_INFINITY]],
    persistDelayMs: 500,
    render: (t) => renderFrame({ width: W, height: H, noise: 2, seed: t % 7919, faces: [{ person: 'alice', x: 10 + Math.round(((t - T0) / 1000) * 4) % 240, y: 60, size: 48 }] }),
  });
  seedState(services.dynamodb, { position: { N: String(T0 + 1000) } });
});

const live = (overrides: Record<string, unknown> = {}) => cameraInput({ mode: 'live', ...overrides });
let request = 0;
/** A Lambda context whose invocation ends at `endsAt` on the fake's clock. */
function contextUntil(endsAt: number): Context {
  request++;
  return { awsRequestId: `follower-${request}`, functionName: 'sampler', getRemainingTimeInMillis: () => Math.max(0, endsAt - clock.now) } as unknown as Context;
}

/** The producer times (ms after T0) of the records written, in order. */
const recordTimes = () => services.kinesis.json(DATA_ARN).map((r) => r.InputInformation.KinesisVideo.ProducerTimestamp * 1000 - T0);

/** Every second from 2 s to `last` has exactly one record: nothing skipped, nothing twice. */
function expectEachSecondOnce(last: number, except: (t: number) => boolean = () => false): void {
  const times = recordTimes().sort((a, b) => a - b);
  const expected: number[] = [];
  for (let t = 2000; t <= last; t += 1000) if (!except(t)) expected.push(t);
  expect(times).toEqual(expected);
}

test('hand-over between two followers: position, lease and tracked face pass on; every second analysed once', async () => {
  const a = loadSampler(LIVE_ENV);
  const b = loadSampler(LIVE_ENV);
  let second: Promise<Awaited<ReturnType<SamplerHandler>>> | undefined;
  // Lambda runs the successor (once): it ends 55 s into the video
  lambda.onInvoke = (_name, payload) => {
    if (!second) second = b(payload, contextUntil(T0 + 55_000));
  };

  const first = await a(live(), contextUntil(T0 + 40_000));

  expect(first.outcome).toBe('handed over');
  expect(lambda.invocations).toHaveLength(1);
  expect(lambda.invocations[0]).toMatchObject({ functionName: 'sampler', invocationType: 'Event', payload: { ...live(), handOverFrom: 'follower-1' } });
  const last = await second!;
  expect(last.outcome).toBe('released'); // its own successor never ran: the lease is freed for the schedule
  // the successor went on from the position it was handed, a fragment earlier (a start inside a fragment misses its first image)
  expect(services.kvs.callsOf('/getImages').some((c) => c.body.StartTimestamp * 1000 === first.position! - 2000)).toBe(true);
  expect(last.position! - T0).toBeGreaterThan(40_000);
  expectEachSecondOnce(last.position! - T0);
  // each frame analysed once, and alice searched once: the successor carried her identity on
  expect(services.rekognition.count('DetectFaces')).toBe(recordTimes().length);
  expect(services.rekognition.searched).toEqual(['alice']);
  expect(stateRow(services.dynamodb)).toMatchObject({ leaseUntil: { N: '0' }, position: { N: String(last.position) } });
});

test('a follower killed mid-page: its page is not written; the next follower, once the lease expires, redoes it; every second once', async () => {
  clock.now = T0 + 40_000; // 39 s stored behind the follower: it catches up page by page
  Object.assign(process.env, { STATE_TABLE_NAME: STATE_TABLE, REKOGNITION_TPS: '1000', MAX_CATCH_UP_SECONDS: '900' });
  const child: ChildProcess = spawn(
    process.execPath,
    ['-e', `require(${JSON.stringify(SAMPLER_BUNDLE)}).handler(${JSON.stringify(live())}, { awsRequestId: 'doomed', functionName: 'sampler', getRemainingTimeInMillis: () => 600000 })`],
    { env: { ...process.env, ...LIVE_ENV, LEASE_SECONDS: '2' }, stdio: 'ignore' },
  );
  const exited = new Promise((resolve) => child.on('exit', resolve));
  // killed at its 11th DetectFaces: in the middle of a page (a page holds 3 new frames at 1 s)
  const rekognition = services.rekognition as unknown as { dispatch: (op: string, body: unknown) => unknown };
  const dispatch = rekognition.dispatch.bind(rekognition);
  let detects = 0;
  rekognition.dispatch = (op, body) => {
    if (op === 'DetectFaces' && ++detects === 11) child.kill('SIGKILL');
    return dispatch(op, body);
  };
  await exited;
  rekognition.dispatch = dispatch;
  // written: the pages it finished, each saved; nothing of the page it was killed in
  const written = recordTimes();
  expect(written.length).toBeGreaterThan(0);
  expect(written.length).toBeLessThan(10); // 10 frames analysed, the last one's page not written
  expect(written).toEqual(written.map((_, i) => 2000 + i * 1000));
  expect(Number(stateRow(services.dynamodb)!.position.N) - T0).toBe(Math.max(...written));
  // the schedule's next invocation finds the lease expired (a live lease lasts LEASE_SECONDS unless renewed)
  while (Number(stateRow(services.dynamodb)!.leaseUntil.N) >= Date.now()) await new Promise((r) => setTimeout(r, 100));
  const next = await loadSampler(LIVE_ENV)(live(), contextUntil(T0 + 60_000));
  expect(next.outcome).toBe('released');
  expectEachSecondOnce(next.position! - T0);
});

test('a follower that runs out of time without a successor (Invoke throttled) frees the camera; the schedule\'s next follower goes on: every second once', async () => {
  lambda.fail(100);
  const handler = loadSampler(LIVE_ENV);
  const first = await handler(live(), contextUntil(T0 + 30_000));
  expect(first.outcome).toBe('released');
  expect(lambda.invocations).toEqual([]);
  expect(stateRow(services.dynamodb)!.leaseUntil.N).toBe('0');
  // throttled on the next follower's way too: GetImages, DetectFaces and PutRecords
  services.kvs.fail('/getImages', 'ClientLimitExceededException', 3);
  services.rekognition.fail({ operation: 'DetectFaces', type: 'ThrottlingException', message: 'Rate exceeded', times: 2 });
  services.kinesis.failEntries = 2;
  const next = await handler(live(), contextUntil(clock.now + 25_000));
  expect(next.outcome).toBe('released');
  expect(services.kinesis.failedEntries).toBe(2);
  expectEachSecondOnce(next.position! - T0);
});

test('stopped and started by schedule: the follower stops at once, nothing of the stopped span is analysed, sampling resumes at the start time', async () => {
  const handler = loadSampler(LIVE_ENV);
  const row = () => services.dynamodb.tables.get(STATE_TABLE)!.get(STATE_KEY)!;
  // the stop schedule writes the row (as its UpdateItem does) when the video is 15 s in
  services.kvs.onGetImages = () => {
    clock.advance(500);
    if (clock.now === T0 + 15_000) row().stopped = { BOOL: true };
  };
  const stopped = await handler(live(), contextUntil(T0 + 60_000));
  expect(stopped.outcome).toBe('stopped');
  const stopAt = stopped.position! - T0;
  expect(await handler(live(), contextUntil(T0 + 60_000))).toMatchObject({ skipped: 'stopped' });

  // the start schedule, at 30 s
  services.kvs.onGetImages = () => clock.advance(500);
  clock.now = T0 + 33_000;
  Object.assign(row(), { stopped: { BOOL: false }, startedAt: { S: new Date(T0 + 30_000).toISOString() } });
  const resumed = await handler(live(), contextUntil(T0 + 60_000));
  expect(resumed.outcome).toBe('released');
  expectEachSecondOnce(resumed.position! - T0, (t) => t > stopAt && t <= 30_000);
});
