/**
 * The enrolment function's settings, read once per container from its environment (set by the
 * FaceEnrollment construct). The event source is not among them: it is written in ../../events.ts.
 */
const env = process.env;

export const config = {
  collectionId: env.COLLECTION_ID ?? '',
  table: env.TABLE_NAME ?? '',
  eventBus: env.EVENT_BUS_NAME ?? 'default',
  prefix: env.FACES_PREFIX ?? 'faces/',
  /** `users`: one Rekognition user per external image id (users.ts); otherwise faces only. */
  identity: env.IDENTITY === 'users' ? 'users' : 'faces',
  /** Path-style addressing, only for S3-compatible endpoints that need it. */
  s3ForcePathStyle: env.S3_FORCE_PATH_STYLE === 'true',
};

/** IndexFaces reads images of at most 15 MB from S3. */
export const MAX_IMAGE_BYTES = 15 * 1024 * 1024;

/**
 * How long a claim outlives its invocation's deadline: Lambda stops an invocation at its deadline,
 * so a claim left by an invocation that died is free for Lambda's first retry (about a minute later).
 */
export const LEASE_MARGIN_MS = 2_000;

/** The deadline assumed when no Lambda context is given: the function's timeout (1 minute). */
export const DEFAULT_REMAINING_MS = 60_000;

/**
 * How long the record of a deletion is kept (DynamoDB TTL), so that an older upload event of the
 * key delivered late is recognised as stale; far longer than S3 event delivery and Lambda's 6-hour
 * event age, and than the failure queue's 14 days.
 */
export const TOMBSTONE_SECONDS = 30 * 24 * 3600;
