/**
 * What one invocation samples: the camera's configuration, given by its EventBridge Scheduler
 * schedule as the event (so nothing grows per camera in the function's environment), and the
 * stack-wide settings of the environment.
 */

/**
 * How a camera is followed:
 * - `live`: one follower at a time holds the camera's lease and asks for the newest complete
 *   fragment about once a second, handing over to a successor before its invocation ends;
 * - `catch-up`: every minute, an invocation samples from where the last one stopped up to
 *   LIVE_MARGIN_SECONDS behind live, then ends.
 */
export type SamplingMode = 'live' | 'catch-up';
export const SAMPLING_MODES: readonly SamplingMode[] = ['live', 'catch-up'];

/** The schedule's input for one camera (built by lib/engines/frame-sampling-engine.ts with this type). */
export interface CameraInput {
  /** Absent in the input of schedules deployed before live mode existed: catch-up. */
  readonly mode: SamplingMode;
  /** The camera name: the `camera` metric dimension. */
  readonly camera: string;
  /** The camera's row in the state table. */
  readonly stateKey: string;
  readonly videoStreamArn: string;
  readonly dataStreamArn: string;
  readonly collectionId: string;
  /** Minimum similarity (0-100). */
  readonly faceMatchThreshold: number;
  /** Milliseconds between frames (>= 200). */
  readonly samplingIntervalMs: number;
  /** GetImages WidthPixels; 0 for the frame's own size. */
  readonly imageWidth: number;
  readonly minFaceConfidence: number;
  /** Share of the frame width (0-1). */
  readonly minFaceWidth: number;
  readonly maxFacesPerFrame: number;
  /** `users`: faces are searched against Rekognition users (SearchUsersByImage); absent: against faces. */
  readonly identity?: 'users';
  /** With the pipeline's snapshots: where and how the sampler stores the pictures of a sighting. */
  readonly snapshots?: SnapshotInput;
}

/** Snapshots of a camera (SnapshotStore, and the consumer's de-duplication window). */
export interface SnapshotInput {
  readonly bucket: string;
  /** Empty, or ending with "/". */
  readonly prefix: string;
  /** The margin around a face box, a ratio of its width and height on each side (0-1). */
  readonly faceMargin: number;
  /** JPEG quality (1-100). */
  readonly quality: number;
  /**
   * The bucket's KMS key, named in every upload (SSE-KMS): the bucket's policy refuses uploads that
   * do not name it. Absent: no encryption header, the bucket's default encryption applies.
   */
  readonly kmsKeyArn?: string;
  /**
   * The consumer's de-duplication window: a person's pictures are stored with the sighting that
   * opens a window (0: every sighting).
   */
  readonly windowSeconds: number;
}

export class InputError extends Error {}

function need<T>(event: Record<string, unknown>, key: string, check: (v: unknown) => boolean, what: string): T {
  const value = event[key];
  if (!check(value)) {
    throw new InputError(`schedule input field ${key}: expected ${what}, got ${JSON.stringify(value)}`);
  }
  return value as T;
}

const text = (v: unknown) => typeof v === 'string' && v.length > 0;
const between = (min: number, max: number) => (v: unknown) => typeof v === 'number' && v >= min && v <= max;

/** A successor's event: the camera's input and the follower that handed over to it. */
export interface FollowerEvent extends CameraInput {
  readonly handOverFrom?: string;
}

/** Validates the schedule's input (or a successor's event); throws InputError naming the field. */
export function parseInput(event: unknown): FollowerEvent {
  if (typeof event !== 'object' || event === null) {
    throw new InputError(`schedule input: expected an object, got ${JSON.stringify(event)}`);
  }
  const e = event as Record<string, unknown>;
  return {
    mode: e.mode === undefined ? 'catch-up' : need<SamplingMode>(e, 'mode', (v) => SAMPLING_MODES.includes(v as SamplingMode), SAMPLING_MODES.map((m) => `"${m}"`).join(' or ')),
    camera: need(e, 'camera', text, 'a camera name'),
    stateKey: need(e, 'stateKey', text, 'a state key'),
    videoStreamArn: need(e, 'videoStreamArn', (v) => text(v) && /:kinesisvideo:/.test(v as string), 'a Kinesis video stream ARN'),
    dataStreamArn: need(e, 'dataStreamArn', (v) => text(v) && /:kinesis:/.test(v as string), 'a Kinesis data stream ARN'),
    collectionId: need(e, 'collectionId', text, 'a collection id'),
    faceMatchThreshold: need(e, 'faceMatchThreshold', between(0, 100), 'a number 0-100'),
    samplingIntervalMs: need(e, 'samplingIntervalMs', between(200, 3_600_000), 'milliseconds, at least 200'),
    imageWidth: need(e, 'imageWidth', between(0, 3840), 'pixels 0-3840'),
    minFaceConfidence: need(e, 'minFaceConfidence', between(0, 100), 'a number 0-100'),
    minFaceWidth: need(e, 'minFaceWidth', between(0, 1), 'a number 0-1'),
    maxFacesPerFrame: need(e, 'maxFacesPerFrame', between(1, 100), 'a number 1-100'),
    ...(e.handOverFrom === undefined ? {} : { handOverFrom: need<string>(e, 'handOverFrom', text, 'the request id of the follower handing over') }),
    ...(e.identity === undefined ? {} : { identity: need<'users'>(e, 'identity', (v) => v === 'users', '"users" or no field') }),
    ...(e.snapshots === undefined ? {} : { snapshots: parseSnapshots(e.snapshots) }),
  };
}

function parseSnapshots(value: unknown): SnapshotInput {
  if (typeof value !== 'object' || value === null) {
    throw new InputError(`schedule input field snapshots: expected an object, got ${JSON.stringify(value)}`);
  }
  const s = value as Record<string, unknown>;
  const field = <T>(key: string, check: (v: unknown) => boolean, what: string) => need<T>(s, key, check, what);
  try {
    return {
      bucket: field('bucket', text, 'a bucket name'),
      prefix: field('prefix', (v) => typeof v === 'string' && (v === '' || v.endsWith('/')), 'empty or ending with "/"'),
      faceMargin: field('faceMargin', between(0, 1), 'a number 0-1'),
      quality: field('quality', between(1, 100), 'a number 1-100'),
      windowSeconds: field('windowSeconds', between(0, 86400), 'seconds 0-86400'),
      ...(s.kmsKeyArn === undefined ? {} : { kmsKeyArn: field<string>('kmsKeyArn', (v) => text(v) && /:kms:/.test(v as string), 'a KMS key ARN') }),
    };
  } catch (error) {
    throw error instanceof InputError ? new InputError(error.message.replace('schedule input field ', 'schedule input field snapshots.')) : error;
  }
}

function envNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  const value = raw === undefined || raw === '' ? NaN : Number(raw);
  return Number.isFinite(value) && value >= 0 ? value : fallback;
}

/** Stack-wide settings (the same for every camera). */
export const settings = {
  stateTable: process.env.STATE_TABLE_NAME ?? '',
  /** Where the Rekognition budget rows are: the state table, or a hub's table shared by its sites' samplers. */
  budgetTable: process.env.BUDGET_TABLE_NAME || (process.env.STATE_TABLE_NAME ?? ''),
  /** The Rekognition budget ceiling, calls per second per operation, shared by every camera. */
  rekognitionTps: envNumber('REKOGNITION_TPS', 5),
  /** Catch-up mode: video younger than this is not asked for yet: fragments are still arriving. */
  liveMarginMs: envNumber('LIVE_MARGIN_SECONDS', 10) * 1000,
  /** Where a camera with no saved position starts, behind live. */
  initialLookbackMs: envNumber('INITIAL_LOOKBACK_SECONDS', 60) * 1000,
  /** A sampler further behind than this skips ahead (SecondsSkipped), so a long outage is not replayed at cost. */
  maxCatchUpMs: envNumber('MAX_CATCH_UP_SECONDS', 900) * 1000,
  /** Time kept free at the end of an invocation to save the state. */
  safetyMs: envNumber('SAFETY_MARGIN_SECONDS', 10) * 1000,
  /** A face identified (or found unknown) is not searched again for this long while it is tracked. */
  identityWindowMs: envNumber('IDENTITY_WINDOW_SECONDS', 60) * 1000,
  /** Live mode: a follower's lease lasts this long unless renewed (a killed follower frees the camera this soon). */
  leaseMs: envNumber('LEASE_SECONDS', 30) * 1000,
  /** Live mode: time between two GetImages polls once the follower is at the newest stored fragment. */
  pollMs: envNumber('LIVE_POLL_MS', 1000),
  /** Live mode: at least this long between two GetImages calls while catching up (quota: see README). */
  minCallGapMs: envNumber('MIN_GET_IMAGES_GAP_MS', 500),
  /**
   * Live mode: a sampling point answered NO_MEDIA with no stored video after it is passed over only
   * once it is this much older than the service's clock (its fragment may still be on its way).
   */
  gapMarginMs: envNumber('GAP_MARGIN_SECONDS', 10) * 1000,
  /** Live mode: a follower with this much time left invokes its successor and hands over. */
  handOverLeadMs: envNumber('HAND_OVER_SECONDS', 60) * 1000,
  /** Live mode: how long a successor waits for the lease to be handed over to it. */
  successorWaitMs: envNumber('SUCCESSOR_WAIT_SECONDS', 60) * 1000,
  /** Live mode: metrics are published at least this often by a running follower. */
  metricsEveryMs: envNumber('METRICS_EVERY_SECONDS', 60) * 1000,
};

/** GetImages: at most 300 s between StartTimestamp and EndTimestamp. */
export const MAX_WINDOW_MS = 300_000;
/** Start each window one fragment earlier, so a start inside a fragment misses no image (KVS docs). */
export const FRAGMENT_LOOKBACK_MS = 2_000;
/** Images per GetImages page (the API allows 1-100): pages of full JPEGs stay a few MB. */
export const PAGE_SIZE = 25;
/**
 * Live mode: sampling points per page beyond the fragment looked back at: a page's records are
 * written when the page is done, so a follower catching up writes every few seconds of video.
 */
export const LIVE_PAGE_AHEAD_MS = 4_000;
