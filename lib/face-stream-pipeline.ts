import { Annotations, Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { Camera, CameraConfig, CameraOptions, ProcessorSchedule } from './camera';
import { FaceCollection, IFaceCollection } from './face-collection';
import { FaceEnrollment } from './face-enrollment';
import { FaceMatchRuleOptions, FaceSearchConsumer, FaceSearchConsumerProps, UnknownFaceRuleOptions } from './face-search-consumer';
import { PipelineMonitoring, validateAlarmPeriod } from './private/pipeline-monitoring';
import { createRekognitionServiceRole } from './private/service-role';
import { LIBRARY_VERSION } from './private/version';
import { REKOGNITION_NAME, validateName, validateNumber } from './private/validate';

/** Rekognition's default quota of stream processors per account and Region. */
const DEFAULT_PROCESSOR_QUOTA = 10;

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
   * The role Rekognition assumes for every camera's processor. A role of this app is granted
   * exactly the cameras' streams.
   * @default - a new role trusting rekognition.amazonaws.com for this account's stream processors
   */
  readonly role?: iam.IRole;

  /**
   * Minimum similarity (0-100) for a face match, for every camera that does not set its own.
   * Values below 80 are raised to 80 by the service.
   * @default 80
   */
  readonly faceMatchThreshold?: number;

  /**
   * Whether the cameras' processors run, for every camera that does not set its own.
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
   * An existing bucket for enrolment pictures. Only with `enrollment`.
   * @default - a new bucket: encrypted, private, TLS only
   */
  readonly enrollmentBucket?: s3.IBucket;

  /**
   * Start and stop every camera's processor on a schedule (cameras may set their own).
   * @default - no schedule: processors follow `running`
   */
  readonly schedule?: ProcessorSchedule;

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
 * Amazon Rekognition Video streaming face search in one construct: a face collection, the
 * Rekognition service role, and per camera a Kinesis video stream, a Kinesis data stream and a
 * running stream processor.
 *
 * @example
 * new FaceStreamPipeline(this, 'Faces', { cameras: [{ name: 'front-door' }] });
 */
export class FaceStreamPipeline extends Construct {
  /** The version of this library (cdk-face-stream-pipeline). */
  public static readonly VERSION: string = LIBRARY_VERSION;

  /** The face collection every camera searches. */
  public readonly collection: IFaceCollection;

  /** The role Rekognition assumes, shared by all cameras. */
  public readonly role: iam.IRole;

  /** The consumer of every camera's data stream; absent with `consumer: false`. */
  public readonly consumer?: FaceSearchConsumer;

  /** Face enrolment from S3; present with `enrollment: true`. */
  public readonly enrollment?: FaceEnrollment;

  /** The alarms (empty with `alarms: false`); cameras added later add theirs. */
  public readonly alarms: cloudwatch.Alarm[];

  /** The dashboard, with `dashboard: true`. */
  public readonly dashboard?: cloudwatch.Dashboard;

  private readonly monitoring: PipelineMonitoring;

  private readonly props: FaceStreamPipelineProps;
  private readonly cameraList: Camera[] = [];
  private readonly cameraAddedHandlers: Array<(camera: Camera) => void> = [];
  private readonly ruleCameras: Array<{ rule: string; camera: string }> = [];

  constructor(scope: Construct, id: string, props: FaceStreamPipelineProps = {}) {
    super(scope, id);
    if (props.collection && props.collectionId !== undefined) {
      throw new Error('collectionId names a new collection; it cannot be used with collection (an existing one). Remove one of them');
    }
    validateName('collectionId', props.collectionId, 1, 255, REKOGNITION_NAME, '[a-zA-Z0-9_.-]');
    validateNumber('faceMatchThreshold', props.faceMatchThreshold, 0, 100);
    this.props = props;
    this.collection = props.collection ?? new FaceCollection(this, 'Collection', { collectionId: props.collectionId });
    this.role = props.role ?? createRekognitionServiceRole(this, 'ServiceRole');
    if (props.consumer === false && props.consumerProps) {
      throw new Error('consumerProps configure the consumer, which consumer: false leaves out. Remove one of them');
    }
    if (props.consumer !== false) {
      this.consumer = new FaceSearchConsumer(this, 'Consumer', { encryptionKey: props.encryptionKey, ...props.consumerProps });
    }
    if (props.enrollmentBucket && !props.enrollment) {
      throw new Error('enrollmentBucket is the bucket of face enrolment; it needs enrollment: true');
    }
    if (props.enrollment) {
      this.enrollment = new FaceEnrollment(this, 'Enrollment', {
        collection: this.collection,
        bucket: props.enrollmentBucket,
        eventBus: this.consumer?.eventBus,
        encryptionKey: props.encryptionKey,
      });
    }
    this.node.addValidation({ validate: () => this.validateRuleCameras() });
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
      consumer: this.consumer,
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
   * Adds a camera: a video stream, a data stream and a stream processor searching this pipeline's
   * collection.
   *
   * @param name 1-64 characters of `[a-zA-Z0-9_.-]`, unique in the pipeline
   */
  public addCamera(name: string, options: CameraOptions = {}): Camera {
    validateName('camera name', name, 1, 64, REKOGNITION_NAME, '[a-zA-Z0-9_.-]');
    if (this.cameraList.some((camera) => camera.cameraName === name)) {
      throw new Error(`camera name ${JSON.stringify(name)} is used twice; each camera of a pipeline needs a unique name`);
    }
    const camera = new Camera(this, name, {
      name,
      collection: this.collection,
      role: this.role,
      faceMatchThreshold: options.faceMatchThreshold ?? this.props.faceMatchThreshold,
      running: options.running ?? this.props.running,
      dataSharing: options.dataSharing ?? this.props.dataSharing,
      encryptionKey: options.encryptionKey ?? (options.videoStream && options.dataStream ? undefined : this.props.encryptionKey),
      videoStream: options.videoStream,
      dataStream: options.dataStream,
      videoRetention: options.videoRetention,
      streamProcessorName: options.streamProcessorName,
      schedule: options.schedule ?? this.props.schedule,
    });
    this.cameraList.push(camera);
    this.consumer?.addCamera(camera);
    this.monitoring.addCamera(camera, options.running ?? this.props.running);
    if (this.cameraList.length === DEFAULT_PROCESSOR_QUOTA + 1) {
      Annotations.of(this).addWarningV2(
        'cdk-face-stream-pipeline:processorQuota',
        `This pipeline has more than ${DEFAULT_PROCESSOR_QUOTA} cameras, and so more than ${DEFAULT_PROCESSOR_QUOTA} stream processors: ` +
          'the default Rekognition quota is 10 stream processors per account and Region. Ask for a quota increase before deploying',
      );
    }
    this.cameraAddedHandlers.forEach((handler) => handler(camera));
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

  private requireConsumer(method: string): FaceSearchConsumer {
    if (!this.consumer) {
      throw new Error(`${method} needs the pipeline's consumer, which consumer: false leaves out; add rules to your own consumer instead`);
    }
    return this.consumer;
  }

  /** Rules may name cameras added after them, so their names are checked when the app synthesizes. */
  private validateRuleCameras(): string[] {
    const known = new Set(this.cameraList.map((camera) => camera.cameraName));
    return this.ruleCameras
      .filter(({ camera }) => !known.has(camera))
      .map(({ rule, camera }) => `rule "${rule}": cameras names ${JSON.stringify(camera)}, which is not a camera of this pipeline (cameras: ${[...known].join(', ') || 'none'})`);
  }

  /**
   * Calls `handler` for every camera, those added already and those added later. This is how a
   * consumer attaches to every camera's data stream.
   */
  public onCamera(handler: ICameraHandler): void {
    this.cameraList.forEach((camera) => handler.handle(camera));
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
