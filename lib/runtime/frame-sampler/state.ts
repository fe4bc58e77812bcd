/**
 * The camera's row in the state table: where sampling stopped, the faces being tracked, the last
 * analysed frame's thumbnail, and a lease, so that two overlapping invocations for one camera
 * never both analyse the same span (the schedule fires every minute; an invocation may run late).
 *
 * Row `pk = <stateKey>`:
 *   position     N  epoch ms of the last producer time analysed (every image up to it is done)
 *   tracks       S  JSON of the tracked faces (faces.ts)
 *   thumb        S  base64 of the last analysed frame's luma thumbnail
 *   leaseOwner   S  the invocation (request id) holding the lease
 *   leaseUntil   N  epoch ms the lease expires (the function's timeout: a crashed holder frees it)
 *   stopped      BOOL written by the stop schedule (true) and the start schedule (false)
 *   startedAt    S  ISO time written by the start schedule: sampling resumes there, not earlier
 */
import { GetItemCommand, UpdateItemCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { dynamodb } from './clients';
import { settings } from './config';
import type { Track } from './faces';

export interface CameraState {
  readonly position?: number;
  readonly tracks: Track[];
  readonly thumb?: Uint8Array;
  readonly stopped: boolean;
  readonly startedAt?: number;
}

const isConditionFailure = (error: unknown) => (error as Error)?.name === 'ConditionalCheckFailedException';

/** Takes the lease, or answers undefined when another invocation holds it. */
export async function acquireLease(key: string, owner: string, untilMs: number): Promise<CameraState | undefined> {
  try {
    await dynamodb.send(
      new UpdateItemCommand({
        TableName: settings.stateTable,
        Key: { pk: { S: key } },
        UpdateExpression: 'SET #owner = :owner, #until = :until',
        ConditionExpression: 'attribute_not_exists(#until) OR #until < :now',
        ExpressionAttributeNames: { '#owner': 'leaseOwner', '#until': 'leaseUntil' },
        ExpressionAttributeValues: { ':owner': { S: owner }, ':until': { N: String(untilMs) }, ':now': { N: String(Date.now()) } },
      }),
    );
  } catch (error) {
    if (isConditionFailure(error)) {
      return undefined;
    }
    throw error;
  }
  const { Item } = await dynamodb.send(new GetItemCommand({ TableName: settings.stateTable, Key: { pk: { S: key } }, ConsistentRead: true }));
  return readState(Item ?? {});
}

function readState(item: Record<string, AttributeValue>): CameraState {
  const num = (name: string) => (item[name]?.N !== undefined ? Number(item[name].N) : undefined);
  let tracks: Track[] = [];
  try {
    tracks = item.tracks?.S ? (JSON.parse(item.tracks.S) as Track[]) : [];
  } catch {
    tracks = [];
  }
  const started = item.startedAt?.S ? Date.parse(item.startedAt.S) : NaN;
  return {
    position: num('position'),
    tracks: Array.isArray(tracks) ? tracks : [],
    thumb: item.thumb?.S ? new Uint8Array(Buffer.from(item.thumb.S, 'base64')) : undefined,
    stopped: item.stopped?.BOOL === true,
    startedAt: Number.isFinite(started) ? started : undefined,
  };
}

/** Thrown when the lease was lost (it expired and another invocation took it): stop at once. */
export class LeaseLost extends Error {}

/** Saves progress under the lease (conditional on still holding it) and extends it. */
export async function saveProgress(key: string, owner: string, untilMs: number, position: number, tracks: Track[], thumb?: Uint8Array): Promise<void> {
  const values: Record<string, AttributeValue> = {
    ':owner': { S: owner },
    ':until': { N: String(untilMs) },
    ':position': { N: String(position) },
    ':tracks': { S: JSON.stringify(tracks) },
    ':thumb': { S: thumb ? Buffer.from(thumb).toString('base64') : '' },
  };
  try {
    await dynamodb.send(
      new UpdateItemCommand({
        TableName: settings.stateTable,
        Key: { pk: { S: key } },
        UpdateExpression: 'SET #position = :position, #tracks = :tracks, #thumb = :thumb, #until = :until',
        ConditionExpression: '#owner = :owner',
        ExpressionAttributeNames: { '#position': 'position', '#tracks': 'tracks', '#thumb': 'thumb', '#until': 'leaseUntil', '#owner': 'leaseOwner' },
        ExpressionAttributeValues: values,
      }),
    );
  } catch (error) {
    if (isConditionFailure(error)) {
      throw new LeaseLost(`the lease of ${key} was taken by another invocation`);
    }
    throw error;
  }
}

/** Frees the lease (best effort: it expires anyway). */
export async function releaseLease(key: string, owner: string): Promise<void> {
  try {
    await dynamodb.send(
      new UpdateItemCommand({
        TableName: settings.stateTable,
        Key: { pk: { S: key } },
        UpdateExpression: 'SET #until = :zero',
        ConditionExpression: '#owner = :owner',
        ExpressionAttributeNames: { '#until': 'leaseUntil', '#owner': 'leaseOwner' },
        ExpressionAttributeValues: { ':zero': { N: '0' }, ':owner': { S: owner } },
      }),
    );
  } catch (error) {
    if (!isConditionFailure(error)) {
      throw error;
    }
  }
}
