/**
 * The one PutEvents publisher of every handler: entries are sent in calls of at most 10 entries
 * and 256 KB (measured as EventBridge measures an entry), entries that EventBridge reports failed
 * are retried with backoff, and whatever is still undelivered is handed back to the caller, who
 * decides what a lost event means (a batch item failure, a failed invocation).
 */
import { EventBridgeClient, PutEventsCommand, PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import type { Logger } from '@aws-lambda-powertools/logger';
import { batchBy, retryFailedEntries } from './batching';
import { errorName, isRetryable } from './errors';
import { RetryOptions, retryOptionsFromEnv } from './retry';

/** EventBridge's limits for one PutEvents call. */
export const MAX_ENTRIES = 10;
export const MAX_CALL_BYTES = 256 * 1024;
/** Attempts per entry, the first included. */
export const ENTRY_ATTEMPTS = 4;

/** The size EventBridge counts for an entry (Source, DetailType, Detail, Resources, Time). */
export function entrySize(entry: PutEventsRequestEntry): number {
  let size = entry.Time ? 14 : 0;
  size += Buffer.byteLength(entry.Source ?? '') + Buffer.byteLength(entry.DetailType ?? '') + Buffer.byteLength(entry.Detail ?? '');
  for (const resource of entry.Resources ?? []) {
    size += Buffer.byteLength(resource);
  }
  return size;
}

/** Splits into PutEvents calls of at most 10 entries and 256 KB. */
export function chunkEntries<T extends { readonly entry: PutEventsRequestEntry }>(items: T[]): T[][] {
  return batchBy(items, { maxCount: MAX_ENTRIES, maxBytes: MAX_CALL_BYTES, sizeOf: (item) => entrySize(item.entry) });
}

/** An entry to send, and what it stands for (handed back if it is not delivered). */
export interface Publication<T> {
  readonly entry: PutEventsRequestEntry;
  readonly ref: T;
}

export class EventPublisher {
  private readonly retry: RetryOptions;

  constructor(
    private readonly client: EventBridgeClient,
    private readonly logger: Logger,
    retry?: RetryOptions,
  ) {
    this.retry = retry ?? retryOptionsFromEnv();
  }

  /** Sends every entry; returns the refs of those not delivered after the retries. */
  public async publish<T>(items: Array<Publication<T>>): Promise<T[]> {
    const undelivered = await Promise.all(chunkEntries(items).map((chunk) => this.putChunk(chunk)));
    return undelivered.flat().map((p) => p.ref);
  }

  private async putChunk<T>(chunk: Array<Publication<T>>): Promise<Array<Publication<T>>> {
    const undelivered = await retryFailedEntries(
      chunk,
      async (pending, attempt) => {
        let response;
        try {
          response = await this.client.send(new PutEventsCommand({ Entries: pending.map((p) => p.entry) }));
        } catch (error) {
          this.logger.warn('PutEvents call failed', { attempt, error: errorName(error), retryable: isRetryable(error) });
          throw error;
        }
        if (!response.FailedEntryCount) {
          return [];
        }
        const entries = response.Entries ?? [];
        const failed = pending.filter((_, i) => entries[i]?.ErrorCode || !entries[i]?.EventId);
        this.logger.warn('PutEvents entries failed', {
          attempt,
          failed: failed.length,
          codes: [...new Set(entries.map((e) => e.ErrorCode).filter(Boolean))],
        });
        return failed;
      },
      { attempts: ENTRY_ATTEMPTS, retry: this.retry },
    );
    return undelivered.entries;
  }
}
