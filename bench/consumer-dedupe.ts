/**
 * The cost of de-duplication (issue 11, item 14): one batch of 100 records with 200 faces of six
 * people, through the bundled consumer against local EventBridge, SQS and DynamoDB servers, with
 * de-duplication on and off, interleaved in the same run. Target: on costs at most 3x off, and at
 * most one conditional write per key and window, counted at the fake: conditional PutItem (the
 * claims) and conditional UpdateItem (marks when the lease is near its end, releases), against the
 * distinct (key, window) claimed; the delivered marks go unconditionally in BatchWriteItem calls.
 */
import * as path from 'node:path';
import { FakeDynamoDb } from '../test/support/fake-dynamodb';
import { FakeEventBridge } from '../test/support/fake-eventbridge';
import { FakeSqs } from '../test/support/fake-sqs';
import { recordWith, toData } from '../test/fixtures/face-records';
import { median, root, Row, RUNS } from './common';

const T = 1700000000;

function batch() {
  return Array.from({ length: 100 }, (_, i) => ({
    eventSourceARN: 'arn:aws:kinesis:us-west-2:123456789012:stream/cam',
    kinesis: {
      data: toData(recordWith([{ matches: [`p${i % 6}`] }, { matches: [`p${(i + 1) % 6}`] }], { producerTime: T + i * 0.2 })),
      sequenceNumber: String(1000 + i),
      partitionKey: 'p',
      approximateArrivalTimestamp: T + i * 0.2 + 1,
    },
  }));
}

function load(bundle: string, env: Record<string, string>): (event: unknown) => Promise<{ batchItemFailures: unknown[] }> {
  Object.assign(process.env, env);
  delete require.cache[require.resolve(bundle)];
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(bundle).handler;
}

/** Rows of `npm run bench consumer`. */
export async function dedupeCost(): Promise<Row[]> {
  const bundle = path.join(root, 'assets', 'face-consumer', 'index.js');
  const eventBridge = new FakeEventBridge();
  const sqs = new FakeSqs();
  const dynamodb = new FakeDynamoDb();
  const [events, queue, table] = await Promise.all([eventBridge.start(), sqs.start(), dynamodb.start()]);
  const common = {
    AWS_ENDPOINT_URL_EVENTBRIDGE: events,
    AWS_ENDPOINT_URL_SQS: queue,
    AWS_ENDPOINT_URL_DYNAMODB: table,
    AWS_REGION: 'us-west-2',
    AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
    AWS_SECRET_ACCESS_KEY: 'secret',
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    POWERTOOLS_METRICS_DISABLED: 'true',
    DEAD_LETTER_QUEUE_URL: `${queue}/123456789012/dlq`,
    CONSUMER_ID: 'bench',
  };
  try {
    const off = load(bundle, { ...common, DEDUPE_TABLE_NAME: '', DEDUPE_WINDOW_SECONDS: '0' });
    const on = load(bundle, { ...common, DEDUPE_TABLE_NAME: 'dedupe', DEDUPE_WINDOW_SECONDS: '60' });
    const records = batch();
    const time = async (handler: typeof on) => {
      dynamodb.reset();
      eventBridge.reset();
      const start = process.hrtime.bigint();
      const response = await handler({ Records: records });
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      if (response.batchItemFailures.length > 0) {
        throw new Error('the bench batch must not fail');
      }
      return ms;
    };
    await time(off); // warm up both copies (connections, JIT)
    await time(on);
    const a: number[] = [];
    const b: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      a.push(await time(on));
      b.push(await time(off));
    }
    // one more run with de-duplication on, to count its calls
    await time(on);
    const conditional = (operation: string) => dynamodb.callsOf(operation).filter((c) => c.body.ConditionExpression !== undefined).length;
    const claims = conditional('PutItem');
    const updates = conditional('UpdateItem');
    const windows = new Set(dynamodb.callsOf('PutItem').map((c) => `${c.body.Item.pk.S}|${c.body.Item.windowStart.N}`)).size;
    const batchWrites = dynamodb.callsOf('BatchWriteItem');
    const marks = batchWrites.reduce((sum, c) => sum + Object.values(c.body.RequestItems as Record<string, unknown[]>).reduce((m, r) => m + r.length, 0), 0);
    if (windows !== 6) {
      throw new Error(`expected six (key, window) claimed (six people, 20 s of frames, a 60 s window), got ${windows}`);
    }
    return [
      {
        benchmark: `consumer: de-duplication on vs off, one batch of 100 records / 200 faces of 6 people (median of ${RUNS})`,
        subject: `${median(a).toFixed(1)} ms`,
        baseline: `${median(b).toFixed(1)} ms`,
        ratio: median(a) / median(b),
        detail: `target <= 3x; ${eventBridge.events.length} events on, 200 off`,
      },
      {
        benchmark: 'consumer: conditional writes per key and window, same batch',
        subject: `${claims + updates} conditional writes`,
        baseline: `${windows} (key, window)`,
        ratio: (claims + updates) / windows,
        detail: `target <= 1; ${claims} conditional PutItem (claims) + ${updates} conditional UpdateItem; ${marks} delivered marks in ${batchWrites.length} BatchWriteItem call(s); before: 6 claims + 6 conditional UpdateItem marks (2.00)`,
      },
    ];
  } finally {
    await Promise.all([eventBridge.stop(), sqs.stop(), dynamodb.stop()]);
  }
}
