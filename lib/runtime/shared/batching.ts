/**
 * Batch calls, for every handler: cutting items into calls a service accepts, and retrying the
 * entries a batch call reports failed (PutEvents' failed entries, BatchWriteItem's unprocessed
 * items, PutRecords' failed records) without resending those it accepted.
 *
 * API (for any handler, the frame sampler included):
 *  - `batchBy(items, { maxCount, maxBytes?, sizeOf? })`: consecutive batches of at most `maxCount`
 *    items and `maxBytes` bytes in all (an item larger than `maxBytes` travels alone: the service
 *    says what it makes of it), in order.
 *  - `retryFailedEntries(entries, call, options)`: calls `call(pending, attempt)`, which sends the
 *    pending entries and answers those the service reported failed, until none is left or
 *    `options.attempts` calls are spent, waiting `backoff` (retry.ts) before each retry. A call
 *    that throws is retried when `options.retryIf` (default `isRetryable`) says so, else the
 *    pending entries are answered at once. `options.proceed`, asked before each call after the
 *    first, may stop early (a lease about to end). Answers the entries still undelivered, why
 *    (`'failed'` entries, a thrown `'error'`, or `'stopped'`) and the last error thrown.
 */
import { isRetryable } from './errors';
import { backoff, type RetryOptions } from './retry';

export interface BatchLimits<T> {
  /** Items per batch at most. */
  readonly maxCount: number;
  /** Bytes per batch at most, as `sizeOf` counts them. @default no limit */
  readonly maxBytes?: number;
  /** The bytes an item counts for. @default 0 */
  readonly sizeOf?: (item: T) => number;
}

/** Consecutive batches within the limits, in order. */
export function batchBy<T>(items: readonly T[], limits: BatchLimits<T>): T[][] {
  const maxBytes = limits.maxBytes ?? Infinity;
  const batches: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const item of items) {
    const size = limits.sizeOf?.(item) ?? 0;
    if (current.length === limits.maxCount || (current.length > 0 && bytes + size > maxBytes)) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push(item);
    bytes += size;
  }
  if (current.length > 0) {
    batches.push(current);
  }
  return batches;
}

export interface FailedEntriesOptions {
  /** Calls in all, the first included. */
  readonly attempts: number;
  /** The backoff between calls (its `attempts` is not used here). */
  readonly retry: RetryOptions;
  /** Whether a call that threw is worth another. @default isRetryable */
  readonly retryIf?: (error: unknown) => boolean;
  /** Asked before every call after the first: false stops with the entries still pending. */
  readonly proceed?: () => boolean;
}

export interface Undelivered<T> {
  /** The entries not delivered (empty when all were). */
  readonly entries: T[];
  /** Why: entries reported failed by the last call, a call that threw, or `proceed` said stop. */
  readonly reason?: 'failed' | 'error' | 'stopped';
  /** The error of the last call that threw, if one did. */
  readonly error?: unknown;
}

/** Sends `entries` with `call` (answering those that failed), retrying the failed ones. */
export async function retryFailedEntries<T>(
  entries: T[],
  call: (pending: T[], attempt: number) => Promise<T[]>,
  options: FailedEntriesOptions,
): Promise<Undelivered<T>> {
  const retryIf = options.retryIf ?? isRetryable;
  let pending = entries;
  let reason: Undelivered<T>['reason'];
  let error: unknown;
  for (let attempt = 1; attempt <= options.attempts && pending.length > 0; attempt++) {
    if (attempt > 1) {
      await backoff(attempt - 1, options.retry);
      if (options.proceed && !options.proceed()) {
        return { entries: pending, reason: 'stopped', error };
      }
    }
    try {
      pending = await call(pending, attempt);
      reason = 'failed';
    } catch (e) {
      error = e;
      reason = 'error';
      if (!retryIf(e)) {
        return { entries: pending, reason, error };
      }
    }
  }
  return pending.length > 0 ? { entries: pending, reason, error } : { entries: [] };
}
