/**
 * The enrolment function's services behind one interface, from two hands: the project's fakes
 * (./enrollment-harness) or moto in server mode (./moto) for S3, DynamoDB and EventBridge, with the
 * fake Rekognition in both (no emulator has IndexFaces), reading pictures from whichever S3 is in
 * use, as Rekognition reads them from S3. Each registers its jest hooks where it is called (the
 * servers start in beforeAll, are emptied before each test and stop in afterAll), and reads the
 * outcome as a user would: object tags, the mapping table's items, the events a rule delivered.
 */
import { CreateTableCommand, DynamoDBClient, ScanCommand, UpdateTimeToLiveCommand } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutRuleCommand, PutTargetsCommand } from '@aws-sdk/client-eventbridge';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { CreateQueueCommand, DeleteMessageBatchCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { Context, S3Event } from 'aws-lambda';
import { ApiError } from './aws-json-server';
import { BUCKET, EventOptions, enrollmentHarness, ENROLLMENT_BUNDLE, s3Notification, TABLE, useEnrollmentEndpoints } from './enrollment-harness';
import { FakeRekognition } from './fake-rekognition';
import { MOTO_ACCOUNT, MotoServer } from './moto';

export interface EnrollmentBackend {
  readonly rekognition: FakeRekognition;
  handler(event: S3Event, context?: Context): Promise<void>;
  /** Turns versioning on for the bucket. */
  versioned(): Promise<void>;
  /** Uploads a picture and answers S3's notification of it. */
  upload(key: string, options?: EventOptions & { tags?: Record<string, string> }): Promise<S3Event>;
  /** Deletes the key (a delete marker in a versioned bucket) and answers S3's notification. */
  deleteObject(key: string): Promise<S3Event>;
  /** Deletes one version permanently and answers S3's notification. */
  deleteVersion(key: string, versionId: string): Promise<S3Event>;
  tagsOf(key: string, versionId?: string): Promise<Record<string, string> | undefined>;
  /** The mapping table's items. */
  items(): Promise<Array<Record<string, any>>>;
  /** The details of the events of one detail type put on the default bus since the last reset. */
  eventsOf(detailType: string): Promise<any[]>;
}

/** S3 puts a version id in the events of a versioned bucket only. */
const versionField = (versionId: string | undefined) => (versionId && versionId !== 'null' ? { versionId } : {});

/** The project's fakes (./enrollment-harness). */
export function fakeEnrollmentBackend(env: Record<string, string> = {}): EnrollmentBackend {
  const h = enrollmentHarness(env);
  return {
    rekognition: h.rekognition,
    handler: h.handler,
    versioned: async () => h.s3.versioned(BUCKET),
    upload: async (key, options) => h.upload(key, options),
    deleteObject: async (key) => h.deleteObject(key),
    deleteVersion: async (key, versionId) => h.deleteVersion(key, versionId),
    tagsOf: async (key, versionId) => h.s3.tagsOf(BUCKET, key, versionId),
    items: async () => h.dynamodb.items(TABLE),
    eventsOf: async (detailType) => h.eventsOf(detailType),
  };
}

/** The fake Rekognition, reading IndexFaces' S3Object (its version included) from a real S3 API: HeadObject, with the caller's credentials. */
class S3ReadingRekognition extends FakeRekognition {
  public s3?: S3Client;

  protected dispatch(operation: string, body: Record<string, any>): unknown {
    const object = body.Image?.S3Object;
    if (operation !== 'IndexFaces' || !this.s3 || !object?.Bucket || !object?.Name) {
      return super.dispatch(operation, body);
    }
    return this.s3.send(new HeadObjectCommand({ Bucket: object.Bucket, Key: object.Name, VersionId: object.Version })).then(
      () => super.dispatch(operation, body),
      () => {
        throw new ApiError('InvalidS3ObjectException', 'Unable to get object metadata from S3. Check object key, region and/or access permissions.');
      },
    );
  }
}

/**
 * moto for S3 (the bucket), DynamoDB (the mapping table, key `pk`, TTL on `expiresAt`) and
 * EventBridge (a rule on the default bus sending every face-stream-pipeline event to a tap queue),
 * made again before each test; the fake Rekognition for IndexFaces and DeleteFaces.
 */
export function motoEnrollmentBackend(env: Record<string, string> = {}): EnrollmentBackend {
  const moto = new MotoServer();
  const rekognition = new S3ReadingRekognition();
  let clients: { s3: S3Client; dynamodb: DynamoDBClient; eventBridge: EventBridgeClient; sqs: SQSClient };
  let handler: EnrollmentBackend['handler'];
  let tapUrl = '';
  let events: Array<{ detailType: string; detail: any }> = [];

  beforeAll(async () => {
    const [url, r] = await Promise.all([moto.start(), rekognition.start()]);
    useEnrollmentEndpoints({ rekognition: r, s3: url, dynamodb: url, eventBridge: url }, env);
    const config = { region: 'eu-west-1', endpoint: url, credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' } };
    clients = { s3: new S3Client({ ...config, forcePathStyle: true }), dynamodb: new DynamoDBClient(config), eventBridge: new EventBridgeClient(config), sqs: new SQSClient(config) };
    rekognition.s3 = clients.s3;
    // a copy of the bundle of its own, whose SDK clients are made with these endpoints
    jest.isolateModules(() => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      handler = require(ENROLLMENT_BUNDLE).handler;
    });
  });
  afterAll(async () => {
    for (const c of Object.values(clients ?? {})) {
      c.destroy();
    }
    await Promise.all([moto.stop(), rekognition.stop()]);
  });
  beforeEach(async () => {
    rekognition.reset();
    await moto.reset();
    await clients.s3.send(new CreateBucketCommand({ Bucket: BUCKET, CreateBucketConfiguration: { LocationConstraint: 'eu-west-1' } }));
    await clients.dynamodb.send(new CreateTableCommand({ TableName: TABLE, AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }], KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }], BillingMode: 'PAY_PER_REQUEST' }));
    await clients.dynamodb.send(new UpdateTimeToLiveCommand({ TableName: TABLE, TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true } }));
    tapUrl = (await clients.sqs.send(new CreateQueueCommand({ QueueName: 'face-events-tap' }))).QueueUrl!;
    await clients.eventBridge.send(new PutRuleCommand({ Name: 'tap', EventPattern: JSON.stringify({ source: ['face-stream-pipeline'] }) }));
    await clients.eventBridge.send(new PutTargetsCommand({ Rule: 'tap', Targets: [{ Id: 'tap', Arn: `arn:aws:sqs:eu-west-1:${MOTO_ACCOUNT}:face-events-tap` }] }));
    events = [];
  });

  const drainEvents = async () => {
    for (;;) {
      const { Messages = [] } = await clients.sqs.send(new ReceiveMessageCommand({ QueueUrl: tapUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }));
      if (Messages.length === 0) {
        return;
      }
      events.push(...Messages.map((m) => JSON.parse(m.Body!)).map((e) => ({ detailType: e['detail-type'], detail: e.detail })));
      await clients.sqs.send(new DeleteMessageBatchCommand({ QueueUrl: tapUrl, Entries: Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })) }));
    }
  };

  return {
    rekognition,
    handler: (event, context) => handler(event, context),
    versioned: async () => {
      await clients.s3.send(new PutBucketVersioningCommand({ Bucket: BUCKET, VersioningConfiguration: { Status: 'Enabled' } }));
    },
    async upload(key, options = {}) {
      const tags = options.tags ? new URLSearchParams(options.tags).toString() : undefined;
      const { VersionId } = await clients.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: 'a picture', Tagging: tags }));
      return s3Notification('ObjectCreated:Put', key, { ...versionField(VersionId), ...options });
    },
    async deleteObject(key) {
      const { VersionId, DeleteMarker } = await clients.s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: key }));
      return DeleteMarker && VersionId ? s3Notification('ObjectRemoved:DeleteMarkerCreated', key, { versionId: VersionId }) : s3Notification('ObjectRemoved:Delete', key);
    },
    async deleteVersion(key, versionId) {
      await clients.s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: key, VersionId: versionId }));
      return s3Notification('ObjectRemoved:Delete', key, { versionId });
    },
    async tagsOf(key, versionId) {
      try {
        const { TagSet = [] } = await clients.s3.send(new GetObjectTaggingCommand({ Bucket: BUCKET, Key: key, VersionId: versionId }));
        return Object.fromEntries(TagSet.map((t) => [t.Key!, t.Value!]));
      } catch {
        return undefined;
      }
    },
    items: async () => (await clients.dynamodb.send(new ScanCommand({ TableName: TABLE }))).Items ?? [],
    async eventsOf(detailType) {
      await drainEvents();
      return events.filter((e) => e.detailType === detailType).map((e) => e.detail);
    },
  };
}
