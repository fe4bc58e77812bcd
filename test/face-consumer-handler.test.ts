/**
 * Behaviour of the bundled consumer (assets/face-consumer/index.js) with Kinesis Lambda events,
 * against local servers speaking EventBridge's, SQS's and DynamoDB's wire protocols, through the
 * real AWS SDK v3 clients.
 */
import { ConsumerServices, DATA_STREAM_ARN, kinesisEvent, kinesisRecord, loadConsumer, startServices, TABLE } from './support/consumer-harness';
import { documentedRecord, recordWith, toData } from './fixtures/face-records';
import { checkIam } from './support/iam-check';
import { consumerDeployment, consumerRole } from './support/iam-deployments';

// every call the bundle makes is evaluated against the consumer's synthesized policies
checkIam({ deployment: consumerDeployment, callers: { AKIDEXAMPLE: consumerRole } });

let services: ConsumerServices;

beforeAll(async () => {
  services = await startServices();
});
afterAll(async () => {
  await services.stop();
});
beforeEach(() => services.reset());

const person = (name: string, second: number, extra: { fragment?: string } = {}) =>
  kinesisRecord(toData(recordWith([{ matches: [name] }], { producerTime: 1700000000 + second, ...extra })));

describe('without de-duplication', () => {
  test('a mixed batch: good records become events, bad ones land in the DLQ with reasons, nothing is retried or lost', async () => {
    const handler = loadConsumer(services);
    const badJson = '{"InputInformation": ';
    const wrongType = documentedRecord();
    wrongType.FaceSearchResponse[0].MatchedFaces[0].Similarity = 'high';
    const frame = (faces: Array<{ matches: string[] }>, second: number) => toData(recordWith(faces, { producerTime: 1700000000 + second }));
    const records = [
      kinesisRecord(frame([{ matches: ['alice'] }], 0)), // 1 matched face
      kinesisRecord(frame([{ matches: [] }], 1)), // 1 unknown face
      kinesisRecord('not base64 at all!'),
      kinesisRecord(frame([], 3)), // a frame with no face
      kinesisRecord(toData(badJson)),
      kinesisRecord(toData(wrongType)),
      kinesisRecord(frame([{ matches: ['bob'] }, { matches: [] }], 6)), // 2 faces
    ];
    const response = await handler(kinesisEvent(records));

    expect(response).toEqual({ batchItemFailures: [] });
    const events = services.eventBridge.events;
    expect(events.map((e) => [e.DetailType, e.Detail.match?.externalImageId ?? null])).toEqual([
      ['Face Matched', 'alice'],
      ['Face Not Matched', null],
      ['Face Matched', 'bob'],
      ['Face Not Matched', null],
    ]);
    for (const e of events) {
      expect(e).toMatchObject({ Source: 'face-stream-pipeline', EventBusName: 'faces-bus', Resources: [expect.stringContaining(':kinesisvideo:')] });
      expect(e.Detail).toMatchObject({ version: '1', camera: 'front-door', consumer: 'TestStack-Consumer' });
    }

    const letters = services.sqs.bodies();
    expect(letters.map((l) => [l.sequenceNumber, l.reason])).toEqual([
      [records[2].kinesis.sequenceNumber, '(data): expected base64 text, got characters or a length that base64 does not allow'],
      [records[4].kinesis.sequenceNumber, expect.stringMatching(/^\(data\): expected JSON, got "\{\\"InputInformation\\": "/)],
      [records[5].kinesis.sequenceNumber, 'FaceSearchResponse[0].MatchedFaces[0].Similarity: expected a number 0-100, got "high"'],
    ]);
    for (const [i, letter] of letters.entries()) {
      const record = records[[2, 4, 5][i]];
      expect(letter).toMatchObject({ data: record.kinesis.data, dataTruncated: false, eventSourceARN: DATA_STREAM_ARN, camera: 'front-door' });
    }
    expect(services.sqs.messages.every((m) => m.QueueUrl === services.dlqUrl)).toBe(true);

    // nothing lost, record by record: each record gave one event per face, or one dead letter
    const expected = [
      { faces: 1, dead: false },
      { faces: 1, dead: false },
      { faces: 0, dead: true },
      { faces: 0, dead: false },
      { faces: 0, dead: true },
      { faces: 0, dead: true },
      { faces: 2, dead: false },
    ];
    records.forEach((record, i) => {
      const decoded = expected[i].dead ? undefined : JSON.parse(Buffer.from(record.kinesis.data, 'base64').toString());
      const fragment = decoded?.InputInformation.KinesisVideo.FragmentNumber;
      expect({
        record: i,
        faces: events.filter((e) => fragment !== undefined && e.Detail.fragmentNumber === fragment).length,
        dead: letters.some((l) => l.sequenceNumber === record.kinesis.sequenceNumber),
      }).toEqual({ record: i, ...expected[i] });
    });
  });

  test('events go out at most 10 per PutEvents call: ceil(events / 10) calls', async () => {
    const handler = loadConsumer(services);
    const records = Array.from({ length: 25 }, (_, i) => person(`p${i}`, i));
    const response = await handler(kinesisEvent(records));
    expect(response.batchItemFailures).toEqual([]);
    expect(services.eventBridge.events).toHaveLength(25);
    expect(services.eventBridge.callsOf('PutEvents')).toHaveLength(Math.ceil(25 / 10));
  });

  test('calls stay under 256 KB: large events are split into more calls', async () => {
    const handler = loadConsumer(services);
    const longId = (i: number, j: number) => `${'x'.repeat(240)}-${i}-${j}`;
    const record = recordWith(Array.from({ length: 10 }, (_, i) => ({ matches: Array.from({ length: 80 }, (__, j) => longId(i, j)) })));
    const response = await handler(kinesisEvent([kinesisRecord(toData(record))]));
    expect(response.batchItemFailures).toEqual([]);
    expect(services.eventBridge.events).toHaveLength(10);
    const calls = services.eventBridge.callsOf('PutEvents');
    expect(calls.length).toBeGreaterThan(1);
    for (const call of calls) {
      const size = call.body.Entries.reduce((n: number, e: any) => n + 14 + Buffer.byteLength(e.Source) + Buffer.byteLength(e.DetailType) + Buffer.byteLength(e.Detail) + Buffer.byteLength(e.Resources[0]), 0);
      expect(size).toBeLessThanOrEqual(256 * 1024);
    }
  });

  test('entries reported failed (FailedEntryCount) are retried, not dropped', async () => {
    const handler = loadConsumer(services);
    services.eventBridge.failEntries(2, 'ThrottlingException');
    const response = await handler(kinesisEvent([person('a', 0), person('b', 1), person('c', 2)]));
    expect(response.batchItemFailures).toEqual([]);
    expect(services.eventBridge.events.map((e) => e.Detail.match.externalImageId).sort()).toEqual(['a', 'b', 'c']);
    const calls = services.eventBridge.callsOf('PutEvents');
    expect(calls.map((c) => c.body.Entries.length)).toEqual([3, 2]);
  });

  test('a transient failure that outlasts the retries names exactly the records affected', async () => {
    const handler = loadConsumer(services);
    services.eventBridge.failMatching((detail) => detail.match?.externalImageId === 'bob', 'InternalFailure');
    const records = [person('alice', 0), person('bob', 1), person('carol', 2)];
    const response = await handler(kinesisEvent(records));
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: records[1].kinesis.sequenceNumber }] });
    expect(services.eventBridge.events.map((e) => e.Detail.match.externalImageId)).toEqual(['alice', 'carol']);
  });

  test('a PutEvents call that keeps failing with a 5xx makes its records batch item failures', async () => {
    const handler = loadConsumer(services);
    services.eventBridge.fail({ operation: 'PutEvents', type: 'InternalException', message: 'boom', status: 500, times: 100 });
    const records = [person('alice', 0), person('bob', 1)];
    const response = await handler(kinesisEvent(records));
    expect(response.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(records.map((r) => r.kinesis.sequenceNumber));
  });

  test('when the DLQ cannot take a malformed record, that record is retried instead of lost', async () => {
    const handler = loadConsumer(services);
    services.sqs.fail({ operation: 'SendMessage', type: 'ServiceUnavailable', message: 'down', status: 503, times: 10 });
    const records = [person('alice', 0), kinesisRecord('%%%%')];
    const response = await handler(kinesisEvent(records));
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: records[1].kinesis.sequenceNumber }] });
    expect(services.eventBridge.events).toHaveLength(1);
  });

  test('a dead letter the queue rejects in a batch response is sent again alone, not left for a retry', async () => {
    const handler = loadConsumer(services);
    services.sqs.rejectEntries = 1;
    const records = [kinesisRecord('%%%%'), kinesisRecord('&&&&')];
    const response = await handler(kinesisEvent(records));
    expect(response).toEqual({ batchItemFailures: [] });
    expect(services.sqs.bodies().map((b) => b.sequenceNumber).sort()).toEqual(records.map((r) => r.kinesis.sequenceNumber).sort());
  });

  test('a dead letter the queue keeps refusing is retried', async () => {
    const handler = loadConsumer(services);
    services.sqs.rejectEntries = 1;
    services.sqs.fail({ operation: 'SendMessage', type: 'ServiceUnavailable', message: 'down', status: 503, times: 10 });
    const records = [kinesisRecord('%%%%'), kinesisRecord('&&&&')];
    const response = await handler(kinesisEvent(records));
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: records[0].kinesis.sequenceNumber }] });
    expect(services.sqs.bodies().map((b) => b.sequenceNumber)).toEqual([records[1].kinesis.sequenceNumber]);
  });

  test('a record too large for an SQS message keeps the start of its data and where to find it', async () => {
    const handler = loadConsumer(services); // MaximumMessageSize 1 MiB
    const big = Buffer.from('x'.repeat(1024 * 1024)).toString('base64'); // Kinesis's largest record
    expect(big.length).toBeGreaterThan(1024 * 1024);
    const record = kinesisRecord(big);
    const response = await handler(kinesisEvent([record]));
    expect(response.batchItemFailures).toEqual([]);
    const [letter] = services.sqs.bodies();
    expect(letter).toMatchObject({ dataTruncated: true, dataLength: big.length, sequenceNumber: record.kinesis.sequenceNumber, eventSourceARN: DATA_STREAM_ARN });
    expect(big.startsWith(letter.data)).toBe(true);
    expect(Buffer.byteLength(services.sqs.messages[0].Body)).toBeLessThanOrEqual(1024 * 1024);
    expect(Buffer.byteLength(services.sqs.messages[0].Body)).toBeGreaterThan(1024 * 1024 - 1024);
    expect(letter.reason).toMatch(/^\(data\): expected JSON/);
  });

  test('the camera falls back to the video stream name for a data stream it does not know', async () => {
    const handler = loadConsumer(services);
    await handler(kinesisEvent([kinesisRecord(toData(documentedRecord()), 'arn:aws:kinesis:us-west-2:123456789012:stream/other')]));
    expect(services.eventBridge.events[0].Detail.camera).toBe('front-door');
  });

  test('metrics are published as CloudWatch embedded metric format', async () => {
    process.env.POWERTOOLS_METRICS_DISABLED = 'false';
    const handler = loadConsumer(services);
    process.env.POWERTOOLS_METRICS_DISABLED = 'true';
    const lines: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: any, ...rest: any[]) => {
      lines.push(String(chunk));
      return true || write(chunk, ...rest);
    });
    const log = jest.spyOn(console, 'log').mockImplementation((...args: unknown[]) => {
      lines.push(args.map(String).join(' '));
    });
    try {
      await handler(kinesisEvent([person('alice', 0), kinesisRecord(toData(recordWith([{ matches: [] }]))), kinesisRecord('%%%%')]));
    } finally {
      spy.mockRestore();
      log.mockRestore();
    }
    const emf = lines.map((l) => l.trim()).filter((l) => l.includes('"_aws"')).map((l) => JSON.parse(l));
    expect(emf).toHaveLength(1);
    expect(emf[0]).toMatchObject({ RecordsProcessed: 3, FacesMatched: 1, UnknownFaces: 1, MalformedRecords: 1, EventsFailed: 0, DedupedSightings: 0 });
    expect(emf[0]._aws.CloudWatchMetrics[0].Namespace).toBe('FaceStreamPipeline');
  });
});

describe('sighting de-duplication', () => {
  test('one person seen in consecutive frames is one event per window; unknown faces once per camera and window', async () => {
    const handler = loadConsumer(services, { dedupeWindowSeconds: 30 });
    const records = [
      ...[0, 1, 2, 3, 4].map((s) => person('alice', s)),
      ...[0, 1, 2].map((s) => kinesisRecord(toData(recordWith([{ matches: [] }], { producerTime: 1700000000 + s })))),
      person('alice', 45), // a new window
    ];
    const response = await handler(kinesisEvent(records));
    expect(response.batchItemFailures).toEqual([]);
    expect(services.eventBridge.events.map((e) => [e.DetailType, e.Detail.match?.externalImageId ?? null, e.Detail.frameTime])).toEqual([
      ['Face Matched', 'alice', '2023-11-14T22:13:20.000Z'],
      ['Face Not Matched', null, '2023-11-14T22:13:20.000Z'],
      ['Face Matched', 'alice', '2023-11-14T22:14:05.000Z'],
    ]);
    expect(services.dynamodb.items(TABLE).map((i) => [i.pk.S, i.delivered.BOOL]).sort()).toEqual([
      ['front-door#person:alice', true],
      ['front-door#unknown', true],
    ]);
  });

  test('two concurrent invocations seeing the same person send one event', async () => {
    const handler = loadConsumer(services, { dedupeWindowSeconds: 30 });
    const first = [0, 1, 2].map((s) => person('alice', s, { fragment: '1' }));
    const second = [0.5, 1.5, 2.5].map((s) => person('alice', s, { fragment: '2' }));
    const [a, b] = await Promise.all([handler(kinesisEvent(first)), handler(kinesisEvent(second))]);
    expect([a, b]).toEqual([{ batchItemFailures: [] }, { batchItemFailures: [] }]);
    expect(services.eventBridge.events).toHaveLength(1);
    // one claim per invocation: the window claimed (or found claimed) covers the other frames
    expect(services.dynamodb.callsOf('PutItem')).toHaveLength(2);
  });

  test('a record retried after a failed delivery still sends its event, once', async () => {
    const handler = loadConsumer(services, { dedupeWindowSeconds: 30 });
    const record = person('alice', 0);
    services.eventBridge.failMatching(() => true, 'InternalFailure', 4);
    const first = await handler(kinesisEvent([record]));
    expect(first).toEqual({ batchItemFailures: [{ itemIdentifier: record.kinesis.sequenceNumber }] });
    expect(services.eventBridge.events).toHaveLength(0);

    // Lambda retries the record: the claim is ours and undelivered, so the event goes out now
    expect(await handler(kinesisEvent([record]))).toEqual({ batchItemFailures: [] });
    expect(services.eventBridge.events).toHaveLength(1);

    // a further replay of the same record is not sent again
    expect(await handler(kinesisEvent([record]))).toEqual({ batchItemFailures: [] });
    expect(services.eventBridge.events).toHaveLength(1);
  });

  test('a throttled sighting store makes the record a batch item failure, and its retry sends the event', async () => {
    const handler = loadConsumer(services, { dedupeWindowSeconds: 30 });
    // the SDK makes 3 attempts; all 3 are throttled
    services.dynamodb.fail({ operation: 'PutItem', type: 'ProvisionedThroughputExceededException', message: 'slow down', times: 3 });
    const record = person('alice', 0);
    expect(await handler(kinesisEvent([record]))).toEqual({ batchItemFailures: [{ itemIdentifier: record.kinesis.sequenceNumber }] });
    expect(services.eventBridge.events).toHaveLength(0);
    expect(await handler(kinesisEvent([record]))).toEqual({ batchItemFailures: [] });
    expect(services.eventBridge.events).toHaveLength(1);
  });
});
