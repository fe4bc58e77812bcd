/**
 * The Kinesis face recognition record that Rekognition Video writes for every analysed frame
 * ("Understanding the Kinesis face recognition JSON frame record", Rekognition developer guide),
 * its validation (./validate.ts) and its normalisation into one event per detected face, of the
 * contract's FaceSightingDetail shape (../../events.ts).
 *
 * Pure: no AWS calls, no I/O. Shared by the consumer handler, the tests and the benchmarks.
 * Units: timestamps are Unix epoch seconds with fractions; BoundingBox values are ratios of the
 * frame's width and height (Left/Top may be slightly negative for a face at the edge);
 * Confidence, Similarity and Quality are 0-100; Pose angles are degrees, -180 to 180.
 * Unknown extra fields are tolerated: the service may add some.
 */

import { ENGINE_NAMES } from '../../events';
import type { FaceBox, FaceMatch, FaceSearchEngineName, FaceSightingDetail, FaceSnapshot } from '../../events';
import { BoundingBox, FaceSearchRecord, FaceSearchResult, MAX_RECORD_BYTES, MatchedFace, RecordError } from './record';
import { show, validateRecord } from './validate';

export * from './record';
export { isFaceSearchRecord, validateRecord, validateRecordPrecisely } from './validate';

/** Decodes the base64 `data` of a Kinesis record and parses its JSON; throws RecordError. */
export function decodeRecord(data: unknown): unknown {
  if (typeof data !== 'string') {
    throw new RecordError('(data)', `expected base64 text, got ${show(data)}`);
  }
  const bytes = Buffer.from(data, 'base64');
  // Node skips what is not base64 while decoding: a short result means the text was not base64
  // (cheaper than a regular expression over the whole text).
  const padding = data.endsWith('==') ? 2 : data.endsWith('=') ? 1 : 0;
  if (data.length % 4 !== 0 || bytes.length !== (data.length / 4) * 3 - padding) {
    throw new RecordError('(data)', 'expected base64 text, got characters or a length that base64 does not allow');
  }
  if (bytes.length > MAX_RECORD_BYTES) {
    throw new RecordError('(data)', `expected at most ${MAX_RECORD_BYTES} bytes, got ${bytes.length}`);
  }
  const text = bytes.toString('utf8');
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new RecordError('(data)', `expected JSON, got ${show(text.slice(0, 30))} (${(error as Error).message})`);
  }
}

/** The detail of one "Face Matched" or "Face Not Matched" event, before the consumer adds its id. */
export type FaceEvent = Omit<FaceSightingDetail, 'consumer'>;
export type { FaceBox, FaceMatch };

/** The engine a record names (`Engine`, written by the frame sampler); stream processors write none. */
function engineOf(record: FaceSearchRecord): FaceSearchEngineName {
  return (record as { Engine?: unknown }).Engine === ENGINE_NAMES.FRAME_SAMPLING ? ENGINE_NAMES.FRAME_SAMPLING : ENGINE_NAMES.STREAM_PROCESSOR;
}

const box = (b: BoundingBox): FaceBox => ({ width: b.Width, height: b.Height, left: b.Left, top: b.Top });

function toMatch(m: MatchedFace): FaceMatch {
  const f = m.Face;
  if (f.FaceId !== undefined && f.ExternalImageId !== undefined && f.ImageId !== undefined && f.Confidence !== undefined) {
    // the documented shape, in one object literal (the same fields in the same order as below)
    return { faceId: f.FaceId, similarity: m.Similarity, externalImageId: f.ExternalImageId, imageId: f.ImageId, confidence: f.Confidence };
  }
  if (f.FaceId === undefined) {
    // a user (users mode): the person, with no single face
    return f.ExternalImageId !== undefined ? { userId: f.UserId, similarity: m.Similarity, externalImageId: f.ExternalImageId } : { userId: f.UserId, similarity: m.Similarity };
  }
  const match: { -readonly [K in keyof FaceMatch]: FaceMatch[K] } = { faceId: f.FaceId, similarity: m.Similarity };
  if (f.ExternalImageId !== undefined) {
    match.externalImageId = f.ExternalImageId;
  }
  if (f.ImageId !== undefined) {
    match.imageId = f.ImageId;
  }
  if (f.Confidence !== undefined) {
    match.confidence = f.Confidence;
  }
  return match;
}

/*
 * Epoch milliseconds as ISO 8601 text, exactly as `new Date(ms).toISOString()` gives it (which
 * alone costs more than the rest of a face's normalisation): the date is formatted once per day,
 * the time of day with arithmetic.
 */
const DAY_MS = 86400000;
let cachedDay = NaN;
let cachedDate = ''; // "YYYY-MM-DDT" (or "+YYYYYY-MM-DDT" past year 9999)
const pad2 = (n: number) => (n < 10 ? `0${n}` : `${n}`);
const pad3 = (n: number) => (n < 10 ? `00${n}` : n < 100 ? `0${n}` : `${n}`);

function isoTime(ms: number): string {
  const day = Math.floor(ms / DAY_MS);
  if (day !== cachedDay) {
    const midnight = new Date(day * DAY_MS).toISOString();
    cachedDate = midnight.slice(0, midnight.indexOf('T') + 1);
    cachedDay = day;
  }
  const inDay = ms - day * DAY_MS;
  const hours = Math.floor(inDay / 3600000);
  const minutes = Math.floor(inDay / 60000) % 60;
  const seconds = Math.floor(inDay / 1000) % 60;
  return `${cachedDate}${pad2(hours)}:${pad2(minutes)}:${pad2(seconds)}.${pad3(inDay % 1000)}Z`;
}

/** The matches, highest similarity first (the service's order is kept when it is already so). */
function toMatches(found: MatchedFace[]): FaceMatch[] {
  if (found.length === 0) {
    return [];
  }
  const matches = found.map(toMatch);
  for (let j = 1; j < matches.length; j++) {
    if (matches[j].similarity > matches[j - 1].similarity) {
      return matches.sort((a, b) => b.similarity - a.similarity);
    }
  }
  return matches;
}

/**
 * The id of the i-th face of a record's frame, stable across retries: video stream ARN | fragment |
 * producer timestamp | frame offset | face index. The frame sampler names its snapshots by it
 * (shared/snapshot-keys.ts) before the parser gives it to the event, so both call this.
 */
export function sightingId(kv: Pick<FaceSearchRecord['InputInformation']['KinesisVideo'], 'StreamArn' | 'FragmentNumber' | 'ProducerTimestamp' | 'FrameOffsetInSeconds'>, faceIndex: number): string {
  return `${kv.StreamArn}|${kv.FragmentNumber}|${kv.ProducerTimestamp}|${kv.FrameOffsetInSeconds}|${faceIndex}`;
}

/** S3's longest object key. */
const MAX_KEY_LENGTH = 1024;
const isName = (v: unknown, max: number): v is string => typeof v === 'string' && v.length > 0 && v.length <= max;

/**
 * A face's `Snapshot` as the event's `snapshot`. One that is not {Bucket, FaceKey, FrameKey} of
 * non-empty strings (a bucket name of at most 63 characters, keys of at most 1024) is left out:
 * the sighting is still sent, without pictures (a record is never dead-lettered for its snapshot:
 * the pictures are an addition to the event, the sighting is what must not be lost).
 */
export function snapshotOf(result: FaceSearchResult): FaceSnapshot | undefined {
  const s: unknown = result.Snapshot;
  if (typeof s !== 'object' || s === null) {
    return undefined;
  }
  const { Bucket, FaceKey, FrameKey } = s as Record<string, unknown>;
  return isName(Bucket, 63) && isName(FaceKey, MAX_KEY_LENGTH) && isName(FrameKey, MAX_KEY_LENGTH) ? { bucket: Bucket, faceKey: FaceKey, frameKey: FrameKey } : undefined;
}

/** One event per detected face of the frame. */
export function normaliseRecord(record: FaceSearchRecord, camera: string): FaceEvent[] {
  const kv = record.InputInformation.KinesisVideo;
  const offset = kv.FrameOffsetInSeconds;
  const frameTime = isoTime(Math.round((kv.ProducerTimestamp + offset) * 1000));
  const serverTime = isoTime(Math.round(kv.ServerTimestamp * 1000));
  const processorStatus = record.StreamProcessorInformation.Status;
  const engine = engineOf(record);
  const results = record.FaceSearchResponse;
  const events: FaceEvent[] = new Array(results.length);
  for (let i = 0; i < results.length; i++) {
    const detected = results[i].DetectedFace;
    const matches = toMatches(results[i].MatchedFaces);
    const face: { -readonly [K in keyof FaceEvent['face']]: FaceEvent['face'][K] } = {
      boundingBox: box(detected.BoundingBox),
      confidence: detected.Confidence,
    };
    if (detected.Pose) {
      face.pose = { pitch: detected.Pose.Pitch, roll: detected.Pose.Roll, yaw: detected.Pose.Yaw };
    }
    if (detected.Quality) {
      face.quality = { brightness: detected.Quality.Brightness, sharpness: detected.Quality.Sharpness };
    }
    const event: { -readonly [K in keyof FaceEvent]: FaceEvent[K] } = {
      version: '1',
      id: sightingId(kv, i),
      engine,
      camera,
      videoStreamArn: kv.StreamArn,
      fragmentNumber: kv.FragmentNumber,
      frameTime,
      serverTime,
      frameOffsetInSeconds: offset,
      processorStatus,
      faceIndex: i,
      facesInFrame: results.length,
      face,
      matched: matches.length > 0,
      match: matches[0],
      matches,
    };
    const snapshot = results[i].Snapshot === undefined ? undefined : snapshotOf(results[i]);
    if (snapshot) {
      event.snapshot = snapshot;
    }
    events[i] = event;
  }
  return events;
}

/** The video stream name inside a Kinesis video stream ARN (`...:stream/NAME/CREATION-TIME`). */
export function videoStreamName(streamArn: string): string {
  const resource = streamArn.split(':')[5] ?? '';
  return resource.split('/')[1] ?? streamArn;
}

/** decode + validate + normalise: what the consumer does with every Kinesis record. */
export function parseFaceRecord(data: unknown, camera?: string): FaceEvent[] {
  const record = validateRecord(decodeRecord(data));
  return normaliseRecord(record, camera ?? videoStreamName(record.InputInformation.KinesisVideo.StreamArn));
}
