import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import { Construct, IConstruct } from 'constructs';
import type { IFaceCollection } from './face-collection';
import { FaceIdentity } from './face-identity';
import { bindFrameSampling } from './engines/frame-sampling-engine';
import { bindStreamProcessor } from './engines/stream-processor-engine';
import { ENGINE_NAMES } from './events';
import { StreamProcessor } from './stream-processor';
import type { SnapshotStore } from './snapshots';
import { IVideoStream } from './video-stream';

/**
 * When a camera's engine analyses video: EventBridge Scheduler starts and stops it. Time zones
 * come with the expressions, e.g. `ScheduleExpression.cron({ hour: '7', weekDay: 'MON-FRI',
 * timeZone: TimeZone.EUROPE_PARIS })`.
 */
export interface AnalysisSchedule {
  /**
   * When to start analysing: a cron, rate or at expression of EventBridge Scheduler.
   */
  readonly start: scheduler.ScheduleExpression;

  /**
   * When to stop analysing.
   */
  readonly stop: scheduler.ScheduleExpression;
}

/**
 * Options of the stream-processor engine.
 */
export interface StreamProcessorEngineOptions {
  /**
   * The role Rekognition assumes for the camera's processor. A role of this app is granted
   * exactly the camera's streams.
   * @default - a new role for each camera, trusting rekognition.amazonaws.com for that camera's processor only
   */
  readonly role?: iam.IRole;
}

/**
 * How the frame-sampling engine follows a camera.
 */
export enum FrameSamplingMode {
  /**
   * A follower (the sampler function) stays with the camera and analyses each fragment as soon as
   * Kinesis Video Streams has stored it: a face is in the data stream seconds after it appears.
   * The follower hands over to a successor before Lambda's 15-minute limit, without gap or overlap.
   * Billed for the time the follower runs: about 900 Lambda GB-seconds per camera-hour at 256 MB.
   */
  LIVE = 'live',

  /**
   * Once a minute, the sampler analyses the video stored since its last run, up to 10 s behind
   * live, then stops: cheaper (a fraction of the Lambda time, one GetImages call per 25 frames),
   * but a face is reported up to a minute after it appears.
   */
  CATCH_UP = 'catch-up',
}

/**
 * Options of the frame-sampling engine.
 */
export interface FrameSamplingOptions {
  /**
   * How the camera is followed: continuously (seconds from a face to its event) or once a minute
   * (cheaper; up to a minute late). See README "Choosing an engine" for both figures.
   * @default FrameSamplingMode.LIVE
   */
  readonly mode?: FrameSamplingMode;

  /**
   * How often a frame is taken from the video (at least 200 ms, in whole milliseconds).
   * @default Duration.seconds(1)
   */
  readonly samplingInterval?: Duration;

  /**
   * The width of the frames analysed, in pixels (GetImages scales the frame; the height keeps the
   * aspect ratio). Larger frames find smaller faces and cost more to fetch and crop.
   * @default - the frame's own size
   */
  readonly imageWidth?: number;

  /**
   * Faces detected with less confidence (0-100) are not searched.
   * @default 90
   */
  readonly minFaceConfidence?: number;

  /**
   * Faces smaller than this share of the frame's width are not searched (0-1). Rekognition
   * needs faces of at least 40 x 40 pixels.
   * @default 0.04
   */
  readonly minFaceWidth?: number;

  /**
   * The most faces searched in one frame (1-100), largest first.
   * @default 5
   */
  readonly maxFacesPerFrame?: number;
}

/**
 * What an engine is given to analyse one camera.
 */
export interface FaceSearchEngineBindOptions {
  /** The camera name. */
  readonly cameraName: string;

  /** The camera's video stream (input). */
  readonly videoStream: IVideoStream;

  /** The camera's data stream (output: one face search record per analysed frame). */
  readonly dataStream: kinesis.IStream;

  /** The collection searched. */
  readonly collection: IFaceCollection;

  /**
   * Minimum similarity (0-100) for a face match.
   * @default 80
   */
  readonly faceMatchThreshold?: number;

  /**
   * What the camera searches for: faces, or Rekognition users (frame sampling only).
   * @default FaceIdentity.faces()
   */
  readonly identity?: FaceIdentity;

  /**
   * Whether the camera is analysed.
   * @default true
   */
  readonly running?: boolean;

  /**
   * Whether Rekognition may store the analysed video to improve its models (stream processors only).
   * @default false
   */
  readonly dataSharing?: boolean;

  /**
   * Start and stop analysis on a schedule.
   * @default - none
   */
  readonly schedule?: AnalysisSchedule;

  /**
   * A fixed stream processor name (stream processors only).
   * @default - generated
   */
  readonly streamProcessorName?: string;

  /**
   * The prefix of the names of this camera's video stream and data stream, shared by every camera
   * of the same pipeline: the streams are named `<prefix><camera name>`. An engine may then grant
   * access to all of a pipeline's cameras with one `<prefix>*` pattern, so that no policy grows
   * with the number of cameras.
   * @default - the streams' names follow no rule: grants name each stream
   */
  readonly streamNamePrefix?: string;

  /**
   * A construct whose stack holds the Rekognition call budget that frame samplers share (frame
   * sampling only): a site of a hub passes the hub, so that every site's samplers pace their calls
   * against one budget, as the account's TPS quota is one.
   * @default - the budget of the camera's own stack
   */
  readonly budgetScope?: IConstruct;

  /**
   * Where the pictures of the sightings that become events are stored (the pipeline's
   * `snapshots`). The frame-sampling engine stores them itself, from the frame it analysed, and
   * names them in its records; with the stream-processor engine the consumer stores them.
   * @default - no snapshots
   */
  readonly snapshots?: SnapshotStore;

  /**
   * The de-duplication window of the consumer that reads the camera's records (0: none). With
   * `snapshots`, the frame-sampling engine stores a person's pictures with the sighting that opens
   * a window, the one the consumer sends as an event.
   * @default Duration.seconds(60)
   */
  readonly dedupeWindow?: Duration;
}

/**
 * What an engine made for one camera.
 */
export interface FaceSearchEngineBinding {
  /** The engine's name, as events carry it: `stream-processor` or `frame-sampling`. */
  readonly engineName: string;

  /**
   * The stream processor, with the stream-processor engine.
   * @default - none
   */
  readonly streamProcessor?: StreamProcessor;

  /**
   * A metric that is 1 or more while the engine cannot analyse the camera (a FAILED or missing
   * processor; a sampler that stopped or fell behind), published by what the engine created.
   */
  readonly healthMetric: cloudwatch.IMetric;

  /** What `healthMetric` above 0 means, for an alarm description. */
  readonly healthDescription: string;
}

/**
 * How a camera's video is searched for faces.
 *
 * - `FaceSearchEngine.streamProcessor()` (the default): a Rekognition Video stream processor
 *   watches the video stream. Billed per minute of video analysed. Since 2026-04-30 open only to
 *   accounts that used stream processors in the previous 12 months; default quota 10 per Region.
 * - `FaceSearchEngine.frameSampling(options)`: a sampler takes frames from the video stream
 *   (Kinesis Video Streams GetImages) and searches them with Rekognition's image APIs. Works in
 *   every account; billed per image call.
 *
 * Both write records of the same documented shape to the camera's data stream, so the consumer,
 * events and rules are the same.
 */
export abstract class FaceSearchEngine {
  /**
   * A Rekognition Video stream processor per camera (the default engine).
   */
  public static streamProcessor(options: StreamProcessorEngineOptions = {}): FaceSearchEngine {
    return new StreamProcessorEngine(options);
  }

  /**
   * Frames sampled from the video stream and searched with Rekognition's image APIs.
   */
  public static frameSampling(options: FrameSamplingOptions = {}): FaceSearchEngine {
    return new FrameSamplingEngine(options);
  }

  /** The engine's name, as events carry it: `stream-processor` or `frame-sampling`. */
  public abstract readonly engineName: string;

  /**
   * Wires one camera: called once per camera, with the camera as the scope of what it creates.
   */
  public abstract bind(scope: Construct, options: FaceSearchEngineBindOptions): FaceSearchEngineBinding;
}

class StreamProcessorEngine extends FaceSearchEngine {
  public readonly engineName: string = ENGINE_NAMES.STREAM_PROCESSOR;

  constructor(private readonly options: StreamProcessorEngineOptions) {
    super();
  }

  public bind(scope: Construct, options: FaceSearchEngineBindOptions): FaceSearchEngineBinding {
    if (options.identity?.usesUsers) {
      throw new Error(
        `Camera "${options.cameraName}": identity FaceIdentity.users() needs the frame-sampling engine: Rekognition stream processors search faces only, ` +
          'never users (users are searched with SearchUsersByImage, an image API). Give this camera engine: FaceSearchEngine.frameSampling(), or use identity: FaceIdentity.faces()',
      );
    }
    return bindStreamProcessor(scope, { ...options, role: this.options.role }, (s, id, props) => new StreamProcessor(s, id, props));
  }
}

class FrameSamplingEngine extends FaceSearchEngine {
  public readonly engineName: string = ENGINE_NAMES.FRAME_SAMPLING;

  constructor(private readonly options: FrameSamplingOptions) {
    super();
  }

  public bind(scope: Construct, options: FaceSearchEngineBindOptions): FaceSearchEngineBinding {
    return bindFrameSampling(scope, { ...options, searchUsers: options.identity?.usesUsers }, this.options);
  }
}
