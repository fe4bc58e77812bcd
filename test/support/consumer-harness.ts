/**
 * Runs the bundled consumer (assets/face-consumer/index.js) against local EventBridge, SQS and
 * DynamoDB servers through the real AWS SDK v3 clients, with Kinesis Lambda events built from
 * face recognition records.
 */
import { existsSync } from 'node:fs';
import { request } from 'node:http';
import * as path from 'node:path';
import type { KinesisStreamBatchResponse, KinesisStreamEvent, KinesisStreamRecord } from 'aws-lambda';
import { FakeDynamoDb } from './fake-dynamodb';
import { FakeEventBridge } from './fake-eventbridge';
import { FakeSqs, SQS_MAX_MESSAGE_SIZE } from './fake-sqs';
import { LocalServer } from './local-server';

/** The bundle under test; CONSUMER_BUNDLE in the environment points the tests at another build (e.g. an older one). */
export const CONSUMER_BUNDLE = process.env.CONSUMER_BUNDLE ?? path.join(__dirname, '..', '..', 'assets', 'face-consumer', 'index.js');
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
  useConsumerEndpoints(events, queue, table);
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

/** Points the consumer's SDK clients at local endpoints (the fakes, or moto for all three), with test credentials and quick retries. */
export function useConsumerEndpoints(events: string, queue: string, table: string): void {
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
}

export type ConsumerHandler = (event: KinesisStreamEvent) => Promise<KinesisStreamBatchResponse>;

export interface ConsumerConfig {
  /** DEDUPE_WINDOW_SECONDS (and the table with it). @default 0 (off) */
  readonly dedupeWindowSeconds?: number;
  /** The queue's MaximumMessageSize, given to the handler and set on the fake queue. @default 1 MiB */
  readonly maxMessageBytes?: number;
  /** CAMERAS. @default - DATA_STREAM_ARN is front-door */
  readonly cameras?: Record<string, string>;
  /** DATA_STREAM_PREFIX. @default '' */
  readonly dataStreamPrefix?: string;
}

/**
 * Loads a fresh copy of the bundle with the given configuration (it reads its env at load), against
 * the fakes or any services with a dead-letter queue at `dlqUrl` (moto: ./consumer-backends).
 */
export function loadConsumer(services: { readonly dlqUrl: string; readonly sqs?: FakeSqs }, config: ConsumerConfig = {}): ConsumerHandler {
  const maxMessageBytes = config.maxMessageBytes ?? SQS_MAX_MESSAGE_SIZE;
  if (services.sqs) {
    services.sqs.maximumMessageSize = maxMessageBytes;
  }
  Object.assign(process.env, {
    EVENT_BUS_NAME: 'faces-bus',
    CONSUMER_ID: 'TestStack-Consumer',
    DEAD_LETTER_QUEUE_URL: services.dlqUrl,
    DEAD_LETTER_QUEUE_MAX_MESSAGE_BYTES: String(maxMessageBytes),
    DEDUPE_TABLE_NAME: config.dedupeWindowSeconds ? TABLE : '',
    DEDUPE_WINDOW_SECONDS: String(config.dedupeWindowSeconds ?? 0),
    CAMERAS: JSON.stringify(config.cameras ?? { [DATA_STREAM_ARN]: 'front-door' }),
    DATA_STREAM_PREFIX: config.dataStreamPrefix ?? '',
  });
  let handler: ConsumerHandler | undefined;
  jest.isolateModules(() => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    handler = require(CONSUMER_BUNDLE).handler;
  });
  return handler!;
}

/**
 * A gate in front of a local server: the first `hold` requests wait at the gate until `open()`,
 * later ones pass straight through. `arrived(n)` resolves once n requests wait. It lets a test hold
 * one invocation at a chosen point (e.g. after its claim, before its PutEvents) while another runs,
 * with no timing involved. Point an SDK at it with `use(variable)` (endpoints are read per request).
 */
export class Gate {
  private readonly server: LocalServer;
  private readonly waiting: Array<() => void> = [];
  private readonly watchers: Array<{ count: number; resolve: () => void }> = [];
  private isOpen = false;
  private held = 0;
  private url = '';

  constructor(private readonly target: string, private readonly hold = 1) {
    this.server = new LocalServer(
      async (req, res) => {
        const chunks: Buffer[] = [];
        for await (const chunk of req) {
          chunks.push(chunk as Buffer);
        }
        if (!this.isOpen && this.held < this.hold) {
          await new Promise<void>((resolve) => {
            this.waiting.push(resolve);
            this.held += 1;
            this.watchers.filter((w) => w.count <= this.held).forEach((w) => w.resolve());
          });
        }
        const url = new URL(req.url ?? '/', this.target);
        await new Promise<void>((resolve, reject) => {
          const forward = request(url, { method: req.method, headers: { ...req.headers, host: url.host } }, (answer) => {
            // no keep-alive through the gate, so that stop() finds no connection to wait for
            res.writeHead(answer.statusCode ?? 500, { ...answer.headers, connection: 'close' });
            answer.pipe(res);
            answer.on('end', resolve);
          });
          forward.on('error', reject);
          forward.end(Buffer.concat(chunks));
        });
      },
      (res, error) => {
        res.writeHead(502);
        res.end(String(error));
      },
    );
  }

  public async start(): Promise<string> {
    this.url = await this.server.start();
    return this.url;
  }

  /** Runs `fn` with the environment variable (e.g. AWS_ENDPOINT_URL_EVENTBRIDGE) pointing at the gate. */
  public async use<T>(variable: string, fn: () => Promise<T>): Promise<T> {
    const saved = process.env[variable];
    process.env[variable] = this.url;
    try {
      return await fn();
    } finally {
      process.env[variable] = saved;
    }
  }

  public stop(): Promise<void> {
    this.open();
    return this.server.stop();
  }

  /** Resolves once `count` requests wait at the gate. */
  public arrived(count = 1): Promise<void> {
    return this.held >= count ? Promise.resolve() : new Promise((resolve) => this.watchers.push({ count, resolve }));
  }

  public open(): void {
    this.isOpen = true;
    this.waiting.splice(0).forEach((resolve) => resolve());
  }
}

let sequence = 49590338271490256608559692538361571095921575989136588898n;

/**
 * When the record reached Kinesis: one second after the fragment reached Kinesis Video Streams
 * (its ServerTimestamp) when `data` is a face search record, else a fixed time.
 */
function arrivalOf(data: string): number {
  try {
    const server = JSON.parse(Buffer.from(data, 'base64').toString('utf8'))?.InputInformation?.KinesisVideo?.ServerTimestamp;
    return typeof server === 'number' ? server + 1 : 1700000000.5;
  } catch {
    return 1700000000.5;
  }
}

/** A Kinesis record as Lambda delivers it, carrying `data` (already base64). */
export function kinesisRecord(data: string, eventSourceARN = DATA_STREAM_ARN, approximateArrivalTimestamp = arrivalOf(data)): KinesisStreamRecord {
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
      approximateArrivalTimestamp,
    },
  };
}

export const kinesisEvent = (records: KinesisStreamRecord[]): KinesisStreamEvent => ({ Records: records });
