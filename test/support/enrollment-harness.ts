/**
 * The bundled enrolment handler (assets/face-enrollment/index.js) wired to local servers speaking
 * Rekognition's, S3's, DynamoDB's and EventBridge's wire protocols, through the real AWS SDK v3
 * clients; Rekognition reads pictures from the fake S3, as it reads them from S3. Call
 * `enrollmentHarness()` at the top of a test file: it starts the fakes, loads the bundle with the
 * environment the FaceEnrollment construct sets, and resets the fakes before each test.
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import type { Context, S3Event } from 'aws-lambda';
import { ApiError } from './aws-json-server';
import { FakeDynamoDb } from './fake-dynamodb';
import { FakeEventBridge } from './fake-eventbridge';
import { FakeRekognition } from './fake-rekognition';
import { FakeS3 } from './fake-s3';

/** ENROLLMENT_BUNDLE runs the tests against another build (e.g. an older one, to see a test fail without a fix). */
export const ENROLLMENT_BUNDLE = process.env.ENROLLMENT_BUNDLE ?? path.join(__dirname, '..', '..', 'assets', 'face-enrollment', 'index.js');
const BUNDLE = ENROLLMENT_BUNDLE;
export const BUCKET = 'faces-bucket';
export const TABLE = 'enrolments';

/**
 * The fake DynamoDB plus what enrolment tests need: scripted failures of the n-th next call of an
 * operation, and the passing of time as the table sees it.
 */
export class EnrollmentDynamoDb extends FakeDynamoDb {
  private nth: Array<{ operation: string; remaining: number; type: string }> = [];

  public reset(): void {
    super.reset();
    this.nth = [];
  }

  /** The `n`-th next call of `operation` (1 = the next) fails with `type` (e.g. ProvisionedThroughputExceededException). */
  public failNth(operation: string, n: number, type: string): void {
    this.nth.push({ operation, remaining: n, type });
  }

  /**
   * The table as it is `ms` later: every timestamp the handler wrote (leaseUntil in milliseconds,
   * claimedAt and expiresAt in seconds) moves that far into the past.
   */
  public later(ms: number): void {
    for (const table of this.tables.values()) {
      for (const item of table.values()) {
        if (item.leaseUntil?.N && item.leaseUntil.N !== '0') {
          item.leaseUntil = { N: String(Number(item.leaseUntil.N) - ms) };
        }
        for (const seconds of ['claimedAt', 'expiresAt']) {
          if (item[seconds]?.N) {
            item[seconds] = { N: String(Number(item[seconds].N) - ms / 1000) };
          }
        }
      }
    }
  }

  protected dispatch(operation: string, body: Record<string, any>): unknown {
    for (const f of this.nth.filter((x) => x.operation === operation && x.remaining > 0)) {
      f.remaining -= 1;
      if (f.remaining === 0) {
        throw new ApiError(f.type, `scripted ${f.type}`);
      }
    }
    return super.dispatch(operation, body);
  }
}

/** A Lambda context with the given time left before the function's timeout. */
export function lambdaContext(remainingMs = 60_000, requestId = 'c0ffee00-0000-4000-8000-000000000001'): Context {
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: 'enrolment',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:enrolment',
    memoryLimitInMB: '256',
    awsRequestId: requestId,
    logGroupName: '/aws/lambda/enrolment',
    logStreamName: 'stream',
    getRemainingTimeInMillis: () => remainingMs,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

export interface EventOptions {
  readonly size?: number;
  readonly sequencer?: string;
  /** The key as S3 puts it in the event, when not the URL encoding of `key`. */
  readonly encodedKey?: string;
  readonly versionId?: string;
}

export interface Harness {
  readonly rekognition: FakeRekognition;
  readonly s3: FakeS3;
  readonly dynamodb: EnrollmentDynamoDb;
  readonly eventBridge: FakeEventBridge;
  /** The bundle's handler. */
  handler(event: S3Event, context?: Context): Promise<void>;
  /** An S3 event notification of one record. */
  s3Event(eventName: string, key: string, options?: EventOptions): S3Event;
  /** Uploads a picture (it exists in the fake S3) and answers S3's notification of it. */
  upload(key: string, options?: EventOptions & { tags?: Record<string, string> }): S3Event;
  /** Deletes the key (a delete marker in a versioned bucket) and answers S3's notification. */
  deleteObject(key: string): S3Event;
  /** Deletes one version permanently and answers S3's notification. */
  deleteVersion(key: string, versionId: string): S3Event;
  /** The details of the events of one detail type, in order. */
  eventsOf(detailType: string): any[];
}

/** The environment the FaceEnrollment construct gives the function, with local endpoints (the fakes, or moto but for Rekognition) and `env` over it. */
export function useEnrollmentEndpoints(endpoints: { rekognition: string; s3: string; dynamodb: string; eventBridge: string }, env: Record<string, string> = {}): void {
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_REKOGNITION: endpoints.rekognition,
    AWS_ENDPOINT_URL_S3: endpoints.s3,
    AWS_ENDPOINT_URL_DYNAMODB: endpoints.dynamodb,
    AWS_ENDPOINT_URL_EVENTBRIDGE: endpoints.eventBridge,
    S3_FORCE_PATH_STYLE: 'true',
    AWS_REGION: 'eu-west-1',
    AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
    AWS_SECRET_ACCESS_KEY: 'secret',
    COLLECTION_ID: 'staff',
    TABLE_NAME: TABLE,
    EVENT_BUS_NAME: 'default',
    FACES_PREFIX: 'faces/',
    LOG_LEVEL: 'SILENT',
    POWERTOOLS_METRICS_DISABLED: 'true',
    // the publisher's entry retries, without waiting
    RETRY_BASE_DELAY_MS: '1',
    RETRY_MAX_DELAY_MS: '2',
    ...env,
  });
}

let sequencer = 0x5f1e0000;

/** An S3 event notification of one record about `key` in BUCKET, as S3 sends it to the function (sequencers increasing). */
export function s3Notification(eventName: string, key: string, options: EventOptions = {}): S3Event {
  sequencer += 1;
  const object: Record<string, unknown> = {
    key: options.encodedKey ?? encodeURIComponent(key).replace(/%2F/g, '/').replace(/%20/g, '+'),
    size: options.size ?? (eventName.startsWith('ObjectCreated') ? 50_000 : undefined),
    eTag: 'e',
    sequencer: options.sequencer ?? sequencer.toString(16).toUpperCase().padStart(16, '0'),
  };
  if (options.versionId !== undefined) {
    object.versionId = options.versionId;
  }
  return {
    Records: [
      {
        eventVersion: '2.1',
        eventSource: 'aws:s3',
        awsRegion: 'eu-west-1',
        eventTime: new Date().toISOString(),
        eventName,
        userIdentity: { principalId: 'AWS:EXAMPLE' },
        requestParameters: { sourceIPAddress: '127.0.0.1' },
        responseElements: { 'x-amz-request-id': 'r', 'x-amz-id-2': 'h' },
        s3: {
          s3SchemaVersion: '1.0',
          configurationId: 'enrolment',
          bucket: { name: BUCKET, ownerIdentity: { principalId: 'o' }, arn: `arn:aws:s3:::${BUCKET}` },
          object,
        },
      },
    ],
  } as unknown as S3Event;
}

export function enrollmentHarness(env: Record<string, string> = {}): Harness {
  let handler: Harness['handler'];
  const rekognition = new FakeRekognition();
  const s3 = new FakeS3();
  const dynamodb = new EnrollmentDynamoDb();
  const eventBridge = new FakeEventBridge();
  rekognition.objectStore = s3;

  beforeAll(async () => {
    if (!existsSync(BUNDLE)) {
      throw new Error(`${BUNDLE} is missing: run "node scripts/bundle.mjs face-enrollment" first`);
    }
    const [r, s, d, e] = await Promise.all([rekognition.start(), s3.start(), dynamodb.start(), eventBridge.start()]);
    useEnrollmentEndpoints({ rekognition: r, s3: s, dynamodb: d, eventBridge: e }, env);
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    handler = require(BUNDLE).handler;
  });
  afterAll(async () => {
    await Promise.all([rekognition.stop(), s3.stop(), dynamodb.stop(), eventBridge.stop()]);
  });
  beforeEach(() => {
    for (const fake of [rekognition, s3, dynamodb, eventBridge]) {
      fake.reset();
    }
  });

  const s3Event = s3Notification;

  /** S3 puts a version id in the events of a versioned bucket only. */
  const versionField = (versionId: string) => (versionId === 'null' ? {} : { versionId });

  return {
    rekognition,
    s3,
    dynamodb,
    eventBridge,
    handler: (event, context) => handler(event, context),
    s3Event,
    upload(key, options = {}) {
      const versionId = s3.put(BUCKET, key, options.tags);
      return s3Event('ObjectCreated:Put', key, { ...versionField(versionId), ...options });
    },
    deleteObject(key) {
      const versionId = s3.delete(BUCKET, key);
      return versionId === 'null' ? s3Event('ObjectRemoved:Delete', key) : s3Event('ObjectRemoved:DeleteMarkerCreated', key, { versionId });
    },
    deleteVersion(key, versionId) {
      s3.deleteVersion(BUCKET, key, versionId);
      return s3Event('ObjectRemoved:Delete', key, { versionId });
    },
    eventsOf: (detailType) => eventBridge.events.filter((e) => e.DetailType === detailType).map((e) => e.Detail),
  };
}
