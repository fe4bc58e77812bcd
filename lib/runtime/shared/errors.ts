/**
 * What an AWS error is, for every handler: one place that reads an SDK v3 error's name, code and
 * HTTP status.
 *
 * API (for any handler, the frame sampler included):
 *  - `errorName(error)`: the service's error name (`'Error'` when there is none), for logs and
 *    comparisons: `errorName(e) === 'ResourceNotFoundException'`.
 *  - `isRetryable(error)`: throttling, 5xx and network errors, never a fault of the request itself;
 *    everything else (access denied, invalid parameter, limit exceeded, not found, in use) is
 *    permanent. `withRetry` (retry.ts) retries exactly these unless given its own `retryIf`.
 *  - `isConditionFailure(error)`: a DynamoDB conditional write refused (ConditionalCheckFailedException),
 *    whatever client threw it (lease.ts's take/extend/release and enrolment's revision checks).
 * The retrying `send()` wrapper built on these lives in retry.ts (`retryingSend`): it needs the
 * retry, and the retry needs `isRetryable`, so it cannot live here without a cycle.
 */

/** Error names that mean "slow down" or "try again": never a fault of the request itself. */
const RETRYABLE_NAMES = new Set([
  'ThrottlingException',
  'Throttling',
  'TooManyRequestsException',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'ClientLimitExceededException', // Kinesis Video Streams' throttling
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

export function errorName(error: unknown): string {
  return (error as AwsLikeError | undefined)?.name ?? 'Error';
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

/** A DynamoDB conditional write was refused: the item is not in the state the write required. */
export function isConditionFailure(error: unknown): boolean {
  return errorName(error) === 'ConditionalCheckFailedException';
}
