import { Duration } from 'aws-cdk-lib';

/**
 * Options of a notification: a message a person can read (e-mail, SMS), sent to an SNS topic for
 * face matches and/or unknown faces. See the README's "Notifications".
 */
export interface FaceNotificationOptions {
  /**
   * Notify of face matches ("Face Matched" events).
   * @default true
   */
  readonly matches?: boolean;

  /**
   * Notify of unknown faces ("Face Not Matched" events: a face that matched nobody).
   * @default false
   */
  readonly unknownFaces?: boolean;

  /**
   * Only matches of these people (the ExternalImageId their faces were indexed with). Matches only.
   * @default - anyone in the collection
   */
  readonly externalImageIds?: string[];

  /**
   * Only these cameras.
   * @default - every camera
   */
  readonly cameras?: string[];

  /**
   * Only matches at least this similar (0-100). Matches only.
   * @default - every match the engine reports (its faceMatchThreshold)
   */
  readonly minSimilarity?: number;

  /**
   * The time zone of the times in the message: an IANA name such as `Europe/Paris` (the message
   * gives the time in UTC too).
   * @default 'UTC'
   */
  readonly timeZone?: string;

  /**
   * How long the link to the face snapshot is signed for: 1 minute to 12 hours, whole seconds.
   * The link is signed with the notifier function's temporary credentials and stops working when
   * they expire, which can be sooner (README: Notifications). Without the pipeline's snapshots
   * the message has no link.
   * @default Duration.hours(1)
   */
  readonly linkExpiry?: Duration;
}
