/**
 * What one S3 event record says about an object, and the key layout
 * `faces/<external-image-id>/<name>.jpg|jpeg|png`.
 */
import { EXTERNAL_IMAGE_ID_RULE } from '../../enrollment-settings';
import type { S3EventRecord } from 'aws-lambda';
import { config } from './config';
import { EnrollmentRejected } from './errors';

/**
 * - `created`: a new current version (any ObjectCreated event)
 * - `deleted`: the key has no current picture any more (a delete in an unversioned bucket, or a
 *   delete marker in a versioned one)
 * - `versionDeleted`: one version was deleted permanently (a delete naming a version); it matters
 *   only when it is the version whose faces are enrolled
 */
export type Change = 'created' | 'deleted' | 'versionDeleted';

export interface ObjectRef {
  readonly bucket: string;
  /** The decoded key; the key as delivered when it cannot be decoded (see `keyError`). */
  readonly key: string;
  /** Padded so that string comparison orders the events of one key (see paddedSequencer). */
  readonly sequencer: string;
  readonly size: number;
  /** The version of a versioned bucket (`null` for the null version); undefined when unversioned. */
  readonly versionId?: string;
  readonly change: Change;
  /** Why the delivered key could not be decoded: the record is refused as InvalidKey. */
  readonly keyError?: string;
}

/**
 * S3 sequencers of one key are ordered: pad the shorter with zeros on the right, then compare
 * lexicographically. Stored padded, so DynamoDB's string comparison orders them too.
 */
export function paddedSequencer(sequencer: string): string {
  return sequencer.toUpperCase().padEnd(32, '0');
}

/** A real version id, for the S3 and Rekognition calls (the null version is addressed without one). */
export function versionOf(o: { readonly versionId?: string }): string | undefined {
  return o.versionId && o.versionId !== 'null' ? o.versionId : undefined;
}

/** The version as stored: '' for an unversioned object and for the null version alike. */
export function storedVersion(versionId: string | undefined): string {
  return versionId && versionId !== 'null' ? versionId : '';
}

function changeOf(eventName: string, versionId: string | undefined): Change | undefined {
  if (eventName.startsWith('ObjectCreated')) {
    return 'created';
  }
  if (eventName === 'ObjectRemoved:DeleteMarkerCreated') {
    return 'deleted';
  }
  if (eventName.startsWith('ObjectRemoved')) {
    // in a versioned bucket a plain delete makes a delete marker; a delete that names a version
    // removes that version only, and the key's current picture may be another one
    return versionId === undefined ? 'deleted' : 'versionDeleted';
  }
  return undefined;
}

/** The record's object, or undefined for what enrolment ignores (other events, console folder markers). */
export function objectOf(record: S3EventRecord): ObjectRef | undefined {
  const o = record.s3.object;
  const versionId = typeof o.versionId === 'string' ? o.versionId : undefined;
  const change = changeOf(record.eventName ?? '', versionId);
  if (!change) {
    return undefined;
  }
  let key = o.key;
  let keyError: string | undefined;
  try {
    // keys arrive URL-encoded, with + for spaces
    key = decodeURIComponent(o.key.replace(/\+/g, ' '));
  } catch (error) {
    keyError = `${JSON.stringify(o.key)} is not a URL-encoded S3 key (${(error as Error).message})`;
  }
  const size = Number(o.size ?? 0);
  if (!keyError && key.endsWith('/') && size === 0) {
    return undefined; // a "folder" made by the S3 console, not a picture
  }
  return { bucket: record.s3.bucket.name, key, sequencer: paddedSequencer(o.sequencer ?? '0'), size, versionId, change, keyError };
}

const FORMATS = new Set(['jpg', 'jpeg', 'png']);

/** `faces/<external-image-id>/<name>.<ext>` -> the external image id, or a rejection. */
export function externalImageIdOf(key: string, prefix = config.prefix): string {
  const usage = `expected ${prefix}<external-image-id>/<name>.jpg|jpeg|png`;
  if (!key.startsWith(prefix)) {
    throw new EnrollmentRejected('InvalidKey', `${key}: ${usage}`);
  }
  const parts = key.slice(prefix.length).split('/');
  if (parts.length !== 2 || !parts[0] || !parts[1]) {
    throw new EnrollmentRejected('InvalidKey', `${key}: ${usage}`);
  }
  const [id, file] = parts;
  const rule = EXTERNAL_IMAGE_ID_RULE;
  if (id.length < rule.min || id.length > rule.max || !rule.pattern.test(id)) {
    throw new EnrollmentRejected(
      'InvalidExternalImageId',
      `${JSON.stringify(id)} is not a valid external image id: ${rule.min}-${rule.max} characters of ${rule.allowed} are allowed`,
    );
  }
  const ext = file.includes('.') ? file.slice(file.lastIndexOf('.') + 1).toLowerCase() : '';
  if (!FORMATS.has(ext)) {
    throw new EnrollmentRejected('UnsupportedFormat', `${JSON.stringify(file)} is not a JPEG or PNG image (.jpg, .jpeg or .png)`);
  }
  return id;
}
