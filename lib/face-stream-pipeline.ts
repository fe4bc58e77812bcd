import { Annotations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { Camera, CameraConfig, CameraOptions } from './camera';
import { FaceCollection, IFaceCollection } from './face-collection';
import { createRekognitionServiceRole } from './private/service-role';
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
  /** The face collection every camera searches. */
  public readonly collection: IFaceCollection;

  /** The role Rekognition assumes, shared by all cameras. */
  public readonly role: iam.IRole;

  private readonly props: FaceStreamPipelineProps;
  private readonly cameraList: Camera[] = [];
  private readonly cameraAddedHandlers: Array<(camera: Camera) => void> = [];

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
    });
    this.cameraList.push(camera);
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
