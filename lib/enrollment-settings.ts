/**
 * The enrolment contract between the construct (lib/face-enrollment.ts, lib/private/validate.ts),
 * the enrolment function that tags each picture with its outcome (lib/runtime/face-enrollment/) and
 * the CLI that uploads a picture and reads that outcome (lib/cli/enrol.ts): the key layout, the
 * external image id rule and the outcome tags, written once. Literals only, no imports (layer 0,
 * like events.ts).
 */

/** Where enrolment pictures go in the bucket: `faces/<external-image-id>/<name>.jpg|jpeg|png`. */
export const ENROLLMENT_PREFIX = 'faces/';

/** A Rekognition ExternalImageId (the person of an enrolled face, the folder under the prefix). */
export const EXTERNAL_IMAGE_ID_RULE = { min: 1, max: 255, pattern: /^[a-zA-Z0-9_.\-:]+$/, allowed: '[a-zA-Z0-9_.-:]' } as const;

/** The tags the enrolment function writes on a picture's version with its outcome. */
export const ENROLLMENT_TAGS = {
  /** `enrolled` or `failed`. */
  OUTCOME: 'face-enrollment',
  /** The face id, when enrolled. */
  FACE_ID: 'face-id',
  /** The failure code (FaceEnrollmentFailureCode in events.ts), when failed. */
  CODE: 'face-enrollment-code',
  /** Why the picture was refused, when failed. */
  REASON: 'face-enrollment-reason',
} as const;

/** The values of the `face-enrollment` tag. */
export const ENROLLMENT_OUTCOMES = {
  ENROLLED: 'enrolled',
  FAILED: 'failed',
} as const;
