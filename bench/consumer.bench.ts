/**
 * The consumer: bundle size and cold load against an SDK-only bundle (instructions counted by
 * valgrind, which machine load does not move, and wall time), PutEvents calls per batch
 * against ceil(events / 10), and the cost of de-duplication (./consumer-dedupe.ts), the bundled
 * handler against local servers.
 */
import * as path from 'node:path';
import { FakeEventBridge } from '../test/support/fake-eventbridge';
import { FakeSqs } from '../test/support/fake-sqs';
import { dedupeCost } from './consumer-dedupe';
import { BenchContext, compareColdInstructions, compareColdLoad, compareSizes, recordCorpus, root, Row, sdkBaseline } from './common';

export async function bench(ctx: BenchContext): Promise<Row[]> {
  const consumer = path.join(root, 'assets', 'face-consumer', 'index.js');
  const consumerBaseline = sdkBaseline(ctx.dir, 'consumer', {
    '@aws-sdk/client-eventbridge': { client: 'EventBridgeClient', commands: ['PutEventsCommand'] },
    '@aws-sdk/client-sqs': { client: 'SQSClient', commands: ['SendMessageBatchCommand', 'SendMessageCommand'] },
    '@aws-sdk/client-dynamodb': { client: 'DynamoDBClient', commands: ['PutItemCommand', 'UpdateItemCommand', 'BatchWriteItemCommand'] },
  });
  return [
    await compareColdInstructions('consumer handler', consumer, consumerBaseline, ctx.empty),
    compareColdLoad('consumer handler', consumer, consumerBaseline, ctx.empty),
    compareSizes('consumer handler', consumer, consumerBaseline),
    await countPutEvents(consumer),
    ...(await dedupeCost()),
  ];
}

async function countPutEvents(bundle: string): Promise<Row> {
  const eventBridge = new FakeEventBridge();
  const sqs = new FakeSqs();
  const [events, queue] = await Promise.all([eventBridge.start(), sqs.start()]);
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_EVENTBRIDGE: events,
    AWS_ENDPOINT_URL_SQS: queue,
    AWS_REGION: 'us-west-2',
    AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
    AWS_SECRET_ACCESS_KEY: 'secret',
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    POWERTOOLS_METRICS_DISABLED: 'true',
    DEAD_LETTER_QUEUE_URL: `${queue}/123456789012/dlq`,
    DEDUPE_TABLE_NAME: '',
    DEDUPE_WINDOW_SECONDS: '0',
  });
  try {
    delete require.cache[require.resolve(bundle)];
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { handler } = require(bundle);
    const corpus = recordCorpus().slice(0, 100);
    const records = corpus.map((data, i) => ({
      eventSourceARN: 'arn:aws:kinesis:us-west-2:123456789012:stream/cam',
      kinesis: { data, sequenceNumber: String(1000 + i), partitionKey: 'p', approximateArrivalTimestamp: 0 },
    }));
    const response = await handler({ Records: records });
    const sent = eventBridge.events.length;
    const calls = eventBridge.callsOf('PutEvents').length;
    const bound = Math.ceil(sent / 10);
    return {
      benchmark: 'consumer: PutEvents calls for one batch of 100 records',
      subject: `${calls} calls`,
      baseline: `ceil(${sent} events / 10) = ${bound}`,
      ratio: calls / bound,
      detail: `${response.batchItemFailures.length} batch item failures`,
    };
  } finally {
    await Promise.all([eventBridge.stop(), sqs.stop()]);
  }
}

