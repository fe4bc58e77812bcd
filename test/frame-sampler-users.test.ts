/**
 * Users mode of the bundled frame sampler (schedule input `identity: "users"`): each face is
 * searched on its crop with SearchUsersByImage (UserMatchThreshold from faceMatchThreshold), and a
 * person enrolled with several pictures is matched as one Rekognition user, through the bundled
 * consumer to events valid against the README's JSON Schema that `onFaceMatch({ externalImageIds })`
 * patterns match as before.
 */
import { validateRecord } from '../lib/runtime/face-records/parser';
import { ConsumerServices, kinesisEvent, kinesisRecord, loadConsumer, startServices } from './support/consumer-harness';
import { check, readmeSchema } from './support/event-schema';
import { renderFrame, SceneFace } from './support/frames';
import { cameraInput, COLLECTION, context, DATA_ARN, loadSampler, SamplerServices, seedState, startSamplerServices, VIDEO_ARN } from './support/frame-sampler-harness';
import { checkIam } from './support/iam-check';
import { samplerRole, samplerUsersDeployment } from './support/iam-deployments';

// the sampler is checked against a users-mode deployment; the consumer signs as AKIDCONSUMER (its
// calls are checked against its own deployment in test/face-consumer-handler.test.ts)
const iam = checkIam({ deployment: samplerUsersDeployment, callers: { AKIDEXAMPLE: samplerRole }, ignoreKeys: ['AKIDCONSUMER'] });

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

jest.setTimeout(120_000);
const W = 480;
const H = 270;

/** 16 s of video: alice alone (2-8 s), then alice with bob (10-14 s: each searched on a crop). */
async function sample(identity?: 'users') {
  consumer.reset();
  services.reset();
  services.kinesis.streams.add(DATA_ARN);
  const start = Math.floor((Date.now() - 400_000) / 2000) * 2000;
  const face = (person: string, x: number, size: number): SceneFace => ({ person, x, y: 100, size });
  services.kvs.addStream({
    arn: VIDEO_ARN,
    retentionHours: 24,
    media: [[start, start + 16_000]],
    mediaErrors: new Set(),
    render: (t) => {
      const s = (t - start) / 1000;
      const faces = s >= 2 && s < 8 ? [face('alice', 60, 80)] : s >= 10 && s < 14 ? [face('alice', 60, 80), face('bob', 320, 64)] : [];
      return renderFrame({ width: W, height: H, noise: 3, seed: t % 7919, faces });
    },
  });
  seedState(services.dynamodb, { position: { N: String(start - 1000) } });
  const result = await loadSampler()(cameraInput(identity ? { identity, faceMatchThreshold: 85 } : {}), context());
  expect(result.stoppedEarly).toBeUndefined();
  const records = services.kinesis.json(DATA_ARN);
  records.forEach((r) => expect(() => validateRecord(r)).not.toThrow());
  const consume = loadConsumer(consumer);
  process.env.AWS_ACCESS_KEY_ID = 'AKIDCONSUMER'; // read by the consumer's clients at their first call
  const response = await consume(kinesisEvent(services.kinesis.records.map((r) => kinesisRecord(r.data.toString('base64')))));
  process.env.AWS_ACCESS_KEY_ID = 'AKIDEXAMPLE';
  expect(response).toEqual({ batchItemFailures: [] });
  return { records, events: consumer.eventBridge.events };
}

beforeEach(() => {
  services.rekognition.collections.clear();
  services.rekognition.users.clear();
  // alice's three pictures are three faces of the collection, and one user built from them
  services.rekognition.enrolUser(COLLECTION, 'alice', ['face-alice-1', 'face-alice-2', 'face-alice-3']);
  services.rekognition.enrolUser(COLLECTION, 'bob', ['face-bob-1']);
});

test('a person enrolled with three pictures is matched as one user, searched with SearchUsersByImage on each face\'s crop', async () => {
  const { records, events } = await sample('users');

  // every face alone, on its crop (the largest face only is searched), and only users are searched
  expect(services.rekognition.searched).toEqual(['alice', 'alice', 'bob']);
  expect(services.rekognition.count('SearchFacesByImage')).toBe(0);
  expect(services.rekognition.callsOf('SearchUsersByImage').map((c) => c.body)).toEqual(
    Array(3).fill({ CollectionId: COLLECTION, UserMatchThreshold: 85, MaxUsers: 5 }),
  );
  // the record carries the user in place of a face: UserId, and ExternalImageId equal to it
  const matched = records.flatMap((r) => r.FaceSearchResponse).flatMap((f: any) => f.MatchedFaces);
  expect(new Set(matched.map((m: any) => JSON.stringify(m.Face)))).toEqual(
    new Set([JSON.stringify({ UserId: 'alice', ExternalImageId: 'alice' }), JSON.stringify({ UserId: 'bob', ExternalImageId: 'bob' })]),
  );

  const alice = events.filter((e) => e.Detail.match?.userId === 'alice');
  expect(alice.length).toBeGreaterThan(0);
  for (const e of alice) {
    expect(e.DetailType).toBe('Face Matched');
    // one match: the person, not each of their pictures
    expect(e.Detail.matches).toEqual([{ userId: 'alice', externalImageId: 'alice', similarity: 99.4 }]);
    expect(e.Detail.match).toEqual(e.Detail.matches[0]);
  }
  expect(events.some((e) => e.Detail.match?.userId === 'bob')).toBe(true);
  const schema = readmeSchema();
  for (const e of events) {
    expect(check(schema, e.Detail, schema)).toEqual([]);
  }
});

test('faces mode, for comparison: the same sightings match each of alice\'s three faces', async () => {
  iam.notDeployed('faces mode is checked against the faces-mode deployment in test/frame-sampler-handler.test.ts; this file deploys users mode');
  const { events } = await sample();
  expect(services.rekognition.count('SearchUsersByImage')).toBe(0);
  const alice = events.filter((e) => e.Detail.match?.externalImageId === 'alice');
  expect(alice.length).toBeGreaterThan(0);
  for (const e of alice) {
    expect(e.Detail.matches.map((m: any) => m.faceId)).toEqual(['face-alice-1', 'face-alice-2', 'face-alice-3']);
    expect(e.Detail.match.userId).toBeUndefined();
  }
});

test('a schedule input with an unknown identity is refused, naming the field', async () => {
  services.reset();
  expect(await loadSampler()(cameraInput({ identity: 'people' }), context())).toEqual({ skipped: 'schedule input field identity: expected "users" or no field, got "people"' });
  expect(services.kvs.calls).toEqual([]);
});
