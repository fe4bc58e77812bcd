/**
 * The consumer's claim protocol (README "De-duplication"), through the bundled handler against
 * local DynamoDB, EventBridge and SQS servers: concurrent holders of one record, retries of an
 * undelivered window, producer clocks in the future, the cost of a batch (one conditional write
 * per key and window; the delivered marks in BatchWriteItem calls while the lease is live), and
 * the fake's BatchWriteItem itself.
 */
import { BatchWriteItemCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Context, KinesisStreamBatchResponse, KinesisStreamEvent } from 'aws-lambda';
import { ConsumerHandler, ConsumerServices, DATA_STREAM_ARN, Gate, kinesisEvent, kinesisRecord, loadConsumer, startServices, TABLE } from './support/consumer-harness';
import { recordWith, toData } from './fixtures/face-records';
import { checkIam } from './support/iam-check';
import { consumerDeployment, consumerRole } from './support/iam-deployments';

// every AWS call made in these tests is evaluated against the synthesized policies (test/support/iam-check.ts)
checkIam({ deployment: consumerDeployment, callers: { AKIDEXAMPLE: consumerRole } });

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
  const people = ['p0', 'p1', 'p2', 'p3', 'p4', 'p5'];
  const keyOf = (name: string) => `front-door#person:${name}`;

  /** Conditional writes at the table, as "key|window start" (an UpdateItem names its window by the event id it is conditioned on). */
  const conditionalWrites = () =>
    services.dynamodb.calls
      .filter((c) => (c.operation === 'PutItem' || c.operation === 'UpdateItem') && c.body.ConditionExpression)
      .map((c) => {
        if (c.operation === 'PutItem') {
          return `${c.body.Item.pk.S}|${c.body.Item.windowStart.N}`;
        }
        const claimOf = services.dynamodb.callsOf('PutItem').find((p) => p.body.Item.pk.S === c.body.Key.pk.S && p.body.Item.eventId.S === c.body.ExpressionAttributeValues[':id'].S);
        return `${c.body.Key.pk.S}|${claimOf?.body.Item.windowStart.N}`;
      });
  /** The write requests of each BatchWriteItem call, as the keys they put delivered. */
  const batchWrites = () =>
    services.dynamodb.callsOf('BatchWriteItem').map((c) =>
      (c.body.RequestItems[TABLE] as Array<{ PutRequest: { Item: Record<string, { S?: string; BOOL?: boolean }> } }>).map((r) => {
        expect(r.PutRequest.Item.delivered).toEqual({ BOOL: true });
        return r.PutRequest.Item.pk.S;
      }),
    );
  const conditionalUpdates = () => services.dynamodb.callsOf('UpdateItem').filter((c) => c.body.ConditionExpression);
  /** Every item as claimed, but delivered. */
  const expectClaimedAndDelivered = () => {
    const claims = new Map(services.dynamodb.callsOf('PutItem').map((c) => [c.body.Item.pk.S as string, c.body.Item]));
    for (const item of services.dynamodb.items(TABLE)) {
      expect(item).toEqual({ ...claims.get(item.pk.S!), delivered: { BOOL: true } });
    }
  };
  /** A Lambda context whose invocation has `remainingMs` left. */
  const contextWith = (remainingMs: number) =>
    ({ awsRequestId: 'req-1', functionName: 'consumer', functionVersion: '$LATEST', invokedFunctionArn: 'arn:aws:lambda:us-west-2:123456789012:function:consumer', memoryLimitInMB: '256', getRemainingTimeInMillis: () => remainingMs }) as unknown as Context;
  const withContext = (handler: ConsumerHandler) => handler as unknown as (event: KinesisStreamEvent, context: Context) => Promise<KinesisStreamBatchResponse>;

  test('200 faces of six people: one conditional write (the claim) per key and window, the marks in one BatchWriteItem, six events', async () => {
    const handler = loadConsumer(services, { dedupeWindowSeconds: 60 });
    expect(await handler(kinesisEvent(batch()))).toEqual({ batchItemFailures: [] });
    expect(services.eventBridge.events).toHaveLength(6);
    const writes = conditionalWrites();
    expect(writes).toHaveLength(6);
    expect(new Set(writes).size).toBe(6);
    expect(services.dynamodb.callsOf('UpdateItem')).toHaveLength(0);
    expect(batchWrites().map((keys) => keys.sort())).toEqual([people.map(keyOf)]);
    expect(services.dynamodb.items(TABLE)).toHaveLength(6);
    expectClaimedAndDelivered();
  });

  test('a batch spanning several windows claims each key once per window', async () => {
    const handler = loadConsumer(services, { dedupeWindowSeconds: 60 });
    // alice every 2 s for 200 s: windows start at 0, 60, 120, 180
    const records = Array.from({ length: 100 }, (_, i) => person('alice', i * 2));
    expect(await handler(kinesisEvent(records))).toEqual({ batchItemFailures: [] });
    expect(sent()).toEqual([0, 60, 120, 180].map((s) => `alice@${iso(s)}`));
    expect(conditionalWrites()).toEqual([0, 60, 120, 180].map((s) => `${keyOf('alice')}|${T + s}`));
    // only the last window needs its mark: the earlier ones were replaced by this invocation
    expect(batchWrites()).toEqual([[keyOf('alice')]]);
    expect(services.dynamodb.items(TABLE).map((i) => [i.windowStart.N, i.delivered.BOOL])).toEqual([[String(T + 180), true]]);
  });

  test('thirty people: the marks go 25 to a BatchWriteItem call', async () => {
    const handler = loadConsumer(services, { dedupeWindowSeconds: 60 });
    const names = Array.from({ length: 30 }, (_, i) => `q${i}`);
    expect(await handler(kinesisEvent(names.map((name, i) => person(name, i * 0.1))))).toEqual({ batchItemFailures: [] });
    expect(services.eventBridge.events).toHaveLength(30);
    expect(conditionalWrites()).toHaveLength(30);
    const calls = batchWrites();
    expect(calls.map((keys) => keys.length)).toEqual([25, 5]);
    expect(calls.flat().sort()).toEqual(names.map(keyOf).sort());
    expectClaimedAndDelivered();
  });

  test('marks left unprocessed are retried, with no conditional write', async () => {
    const handler = loadConsumer(services, { dedupeWindowSeconds: 60 });
    // the six marks come back unprocessed, then the first two of them once more
    services.dynamodb.leaveUnprocessed(8);
    expect(await handler(kinesisEvent(batch()))).toEqual({ batchItemFailures: [] });
    expect(batchWrites().map((keys) => keys.length)).toEqual([6, 6, 2]);
    expect(conditionalWrites()).toHaveLength(6);
    expect(conditionalUpdates()).toHaveLength(0);
    expectClaimedAndDelivered();
  });

  test('marks still unprocessed after the retries stay undelivered: a replay in the lease is retried, not sent', async () => {
    const handler = loadConsumer(services, { dedupeWindowSeconds: 60 });
    const records = batch();
    // every attempt (4) of each of the six marks comes back unprocessed
    services.dynamodb.leaveUnprocessed(24);
    expect(await handler(kinesisEvent(records))).toEqual({ batchItemFailures: [] });
    expect(batchWrites().map((keys) => keys.length)).toEqual([6, 6, 6, 6]);
    expect(conditionalUpdates()).toHaveLength(0);
    expect(services.dynamodb.items(TABLE).map((i) => i.delivered.BOOL)).toEqual([false, false, false, false, false, false]);
    // the records replayed while the lease is live: each key is held, so retried later, and nothing is sent twice
    services.dynamodb.calls.length = 0;
    const replay = await loadConsumer(services, { dedupeWindowSeconds: 60 })(kinesisEvent(records));
    expect(replay.batchItemFailures).toEqual(records.map((r) => ({ itemIdentifier: r.kinesis.sequenceNumber })));
    expect(services.eventBridge.events).toHaveLength(6);
    expect(services.dynamodb.callsOf('BatchWriteItem')).toHaveLength(0);
  });

  test('a lease within its margin of the end marks with the conditional update instead', async () => {
    const handler = withContext(loadConsumer(services, { dedupeWindowSeconds: 60 }));
    // 5 s left: less than the 10 s margin an unconditional write needs
    expect(await handler(kinesisEvent(batch()), contextWith(5000))).toEqual({ batchItemFailures: [] });
    expect(services.dynamodb.callsOf('BatchWriteItem')).toHaveLength(0);
    expect(conditionalUpdates().map((c) => c.body.Key.pk.S).sort()).toEqual(people.map(keyOf));
    for (const update of conditionalUpdates()) {
      expect(update.body.ConditionExpression).toBe('eventId = :id AND claimedBy = :me');
    }
    expectClaimedAndDelivered();
  });

  test('a lease that reaches its margin while unprocessed marks are retried marks the rest conditionally', async () => {
    const handler = withContext(loadConsumer(services, { dedupeWindowSeconds: 60 }));
    const now = Date.now.bind(Date);
    let skip = 0;
    const clock = jest.spyOn(Date, 'now').mockImplementation(() => now() + skip);
    try {
      // the first BatchWriteItem leaves two marks unprocessed and takes 25 s of a 30 s lease
      services.dynamodb.leaveUnprocessed(2);
      services.dynamodb.onRequest = (operation) => {
        if (operation === 'BatchWriteItem') {
          skip = 25000;
        }
      };
      expect(await handler(kinesisEvent(batch()), contextWith(30000))).toEqual({ batchItemFailures: [] });
    } finally {
      clock.mockRestore();
    }
    expect(batchWrites().map((keys) => keys.length)).toEqual([6]);
    expect(conditionalUpdates()).toHaveLength(2);
    expect(conditionalWrites()).toHaveLength(8);
    expectClaimedAndDelivered();
  });

  test('a replay of a delivered batch sends nothing and makes one call per key, none of them a mark', async () => {
    const handler = loadConsumer(services, { dedupeWindowSeconds: 60 });
    const records = batch();
    await handler(kinesisEvent(records));
    services.dynamodb.calls.length = 0;
    expect(await handler(kinesisEvent(records))).toEqual({ batchItemFailures: [] });
    expect(services.eventBridge.events).toHaveLength(6);
    expect(services.dynamodb.callsOf('PutItem')).toHaveLength(6);
    expect(services.dynamodb.callsOf('UpdateItem')).toHaveLength(0);
    expect(services.dynamodb.callsOf('BatchWriteItem')).toHaveLength(0);
    expect(services.dynamodb.items(TABLE).every((i) => i.delivered.BOOL === true)).toBe(true);
  });
});

describe('the fake table answers BatchWriteItem as DynamoDB does', () => {
  const client = () => new DynamoDBClient({ endpoint: process.env.AWS_ENDPOINT_URL_DYNAMODB, region: 'us-west-2', maxAttempts: 1 });
  const put = (pk: string) => ({ PutRequest: { Item: { pk: { S: pk }, n: { N: '1' } } } });

  test('more than 25 requests, or one key twice, is a ValidationException and writes nothing', async () => {
    const dynamodb = client();
    await expect(dynamodb.send(new BatchWriteItemCommand({ RequestItems: { [TABLE]: Array.from({ length: 26 }, (_, i) => put(`k${i}`)) } }))).rejects.toMatchObject({
      name: 'ValidationException',
    });
    await expect(dynamodb.send(new BatchWriteItemCommand({ RequestItems: { [TABLE]: [put('a'), { DeleteRequest: { Key: { pk: { S: 'a' } } } }] } }))).rejects.toMatchObject({
      name: 'ValidationException',
      message: 'Provided list of item keys contains duplicates',
    });
    expect(services.dynamodb.items(TABLE)).toEqual([]);
  });

  test('puts and deletes without a condition, and hands back the requests left unprocessed', async () => {
    const dynamodb = client();
    services.dynamodb.tables.set(TABLE, new Map([['gone', { pk: { S: 'gone' } }]]));
    services.dynamodb.leaveUnprocessed(1);
    const first = await dynamodb.send(new BatchWriteItemCommand({ RequestItems: { [TABLE]: [put('a'), put('b'), { DeleteRequest: { Key: { pk: { S: 'gone' } } } }] } }));
    expect(first.UnprocessedItems).toEqual({ [TABLE]: [put('a')] });
    expect(services.dynamodb.items(TABLE).map((i) => i.pk.S)).toEqual(['b']);
    const second = await dynamodb.send(new BatchWriteItemCommand({ RequestItems: first.UnprocessedItems }));
    expect(second.UnprocessedItems).toEqual({});
    expect(services.dynamodb.items(TABLE).map((i) => i.pk.S).sort()).toEqual(['a', 'b']);
  });
});
