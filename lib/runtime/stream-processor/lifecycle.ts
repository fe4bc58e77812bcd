/**
 * onEvent: the calls that begin a Create, Update or Delete. Reaching the desired state is
 * isComplete's work (reconcile.ts): onEvent only creates (or adopts), tags, and gives the first
 * start or stop.
 */
import { failAfterCleanup } from './cleanup';
import { logger } from './logging';
import { DEFAULT_WAIT_TIMEOUT_SECONDS, generatedName, NAME_PATTERN, NameSource, ProcessorProperties, readProperties, replacementChanges, storedThreshold } from './properties';
import * as api from './rekognition';
import { OnEventRequest, OnEventResponse } from './types';

/** Differences between an existing processor and the settings asked for, compared as the service stores them. */
export function settingDifferences(existing: api.Processor, wanted: ProcessorProperties): string[] {
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
  compare(
    'Settings.FaceSearch.FaceMatchThreshold',
    storedThreshold(existing.Settings?.FaceSearch?.FaceMatchThreshold),
    storedThreshold(wanted.FaceMatchThreshold),
  );
  return differences;
}

function waitDeadline(props: { WaitTimeoutSeconds: number }): number {
  return Date.now() + props.WaitTimeoutSeconds * 1000;
}

/**
 * Creates the processor, or adopts one of the same name with the same settings: the processor of
 * a retried request's first attempt, or the original one when a rollback returns to its settings.
 */
async function create(source: NameSource, props: ProcessorProperties, budgetMs: number, fixedName?: string): Promise<OnEventResponse> {
  const name = fixedName ?? props.Name ?? generatedName(props, source);
  let arn = await api.create(name, props);
  const created = arn !== undefined;
  if (created) {
    logger.info('created stream processor', { name, arn });
  } else {
    const existing = await api.describe(name);
    if (!existing) {
      throw new Error(`CreateStreamProcessor for stream processor "${name}" failed: ResourceInUseException, but no processor of that name can be found`);
    }
    const differences = settingDifferences(existing, props);
    if (differences.length > 0) {
      throw new Error(
        `A stream processor named "${name}" already exists with other settings (${differences.join('; ')}). ` +
          'It was not adopted. Delete it, or give this processor another name.',
      );
    }
    arn = existing.StreamProcessorArn ?? '';
    logger.info('adopted an existing stream processor with matching settings', { name, arn, status: existing.Status });
    await api.tag(name, arn, props.Tags);
  }
  if (props.Running) {
    try {
      await api.start(name);
    } catch (error) {
      throw created ? await failAfterCleanup(name, error as Error, budgetMs) : error;
    }
  }
  return { PhysicalResourceId: name, Data: { Name: name, Arn: arn ?? '' }, WaitDeadline: waitDeadline(props), Created: created };
}

async function update(event: OnEventRequest & { RequestType: 'Update' }, props: ProcessorProperties, budgetMs: number): Promise<OnEventResponse> {
  const name = event.PhysicalResourceId;
  const before = readProperties(event.OldResourceProperties, 'OldResourceProperties');
  const changes = replacementChanges(before, props, name, event);
  if (changes.length > 0) {
    if (props.Name !== undefined && props.Name === before.Name) {
      throw new Error(
        `Cannot change ${changes.join(', ')} of stream processor "${name}": Rekognition cannot update these settings in place, ` +
          'so a new processor is needed, and its name is fixed by streamProcessorName. Change streamProcessorName too ' +
          '(or remove it to let the name be generated) to replace the processor.',
      );
    }
    logger.info('replacing stream processor', { name, changes });
    return create(event, props, budgetMs);
  }

  const existing = await api.describe(name);
  if (!existing) {
    logger.warn('stream processor not found on update; creating it again', { name });
    return create(event, props, budgetMs, name);
  }
  const arn = existing.StreamProcessorArn ?? '';
  const wanted = new Map(props.Tags.map((t) => [t.Key, t.Value]));
  const previous = new Map(before.Tags.map((t) => [t.Key, t.Value]));
  await api.untag(name, arn, before.Tags.filter((t) => !wanted.has(t.Key)).map((t) => t.Key));
  await api.tag(name, arn, props.Tags.filter((t) => previous.get(t.Key) !== t.Value));
  // The first move towards the desired status; isComplete takes every further step.
  if (props.Running && (existing.Status === 'STOPPED' || existing.Status === 'FAILED')) {
    await api.start(name);
  } else if (!props.Running && existing.Status === 'RUNNING') {
    await api.stop(name);
  }
  return { PhysicalResourceId: name, Data: { Name: name, Arn: arn }, WaitDeadline: waitDeadline(props), Created: false };
}

async function remove(event: OnEventRequest & { RequestType: 'Delete' }): Promise<OnEventResponse> {
  const name = event.PhysicalResourceId;
  let timeout: number | undefined;
  try {
    timeout = readProperties(event.ResourceProperties).WaitTimeoutSeconds;
  } catch {
    // a delete never fails on properties it does not need
  }
  const response = { PhysicalResourceId: name, WaitDeadline: waitDeadline({ WaitTimeoutSeconds: timeout ?? DEFAULT_WAIT_TIMEOUT_SECONDS }) };
  if (!NAME_PATTERN.test(name)) {
    logger.info('nothing to delete: the physical id is not a processor name', { name });
    return response;
  }
  const existing = await api.describe(name);
  if (existing?.Status === 'RUNNING') {
    await api.stop(name);
  }
  return response;
}

export async function onEventRequest(event: OnEventRequest, budgetMs: number): Promise<OnEventResponse> {
  logger.info('onEvent', { requestType: event.RequestType, logicalResourceId: event.LogicalResourceId, physicalResourceId: (event as { PhysicalResourceId?: string }).PhysicalResourceId });
  switch (event.RequestType) {
    case 'Create':
      return create(event, readProperties(event.ResourceProperties), budgetMs);
    case 'Update':
      return update(event, readProperties(event.ResourceProperties), budgetMs);
    case 'Delete':
      return remove(event);
    default:
      throw new Error(`Unknown RequestType ${JSON.stringify((event as { RequestType?: unknown }).RequestType)}`);
  }
}
