/**
 * The snapshot contract between the construct that configures snapshots (lib/snapshots.ts) and the
 * handlers that store them (frame sampler, consumer) or read them (notifier, CLI): environment
 * variable names and defaults, written once. Literals only, no imports (layer 0, like events.ts).
 */

/** Environment variables of a handler that stores or reads snapshots. */
export const SNAPSHOT_ENV = {
  /** The bucket's name; snapshots are off when it is unset. */
  BUCKET: 'SNAPSHOT_BUCKET',
  /** The key prefix (empty, or ending with '/'). */
  PREFIX: 'SNAPSHOT_PREFIX',
  /** The margin around a face box, as a ratio of the box's width and height on each side. */
  FACE_MARGIN: 'SNAPSHOT_FACE_MARGIN',
} as const;

/** Defaults of SnapshotOptions. */
export const SNAPSHOT_DEFAULTS = {
  KEY_PREFIX: 'snapshots/',
  FACE_MARGIN: 0.25,
  EXPIRATION_DAYS: 30,
  /** JPEG quality (jpeg-js, 1-100) of the stored face and frame. */
  JPEG_QUALITY: 85,
} as const;
