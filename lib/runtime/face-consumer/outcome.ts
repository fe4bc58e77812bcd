/** What one invocation works on and counts. */
import type { KinesisStreamRecord } from 'aws-lambda';
import type { FaceEvent } from '../face-records/parser';

/** One detected face of one record. */
export interface Sighting {
  readonly record: KinesisStreamRecord;
  readonly event: FaceEvent;
}

export interface Outcome {
  /** Records met by a transient failure: batch item failures, retried by Lambda. */
  readonly failed: Set<KinesisStreamRecord>;
  matched: number;
  unknown: number;
  malformed: number;
  deduped: number;
  eventsFailed: number;
  /** Sightings sent with their snapshot stored, and sent without one because storing it failed. */
  snapshotsStored: number;
  snapshotsFailed: number;
  /** When this invocation must be done (epoch ms): snapshots are not waited for past a margin before it. */
  readonly deadlineMs: number;
}

export function newOutcome(deadlineMs = Number.POSITIVE_INFINITY): Outcome {
  return { failed: new Set(), matched: 0, unknown: 0, malformed: 0, deduped: 0, eventsFailed: 0, snapshotsStored: 0, snapshotsFailed: 0, deadlineMs };
}
