/**
 * The Rekognition stream processor calls the handler makes, each with its failure modes: transient
 * errors (throttling, 5xx, network) are retried with backoff; the states a call may legitimately
 * meet (in use, not found) are answers, not errors; every other error fails with the operation,
 * the processor and the service's words.
 */
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
import { errorName } from '../shared/errors';
import { retryingSend } from '../shared/retry';
import { logger } from './logging';
import { ProcessorProperties, ProcessorTag } from './properties';

/** Created once per container. Retries are ours (see retry.ts), so the SDK makes one attempt. */
const rekognition = new RekognitionClient({ maxAttempts: 1 });

export type Status = 'STOPPED' | 'STARTING' | 'RUNNING' | 'FAILED' | 'STOPPING' | 'UPDATING';
export type Processor = DescribeStreamProcessorCommandOutput;

/** Statuses that end by themselves: the processor is busy and refuses start, stop, update and delete. */
export const TRANSITIONAL: ReadonlySet<string> = new Set(['STARTING', 'STOPPING', 'UPDATING']);

export const isNotFound = (error: unknown) => errorName(error) === 'ResourceNotFoundException';
export const isInUse = (error: unknown) => errorName(error) === 'ResourceInUseException';

/** A permanent service error, worded so that the deployment fails with the operation and the service's words. */
export function serviceError(operation: string, name: string, error: unknown): Error {
  const e = error as { name?: string; message?: string };
  return new Error(`${operation} for stream processor "${name}" failed: ${e.name ?? 'Error'}: ${e.message ?? String(error)}`);
}

const send = retryingSend(logger);

/** The processor, or undefined when there is none of that name. */
export async function describe(name: string): Promise<Processor | undefined> {
  try {
    return await send('DescribeStreamProcessor', () => rekognition.send(new DescribeStreamProcessorCommand({ Name: name })));
  } catch (error) {
    if (isNotFound(error)) {
      return undefined;
    }
    throw serviceError('DescribeStreamProcessor', name, error);
  }
}

function tagMap(tags: ProcessorTag[]): Record<string, string> | undefined {
  return tags.length > 0 ? Object.fromEntries(tags.map((t) => [t.Key, t.Value])) : undefined;
}

/** Creates the processor; the ARN, or undefined when a processor of that name already exists. */
export async function create(name: string, props: ProcessorProperties): Promise<string | undefined> {
  try {
    const output = await send('CreateStreamProcessor', () =>
      rekognition.send(
        new CreateStreamProcessorCommand({
          Name: name,
          Input: { KinesisVideoStream: { Arn: props.KinesisVideoStreamArn } },
          Output: { KinesisDataStream: { Arn: props.KinesisDataStreamArn } },
          RoleArn: props.RoleArn,
          Settings: { FaceSearch: { CollectionId: props.CollectionId, FaceMatchThreshold: props.FaceMatchThreshold } },
          DataSharingPreference: { OptIn: props.DataSharing },
          Tags: tagMap(props.Tags),
        }),
      ),
    );
    return output.StreamProcessorArn ?? '';
  } catch (error) {
    if (isInUse(error)) {
      return undefined;
    }
    throw serviceError('CreateStreamProcessor', name, error);
  }
}

/** Starts the processor; false when it is not in a state that can start (already starting, running, busy). */
export async function start(name: string): Promise<boolean> {
  try {
    await send('StartStreamProcessor', () => rekognition.send(new StartStreamProcessorCommand({ Name: name })));
    logger.info('starting stream processor', { name });
    return true;
  } catch (error) {
    if (isInUse(error)) {
      logger.info('stream processor cannot start now', { name });
      return false;
    }
    throw serviceError('StartStreamProcessor', name, error);
  }
}

/** Stops the processor; false when it is gone or not RUNNING. */
export async function stop(name: string): Promise<boolean> {
  try {
    await send('StopStreamProcessor', () => rekognition.send(new StopStreamProcessorCommand({ Name: name })));
    logger.info('stopping stream processor', { name });
    return true;
  } catch (error) {
    if (isNotFound(error) || isInUse(error)) {
      logger.info('stream processor cannot stop now', { name, error: errorName(error) });
      return false;
    }
    throw serviceError('StopStreamProcessor', name, error);
  }
}

/** Deletes the processor: 'deleted', 'gone' (there was none) or 'busy' (not STOPPED or FAILED yet). */
export async function remove(name: string): Promise<'deleted' | 'gone' | 'busy'> {
  try {
    await send('DeleteStreamProcessor', () => rekognition.send(new DeleteStreamProcessorCommand({ Name: name })));
    logger.info('deleted stream processor', { name });
    return 'deleted';
  } catch (error) {
    if (isNotFound(error)) {
      return 'gone';
    }
    if (isInUse(error)) {
      return 'busy';
    }
    throw serviceError('DeleteStreamProcessor', name, error);
  }
}

/** Sets DataSharingPreference; false when the processor is busy. */
export async function updateDataSharing(name: string, optIn: boolean): Promise<boolean> {
  try {
    await send('UpdateStreamProcessor', () =>
      rekognition.send(new UpdateStreamProcessorCommand({ Name: name, DataSharingPreferenceForUpdate: { OptIn: optIn } })),
    );
    logger.info('updated data sharing', { name, optIn });
    return true;
  } catch (error) {
    if (isInUse(error)) {
      return false;
    }
    throw serviceError('UpdateStreamProcessor', name, error);
  }
}

export async function tag(name: string, arn: string, tags: ProcessorTag[]): Promise<void> {
  const map = tagMap(tags);
  if (!map || !arn) {
    return;
  }
  try {
    await send('TagResource', () => rekognition.send(new TagResourceCommand({ ResourceArn: arn, Tags: map })));
  } catch (error) {
    throw serviceError('TagResource', name, error);
  }
}

export async function untag(name: string, arn: string, keys: string[]): Promise<void> {
  if (keys.length === 0 || !arn) {
    return;
  }
  try {
    await send('UntagResource', () => rekognition.send(new UntagResourceCommand({ ResourceArn: arn, TagKeys: keys })));
  } catch (error) {
    throw serviceError('UntagResource', name, error);
  }
}
