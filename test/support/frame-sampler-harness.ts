/**
 * Runs the bundled frame sampler (assets/frame-sampler/index.js) through the real AWS SDK v3
 * clients against local Kinesis Video Streams, Rekognition, Kinesis and DynamoDB servers.
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import type { Context } from 'aws-lambda';
import { FakeDynamoDb } from './fake-dynamodb';
import { FakeKinesisPut } from './fake-kinesis-put';
import { FakeKvsImages } from './fake-kvs-images';
import { FakeRekognitionImages } from './fake-rekognition-images';

export const SAMPLER_BUNDLE = path.join(__dirname, '..', '..', 'assets', 'frame-sampler', 'index.js');
export const VIDEO_ARN = 'arn:aws:kinesisvideo:us-west-2:123456789012:stream/front-door/1700000000000';
export const DATA_ARN = 'arn:aws:kinesis:us-west-2:123456789012:stream/front-door-faces';
export const STATE_TABLE = 'sampler-state';
export const STATE_KEY = 'camera|FacesfrontdoorA1B2C3';
export const COLLECTION = 'faces';

export interface SamplerServices {
  readonly kvs: FakeKvsImages;
  readonly rekognition: FakeRekognitionImages;
  readonly kinesis: FakeKinesisPut;
  readonly dynamodb: FakeDynamoDb;
  stop(): Promise<void>;
  reset(): void;
}

/** Starts the fakes; `dynamodb` may be shared with the consumer harness. */
export async function startSamplerServices(dynamodb?: FakeDynamoDb): Promise<SamplerServices> {
  if (!existsSync(SAMPLER_BUNDLE)) {
    throw new Error(`${SAMPLER_BUNDLE} is missing: run "node scripts/bundle.mjs frame-sampler" first`);
  }
  const kvs = new FakeKvsImages();
  const rekognition = new FakeRekognitionImages();
  const kinesis = new FakeKinesisPut();
  const ownDb = !dynamodb;
  const db = dynamodb ?? new FakeDynamoDb();
  const [kvsUrl, rekUrl, kinUrl, dbUrl] = await Promise.all([kvs.start(), rekognition.start(), kinesis.start(), ownDb ? db.start() : Promise.resolve(process.env.AWS_ENDPOINT_URL_DYNAMODB!)]);
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_KINESIS_VIDEO: kvsUrl,
    AWS_ENDPOINT_URL_REKOGNITION: rekUrl,
    AWS_ENDPOINT_URL_KINESIS: kinUrl,
    AWS_ENDPOINT_URL_DYNAMODB: dbUrl,
    AWS_REGION: 'us-west-2',
    AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
    AWS_SECRET_ACCESS_KEY: 'secret',
    AWS_EC2_METADATA_DISABLED: 'true',
    RETRY_BASE_DELAY_MS: '1',
    RETRY_MAX_DELAY_MS: '5',
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    POWERTOOLS_DEV: 'false',
    POWERTOOLS_METRICS_DISABLED: 'true',
  });
  return {
    kvs,
    rekognition,
    kinesis,
    dynamodb: db,
    stop: async () => {
      await Promise.all([kvs.stop(), rekognition.stop(), kinesis.stop(), ownDb ? db.stop() : Promise.resolve()]);
    },
    reset: () => {
      kvs.reset();
      rekognition.reset();
      kinesis.reset();
      if (ownDb) db.reset();
    },
  };
}

export type SamplerHandler = (event: unknown, context?: Context) => Promise<{ camera?: string; position?: number; stoppedEarly?: string; skipped?: string; outcome?: string }>;

/** Loads a fresh copy of the bundle (it reads its environment at load). */
export function loadSampler(env: Record<string, string> = {}): SamplerHandler {
  Object.assign(process.env, { STATE_TABLE_NAME: STATE_TABLE, REKOGNITION_TPS: '1000', MAX_CATCH_UP_SECONDS: '900', ...env });
  let handler: SamplerHandler | undefined;
  jest.isolateModules(() => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    handler = require(SAMPLER_BUNDLE).handler;
  });
  return handler!;
}

let request = 0;
/** A Lambda context with plenty of time left (tests never race the deadline). */
export function context(remainingMs = 600_000): Context {
  request++;
  return { awsRequestId: `request-${request}`, getRemainingTimeInMillis: () => remainingMs, functionName: 'sampler' } as unknown as Context;
}

export function cameraInput(overrides: Record<string, unknown> = {}) {
  return {
    camera: 'front-door',
    stateKey: STATE_KEY,
    videoStreamArn: VIDEO_ARN,
    dataStreamArn: DATA_ARN,
    collectionId: COLLECTION,
    faceMatchThreshold: 80,
    samplingIntervalMs: 1000,
    imageWidth: 0,
    minFaceConfidence: 90,
    minFaceWidth: 0.04,
    maxFacesPerFrame: 5,
    ...overrides,
  };
}

/** Sets the camera's state row (as a previous invocation or a schedule would have). */
export function seedState(db: FakeDynamoDb, fields: Record<string, { S?: string; N?: string; BOOL?: boolean }>): void {
  let table = db.tables.get(STATE_TABLE);
  if (!table) {
    table = new Map();
    db.tables.set(STATE_TABLE, table);
  }
  table.set(STATE_KEY, { pk: { S: STATE_KEY }, ...fields });
}

export function stateRow(db: FakeDynamoDb, key = STATE_KEY) {
  return db.tables.get(STATE_TABLE)?.get(key);
}
