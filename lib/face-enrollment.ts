import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3n from 'aws-cdk-lib/aws-s3-notifications';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { IFaceCollection } from './face-collection';
import { ack, ackBasicExecutionRole, ackKeyGrants, ackWildcard } from './private/nag';
import { failureQueue, handlerFunction } from './private/resources';

/** Where enrolment pictures go in the bucket: `faces/<external-image-id>/<name>.jpg|jpeg|png`. */
const FACES_PREFIX = 'faces/';

/**
 * Options of face enrolment.
 */
export interface FaceEnrollmentOptions {
  /**
   * The bucket to watch. An existing bucket gets event notifications for `faces/`.
   * @default - a new bucket: encrypted, private, TLS only, retained with the stack
   */
  readonly bucket?: s3.IBucket;

  /**
   * The event bus for "Face Enrolled", "Face Enrollment Failed" and "Face Removed" events.
   * @default - the account's default event bus
   */
  readonly eventBus?: events.IEventBus;

  /**
   * A customer-managed KMS key for the new bucket, the mapping table and the failure queue.
   * @default - S3-managed, AWS managed and SQS-managed encryption
   */
  readonly encryptionKey?: kms.IKey;

  /**
   * How long the enrolment function's logs are kept.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
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
 * "Face Removed" events (source `face-stream-pipeline`) and tags on the object.
 */
export class FaceEnrollment extends Construct {
  /** The `detail-type` of a successful enrolment. */
  public static readonly FACE_ENROLLED = 'Face Enrolled';
  /** The `detail-type` of an enrolment that was refused, with its reason. */
  public static readonly FACE_ENROLLMENT_FAILED = 'Face Enrollment Failed';

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

  constructor(scope: Construct, id: string, props: FaceEnrollmentProps) {
    super(scope, id);
    const key = props.encryptionKey;
    this.bucket =
      props.bucket ??
      new s3.Bucket(this, 'Bucket', {
        encryption: key ? s3.BucketEncryption.KMS : s3.BucketEncryption.S3_MANAGED,
        encryptionKey: key,
        bucketKeyEnabled: key ? true : undefined,
        blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
        objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        enforceSSL: true,
        // the pictures are the source of the enrolled faces, kept like the collection
        removalPolicy: RemovalPolicy.RETAIN,
      });
    this.mappingTable = new dynamodb.Table(this, 'Mapping', {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      encryption: key ? dynamodb.TableEncryption.CUSTOMER_MANAGED : dynamodb.TableEncryption.AWS_MANAGED,
      encryptionKey: key,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      // needed for exact deletion as long as the collection lives
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.failureQueue = failureQueue(this, 'FailureQueue', key);
    const eventBus = props.eventBus ?? events.EventBus.fromEventBusName(this, 'DefaultBus', 'default');

    this.handler = handlerFunction(this, 'Handler', {
      asset: 'face-enrollment',
      description: 'indexes faces uploaded to S3 into the collection, and removes them on delete',
      logRetention: props.logRetention,
      environment: {
        COLLECTION_ID: props.collection.collectionId,
        TABLE_NAME: this.mappingTable.tableName,
        EVENT_BUS_NAME: eventBus.eventBusName,
        EVENT_SOURCE: 'face-stream-pipeline',
        FACES_PREFIX: FACES_PREFIX,
      },
      extra: { retryAttempts: 2, maxEventAge: Duration.hours(6), onFailure: new SqsDestination(this.failureQueue) },
    });

    props.collection.grant(this.handler, 'rekognition:IndexFaces', 'rekognition:DeleteFaces');
    // Rekognition reads the picture with the caller's permissions; the outcome goes on its tags
    this.handler.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['s3:GetObject', 's3:GetObjectVersion', 's3:GetObjectTagging', 's3:PutObjectTagging'],
        resources: [this.bucket.arnForObjects(`${FACES_PREFIX}*`)],
      }),
    );
    this.bucket.encryptionKey?.grantDecrypt(this.handler);
    this.mappingTable.grant(this.handler, 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem');
    eventBus.grantPutEventsTo(this.handler);

    const destination = new s3n.LambdaDestination(this.handler);
    this.bucket.addEventNotification(s3.EventType.OBJECT_CREATED, destination, { prefix: FACES_PREFIX });
    this.bucket.addEventNotification(s3.EventType.OBJECT_REMOVED, destination, { prefix: FACES_PREFIX });

    if (key) {
      ackKeyGrants(this.handler.role!);
    }
    ackWildcard(
      this.handler.role!,
      this.bucket.arnForObjects(`${FACES_PREFIX}*`),
      'the function reads and tags any picture under faces/ ("<bucket arn>/faces/*"): which pictures will be uploaded is not known at synth time',
    );
    Validations.of(this.failureQueue).acknowledge(
      ack('AwsSolutions-SQS3', 'this queue is the dead-letter destination (on-failure destination) of the enrolment function; it needs no queue of its own'),
    );
    if (!props.bucket) {
      Validations.of(this.bucket).acknowledge(
        ack('AwsSolutions-S1', 'object-level access to the pictures is audited with CloudTrail data events where needed; server access logs would need a second bucket for a few uploads a day'),
      );
    }
    // aws-cdk-lib's stack-wide bucket notifications handler (its role uses AWSLambdaBasicExecutionRole and cannot be configured)
    const notifications = Stack.of(this).node.children.find((c) => c.node.id.startsWith('BucketNotificationsHandler'));
    if (notifications) {
      ackBasicExecutionRole(
        notifications,
        "aws-cdk-lib's bucket notifications handler (a stack singleton this library cannot configure) uses AWSLambdaBasicExecutionRole; it only writes bucket notification configurations at deployment",
      );
    }
  }
}
