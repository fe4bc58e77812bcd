/**
 * The contract between the StreamProcessor construct and its custom resource handler: the
 * ResourceProperties of a `Custom::RekognitionStreamProcessor`. CloudFormation passes every
 * scalar as a string, so numbers and booleans are accepted either way. The README documents
 * this contract ("Handler contract"); keep both in step.
 */
import { createHash } from 'node:crypto';

export const NAME_PATTERN = /^[a-zA-Z0-9_.\-]{1,128}$/;
const PREFIX_PATTERN = /^[a-zA-Z0-9_.\-]{1,100}$/;

/** Rekognition stores a FaceMatchThreshold below this as this (documented). */
export const MIN_STORED_THRESHOLD = 80;

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

/** Reads one properties object; `field` names it in errors (ResourceProperties or OldResourceProperties). */
class Reader {
  constructor(private readonly raw: Record<string, unknown>, private readonly field: string) {}

  public fail(key: string, expected: string, value: unknown): never {
    throw new PropertyError(`${this.field}.${key}: expected ${expected}, got ${show(value)}`);
  }

  public requiredString(key: string): string {
    const value = this.raw[key];
    if (typeof value !== 'string' || value.length === 0) {
      this.fail(key, 'a non-empty string', value);
    }
    return value;
  }

  public optionalName(key: string, pattern: RegExp, expected: string): string | undefined {
    const value = this.raw[key];
    if (value === undefined || value === '') {
      return undefined;
    }
    if (typeof value !== 'string' || !pattern.test(value)) {
      this.fail(key, expected, value);
    }
    return value;
  }

  public bool(key: string, fallback: boolean): boolean {
    const value = this.raw[key];
    if (value === undefined || value === '') {
      return fallback;
    }
    if (value === true || value === 'true') {
      return true;
    }
    if (value === false || value === 'false') {
      return false;
    }
    return this.fail(key, 'true or false', value);
  }

  public num(key: string, fallback: number, min: number, max: number): number {
    const value = this.raw[key];
    if (value === undefined || value === '') {
      return fallback;
    }
    const parsed = typeof value === 'number' ? value : typeof value === 'string' ? Number(value) : NaN;
    if (!Number.isFinite(parsed) || parsed < min || parsed > max) {
      this.fail(key, `a number ${min}-${max}`, value);
    }
    return parsed;
  }

  public tags(): ProcessorTag[] {
    const value = this.raw.Tags;
    if (value === undefined || value === '') {
      return [];
    }
    const list: ProcessorTag[] = [];
    if (Array.isArray(value)) {
      value.forEach((item, i) => {
        const tag = item as Record<string, unknown> | null;
        if (!tag || typeof tag.Key !== 'string' || typeof tag.Value !== 'string') {
          this.fail(`Tags[${i}]`, '{"Key": string, "Value": string}', item);
        }
        list.push({ Key: tag.Key, Value: tag.Value });
      });
    } else if (typeof value === 'object' && value !== null) {
      for (const [key, tagValue] of Object.entries(value)) {
        if (typeof tagValue !== 'string') {
          this.fail(`Tags.${key}`, 'a string', tagValue);
        }
        list.push({ Key: key, Value: tagValue });
      }
    } else {
      this.fail('Tags', 'a list of {"Key", "Value"}', value);
    }
    return list.sort((a, b) => a.Key.localeCompare(b.Key));
  }
}

/**
 * Reads and checks a properties object.
 * @param field what the object is called in errors: `ResourceProperties` or `OldResourceProperties`
 */
export function readProperties(raw: Record<string, unknown> | undefined, field = 'ResourceProperties'): ProcessorProperties {
  if (!raw || typeof raw !== 'object') {
    throw new PropertyError(`${field}: missing`);
  }
  const r = new Reader(raw, field);
  return {
    Name: r.optionalName('Name', NAME_PATTERN, '1-128 characters of [a-zA-Z0-9_.-]'),
    NamePrefix: r.optionalName('NamePrefix', PREFIX_PATTERN, '1-100 characters of [a-zA-Z0-9_.-]') ?? '',
    KinesisVideoStreamArn: r.requiredString('KinesisVideoStreamArn'),
    KinesisDataStreamArn: r.requiredString('KinesisDataStreamArn'),
    RoleArn: r.requiredString('RoleArn'),
    CollectionId: r.requiredString('CollectionId'),
    FaceMatchThreshold: r.num('FaceMatchThreshold', MIN_STORED_THRESHOLD, 0, 100),
    Running: r.bool('Running', true),
    DataSharing: r.bool('DataSharing', false),
    Tags: r.tags(),
    WaitTimeoutSeconds: r.num('WaitTimeoutSeconds', DEFAULT_WAIT_TIMEOUT_SECONDS, 1, 7200),
  };
}

/** The threshold as Rekognition stores it: values below 80 become 80. */
export function storedThreshold(threshold: number | undefined): number {
  return Math.max(MIN_STORED_THRESHOLD, threshold ?? MIN_STORED_THRESHOLD);
}

/** Where a generated name comes from: the resource's identity in its stack. */
export interface NameSource {
  readonly StackId: string;
  readonly LogicalResourceId: string;
}

/** NamePrefix, or without one the logical id (its characters outside the name pattern dropped). */
export function effectivePrefix(props: ProcessorProperties, source: NameSource): string {
  return props.NamePrefix || (source.LogicalResourceId ?? '').replace(/[^a-zA-Z0-9_.\-]/g, '').slice(0, 100) || 'StreamProcessor';
}

/**
 * The generated name of a processor: `<prefix>-<12 hex digits>`, the digits a hash of the prefix
 * and of every setting that forces a replacement, as the service stores them. The same settings
 * always lead to the same name: a retried request adopts what its first attempt made, and a
 * rollback to the old settings finds the original processor.
 */
export function generatedName(props: ProcessorProperties, source: NameSource): string {
  const prefix = effectivePrefix(props, source);
  const identity = [
    prefix,
    // without a NamePrefix, the prefix alone may repeat across stacks
    props.NamePrefix ? '' : `${source.StackId}|${source.LogicalResourceId}`,
    props.KinesisVideoStreamArn,
    props.KinesisDataStreamArn,
    props.RoleArn,
    props.CollectionId,
    String(storedThreshold(props.FaceMatchThreshold)),
  ];
  const hash = createHash('sha256').update(JSON.stringify(identity)).digest('hex').slice(0, 12);
  return `${prefix.slice(0, 128 - 13)}-${hash}`;
}

/**
 * Settings that Rekognition cannot change on an existing processor: a change to any of them
 * needs a new processor (UpdateStreamProcessor covers only label-detection settings, regions of
 * interest and data sharing). Thresholds are compared as stored (70 and 80 are the same), and a
 * NamePrefix change matters only when the processor's name does not already start with the new one
 * (old properties without NamePrefix name the same processor).
 */
export function replacementChanges(before: ProcessorProperties, after: ProcessorProperties, physicalId: string, source: NameSource): string[] {
  const changed: string[] = [];
  for (const key of ['KinesisVideoStreamArn', 'KinesisDataStreamArn', 'RoleArn', 'CollectionId'] as const) {
    if (before[key] !== after[key]) {
      changed.push(key);
    }
  }
  if (storedThreshold(before.FaceMatchThreshold) !== storedThreshold(after.FaceMatchThreshold)) {
    changed.push('FaceMatchThreshold');
  }
  if (before.Name !== after.Name) {
    changed.push('Name');
  } else if (after.Name === undefined) {
    const prefix = effectivePrefix(after, source);
    if (effectivePrefix(before, source) !== prefix && !physicalId.startsWith(`${prefix}-`)) {
      changed.push('NamePrefix');
    }
  }
  return changed;
}
