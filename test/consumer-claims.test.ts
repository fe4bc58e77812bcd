/**
 * The consumer's claim protocol (README "De-duplication"), through the bundled handler against
 * local DynamoDB, EventBridge and SQS servers: concurrent holders of one record, retries of an
 * undelivered window, producer clocks in the future, and the cost of a batch.
 */
import { ConsumerServices, DATA_STREAM_ARN, Gate, kinesisEvent, kinesisRecord, loadConsumer, startServices, TABLE } from './support/consumer-harness';
import { recordWith, toData } from './fixtures/face-records';

let services: ConsumerServices;

beforeAll(async () => {
  services = await startServices();
});
afterAll(async () => {
  await services.stop();
});
beforeEach(() => services.reset());

const T = 1700000000;
const iso = (second: number) => new Date((T + second) * 1000).toISOString();
const person = (name: string, second: number) => kinesisRecord(toData(recordWith([{ matches: [name] }], { producerTime: T + second })));
const sent = () => services.eventBridge.events.map((e) => `${e.Detail.match?.externalImageId ?? 'unknown'}@${e.Detail.frameTime}`);
const seq = (...records: Array<ReturnType<typeof person>>) => records.map((r) => ({ itemIdentifier: r.kinesis.sequenceNumber }));

describe('concurrent holders of one record (item 9)', () => {
  test('two invocations holding the same record at once send its event once; the second retries it and finds it delivered', async () => {
    // the first PutEvents call waits at the gate: its invocation has claimed the sighting and is sending it
    const gate = new Gate(process.env.AWS_ENDPOINT_URL_EVENTBRIDGE!, 1);
    await gate.start();
    try {
      await gate.use('AWS_ENDPOINT_URL_EVENTBRIDGE', async () => {
        const first = loadConsumer(services, { dedupeWindowSeconds: 60 });
        const second = loadConsumer(services, { dedupeWindowSeconds: 60 });
        const record = person('alice', 0);
        const firstDone = first(kinesisEvent([record]));
        await gate.arrived(1);

        expect(await second(kinesisEvent([record]))).toEqual({ batchItemFailures: seq(record) });
        expect(services.eventBridge.events).toHaveLength(0);

        gate.open();
        expect(await firstDone).toEqual({ batchItemFailures: [] });
        expect(sent()).toEqual([`alice@${iso(0)}`]);

        // Lambda retries the second invocation's record later: delivered, so not sent again
        expect(await second(kinesisEvent([record]))).toEqual({ batchItemFailures: [] });
        expect(sent()).toEqual([`alice@${iso(0)}`]);
      });
    } finally {
      await gate.stop();
    }
  });

  test('a holder that died (its lease expired) does not hold the record back', async () => {
    const handler = loadConsumer(services, { dedupeWindowSeconds: 60 });
    const record = person('alice', 0);
    // what an invocation that timed out between its claim and its PutEvents leaves
    await handler(kinesisEvent([record]));
    const [item] = services.dynamodb.items(TABLE);
    services.reset();
    services.dynamodb.tables.set(TABLE, new Map([[item.pk.S!, { ...item, delivered: { BOOL: false }, claimedBy: { S: 'dead' }, leaseUntil: { N: String(Date.now() / 1000 - 1) } }]]));

    expect(await handler(kinesisEvent([record]))).toEqual({ batchItemFailures: [] });
    expect(sent()).toEqual([`alice@${iso(0)}`]);
  });
});

describe('retried windows (item 10)', () => {
  test('a sighting whose event stays throttled is still sent on retry, though a later window of the person was in the batch', async () => {
    const handler = loadConsumer(services, { dedupeWindowSeconds: 60 });
    const records = [person('dave', 0), person('erin', 20), person('dave', 61)];
    // every attempt (4) of Dave@t's entry is throttled in the first invocation
    services.eventBridge.failMatching((d) => d.match?.externalImageId === 'dave' && d.frameTime === iso(0), 'ThrottlingException', 4);

    const first = await handler(kinesisEvent(records));
    expect(first.batchItemFailures[0]).toEqual({ itemIdentifier: records[0].kinesis.sequenceNumber });

    // Lambda retries from the first failure: the whole batch again
    expect(await handler(kinesisEvent(records))).toEqual({ batchItemFailures: [] });
    expect(sent().sort()).toEqual([`dave@${iso(0)}`, `dave@${iso(61)}`, `erin@${iso(20)}`]);
  });
});

describe('producer clocks in the future (item 11)', () => {
  test('a fragment stamped a year ahead does not suppress later sightings of that person or unknown faces on that camera', async () => {
    const handler = loadConsumer(services, { dedupeWindowSeconds: 60 });
    const yearAhead = T + 365 * 86400;
    const arrival = T + 1; // Kinesis's clock: when the record really arrived
    const ahead = kinesisRecord(toData(recordWith([{ matches: ['alice'] }, { matches: [] }], { producerTime: yearAhead })), DATA_STREAM_ARN, arrival);
    expect(await handler(kinesisEvent([ahead]))).toEqual({ batchItemFailures: [] });
    // the events still report the frame time the producer gave
    expect(sent().sort()).toEqual([`alice@${new Date(yearAhead * 1000).toISOString()}`, `unknown@${new Date(yearAhead * 1000).toISOString()}`]);
    // and the claims expire with the window, not a year later
    for (const item of services.dynamodb.items(TABLE)) {
      expect(Number(item.windowEnds.N)).toBeLessThanOrEqual(arrival + 5 + 60);
      expect(Number(item.expiresAt.N)).toBeLessThanOrEqual(Date.now() / 1000 + 2 * 3600);
    }

    // two minutes later, with a correct clock
    const later = kinesisRecord(toData(recordWith([{ matches: ['alice'] }, { matches: [] }], { producerTime: T + 120 })));
    expect(await handler(kinesisEvent([later]))).toEqual({ batchItemFailures: [] });
    expect(sent()).toHaveLength(4);
    expect(sent().slice(2).sort()).toEqual([`alice@${iso(120)}`, `unknown@${iso(120)}`]);
  });

  test('frames a little ahead of the arrival (within 5 s) keep their frame time as window time', async () => {
    const handler = loadConsumer(services, { dedupeWindowSeconds: 30 });
    // arrival at T; frames at T+4 and T+33.5: 29.5 s apart, one window when measured in frame time
    const a = kinesisRecord(toData(recordWith([{ matches: ['bob'] }], { producerTime: T + 4 })), DATA_STREAM_ARN, T);
    const b = kinesisRecord(toData(recordWith([{ matches: ['bob'] }], { producerTime: T + 33.5 })), DATA_STREAM_ARN, T + 34);
    await handler(kinesisEvent([a, b]));
    expect(sent()).toEqual([`bob@${iso(4)}`]);
  });
});

describe('cost of a batch (item 14)', () => {
  // 100 records of two faces each, six people, 20 s of frames: one window per person
  const batch = () =>
    Array.from({ length: 100 }, (_, i) =>
      kinesisRecord(toData(recordWith([{ matches: [`p${i % 6}`] }, { matches: [`p${(i + 1) % 6}`] }], { producerTime: T + i * 0.2 }))),
    );

  test('200 faces of six people: one claim and one delivered mark per person, six events', async () => {
    const handler = loadConsumer(services, { dedupeWindowSeconds: 60 });
    expect(await handler(kinesisEvent(batch()))).toEqual({ batchItemFailures: [] });
    expect(services.eventBridge.events).toHaveLength(6);
    expect(services.dynamodb.callsOf('PutItem')).toHaveLength(6);
    expect(services.dynamodb.callsOf('UpdateItem')).toHaveLength(6);
    expect(services.dynamodb.items(TABLE).every((i) => i.delivered.BOOL === true)).toBe(true);
  });

  test('a batch spanning several windows claims each key once per window', async () => {
    const handler = loadConsumer(services, { dedupeWindowSeconds: 60 });
    // alice every 2 s for 200 s: windows start at 0, 60, 120, 180
    const records = Array.from({ length: 100 }, (_, i) => person('alice', i * 2));
    expect(await handler(kinesisEvent(records))).toEqual({ batchItemFailures: [] });
    expect(sent()).toEqual([0, 60, 120, 180].map((s) => `alice@${iso(s)}`));
    expect(services.dynamodb.callsOf('PutItem')).toHaveLength(4);
    // only the last window needs its mark: the earlier ones were replaced by this invocation
    expect(services.dynamodb.callsOf('UpdateItem')).toHaveLength(1);
  });

  test('a replay of a delivered batch sends nothing and makes one call per key', async () => {
    const handler = loadConsumer(services, { dedupeWindowSeconds: 60 });
    const records = batch();
    await handler(kinesisEvent(records));
    services.dynamodb.calls.length = 0;
    expect(await handler(kinesisEvent(records))).toEqual({ batchItemFailures: [] });
    expect(services.eventBridge.events).toHaveLength(6);
    expect(services.dynamodb.callsOf('PutItem')).toHaveLength(6);
    expect(services.dynamodb.callsOf('UpdateItem')).toHaveLength(0);
  });
});
