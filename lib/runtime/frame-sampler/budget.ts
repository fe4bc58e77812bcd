/**
 * One Rekognition call budget per operation, shared by every camera and invocation of the stack:
 * a token bucket in the state table (row `budget|<Operation>`), taken with conditional writes, and
 * AIMD on its rate:
 *  - the bucket refills at `rate` calls per second and holds at most max(1, rate) tokens (a one-second
 *    burst); each call takes one token; a caller finding none waits until one is due;
 *  - additive increase: every granted call raises the rate by INCREASE_STEP, up to the ceiling
 *    (REKOGNITION_TPS, the default quota of most Regions unless configured);
 *  - multiplicative decrease: a ThrottlingException or ProvisionedThroughputExceededException
 *    halves the rate (not below MIN_RATE) and empties the bucket, for every sampler at once; the
 *    throttled caller then backs off (capped exponential, jitter) before it asks for a token again.
 * So throttling slows every camera together instead of each retrying on its own: never a storm.
 */
import { GetItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { dynamodb } from './clients';
import { settings } from './config';

export const INCREASE_STEP = 0.05;
export const MIN_RATE = 0.2;

/** The budget could not grant a call before the invocation's deadline. */
export class OutOfTime extends Error {}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const isConditionFailure = (error: unknown) => (error as Error)?.name === 'ConditionalCheckFailedException';

interface Bucket {
  tokens: number;
  at: number;
  rate: number;
  version: number;
}

async function read(operation: string): Promise<Bucket | undefined> {
  const { Item } = await dynamodb.send(new GetItemCommand({ TableName: settings.budgetTable, Key: { pk: { S: `budget|${operation}` } }, ConsistentRead: true }));
  if (!Item) {
    return undefined;
  }
  const n = (k: string) => Number(Item[k]?.N ?? NaN);
  return { tokens: n('tokens'), at: n('at'), rate: n('rate'), version: n('version') };
}

async function write(operation: string, next: Bucket, expectedVersion: number | undefined): Promise<boolean> {
  try {
    await dynamodb.send(
      new UpdateItemCommand({
        TableName: settings.budgetTable,
        Key: { pk: { S: `budget|${operation}` } },
        UpdateExpression: 'SET #tokens = :tokens, #at = :at, #rate = :rate, #version = :next',
        ConditionExpression: expectedVersion === undefined ? 'attribute_not_exists(#version)' : '#version = :version',
        ExpressionAttributeNames: { '#tokens': 'tokens', '#at': 'at', '#rate': 'rate', '#version': 'version' },
        ExpressionAttributeValues: {
          ':tokens': { N: String(next.tokens) },
          ':at': { N: String(next.at) },
          ':rate': { N: String(next.rate) },
          ':next': { N: String(next.version) },
          ...(expectedVersion === undefined ? {} : { ':version': { N: String(expectedVersion) } }),
        },
      }),
    );
    return true;
  } catch (error) {
    if (isConditionFailure(error)) {
      return false;
    }
    throw error;
  }
}

/** Takes one token of `operation`'s bucket, waiting for it; throws OutOfTime past `deadline`. */
export async function takeToken(operation: string, deadline: number): Promise<void> {
  const ceiling = Math.max(MIN_RATE, settings.rekognitionTps);
  for (;;) {
    const now = Date.now();
    const bucket = await read(operation);
    const rate = Math.min(ceiling, bucket && bucket.rate > 0 ? bucket.rate : ceiling);
    const capacity = Math.max(1, rate);
    const tokens = bucket ? Math.min(capacity, bucket.tokens + (Math.max(0, now - bucket.at) / 1000) * rate) : capacity;
    if (tokens >= 1) {
      const next = { tokens: tokens - 1, at: now, rate: Math.min(ceiling, rate + INCREASE_STEP), version: (bucket?.version ?? 0) + 1 };
      if (await write(operation, next, bucket?.version)) {
        return;
      }
      continue; // another sampler took a token meanwhile: read again
    }
    const waitMs = Math.ceil(((1 - tokens) / rate) * 1000);
    if (now + waitMs > deadline) {
      throw new OutOfTime(`no ${operation} budget before the invocation's deadline`);
    }
    await sleep(waitMs);
  }
}

/** Multiplicative decrease after a throttling error: halves the shared rate and empties the bucket. */
export async function throttled(operation: string): Promise<void> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const bucket = await read(operation);
    const rate = Math.max(MIN_RATE, (bucket?.rate ?? settings.rekognitionTps) / 2);
    if (await write(operation, { tokens: 0, at: Date.now(), rate, version: (bucket?.version ?? 0) + 1 }, bucket?.version)) {
      return;
    }
  }
}
