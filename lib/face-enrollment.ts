import { Aws, Duration, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3n from 'aws-cdk-lib/aws-s3-notifications';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ENROLLMENT_PREFIX } from './enrollment-settings';
import type { IFaceCollection } from './face-collection';
import { FaceIdentity } from './face-identity';
import { denyOtherEncryption, privateBucketProps } from './private/bucket-encryption';
import { grantPutFaceEvents } from './private/grants';
import { skipCheckov, skipLambdaChecks } from './private/checkov';
import { ack, ackBasicExecutionRole, ackWildcard } from './private/nag';
import { failureQueue, handlerFunction } from './private/resources';

/** Where enrolment pictures go in the bucket: `faces/<external-image-id>/<name>.jpg|jpeg|png`. */
const FACES_PREFIX = ENROLLMENT_PREFIX;

/**
 * Options of face enrolment.
 */
export interface FaceEnrollmentOptions {
  /**
   * The bucket to watch. An existing bucket gets event notifications for `faces/`. Whoever may
   * upload to `faces/` in it may enrol faces (see the README's Security section); with a KMS key
   * of its own, give it as the bucket's `encryptionKey` so that the function may read pictures.
   * @default - a new bucket: versioned, encrypted, private, TLS only, retained with the stack
   */
  readonly bucket?: s3.IBucket;

  /**
   * How long a new bucket keeps a picture's older versions (overwritten or deleted pictures), so
   * that what was enrolled from them can be traced. Only for a new bucket.
   * @default Duration.days(90)
   */
  readonly noncurrentVersionExpiration?: Duration;

  /**
   * The event bus for "Face Enrolled", "Face Enrollment Failed" and "Face Removed" events.
   * @default - the account's default event bus
   */
  readonly eventBus?: events.IEventBus;

  /**
   * A customer-managed KMS key for the new bucket, the mapping table and the failure queue. A new
   * bucket then refuses uploads that ask for another encryption (see the README's Security section).
   * @default - S3-managed, AWS managed and SQS-managed encryption
   */
  readonly encryptionKey?: kms.IKey;

  /**
   * How long the enrolment function's logs are kept.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;

  /**
   * What a person is in the collection. With `FaceIdentity.users()` enrolment also keeps one
   * Rekognition user per external image id, built from all of that person's pictures (at most
   * 100), for frame-sampling cameras to search (see the README's "Users mode").
   * @default FaceIdentity.faces()
   */
  readonly identity?: FaceIdentity;
}

/**
 * Properties of a FaceEnrollment.
 */
export interface FaceEnrollmentProps extends FaceEnrollmentOptions {
  /**
   * The collection faces are enrolled in.
   */
  readonly collection: IFaceCollection;
}

/**
 * Face enrolment from S3: uploading `faces/<external-image-id>/<name>.jpg|jpeg|png` to the bucket
 * indexes that face into the collection under that ExternalImageId; deleting the object removes
 * the faces indexed from it. Outcomes are "Face Enrolled" / "Face Enrollment Failed" /
 * "Face Removed" events (`FaceEvents`) and tags on the object.
 */
export class FaceEnrollment extends Construct {
  /** The bucket watched for pictures. */
  public readonly bucket: s3.IBucket;

  /** The enrolment function. */
  public readonly handler: lambda.Function;

  /** Object -> face ids, for exact deletion. */
  public readonly mappingTable: dynamodb.ITable;

  /** Receives S3 events the function could not handle after its retries. */
  public readonly failureQueue: sqs.IQueue;

  /** The prefix pictures go under. */
  public readonly prefix = FACES_PREFIX;

  /** What a person is in the collection: faces, or users too. */
  public readonly identity: FaceIdentity;

  constructor(scope: Construct, id: string, props: FaceEnrollmentProps) {
    super(scope, id);
    const key = props.encryptionKey;
    validateVersionExpiration(props);
    this.identity = props.identity ?? FaceIdentity.faces();
    this.bucket = props.bucket ?? this.newBucket(key, props.noncurrentVersionExpiration ?? Duration.days(90));
    this.mappingTable = new dynamodb.Table(this, 'Mapping', {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      encryption: key ? dynamodb.TableEncryption.CUSTOMER_MANAGED : dynamodb.TableEncryption.AWS_MANAGED,
      encryptionKey: key,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      // records of deletions expire (30 days); the records of enrolled pictures never do
      timeToLiveAttribute: 'expiresAt',
      // needed for exact deletion as long as the collection lives
      removalPolicy: RemovalPolicy.RETAIN,
    });
    if (!key) {
      skipCheckov(this.mappingTable, 'CKV_AWS_119', 'encrypted at rest with the AWS managed key; encryptionKey encrypts it with a customer-managed key instead');
    }
    this.failureQueue = failureQueue(this, 'FailureQueue', key);
    const eventBus = props.eventBus ?? events.EventBus.fromEventBusName(this, 'DefaultBus', 'default');

    const queueArn = this.failureQueue.queueArn;
    this.handler = handlerFunction(this, 'Handler', {
      asset: 'face-enrollment',
      description: 'indexes faces uploaded to S3 into the collection, and removes them on delete',
      logRetention: props.logRetention,
      environment: {
        COLLECTION_ID: props.collection.collectionId,
        TABLE_NAME: this.mappingTable.tableName,
        EVENT_BUS_NAME: eventBus.eventBusName,
        FACES_PREFIX: FACES_PREFIX,
        ...(this.identity.usesUsers ? { IDENTITY: 'users' } : {}),
      },
      // the on-failure destination is written with the function's role: granted below, key included
      extra: { retryAttempts: 2, maxEventAge: Duration.hours(6), onFailure: { bind: () => ({ destination: queueArn }) } },
    });
    this.grantHandler(props.collection, eventBus);

    const destination = new s3n.LambdaDestination(this.handler);
    this.bucket.addEventNotification(s3.EventType.OBJECT_CREATED, destination, { prefix: FACES_PREFIX });
    this.bucket.addEventNotification(s3.EventType.OBJECT_REMOVED, destination, { prefix: FACES_PREFIX });
    this.acknowledge(!props.bucket);
  }

  /** Versioned (item by item, the handler follows versions), encrypted, private, TLS only, retained. */
  private newBucket(key: kms.IKey | undefined, noncurrentVersionExpiration: Duration): s3.Bucket {
    const bucket = new s3.Bucket(this, 'Bucket', {
      ...privateBucketProps(key),
      // an overwrite or a deletion keeps the picture a face was enrolled from, for a while
      versioned: true,
      lifecycleRules: [
        {
          id: 'ExpireReplacedPictures',
          noncurrentVersionExpiration,
          expiredObjectDeleteMarker: true,
          abortIncompleteMultipartUploadAfter: Duration.days(7),
        },
      ],
      // the pictures are the source of the enrolled faces, kept like the collection
      removalPolicy: RemovalPolicy.RETAIN,
    });
    if (key) {
      denyOtherEncryption(bucket, key);
    }
    return bucket;
  }

  private grantHandler(collection: IFaceCollection, eventBus: events.IEventBus): void {
    const fn = this.handler;
    const viaService = (service: string) => ({ 'kms:ViaService': `${service}.${Stack.of(this).region}.${Aws.URL_SUFFIX}` });
    collection.grant(fn, 'rekognition:IndexFaces', 'rekognition:DeleteFaces');
    if (this.identity.usesUsers) {
      // users mode: each person's user (ListFaces for the one-off backfill of an existing collection)
      collection.grant(fn, 'rekognition:CreateUser', 'rekognition:DeleteUser', 'rekognition:AssociateFaces', 'rekognition:DisassociateFaces', 'rekognition:ListUsers', 'rekognition:ListFaces');
    }
    // Rekognition reads the picture (the event's version) with the caller's permissions; the outcome goes on its tags
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['s3:GetObject', 's3:GetObjectVersion', 's3:GetObjectTagging', 's3:GetObjectVersionTagging', 's3:PutObjectTagging', 's3:PutObjectVersionTagging'],
        resources: [this.bucket.arnForObjects(`${FACES_PREFIX}*`)],
      }),
    );
    this.mappingTable.grant(fn, 'dynamodb:GetItem', 'dynamodb:PutItem');
    grantPutFaceEvents(eventBus, fn);
    fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['sqs:SendMessage'], resources: [this.failureQueue.queueArn] }));

    // each key only through the service that uses it, for the resource it encrypts
    const bucketKey = this.bucket.encryptionKey;
    if (bucketKey) {
      fn.addToRolePolicy(
        new iam.PolicyStatement({
          actions: ['kms:Decrypt'],
          resources: [bucketKey.keyArn],
          conditions: {
            StringEquals: viaService('s3'),
            // the bucket with S3 Bucket Keys, the object without
            StringLike: { 'kms:EncryptionContext:aws:s3:arn': [this.bucket.bucketArn, this.bucket.arnForObjects(`${FACES_PREFIX}*`)] },
          },
        }),
      );
    }
    const tableKey = this.mappingTable.encryptionKey;
    if (tableKey) {
      fn.addToRolePolicy(
        new iam.PolicyStatement({
          actions: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey'],
          resources: [tableKey.keyArn],
          conditions: { StringEquals: { ...viaService('dynamodb'), 'kms:EncryptionContext:aws:dynamodb:tableName': this.mappingTable.tableName } },
        }),
      );
    }
    const queueKey = this.failureQueue.encryptionMasterKey;
    if (queueKey) {
      fn.addToRolePolicy(
        new iam.PolicyStatement({
          actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
          resources: [queueKey.keyArn],
          conditions: { StringEquals: { ...viaService('sqs'), 'kms:EncryptionContext:aws:sqs:arn': this.failureQueue.queueArn } },
        }),
      );
    }
  }

  private acknowledge(newBucket: boolean): void {
    ackWildcard(
      this.handler.role!,
      this.bucket.arnForObjects(`${FACES_PREFIX}*`),
      'the function reads and tags any picture under faces/ ("<bucket arn>/faces/*"): which pictures will be uploaded is not known at synth time',
    );
    Validations.of(this.failureQueue).acknowledge(
      ack('AwsSolutions-SQS3', 'this queue is the dead-letter destination (on-failure destination) of the enrolment function; it needs no queue of its own'),
    );
    if (newBucket) {
      Validations.of(this.bucket).acknowledge(
        ack('AwsSolutions-S1', 'object-level access to the pictures is audited with CloudTrail data events where needed; server access logs would need a second bucket for a few uploads a day'),
      );
      skipCheckov(this.bucket, 'CKV_AWS_18', 'object-level access to the pictures is audited with CloudTrail data events where needed; server access logs would need a second bucket for a few uploads a day');
    }
    // aws-cdk-lib's stack-wide bucket notifications handler (its role uses AWSLambdaBasicExecutionRole and cannot be configured)
    const notifications = Stack.of(this).node.children.find((c) => c.node.id.startsWith('BucketNotificationsHandler'));
    if (notifications) {
      ackBasicExecutionRole(
        notifications,
        "aws-cdk-lib's bucket notifications handler (a stack singleton this library cannot configure) uses AWSLambdaBasicExecutionRole; it only writes bucket notification configurations at deployment",
      );
      skipLambdaChecks(
        notifications.node.findChild('Resource'),
        "aws-cdk-lib's bucket notifications handler, invoked synchronously by CloudFormation's custom resource call at deployment, which fails the deployment on an error; no event waits to be retried",
        false,
      );
    }
  }
}

function validateVersionExpiration(props: FaceEnrollmentProps): void {
  const expiration = props.noncurrentVersionExpiration;
  if (!expiration) {
    return;
  }
  if (props.bucket) {
    throw new Error('noncurrentVersionExpiration sets the lifecycle of a new bucket; the bucket given with bucket keeps its own. Remove one of them');
  }
  if (!Token.isUnresolved(expiration.toSeconds()) && (expiration.toSeconds() < 86400 || expiration.toSeconds() % 86400 !== 0)) {
    throw new Error(`noncurrentVersionExpiration must be a whole number of days, at least 1, got ${expiration.toHumanString()}`);
  }
}
