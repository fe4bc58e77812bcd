/**
 * Runs the bundled consumer (assets/face-consumer/index.js) against local EventBridge, SQS and
 * DynamoDB servers through the real AWS SDK v3 clients, with Kinesis Lambda events built from
 * face recognition records.
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import type { KinesisStreamBatchResponse, KinesisStreamEvent, KinesisStreamRecord } from 'aws-lambda';
import { FakeDynamoDb } from './fake-dynamodb';
import { FakeEventBridge } from './fake-eventbridge';
import { FakeSqs } from './fake-sqs';

export const CONSUMER_BUNDLE = path.join(__dirname, '..', '..', 'assets', 'face-consumer', 'index.js');
export const DATA_STREAM_ARN = 'arn:aws:kinesis:us-west-2:123456789012:stream/front-door-faces';
export const DLQ_URL = 'http://127.0.0.1/123456789012/face-dlq';
export const TABLE = 'sightings';

export interface ConsumerServices {
  readonly eventBridge: FakeEventBridge;
  readonly sqs: FakeSqs;
  readonly dynamodb: FakeDynamoDb;
  readonly dlqUrl: string;
  stop(): Promise<void>;
  reset(): void;
}

export async function startServices(): Promise<ConsumerServices> {
  if (!existsSync(CONSUMER_BUNDLE)) {
    throw new Error(`${CONSUMER_BUNDLE} is missing: run "npm run bundle" (npm test does) first`);
  }
  const eventBridge = new FakeEventBridge();
  const sqs = new FakeSqs();
  const dynamodb = new FakeDynamoDb();
  const [events, queue, table] = await Promise.all([eventBridge.start(), sqs.start(), dynamodb.start()]);
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_EVENTBRIDGE: events,
    AWS_ENDPOINT_URL_SQS: queue,
    AWS_ENDPOINT_URL_DYNAMODB: table,
    AWS_REGION: 'us-west-2',
    AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
    AWS_SECRET_ACCESS_KEY: 'secret',
    AWS_EC2_METADATA_DISABLED: 'true',
    RETRY_BASE_DELAY_MS: '1',
    RETRY_MAX_DELAY_MS: '5',
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    POWERTOOLS_DEV: 'false',
    // metrics are asserted in one test, which turns them on
    POWERTOOLS_METRICS_DISABLED: 'true',
  });
  return {
    eventBridge,
    sqs,
    dynamodb,
    dlqUrl: `${queue}/123456789012/face-dlq`,
    stop: async () => {
      await Promise.all([eventBridge.stop(), sqs.stop(), dynamodb.stop()]);
    },
    reset: () => {
      eventBridge.reset();
      sqs.reset();
      dynamodb.reset();
    },
  };
}

export type ConsumerHandler = (event: KinesisStreamEvent) => Promise<KinesisStreamBatchResponse>;

/** Loads a fresh copy of the bundle with the given configuration (it reads its env at load). */
export function loadConsumer(services: ConsumerServices, config: { dedupeWindowSeconds?: number } = {}): ConsumerHandler {
  Object.assign(process.env, {
    EVENT_BUS_NAME: 'faces-bus',
    EVENT_SOURCE: 'face-stream-pipeline',
    CONSUMER_ID: 'TestStack-Consumer',
    DEAD_LETTER_QUEUE_URL: services.dlqUrl,
    DEDUPE_TABLE_NAME: config.dedupeWindowSeconds ? TABLE : '',
    DEDUPE_WINDOW_SECONDS: String(config.dedupeWindowSeconds ?? 0),
    CAMERAS: JSON.stringify({ [DATA_STREAM_ARN]: 'front-door' }),
  });
  let handler: ConsumerHandler | undefined;
  jest.isolateModules(() => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    handler = require(CONSUMER_BUNDLE).handler;
  });
  return handler!;
}

let sequence = 49590338271490256608559692538361571095921575989136588898n;

/** A Kinesis record as Lambda delivers it, carrying `data` (already base64). */
export function kinesisRecord(data: string, eventSourceARN = DATA_STREAM_ARN): KinesisStreamRecord {
  sequence += 1n;
  return {
    eventSource: 'aws:kinesis',
    eventVersion: '1.0',
    eventID: `shardId-000000000000:${sequence}`,
    eventName: 'aws:kinesis:record',
    invokeIdentityArn: 'arn:aws:iam::123456789012:role/consumer',
    awsRegion: 'us-west-2',
    eventSourceARN,
    kinesis: {
      kinesisSchemaVersion: '1.0',
      partitionKey: 'partition',
      sequenceNumber: String(sequence),
      data,
      approximateArrivalTimestamp: 1700000000.5,
    },
  };
}

export const kinesisEvent = (records: KinesisStreamRecord[]): KinesisStreamEvent => ({ Records: records });
