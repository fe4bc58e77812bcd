/**
 * The contract between the StreamProcessor construct and its custom resource handler: the
 * ResourceProperties of a `Custom::RekognitionStreamProcessor`. CloudFormation passes every
 * scalar as a string, so numbers and booleans are accepted either way. The README documents
 * this contract; keep both in step.
 */

export const NAME_PATTERN = /^[a-zA-Z0-9_.\-]{1,128}$/;

export interface ProcessorTag {
  readonly Key: string;
  readonly Value: string;
}

export interface ProcessorProperties {
  /** A fixed processor name; absent means "generate one from NamePrefix". */
  readonly Name?: string;
  /** Empty means "the logical resource id". */
  readonly NamePrefix: string;
  readonly KinesisVideoStreamArn: string;
  readonly KinesisDataStreamArn: string;
  readonly RoleArn: string;
  readonly CollectionId: string;
  readonly FaceMatchThreshold: number;
  readonly Running: boolean;
  readonly DataSharing: boolean;
  readonly Tags: ProcessorTag[];
  readonly WaitTimeoutSeconds: number;
}

export const DEFAULT_WAIT_TIMEOUT_SECONDS = 1500;

export class PropertyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PropertyError';
  }
}

function show(value: unknown): string {
  return JSON.stringify(value) ?? String(value);
}

function requiredString(raw: Record<string, unknown>, key: string): string {
  const value = raw[key];
  if (typeof value !== 'string' || value.length === 0) {
    throw new PropertyError(`ResourceProperties.${key}: expected a non-empty string, got ${show(value)}`);
  }
  return value;
}

function bool(raw: Record<string, unknown>, key: string, fallback: boolean): boolean {
  const value = raw[key];
  if (value === undefined || value === '') {
    return fallback;
  }
  if (value === true || value === 'true') {
    return true;
  }
  if (value === false || value === 'false') {
    return false;
  }
  throw new PropertyError(`ResourceProperties.${key}: expected true or false, got ${show(value)}`);
}

function num(raw: Record<string, unknown>, key: string, fallback: number, min: number, max: number): number {
  const value = raw[key];
  if (value === undefined || value === '') {
    return fallback;
  }
  const parsed = typeof value === 'number' ? value : typeof value === 'string' ? Number(value) : NaN;
  if (!Number.isFinite(parsed) || parsed < min || parsed > max) {
    throw new PropertyError(`ResourceProperties.${key}: expected a number ${min}-${max}, got ${show(value)}`);
  }
  return parsed;
}

function tags(raw: Record<string, unknown>): ProcessorTag[] {
  const value = raw.Tags;
  if (value === undefined || value === '') {
    return [];
  }
  const list: ProcessorTag[] = [];
  if (Array.isArray(value)) {
    value.forEach((item, i) => {
      const tag = item as Record<string, unknown> | null;
      if (!tag || typeof tag.Key !== 'string' || typeof tag.Value !== 'string') {
        throw new PropertyError(`ResourceProperties.Tags[${i}]: expected {"Key": string, "Value": string}, got ${show(item)}`);
      }
      list.push({ Key: tag.Key, Value: tag.Value });
    });
  } else if (typeof value === 'object' && value !== null) {
    for (const [key, tagValue] of Object.entries(value)) {
      if (typeof tagValue !== 'string') {
        throw new PropertyError(`ResourceProperties.Tags.${key}: expected a string, got ${show(tagValue)}`);
      }
      list.push({ Key: key, Value: tagValue });
    }
  } else {
    throw new PropertyError(`ResourceProperties.Tags: expected a list of {"Key", "Value"}, got ${show(value)}`);
  }
  return list.sort((a, b) => a.Key.localeCompare(b.Key));
}

export function readProperties(raw: Record<string, unknown> | undefined): ProcessorProperties {
  if (!raw || typeof raw !== 'object') {
    throw new PropertyError('ResourceProperties: missing');
  }
  const name = raw.Name === undefined || raw.Name === '' ? undefined : raw.Name;
  if (name !== undefined && (typeof name !== 'string' || !NAME_PATTERN.test(name))) {
    throw new PropertyError(`ResourceProperties.Name: expected 1-128 characters of [a-zA-Z0-9_.-], got ${show(name)}`);
  }
  const prefix = raw.NamePrefix === undefined || raw.NamePrefix === '' ? undefined : raw.NamePrefix;
  if (prefix !== undefined && (typeof prefix !== 'string' || !/^[a-zA-Z0-9_.\-]{1,100}$/.test(prefix))) {
    throw new PropertyError(`ResourceProperties.NamePrefix: expected 1-100 characters of [a-zA-Z0-9_.-], got ${show(prefix)}`);
  }
  return {
    Name: name as string | undefined,
    NamePrefix: (prefix as string | undefined) ?? '',
    KinesisVideoStreamArn: requiredString(raw, 'KinesisVideoStreamArn'),
    KinesisDataStreamArn: requiredString(raw, 'KinesisDataStreamArn'),
    RoleArn: requiredString(raw, 'RoleArn'),
    CollectionId: requiredString(raw, 'CollectionId'),
    FaceMatchThreshold: num(raw, 'FaceMatchThreshold', 80, 0, 100),
    Running: bool(raw, 'Running', true),
    DataSharing: bool(raw, 'DataSharing', false),
    Tags: tags(raw),
    WaitTimeoutSeconds: num(raw, 'WaitTimeoutSeconds', DEFAULT_WAIT_TIMEOUT_SECONDS, 1, 7200),
  };
}

/**
 * Settings that Rekognition cannot change on an existing processor: a change to any of them
 * needs a new processor (UpdateStreamProcessor covers only label-detection settings, regions of
 * interest and data sharing).
 */
export function replacementChanges(before: ProcessorProperties, after: ProcessorProperties): string[] {
  const changed: string[] = [];
  const keys = ['KinesisVideoStreamArn', 'KinesisDataStreamArn', 'RoleArn', 'CollectionId', 'FaceMatchThreshold'] as const;
  for (const key of keys) {
    if (before[key] !== after[key]) {
      changed.push(key);
    }
  }
  if (before.Name !== after.Name) {
    changed.push('Name');
  } else if (before.Name === undefined && before.NamePrefix !== after.NamePrefix) {
    changed.push('NamePrefix');
  }
  return changed;
}
