/**
 * Removing a processor: stop it when RUNNING, wait while it is busy, delete it once STOPPED or
 * FAILED (DeleteStreamProcessor refuses any other status). One step per call, so that the delete
 * of a resource advances one step per isComplete poll, and a bounded loop of the same steps for the
 * clean-up of what a failed request created.
 */
import { backoff, retryOptionsFromEnv } from '../shared/retry';
import { logger } from './logging';
import * as api from './rekognition';

/** Where a removal stands after one step. */
export interface RemovalStep {
  readonly done: boolean;
  /** The processor as it was read (undefined once it is gone). */
  readonly processor?: api.Processor;
}

/** One step towards removing the processor. */
export async function removalStep(name: string): Promise<RemovalStep> {
  const existing = await api.describe(name);
  if (!existing) {
    logger.info('stream processor is gone', { name });
    return { done: true };
  }
  const status = existing.Status;
  if (status === 'STOPPED' || status === 'FAILED') {
    const outcome = await api.remove(name);
    if (outcome !== 'busy') {
      return { done: true };
    }
  } else if (status === 'RUNNING') {
    await api.stop(name);
  }
  return { done: false, processor: existing };
}

/**
 * Removes a processor this request created but could not finish, before the request fails:
 * waits (with backoff) through STARTING and STOPPING, stops, deletes, retrying throttling.
 * Returns undefined when it is gone, or why it could not be removed within `budgetMs`.
 */
export async function removeCreated(name: string, budgetMs: number): Promise<string | undefined> {
  const deadline = Date.now() + budgetMs;
  const options = retryOptionsFromEnv();
  for (let attempt = 1; ; attempt++) {
    let step: RemovalStep;
    try {
      step = await removalStep(name);
    } catch (error) {
      logger.warn('could not remove the stream processor this request created', { name, error: String(error) });
      return String((error as Error).message ?? error);
    }
    if (step.done) {
      logger.info('removed the stream processor this request created', { name });
      return undefined;
    }
    if (Date.now() >= deadline) {
      return `it is still ${step.processor?.Status}`;
    }
    await backoff(Math.min(attempt, 6), options);
  }
}

/**
 * The error of a request that created a processor and then failed: the reason, plus a word on the
 * clean-up when it did not succeed.
 */
export async function failAfterCleanup(name: string, reason: Error, budgetMs: number): Promise<Error> {
  const left = await removeCreated(name, budgetMs);
  const said = /[.!?]$/.test(reason.message) ? reason.message : `${reason.message}.`;
  if (left === undefined) {
    return new Error(`${said} The stream processor "${name}" created by this request was deleted.`);
  }
  return new Error(`${said} The stream processor "${name}" created by this request could not be deleted (${left}): delete it with the Rekognition API.`);
}
