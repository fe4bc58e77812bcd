import type { FaceEnrollmentFailureCode } from '../shared/face-events';

/** A reason the picture is not enrolled: the uploader's to fix, so reported, never retried. */
export class EnrollmentRejected extends Error {
  constructor(public readonly code: FaceEnrollmentFailureCode, message: string) {
    super(message);
    this.name = 'EnrollmentRejected';
  }
}

/** Another invocation holds the object's claim right now: Lambda retries the event later. */
export class InProgress extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InProgress';
  }
}
