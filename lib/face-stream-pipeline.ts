import { Annotations, CfnOutput, Duration, Names, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { Camera, CameraConfig, CameraOptions } from './camera';
import { FaceCollection } from './face-collection';
import type { IFaceCollection } from './face-collection';
import { FaceEnrollment, FaceEnrollmentOptions } from './face-enrollment';
import { FaceIdentity } from './face-identity';
import { AnalysisSchedule, FaceSearchEngine } from './face-search-engine';
import { FaceMatchRuleOptions, UnknownFaceRuleOptions } from './face-events';
import { FaceNotificationOptions } from './face-notifications';
import { FaceSearchConsumer, FaceSearchConsumerProps } from './face-search-consumer';
import { cameraScope } from './private/camera-stacks';
import { checkStackLimits } from './private/limits';
import { PipelineMonitoring, validateAlarmPeriod } from './private/pipeline-monitoring';
import { LIBRARY_VERSION } from './private/version';
import { SnapshotOptions, SnapshotStore } from './snapshots';
import { CAMERA_NAME, COLLECTION_ID, show, validateName, validateNumber } from './private/validate';

/** Rekognition's default quota of stream processors per account and Region. */
const DEFAULT_PROCESSOR_QUOTA = 10;
/** Nested stacks of cameras: 50 hold 2,000 cameras, twice the most the README plans for. */
const MAX_CAMERA_STACKS = 50;

/**
 * Properties of a FaceStreamPipeline.
 */
export interface FaceStreamPipelineProps {
  /**
   * The cameras. More can be added with `addCamera()`.
   * @default - no cameras
   */
  readonly cameras?: CameraConfig[];

  /**
   * Places the cameras in this many nested stacks (1-50), so that a hundred cameras fit
   * CloudFormation's 500 resources per template: a camera adds 7 (frame sampling) to 9 (stream
   * processor) resources, so give about one nested stack per 40 cameras. A camera's nested stack
   * follows from its name alone: adding or removing a camera changes only its own nested stack.
   * Choose the number with room to grow: raising it later moves about 1/(n+1) of the cameras to
   * another nested stack, which replaces their streams.
   * @default - the cameras are in the pipeline's own stack (up to about 50 cameras)
   */
  readonly cameraStacks?: number;

  /**
   * Another pipeline whose collection, consumer (event bus, rules, de-duplication, dead letters)
   * and enrolment this pipeline's cameras use: one pipeline per site, each in a stack of its own
   * (same account and Region), a thousand cameras in all with one collection and one set of rules.
   * The hub's rules see the events of every site's cameras; camera names are unique across the hub
   * and its sites; frame samplers of every site share the hub's Rekognition call budget.
   * @default - the pipeline has its own collection and consumer
   */
  readonly hub?: FaceStreamPipeline;

  /**
   * An existing face collection to search.
   * @default - a new collection (see `collectionId`)
   */
  readonly collection?: IFaceCollection;

  /**
   * The ID of the new collection. Only when `collection` is not given.
   * @default - generated from the construct path
   */
  readonly collectionId?: string;

  /**
   * How every camera's video is searched for faces, for every camera that does not set its own:
   * `FaceSearchEngine.streamProcessor()` (a Rekognition Video stream processor per camera) or
   * `FaceSearchEngine.frameSampling()` (frames searched with the image APIs; every account).
   * @default FaceSearchEngine.streamProcessor() - each camera with its own Rekognition service role
   */
  readonly engine?: FaceSearchEngine;

  /**
   * Minimum similarity (0-100) for a face match, for every camera that does not set its own.
   * Values below 80 are raised to 80 by the service.
   * @default 80
   */
  readonly faceMatchThreshold?: number;

  /**
   * Whether the cameras' video is analysed, for every camera that does not set its own.
   * @default true
   */
  readonly running?: boolean;

  /**
   * Whether Rekognition may store the analysed video to improve its models, for every camera that
   * does not set its own.
   * @default false
   */
  readonly dataSharing?: boolean;

  /**
   * A customer-managed KMS key for the cameras' new video and data streams, for every camera that
   * does not set its own. It is granted to the Rekognition service role.
   * @default - the AWS managed keys aws/kinesisvideo and aws/kinesis
   */
  readonly encryptionKey?: kms.IKey;

  /**
   * Whether to create the FaceSearchConsumer that turns every camera's records into EventBridge
   * events. `false` leaves the data streams to a consumer of your own.
   * @default true
   */
  readonly consumer?: boolean;

  /**
   * Settings of the consumer (event bus, de-duplication window, dead-letter queue, batching).
   * Only with `consumer` true. Its `encryptionKey` defaults to the pipeline's.
   * @default - the FaceSearchConsumer defaults
   */
  readonly consumerProps?: FaceSearchConsumerProps;

  /**
   * Face enrolment from S3 into the pipeline's collection: uploading
   * `faces/<external-image-id>/<name>.jpg|jpeg|png` indexes the face, deleting the object removes it.
   * Its events go to the consumer's event bus.
   * @default false
   */
  readonly enrollment?: boolean;

  /**
   * Settings of face enrolment (bucket, event bus, key, logs). Giving them turns enrolment on.
   * @default - the FaceEnrollment defaults, with the consumer's event bus and the pipeline's encryptionKey
   */
  readonly enrollmentOptions?: FaceEnrollmentOptions;

  /**
   * Snapshots: with every sighting that becomes an event, a JPEG of the face (its box plus a
   * margin) and of the whole frame, stored in S3 before the event is sent; the event's detail
   * names them (`snapshot`). Biometric data: README "Snapshots and privacy". A site stores its
   * snapshots in its hub's store.
   * @default false
   */
  readonly snapshots?: boolean;

  /**
   * Settings of snapshots (bucket, key prefix, expiry, face margin). Giving them turns snapshots on.
   * @default - a new bucket, encrypted with the pipeline's encryptionKey when given, objects kept 30 days
   */
  readonly snapshotOptions?: SnapshotOptions;

  /**
   * What a person is in the collection. `FaceIdentity.users()`: enrolment keeps one Rekognition
   * user per external image id (the person), built from all of their pictures, and cameras search
   * users (SearchUsersByImage): every camera needs the frame-sampling engine. A site takes its hub's.
   * @default - the hub's identity for a site; FaceIdentity.faces() otherwise
   */
  readonly identity?: FaceIdentity;

  /**
   * Start and stop every camera's analysis on a schedule (cameras may set their own).
   * @default - no schedule: cameras follow `running`
   */
  readonly schedule?: AnalysisSchedule;

  /**
   * Alarms: consumer errors, consumer iterator age, dead-letter queue not empty, and per camera no
   * video, a running processor writing no records while video arrives, and a FAILED processor
   * (from a health check every 5 minutes).
   * @default true
   */
  readonly alarms?: boolean;

  /**
   * What the alarms do, for example `new cloudwatch_actions.SnsAction(topic)`.
   * @default - no action: the alarms are visible in CloudWatch
   */
  readonly alarmActions?: cloudwatch.IAlarmAction[];

  /**
   * How long a camera may send no video before its alarm (whole 5-minute periods, up to a day).
   * @default Duration.minutes(15)
   */
  readonly noVideoAlarmAfter?: Duration;

  /**
   * How far behind the data streams the consumer may fall before its alarm.
   * @default Duration.minutes(1)
   */
  readonly iteratorAgeAlarmThreshold?: Duration;

  /**
   * A CloudWatch dashboard: one row per camera, and one for the consumer.
   * @default false
   */
  readonly dashboard?: boolean;
}

/**
 * Face search on camera video in one construct: a face collection, a consumer turning face search
 * records into EventBridge events, and per camera a Kinesis video stream, a Kinesis data stream
 * and its face search engine (a Rekognition Video stream processor, or frame sampling).
 *
 * @example
 * new FaceStreamPipeline(this, 'Faces', { cameras: [{ name: 'front-door' }] });
 */
export class FaceStreamPipeline extends Construct {
  /** The version of this library (cdk-face-stream-pipeline). */
  public static readonly VERSION: string = LIBRARY_VERSION;

  /** The face collection every camera searches. */
  public readonly collection: IFaceCollection;

  /** The consumer of every camera's data stream; absent with `consumer: false`. */
  public readonly consumer?: FaceSearchConsumer;

  /** What a person is in the collection: faces, or users (searched by frame sampling). */
  public readonly identity: FaceIdentity;

  /** Face enrolment from S3; present with `enrollment: true`. */
  public readonly enrollment?: FaceEnrollment;

  /** Where snapshots are stored; present with `snapshots: true` (a site: its hub's). */
  public readonly snapshots?: SnapshotStore;

  /** The de-duplication window of this pipeline's consumer (a site: its hub's), given to the cameras' engines. */
  private readonly dedupeWindow: Duration;

  /** The alarms (empty with `alarms: false`); cameras added later add theirs. */
  public readonly alarms: cloudwatch.Alarm[];

  /** The dashboard, with `dashboard: true`. */
  public readonly dashboard?: cloudwatch.Dashboard;

  /**
   * The cameras' new video streams and data streams are named `<streamNamePrefix><camera name>`
   * (the stack output `StreamNamePrefix` says it too): with the consumer, its
   * `dataStreamNamePrefix`; otherwise derived from this pipeline's construct path.
   */
  public readonly streamNamePrefix: string;

  private readonly monitoring: PipelineMonitoring;

  private readonly props: FaceStreamPipelineProps;
  private readonly cameraList: Camera[] = [];
  private readonly cameraAddedHandlers: Array<(camera: Camera) => void> = [];
  private readonly ruleCameras: Array<{ rule: string; camera: string }> = [];
  /** The hub's cameras and its sites' (on the hub only): names are unique across them. */
  private readonly allCameras = new Map<string, Camera>();
  private readonly hub?: FaceStreamPipeline;

  constructor(scope: Construct, id: string, props: FaceStreamPipelineProps = {}) {
    super(scope, id);
    validateNumber('cameraStacks', props.cameraStacks, 1, MAX_CAMERA_STACKS, true);
    if (props.hub) {
      const own = (['collection', 'collectionId', 'consumer', 'consumerProps', 'enrollment', 'enrollmentOptions', 'snapshots', 'snapshotOptions'] as const).filter((key) => props[key] !== undefined);
      if (own.length > 0) {
        throw new Error(`hub gives this pipeline its collection, consumer, enrolment and snapshots; remove ${own.join(', ')} (or hub)`);
      }
      if (props.hub.hub) {
        throw new Error(`hub must be a pipeline without a hub of its own: ${props.hub.node.path} is a site of ${props.hub.hub.node.path}; use that one`);
      }
    }
    if (props.collection && props.collectionId !== undefined) {
      throw new Error('collectionId names a new collection; it cannot be used with collection (an existing one). Remove one of them');
    }
    validateName('collectionId', props.collectionId, COLLECTION_ID);
    validateNumber('faceMatchThreshold', props.faceMatchThreshold, 0, 100);
    this.props = props;
    this.hub = props.hub;
    this.identity = resolveIdentity(props);
    this.collection = props.hub?.collection ?? props.collection ?? new FaceCollection(this, 'Collection', { collectionId: props.collectionId });
    if (props.consumer === false && props.consumerProps) {
      throw new Error('consumerProps configure the consumer, which consumer: false leaves out. Remove one of them');
    }
    if (props.hub) {
      this.consumer = props.hub.consumer;
    } else if (props.consumer !== false) {
      this.consumer = new FaceSearchConsumer(this, 'Consumer', { encryptionKey: props.encryptionKey, ...props.consumerProps });
    }
    if (props.enrollment === false && props.enrollmentOptions) {
      throw new Error('enrollmentOptions configure face enrolment, which enrollment: false leaves out. Remove one of them');
    }
    if (props.enrollment || props.enrollmentOptions) {
      this.enrollment = new FaceEnrollment(this, 'Enrollment', {
        eventBus: this.consumer?.eventBus,
        encryptionKey: props.encryptionKey,
        ...props.enrollmentOptions,
        identity: this.identity,
        collection: this.collection,
      });
    }
    // the consumer's default (FaceSearchConsumerProps.dedupeWindow); without a consumer, records are read by the user's
    this.dedupeWindow = props.hub?.dedupeWindow ?? props.consumerProps?.dedupeWindow ?? Duration.seconds(60);
    if (props.snapshots === false && props.snapshotOptions) {
      throw new Error('snapshotOptions configure snapshots, which snapshots: false leaves out. Remove one of them');
    }
    if (props.hub) {
      this.snapshots = props.hub.snapshots;
    } else if (props.snapshots || props.snapshotOptions) {
      this.snapshots = new SnapshotStore(this, 'Snapshots', { encryptionKey: props.snapshotOptions?.bucket ? undefined : props.encryptionKey, ...props.snapshotOptions });
      // the consumer stores the snapshots of stream-processor cameras (a site's are its hub's consumer's)
      this.consumer?.addSnapshots(this.snapshots);
      new CfnOutput(this, 'SnapshotBucketName', {
        description: 'Face and frame snapshots of every sighting event are stored here (README: Snapshots and privacy)',
        value: this.snapshots.bucket.bucketName,
      });
    }
    this.streamNamePrefix = props.hub?.streamNamePrefix ?? this.consumer?.dataStreamNamePrefix ?? `${Names.uniqueResourceName(this, { maxLength: 40, separator: '-' })}-`;
    // what the README's next steps need: where to send video, and where to upload faces
    new CfnOutput(this, 'StreamNamePrefix', {
      description: 'Each camera sends video to the Kinesis video stream <prefix><camera name>; its face search records are in the data stream of the same name',
      value: this.streamNamePrefix,
    });
    if (this.enrollment) {
      new CfnOutput(this, 'EnrollmentBucketName', {
        description: 'Upload faces/<person>/<photo>.jpg here to enrol a face',
        value: this.enrollment.bucket.bucketName,
      });
      if (this.identity.usesUsers) {
        new CfnOutput(this, 'EnrollmentFunctionName', {
          description: 'Invoke with {"action": "backfill-users"} once to give faces enrolled before users mode their users (README: Users mode)',
          value: this.enrollment.handler.functionName,
        });
      }
    }
    this.node.addValidation({ validate: () => this.validateRuleCameras() });
    checkStackLimits(this);
    validateAlarmPeriod('noVideoAlarmAfter', props.noVideoAlarmAfter);
    if (props.alarms === false && props.alarmActions?.length) {
      throw new Error('alarmActions act on the alarms, which alarms: false leaves out. Remove one of them');
    }
    this.monitoring = new PipelineMonitoring(this, 'Monitoring', {
      alarms: props.alarms ?? true,
      alarmActions: props.alarmActions ?? [],
      noVideoAlarmAfter: props.noVideoAlarmAfter ?? Duration.minutes(15),
      iteratorAgeAlarmThreshold: props.iteratorAgeAlarmThreshold ?? Duration.minutes(1),
      dashboard: props.dashboard ?? false,
      // a site's consumer is the hub's, monitored there
      consumer: props.hub ? undefined : this.consumer,
    });
    this.alarms = this.monitoring.alarms;
    this.dashboard = this.monitoring.dashboard;
    for (const [i, camera] of (props.cameras ?? []).entries()) {
      if (!camera || typeof camera.name !== 'string') {
        throw new Error(`cameras[${i}].name must be a camera name (1-64 characters of [a-zA-Z0-9_.-]), got ${JSON.stringify(camera?.name)}`);
      }
      const { name, ...options } = camera;
      this.addCamera(name, options);
    }
  }

  /** The cameras, in the order they were added. */
  public get cameras(): Camera[] {
    return [...this.cameraList];
  }

  /**
   * Adds a camera: a video stream, a data stream and its engine (a stream processor by default)
   * searching this pipeline's collection.
   *
   * @param name 1-64 characters of `[a-zA-Z0-9_.-]`, unique in the pipeline
   */
  public addCamera(name: string, options: CameraOptions = {}): Camera {
    validateName('camera name', name, CAMERA_NAME);
    const hub = this.hub ?? this;
    const taken = hub.allCameras.get(name);
    if (taken) {
      const owner = taken.node.scopes.find((c): c is FaceStreamPipeline => c instanceof FaceStreamPipeline);
      const across = owner && owner !== this ? ` (it is a camera of ${owner.node.path}: names are unique across a hub and its sites, whose streams share one name prefix)` : '';
      throw new Error(`camera name ${JSON.stringify(name)} is used twice; each camera of a pipeline needs a unique name${across}`);
    }
    const scope = cameraScope(this, name, this.props.cameraStacks);
    const camera = new Camera(scope, name, {
      name,
      collection: this.collection,
      engine: options.engine ?? this.props.engine,
      faceMatchThreshold: options.faceMatchThreshold ?? this.props.faceMatchThreshold,
      identity: this.identity,
      running: options.running ?? this.props.running,
      dataSharing: options.dataSharing ?? this.props.dataSharing,
      encryptionKey: options.encryptionKey ?? (options.videoStream && options.dataStream ? undefined : this.props.encryptionKey),
      videoStream: options.videoStream,
      dataStream: options.dataStream,
      videoRetention: options.videoRetention,
      streamNamePrefix: this.streamNamePrefix,
      budgetScope: this.hub,
      snapshots: this.snapshots,
      dedupeWindow: this.dedupeWindow,
      streamProcessorName: options.streamProcessorName,
      schedule: options.schedule ?? this.props.schedule,
    });
    this.cameraList.push(camera);
    hub.allCameras.set(name, camera);
    // a camera outside the consumer's stack keeps its event source mapping with it
    const elsewhere = this.consumer && Stack.of(camera) !== Stack.of(this.consumer);
    this.consumer?._addDataStream(camera.dataStream, camera.cameraName, elsewhere ? camera : undefined);
    if (this.snapshots && camera.streamProcessor) {
      if (!this.consumer) {
        throw new Error(
          `camera ${JSON.stringify(name)}: the snapshots of stream-processor cameras are taken by the pipeline's consumer, which consumer: false leaves out; ` +
            'keep the consumer, give the camera engine: FaceSearchEngine.frameSampling() (which stores its own snapshots), or remove snapshots',
        );
      }
      // the consumer fetches the frames of this camera's sightings for their snapshots
      this.consumer._addSnapshotVideoStream(camera.videoStream, options.videoStream === undefined);
    }
    const alarmScope = scope === this ? undefined : ((scope.node.tryFindChild('Alarms') as Construct | undefined) ?? new Construct(scope, 'Alarms'));
    this.monitoring.addCamera(camera, options.running ?? this.props.running, (options.schedule ?? this.props.schedule) !== undefined, alarmScope);
    const processors = [...hub.allCameras.values()].filter((c) => c.streamProcessor).length;
    if (camera.streamProcessor && processors === DEFAULT_PROCESSOR_QUOTA + 1) {
      Annotations.of(this).addWarningV2(
        'cdk-face-stream-pipeline:processorQuota',
        `This pipeline${this.hub ? ' with its hub and sites' : ''} has more than ${DEFAULT_PROCESSOR_QUOTA} cameras on the stream-processor engine, and so more than ${DEFAULT_PROCESSOR_QUOTA} stream processors: ` +
          'the default Rekognition quota is 10 stream processors per account and Region. Ask for a quota increase before deploying, or use FaceSearchEngine.frameSampling()',
      );
    }
    this.cameraAddedHandlers.forEach((handler) => handler(camera));
    if (this.hub) {
      this.hub.cameraAddedHandlers.forEach((handler) => handler(camera));
    }
    return camera;
  }

  /**
   * A rule on "Face Matched" events: a face matched someone in the collection. With a target
   * such as `new targets.SnsTopic(topic)`, that is an alert.
   */
  public onFaceMatch(id: string, options: FaceMatchRuleOptions = {}): events.Rule {
    this.ruleCameras.push(...(options.cameras ?? []).map((camera) => ({ rule: id, camera })));
    return this.requireConsumer('onFaceMatch').onFaceMatch(id, options);
  }

  /**
   * A rule on "Face Not Matched" events: a face that matched nobody in the collection.
   */
  public onUnknownFace(id: string, options: UnknownFaceRuleOptions = {}): events.Rule {
    this.ruleCameras.push(...(options.cameras ?? []).map((camera) => ({ rule: id, camera })));
    return this.requireConsumer('onUnknownFace').onUnknownFace(id, options);
  }

  /**
   * A notification: a short message a person can read, sent to `topic` for face matches and/or
   * unknown faces (with the filters of `onFaceMatch` / `onUnknownFace`): "alice at front-door",
   * with the camera, the time in `timeZone` and UTC, the similarity, the engine and, with
   * `snapshots` on, a link to the face snapshot that works for `linkExpiry`. E-mail and SMS
   * subscribers read it as is. One function per stack publishes every notification's messages.
   * See the README's "Notifications". Answers the rules it adds (matches first).
   */
  public notify(id: string, topic: sns.ITopic, options: FaceNotificationOptions = {}): events.Rule[] {
    this.ruleCameras.push(...(options.cameras ?? []).map((camera) => ({ rule: id, camera })));
    return this.requireConsumer('notify').notify(id, topic, options, this.snapshots);
  }

  private requireConsumer(method: string): FaceSearchConsumer {
    if (!this.consumer) {
      throw new Error(`${method} needs the pipeline's consumer, which consumer: false leaves out; add rules to your own consumer instead`);
    }
    return this.consumer;
  }

  /** Rules may name cameras added after them, so their names are checked when the app synthesizes. */
  private validateRuleCameras(): string[] {
    // a hub's rules see its sites' cameras too; a site's rules are the hub's consumer's
    const known = new Set((this.hub ?? this).allCameras.keys());
    return this.ruleCameras
      .filter(({ camera }) => !known.has(camera))
      .map(({ rule, camera }) => `rule "${rule}" names the camera ${show(camera)} in cameras, which is not a camera of this pipeline (cameras: ${[...known].join(', ') || 'none'})`);
  }

  /**
   * Calls `handler` for every camera, those added already and those added later (on a hub, its
   * sites' cameras too). This is how a consumer attaches to every camera's data stream.
   */
  public onCamera(handler: ICameraHandler): void {
    (this.hub ? this.cameraList : [...this.allCameras.values()]).forEach((camera) => handler.handle(camera));
    this.cameraAddedHandlers.push((camera) => handler.handle(camera));
  }
}

/**
 * Something that acts on each camera of a pipeline (see `FaceStreamPipeline.onCamera`).
 */
export interface ICameraHandler {
  /** Called once for each camera. */
  handle(camera: Camera): void;
}

/** The pipeline's identity: its own, its hub's, or its enrolment options' (which must agree). */
function resolveIdentity(props: FaceStreamPipelineProps): FaceIdentity {
  const given = props.identity?.mode;
  const hub = props.hub?.identity.mode;
  const enrolment = props.enrollmentOptions?.identity?.mode;
  if (given && hub && given !== hub) {
    throw new Error(`identity: a site searches its hub's collection the hub's way; the hub has FaceIdentity.${hub}(), this pipeline FaceIdentity.${given}(). Remove identity here`);
  }
  if (given && enrolment && given !== enrolment) {
    throw new Error(`identity is FaceIdentity.${given}() but enrollmentOptions.identity is FaceIdentity.${enrolment}(); set it once, with identity`);
  }
  const mode = given ?? hub ?? enrolment ?? 'faces';
  return mode === 'users' ? FaceIdentity.users() : FaceIdentity.faces();
}
