/**
 * The Kinesis face recognition record that Rekognition Video writes for every analysed frame
 * ("Understanding the Kinesis face recognition JSON frame record", Rekognition developer guide),
 * as types, and the error a record that is not one raises. The frame-sampling engine writes the
 * same shape, with an extra top-level `Engine: "frame-sampling"`.
 * Units: timestamps are Unix epoch seconds with fractions; BoundingBox values are ratios of the
 * frame's width and height (Left/Top may be slightly negative for a face at the edge);
 * Confidence, Similarity and Quality are 0-100; Pose angles are degrees, -180 to 180.
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

/**
 * A face of the collection; in users mode (frame sampling with SearchUsersByImage) a user in its
 * place: `UserId` (and `ExternalImageId` equal to it) with no FaceId.
 */
export interface CollectionFace {
  readonly FaceId?: string;
  readonly UserId?: string;
  readonly BoundingBox?: BoundingBox;
  readonly Confidence?: number;
  readonly ImageId?: string;
  readonly ExternalImageId?: string;
}

export interface MatchedFace {
  readonly Similarity: number;
  readonly Face: CollectionFace;
}

/**
 * Where a face's pictures were stored (the frame-sampling engine with snapshots on): an extension
 * of the documented shape, like the record's `Engine`; the event's `snapshot`.
 */
export interface SnapshotObjects {
  readonly Bucket: string;
  readonly FaceKey: string;
  readonly FrameKey: string;
}

export interface FaceSearchResult {
  readonly DetectedFace: DetectedFace;
  readonly MatchedFaces: MatchedFace[];
  /** The face's stored pictures (frame sampling with snapshots on). */
  readonly Snapshot?: SnapshotObjects;
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
