/**
 * Retry with capped exponential backoff and full jitter, for AWS calls whose failure may be
 * transient. Errors are classified by the service's error name and HTTP status: throttling, 5xx
 * and network errors are retried; everything else (access denied, invalid parameter, limit
 * exceeded, not found, in use) is returned to the caller at once.
 */

/** Error names that mean "slow down" or "try again": never a fault of the request itself. */
const RETRYABLE_NAMES = new Set([
  'ThrottlingException',
  'Throttling',
  'TooManyRequestsException',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'ClientLimitExceededException',
  'InternalServerError',
  'InternalServerErrorException',
  'InternalFailure',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'RequestTimeout',
  'RequestTimeoutException',
  'TimeoutError',
]);

const RETRYABLE_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'ENOTFOUND']);

interface AwsLikeError {
  name?: string;
  code?: string;
  $metadata?: { httpStatusCode?: number };
}

export function isRetryable(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) {
    return false;
  }
  const e = error as AwsLikeError;
  if (e.name && RETRYABLE_NAMES.has(e.name)) {
    return true;
  }
  if (e.code && RETRYABLE_CODES.has(e.code)) {
    return true;
  }
  const status = e.$metadata?.httpStatusCode;
  return typeof status === 'number' && status >= 500;
}

export function errorName(error: unknown): string {
  return (error as AwsLikeError | undefined)?.name ?? 'Error';
}

export interface RetryOptions {
  /** Attempts in all, the first included. */
  readonly attempts: number;
  /** Base delay in milliseconds; attempt n waits up to base * 2^n, capped. */
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
}

export function retryOptionsFromEnv(): RetryOptions {
  const num = (name: string, fallback: number) => {
    const value = Number(process.env[name]);
    return Number.isFinite(value) && value >= 0 ? value : fallback;
  };
  return {
    attempts: Math.max(1, Math.floor(num('RETRY_ATTEMPTS', 8))),
    baseDelayMs: num('RETRY_BASE_DELAY_MS', 250),
    maxDelayMs: num('RETRY_MAX_DELAY_MS', 8000),
  };
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

export async function withRetry<T>(
  operation: string,
  fn: () => Promise<T>,
  options: RetryOptions,
  onRetry?: (operation: string, attempt: number, error: unknown, delayMs: number) => void,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      if (!isRetryable(error) || attempt >= options.attempts) {
        throw error;
      }
      const delayMs = backoffDelay(attempt, options);
      onRetry?.(operation, attempt, error, delayMs);
      await sleep(delayMs);
    }
  }
}
