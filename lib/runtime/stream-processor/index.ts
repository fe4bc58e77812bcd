/**
 * Custom resource handler for `Custom::RekognitionStreamProcessor`, run by the aws-cdk-lib
 * `custom_resources.Provider` framework: `onEvent` issues the API calls, `isComplete` waits until
 * the processor reaches the state the template asks for (RUNNING or STOPPED), or is gone on delete.
 *
 * CloudFormation cannot start or stop a Rekognition stream processor, and a stopped processor
 * analyses nothing; that is why this handler owns the whole lifecycle.
 */
import { createHash } from 'node:crypto';
import {
  CreateStreamProcessorCommand,
  DeleteStreamProcessorCommand,
  DescribeStreamProcessorCommand,
  DescribeStreamProcessorCommandOutput,
  RekognitionClient,
  StartStreamProcessorCommand,
  StopStreamProcessorCommand,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateStreamProcessorCommand,
} from '@aws-sdk/client-rekognition';
import { log } from '../shared/log';
import { errorName, retryOptionsFromEnv, withRetry } from '../shared/retry';
import { DEFAULT_WAIT_TIMEOUT_SECONDS, NAME_PATTERN, ProcessorProperties, ProcessorTag, readProperties, replacementChanges } from './properties';

/** Created once per container. Retries are ours (see retry.ts), so the SDK makes one attempt. */
const rekognition = new RekognitionClient({ maxAttempts: 1 });

export interface CloudFormationEvent {
  readonly RequestType: 'Create' | 'Update' | 'Delete';
  readonly RequestId: string;
  readonly StackId: string;
  readonly LogicalResourceId: string;
  readonly ResourceType?: string;
  readonly PhysicalResourceId?: string;
  readonly ResourceProperties: Record<string, unknown>;
  readonly OldResourceProperties?: Record<string, unknown>;
}

/** What onEvent returns; the provider framework merges it into the event given to isComplete. */
export interface OnEventResponse {
  readonly PhysicalResourceId: string;
  readonly Data?: Record<string, string>;
  /** Epoch milliseconds after which isComplete gives up with an error naming the stuck state. */
  readonly WaitDeadline: number;
}

export interface IsCompleteEvent extends CloudFormationEvent {
  readonly PhysicalResourceId: string;
  readonly WaitDeadline?: number;
  readonly Data?: Record<string, string>;
}

export interface IsCompleteResponse {
  readonly IsComplete: boolean;
  readonly Data?: Record<string, string>;
}

type Status = 'STOPPED' | 'STARTING' | 'RUNNING' | 'FAILED' | 'STOPPING' | 'UPDATING';

async function call<T>(operation: string, fn: () => Promise<T>): Promise<T> {
  return withRetry(operation, fn, retryOptionsFromEnv(), (op, attempt, error, delayMs) =>
    log('WARN', 'retrying after a transient error', { operation: op, attempt, error: errorName(error), delayMs }),
  );
}

/** Wraps a permanent service error so the deployment fails with the operation and service's words. */
function serviceError(operation: string, name: string, error: unknown): Error {
  const e = error as { name?: string; message?: string };
  return new Error(`${operation} for stream processor "${name}" failed: ${e.name ?? 'Error'}: ${e.message ?? String(error)}`);
}

const isNotFound = (error: unknown) => errorName(error) === 'ResourceNotFoundException';
const isInUse = (error: unknown) => errorName(error) === 'ResourceInUseException';

async function describe(name: string): Promise<DescribeStreamProcessorCommandOutput | undefined> {
  try {
    return await call('DescribeStreamProcessor', () => rekognition.send(new DescribeStreamProcessorCommand({ Name: name })));
  } catch (error) {
    if (isNotFound(error)) {
      return undefined;
    }
    throw serviceError('DescribeStreamProcessor', name, error);
  }
}

/**
 * A deterministic name for a processor created by this request: the same request retried gets the
 * same name (so a retried create adopts its own processor), a replacement gets a new one.
 */
export function generatedName(event: CloudFormationEvent, prefix: string): string {
  // without a NamePrefix, the logical id (its characters outside the name pattern dropped)
  prefix = prefix || (event.LogicalResourceId ?? '').replace(/[^a-zA-Z0-9_.\-]/g, '').slice(0, 100) || 'StreamProcessor';
  const hash = createHash('sha256')
    .update(`${event.StackId}|${event.LogicalResourceId}|${event.RequestId}`)
    .digest('hex')
    .slice(0, 12);
  return `${prefix.slice(0, 128 - 13)}-${hash}`;
}

/** Differences between an existing processor and the settings asked for, in words. */
function settingDifferences(existing: DescribeStreamProcessorCommandOutput, wanted: ProcessorProperties): string[] {
  const differences: string[] = [];
  const compare = (what: string, actual: unknown, expected: unknown) => {
    if (actual !== expected) {
      differences.push(`${what} is ${JSON.stringify(actual)}, wanted ${JSON.stringify(expected)}`);
    }
  };
  compare('Input.KinesisVideoStream.Arn', existing.Input?.KinesisVideoStream?.Arn, wanted.KinesisVideoStreamArn);
  compare('Output.KinesisDataStream.Arn', existing.Output?.KinesisDataStream?.Arn, wanted.KinesisDataStreamArn);
  compare('RoleArn', existing.RoleArn, wanted.RoleArn);
  compare('Settings.FaceSearch.CollectionId', existing.Settings?.FaceSearch?.CollectionId, wanted.CollectionId);
  compare('Settings.FaceSearch.FaceMatchThreshold', existing.Settings?.FaceSearch?.FaceMatchThreshold ?? 80, wanted.FaceMatchThreshold);
  return differences;
}

function deadline(props: ProcessorProperties): number {
  return Date.now() + props.WaitTimeoutSeconds * 1000;
}

async function start(name: string): Promise<void> {
  try {
    await call('StartStreamProcessor', () => rekognition.send(new StartStreamProcessorCommand({ Name: name })));
    log('INFO', 'started stream processor', { name });
  } catch (error) {
    if (isInUse(error)) {
      // already STARTING or RUNNING: isComplete waits for RUNNING
      log('INFO', 'stream processor already starting or running', { name });
      return;
    }
    throw serviceError('StartStreamProcessor', name, error);
  }
}

async function stop(name: string): Promise<void> {
  try {
    await call('StopStreamProcessor', () => rekognition.send(new StopStreamProcessorCommand({ Name: name })));
    log('INFO', 'stopping stream processor', { name });
  } catch (error) {
    if (isNotFound(error) || isInUse(error)) {
      // gone, or not in a state that can be stopped yet (STARTING, STOPPING): isComplete handles it
      log('INFO', 'stream processor could not be stopped now', { name, error: errorName(error) });
      return;
    }
    throw serviceError('StopStreamProcessor', name, error);
  }
}

async function tag(name: string, arn: string, tags: ProcessorTag[]): Promise<void> {
  if (tags.length === 0) {
    return;
  }
  const map = Object.fromEntries(tags.map((t) => [t.Key, t.Value]));
  try {
    await call('TagResource', () => rekognition.send(new TagResourceCommand({ ResourceArn: arn, Tags: map })));
  } catch (error) {
    throw serviceError('TagResource', name, error);
  }
}

async function untag(name: string, arn: string, keys: string[]): Promise<void> {
  if (keys.length === 0) {
    return;
  }
  try {
    await call('UntagResource', () => rekognition.send(new UntagResourceCommand({ ResourceArn: arn, TagKeys: keys })));
  } catch (error) {
    throw serviceError('UntagResource', name, error);
  }
}

/** Best-effort removal of a processor this request created but could not finish setting up. */
async function cleanUp(name: string): Promise<void> {
  try {
    await rekognition.send(new StopStreamProcessorCommand({ Name: name })).catch(() => undefined);
    await rekognition.send(new DeleteStreamProcessorCommand({ Name: name }));
    log('INFO', 'removed the half-created stream processor', { name });
  } catch (error) {
    log('WARN', 'could not remove the half-created stream processor; CloudFormation rollback will', { name, error });
  }
}

async function create(event: CloudFormationEvent, props: ProcessorProperties, fixedName?: string): Promise<OnEventResponse> {
  const name = fixedName ?? props.Name ?? generatedName(event, props.NamePrefix);
  let arn: string | undefined;
  let created = false;
  try {
    const output = await call('CreateStreamProcessor', () =>
      rekognition.send(
        new CreateStreamProcessorCommand({
          Name: name,
          Input: { KinesisVideoStream: { Arn: props.KinesisVideoStreamArn } },
          Output: { KinesisDataStream: { Arn: props.KinesisDataStreamArn } },
          RoleArn: props.RoleArn,
          Settings: { FaceSearch: { CollectionId: props.CollectionId, FaceMatchThreshold: props.FaceMatchThreshold } },
          DataSharingPreference: { OptIn: props.DataSharing },
          Tags: props.Tags.length > 0 ? Object.fromEntries(props.Tags.map((t) => [t.Key, t.Value])) : undefined,
        }),
      ),
    );
    arn = output.StreamProcessorArn;
    created = true;
    log('INFO', 'created stream processor', { name, arn });
  } catch (error) {
    if (!isInUse(error)) {
      throw serviceError('CreateStreamProcessor', name, error);
    }
    // A retried create finds the processor of its first attempt, or a name clash with another one.
    const existing = await describe(name);
    if (!existing) {
      throw serviceError('CreateStreamProcessor', name, error);
    }
    const differences = settingDifferences(existing, props);
    if (differences.length > 0) {
      throw new Error(
        `A stream processor named "${name}" already exists with other settings (${differences.join('; ')}). ` +
          'It was not adopted. Delete it, or give this processor another name.',
      );
    }
    arn = existing.StreamProcessorArn;
    log('INFO', 'adopted an existing stream processor with matching settings', { name, arn });
    if (arn) {
      await tag(name, arn, props.Tags);
    }
  }

  try {
    if (props.Running) {
      await start(name);
    }
  } catch (error) {
    if (created) {
      await cleanUp(name);
    }
    throw error;
  }
  return { PhysicalResourceId: name, Data: { Name: name, Arn: arn ?? '' }, WaitDeadline: deadline(props) };
}

async function update(event: CloudFormationEvent, props: ProcessorProperties): Promise<OnEventResponse> {
  const name = event.PhysicalResourceId!;
  const before = readProperties(event.OldResourceProperties);
  const changes = replacementChanges(before, props);
  if (changes.length > 0) {
    if (props.Name !== undefined && props.Name === before.Name) {
      throw new Error(
        `Cannot change ${changes.join(', ')} of stream processor "${name}": Rekognition cannot update these settings in place, ` +
          'so a new processor is needed, and its name is fixed by streamProcessorName. Change streamProcessorName too ' +
          '(or remove it to let the name be generated) to replace the processor.',
      );
    }
    log('INFO', 'replacing stream processor', { name, changes });
    return create(event, props);
  }

  const existing = await describe(name);
  if (!existing) {
    // deleted out of band: put it back under the same name
    log('WARN', 'stream processor not found on update; creating it again', { name });
    return create(event, props, name);
  }
  const arn = existing.StreamProcessorArn ?? '';
  const status = existing.Status as Status | undefined;

  if (!props.Running && (status === 'RUNNING' || status === 'STARTING')) {
    await stop(name);
  }
  if (before.DataSharing !== props.DataSharing) {
    try {
      await call('UpdateStreamProcessor', () =>
        rekognition.send(new UpdateStreamProcessorCommand({ Name: name, DataSharingPreferenceForUpdate: { OptIn: props.DataSharing } })),
      );
    } catch (error) {
      throw serviceError('UpdateStreamProcessor', name, error);
    }
  }
  const wanted = new Map(props.Tags.map((t) => [t.Key, t.Value]));
  const removed = before.Tags.filter((t) => !wanted.has(t.Key)).map((t) => t.Key);
  const previous = new Map(before.Tags.map((t) => [t.Key, t.Value]));
  const addedOrChanged = props.Tags.filter((t) => previous.get(t.Key) !== t.Value);
  await untag(name, arn, removed);
  await tag(name, arn, addedOrChanged);
  if (props.Running && (status === 'STOPPED' || status === 'FAILED')) {
    await start(name);
  }
  return { PhysicalResourceId: name, Data: { Name: name, Arn: arn }, WaitDeadline: deadline(props) };
}

async function remove(event: CloudFormationEvent, props: ProcessorProperties | undefined): Promise<OnEventResponse> {
  const name = event.PhysicalResourceId ?? '';
  const waitDeadline = Date.now() + (props?.WaitTimeoutSeconds ?? DEFAULT_WAIT_TIMEOUT_SECONDS) * 1000;
  if (!NAME_PATTERN.test(name)) {
    // a create that failed before naming a processor: nothing was made
    log('INFO', 'nothing to delete: the physical id is not a processor name', { name });
    return { PhysicalResourceId: name, WaitDeadline: waitDeadline };
  }
  const existing = await describe(name);
  if (existing && (existing.Status === 'RUNNING' || existing.Status === 'STARTING')) {
    await stop(name);
  }
  return { PhysicalResourceId: name, WaitDeadline: waitDeadline };
}

export async function onEvent(event: CloudFormationEvent): Promise<OnEventResponse> {
  log('INFO', 'onEvent', {
    requestType: event.RequestType,
    logicalResourceId: event.LogicalResourceId,
    physicalResourceId: event.PhysicalResourceId,
  });
  switch (event.RequestType) {
    case 'Create':
      return create(event, readProperties(event.ResourceProperties));
    case 'Update':
      return update(event, readProperties(event.ResourceProperties));
    case 'Delete': {
      let props: ProcessorProperties | undefined;
      try {
        props = readProperties(event.ResourceProperties);
      } catch {
        props = undefined; // a delete never fails on properties it does not need
      }
      return remove(event, props);
    }
    default:
      throw new Error(`Unknown RequestType ${JSON.stringify((event as { RequestType?: unknown }).RequestType)}`);
  }
}

/**
 * Past the wait deadline: the one onEvent set, or, for a caller that did not pass onEvent's answer
 * on, WaitTimeoutSeconds after the processor's last status change.
 */
function timedOut(event: IsCompleteEvent, existing?: DescribeStreamProcessorCommandOutput): boolean {
  if (typeof event.WaitDeadline === 'number') {
    return Date.now() > event.WaitDeadline;
  }
  const since = existing?.LastUpdateTimestamp?.getTime() ?? existing?.CreationTimestamp?.getTime();
  const seconds = Number((event.ResourceProperties ?? {}).WaitTimeoutSeconds ?? DEFAULT_WAIT_TIMEOUT_SECONDS);
  return since !== undefined && Date.now() > since + seconds * 1000;
}

function waitSeconds(event: IsCompleteEvent): string {
  const props = event.ResourceProperties ?? {};
  return String(props.WaitTimeoutSeconds ?? DEFAULT_WAIT_TIMEOUT_SECONDS);
}

async function deleteComplete(event: IsCompleteEvent): Promise<IsCompleteResponse> {
  const name = event.PhysicalResourceId;
  if (!NAME_PATTERN.test(name)) {
    return { IsComplete: true };
  }
  const existing = await describe(name);
  if (!existing) {
    log('INFO', 'stream processor is gone', { name });
    return { IsComplete: true };
  }
  const status = existing.Status as Status | undefined;
  if (status === 'STOPPED' || status === 'FAILED') {
    try {
      await call('DeleteStreamProcessor', () => rekognition.send(new DeleteStreamProcessorCommand({ Name: name })));
      log('INFO', 'deleted stream processor', { name });
      return { IsComplete: true };
    } catch (error) {
      if (isNotFound(error)) {
        return { IsComplete: true };
      }
      if (!isInUse(error)) {
        throw serviceError('DeleteStreamProcessor', name, error);
      }
    }
  } else if (status === 'RUNNING') {
    await stop(name);
  }
  if (timedOut(event, existing)) {
    throw new Error(
      `Timed out after ${waitSeconds(event)}s waiting to delete stream processor "${name}": it is still ${status}` +
        (existing.StatusMessage ? ` (${existing.StatusMessage})` : '') +
        '. Stop and delete it with the Rekognition API, then retry.',
    );
  }
  return { IsComplete: false };
}

export async function isComplete(event: IsCompleteEvent): Promise<IsCompleteResponse> {
  if (event.RequestType === 'Delete') {
    return deleteComplete(event);
  }
  const props = readProperties(event.ResourceProperties);
  const name = event.PhysicalResourceId;
  const desired: Status = props.Running ? 'RUNNING' : 'STOPPED';
  const existing = await describe(name);
  if (!existing) {
    throw new Error(`Stream processor "${name}" no longer exists while waiting for it to become ${desired}`);
  }
  const status = existing.Status as Status | undefined;
  log('INFO', 'isComplete', { name, status, desired });
  if (status === desired) {
    return {
      IsComplete: true,
      Data: { Name: name, Arn: existing.StreamProcessorArn ?? event.Data?.Arn ?? '', Status: status },
    };
  }
  // Reconcile a stable state that is not the desired one (for example STOPPED after an UPDATING
  // phase that made StartStreamProcessor answer "in use"): the calls are idempotent.
  if (status === 'STOPPED' && desired === 'RUNNING') {
    await start(name);
  } else if (status === 'RUNNING' && desired === 'STOPPED') {
    await stop(name);
  }
  if (status === 'FAILED') {
    throw new Error(
      `Stream processor "${name}" is FAILED: ${existing.StatusMessage ?? 'Rekognition gave no status message'}. ` +
        'Check that the service role can read the video stream and write to the data stream, and that the collection exists.',
    );
  }
  if (timedOut(event, existing)) {
    throw new Error(
      `Timed out after ${waitSeconds(event)}s waiting for stream processor "${name}" to become ${desired}: it is still ${status}` +
        (existing.StatusMessage ? ` (${existing.StatusMessage})` : ''),
    );
  }
  return { IsComplete: false };
}

/** A processor the health check watches: its name and its camera. */
interface WatchedProcessor {
  readonly name: string;
  readonly camera: string;
}

/**
 * Scheduled health check: reads each processor's status and publishes it as CloudWatch metrics
 * (embedded metric format in the log, so no cloudwatch:PutMetricData, whose resource can only be
 * "*"): StreamProcessorFailed (1 when FAILED) and StreamProcessorRunning (1 when RUNNING), with a
 * StreamProcessor dimension. A processor that went FAILED after the deployment becomes an alarm.
 */
export async function health(): Promise<{ statuses: Record<string, string> }> {
  const processors = JSON.parse(process.env.PROCESSORS ?? '[]') as WatchedProcessor[];
  const namespace = process.env.METRICS_NAMESPACE ?? 'FaceStreamPipeline';
  const statuses: Record<string, string> = {};
  for (const p of processors) {
    let status = 'UNKNOWN';
    let message: string | undefined;
    try {
      const d = await describe(p.name);
      status = d?.Status ?? 'MISSING';
      message = d?.StatusMessage;
    } catch (error) {
      log('WARN', 'could not read the stream processor status', { name: p.name, error });
    }
    statuses[p.name] = status;
    const emf = {
      _aws: {
        Timestamp: Date.now(),
        CloudWatchMetrics: [
          {
            Namespace: namespace,
            Dimensions: [['StreamProcessor']],
            Metrics: [
              { Name: 'StreamProcessorFailed', Unit: 'Count' },
              { Name: 'StreamProcessorRunning', Unit: 'Count' },
            ],
          },
        ],
      },
      StreamProcessor: p.name,
      camera: p.camera,
      status,
      statusMessage: message,
      // MISSING (deleted out of band) counts as failed: nothing analyses that camera any more
      StreamProcessorFailed: status === 'FAILED' || status === 'MISSING' ? 1 : 0,
      StreamProcessorRunning: status === 'RUNNING' ? 1 : 0,
    };
    console.log(JSON.stringify(emf));
  }
  return { statuses };
}
