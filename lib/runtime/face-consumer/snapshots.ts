/**
 * Snapshots of stream-processor sightings: for each sighting about to be sent, the frame it was
 * seen in, fetched from Kinesis Video Streams with GetImages at the frame's producer timestamp,
 * stored in S3 as it came (frame.jpg) with the crop of the face box and its margin (face.jpg).
 *
 * This module is a file of its own in the consumer's asset (scripts/bundle.mjs: `snapshots.js`),
 * loaded by snapshot-step.ts at the first sighting that needs it, so that a consumer without
 * snapshots never loads its code (JPEG, S3, GetImages). It takes the consumer's logger rather than
 * importing ./clients (which would be a second copy in this file).
 *
 * One GetImages call per frame (several faces of one frame share it), asking for the two sampling
 * points `frameTime - 200 ms` and `frameTime` (200 ms is GetImages' smallest SamplingInterval): a
 * StartTimestamp inside a fragment may miss that fragment's first sampling point, so the frame's
 * own point is never the first. The image at the frame's time is kept. When the video is not
 * stored yet (NO_MEDIA while the fragment is recent: KVS serves only complete, persisted
 * fragments), the call is repeated after a wait, within the invocation's time; an old frame with
 * NO_MEDIA (beyond the stream's retention, or never stored) fails at once. Every failure leaves the
 * sighting without a snapshot: the caller sends its event anyway.
 */
import { KinesisVideoClient } from '@aws-sdk/client-kinesis-video';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { FaceSnapshot } from '../../events';
import { SNAPSHOT_DEFAULTS } from '../../snapshot-settings';
import type { FaceEvent } from '../face-records/parser';
import { errorName } from '../shared/errors';
import { KvsImages } from '../shared/kvs-images';
import { cropBox, decode, type Frame } from '../shared/pictures';
import { type OnRetry, type RetryOptions, retryOptionsFromEnv, withRetry } from '../shared/retry';
import { snapshotKeys } from '../shared/snapshot-keys';

export interface SnapshotLog {
  warn(message: string, ...extra: Array<Record<string, unknown>>): void;
}

export interface SnapshotSettings {
  readonly bucket: string;
  readonly prefix: string;
  readonly faceMargin: number;
  readonly s3ForcePathStyle?: boolean;
  readonly log: SnapshotLog;
}

/**
 * Stores the snapshots of `events` (stream-processor sightings) until `untilMs` (epoch ms); answers
 * each event's snapshot, in order, or undefined where it could not be stored.
 */
export type Snapshotter = (events: readonly FaceEvent[], untilMs: number) => Promise<Array<FaceSnapshot | undefined>>;

/** GetImages' smallest SamplingInterval. */
export const SAMPLING_MS = 200;
/** The longest one GetDataEndpoint, GetImages or PutObject attempt may take. */
const ATTEMPT_TIMEOUT_MS = 10_000;
/** Waits before asking again for a frame whose video is not stored yet. */
const MEDIA_WAITS_MS = [1_000, 2_000, 4_000];
/**
 * How long after its fragment reached Kinesis Video Streams (the record's ServerTimestamp) a frame
 * may still be on its way to storage: a fragment is stored once complete (a few seconds of video)
 * and persisted. Past this, NO_MEDIA means there is no video to fetch.
 */
const MEDIA_PENDING_MS = 20_000;
/** Frames fetched and stored at once. */
const CONCURRENCY = 4;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

interface FrameGroup {
  readonly videoStreamArn: string;
  readonly frameMs: number;
  readonly serverMs: number;
  readonly members: Array<{ readonly index: number; readonly event: FaceEvent }>;
}

function groupByFrame(events: readonly FaceEvent[]): FrameGroup[] {
  const groups = new Map<string, FrameGroup>();
  events.forEach((event, index) => {
    const frameMs = Date.parse(event.frameTime);
    const key = `${event.videoStreamArn}|${frameMs}`;
    let group = groups.get(key);
    if (!group) {
      group = { videoStreamArn: event.videoStreamArn, frameMs, serverMs: Date.parse(event.serverTime), members: [] };
      groups.set(key, group);
    }
    group.members.push({ index, event });
  });
  return [...groups.values()];
}

/** Runs `work` over `items`, `limit` at a time. */
async function eachLimited<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      await work(items[next++]);
    }
  });
  await Promise.all(lanes);
}

export function createSnapshotter(settings: SnapshotSettings): Snapshotter {
  // every client makes one attempt; the shared withRetry retries, with tighter waits than the
  // environment's: the event waits for its snapshot
  const fromEnv = retryOptionsFromEnv();
  const retry: RetryOptions = { attempts: Math.min(fromEnv.attempts, 3), baseDelayMs: fromEnv.baseDelayMs, maxDelayMs: Math.min(fromEnv.maxDelayMs, 1_000) };
  const onRetry: OnRetry = (operation, attempt, error, delayMs) => settings.log.warn('retrying after a transient error', { operation, attempt, error: errorName(error), delayMs });
  const images = new KvsImages(new KinesisVideoClient({ maxAttempts: 1 }), onRetry, retry);
  const s3 = new S3Client({ maxAttempts: 1, forcePathStyle: settings.s3ForcePathStyle });

  /** The attempt limit for what is left of the time. */
  const attemptTimeout = (untilMs: number) => Math.max(1, Math.min(ATTEMPT_TIMEOUT_MS, Math.floor((untilMs - Date.now()) / retry.attempts)));

  /** The JPEG of the frame at `group.frameMs`, or the reason there is none. */
  async function fetchFrame(group: FrameGroup, untilMs: number): Promise<{ jpeg: Buffer } | { reason: string }> {
    for (let round = 0; ; round++) {
      if (Date.now() >= untilMs) {
        return { reason: 'OutOfTime' };
      }
      const page = await images.getImages({
        streamArn: group.videoStreamArn,
        startMs: group.frameMs - SAMPLING_MS,
        endMs: group.frameMs,
        samplingIntervalMs: SAMPLING_MS,
        maxResults: 2,
        jpegQuality: SNAPSHOT_DEFAULTS.JPEG_QUALITY,
        attemptTimeoutMs: attemptTimeout(untilMs),
      });
      const nearest = page.images
        .filter((image) => Math.abs(image.timeMs - group.frameMs) < SAMPLING_MS / 2)
        .sort((a, b) => Math.abs(a.timeMs - group.frameMs) - Math.abs(b.timeMs - group.frameMs))[0];
      if (nearest?.jpeg) {
        return { jpeg: nearest.jpeg };
      }
      const reason = nearest?.error ?? 'NO_MEDIA';
      const wait = MEDIA_WAITS_MS[round];
      const serviceNow = page.serverTime ?? Date.now();
      const pending = reason === 'NO_MEDIA' && serviceNow - group.serverMs < MEDIA_PENDING_MS;
      if (!pending || wait === undefined || Date.now() + wait >= untilMs) {
        return { reason };
      }
      await sleep(wait);
    }
  }

  async function put(key: string, body: Buffer, untilMs: number): Promise<void> {
    await withRetry(
      'PutObject',
      () =>
        s3.send(new PutObjectCommand({ Bucket: settings.bucket, Key: key, Body: body, ContentType: 'image/jpeg' }), {
          abortSignal: AbortSignal.timeout(attemptTimeout(untilMs)),
        }),
      retry,
      onRetry,
    );
  }

  async function storeGroup(group: FrameGroup, untilMs: number, out: Array<FaceSnapshot | undefined>): Promise<void> {
    let frameJpeg: Buffer;
    let frame: Frame;
    try {
      const fetched = await fetchFrame(group, untilMs);
      if (!('jpeg' in fetched)) {
        settings.log.warn('no frame for the snapshot; the events go without it', { reason: fetched.reason, videoStreamArn: group.videoStreamArn, frameTime: new Date(group.frameMs).toISOString(), faces: group.members.length });
        return;
      }
      frameJpeg = fetched.jpeg;
      frame = decode(frameJpeg);
    } catch (error) {
      settings.log.warn('could not fetch the frame for the snapshot; the events go without it', { error: errorName(error), message: (error as Error).message, videoStreamArn: group.videoStreamArn, frameTime: new Date(group.frameMs).toISOString() });
      return;
    }
    await Promise.all(
      group.members.map(async ({ index, event }) => {
        try {
          const b = event.face.boundingBox;
          const face = cropBox(frame, { Width: b.width, Height: b.height, Left: b.left, Top: b.top }, { padding: settings.faceMargin, quality: SNAPSHOT_DEFAULTS.JPEG_QUALITY, atEdge: 'clip' });
          const keys = snapshotKeys(settings.prefix, event.camera, event.id);
          await Promise.all([put(keys.faceKey, face.jpeg, untilMs), put(keys.frameKey, frameJpeg, untilMs)]);
          out[index] = { bucket: settings.bucket, faceKey: keys.faceKey, frameKey: keys.frameKey };
        } catch (error) {
          settings.log.warn('could not store the snapshot; the event goes without it', { error: errorName(error), message: (error as Error).message, id: event.id });
        }
      }),
    );
  }

  return async (events, untilMs) => {
    const out: Array<FaceSnapshot | undefined> = new Array(events.length).fill(undefined);
    await eachLimited(groupByFrame(events), CONCURRENCY, (group) => storeGroup(group, untilMs, out));
    return out;
  };
}
