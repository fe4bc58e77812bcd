/**
 * Face search records of the documented Kinesis shape (as a stream processor writes them), so the
 * consumer, de-duplication, dead letters and rules work unchanged, plus `"Engine": "frame-sampling"`.
 * GetImages gives no fragment number: FragmentNumber is the synthetic, stable
 * `frame-sampling-<producer time in ms>`, so a frame analysed again after a retry yields the same
 * event ids. ProducerTimestamp and ServerTimestamp are the image's time (GetImages with the
 * PRODUCER_TIMESTAMP selector gives no server time), FrameOffsetInSeconds is 0.
 */
import { PutRecordsCommand, type PutRecordsRequestEntry } from '@aws-sdk/client-kinesis';
import type { FaceSearchRecord, FaceSearchResult } from '../face-records/parser';
import { backoff, isRetryable, RetryOptions } from '../shared/retry';
import { kinesis } from './clients';

export const ENGINE = 'frame-sampling';

export function faceSearchRecord(videoStreamArn: string, timeMs: number, results: FaceSearchResult[]): FaceSearchRecord & { Engine: string } {
  const seconds = timeMs / 1000;
  return {
    InputInformation: {
      KinesisVideo: { StreamArn: videoStreamArn, FragmentNumber: `frame-sampling-${timeMs}`, ServerTimestamp: seconds, ProducerTimestamp: seconds, FrameOffsetInSeconds: 0 },
    },
    StreamProcessorInformation: { Status: 'RUNNING' },
    FaceSearchResponse: results,
    Engine: ENGINE,
  };
}

/** PutRecords allows 500 entries and 5 MiB per call; a record is at most 1 MiB. */
const MAX_ENTRIES = 500;
const MAX_BATCH_BYTES = 5 * 1024 * 1024;

const RETRY: RetryOptions = { attempts: 8, baseDelayMs: Number(process.env.RETRY_BASE_DELAY_MS ?? 100), maxDelayMs: Number(process.env.RETRY_MAX_DELAY_MS ?? 5000) };

/** Thrown when some records could not be written after every retry: the caller keeps its position. */
export class RecordsNotDelivered extends Error {}

/**
 * Writes the records in order-preserving batches; entries that fail (throttled shard, internal
 * failure) are retried alone with back-off; a failing call is retried when it is transient.
 * Throws RecordsNotDelivered (nothing is dropped silently: the span is analysed again).
 */
export async function putRecords(dataStreamArn: string, partitionKey: string, records: object[]): Promise<number> {
  let pending: PutRecordsRequestEntry[] = records.map((r) => ({ Data: Buffer.from(JSON.stringify(r)), PartitionKey: partitionKey }));
  let retriedEntries = 0;
  for (let attempt = 1; pending.length > 0; attempt++) {
    const failed: PutRecordsRequestEntry[] = [];
    for (const batch of batches(pending)) {
      try {
        const out = await kinesis.send(new PutRecordsCommand({ StreamARN: dataStreamArn, Records: batch }));
        (out.Records ?? []).forEach((r, i) => {
          if (r.ErrorCode) {
            failed.push(batch[i]);
          }
        });
      } catch (error) {
        if (!isRetryable(error)) {
          throw error;
        }
        failed.push(...batch);
      }
    }
    if (failed.length === 0) {
      break;
    }
    if (attempt >= RETRY.attempts) {
      throw new RecordsNotDelivered(`${failed.length} face search records not written to ${dataStreamArn} after ${attempt} attempts`);
    }
    retriedEntries += failed.length;
    pending = failed;
    await backoff(attempt, RETRY);
  }
  return retriedEntries;
}

function* batches(entries: PutRecordsRequestEntry[]): Generator<PutRecordsRequestEntry[]> {
  let batch: PutRecordsRequestEntry[] = [];
  let bytes = 0;
  for (const entry of entries) {
    const size = (entry.Data as Uint8Array).length + entry.PartitionKey!.length;
    if (batch.length > 0 && (batch.length === MAX_ENTRIES || bytes + size > MAX_BATCH_BYTES)) {
      yield batch;
      batch = [];
      bytes = 0;
    }
    batch.push(entry);
    bytes += size;
  }
  if (batch.length > 0) {
    yield batch;
  }
}
