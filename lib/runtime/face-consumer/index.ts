/**
 * The face search consumer: a Lambda function attached to every camera's Kinesis data stream.
 *
 * For each batch of Rekognition face recognition records it
 *  1. decodes, validates and normalises every record into one event per detected face
 *     (../face-records/parser.ts); a malformed record goes straight to the SQS dead-letter queue
 *     with its reason and raw data, and is never retried;
 *  2. de-duplicates sightings: a face seen on the same camera again within the window yields no
 *     new event (a DynamoDB conditional write per sighting, correct across concurrent invocations);
 *  3. sends "Face Matched" / "Face Not Matched" events to EventBridge, at most 10 entries and
 *     256 KB per PutEvents call, retrying entries reported failed;
 *  4. answers with the sequence numbers of exactly the records that met a transient failure
 *     (ReportBatchItemFailures), so only they, and the records after them, are retried.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { ConditionalCheckFailedException, DynamoDBClient, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutEventsCommand, PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { KinesisStreamBatchResponse, KinesisStreamEvent, KinesisStreamRecord } from 'aws-lambda';
import { FaceEvent, parseFaceRecord, RecordError } from '../face-records/parser';
import { backoff, errorName, isRetryable, retryOptionsFromEnv } from '../shared/retry';

const env = process.env;
const config = {
  eventBus: env.EVENT_BUS_NAME ?? 'default',
  source: env.EVENT_SOURCE ?? 'face-stream-pipeline',
  consumerId: env.CONSUMER_ID ?? '',
  deadLetterQueueUrl: env.DEAD_LETTER_QUEUE_URL ?? '',
  dedupeTable: env.DEDUPE_TABLE_NAME ?? '',
  dedupeWindowSeconds: Number(env.DEDUPE_WINDOW_SECONDS ?? '0'),
  /** data stream ARN -> camera name */
  cameras: JSON.parse(env.CAMERAS ?? '{}') as Record<string, string>,
};

/** De-duplication needs both its table and a window. */
const dedupeOn = config.dedupeTable !== '' && config.dedupeWindowSeconds > 0;

/** Created once per container. */
const logger = new Logger({ serviceName: env.POWERTOOLS_SERVICE_NAME ?? 'face-stream-pipeline' });
// the "service" dimension is the consumer id, so that pipelines in one account and Region are told apart
const metrics = new Metrics({ namespace: env.POWERTOOLS_METRICS_NAMESPACE ?? 'FaceStreamPipeline', serviceName: config.consumerId || 'consumer' });
// PutEvents entry failures are retried here; the SDK retries whole calls that were throttled.
const eventBridge = new EventBridgeClient({ maxAttempts: 3 });
const sqs = new SQSClient({ maxAttempts: 3 });
const dynamodb = new DynamoDBClient({ maxAttempts: 3 });

export const DETAIL_TYPE_MATCHED = 'Face Matched';
export const DETAIL_TYPE_NOT_MATCHED = 'Face Not Matched';
/** EventBridge's limits for one PutEvents call. */
const MAX_ENTRIES = 10;
const MAX_CALL_BYTES = 256 * 1024;
/** SQS's message size limit; larger raw data is cut, with the Kinesis coordinates to find it. */
const MAX_MESSAGE_BYTES = 256 * 1024;
const ENTRY_ATTEMPTS = 4;

interface Sighting {
  readonly record: KinesisStreamRecord;
  readonly event: FaceEvent;
}

interface Outcome {
  readonly failed: Set<KinesisStreamRecord>;
  matched: number;
  unknown: number;
  malformed: number;
  suppressed: number;
  eventsFailed: number;
}

function cameraOf(record: KinesisStreamRecord): string | undefined {
  return config.cameras[record.eventSourceARN];
}

// ---- 1. dead letters ------------------------------------------------------------------------

interface DeadLetter {
  readonly record: KinesisStreamRecord;
  readonly reason: string;
}

function deadLetterBody(letter: DeadLetter): string {
  const r = letter.record;
  const base = {
    reason: letter.reason,
    consumer: config.consumerId,
    camera: cameraOf(r),
    eventSourceARN: r.eventSourceARN,
    eventID: r.eventID,
    sequenceNumber: r.kinesis.sequenceNumber,
    partitionKey: r.kinesis.partitionKey,
    approximateArrivalTimestamp: r.kinesis.approximateArrivalTimestamp,
    dataLength: typeof r.kinesis.data === 'string' ? r.kinesis.data.length : 0,
  };
  const full = JSON.stringify({ ...base, data: r.kinesis.data, dataTruncated: false });
  if (Buffer.byteLength(full) <= MAX_MESSAGE_BYTES) {
    return full;
  }
  // too large for SQS: keep the start of the data, and where to read the rest (stream, sequence)
  const room = MAX_MESSAGE_BYTES - Buffer.byteLength(JSON.stringify({ ...base, data: '', dataTruncated: true })) - 16;
  return JSON.stringify({ ...base, data: String(r.kinesis.data).slice(0, Math.max(0, room)), dataTruncated: true });
}

async function sendDeadLetters(letters: DeadLetter[], outcome: Outcome): Promise<void> {
  for (let start = 0; start < letters.length; start += MAX_ENTRIES) {
    const chunk = letters.slice(start, start + MAX_ENTRIES);
    const entries = chunk.map((letter, i) => ({ Id: String(i), MessageBody: deadLetterBody(letter) }));
    try {
      const response = await sqs.send(new SendMessageBatchCommand({ QueueUrl: config.deadLetterQueueUrl, Entries: entries }));
      for (const failure of response.Failed ?? []) {
        const letter = chunk[Number(failure.Id)];
        logger.warn('dead-letter message not accepted; the record will be retried', { code: failure.Code, sequenceNumber: letter.record.kinesis.sequenceNumber });
        outcome.failed.add(letter.record);
      }
    } catch (error) {
      logger.warn('dead-letter queue unavailable; the records will be retried', { error: errorName(error), records: chunk.length });
      chunk.forEach((letter) => outcome.failed.add(letter.record));
    }
  }
}

// ---- 2. de-duplication ---------------------------------------------------------------------

/** Who the sighting is: the person (external image id, else face id) or, for unknown faces, nobody in particular. */
export function sightingKey(event: FaceEvent): string {
  const who = event.match ? `person:${event.match.externalImageId ?? event.match.faceId}` : 'unknown';
  return `${event.camera}#${who}`;
}

/**
 * Claims the sighting for this window. True: send the event. False: someone already did (or it
 * is already delivered). A retried record claims again successfully while its event is not yet
 * delivered, because the claim carries the event id.
 */
async function claim(event: FaceEvent): Promise<boolean> {
  const frameSeconds = Date.parse(event.frameTime) / 1000;
  const windowEnds = frameSeconds + config.dedupeWindowSeconds;
  try {
    await dynamodb.send(
      new PutItemCommand({
        TableName: config.dedupeTable,
        Item: {
          pk: { S: sightingKey(event) },
          windowEnds: { N: String(windowEnds) },
          eventId: { S: event.id },
          delivered: { BOOL: false },
          expiresAt: { N: String(Math.ceil(Math.max(windowEnds, Date.now() / 1000) + 3600)) },
        },
        ConditionExpression: 'attribute_not_exists(pk) OR windowEnds <= :frame OR (eventId = :id AND delivered = :no)',
        ExpressionAttributeValues: { ':frame': { N: String(frameSeconds) }, ':id': { S: event.id }, ':no': { BOOL: false } },
      }),
    );
    return true;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException || errorName(error) === 'ConditionalCheckFailedException') {
      return false;
    }
    throw error;
  }
}

async function markDelivered(event: FaceEvent): Promise<void> {
  try {
    await dynamodb.send(
      new UpdateItemCommand({
        TableName: config.dedupeTable,
        Key: { pk: { S: sightingKey(event) } },
        UpdateExpression: 'SET delivered = :yes',
        ConditionExpression: 'eventId = :id',
        ExpressionAttributeValues: { ':yes': { BOOL: true }, ':id': { S: event.id } },
      }),
    );
  } catch (error) {
    // at worst a retry of this record sends the event once more
    logger.warn('could not mark a sighting delivered', { error: errorName(error), key: sightingKey(event) });
  }
}

async function dedupe(sightings: Sighting[], outcome: Outcome): Promise<Sighting[]> {
  if (!dedupeOn) {
    return sightings;
  }
  // one chain per key, in record order; different keys in parallel
  const byKey = new Map<string, Sighting[]>();
  for (const s of sightings) {
    const key = sightingKey(s.event);
    const chain = byKey.get(key);
    if (chain) {
      chain.push(s);
    } else {
      byKey.set(key, [s]);
    }
  }
  const keep = new Set<Sighting>();
  await Promise.all(
    [...byKey.values()].map(async (chain) => {
      for (const s of chain) {
        if (outcome.failed.has(s.record)) {
          continue;
        }
        try {
          if (await claim(s.event)) {
            keep.add(s);
          } else {
            outcome.suppressed += 1;
          }
        } catch (error) {
          logger.warn('sighting store unavailable; the record will be retried', { error: errorName(error) });
          outcome.failed.add(s.record);
        }
      }
    }),
  );
  return sightings.filter((s) => keep.has(s));
}

// ---- 3. events ------------------------------------------------------------------------------

function entryOf(event: FaceEvent): PutEventsRequestEntry {
  return {
    Source: config.source,
    DetailType: event.matched ? DETAIL_TYPE_MATCHED : DETAIL_TYPE_NOT_MATCHED,
    Detail: JSON.stringify({ ...event, consumer: config.consumerId }),
    EventBusName: config.eventBus,
    Resources: [event.videoStreamArn],
    Time: new Date(event.frameTime),
  };
}

/** The size EventBridge counts for an entry (Source, DetailType, Detail, Resources, Time). */
export function entrySize(entry: PutEventsRequestEntry): number {
  let size = 14; // Time
  size += Buffer.byteLength(entry.Source ?? '') + Buffer.byteLength(entry.DetailType ?? '') + Buffer.byteLength(entry.Detail ?? '');
  for (const resource of entry.Resources ?? []) {
    size += Buffer.byteLength(resource);
  }
  return size;
}

/** Splits into PutEvents calls of at most 10 entries and 256 KB. */
export function chunkEntries<T extends { entry: PutEventsRequestEntry }>(items: T[]): T[][] {
  const chunks: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const item of items) {
    const size = entrySize(item.entry);
    if (current.length === MAX_ENTRIES || (current.length > 0 && bytes + size > MAX_CALL_BYTES)) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(item);
    bytes += size;
  }
  if (current.length > 0) {
    chunks.push(current);
  }
  return chunks;
}

interface Pending {
  readonly sighting: Sighting;
  readonly entry: PutEventsRequestEntry;
}

/** Sends one chunk; returns the items that could not be delivered after the retries. */
async function putChunk(chunk: Pending[]): Promise<Pending[]> {
  let pending = chunk;
  const retry = retryOptionsFromEnv();
  for (let attempt = 1; attempt <= ENTRY_ATTEMPTS && pending.length > 0; attempt++) {
    if (attempt > 1) {
      await backoff(attempt - 1, retry);
    }
    try {
      const response = await eventBridge.send(new PutEventsCommand({ Entries: pending.map((p) => p.entry) }));
      if (!response.FailedEntryCount) {
        return [];
      }
      const entries = response.Entries ?? [];
      const failed = pending.filter((_, i) => entries[i]?.ErrorCode || !entries[i]?.EventId);
      logger.warn('PutEvents entries failed', {
        attempt,
        failed: failed.length,
        codes: [...new Set(entries.map((e) => e.ErrorCode).filter(Boolean))],
      });
      pending = failed;
    } catch (error) {
      logger.warn('PutEvents call failed', { attempt, error: errorName(error), retryable: isRetryable(error) });
      if (!isRetryable(error)) {
        return pending;
      }
    }
  }
  return pending;
}

async function publish(sightings: Sighting[], outcome: Outcome): Promise<Sighting[]> {
  const pending: Pending[] = sightings.filter((s) => !outcome.failed.has(s.record)).map((s) => ({ sighting: s, entry: entryOf(s.event) }));
  const undelivered = (await Promise.all(chunkEntries(pending).map(putChunk))).flat();
  const lost = new Set(undelivered.map((p) => p.sighting));
  for (const p of undelivered) {
    outcome.failed.add(p.sighting.record);
  }
  outcome.eventsFailed += undelivered.length;
  return pending.map((p) => p.sighting).filter((s) => !lost.has(s));
}

// ---- the handler ----------------------------------------------------------------------------

export async function handler(event: KinesisStreamEvent): Promise<KinesisStreamBatchResponse> {
  const records = event.Records ?? [];
  const outcome: Outcome = { failed: new Set(), matched: 0, unknown: 0, malformed: 0, suppressed: 0, eventsFailed: 0 };
  const sightings: Sighting[] = [];
  const letters: DeadLetter[] = [];

  for (const record of records) {
    try {
      for (const faceEvent of parseFaceRecord(record.kinesis?.data, cameraOf(record))) {
        sightings.push({ record, event: faceEvent });
      }
    } catch (error) {
      const reason = error instanceof RecordError ? error.message : `${errorName(error)}: ${(error as Error).message}`;
      logger.warn('malformed record sent to the dead-letter queue', { reason, sequenceNumber: record.kinesis?.sequenceNumber, eventSourceARN: record.eventSourceARN });
      letters.push({ record, reason });
    }
  }
  outcome.malformed = letters.length;

  await sendDeadLetters(letters, outcome);
  const claimed = await dedupe(sightings, outcome);
  const delivered = await publish(claimed, outcome);
  if (dedupeOn) {
    await Promise.all(delivered.map((s) => markDelivered(s.event)));
  }
  for (const s of delivered) {
    if (s.event.matched) {
      outcome.matched += 1;
    } else {
      outcome.unknown += 1;
    }
  }

  metrics.addMetric('RecordsProcessed', MetricUnit.Count, records.length);
  metrics.addMetric('FacesMatched', MetricUnit.Count, outcome.matched);
  metrics.addMetric('UnknownFaces', MetricUnit.Count, outcome.unknown);
  metrics.addMetric('MalformedRecords', MetricUnit.Count, outcome.malformed);
  metrics.addMetric('SightingsSuppressed', MetricUnit.Count, outcome.suppressed);
  metrics.addMetric('EventsFailed', MetricUnit.Count, outcome.eventsFailed);
  metrics.publishStoredMetrics();

  // every record with a transient failure, in stream order: Lambda retries from the first
  const batchItemFailures = records.filter((r) => outcome.failed.has(r)).map((r) => ({ itemIdentifier: r.kinesis.sequenceNumber }));
  logger.info('batch done', {
    records: records.length,
    faces: sightings.length,
    matched: outcome.matched,
    unknown: outcome.unknown,
    malformed: outcome.malformed,
    suppressed: outcome.suppressed,
    eventsFailed: outcome.eventsFailed,
    retried: batchItemFailures.length,
  });
  return { batchItemFailures };
}
