/**
 * isComplete: one step per poll towards the desired state, whatever combination of changes the
 * request made. Each poll reads the processor and makes at most one call: nothing while it is
 * busy (STARTING, STOPPING, UPDATING); then data sharing (UpdateStreamProcessor, refused while
 * busy); then start or stop. FAILED satisfies "stopped". On delete: stop, wait, delete.
 */
import { failAfterCleanup, removalStep } from './cleanup';
import { logger } from './logging';
import { DEFAULT_WAIT_TIMEOUT_SECONDS, NAME_PATTERN, readProperties } from './properties';
import * as api from './rekognition';
import { IsCompleteRequest, IsCompleteResponse } from './types';

function timeoutSeconds(event: IsCompleteRequest): string {
  return String((event.ResourceProperties ?? {}).WaitTimeoutSeconds ?? DEFAULT_WAIT_TIMEOUT_SECONDS);
}

/**
 * Past the wait deadline: the one onEvent set, or, for a caller that did not pass onEvent's answer
 * on, WaitTimeoutSeconds after the processor's last status change.
 */
function timedOut(event: IsCompleteRequest, existing?: api.Processor): boolean {
  if (typeof event.WaitDeadline === 'number') {
    return Date.now() > event.WaitDeadline;
  }
  const since = existing?.LastUpdateTimestamp?.getTime() ?? existing?.CreationTimestamp?.getTime();
  return since !== undefined && Date.now() > since + Number(timeoutSeconds(event)) * 1000;
}

function describeState(existing: api.Processor): string {
  return `${existing.Status}${existing.StatusMessage ? ` (${existing.StatusMessage})` : ''}`;
}

async function deleteComplete(event: IsCompleteRequest): Promise<IsCompleteResponse> {
  const name = event.PhysicalResourceId!;
  if (!NAME_PATTERN.test(name)) {
    return { IsComplete: true };
  }
  const step = await removalStep(name);
  if (step.done) {
    return { IsComplete: true };
  }
  if (timedOut(event, step.processor)) {
    throw new Error(
      `Timed out after ${timeoutSeconds(event)}s waiting to delete stream processor "${name}": it is still ${describeState(step.processor!)}` +
        '. Stop and delete it with the Rekognition API, then retry.',
    );
  }
  return { IsComplete: false };
}

export async function isCompleteRequest(event: IsCompleteRequest, budgetMs: number): Promise<IsCompleteResponse> {
  if (event.RequestType === 'Delete') {
    return deleteComplete(event);
  }
  const props = readProperties(event.ResourceProperties);
  const name = event.PhysicalResourceId!;
  const desired = props.Running ? 'RUNNING' : 'STOPPED';
  const existing = await api.describe(name);
  if (!existing) {
    throw new Error(`Stream processor "${name}" no longer exists while waiting for it to become ${desired}`);
  }
  const status = existing.Status ?? 'UNKNOWN';
  const sharing = existing.DataSharingPreference?.OptIn ?? false;
  logger.info('isComplete', { name, status, desired, dataSharing: sharing, wantedDataSharing: props.DataSharing });

  if (status === 'FAILED' && desired === 'RUNNING') {
    const reason = new Error(
      `Stream processor "${name}" is FAILED: ${existing.StatusMessage ?? 'Rekognition gave no status message'}. ` +
        'Check that the service role can read the video stream and write to the data stream, and that the collection exists.',
    );
    throw event.Created ? await failAfterCleanup(name, reason, budgetMs) : reason;
  }
  let reached = false;
  if (!api.TRANSITIONAL.has(status)) {
    if (sharing !== props.DataSharing) {
      await api.updateDataSharing(name, props.DataSharing);
    } else if (desired === 'RUNNING' && status === 'STOPPED') {
      await api.start(name);
    } else if (desired === 'STOPPED' && status === 'RUNNING') {
      await api.stop(name);
    } else {
      // RUNNING, STOPPED, or FAILED when stopped is wanted: a FAILED processor analyses nothing
      reached = status === desired || status === 'FAILED';
    }
  }
  if (reached) {
    return { IsComplete: true, Data: { Name: name, Arn: existing.StreamProcessorArn ?? event.Data?.Arn ?? '', Status: status } };
  }
  if (timedOut(event, existing)) {
    const reason = new Error(`Timed out after ${timeoutSeconds(event)}s waiting for stream processor "${name}" to become ${desired}: it is still ${describeState(existing)}`);
    // one clean-up step only: a processor stuck this long will not settle within this invocation
    throw event.Created ? await failAfterCleanup(name, reason, 0) : reason;
  }
  return { IsComplete: false };
}
