import { ArnFormat, Duration, Lazy, Names, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { SAMPLER_TAG } from './engines/frame-sampling-engine';
import { FaceMatchRuleOptions, UnknownFaceRuleOptions } from './face-events';
import { FaceNotificationOptions } from './face-notifications';
import { CONSUMER_METRICS, METRICS_NAMESPACE, SNAPSHOT_METRICS } from './metric-names';
import { faceMatchRule, unknownFaceRule } from './private/face-event-rules';
import { grantPutFaceEvents } from './private/grants';
import { addNotification } from './private/notifications';
import { prefixedStreamCamera, STREAM_READ_ACTIONS } from './private/consumer-streams';
import { checksOwnEnvironment, environmentSize, LIMITS, REFERENCE_ESTIMATE } from './private/limits';
import { skipCheckov } from './private/checkov';
import { ack, ackWildcard } from './private/nag';
import { failureQueue, handlerFunction } from './private/resources';
import { CAMERA_NAME, show, validateName, validateNumber } from './private/validate';
import type { SnapshotStore } from './snapshots';
import type { IVideoStream } from './video-stream';

/** SQS's largest MaximumMessageSize: the consumer's own dead-letter queue takes messages of 1 MiB. */
const DEAD_LETTER_MAX_MESSAGE_BYTES = 1024 * 1024;
/** What a dead-letter queue given in the props is assumed to take (a queue's default before 2025). */
const GIVEN_QUEUE_MAX_MESSAGE_BYTES = 256 * 1024;
/**
 * The consumer's memory with snapshots on (256 MB without): a snapshot decodes its frame in
 * JavaScript (jpeg-js), a few hundred milliseconds of one full vCPU for 720p, and Lambda's CPU
 * grows with memory (256 MB is about a seventh of a vCPU). A decoded 1080p frame is 8 MB of RGBA.
 */
const SNAPSHOT_MEMORY_MB = 1024;
/** What the consumer calls to read a stream-processor camera's frame for its snapshot. */
const SNAPSHOT_VIDEO_ACTIONS = ['kinesisvideo:GetDataEndpoint', 'kinesisvideo:GetImages'];
/**
 * Properties of a FaceSearchConsumer.
 */
export interface FaceSearchConsumerProps {
  /**
   * The data streams to consume. More can be added with `addDataStream()`, which also takes a
   * camera name for the events of a stream.
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
   * descriptions of batches that failed after every retry. The consumer assumes that a queue given
   * here takes messages of 256 KiB (262144 bytes; a smaller one makes larger letters go without
   * their data); it writes letters of at most 1 MiB to its own queue.
   * @default - a new queue, encrypted, TLS only, keeping messages 14 days, MaximumMessageSize 1 MiB
   */
  readonly deadLetterQueue?: sqs.IQueue;

  /**
   * A customer-managed KMS key for the new dead-letter queue and de-duplication table.
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
 * A Lambda consumer for Rekognition face search records on any number of Kinesis data streams.
 * It parses every record into typed face events and sends them to EventBridge as "Face Matched"
 * and "Face Not Matched" (source `face-stream-pipeline`), one per detected face, de-duplicated
 * per sighting. A malformed record goes to the dead-letter queue with its reason and data; a
 * transient failure retries only the records affected.
 *
 * Data streams named `${dataStreamNamePrefix}<camera name>` cost nothing per stream in the
 * consumer's environment or role: the handler reads the camera from the stream's name, and one
 * statement grants reading every stream with the prefix. Other streams each add an entry to the
 * CAMERAS variable (checked at synth time against Lambda's 4 KB) and a statement to the role.
 */
export class FaceSearchConsumer extends Construct {
  /** The consumer function. */
  public readonly handler: lambda.Function;

  /** The dead-letter queue. */
  public readonly deadLetterQueue: sqs.IQueue;

  /** The event bus the events go to. */
  public readonly eventBus: events.IEventBus;

  /** The de-duplication table (one claim per camera and person, per window); absent when de-duplication is off. */
  public readonly dedupeTable?: dynamodb.ITable;

  /** `detail.consumer` of this consumer's events: tells them apart from other pipelines' on the same bus. */
  public readonly consumerId: string;

  /**
   * The name prefix of data streams whose camera is the rest of their name: a data stream of this
   * app named `${dataStreamNamePrefix}${cameraName}` needs no CAMERAS entry and no statement of its
   * own (the pipeline names its cameras' streams so). Derived from the construct path: at most 40
   * characters of `[a-zA-Z0-9-]` and a final `-`.
   */
  public readonly dataStreamNamePrefix: string;

  private readonly streams = new Map<string, { readonly stream: kinesis.IStream; readonly camera?: string; readonly named: boolean }>();
  private readonly streamKeys = new Set<kms.IKey>();
  private readonly mappingOptions: lambda.EventSourceMappingOptions;
  private readonly streamKeyStatement = new iam.PolicyStatement({ actions: ['kms:Decrypt'] });
  private prefixGranted = false;
  private snapshotStore?: SnapshotStore;
  private readonly snapshotVideoStatement = new iam.PolicyStatement({ actions: SNAPSHOT_VIDEO_ACTIONS });
  private readonly snapshotVideoArns = new Set<string>();
  private snapshotVideoPrefixGranted = false;
  private readonly videoKeyStatement = new iam.PolicyStatement({ actions: ['kms:Decrypt'] });
  private readonly videoKeys = new Set<kms.IKey>();

  constructor(scope: Construct, id: string, props: FaceSearchConsumerProps = {}) {
    super(scope, id);
    const window = props.dedupeWindow?.toSeconds() ?? 60;
    validateNumber('dedupeWindow (in seconds)', window, 0, 86400, true);
    validateNumber('batchSize', props.batchSize, 1, 10000, true);
    validateNumber('maxBatchingWindow (in seconds)', props.maxBatchingWindow?.toSeconds(), 0, 300, true);
    validateNumber('retryAttempts', props.retryAttempts, 0, 10000, true);
    validateNumber('maxRecordAge (in seconds)', props.maxRecordAge?.toSeconds(), 60, 604800, true);

    this.consumerId = Names.uniqueResourceName(this, { maxLength: 64, separator: '-' });
    this.dataStreamNamePrefix = `${Names.uniqueResourceName(this, { maxLength: 40, separator: '-' })}-`;
    this.eventBus = props.eventBus ?? events.EventBus.fromEventBusName(this, 'DefaultBus', 'default');
    this.deadLetterQueue = props.deadLetterQueue ?? failureQueue(this, 'DeadLetterQueue', props.encryptionKey);
    const maxMessageBytes = props.deadLetterQueue ? GIVEN_QUEUE_MAX_MESSAGE_BYTES : DEAD_LETTER_MAX_MESSAGE_BYTES;
    if (!props.deadLetterQueue) {
      // set, not left to the service's default: the handler cuts its letters to this size
      (this.deadLetterQueue.node.defaultChild as sqs.CfnQueue).maximumMessageSize = DEAD_LETTER_MAX_MESSAGE_BYTES;
      Validations.of(this.deadLetterQueue).acknowledge(
        ack('AwsSolutions-SQS3', "this queue is the consumer's dead-letter queue (malformed records, and the event source mappings' on-failure destination); it needs no queue of its own"),
      );
    }
    if (window > 0) {
      this.dedupeTable = new dynamodb.Table(this, 'DedupeTable', {
        partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
        billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
        timeToLiveAttribute: 'expiresAt',
        encryption: props.encryptionKey ? dynamodb.TableEncryption.CUSTOMER_MANAGED : dynamodb.TableEncryption.AWS_MANAGED,
        encryptionKey: props.encryptionKey,
        // claims only matter for one window: nothing to keep
        removalPolicy: RemovalPolicy.DESTROY,
      });
    }

    this.handler = handlerFunction(this, 'Handler', {
      asset: 'face-consumer',
      description: 'parses Rekognition face search records into EventBridge face events',
      logRetention: props.logRetention,
      environment: {
        EVENT_BUS_NAME: this.eventBus.eventBusName,
        CONSUMER_ID: this.consumerId,
        DEAD_LETTER_QUEUE_URL: this.deadLetterQueue.queueUrl,
        DEAD_LETTER_QUEUE_MAX_MESSAGE_BYTES: String(maxMessageBytes),
        DEDUPE_TABLE_NAME: this.dedupeTable?.tableName ?? '',
        DEDUPE_WINDOW_SECONDS: String(window),
        DATA_STREAM_PREFIX: this.dataStreamNamePrefix,
        CAMERAS: Lazy.string({ produce: () => this.renderCameras() }),
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
      },
    });
    if (this.dedupeTable) {
      Validations.of(this.dedupeTable).acknowledge(
        ack('AwsSolutions-DDB3', 'claims live for one de-duplication window (60 s by default) and expire by TTL: there is nothing to recover to a point in time'),
      );
      skipCheckov(this.dedupeTable, 'CKV_AWS_28', 'claims live for one de-duplication window (60 s by default) and expire by TTL: there is nothing to recover to a point in time');
      if (!props.encryptionKey) {
        skipCheckov(this.dedupeTable, 'CKV_AWS_119', 'encrypted at rest with the AWS managed key; the pipeline\'s encryptionKey encrypts it with a customer-managed key instead');
      }
    }

    grantPutFaceEvents(this.eventBus, this.handler);
    // SendMessage(Batch) by the handler, and by the event source mappings' on-failure destination
    this.handler.addToRolePolicy(new iam.PolicyStatement({ actions: ['sqs:SendMessage'], resources: [this.deadLetterQueue.queueArn] }));
    this.grantKey(this.deadLetterQueue.encryptionMasterKey, 'sqs', ['kms:Decrypt', 'kms:GenerateDataKey']);
    if (this.dedupeTable) {
      this.handler.addToRolePolicy(new iam.PolicyStatement({ actions: ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:BatchWriteItem'], resources: [this.dedupeTable.tableArn] }));
      this.grantKey(this.dedupeTable.encryptionKey, 'dynamodb', ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey']);
    }

    const deadLetterQueue = this.deadLetterQueue;
    this.mappingOptions = {
      startingPosition: props.startingPosition ?? lambda.StartingPosition.LATEST,
      batchSize: props.batchSize ?? 100,
      maxBatchingWindow: props.maxBatchingWindow,
      bisectBatchOnError: true,
      retryAttempts: props.retryAttempts ?? 3,
      maxRecordAge: props.maxRecordAge ?? Duration.hours(1),
      reportBatchItemFailures: true,
      parallelizationFactor: 1,
      // granted above, without aws-cdk-lib's SqsDlq grants (sqs:GetQueue*, and every action on the key)
      onFailure: { bind: () => ({ destination: deadLetterQueue.queueArn }) },
    };
    this.node.addValidation({ validate: () => this.validateEnvironmentSize() });
    checksOwnEnvironment(this.handler);
    for (const stream of props.dataStreams ?? []) {
      this.addDataStream(stream);
    }
  }

  /**
   * Consumes a data stream written by a Rekognition stream processor (or the frame sampler).
   *
   * A `kinesis.Stream` of this app named `${dataStreamNamePrefix}<camera>` (a concrete name) adds
   * nothing to the environment or the role: its events carry `<camera>`. Any other stream adds an
   * entry to the CAMERAS variable when `cameraName` is given, and a statement reading that stream.
   *
   * @param cameraName the camera name in the events of this stream (1-64 characters of `[a-zA-Z0-9_.-]`);
   * by default, the rest of the name of a prefix-named stream, else the name of the video stream
   * named in each record
   */
  public addDataStream(dataStream: kinesis.IStream, cameraName?: string): void {
    this._addDataStream(dataStream, cameraName);
  }

  /**
   * addDataStream, with the event source mapping created in `mappingScope` instead of under the
   * function: a camera in another stack (a nested stack, or a pipeline whose hub is this consumer's)
   * keeps its mapping in its own stack, so that this stack does not change when a camera is added.
   * @internal
   */
  public _addDataStream(dataStream: kinesis.IStream, cameraName?: string, mappingScope?: Construct): void {
    validateName('cameraName', cameraName, CAMERA_NAME);
    const keyText = JSON.stringify(Stack.of(this).resolve(dataStream.streamArn));
    if (this.streams.has(keyText)) {
      throw new Error(`the data stream ${dataStream.node.path} is consumed already by ${this.node.path}`);
    }
    const named = prefixedStreamCamera(dataStream, this.dataStreamNamePrefix, this);
    if (named !== undefined && cameraName !== undefined && named !== cameraName) {
      throw new Error(
        `cameraName ${show(cameraName)} does not match the data stream ${dataStream.node.path}, whose name gives the camera ${show(named)} ` +
          `(streams named "${this.dataStreamNamePrefix}<camera>" carry their camera in their name): name the stream "${this.dataStreamNamePrefix}${cameraName}", or leave out cameraName`,
      );
    }
    this.streams.set(keyText, { stream: dataStream, camera: cameraName, named: named !== undefined });
    if (named !== undefined) {
      this.grantPrefixedStreams();
    } else {
      this.handler.addToRolePolicy(new iam.PolicyStatement({ actions: STREAM_READ_ACTIONS, resources: [dataStream.streamArn] }));
    }
    if (dataStream.encryptionKey) {
      this.grantStreamKey(dataStream.encryptionKey);
    }
    const mapping = { ...this.mappingOptions, eventSourceArn: dataStream.streamArn };
    if (mappingScope) {
      new lambda.EventSourceMapping(mappingScope, `FaceSearchConsumer-${Names.nodeUniqueId(this.node)}`, { ...mapping, target: this.handler });
    } else {
      this.handler.addEventSourceMapping(`KinesisEventSource:${Names.nodeUniqueId(dataStream.node)}`, mapping);
    }
  }

  /** Where the consumer stores snapshots of stream-processor sightings; absent until `addSnapshots()`. */
  public get snapshots(): SnapshotStore | undefined {
    return this.snapshotStore;
  }

  /**
   * Stores a snapshot of every stream-processor sighting that becomes an event (after
   * de-duplication) in `store`, before the event is sent: the frame at the sighting's producer
   * timestamp, fetched with Kinesis Video Streams GetImages, and the crop of the face with the
   * store's margin. The event's `snapshot` names them; when they cannot be stored the event goes
   * without it (metric SnapshotsFailed). Frame-sampling records bring their own snapshots.
   * The consumer reads the frames of the video streams given to `addSnapshotVideoStream()`
   * (FaceStreamPipeline gives its stream-processor cameras'). With snapshots on, the function has
   * 1024 MB of memory (256 MB without): decoding a frame takes CPU, which grows with memory.
   * FaceStreamPipeline calls this with its `snapshots` on.
   *
   * @param store the bucket, key prefix and face margin (one store per consumer)
   */
  public addSnapshots(store: SnapshotStore): void {
    if (this.snapshotStore) {
      if (this.snapshotStore === store) {
        return;
      }
      throw new Error(`${this.node.path} stores snapshots in ${this.snapshotStore.node.path} already; a consumer has one snapshot store`);
    }
    this.snapshotStore = store;
    for (const [name, value] of Object.entries(store.environment())) {
      this.handler.addEnvironment(name, value);
    }
    store.grantPut(this.handler);
    ackWildcard(
      this.handler.role!,
      store.objectsArn,
      `the snapshots of stream-processor sightings (any sighting's face.jpg and frame.jpg, named at run time) under the store's key prefix "${store.keyPrefix}"`,
    );
    (this.handler.node.defaultChild as lambda.CfnFunction).memorySize = SNAPSHOT_MEMORY_MB;
  }

  /**
   * Lets the consumer read the frames of a stream-processor camera's video stream for snapshots
   * (kinesisvideo:GetDataEndpoint and kinesisvideo:GetImages on this stream, and kms:Decrypt
   * through Kinesis Video Streams on its customer-managed key). The stream must keep its video
   * (data retention of 1 hour or more): GetImages reads stored video.
   */
  public addSnapshotVideoStream(videoStream: IVideoStream): void {
    this._addSnapshotVideoStream(videoStream, false);
  }

  /**
   * addSnapshotVideoStream, for a video stream named `${dataStreamNamePrefix}<camera>` when
   * `prefixNamed`: one statement grants every such stream (a pipeline's cameras, and its sites'),
   * however many there are.
   * @internal
   */
  public _addSnapshotVideoStream(videoStream: IVideoStream, prefixNamed: boolean): void {
    if (prefixNamed) {
      if (!this.snapshotVideoPrefixGranted) {
        this.snapshotVideoPrefixGranted = true;
        const arn = Stack.of(this).formatArn({ service: 'kinesisvideo', resource: 'stream', resourceName: `${this.dataStreamNamePrefix}*/*`, arnFormat: ArnFormat.SLASH_RESOURCE_NAME });
        // not the frame-sampling cameras' streams (tagged by their engine): their sampler stores their snapshots
        const untagged = { Null: { [`aws:ResourceTag/${SAMPLER_TAG}`]: 'true' } };
        this.handler.addToRolePolicy(new iam.PolicyStatement({ actions: SNAPSHOT_VIDEO_ACTIONS, resources: [arn], conditions: untagged }));
        ackWildcard(
          this.handler.role!,
          arn,
          `the video streams named "${this.dataStreamNamePrefix}<camera>" without the ${SAMPLER_TAG} tag (the pipeline's stream-processor cameras, and its sites'; any creation time): GetImages of the frame of each sighting for its snapshot, one statement for every camera so that the role does not grow per camera`,
        );
      }
    } else {
      const key = JSON.stringify(Stack.of(this).resolve(videoStream.streamArn));
      if (!this.snapshotVideoArns.has(key)) {
        if (this.snapshotVideoArns.size === 0) {
          this.handler.addToRolePolicy(this.snapshotVideoStatement);
        }
        this.snapshotVideoArns.add(key);
        this.snapshotVideoStatement.addResources(videoStream.streamArn);
      }
    }
    const videoKey = videoStream.encryptionKey;
    if (videoKey && !this.videoKeys.has(videoKey)) {
      if (this.videoKeys.size === 0) {
        this.videoKeyStatement.addCondition('StringEquals', { 'kms:ViaService': `kinesisvideo.${Stack.of(this).region}.amazonaws.com` });
        this.handler.addToRolePolicy(this.videoKeyStatement);
      }
      this.videoKeys.add(videoKey);
      this.videoKeyStatement.addResources(videoKey.keyArn);
    }
  }

  /** A rule on "Face Matched" events of this consumer. */
  public onFaceMatch(id: string, options: FaceMatchRuleOptions = {}): events.Rule {
    return faceMatchRule(this, id, this, options);
  }

  /** A rule on "Face Not Matched" events of this consumer: faces that matched nobody. */
  public onUnknownFace(id: string, options: UnknownFaceRuleOptions = {}): events.Rule {
    return unknownFaceRule(this, id, this, options);
  }

  // --- notifications (issue 23 part C) ---
  /**
   * A notification: a message a person can read (who, camera, time, similarity, a link to the face
   * snapshot) sent to `topic` for this consumer's matches and/or unknown faces. One function per
   * stack publishes every notification's messages. Answers the rules it adds (matches first).
   *
   * @param snapshots the store of the snapshots the messages link to
   * @default - this consumer's `snapshots` (a pipeline's store); without any, the messages have no link
   */
  public notify(id: string, topic: sns.ITopic, options: FaceNotificationOptions = {}, snapshots?: SnapshotStore): events.Rule[] {
    return addNotification(this, id, this, topic, options, snapshots ?? this.snapshots);
  }
  // --- end notifications ---

  /**
   * A metric the consumer publishes (namespace FaceStreamPipeline, dimension `service` = consumerId):
   * RecordsProcessed, FacesMatched, UnknownFaces, MalformedRecords, DedupedSightings, EventsFailed,
   * and with snapshots SnapshotsStored and SnapshotsFailed.
   * @default - sum over 5 minutes
   */
  public metric(metricName: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: METRICS_NAMESPACE,
      metricName,
      dimensionsMap: { service: this.consumerId },
      statistic: cloudwatch.Stats.SUM,
      ...props,
    });
  }

  /** Faces that matched someone, sent as events. @default - sum over 5 minutes */
  public metricFacesMatched(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(CONSUMER_METRICS.FACES_MATCHED, props);
  }

  /** Faces that matched nobody, sent as events. @default - sum over 5 minutes */
  public metricUnknownFaces(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(CONSUMER_METRICS.UNKNOWN_FACES, props);
  }

  /** Records sent to the dead-letter queue as malformed. @default - sum over 5 minutes */
  public metricMalformedRecords(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(CONSUMER_METRICS.MALFORMED_RECORDS, props);
  }

  /** Events EventBridge did not take after the retries (their records are retried). @default - sum over 5 minutes */
  public metricEventsFailed(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(CONSUMER_METRICS.EVENTS_FAILED, props);
  }

  /** Sightings not sent because their window's event was sent already (de-duplication). @default - sum over 5 minutes */
  public metricDedupedSightings(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(CONSUMER_METRICS.DEDUPED_SIGHTINGS, props);
  }

  /**
   * Stream-processor sightings sent without their snapshot because fetching the frame or storing
   * the pictures failed (with `addSnapshots()`). @default - sum over 5 minutes
   */
  public metricSnapshotsFailed(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(SNAPSHOT_METRICS.FAILED, props);
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

  /** One statement for every prefix-named stream, however many there are. */
  private grantPrefixedStreams(): void {
    if (this.prefixGranted) {
      return;
    }
    this.prefixGranted = true;
    const arn = Stack.of(this).formatArn({ service: 'kinesis', resource: 'stream', resourceName: `${this.dataStreamNamePrefix}*` });
    this.handler.addToRolePolicy(new iam.PolicyStatement({ actions: STREAM_READ_ACTIONS, resources: [arn] }));
    ackWildcard(
      this.handler.role!,
      arn,
      `the data streams named "${this.dataStreamNamePrefix}<camera>" (dataStreamNamePrefix, derived from this consumer's construct path): one statement for every camera, so that the role does not grow per camera`,
    );
  }

  /** kms:Decrypt on the data streams' keys through Kinesis, one statement for every key. */
  private grantStreamKey(key: kms.IKey): void {
    if (this.streamKeys.has(key)) {
      return;
    }
    if (this.streamKeys.size === 0) {
      this.streamKeyStatement.addCondition('StringEquals', { 'kms:ViaService': `kinesis.${Stack.of(this).region}.amazonaws.com` });
      this.handler.addToRolePolicy(this.streamKeyStatement);
    }
    this.streamKeys.add(key);
    this.streamKeyStatement.addResources(key.keyArn);
  }

  /** Key actions only through the service that encrypts with it (kms:ViaService). */
  private grantKey(key: kms.IKey | undefined, service: string, actions: string[]): void {
    if (key) {
      this.handler.addToRolePolicy(
        new iam.PolicyStatement({ actions, resources: [key.keyArn], conditions: { StringEquals: { 'kms:ViaService': `${service}.${Stack.of(this).region}.amazonaws.com` } } }),
      );
    }
  }

  /** data stream ARN -> camera name, as JSON, for the handler's CAMERAS variable (prefix-named streams need none). */
  private renderCameras(): string {
    const map: Record<string, string> = {};
    for (const { stream, camera, named } of this.streams.values()) {
      if (camera && !named) {
        map[stream.streamArn] = camera;
      }
    }
    return Stack.of(this).toJsonString(map);
  }

  /** Lambda's 4 KB for the environment, measured as the JSON of all variables. */
  private validateEnvironmentSize(): string[] {
    const size = environmentSize(this.handler);
    if (size <= LIMITS.environmentBytes) {
      return [];
    }
    const mapped = [...this.streams.values()].filter((s) => s.camera && !s.named).length;
    return [
      `the environment of ${this.handler.node.path} would be about ${size} bytes, over Lambda's limit of ${LIMITS.environmentBytes} bytes ` +
        `(the JSON of all variables; each reference resolved at deployment counts ${REFERENCE_ESTIMATE}): ${mapped} data streams have an entry in CAMERAS. ` +
        `Name the data streams "${this.dataStreamNamePrefix}<camera>" (dataStreamNamePrefix; FaceStreamPipeline does), which need no entry, or spread them over more consumers`,
    ];
  }
}
