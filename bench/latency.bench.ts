/**
 * Latency of the frame-sampling engine, in real time (about 70 s of wall time), through the bundled
 * sampler, a local Kinesis (records stamped on arrival) and the bundled consumer (called as the event
 * source mapping does: every second, with the records that arrived) to EventBridge (events stamped on
 * arrival). Two cameras stream at once into a fake Kinesis Video Streams that ingests live: 2 s
 * fragments, readable 0.5 s after they complete. Alice and Bob appear in turn, at times that fall
 * anywhere in a fragment: six times in the live camera's first 55 s (so the run ends a few seconds
 * after the catch-up camera's second run), four times before the catch-up camera's 50 s of video its
 * 60 s run covers.
 * - live mode (the default): the follower runs in a process of its own (its peak RSS is the sizing
 *   figure); a schedule tick meanwhile finds its lease held;
 * - catch-up mode: the camera's schedule invokes the sampler at 0 s and 60 s.
 * Figures: from the first frame showing a person to their record in the data stream and to their
 * event, median and worst, as ratios to the floor (fragment duration + persist delay + one
 * DetectFaces and one SearchFacesByImage round trip, measured here); Lambda GB-s, GetImages and
 * Rekognition calls per camera-hour.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import * as path from 'node:path';
import { startServices as startConsumerServices, kinesisRecord } from '../test/support/consumer-harness';
import { FakeLambda } from '../test/support/fake-lambda';
import { cameraInput, startSamplerServices } from '../test/support/frame-sampler-harness';
import { renderFrame, SceneFace } from '../test/support/frames';
import { BenchContext, median, root, Row } from './common';
import { SAMPLER_MEMORY_MB } from '../lib/engines/frame-sampler-resources';

const W = Number(process.env.LATENCY_BENCH_WIDTH ?? 320);
const H = Math.round((W * 9) / 16);
const FRAGMENT_MS = 2000;
const PERSIST_MS = 500;
/** How long into the scene the live follower runs: its six appearances (the last ends at 54.9 s) and their records. */
const RUN_MS = 63_000;
/** The follower's SAFETY_MARGIN_SECONDS: it releases the lease this long before its (fake) timeout. */
const SAFETY_MS = 10_000;
const CATCH_UP_TICK_MS = 60_000;
const SHOW_MS = 7_000;
type Appearance = { at: number; person: string };
/**
 * Appearances (ms after the start), starting anywhere within a fragment (1.3, 0.9, 1.5, 0.1, 0.7,
 * 1.9 s into it), at least 1.6 s apart (a sampled frame without the person between two).
 */
const LIVE_APPEARANCES: Appearance[] = [
  { at: 3_300, person: 'alice' },
  { at: 12_900, person: 'bob' },
  { at: 21_500, person: 'alice' },
  { at: 30_100, person: 'bob' },
  { at: 38_700, person: 'alice' },
  { at: 47_900, person: 'bob' },
];
/** The catch-up camera's: within the 50 s of video its 60 s run covers (its live margin is 10 s). */
const CATCH_UP_APPEARANCES: Appearance[] = [
  { at: 5_300, person: 'alice' },
  { at: 16_900, person: 'bob' },
  { at: 28_500, person: 'alice' },
  { at: 40_100, person: 'bob' },
];
const ACCOUNT = 'arn:aws:kinesis:us-west-2:123456789012';
const CAMERAS = {
  live: { video: 'arn:aws:kinesisvideo:us-west-2:123456789012:stream/live/1', data: `${ACCOUNT}:stream/live-faces`, key: 'camera|live' },
  'catch-up': { video: 'arn:aws:kinesisvideo:us-west-2:123456789012:stream/catch-up/1', data: `${ACCOUNT}:stream/catch-up-faces`, key: 'camera|catch-up' },
};

/** Appearances count from here: set once the live follower is running (its cold start is once a quarter-hour, not per face). */
let scene = Number.POSITIVE_INFINITY;
function facesAt(appearances: Appearance[], sinceStart: number): SceneFace[] {
  const a = appearances.find((p) => sinceStart >= p.at && sinceStart < p.at + SHOW_MS);
  return a ? [{ person: a.person, x: Math.round(W / 6) + Math.round(((sinceStart - a.at) / 1000) * (W / 160)), y: Math.round(H / 3), size: Math.round(W / 8) }] : [];
}

const input = (mode: 'live' | 'catch-up') =>
  cameraInput({ mode, camera: mode, stateKey: CAMERAS[mode].key, videoStreamArn: CAMERAS[mode].video, dataStreamArn: CAMERAS[mode].data, collectionId: 'faces' });

/**
 * A bundle loaded anew: its SDK clients take this module's endpoints, not those of an earlier bench
 * module (stopped by now) that loaded it in the same runner process.
 */
function freshRequire(file: string) {
  delete require.cache[require.resolve(file)];
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(file);
}

const stats = (xs: number[]) => ({ median: xs.length ? median(xs) : NaN, worst: xs.length ? Math.max(...xs) : NaN });
const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

export async function bench(ctx: BenchContext): Promise<Row[]> {
  const consumerServices = await startConsumerServices();
  const services = await startSamplerServices(consumerServices.dynamodb);
  const lambda = new FakeLambda();
  process.env.AWS_ENDPOINT_URL_LAMBDA = await lambda.start();
  const { kvs, rekognition, kinesis, dynamodb } = services;
  Object.assign(process.env, { STATE_TABLE_NAME: 'sampler-state', REKOGNITION_TPS: '1000', RETRY_BASE_DELAY_MS: '100', RETRY_MAX_DELAY_MS: '2000' });

  // arrival stamps: records at Kinesis, events at EventBridge
  const recordAt: number[] = [];
  const kin = kinesis as unknown as { dispatch: (op: string, body: unknown) => unknown };
  const putRecords = kin.dispatch.bind(kinesis);
  kin.dispatch = (op, body) => {
    const out = putRecords(op, body);
    while (recordAt.length < kinesis.records.length) recordAt.push(Date.now());
    return out;
  };
  const eventAt: number[] = [];
  const eb = consumerServices.eventBridge as unknown as { dispatch: (op: string, body: unknown) => unknown };
  const putEvents = eb.dispatch.bind(consumerServices.eventBridge);
  eb.dispatch = (op, body) => {
    const out = putEvents(op, body);
    while (eventAt.length < consumerServices.eventBridge.events.length) eventAt.push(Date.now());
    return out;
  };
  // the floor's round trips: DetectFaces and SearchFacesByImage as this run's fakes answer them
  const roundTrips: Record<string, number[]> = { DetectFaces: [], SearchFacesByImage: [] };
  const rek = rekognition as unknown as { dispatch: (op: string, body: unknown) => unknown };
  const analyse = rek.dispatch.bind(rekognition);
  rek.dispatch = (op, body) => {
    const t = process.hrtime.bigint();
    try {
      return analyse(op, body);
    } finally {
      roundTrips[op]?.push(Number(process.hrtime.bigint() - t) / 1e6);
    }
  };

  rekognition.enrol('faces', 'alice', 'face-alice');
  rekognition.enrol('faces', 'bob', 'face-bob');
  const T0 = Math.ceil((Date.now() + 3000) / FRAGMENT_MS) * FRAGMENT_MS;
  for (const [mode, camera] of Object.entries(CAMERAS)) {
    const appearances = mode === 'live' ? LIVE_APPEARANCES : CATCH_UP_APPEARANCES;
    kinesis.streams.add(camera.data);
    kvs.addStream({
      arn: camera.video,
      retentionHours: 24,
      media: [[T0, Number.POSITIVE_INFINITY]],
      persistDelayMs: PERSIST_MS,
      fragmentMs: FRAGMENT_MS,
      render: (t) => renderFrame({ width: W, height: H, noise: 3, seed: (t / 200) % 9973, faces: facesAt(appearances, t - scene) }),
    });
    dynamodb.tables.set('sampler-state', dynamodb.tables.get('sampler-state') ?? new Map());
    dynamodb.tables.get('sampler-state')!.set(camera.key, { pk: { S: camera.key }, position: { N: String(T0 - 1000) } });
  }

  // the consumer, polled like a Kinesis event source mapping (about once a second, maxBatchingWindow 0)
  Object.assign(process.env, {
    EVENT_BUS_NAME: 'faces-bus',
    CONSUMER_ID: 'Bench-Consumer',
    DEAD_LETTER_QUEUE_URL: consumerServices.dlqUrl,
    DEAD_LETTER_QUEUE_MAX_MESSAGE_BYTES: String(1024 * 1024),
    DEDUPE_TABLE_NAME: '',
    DEDUPE_WINDOW_SECONDS: '0',
    CAMERAS: JSON.stringify({ [CAMERAS.live.data]: 'live', [CAMERAS['catch-up'].data]: 'catch-up' }),
    DATA_STREAM_PREFIX: '',
  });
  const consumer = freshRequire(path.join(root, 'assets', 'face-consumer', 'index.js')).handler;
  let consumed = 0;
  let polling = true;
  const esm = (async () => {
    while (polling || consumed < kinesis.records.length) {
      await new Promise((r) => setTimeout(r, 1000));
      const batch = kinesis.records.slice(consumed);
      consumed += batch.length;
      for (const arn of new Set(batch.map((r) => r.streamArn))) {
        await consumer({ Records: batch.filter((r) => r.streamArn === arn).map((r) => kinesisRecord(r.data.toString('base64'), arn)) });
      }
      if (!polling) break;
    }
  })();

  const { handler } = freshRequire(path.join(root, 'assets', 'frame-sampler', 'index.js'));
  const bundle = path.join(root, 'assets', 'frame-sampler', 'index.js');
  while (Date.now() < T0) await new Promise((r) => setTimeout(r, 50));

  // live: one follower in a process of its own for the whole run (no hand-over inside it); its
  // timeout is read from a file: 10 s of start-up allowance, then RUN_MS after the scene starts
  const endFile = path.join(ctx.dir, 'latency-follower-end');
  writeFileSync(endFile, String(Date.now() + 10_000 + RUN_MS + SAFETY_MS));
  const remaining = `()=>Number(require('fs').readFileSync(${JSON.stringify(endFile)},'utf8'))-Date.now()`;
  const script = `const t=Date.now();require(${JSON.stringify(bundle)}).handler(${JSON.stringify(input('live'))},{awsRequestId:'bench-live',functionName:'sampler',getRemainingTimeInMillis:${remaining}}).then((r)=>{process.stdout.write(JSON.stringify({result:r,maxRssKb:process.resourceUsage().maxRSS,wallMs:Date.now()-t}))})`;
  const child = spawn(process.execPath, ['-e', script], { env: { ...process.env, HAND_OVER_SECONDS: '1', SAFETY_MARGIN_SECONDS: String(SAFETY_MS / 1000) }, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  const liveDone = new Promise<void>((resolve) => child.on('exit', () => resolve()));

  // the follower is running once it asked for images: the scene starts at the next fragment
  while (!kvs.callsOf('/getImages').some((c) => c.body.StreamARN === CAMERAS.live.video)) await new Promise((r) => setTimeout(r, 50));
  const T1 = Math.ceil((Date.now() + 1000) / FRAGMENT_MS) * FRAGMENT_MS;
  scene = T1;
  writeFileSync(endFile, String(T1 + RUN_MS + SAFETY_MS));
  while (Date.now() < T1) await new Promise((r) => setTimeout(r, 20));

  // catch-up: the schedule at 0 s and 60 s; a live schedule tick at 30 s finds the follower's lease
  const catchUpRuns: number[] = [];
  const tick = async () => {
    const t = Date.now();
    await handler(input('catch-up'), { awsRequestId: `bench-catch-up-${t}`, functionName: 'sampler', getRemainingTimeInMillis: () => 900_000 - (Date.now() - t) });
    catchUpRuns.push(Date.now() - t);
  };
  await tick();
  await new Promise((r) => setTimeout(r, T1 + 30_000 - Date.now()));
  const held = Date.now();
  const heldResult = await handler(input('live'), { awsRequestId: 'bench-tick', functionName: 'sampler', getRemainingTimeInMillis: () => 900_000 });
  const heldMs = Date.now() - held;
  await new Promise((r) => setTimeout(r, T1 + CATCH_UP_TICK_MS - Date.now()));
  await tick();
  await liveDone;
  polling = false;
  await esm;
  const live = JSON.parse(out || '{}') as { result: { position: number; outcome: string }; maxRssKb: number; wallMs: number };
  const calls = kvs.callsOf('/getImages');
  await Promise.all([services.stop(), consumerServices.stop(), lambda.stop()]);

  if (heldResult.skipped !== 'lease held') throw new Error(`latency bench: the live schedule tick should have found the lease held: ${JSON.stringify(heldResult)}`);
  const records = kinesis.records.map((r, i) => ({ stream: r.streamArn, at: recordAt[i], json: JSON.parse(r.data.toString('utf8')) }));
  const events = consumerServices.eventBridge.events.map((e, i) => ({ at: eventAt[i], detail: e.Detail }));
  const frameTime = (ms: number) => T1 + Math.ceil(ms / 200) * 200; // the first 5 fps frame showing the person
  const missed: string[] = [];
  const measure = (mode: 'live' | 'catch-up', appearances: Appearance[]) => {
    const toRecord: number[] = [];
    const toEvent: number[] = [];
    for (const a of appearances) {
      const from = frameTime(a.at);
      const inside = (t: number) => t >= from && t < T1 + a.at + SHOW_MS;
      const rec = records.find(
        (r) => r.stream === CAMERAS[mode].data && inside(r.json.InputInformation.KinesisVideo.ProducerTimestamp * 1000) && r.json.FaceSearchResponse.some((f: any) => f.MatchedFaces[0]?.Face.ExternalImageId === a.person),
      );
      const ev = events.find((e) => e.detail.camera === mode && e.detail.match?.externalImageId === a.person && inside(Date.parse(e.detail.frameTime)));
      if (!rec || !ev) {
        missed.push(`${mode}: ${a.person}@${a.at / 1000}s`);
        continue;
      }
      if (process.env.LATENCY_BENCH_DEBUG) {
        const seen = records.filter((r) => r.stream === CAMERAS[mode].data).map((r) => `${r.json.InputInformation.KinesisVideo.ProducerTimestamp * 1000 - T1}@${r.at - T1}:${r.json.FaceSearchResponse.map((f: any) => f.MatchedFaces[0]?.Face.ExternalImageId).join('+')}`);
        console.error(`latency bench: ${mode} ${a.person} at ${a.at} ms; follower ${JSON.stringify(live)}; records (frame@arrival ms): ${seen.join(' ')}`);
      }
      toRecord.push(rec.at - from);
      toEvent.push(ev.at - from);
    }
    return { toRecord: stats(toRecord), toEvent: stats(toEvent) };
  };
  const liveLatency = measure('live', LIVE_APPEARANCES);
  const catchUpLatency = measure('catch-up', CATCH_UP_APPEARANCES.filter((a) => a.at + SHOW_MS < CATCH_UP_TICK_MS - 10_000));
  const floor = FRAGMENT_MS + PERSIST_MS + median(roundTrips.DetectFaces) + median(roundTrips.SearchFacesByImage);
  const perHour = (n: number, ms: number) => (n * 3_600_000) / ms;
  const gb = SAMPLER_MEMORY_MB / 1024;
  const liveCalls = calls.filter((c) => c.body.StreamARN === CAMERAS.live.video).length;
  const catchUpCalls = calls.filter((c) => c.body.StreamARN === CAMERAS['catch-up'].video).length;
  // the follower's own run, from its start to its release
  const liveSeconds = live.wallMs;
  // live: the follower all the time, plus 60 schedule ticks an hour that find its lease held
  const liveGbs = gb * 3600 + gb * 60 * (heldMs / 1000);
  // catch-up: one invocation a minute, as long as the one that had a minute of video to analyse
  const catchUpGbs = gb * 60 * (catchUpRuns[1] / 1000);
  // Rekognition: both cameras' calls against the naive count for the seconds each covered (a busy scene:
  // the hour-long scene's savings are the frame-sampling bench's, the same analysis code)
  const detect = rekognition.count('DetectFaces');
  const search = rekognition.count('SearchFacesByImage');
  let naive = 0;
  let seconds = 0;
  let onScreen = 0;
  const covered = { live: [live.result.position - T1, LIVE_APPEARANCES], 'catch-up': [CATCH_UP_TICK_MS - 10_000, CATCH_UP_APPEARANCES] } as const;
  for (const [ms, appearances] of Object.values(covered)) {
    for (let t = 0; t <= ms; t += 1000) {
      const faces = facesAt(appearances, t).length;
      naive += 1 + faces;
      seconds += 1;
      onScreen += faces > 0 ? 1 : 0;
    }
  }
  const rssMb = live.maxRssKb / 1024;
  return [
    {
      benchmark: 'latency: live (default), frame to record in the data stream',
      subject: `median ${s(liveLatency.toRecord.median)}, worst ${s(liveLatency.toRecord.worst)} (${LIVE_APPEARANCES.length} appearances)`,
      baseline: `floor ${s(floor)}: 2 s fragment + 0.5 s persist + DetectFaces + SearchFacesByImage round trips`,
      ratio: liveLatency.toRecord.median / floor,
      detail: `worst ${(liveLatency.toRecord.worst / floor).toFixed(2)}x the floor; target <= 4 s median, <= 9 s worst; ${W}x${H} frames; ${missed.length ? `NOT REPORTED WITHIN THE RUN: ${missed.join(', ')}; ` : ''}machine load average ${loadavg()[0].toFixed(1)} on ${cpus().length} CPUs`,
    },
    {
      benchmark: 'latency: live (default), frame to EventBridge event',
      subject: `median ${s(liveLatency.toEvent.median)}, worst ${s(liveLatency.toEvent.worst)}`,
      baseline: `floor ${s(floor)} (the event source mapping's ~1 s poll not in it)`,
      ratio: liveLatency.toEvent.median / floor,
      detail: `worst ${(liveLatency.toEvent.worst / floor).toFixed(2)}x the floor; the consumer's share: median ${s(liveLatency.toEvent.median - liveLatency.toRecord.median)}; target <= 5 s median, <= 10 s worst`,
    },
    {
      benchmark: 'latency: catch-up, frame to record in the data stream',
      subject: `median ${s(catchUpLatency.toRecord.median)}, worst ${s(catchUpLatency.toRecord.worst)}`,
      baseline: `floor ${s(floor)}`,
      ratio: catchUpLatency.toRecord.median / floor,
      detail: `to the event: median ${s(catchUpLatency.toEvent.median)}, worst ${s(catchUpLatency.toEvent.worst)}; the wait for the next minute's run dominates`,
    },
    {
      benchmark: 'cost per camera-hour: live, Lambda GB-s',
      subject: `${liveGbs.toFixed(0)} GB-s (${SAMPLER_MEMORY_MB} MB x 3,600 s + 60 schedule ticks of ${heldMs} ms finding the lease held)`,
      baseline: 'a dedicated 1 GB function all the time: 3,600 GB-s',
      ratio: liveGbs / 3600,
      detail: `peak RSS of the follower ${rssMb.toFixed(0)} MB at ${W}x${H} (${((rssMb / SAMPLER_MEMORY_MB) * 100).toFixed(0)} % of ${SAMPLER_MEMORY_MB} MB); target <= 1,000 GB-s; GetImages ${perHour(liveCalls, liveSeconds).toFixed(0)} calls/camera-hour (${(liveCalls / (liveSeconds / 1000)).toFixed(2)}/s)`,
    },
    {
      benchmark: 'cost per camera-hour: catch-up, Lambda GB-s',
      subject: `${catchUpGbs.toFixed(0)} GB-s (60 runs of ${s(catchUpRuns[1])} at ${SAMPLER_MEMORY_MB} MB, this machine's CPU)`,
      baseline: `live: ${liveGbs.toFixed(0)} GB-s`,
      ratio: catchUpGbs / liveGbs,
      detail: `GetImages ${catchUpCalls * 60} calls/camera-hour vs live ${perHour(liveCalls, liveSeconds).toFixed(0)}: ${((catchUpCalls * 60) / perHour(liveCalls, liveSeconds)).toFixed(3)}x`,
    },
    {
      benchmark: 'Rekognition calls, both cameras, this busy scene',
      subject: `${detect + search} (${detect} DetectFaces + ${search} SearchFacesByImage)`,
      baseline: `naive: a DetectFaces per sampled second + a search per face (${naive})`,
      ratio: (detect + search) / naive,
      detail: `a person on screen ${Math.round((onScreen / seconds) * 100)} % of the seconds sampled (the hour-long scene: npm run bench frame-sampling)`,
    },
  ];
}
