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
}

export function newOutcome(): Outcome {
  return { failed: new Set(), matched: 0, unknown: 0, malformed: 0, deduped: 0, eventsFailed: 0 };
}
