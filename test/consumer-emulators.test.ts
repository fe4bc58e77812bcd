/**
 * The consumer's main behaviours (face events, dead letters, de-duplication with conditional
 * writes) through the bundled handler, against the project's fakes and against moto, an AWS
 * emulator written by others (test/support/consumer-backends.ts): the same spec, read the way a user
 * reads the outcome (events a rule delivered, letters in the queue, items in the table). Faults
 * are injected only into the fakes (test/face-consumer-handler.test.ts and the other consumer tests).
 * Events reach the test through a rule's SQS target and letters through a standard queue, which
 * AWS documents as best-effort ordered: what came out is compared in a sorted order.
 */
import { ConsumerBackend, fakeConsumerBackend, motoConsumerBackend } from './support/consumer-backends';
import { MOTO_TIMEOUT } from './support/moto';
import { DATA_STREAM_ARN, kinesisEvent, kinesisRecord, loadConsumer } from './support/consumer-harness';
import { documentedRecord, recordWith, toData } from './fixtures/face-records';
import { checkIam } from './support/iam-check';
import { consumerDeployment, consumerRole } from './support/iam-deployments';

// every call that reaches the project's fakes is evaluated against the synthesized policies (moto's are not recorded)
checkIam({ deployment: consumerDeployment, callers: { AKIDEXAMPLE: consumerRole } });

/** Rows compared by their JSON text: an order that does not depend on delivery. */
const sorted = <T>(rows: T[]): T[] => [...rows].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));

// a ceiling, not a measure: moto is a Python server, slow to start and to answer on a busy machine
jest.setTimeout(MOTO_TIMEOUT);

const person = (name: string, second: number, extra: { fragment?: string } = {}) =>
  kinesisRecord(toData(recordWith([{ matches: [name] }], { producerTime: 1700000000 + second, ...extra })));

describe.each<[string, () => Promise<ConsumerBackend>]>([
  ['the project\'s fakes', fakeConsumerBackend],
  ['moto', motoConsumerBackend],
])('against %s', (_name, start) => {
  let backend: ConsumerBackend;

  beforeAll(async () => {
    backend = await start();
  });
  afterAll(async () => {
    await backend?.stop();
  });
  beforeEach(async () => {
    await backend.reset();
  });

  test('a mixed batch: good records become events on the bus, bad ones dead letters with their reasons and data', async () => {
    const handler = loadConsumer(backend);
    const wrongType = documentedRecord();
    wrongType.FaceSearchResponse[0].MatchedFaces[0].Similarity = 'high';
    const frame = (faces: Array<{ matches: string[] }>, second: number) => toData(recordWith(faces, { producerTime: 1700000000 + second }));
    const records = [
      kinesisRecord(frame([{ matches: ['alice'] }], 0)),
      kinesisRecord('not base64 at all!'),
      kinesisRecord(frame([{ matches: [] }], 2)),
      kinesisRecord(toData(wrongType)),
      kinesisRecord(frame([{ matches: ['bob'] }, { matches: [] }], 4)),
    ];
    expect(await handler(kinesisEvent(records))).toEqual({ batchItemFailures: [] });

    const events = await backend.events();
    expect(sorted(events.map((e) => [e.Detail.frameTime, e.Detail.faceIndex, e.DetailType, e.Detail.match?.externalImageId ?? null]))).toEqual([
      ['2023-11-14T22:13:20.000Z', 0, 'Face Matched', 'alice'],
      ['2023-11-14T22:13:22.000Z', 0, 'Face Not Matched', null],
      ['2023-11-14T22:13:24.000Z', 0, 'Face Matched', 'bob'],
      ['2023-11-14T22:13:24.000Z', 1, 'Face Not Matched', null],
    ]);
    for (const e of events) {
      expect(e).toMatchObject({ Source: 'face-stream-pipeline', Resources: [expect.stringContaining(':kinesisvideo:')] });
      expect(e.Detail).toMatchObject({ version: '1', camera: 'front-door', consumer: 'TestStack-Consumer' });
    }
    const letters = (await backend.deadLetters()).map((body) => JSON.parse(body)).sort((a, b) => a.sequenceNumber.localeCompare(b.sequenceNumber));
    expect(letters.map((l) => [l.sequenceNumber, l.data, l.eventSourceARN, l.dataTruncated])).toEqual([
      [records[1].kinesis.sequenceNumber, records[1].kinesis.data, DATA_STREAM_ARN, false],
      [records[3].kinesis.sequenceNumber, records[3].kinesis.data, DATA_STREAM_ARN, false],
    ]);
    expect(letters[1].reason).toBe('FaceSearchResponse[0].MatchedFaces[0].Similarity: expected a number 0-100, got "high"');
  });

  test('more events than one PutEvents call takes all reach the bus', async () => {
    const handler = loadConsumer(backend);
    const records = Array.from({ length: 25 }, (_, i) => person(`p${i}`, i));
    expect(await handler(kinesisEvent(records))).toEqual({ batchItemFailures: [] });
    expect((await backend.events()).map((e) => e.Detail.match.externalImageId).sort()).toEqual(records.map((_, i) => `p${i}`).sort());
  });

  test('a record too large for an SQS message is dead-lettered with the start of its data, within the queue\'s size', async () => {
    const handler = loadConsumer(backend);
    const big = Buffer.from('x'.repeat(1024 * 1024)).toString('base64'); // Kinesis's largest record
    const record = kinesisRecord(big);
    expect(await handler(kinesisEvent([record]))).toEqual({ batchItemFailures: [] });
    const [body] = await backend.deadLetters();
    expect(Buffer.byteLength(body)).toBeLessThanOrEqual(1024 * 1024);
    const letter = JSON.parse(body);
    expect(letter).toMatchObject({ dataTruncated: true, dataLength: big.length, sequenceNumber: record.kinesis.sequenceNumber });
    expect(big.startsWith(letter.data)).toBe(true);
    expect(letter.data.length).toBeGreaterThan(1000 * 1000);
  });

  test('a record whose data decodes to characters SQS refuses is dead-lettered, escaped', async () => {
    const handler = loadConsumer(backend);
    const odd = kinesisRecord(toData('\uFFFF\uFFFE not json'));
    expect(await handler(kinesisEvent([odd]))).toEqual({ batchItemFailures: [] });
    const [body] = await backend.deadLetters();
    expect(body).not.toMatch(/[\uFFFE\uFFFF]/);
    expect(JSON.parse(body)).toMatchObject({ sequenceNumber: odd.kinesis.sequenceNumber, reason: expect.stringContaining('\uFFFF\uFFFE not json') });
  });

  describe('de-duplication (conditional writes on the sighting table)', () => {
    test('one person in consecutive frames is one event per window; unknown faces once per camera and window', async () => {
      const handler = loadConsumer(backend, { dedupeWindowSeconds: 30 });
      const records = [
        ...[0, 1, 2, 3].map((s) => person('alice', s)),
        ...[0, 1].map((s) => kinesisRecord(toData(recordWith([{ matches: [] }], { producerTime: 1700000000 + s })))),
        person('alice', 45), // a new window
      ];
      expect(await handler(kinesisEvent(records))).toEqual({ batchItemFailures: [] });
      expect(sorted((await backend.events()).map((e) => [e.DetailType, e.Detail.match?.externalImageId ?? null, e.Detail.frameTime]))).toEqual([
        ['Face Matched', 'alice', '2023-11-14T22:13:20.000Z'],
        ['Face Matched', 'alice', '2023-11-14T22:14:05.000Z'],
        ['Face Not Matched', null, '2023-11-14T22:13:20.000Z'],
      ]);
      const items = await backend.sightings();
      expect(items.map((i) => [i.pk.S, i.delivered.BOOL]).sort()).toEqual([
        ['front-door#person:alice', true],
        ['front-door#unknown', true],
      ]);
      // each claim expires by TTL, in seconds, after its window
      for (const item of items) {
        expect(Number(item.expiresAt.N)).toBeGreaterThan(1700000000);
      }
    });

    test('two concurrent invocations seeing the same person send one event', async () => {
      const handler = loadConsumer(backend, { dedupeWindowSeconds: 30 });
      const first = [0, 1, 2].map((s) => person('alice', s, { fragment: '1' }));
      const second = [0.5, 1.5, 2.5].map((s) => person('alice', s, { fragment: '2' }));
      const results = await Promise.all([handler(kinesisEvent(first)), handler(kinesisEvent(second))]);
      expect(results).toEqual([{ batchItemFailures: [] }, { batchItemFailures: [] }]);
      expect(await backend.events()).toHaveLength(1);
    });

    test('a replayed record whose event was delivered is not sent again', async () => {
      const handler = loadConsumer(backend, { dedupeWindowSeconds: 30 });
      const record = person('alice', 0);
      expect(await handler(kinesisEvent([record]))).toEqual({ batchItemFailures: [] });
      expect(await handler(kinesisEvent([record]))).toEqual({ batchItemFailures: [] });
      expect(await backend.events()).toHaveLength(1);
    });
  });
});
