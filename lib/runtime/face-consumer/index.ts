/**
 * The face search consumer: a Lambda function attached to every camera's Kinesis data stream.
 *
 * For each batch of Rekognition face search records it
 *  1. decodes, validates and normalises every record into one event per detected face
 *     (../face-records/parser.ts); a malformed record goes to the SQS dead-letter queue with its
 *     reason and raw data (dead-letters.ts), once: see step 4;
 *  2. de-duplicates sightings: one event per person (or unknown face) and camera and window,
 *     agreed across concurrent invocations through DynamoDB claims (dedupe.ts);
 *  3. sends "Face Matched" / "Face Not Matched" events through the shared publisher (events.ts),
 *     with snapshots on first storing each stream-processor sighting's snapshot (snapshot-step.ts);
 *  4. answers with exactly the records that met a transient failure (ReportBatchItemFailures).
 *     Lambda retries a Kinesis batch from the first of them: every record after it comes again,
 *     whatever this invocation did with it. So a malformed record is dead-lettered only when it
 *     comes before the first failed record (the retry does not send it again); one after it waits
 *     for the retry that redelivers it. The letters go in stream order and stop at the first
 *     letter the queue fails to take, for the same reason.
 */
import { randomUUID } from 'node:crypto';
import type { Context, KinesisStreamBatchResponse, KinesisStreamEvent } from 'aws-lambda';
import { parseFaceRecord, RecordError } from '../face-records/parser';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { CONSUMER_METRICS, SNAPSHOT_METRICS } from '../../metric-names';
import { errorName } from '../shared/errors';
import { cameraOf } from './cameras';
import { begin, logger, metrics } from './clients';
import { config, DEFAULT_LEASE_SECONDS } from './config';
import { DeadLetter, sendDeadLetters } from './dead-letters';
import { publishOncePerWindow } from './dedupe';
import { publishSightings } from './events';
import { newOutcome, Outcome, Sighting } from './outcome';

export async function handler(event: KinesisStreamEvent, context?: Context): Promise<KinesisStreamBatchResponse> {
  begin(context);
  const records = event.Records ?? [];
  const remainingMs = context?.getRemainingTimeInMillis?.() ?? DEFAULT_LEASE_SECONDS * 1000;
  const outcome = newOutcome(Date.now() + remainingMs);
  const sightings: Sighting[] = [];
  const letters: DeadLetter[] = [];

  for (const [index, record] of records.entries()) {
    try {
      for (const faceEvent of parseFaceRecord(record.kinesis?.data, cameraOf(record.eventSourceARN))) {
        sightings.push({ record, event: faceEvent });
      }
    } catch (error) {
      const reason = error instanceof RecordError ? error.message : `${errorName(error)}: ${(error as Error).message}`;
      logger.warn('malformed record', { reason, sequenceNumber: record.kinesis?.sequenceNumber, eventSourceARN: record.eventSourceARN });
      letters.push({ record, reason, index });
    }
  }

  if (config.dedupeOn) {
    await publishOncePerWindow(sightings, outcome, { owner: randomUUID(), untilMs: outcome.deadlineMs });
  } else {
    await publishSightings(sightings, outcome);
  }
  // the retry redelivers every record from the first failed one on: letters for them would be sent twice
  const firstFailed = records.findIndex((r) => outcome.failed.has(r));
  const due = firstFailed < 0 ? letters : letters.filter((l) => l.index < firstFailed);
  outcome.malformed = await sendDeadLetters(due, outcome.failed);
  return respond(records, sightings.length, outcome);
}

function respond(records: KinesisStreamEvent['Records'], faces: number, outcome: Outcome): KinesisStreamBatchResponse {
  metrics.addMetric(CONSUMER_METRICS.RECORDS_PROCESSED, MetricUnit.Count, records.length);
  metrics.addMetric(CONSUMER_METRICS.FACES_MATCHED, MetricUnit.Count, outcome.matched);
  metrics.addMetric(CONSUMER_METRICS.UNKNOWN_FACES, MetricUnit.Count, outcome.unknown);
  metrics.addMetric(CONSUMER_METRICS.MALFORMED_RECORDS, MetricUnit.Count, outcome.malformed);
  metrics.addMetric(CONSUMER_METRICS.DEDUPED_SIGHTINGS, MetricUnit.Count, outcome.deduped);
  metrics.addMetric(CONSUMER_METRICS.EVENTS_FAILED, MetricUnit.Count, outcome.eventsFailed);
  if (config.snapshots.bucket) {
    metrics.addMetric(SNAPSHOT_METRICS.STORED, MetricUnit.Count, outcome.snapshotsStored);
    metrics.addMetric(SNAPSHOT_METRICS.FAILED, MetricUnit.Count, outcome.snapshotsFailed);
  }
  metrics.publishStoredMetrics();

  // every record with a transient failure, in stream order: Lambda retries from the first
  const batchItemFailures = records.filter((r) => outcome.failed.has(r)).map((r) => ({ itemIdentifier: r.kinesis.sequenceNumber }));
  logger.info('batch done', {
    records: records.length,
    faces,
    matched: outcome.matched,
    unknown: outcome.unknown,
    malformed: outcome.malformed,
    deduped: outcome.deduped,
    eventsFailed: outcome.eventsFailed,
    ...(config.snapshots.bucket ? { snapshotsStored: outcome.snapshotsStored, snapshotsFailed: outcome.snapshotsFailed } : {}),
    retried: batchItemFailures.length,
  });
  return { batchItemFailures };
}
