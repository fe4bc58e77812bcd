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
import { isRetryable } from '../shared/errors';
import { retryOptionsFromEnv, withRetry } from '../shared/retry';
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

/** Some entries of a PutRecords failed: named after the first entry's error code (throttling or internal: retried). */
class EntriesFailed extends Error {
  constructor(public readonly name: string, public readonly count: number) {
    super(`${count} entries failed (${name})`);
  }
}

/**
 * Writes the records in order-preserving batches through withRetry: an attempt sends what is still
 * pending; entries that fail (throttled shard, internal failure) are what the next attempt sends.
 * Throws RecordsNotDelivered (nothing is dropped silently: the span is analysed again).
 * Answers how many entries were sent again.
 */
export async function putRecords(dataStreamArn: string, partitionKey: string, records: object[]): Promise<number> {
  let pending: PutRecordsRequestEntry[] = records.map((r) => ({ Data: Buffer.from(JSON.stringify(r)), PartitionKey: partitionKey }));
  let retriedEntries = 0;
  try {
    await withRetry(
      'PutRecords',
      async () => {
        const failed: PutRecordsRequestEntry[] = [];
        let code = '';
        for (const batch of batches(pending)) {
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
            code ||= (error as Error).name;
          }
        }
        pending = failed;
        if (failed.length > 0) {
          retriedEntries += failed.length;
          throw new EntriesFailed(code, failed.length);
        }
      },
      retry,
    );
  } catch (error) {
    if (error instanceof EntriesFailed) {
      throw new RecordsNotDelivered(`${error.count} face search records not written to ${dataStreamArn} after ${retry.attempts} attempts`);
    }
    throw error;
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
