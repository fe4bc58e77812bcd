/**
 * Face search records of the documented Kinesis shape (as a stream processor writes them), so the
 * consumer, de-duplication, dead letters and rules work unchanged, plus `"Engine": "frame-sampling"`.
 * GetImages gives no fragment number: FragmentNumber is the synthetic, stable
 * `frame-sampling-<producer time in ms>`, so a frame analysed again after a retry yields the same
 * event ids. ProducerTimestamp and ServerTimestamp are the image's time (GetImages with the
 * PRODUCER_TIMESTAMP selector gives no server time), FrameOffsetInSeconds is 0.
 */
import { PutRecordsCommand, type PutRecordsRequestEntry } from '@aws-sdk/client-kinesis';
import { ENGINE_NAMES } from '../../events';
import type { FaceSearchRecord, FaceSearchResult } from '../face-records/parser';
import { batchBy, retryFailedEntries } from '../shared/batching';
import { errorName, isRetryable } from '../shared/errors';
import { retryOptionsFromEnv } from '../shared/retry';
import { kinesis } from './clients';

/** The engine this sampler's records name: the event contract's value. */
export const ENGINE = ENGINE_NAMES.FRAME_SAMPLING;

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

const retry = retryOptionsFromEnv();

/** Thrown when some records could not be written after every retry: the caller keeps its position. */
export class RecordsNotDelivered extends Error {}

/**
 * Writes the records in order-preserving batches (shared batching.ts: `batchBy` within PutRecords'
 * limits, `retryFailedEntries` for the entries a call reports failed): an attempt sends what is
 * still pending; entries that fail (throttled shard, internal failure) or whose call failed
 * transiently are what the next attempt sends, up to RETRY_ATTEMPTS attempts with backoff. Entries
 * failed with an error code that is not transient end the retries at once. Throws
 * RecordsNotDelivered (nothing is dropped silently: the span is analysed again), or the error of a
 * call that failed permanently. Answers how many entries were sent again.
 */
export async function putRecords(dataStreamArn: string, partitionKey: string, records: object[]): Promise<number> {
  const entries: PutRecordsRequestEntry[] = records.map((r) => ({ Data: Buffer.from(JSON.stringify(r)), PartitionKey: partitionKey }));
  let retriedEntries = 0;
  let attempts = 0;
  let code = '';
  const undelivered = await retryFailedEntries(
    entries,
    async (pending, attempt) => {
      attempts = attempt;
      if (attempt > 1) {
        retriedEntries += pending.length;
      }
      const failed: PutRecordsRequestEntry[] = [];
      code = '';
      for (const batch of batchBy(pending, { maxCount: MAX_ENTRIES, maxBytes: MAX_BATCH_BYTES, sizeOf: (e) => (e.Data as Uint8Array).length + e.PartitionKey!.length })) {
        try {
          const out = await kinesis.send(new PutRecordsCommand({ StreamARN: dataStreamArn, Records: batch }));
          (out.Records ?? []).forEach((r, i) => {
            if (r.ErrorCode) {
              failed.push(batch[i]);
              code ||= r.ErrorCode;
            }
          });
        } catch (error) {
          if (!isRetryable(error)) {
            throw error;
          }
          failed.push(...batch);
          code ||= errorName(error);
        }
      }
      if (failed.length > 0 && !isRetryable({ name: code })) {
        throw new RecordsNotDelivered(`${failed.length} face search records not written to ${dataStreamArn}: ${code}`);
      }
      return failed;
    },
    { attempts: retry.attempts, retry },
  );
  if (undelivered.reason === 'error') {
    throw undelivered.error;
  }
  if (undelivered.entries.length > 0) {
    throw new RecordsNotDelivered(`${undelivered.entries.length} face search records not written to ${dataStreamArn} after ${attempts} attempts (${code})`);
  }
  return retriedEntries;
}
