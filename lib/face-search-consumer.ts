import { Duration, Lazy, Names, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { KinesisEventSource, KinesisEventSourceProps, SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { Camera } from './camera';
import { ack, ackKeyGrants } from './private/nag';
import { failureQueue, handlerFunction } from './private/resources';
import { REKOGNITION_NAME, validateName, validateNumber } from './private/validate';

/**
 * Properties of a FaceSearchConsumer.
 */
export interface FaceSearchConsumerProps {
  /**
   * The data streams to consume, each with a camera name for its events. More can be added with
   * `addDataStream()` or `addCamera()`.
   * @default - none
   */
  readonly dataStreams?: kinesis.IStream[];

  /**
   * The event bus that receives the "Face Matched" and "Face Not Matched" events.
   * @default - the account's default event bus
   */
  readonly eventBus?: events.IEventBus;

  /**
   * Sighting de-duplication: a face seen again on the same camera within this window yields no
   * new event (unknown faces count as one per camera). `Duration.seconds(0)` turns it off, and
   * with it the DynamoDB table it needs.
   * @default Duration.seconds(60)
   */
  readonly dedupeWindow?: Duration;

  /**
   * The queue that receives malformed records (with the reason and the raw data) and the
   * descriptions of batches that failed after every retry.
   * @default - a new queue, encrypted, TLS only, keeping messages 14 days
   */
  readonly deadLetterQueue?: sqs.IQueue;

  /**
   * A customer-managed KMS key for the new dead-letter queue and sighting table.
   * @default - SQS-managed encryption for the queue, an AWS managed key for the table
   */
  readonly encryptionKey?: kms.IKey;

  /**
   * Most records per invocation (1-10000).
   * @default 100
   */
  readonly batchSize?: number;

  /**
   * How long to gather records before invoking (0-300 seconds). Zero gives the lowest latency.
   * @default Duration.seconds(0)
   */
  readonly maxBatchingWindow?: Duration;

  /**
   * Retries of a failing batch before its description goes to the dead-letter queue (0-10000).
   * The batch is split in two on each error, so a bad record is isolated quickly.
   * @default 3
   */
  readonly retryAttempts?: number;

  /**
   * Records older than this are not retried any more but described in the dead-letter queue
   * (60 seconds to 7 days).
   * @default Duration.hours(1)
   */
  readonly maxRecordAge?: Duration;

  /**
   * Where to start reading a data stream.
   * @default lambda.StartingPosition.LATEST
   */
  readonly startingPosition?: lambda.StartingPosition;

  /**
   * How long the consumer's logs are kept.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * Options of a rule on "Face Matched" events.
 */
export interface FaceMatchRuleOptions {
  /**
   * Only these people (the ExternalImageId their faces were indexed with).
   * @default - anyone in the collection
   */
  readonly externalImageIds?: string[];

  /**
   * Only these cameras.
   * @default - every camera
   */
  readonly cameras?: string[];

  /**
   * Only matches at least this similar (0-100).
   * @default - every match the stream processor reports (its faceMatchThreshold)
   */
  readonly minSimilarity?: number;

  /**
   * Where the events go; more can be added with `rule.addTarget()`.
   * @default - no target
   */
  readonly target?: events.IRuleTarget;

  /**
   * The rule's description.
   * @default - one that says what the rule matches
   */
  readonly description?: string;
}

/**
 * Options of a rule on "Face Not Matched" events (a face that matched nobody).
 */
export interface UnknownFaceRuleOptions {
  /**
   * Only these cameras.
   * @default - every camera
   */
  readonly cameras?: string[];

  /**
   * Where the events go; more can be added with `rule.addTarget()`.
   * @default - no target
   */
  readonly target?: events.IRuleTarget;

  /**
   * The rule's description.
   * @default - one that says what the rule matches
   */
  readonly description?: string;
}

const EXTERNAL_IMAGE_ID = /^[a-zA-Z0-9_.\-:]+$/;

/**
 * A Lambda consumer for Rekognition face search records on any number of Kinesis data streams.
 * It parses every record into typed face events and sends them to EventBridge as "Face Matched"
 * and "Face Not Matched" (source `face-stream-pipeline`), one per detected face, de-duplicated
 * per sighting. A malformed record goes to the dead-letter queue with its reason and data; a
 * transient failure retries only the records affected.
 */
export class FaceSearchConsumer extends Construct {
  /** The `source` of every event. */
  public static readonly EVENT_SOURCE = 'face-stream-pipeline';
  /** The `detail-type` of events for a face that matched someone in the collection. */
  public static readonly FACE_MATCHED = 'Face Matched';
  /** The `detail-type` of events for a face that matched nobody. */
  public static readonly FACE_NOT_MATCHED = 'Face Not Matched';

  /** The consumer function. */
  public readonly handler: lambda.Function;

  /** The dead-letter queue. */
  public readonly deadLetterQueue: sqs.IQueue;

  /** The event bus the events go to. */
  public readonly eventBus: events.IEventBus;

  /** The sighting table used for de-duplication; absent when it is turned off. */
  public readonly sightingsTable?: dynamodb.ITable;

  /** `detail.consumer` of this consumer's events: tells them apart from other pipelines' on the same bus. */
  public readonly consumerId: string;

  private readonly cameraNames = new Map<string, { stream: kinesis.IStream; camera?: string }>();
  private readonly eventSourceProps: KinesisEventSourceProps;

  constructor(scope: Construct, id: string, props: FaceSearchConsumerProps = {}) {
    super(scope, id);
    const window = props.dedupeWindow?.toSeconds() ?? 60;
    validateNumber('dedupeWindow (in seconds)', window, 0, 86400, true);
    validateNumber('batchSize', props.batchSize, 1, 10000, true);
    validateNumber('maxBatchingWindow (in seconds)', props.maxBatchingWindow?.toSeconds(), 0, 300, true);
    validateNumber('retryAttempts', props.retryAttempts, 0, 10000, true);
    validateNumber('maxRecordAge (in seconds)', props.maxRecordAge?.toSeconds(), 60, 604800, true);

    this.consumerId = Names.uniqueResourceName(this, { maxLength: 64, separator: '-' });
    this.eventBus = props.eventBus ?? events.EventBus.fromEventBusName(this, 'DefaultBus', 'default');
    this.deadLetterQueue =
      props.deadLetterQueue ??
failureQueue(this, 'DeadLetterQueue', props.encryptionKey);
    if (window > 0) {
      this.sightingsTable = new dynamodb.Table(this, 'Sightings', {
        partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
        billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
        timeToLiveAttribute: 'expiresAt',
        encryption: props.encryptionKey ? dynamodb.TableEncryption.CUSTOMER_MANAGED : dynamodb.TableEncryption.AWS_MANAGED,
        encryptionKey: props.encryptionKey,
        // sightings only matter for one window: nothing to keep
        removalPolicy: RemovalPolicy.DESTROY,
      });
    }

    this.handler = handlerFunction(this, 'Handler', {
      asset: 'face-consumer',
      description: 'parses Rekognition face search records into EventBridge face events',
      logRetention: props.logRetention,
      environment: {
        EVENT_BUS_NAME: this.eventBus.eventBusName,
        EVENT_SOURCE: FaceSearchConsumer.EVENT_SOURCE,
        CONSUMER_ID: this.consumerId,
        DEAD_LETTER_QUEUE_URL: this.deadLetterQueue.queueUrl,
        DEDUPE_TABLE_NAME: this.sightingsTable?.tableName ?? '',
        DEDUPE_WINDOW_SECONDS: String(window),
        CAMERAS: Lazy.string({ produce: () => this.renderCameras() }),
        POWERTOOLS_SERVICE_NAME: 'face-stream-pipeline',
        POWERTOOLS_METRICS_NAMESPACE: 'FaceStreamPipeline',
      },
    });
    if (!props.deadLetterQueue) {
      Validations.of(this.deadLetterQueue).acknowledge(
        ack('AwsSolutions-SQS3', "this queue is the consumer's dead-letter queue (malformed records, and the event source mappings' on-failure destination); it needs no queue of its own"),
      );
    }
    if (this.sightingsTable) {
      Validations.of(this.sightingsTable).acknowledge(
        ack('AwsSolutions-DDB3', 'sightings live for one de-duplication window (60 s by default) and expire by TTL: there is nothing to recover to a point in time'),
      );
    }
    if (props.encryptionKey) {
      ackKeyGrants(this.handler.role!);
    }
    this.eventBus.grantPutEventsTo(this.handler);
    this.deadLetterQueue.grantSendMessages(this.handler);
    this.sightingsTable?.grant(this.handler, 'dynamodb:PutItem', 'dynamodb:UpdateItem');

    this.eventSourceProps = {
      startingPosition: props.startingPosition ?? lambda.StartingPosition.LATEST,
      batchSize: props.batchSize ?? 100,
      maxBatchingWindow: props.maxBatchingWindow,
      bisectBatchOnError: true,
      retryAttempts: props.retryAttempts ?? 3,
      maxRecordAge: props.maxRecordAge ?? Duration.hours(1),
      reportBatchItemFailures: true,
      parallelizationFactor: 1,
      onFailure: new SqsDlq(this.deadLetterQueue),
    };
    for (const stream of props.dataStreams ?? []) {
      this.addDataStream(stream);
    }
  }

  /**
   * Consumes a camera's data stream; its events carry the camera's name.
   */
  public addCamera(camera: Camera): void {
    this.addDataStream(camera.dataStream, camera.cameraName);
  }

  /**
   * Consumes a data stream written by a Rekognition stream processor.
   *
   * @param cameraName the camera name in the events of this stream (1-64 characters of `[a-zA-Z0-9_.-]`);
   * by default, the name of the video stream named in each record
   */
  public addDataStream(dataStream: kinesis.IStream, cameraName?: string): void {
    validateName('cameraName', cameraName, 1, 64, REKOGNITION_NAME, '[a-zA-Z0-9_.-]');
    const key = Stack.of(this).resolve(dataStream.streamArn);
    const keyText = JSON.stringify(key);
    if (this.cameraNames.has(keyText)) {
      throw new Error(`the data stream ${dataStream.node.path} is consumed already by ${this.node.path}`);
    }
    this.cameraNames.set(keyText, { stream: dataStream, camera: cameraName });
    this.handler.addEventSource(new KinesisEventSource(dataStream, this.eventSourceProps));
  }

  /**
   * A rule on "Face Matched" events of this consumer.
   */
  public onFaceMatch(id: string, options: FaceMatchRuleOptions = {}): events.Rule {
    validateList('externalImageIds', options.externalImageIds, (value) =>
      validateName('externalImageIds[]', value, 1, 255, EXTERNAL_IMAGE_ID, '[a-zA-Z0-9_.-:]'),
    );
    validateList('cameras', options.cameras, (value) => validateName('cameras[]', value, 1, 64, REKOGNITION_NAME, '[a-zA-Z0-9_.-]'));
    validateNumber('minSimilarity', options.minSimilarity, 0, 100);
    const match: Record<string, unknown> = {};
    if (options.externalImageIds) {
      match.externalImageId = options.externalImageIds;
    }
    if (options.minSimilarity !== undefined) {
      match.similarity = events.Match.greaterThanOrEqual(options.minSimilarity);
    }
    return this.rule(id, FaceSearchConsumer.FACE_MATCHED, options.cameras, match, options.target, options.description ?? describeMatchRule(options));
  }

  /**
   * A rule on "Face Not Matched" events of this consumer: faces that matched nobody.
   */
  public onUnknownFace(id: string, options: UnknownFaceRuleOptions = {}): events.Rule {
    validateList('cameras', options.cameras, (value) => validateName('cameras[]', value, 1, 64, REKOGNITION_NAME, '[a-zA-Z0-9_.-]'));
    const where = options.cameras ? ` on ${options.cameras.join(', ')}` : '';
    return this.rule(id, FaceSearchConsumer.FACE_NOT_MATCHED, options.cameras, {}, options.target, options.description ?? `Unknown faces${where}`);
  }

  private rule(id: string, detailType: string, cameras: string[] | undefined, match: Record<string, unknown>, target: events.IRuleTarget | undefined, description: string): events.Rule {
    const detail: Record<string, unknown> = { consumer: [this.consumerId] };
    if (cameras) {
      detail.camera = cameras;
    }
    if (Object.keys(match).length > 0) {
      detail.match = match;
    }
    return new events.Rule(this, id, {
      eventBus: this.eventBus,
      description: description.slice(0, 512),
      eventPattern: { source: [FaceSearchConsumer.EVENT_SOURCE], detailType: [detailType], detail },
      targets: target ? [target] : undefined,
    });
  }

  /**
   * A metric the consumer publishes (namespace FaceStreamPipeline, dimension `service` = consumerId):
   * RecordsProcessed, FacesMatched, UnknownFaces, MalformedRecords, SightingsSuppressed, EventsFailed.
   * @default - sum over 5 minutes
   */
  public metric(metricName: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: 'FaceStreamPipeline',
      metricName,
      dimensionsMap: { service: this.consumerId },
      statistic: cloudwatch.Stats.SUM,
      ...props,
    });
  }

  /** Faces that matched someone, sent as events. @default - sum over 5 minutes */
  public metricFacesMatched(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric('FacesMatched', props);
  }

  /** Faces that matched nobody, sent as events. @default - sum over 5 minutes */
  public metricUnknownFaces(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric('UnknownFaces', props);
  }

  /** Records sent to the dead-letter queue as malformed. @default - sum over 5 minutes */
  public metricMalformedRecords(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric('MalformedRecords', props);
  }

  /** Events EventBridge did not take after the retries (their records are retried). @default - sum over 5 minutes */
  public metricEventsFailed(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric('EventsFailed', props);
  }

  /** Sightings not sent again within the de-duplication window. @default - sum over 5 minutes */
  public metricSightingsSuppressed(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric('SightingsSuppressed', props);
  }

  /** Invocation errors of the consumer function. @default - sum over 5 minutes */
  public metricErrors(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.handler.metricErrors(props);
  }

  /** Duration of the consumer function. @default - average over 5 minutes */
  public metricDuration(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.handler.metricDuration(props);
  }

  /** Age of the newest record read, across the data streams: how far behind the consumer is. @default - maximum over 5 minutes */
  public metricIteratorAge(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.handler.metric('IteratorAge', { statistic: cloudwatch.Stats.MAXIMUM, ...props });
  }

  /** Messages waiting in the dead-letter queue. @default - maximum over 5 minutes */
  public metricDeadLetterQueueDepth(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ statistic: cloudwatch.Stats.MAXIMUM, ...props });
  }

  /** data stream ARN -> camera name, as JSON, for the handler's CAMERAS variable. */
  private renderCameras(): string {
    const map: Record<string, string> = {};
    for (const { stream, camera } of this.cameraNames.values()) {
      if (camera) {
        map[stream.streamArn] = camera;
      }
    }
    return Stack.of(this).toJsonString(map);
  }
}

function validateList(prop: string, values: string[] | undefined, check: (value: string) => void): void {
  if (values === undefined || Token.isUnresolved(values)) {
    return;
  }
  if (values.length === 0) {
    throw new Error(`${prop} must name at least one value when given; leave it out to match all`);
  }
  values.forEach(check);
}

function describeMatchRule(options: FaceMatchRuleOptions): string {
  const who = options.externalImageIds ? options.externalImageIds.join(', ') : 'anyone in the collection';
  const where = options.cameras ? ` on ${options.cameras.join(', ')}` : '';
  const how = options.minSimilarity !== undefined ? ` with similarity >= ${options.minSimilarity}` : '';
  return `Face matches of ${who}${where}${how}`;
}
