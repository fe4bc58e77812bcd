/**
 * Snapshots (with the pipeline's snapshots on): for each sighting that will become an event, a
 * JPEG of the face (its box plus the store's margin, clipped at the frame's edges) and of the whole
 * frame the sampler analysed (no other call to Kinesis Video Streams), stored in S3 under the keys
 * of shared/snapshot-keys.ts BEFORE the record naming them is written, so that an event's target can
 * fetch them at once. The record's face gets `Snapshot: {Bucket, FaceKey, FrameKey}` (an extension
 * of the documented shape, like `Engine`), which the parser turns into the event's `snapshot`.
 *
 * Which sightings become events: the consumer de-duplicates per camera and person ("unknown" for
 * every face that matched nobody) and window: a window opens at the person's first sighting at or
 * after the previous window's end and lasts the de-duplication window (face-consumer/dedupe.ts).
 * The sampler sees the camera's sightings in the same order, by frame time, so it follows the same
 * windows: it stores a person's pictures on the frame that opens a window (the first sighting, then
 * the first at or after the end), and no other (window 0: de-duplication off, every sighting). Per
 * person, not per track: a second unknown face within a window is not sent, so its pictures are not
 * stored. Window ends are kept in the camera's progress, saved with its state row (`windows`) and
 * handed over with it, and on the tracked faces (`snapshotUntil`): whichever invocation or
 * container samples the camera next knows every window still open, of a person in view or of one
 * who left moments ago. They are committed only once the page's records are written: a page
 * analysed again stores its pictures again, under the same keys (overwritten, not doubled).
 *
 * A failure to store (refused, or throttled beyond the shared withRetry) loses nothing: the face's
 * record is written without `Snapshot` and SnapshotsFailed counts it. Image bytes are never logged.
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { sightingId, type FaceSearchRecord, type MatchedFace } from '../face-records/parser';
import { errorName } from '../shared/errors';
import { cropBox, type Frame } from '../shared/pictures';
import { retryingSend } from '../shared/retry';
import { snapshotKeys } from '../shared/snapshot-keys';
import { logger, s3 } from './clients';
import type { CameraInput, SnapshotInput } from './config';
import type { Track } from './faces';

export interface SnapshotCounters {
  snapshotsStored: number;
  snapshotsFailed: number;
}

/** The consumer's de-duplication key of a face, without the camera: the best match's person, or "unknown". */
export function personOf(matches: readonly MatchedFace[]): string {
  let best: MatchedFace | undefined;
  for (const m of matches) {
    if (!best || m.Similarity > best.Similarity) {
      best = m;
    }
  }
  return best ? `person:${best.Face.ExternalImageId ?? best.Face.FaceId}` : 'unknown';
}

/** The windows of one page: read through to the committed ones, committed when the page's records are written. */
export class SnapshotWindows {
  private readonly committed: Map<string, number>;
  private readonly pending = new Map<string, number>();

  /** `saved`: the camera's committed window ends (its progress, saved with its state), updated by commit(). */
  constructor(private readonly saved: Record<string, number>, tracks: readonly Track[], private readonly windowMs: number) {
    const committed = new Map(Object.entries(saved));
    this.committed = committed;
    // a predecessor's windows, saved on the faces it tracked
    for (const t of tracks) {
      if (typeof t.snapshotUntil === 'number') {
        const person = personOf(t.matches);
        committed.set(person, Math.max(committed.get(person) ?? Number.NEGATIVE_INFINITY, t.snapshotUntil));
      }
    }
  }

  /** The end of the person's window (-Infinity: none known). */
  public until(person: string): number {
    return this.pending.get(person) ?? this.committed.get(person) ?? Number.NEGATIVE_INFINITY;
  }

  /** Whether a sighting of `person` at `timeMs` opens a window (and then opens it). */
  public opens(person: string, timeMs: number): boolean {
    if (timeMs < this.until(person)) {
      return false;
    }
    this.pending.set(person, timeMs + this.windowMs);
    return true;
  }

  /**
   * The page's records are written: its windows are the camera's. Windows ended by `analysedMs` (the
   * page's position) are forgotten: a sighting after them opens a window either way.
   */
  public commit(analysedMs: number): void {
    for (const [person, end] of this.pending) {
      this.committed.set(person, end);
    }
    this.pending.clear();
    for (const [person, end] of this.committed) {
      if (end <= analysedMs) {
        this.committed.delete(person);
      }
    }
    for (const person of Object.keys(this.saved)) {
      delete this.saved[person];
    }
    Object.assign(this.saved, Object.fromEntries(this.committed));
  }
}

const send = retryingSend(logger);

function put(settings: SnapshotInput, key: string, body: Buffer): Promise<unknown> {
  // the bucket's KMS key named (its policy refuses uploads that do not), else the bucket's default encryption
  const encryption = settings.kmsKeyArn ? { ServerSideEncryption: 'aws:kms' as const, SSEKMSKeyId: settings.kmsKeyArn } : {};
  return send('PutObject', () => s3.send(new PutObjectCommand({ Bucket: settings.bucket, Key: key, Body: body, ContentType: 'image/jpeg', ...encryption })));
}

/**
 * Stores the pictures of the faces of `record` that open a window, and names them in the record.
 * `tracks[i]` is the track of `record.FaceSearchResponse[i]`: each is given its person's window end.
 */
export async function snapshotRecord(
  input: CameraInput & { readonly snapshots: SnapshotInput },
  record: FaceSearchRecord,
  frame: Frame,
  jpeg: Buffer,
  tracks: Track[],
  windows: SnapshotWindows,
  counters: SnapshotCounters,
): Promise<void> {
  const settings = input.snapshots;
  const kv = record.InputInformation.KinesisVideo;
  const timeMs = Math.round((kv.ProducerTimestamp + kv.FrameOffsetInSeconds) * 1000);
  const results = record.FaceSearchResponse;
  for (let i = 0; i < results.length; i++) {
    const person = personOf(results[i].MatchedFaces);
    if (windows.opens(person, timeMs)) {
      // the id the parser gives this face's event
      const id = sightingId(kv, i);
      const keys = snapshotKeys(settings.prefix, input.camera, id);
      try {
        const face = cropBox(frame, results[i].DetectedFace.BoundingBox, { padding: settings.faceMargin, quality: settings.quality, atEdge: 'clip' });
        // the frame as analysed: GetImages' JPEG, stored as it came (each sighting's folder holds its own)
        await Promise.all([put(settings, keys.faceKey, face.jpeg), put(settings, keys.frameKey, jpeg)]);
        results[i] = { ...results[i], Snapshot: { Bucket: settings.bucket, FaceKey: keys.faceKey, FrameKey: keys.frameKey } };
        counters.snapshotsStored++;
      } catch (error) {
        counters.snapshotsFailed++;
        logger.warn('snapshot not stored: the sighting is sent without it', { camera: input.camera, sightingId: id, error: errorName(error) });
      }
    }
    if (tracks[i]) {
      tracks[i].snapshotUntil = windows.until(person);
    }
  }
}
