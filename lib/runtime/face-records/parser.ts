/**
 * The Kinesis face recognition record that Rekognition Video writes for every analysed frame
 * ("Understanding the Kinesis face recognition JSON frame record", Rekognition developer guide),
 * its validation and its normalisation into one event per detected face.
 *
 * Pure: no AWS calls, no I/O. Shared by the consumer handler, the tests and the benchmarks.
 * Units: timestamps are Unix epoch seconds with fractions; BoundingBox values are ratios of the
 * frame's width and height (Left/Top may be slightly negative for a face at the edge);
 * Confidence, Similarity and Quality are 0-100; Pose angles are degrees, -180 to 180.
 * Unknown extra fields are tolerated: the service may add some.
 */

export interface BoundingBox {
  readonly Width: number;
  readonly Height: number;
  readonly Left: number;
  readonly Top: number;
}

export interface Landmark {
  readonly Type: string;
  readonly X: number;
  readonly Y: number;
}

export interface Pose {
  readonly Pitch: number;
  readonly Roll: number;
  readonly Yaw: number;
}

export interface ImageQuality {
  readonly Brightness: number;
  readonly Sharpness: number;
}

export interface DetectedFace {
  readonly BoundingBox: BoundingBox;
  readonly Confidence: number;
  readonly Landmarks?: Landmark[];
  readonly Pose?: Pose;
  readonly Quality?: ImageQuality;
}

export interface CollectionFace {
  readonly FaceId: string;
  readonly BoundingBox?: BoundingBox;
  readonly Confidence?: number;
  readonly ImageId?: string;
  readonly ExternalImageId?: string;
}

export interface MatchedFace {
  readonly Similarity: number;
  readonly Face: CollectionFace;
}

export interface FaceSearchResult {
  readonly DetectedFace: DetectedFace;
  readonly MatchedFaces: MatchedFace[];
}

export interface KinesisVideoInformation {
  readonly StreamArn: string;
  readonly FragmentNumber: string;
  readonly ServerTimestamp: number;
  readonly ProducerTimestamp: number;
  readonly FrameOffsetInSeconds: number;
}

export interface FaceSearchRecord {
  readonly InputInformation: { readonly KinesisVideo: KinesisVideoInformation };
  readonly StreamProcessorInformation: { readonly Status: string };
  readonly FaceSearchResponse: FaceSearchResult[];
}

/** A record that is not a face search record; `path` locates the first problem. */
export class RecordError extends Error {
  constructor(public readonly path: string, public readonly reason: string) {
    super(path ? `${path}: ${reason}` : reason);
    this.name = 'RecordError';
  }
}

/** Kinesis Data Streams' largest record payload is 1 MiB; nothing larger is a real record. */
export const MAX_RECORD_BYTES = 1024 * 1024;

function show(value: unknown): string {
  if (value === undefined) {
    return 'nothing';
  }
  const text = JSON.stringify(value);
  if (text === undefined) {
    return typeof value;
  }
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}

function fail(path: string, expected: string, value: unknown): never {
  throw new RecordError(path, `expected ${expected}, got ${show(value)}`);
}

/*
 * Each check reads `parent[key]` and names the field `${at}.${key}` only when it fails: paths are
 * built for errors, not for every field of every record (the validator runs on every frame).
 */
const join = (at: string, key: string | number) => (typeof key === 'number' ? `${at}[${key}]` : at ? `${at}.${key}` : key);
type Parent = Record<string, unknown> | unknown[];
const read = (parent: Parent, key: string | number) => (parent as Record<string | number, unknown>)[key];

function obj(parent: Parent, key: string | number, at: string): Record<string, unknown> {
  const value = read(parent, key);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    fail(join(at, key), 'an object', value);
  }
  return value as Record<string, unknown>;
}

function arr(parent: Parent, key: string, at: string): unknown[] {
  const value = read(parent, key);
  if (!Array.isArray(value)) {
    fail(join(at, key), 'an array', value);
  }
  return value;
}

function str(parent: Parent, key: string, at: string, optional = false): void {
  const value = read(parent, key);
  if (optional && value === undefined) {
    return;
  }
  if (typeof value !== 'string' || value.length === 0) {
    fail(join(at, key), 'a non-empty string', value);
  }
}

function num(parent: Parent, key: string, at: string, min: number, max: number, optional = false): void {
  const value = read(parent, key);
  if (optional && value === undefined) {
    return;
  }
  if (typeof value !== 'number' || !(value >= min && value <= max)) {
    fail(join(at, key), `a number ${min}-${max}`, value);
  }
}

function finite(parent: Parent, key: string, at: string): void {
  const value = read(parent, key);
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    fail(join(at, key), 'a finite number', value);
  }
}

function boundingBox(parent: Parent, key: string, at: string): void {
  const box = obj(parent, key, at);
  const here = join(at, key);
  num(box, 'Width', here, 0, 1);
  num(box, 'Height', here, 0, 1);
  finite(box, 'Left', here);
  finite(box, 'Top', here);
}

function detectedFace(parent: Parent, at: string): void {
  const face = obj(parent, 'DetectedFace', at);
  const here = join(at, 'DetectedFace');
  boundingBox(face, 'BoundingBox', here);
  num(face, 'Confidence', here, 0, 100);
  if (face.Landmarks !== undefined) {
    const landmarks = arr(face, 'Landmarks', here);
    const list = join(here, 'Landmarks');
    for (let i = 0; i < landmarks.length; i++) {
      const l = obj(landmarks, i, list);
      const at2 = join(list, i);
      str(l, 'Type', at2);
      finite(l, 'X', at2);
      finite(l, 'Y', at2);
    }
  }
  if (face.Pose !== undefined) {
    const pose = obj(face, 'Pose', here);
    const at2 = join(here, 'Pose');
    num(pose, 'Pitch', at2, -180, 180);
    num(pose, 'Roll', at2, -180, 180);
    num(pose, 'Yaw', at2, -180, 180);
  }
  if (face.Quality !== undefined) {
    const quality = obj(face, 'Quality', here);
    const at2 = join(here, 'Quality');
    num(quality, 'Brightness', at2, 0, 100);
    num(quality, 'Sharpness', at2, 0, 100);
  }
}

function matchedFace(parent: unknown[], index: number, at: string): void {
  const match = obj(parent, index, at);
  const here = join(at, index);
  num(match, 'Similarity', here, 0, 100);
  const face = obj(match, 'Face', here);
  const at2 = join(here, 'Face');
  str(face, 'FaceId', at2);
  if (face.BoundingBox !== undefined) {
    boundingBox(face, 'BoundingBox', at2);
  }
  num(face, 'Confidence', at2, 0, 100, true);
  str(face, 'ImageId', at2, true);
  str(face, 'ExternalImageId', at2, true);
}

/**
 * The path-building validator: checks a parsed JSON value field by field and throws a RecordError
 * naming the first problem. `validateRecord` runs it only for values that `isFaceSearchRecord`
 * rejects, so that its messages are the messages; exported for the tests that hold the two equal.
 */
export function validateRecordPrecisely(value: unknown): FaceSearchRecord {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    fail('(record)', 'an object', value);
  }
  const record = value as Record<string, unknown>;
  const input = obj(record, 'InputInformation', '');
  const kv = obj(input, 'KinesisVideo', 'InputInformation');
  const kvAt = 'InputInformation.KinesisVideo';
  str(kv, 'StreamArn', kvAt);
  str(kv, 'FragmentNumber', kvAt);
  num(kv, 'ServerTimestamp', kvAt, 0, 1e11);
  num(kv, 'ProducerTimestamp', kvAt, 0, 1e11);
  num(kv, 'FrameOffsetInSeconds', kvAt, 0, 86400);
  const info = obj(record, 'StreamProcessorInformation', '');
  str(info, 'Status', 'StreamProcessorInformation');
  const results = arr(record, 'FaceSearchResponse', '');
  for (let i = 0; i < results.length; i++) {
    const result = obj(results, i, 'FaceSearchResponse');
    const at = `FaceSearchResponse[${i}]`;
    detectedFace(result, at);
    const matches = arr(result, 'MatchedFaces', at);
    for (let j = 0; j < matches.length; j++) {
      matchedFace(matches, j, join(at, 'MatchedFaces'));
    }
  }
  return record as unknown as FaceSearchRecord;
}

/*
 * The fast path: the same rules as validateRecordPrecisely, in straight-line code that reads every
 * field by name once and builds no path. It only answers yes or no.
 */
type Fields = Record<string, unknown>;
const isObject = (v: unknown): v is Fields => typeof v === 'object' && v !== null && !Array.isArray(v);
const isText = (v: unknown): boolean => typeof v === 'string' && v !== '';
const isIn = (v: unknown, min: number, max: number): boolean => typeof v === 'number' && v >= min && v <= max;
const isFiniteNumber = (v: unknown): boolean => typeof v === 'number' && Number.isFinite(v);
const isOptionalText = (v: unknown): boolean => v === undefined || isText(v);
const isAngle = (v: unknown): boolean => isIn(v, -180, 180);
const isBox = (b: unknown): boolean => isObject(b) && isIn(b.Width, 0, 1) && isIn(b.Height, 0, 1) && isFiniteNumber(b.Left) && isFiniteNumber(b.Top);

function isLandmarks(v: unknown): boolean {
  if (v === undefined) {
    return true;
  }
  if (!Array.isArray(v)) {
    return false;
  }
  for (let i = 0; i < v.length; i++) {
    const l: unknown = v[i];
    if (!isObject(l) || !isText(l.Type) || !isFiniteNumber(l.X) || !isFiniteNumber(l.Y)) {
      return false;
    }
  }
  return true;
}

function isDetectedFace(f: unknown): boolean {
  if (!isObject(f) || !isBox(f.BoundingBox) || !isIn(f.Confidence, 0, 100) || !isLandmarks(f.Landmarks)) {
    return false;
  }
  const pose = f.Pose;
  const quality = f.Quality;
  return (
    (pose === undefined || (isObject(pose) && isAngle(pose.Pitch) && isAngle(pose.Roll) && isAngle(pose.Yaw))) &&
    (quality === undefined || (isObject(quality) && isIn(quality.Brightness, 0, 100) && isIn(quality.Sharpness, 0, 100)))
  );
}

function isMatches(v: unknown): boolean {
  if (!Array.isArray(v)) {
    return false;
  }
  for (let i = 0; i < v.length; i++) {
    const m: unknown = v[i];
    if (!isObject(m) || !isIn(m.Similarity, 0, 100)) {
      return false;
    }
    const f = m.Face;
    if (
      !isObject(f) ||
      !isText(f.FaceId) ||
      !(f.BoundingBox === undefined || isBox(f.BoundingBox)) ||
      !(f.Confidence === undefined || isIn(f.Confidence, 0, 100)) ||
      !isOptionalText(f.ImageId) ||
      !isOptionalText(f.ExternalImageId)
    ) {
      return false;
    }
  }
  return true;
}

/** Whether a parsed JSON value is a face search record: validateRecord's rules, without messages. */
export function isFaceSearchRecord(value: unknown): value is FaceSearchRecord {
  if (!isObject(value)) {
    return false;
  }
  const input = value.InputInformation;
  const kv = isObject(input) ? input.KinesisVideo : undefined;
  const info = value.StreamProcessorInformation;
  const results = value.FaceSearchResponse;
  if (
    !isObject(kv) ||
    !isText(kv.StreamArn) ||
    !isText(kv.FragmentNumber) ||
    !isIn(kv.ServerTimestamp, 0, 1e11) ||
    !isIn(kv.ProducerTimestamp, 0, 1e11) ||
    !isIn(kv.FrameOffsetInSeconds, 0, 86400) ||
    !isObject(info) ||
    !isText(info.Status) ||
    !Array.isArray(results)
  ) {
    return false;
  }
  for (let i = 0; i < results.length; i++) {
    const result: unknown = results[i];
    if (!isObject(result) || !isDetectedFace(result.DetectedFace) || !isMatches(result.MatchedFaces)) {
      return false;
    }
  }
  return true;
}

/**
 * Checks that a parsed JSON value is a face search record; throws RecordError if it is not.
 * Valid records take the fast path; the path-building validator runs only to explain a failure.
 */
export function validateRecord(value: unknown): FaceSearchRecord {
  return isFaceSearchRecord(value) ? value : validateRecordPrecisely(value);
}

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

export interface FaceBox {
  readonly width: number;
  readonly height: number;
  readonly left: number;
  readonly top: number;
}

export interface FaceMatch {
  readonly faceId: string;
  readonly externalImageId?: string;
  readonly imageId?: string;
  /** 0-100 */
  readonly similarity: number;
  /** 0-100: confidence that the collection's face is a face */
  readonly confidence?: number;
}

/** The detail of one "Face Matched" or "Face Not Matched" event: one detected face in one frame. */
export interface FaceEvent {
  readonly version: '1';
  /** Stable across retries: the video stream, fragment, producer time, frame offset and face index. */
  readonly id: string;
  readonly camera: string;
  readonly videoStreamArn: string;
  readonly fragmentNumber: string;
  /** When the frame was captured: producer timestamp of the fragment + frame offset, ISO 8601. */
  readonly frameTime: string;
  /** When Kinesis Video Streams received the fragment, ISO 8601. */
  readonly serverTime: string;
  readonly frameOffsetInSeconds: number;
  readonly processorStatus: string;
  /** Index of this face in the frame, and how many faces the frame has. */
  readonly faceIndex: number;
  readonly facesInFrame: number;
  readonly face: {
    readonly boundingBox: FaceBox;
    /** 0-100: confidence that this is a face */
    readonly confidence: number;
    readonly pose?: { readonly pitch: number; readonly roll: number; readonly yaw: number };
    readonly quality?: { readonly brightness: number; readonly sharpness: number };
  };
  readonly matched: boolean;
  /** The best match (highest similarity), absent when the face matched nobody. */
  readonly match?: FaceMatch;
  /** Every match, highest similarity first. */
  readonly matches: FaceMatch[];
}

const box = (b: BoundingBox): FaceBox => ({ width: b.Width, height: b.Height, left: b.Left, top: b.Top });

function toMatch(m: MatchedFace): FaceMatch {
  const f = m.Face;
  if (f.ExternalImageId !== undefined && f.ImageId !== undefined && f.Confidence !== undefined) {
    // the documented shape, in one object literal (the same fields in the same order as below)
    return { faceId: f.FaceId, similarity: m.Similarity, externalImageId: f.ExternalImageId, imageId: f.ImageId, confidence: f.Confidence };
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

/** One event per detected face of the frame. */
export function normaliseRecord(record: FaceSearchRecord, camera: string): FaceEvent[] {
  const kv = record.InputInformation.KinesisVideo;
  const offset = kv.FrameOffsetInSeconds;
  const frameTime = isoTime(Math.round((kv.ProducerTimestamp + offset) * 1000));
  const serverTime = isoTime(Math.round(kv.ServerTimestamp * 1000));
  const idPrefix = `${kv.StreamArn}|${kv.FragmentNumber}|${kv.ProducerTimestamp}|${offset}|`;
  const processorStatus = record.StreamProcessorInformation.Status;
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
    events[i] = {
      version: '1',
      id: idPrefix + i,
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
