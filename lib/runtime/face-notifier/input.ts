/**
 * What the notifier function is invoked with: EventBridge's input transformer of each notification
 * rule puts the event's detail here with that rule's settings (lib/face-notifications.ts builds
 * it; the construct side imports this type only).
 */
import type { FaceSightingDetail } from '../../events';

export interface NotifierInput {
  /** The detail of the "Face Matched" or "Face Not Matched" event. */
  readonly detail: FaceSightingDetail;
  /** The topic to publish to. */
  readonly topicArn: string;
  /** IANA time zone of the times in the message. */
  readonly timeZone: string;
  /** How long the snapshot link is signed for, in seconds. */
  readonly linkExpirySeconds: number;
  /**
   * Where the pipeline's snapshots are: only a snapshot in this bucket under this prefix is linked
   * (the function may read nothing else, and a link it may not sign would not work). Absent when
   * the pipeline stores no snapshots.
   */
  readonly snapshotBucket?: string;
  readonly snapshotPrefix?: string;
}
