/**
 * Custom resource handler for `Custom::RekognitionStreamProcessor`, run by the aws-cdk-lib
 * `custom_resources.Provider` framework: `onEvent` begins the request (lifecycle.ts), `isComplete`
 * reconciles the processor with the desired state one step per poll (reconcile.ts) and ends with
 * RUNNING or STOPPED, or gone on delete. CloudFormation cannot start or stop a Rekognition stream
 * processor, and a stopped processor analyses nothing: that is why this handler owns the whole
 * lifecycle. The README's "Handler contract" documents the events and answers.
 */
import type { Context } from 'aws-lambda';
import { onEventRequest } from './lifecycle';
import { begin, logger } from './logging';
import { isCompleteRequest } from './reconcile';
import { IsCompleteRequest, IsCompleteResponse, OnEventRequest, OnEventResponse } from './types';

export type { IsCompleteRequest, IsCompleteResponse, OnEventRequest, OnEventResponse } from './types';

/** Time a clean-up may take: what is left of the invocation less a margin, or 90 s outside Lambda. */
function budget(context?: Context): number {
  const left = context?.getRemainingTimeInMillis?.();
  return left === undefined ? 90_000 : Math.max(0, left - 15_000);
}

export async function onEvent(event: OnEventRequest, context?: Context): Promise<OnEventResponse> {
  begin(context);
  try {
    return await onEventRequest(event, budget(context));
  } catch (error) {
    logger.error('onEvent failed', { requestType: event.RequestType, error: (error as Error).message });
    throw error;
  }
}

export async function isComplete(event: IsCompleteRequest, context?: Context): Promise<IsCompleteResponse> {
  begin(context);
  try {
    return await isCompleteRequest(event, budget(context));
  } catch (error) {
    logger.error('isComplete failed', { requestType: event.RequestType, error: (error as Error).message });
    throw error;
  }
}
