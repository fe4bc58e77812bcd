/**
 * Live mode's hand-over: a follower near the end of its invocation starts its successor with an
 * asynchronous Lambda Invoke of its own function (REST `POST /2015-03-31/functions/<name>/invocations`,
 * `X-Amz-Invocation-Type: Event`), signed by signed.ts, retried and logged by the shared
 * `retryingSend` (TooManyRequestsException, 5xx, network errors). The successor's event is the
 * camera's input and the request id it takes the lease from (state.ts registerSuccessor /
 * handOverLease: shared/lease.ts's hand-over).
 */
import { retryingSend } from '../shared/retry';
import { logger } from './clients';
import type { CameraInput, FollowerEvent } from './config';
import { region, signedPost } from './signed';

const send = retryingSend(logger);

async function lambdaEndpoint(): Promise<URL> {
  const configured = process.env.AWS_ENDPOINT_URL_LAMBDA || process.env.AWS_ENDPOINT_URL;
  if (configured) {
    return new URL(configured);
  }
  const r = await region();
  return new URL(`https://lambda.${r}.${r.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com'}`);
}

/** Starts the successor of `owner` (asynchronously: the call returns once Lambda queued it). */
export async function invokeSuccessor(functionName: string, input: CameraInput, owner: string): Promise<void> {
  const endpoint = await lambdaEndpoint();
  const event: FollowerEvent = { ...input, handOverFrom: owner };
  await send('Invoke', () =>
    signedPost('lambda', endpoint, `/2015-03-31/functions/${encodeURIComponent(functionName)}/invocations`, JSON.stringify(event), { 'x-amz-invocation-type': 'Event' }),
  );
}
