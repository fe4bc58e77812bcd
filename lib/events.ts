/**
 * The face-event contract: what this library puts on EventBridge. Types and literals only, with no
 * imports, so that both sides use this one module: the constructs (rule patterns, `FaceEvents`)
 * and the Lambda handlers (which bundle it). It is also the package's types-only entry point for
 * users typing their event handlers:
 *
 * ```ts
 * import type { EventBridgeEvent } from 'aws-lambda';
 * import type { FaceMatchedDetail } from 'cdk-face-stream-pipeline/events';
 * export const handler = async (event: EventBridgeEvent<'Face Matched', FaceMatchedDetail>) => { ... };
 * ```
 *
 * Every event literal (the source and the detail types) is written here and nowhere else.
 */

/** The `source` of every event this library sends. */
export const FACE_EVENT_SOURCE = 'face-stream-pipeline';

/** The `detail-type` of every event this library sends. */
export const FACE_DETAIL_TYPES = {
  /** A face in a frame matched someone in the collection. */
  FACE_MATCHED: 'Face Matched',
  /** A face in a frame matched nobody in the collection. */
  FACE_NOT_MATCHED: 'Face Not Matched',
  /** A picture uploaded for enrolment was indexed into the collection. */
  FACE_ENROLLED: 'Face Enrolled',
  /** A picture uploaded for enrolment was refused; the detail says why. */
  FACE_ENROLLMENT_FAILED: 'Face Enrollment Failed',
  /** The faces indexed from a picture were removed from the collection. */
  FACE_REMOVED: 'Face Removed',
} as const;

/** One of the detail types above. */
export type FaceDetailType = (typeof FACE_DETAIL_TYPES)[keyof typeof FACE_DETAIL_TYPES];

/**
 * The engines' names, as events carry them (`engine`) and frame-sampling records name theirs
 * (`Engine`): the one place they are written, for the constructs and the handlers alike.
 */
export const ENGINE_NAMES = {
  /** A Rekognition Video stream processor (FaceSearchEngine.streamProcessor()). */
  STREAM_PROCESSOR: 'stream-processor',
  /** Frames sampled with GetImages and searched with the image APIs (FaceSearchEngine.frameSampling()). */
  FRAME_SAMPLING: 'frame-sampling',
} as const;

/** The name of the engine that analysed a frame. */
export type FaceSearchEngineName = (typeof ENGINE_NAMES)[keyof typeof ENGINE_NAMES];

/** A box in a frame: ratios of the frame's width and height (left/top may be slightly negative at an edge). */
export interface FaceBox {
  readonly width: number;
  readonly height: number;
  readonly left: number;
  readonly top: number;
}

/**
 * A face of the collection that a detected face matched or, in users mode (`FaceIdentity.users()`,
 * frame sampling), a user: then `userId` is the user and `externalImageId` equals it, and there is
 * no `faceId`, `imageId` or `confidence` (a user is built from all of the person's faces).
 */
export interface FaceMatch {
  /** The matched face; absent when a user matched (users mode). */
  readonly faceId?: string;
  /** The matched Rekognition user (users mode); the person's external image id. */
  readonly userId?: string;
  /** The ExternalImageId the face was indexed with (the person, with enrolment from S3); the user id in users mode. */
  readonly externalImageId?: string;
  readonly imageId?: string;
  /** 0-100 */
  readonly similarity: number;
  /** 0-100: confidence that the collection's face is a face */
  readonly confidence?: number;
}

/**
 * Where the pictures of a sighting are (with the pipeline's `snapshots` on): two JPEG objects in
 * S3, both stored before the event was sent, so that a target may fetch them at once. Keys are
 * `<keyPrefix><camera>/<YYYY-MM-DD of frameTime, UTC>/<frame time ms>-<face index>-<hash of id>/face.jpg`
 * and `.../frame.jpg`.
 */
export interface FaceSnapshot {
  /** The bucket's name. */
  readonly bucket: string;
  /** The face: its bounding box with a margin around it. */
  readonly faceKey: string;
  /** The whole frame the face was found in. */
  readonly frameKey: string;
}

/** The detail of a "Face Matched" or "Face Not Matched" event: one detected face in one frame. */
export interface FaceSightingDetail {
  readonly version: '1';
  /** Stable across retries: video stream ARN|fragment|producer timestamp|frame offset|face index. */
  readonly id: string;
  /** The FaceSearchConsumer that sent it (its consumerId): rule patterns filter on it. */
  readonly consumer: string;
  /** The engine that analysed the frame. */
  readonly engine?: FaceSearchEngineName;
  /** The camera name; the video stream name for a stream consumed without one. */
  readonly camera: string;
  readonly videoStreamArn: string;
  readonly fragmentNumber: string;
  /** When the frame was captured: producer timestamp of the fragment + frame offset, ISO 8601. */
  readonly frameTime: string;
  /** When Kinesis Video Streams received the fragment, ISO 8601. */
  readonly serverTime: string;
  readonly frameOffsetInSeconds: number;
  /** StreamProcessorInformation.Status of the record, e.g. RUNNING. */
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
  /**
   * The stored pictures of this sighting, with the pipeline's `snapshots` on; absent when they are
   * off, or when storing them failed (the event is sent without them, and a metric counts it).
   */
  readonly snapshot?: FaceSnapshot;
}

/** The detail of a "Face Matched" event: `matched` is true and `match` is the best match. */
export interface FaceMatchedDetail extends FaceSightingDetail {
  readonly matched: true;
  readonly match: FaceMatch;
}

/** The detail of a "Face Not Matched" event: nobody in the collection matched. */
export interface FaceNotMatchedDetail extends FaceSightingDetail {
  readonly matched: false;
  readonly match?: undefined;
}

/** What every enrolment event's detail has: the collection and the picture. */
export interface FaceEnrollmentDetailBase {
  readonly collectionId: string;
  readonly bucket: string;
  readonly key: string;
  /** The object version, in a versioned bucket. */
  readonly versionId?: string;
}

/** The detail of a "Face Enrolled" event. */
export interface FaceEnrolledDetail extends FaceEnrollmentDetailBase {
  readonly externalImageId: string;
  readonly faceId: string;
  readonly imageId?: string;
  readonly confidence?: number;
}

/** Why an enrolment picture was refused (the README lists what each means). */
export type FaceEnrollmentFailureCode =
  | 'NoFace'
  | 'SeveralFaces'
  | 'FaceTooSmall'
  | 'LowQuality'
  | 'InvalidImageFormat'
  | 'ImageTooLarge'
  | 'InvalidS3Object'
  | 'InvalidParameter'
  | 'UnsupportedFormat'
  | 'InvalidExternalImageId'
  | 'InvalidKey'
  /** Users mode: the person's user holds 100 faces already, Rekognition's limit. */
  | 'TooManyFaces'
  /** Users mode: the face does not look like the person's other pictures (AssociateFaces refused it). */
  | 'NotSamePerson';

/** The detail of a "Face Enrollment Failed" event. */
export interface FaceEnrollmentFailedDetail extends FaceEnrollmentDetailBase {
  readonly externalImageId?: string;
  readonly code: FaceEnrollmentFailureCode;
  readonly reason: string;
}

/** The detail of a "Face Removed" event. */
export interface FaceRemovedDetail extends FaceEnrollmentDetailBase {
  readonly faceIds: string[];
}

/** Each detail type with the shape of its detail. */
export interface FaceEventDetails {
  'Face Matched': FaceMatchedDetail;
  'Face Not Matched': FaceNotMatchedDetail;
  'Face Enrolled': FaceEnrolledDetail;
  'Face Enrollment Failed': FaceEnrollmentFailedDetail;
  'Face Removed': FaceRemovedDetail;
}

/** The detail of any face event, by detail type: `FaceEventDetail<'Face Matched'>`. */
export type FaceEventDetail<T extends FaceDetailType = FaceDetailType> = FaceEventDetails[T];
