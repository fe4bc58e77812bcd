/**
 * The one PutEvents publisher of every handler: entries are sent in calls of at most 10 entries
 * and 256 KB (measured as EventBridge measures an entry), entries that EventBridge reports failed
 * are retried with backoff, and whatever is still undelivered is handed back to the caller, who
 * decides what a lost event means (a batch item failure, a failed invocation).
 */
import { EventBridgeClient, PutEventsCommand, PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import type { Logger } from '@aws-lambda-powertools/logger';
import { backoff, errorName, isRetryable, RetryOptions, retryOptionsFromEnv } from './retry';

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
    let pending = chunk;
    for (let attempt = 1; attempt <= ENTRY_ATTEMPTS && pending.length > 0; attempt++) {
      if (attempt > 1) {
        await backoff(attempt - 1, this.retry);
      }
      try {
        const response = await this.client.send(new PutEventsCommand({ Entries: pending.map((p) => p.entry) }));
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
        pending = failed;
      } catch (error) {
        this.logger.warn('PutEvents call failed', { attempt, error: errorName(error), retryable: isRetryable(error) });
        if (!isRetryable(error)) {
          return pending;
        }
      }
    }
    return pending;
  }
}
