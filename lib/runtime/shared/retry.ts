/**
 * The one retry of every handler: capped exponential backoff with jitter over the upper half of
 * each wait, for AWS calls whose failure may be transient. Errors are classified by errors.ts
 * (`isRetryable`): throttling, 5xx and network errors are retried; everything else is returned to
 * the caller at once, unless the caller says otherwise with `retryIf`.
 *
 * API (for any handler, the frame sampler included):
 *  - `retryOptionsFromEnv()`: `{ attempts, baseDelayMs, maxDelayMs }` from RETRY_ATTEMPTS (8),
 *    RETRY_BASE_DELAY_MS (250) and RETRY_MAX_DELAY_MS (8000), read from the environment once per
 *    container (the first call) and then shared; derive tighter options from it
 *    (`{ ...retryOptionsFromEnv(), attempts: 4 }`) rather than writing constants of your own.
 *  - `withRetry(operation, fn, options?, onRetry?)`: calls `fn` until it succeeds, `options.retryIf`
 *    (default `isRetryable`) says no, or `options.attempts` are spent; `onRetry` hears of every
 *    retry (to log it). `options` defaults to `retryOptionsFromEnv()`.
 *  - `retryingSend(logger)`: `send(operation, fn)` = `withRetry` with the environment's options that
 *    logs each retry as `retrying after a transient error` with the operation, attempt, error name
 *    and delay: the wrapper of every handler whose SDK client makes one attempt (`maxAttempts: 1`).
 *  - `backoffDelay(retry, options)` / `backoff(retry, options)`: the wait before retry n (1 for the
 *    first), for loops that retry something other than a thrown error (batching.ts's
 *    `retryFailedEntries`, a page that is not ready yet).
 * `errorName` and `isRetryable` are re-exported from errors.ts for modules that import them here.
 */
import { errorName, isRetryable } from './errors';

export { errorName, isRetryable };

export interface RetryOptions {
  /** Attempts in all, the first included. */
  readonly attempts: number;
  /** Base delay in milliseconds; retry n waits up to base * 2^(n-1), capped. */
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  /** Whether a failure is worth another attempt. @default isRetryable */
  readonly retryIf?: (error: unknown) => boolean;
}

let fromEnv: RetryOptions | undefined;

/** The environment's retry settings, read once per container. */
export function retryOptionsFromEnv(): RetryOptions {
  if (!fromEnv) {
    const num = (name: string, fallback: number) => {
      const value = Number(process.env[name]);
      return Number.isFinite(value) && value >= 0 ? value : fallback;
    };
    fromEnv = {
      attempts: Math.max(1, Math.floor(num('RETRY_ATTEMPTS', 8))),
      baseDelayMs: num('RETRY_BASE_DELAY_MS', 250),
      maxDelayMs: num('RETRY_MAX_DELAY_MS', 8000),
    };
  }
  return fromEnv;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The wait before retry number `retry` (1 for the first): capped exponential, with jitter over its upper half. */
export function backoffDelay(retry: number, options: RetryOptions): number {
  const cap = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** (retry - 1));
  return Math.round(cap / 2 + Math.random() * (cap / 2));
}

/** Waits the backoff delay of retry number `retry`. */
export function backoff(retry: number, options: RetryOptions): Promise<void> {
  return sleep(backoffDelay(retry, options));
}

export type OnRetry = (operation: string, attempt: number, error: unknown, delayMs: number) => void;

export async function withRetry<T>(operation: string, fn: () => Promise<T>, options: RetryOptions = retryOptionsFromEnv(), onRetry?: OnRetry): Promise<T> {
  const retryIf = options.retryIf ?? isRetryable;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      if (attempt >= options.attempts || !retryIf(error)) {
        throw error;
      }
      const delayMs = backoffDelay(attempt, options);
      onRetry?.(operation, attempt, error, delayMs);
      await sleep(delayMs);
    }
  }
}

/** What `retryingSend` needs of a logger (Powertools' Logger has it). */
export interface RetryLogger {
  warn(message: string, ...extra: Array<Record<string, unknown>>): void;
}

/** `send(operation, fn)`: `fn` retried with the environment's options, each retry logged. */
export function retryingSend(logger: RetryLogger): <T>(operation: string, fn: () => Promise<T>) => Promise<T> {
  const onRetry: OnRetry = (operation, attempt, error, delayMs) =>
    logger.warn('retrying after a transient error', { operation, attempt, error: errorName(error), delayMs });
  return (operation, fn) => withRetry(operation, fn, retryOptionsFromEnv(), onRetry);
}
