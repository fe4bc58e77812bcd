/**
 * Validation of a face search record: a straight-line fast path for valid records, and the
 * path-building validator that explains the first problem of an invalid one (its message names
 * the field, e.g. `FaceSearchResponse[2].MatchedFaces[0].Similarity: expected a number 0-100`).
 * Pure: no I/O. Unknown extra fields are tolerated: the service may add some.
 */
import { FaceSearchRecord, RecordError } from './record';

export function show(value: unknown): string {
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
  // a Rekognition user (users mode, frame sampling) matched in place of a face: UserId, no FaceId
  str(face, 'UserId', at2, true);
  str(face, 'FaceId', at2, face.UserId !== undefined);
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
      !(isText(f.FaceId) || (f.FaceId === undefined && isText(f.UserId))) ||
      !isOptionalText(f.UserId) ||
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
