/**
 * The consumer's configuration, read once per container from the environment the construct sets
 * (lib/face-search-consumer.ts).
 */
import { SNAPSHOT_DEFAULTS, SNAPSHOT_ENV } from '../../snapshot-settings';

const env = process.env;

function wholeNumber(name: string, fallback: number): number {
  const value = Number(env[name]);
  return Number.isInteger(value) && value > 0 ? value : fallback;
}

function cameraMap(): Record<string, string> {
  const text = env.CAMERAS ?? '';
  if (text === '') {
    return {};
  }
  try {
    return JSON.parse(text) as Record<string, string>;
  } catch (error) {
    throw new Error(`CAMERAS must be a JSON object of data stream ARN -> camera name: ${(error as Error).message}`);
  }
}

function ratio(name: string, fallback: number): number {
  const value = Number(env[name] ?? '');
  return env[name] !== undefined && env[name] !== '' && Number.isFinite(value) && value >= 0 ? value : fallback;
}

const dedupeTable = env.DEDUPE_TABLE_NAME ?? '';
const dedupeWindowSeconds = Number(env.DEDUPE_WINDOW_SECONDS ?? '0');

export const config = {
  eventBusName: env.EVENT_BUS_NAME || 'default',
  /** `detail.consumer` of the events, and the `service` of logs and metrics. */
  consumerId: env.CONSUMER_ID ?? '',
  deadLetterQueueUrl: env.DEAD_LETTER_QUEUE_URL ?? '',
  /**
   * The dead-letter queue's MaximumMessageSize: the most bytes of one message, and of one
   * SendMessageBatch call in all. 256 KiB when not given (the smallest size a queue made before
   * 2025 has by default).
   */
  deadLetterMaxMessageBytes: wholeNumber('DEAD_LETTER_QUEUE_MAX_MESSAGE_BYTES', 256 * 1024),
  dedupeTable,
  dedupeWindowSeconds: Number.isFinite(dedupeWindowSeconds) ? dedupeWindowSeconds : 0,
  /** De-duplication needs both its table and a window. */
  dedupeOn: dedupeTable !== '' && dedupeWindowSeconds > 0,
  /** data stream ARN -> camera name, for streams not named with the prefix */
  cameras: cameraMap(),
  /** Data streams named `<prefix><camera>` carry their camera in their name. */
  dataStreamPrefix: env.DATA_STREAM_PREFIX ?? '',
  /**
   * Snapshots of stream-processor sightings (the consumer fetches their frames); off without a
   * bucket. Frame-sampling records bring their own.
   */
  snapshots: {
    bucket: env[SNAPSHOT_ENV.BUCKET] ?? '',
    prefix: env[SNAPSHOT_ENV.PREFIX] ?? SNAPSHOT_DEFAULTS.KEY_PREFIX,
    faceMargin: ratio(SNAPSHOT_ENV.FACE_MARGIN, SNAPSHOT_DEFAULTS.FACE_MARGIN),
    /** Path-style S3 addressing, only for S3-compatible endpoints that need it. */
    s3ForcePathStyle: env.S3_FORCE_PATH_STYLE === 'true',
  },
};

/**
 * How far ahead of the record's arrival in Kinesis a frame time may be for de-duplication: a frame
 * is analysed and written after it is captured, so a correct clock is never ahead of the arrival
 * by more than clock differences between hosts. Beyond this, the producer's clock is wrong.
 */
export const MAX_FRAME_AHEAD_SECONDS = 5;

/** How long a sighting claim is kept after its window ends (TTL), for replays of its records. */
export const CLAIM_TTL_SECONDS = 3600;

/** The lease of a claim when the invocation's remaining time is unknown. */
export const DEFAULT_LEASE_SECONDS = 60;
