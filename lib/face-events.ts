import * as events from 'aws-cdk-lib/aws-events';
import { FACE_DETAIL_TYPES, FACE_EVENT_SOURCE } from './events';

/**
 * The face-event contract on the construct side: the `source` and `detail-type` of every event
 * this library sends. Rules made by `onFaceMatch` and `onUnknownFace` use them; use them too in
 * rules of your own. The detail shapes are TypeScript types in `cdk-face-stream-pipeline/events`.
 */
export class FaceEvents {
  /** The `source` of every event. */
  public static readonly SOURCE: string = FACE_EVENT_SOURCE;
  /** A face in a frame matched someone in the collection. */
  public static readonly FACE_MATCHED: string = FACE_DETAIL_TYPES.FACE_MATCHED;
  /** A face in a frame matched nobody in the collection. */
  public static readonly FACE_NOT_MATCHED: string = FACE_DETAIL_TYPES.FACE_NOT_MATCHED;
  /** A picture uploaded for enrolment was indexed. */
  public static readonly FACE_ENROLLED: string = FACE_DETAIL_TYPES.FACE_ENROLLED;
  /** A picture uploaded for enrolment was refused, with its reason. */
  public static readonly FACE_ENROLLMENT_FAILED: string = FACE_DETAIL_TYPES.FACE_ENROLLMENT_FAILED;
  /** The faces indexed from a picture were removed. */
  public static readonly FACE_REMOVED: string = FACE_DETAIL_TYPES.FACE_REMOVED;

  private constructor() {}
}

/**
 * Options of a rule on "Face Matched" events. `eventPattern`, when given, is merged into the
 * rule's own pattern.
 */
export interface FaceMatchRuleOptions extends events.OnEventOptions {
  /**
   * Only these people (the ExternalImageId their faces were indexed with).
   * @default - anyone in the collection
   */
  readonly externalImageIds?: string[];

  /**
   * Only these cameras.
   * @default - every camera
   */
  readonly cameras?: string[];

  /**
   * Only matches at least this similar (0-100).
   * @default - every match the engine reports (its faceMatchThreshold)
   */
  readonly minSimilarity?: number;
}

/**
 * Options of a rule on "Face Not Matched" events (a face that matched nobody). `eventPattern`,
 * when given, is merged into the rule's own pattern.
 */
export interface UnknownFaceRuleOptions extends events.OnEventOptions {
  /**
   * Only these cameras.
   * @default - every camera
   */
  readonly cameras?: string[];
}
