/**
 * Dead letters under SQS's real rules (README "Failures: nothing is lost"), through the bundled
 * handler against a local SQS that enforces MaximumMessageSize per message and per batch
 * (BatchRequestTooLong) and the characters SQS takes (InvalidMessageContents).
 */
import type { KinesisStreamBatchResponse, KinesisStreamRecord } from 'aws-lambda';
import { ConsumerHandler, ConsumerServices, DATA_STREAM_ARN, kinesisEvent, kinesisRecord, loadConsumer, startServices } from './support/consumer-harness';
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

const MiB = 1024 * 1024;
/** A malformed record of about `kb` KB of base64 (not JSON once decoded). */
const junk = (kb: number, fill = 'y') => kinesisRecord(Buffer.from(fill.repeat(Math.round((kb * 1024 * 3) / 4))).toString('base64'));

describe('sizes (item 12)', () => {
  test('a few ~300 KB malformed records are dead-lettered whole, in batches SQS takes', async () => {
    const handler = loadConsumer(services, { maxMessageBytes: MiB });
    const records = [junk(300, 'a'), junk(300, 'b'), junk(300, 'c'), junk(300, 'd'), junk(300, 'e')];
    expect(await handler(kinesisEvent(records))).toEqual({ batchItemFailures: [] });

    const letters = services.sqs.bodies();
    expect(letters.map((l) => l.sequenceNumber).sort()).toEqual(records.map((r) => r.kinesis.sequenceNumber).sort());
    for (const letter of letters) {
      const record = records.find((r) => r.kinesis.sequenceNumber === letter.sequenceNumber)!;
      expect(letter).toMatchObject({ data: record.kinesis.data, dataTruncated: false, eventSourceARN: DATA_STREAM_ARN });
    }
    // each call within the queue's MaximumMessageSize in all
    for (const call of services.sqs.callsOf('SendMessageBatch')) {
      expect(call.body.Entries.reduce((n: number, e: any) => n + Buffer.byteLength(e.MessageBody), 0)).toBeLessThanOrEqual(MiB);
    }
  });

  test('a queue that refuses the batch (smaller than the handler was told): letters go one by one, then without their data', async () => {
    const handler = loadConsumer(services, { maxMessageBytes: MiB });
    services.sqs.maximumMessageSize = 64 * 1024; // the queue really takes 64 KiB
    const records = [junk(100, 'a'), junk(100, 'b'), junk(10, 'c')];
    expect(await handler(kinesisEvent(records))).toEqual({ batchItemFailures: [] });

    const bySequence = new Map(services.sqs.bodies().map((l) => [l.sequenceNumber, l]));
    expect([...bySequence.keys()].sort()).toEqual(records.map((r) => r.kinesis.sequenceNumber).sort());
    for (const record of records.slice(0, 2)) {
      expect(bySequence.get(record.kinesis.sequenceNumber)).toMatchObject({
        data: '',
        dataTruncated: true,
        dataLength: record.kinesis.data.length,
        reason: expect.stringMatching(/^\(data\): expected JSON/),
      });
    }
    // the small one fits and keeps its data
    expect(bySequence.get(records[2].kinesis.sequenceNumber)).toMatchObject({ data: records[2].kinesis.data, dataTruncated: false });
  });

  test('an outage is still an outage: a 5xx on the batch makes its records batch item failures', async () => {
    const handler = loadConsumer(services);
    services.sqs.fail({ operation: 'SendMessageBatch', type: 'InternalError', message: 'down', status: 500, times: 10 });
    const records = [junk(1), junk(1)];
    expect(await handler(kinesisEvent(records))).toEqual({ batchItemFailures: records.map((r) => ({ itemIdentifier: r.kinesis.sequenceNumber })) });
    expect(services.sqs.messages).toHaveLength(0);
  });

  test('a queue that refuses even the coordinates (e.g. access denied) keeps the record for a retry', async () => {
    const handler = loadConsumer(services);
    services.sqs.fail({ operation: 'SendMessage', type: 'AccessDenied', message: 'no', status: 403, times: 2 });
    const record = junk(1);
    expect(await handler(kinesisEvent([record]))).toEqual({ batchItemFailures: [{ itemIdentifier: record.kinesis.sequenceNumber }] });
  });
});

describe('characters SQS refuses (item 13)', () => {
  test('a record whose data decodes to U+FFFF is dead-lettered, its reason escaped in the JSON body', async () => {
    const handler = loadConsumer(services);
    const odd = kinesisRecord(toData('\uFFFF\uFFFE not json'));
    const plain = kinesisRecord(toData('plain not json'));
    expect(await handler(kinesisEvent([odd, plain]))).toEqual({ batchItemFailures: [] });

    const [oddMessage] = services.sqs.messages.filter((m) => JSON.parse(m.Body).sequenceNumber === odd.kinesis.sequenceNumber);
    expect(oddMessage.Body).toContain('\\uffff\\ufffe');
    expect(oddMessage.Body).not.toMatch(/[\uFFFE\uFFFF]/);
    // the JSON parses to the original text
    expect(JSON.parse(oddMessage.Body).reason).toContain('\uFFFF\uFFFE not json');
    expect(services.sqs.bodies().map((b) => b.sequenceNumber).sort()).toEqual([odd.kinesis.sequenceNumber, plain.kinesis.sequenceNumber].sort());
  });
});

/**
 * What Lambda's Kinesis event source mapping does with a batch response (ReportBatchItemFailures):
 * the next attempt starts at the lowest sequence number reported, and holds every record of the
 * batch from there on, whatever the handler did with them.
 */
function retryOf(records: KinesisStreamRecord[], response: KinesisStreamBatchResponse): KinesisStreamRecord[] {
  const failed = response.batchItemFailures.map((f) => BigInt(f.itemIdentifier));
  if (failed.length === 0) {
    return [];
  }
  const lowest = failed.reduce((a, b) => (b < a ? b : a));
  return records.filter((r) => BigInt(r.kinesis.sequenceNumber) >= lowest);
}

/** Invokes the handler as the event source mapping does until a batch succeeds (or `attempts` runs out). */
async function deliver(handler: ConsumerHandler, records: KinesisStreamRecord[], attempts = 5): Promise<number> {
  let batch = records;
  for (let n = 1; n <= attempts; n++) {
    const response = await handler(kinesisEvent(batch));
    batch = retryOf(batch, response);
    if (batch.length === 0) {
      return n;
    }
  }
  throw new Error(`still failing after ${attempts} attempts`);
}

describe('each malformed record reaches the queue once (issue 20, item 4)', () => {
  const person = (name: string, second: number) => kinesisRecord(toData(recordWith([{ matches: [name] }], { producerTime: 1700000000 + second })));
  const letteredSequences = () => services.sqs.bodies().map((b) => b.sequenceNumber as string);

  test('malformed records behind a record that failed are dead-lettered by the retry that redelivers them, not twice', async () => {
    const handler = loadConsumer(services);
    // bob's event fails through the handler's own retries, twice: two invocations report him
    services.eventBridge.failMatching((detail) => detail.match?.externalImageId === 'bob', 'InternalFailure', 8);
    const records = [kinesisRecord('%%before%%'), person('alice', 0), person('bob', 1), kinesisRecord('%%after%%'), person('carol', 2), kinesisRecord(toData('{"not": "a record"}'))];
    const attempts = await deliver(handler, records);

    expect(attempts).toBe(3);
    const malformed = [records[0], records[3], records[5]].map((r) => r.kinesis.sequenceNumber);
    expect(letteredSequences().sort()).toEqual(malformed.sort());
    expect(new Set(letteredSequences()).size).toBe(letteredSequences().length);
  });
});
