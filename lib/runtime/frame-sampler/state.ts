/**
 * The camera's row in the state table: where sampling stopped, the faces being tracked, the last
 * analysed frame's thumbnail, and a lease, so that two overlapping invocations for one camera
 * never both analyse the same span (the schedule fires every minute; an invocation may run late).
 *
 * Row `pk = <stateKey>`:
 *   position     N  epoch ms of the last producer time analysed (every image up to it is done)
 *   tracks       S  JSON of the tracked faces (faces.ts)
 *   thumb        S  base64 of the last analysed frame's luma thumbnail
 *   windows      S  JSON {person: end ms} of the snapshots' de-duplication windows still open (snapshots.ts)
 *   leaseOwner   S  the invocation (request id) holding the lease
 *   leaseUntil   N  epoch ms the lease expires (catch-up: the function's timeout; live: LEASE_SECONDS
 *                   after the last renewal, so a killed follower frees the camera within that)
 *   successor    S  live mode: the request id of the follower waiting for the lease to be handed over
 *   stopped      BOOL written by the stop schedule (true) and the start schedule (false)
 *   startedAt    S  ISO time written by the start schedule: sampling resumes there, not earlier
 * The lease's conditions (take, extend, release, and live mode's ask/give hand-over) are
 * shared/lease.ts's, over these same attributes.
 */
import { GetItemCommand, UpdateItemCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { isConditionFailure } from '../shared/errors';
import { handOverConditions, type Lease, leaseConditions } from '../shared/lease';
import { dynamodb } from './clients';
import { settings } from './config';
import type { Track } from './faces';

export interface CameraState {
  readonly position?: number;
  readonly tracks: Track[];
  readonly thumb?: Uint8Array;
  /** With snapshots: each person's open de-duplication window, its end in producer time (ms). */
  readonly windows: Record<string, number>;
  readonly stopped: boolean;
  readonly startedAt?: number;
  readonly leaseOwner?: string;
  readonly leaseUntil?: number;
  /** Live mode: the follower waiting to be handed the lease. */
  readonly successor?: string;
}

/**
 * The camera's lease (shared/lease.ts) over `leaseOwner`, `leaseUntil` (epoch ms) and `successor`:
 * the attributes the row always had, so a deployed sampler's rows are read and written unchanged.
 */
const LEASE = leaseConditions({ owner: 'leaseOwner', until: 'leaseUntil' }, 'milliseconds');
const HAND_OVER = handOverConditions({ owner: 'leaseOwner', until: 'leaseUntil', successor: 'successor' }, 'milliseconds');

/** A lease operation: its condition, its update (`SET ...`) and the values they use. */
interface Operation {
  readonly condition: string;
  readonly update: string;
  readonly values: Record<string, AttributeValue>;
}

/**
 * Applies the lease operation to the camera's row, with `fields` set besides (`#name = :name`):
 * answers the row as written, or undefined when the operation's condition failed.
 */
async function update(key: string, operation: Operation, fields: Record<string, AttributeValue> = {}): Promise<CameraState | undefined> {
  const names: Record<string, string> = {};
  const values = { ...operation.values };
  const assignments = Object.entries(fields).map(([name, value]) => {
    names[`#${name}`] = name;
    values[`:${name}`] = value;
    return `#${name} = :${name}`;
  });
  try {
    const out = await dynamodb.send(
      new UpdateItemCommand({
        TableName: settings.stateTable,
        Key: { pk: { S: key } },
        UpdateExpression: [operation.update, ...assignments].join(', '),
        ConditionExpression: operation.condition,
        ExpressionAttributeNames: assignments.length > 0 ? names : undefined,
        ExpressionAttributeValues: values,
        ReturnValues: 'ALL_NEW',
      }),
    );
    return readState(out.Attributes ?? {});
  } catch (error) {
    if (isConditionFailure(error)) {
      return undefined;
    }
    throw error;
  }
}

const n = (value: number): AttributeValue => ({ N: String(value) });
const str = (value: string): AttributeValue => ({ S: value });
const progressFields = (position: number, tracks: Track[], thumb: Uint8Array | undefined, windows: Record<string, number>) => ({
  position: n(position),
  tracks: str(JSON.stringify(tracks)),
  thumb: str(thumb ? Buffer.from(thumb).toString('base64') : ''),
  windows: str(JSON.stringify(windows)),
});

/** Takes or extends the lease (free, expired, or already ours). */
const take = (lease: Lease): Operation => ({ condition: LEASE.take.expression, update: LEASE.extend.expression, values: { ...LEASE.take.values(lease), ...LEASE.extend.values(lease) } });
/** Extends the lease while it is still ours. */
const extend = (lease: Lease): Operation => ({ condition: LEASE.held.expression, update: LEASE.extend.expression, values: { ...LEASE.held.values(lease), ...LEASE.extend.values(lease) } });

/** Takes the lease, or answers undefined when another invocation holds it. */
export function acquireLease(key: string, owner: string, untilMs: number): Promise<CameraState | undefined> {
  return update(key, take({ owner, untilMs }));
}

/** The camera's row as it is now (consistent read). */
export async function readRow(key: string): Promise<CameraState> {
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
  let windows: Record<string, number> = {};
  try {
    const saved: unknown = item.windows?.S ? JSON.parse(item.windows.S) : {};
    if (saved && typeof saved === 'object' && !Array.isArray(saved)) {
      windows = Object.fromEntries(Object.entries(saved).filter(([, end]) => typeof end === 'number' && Number.isFinite(end)));
    }
  } catch {
    windows = {};
  }
  const started = item.startedAt?.S ? Date.parse(item.startedAt.S) : NaN;
  return {
    windows,
    position: num('position'),
    tracks: Array.isArray(tracks) ? tracks : [],
    thumb: item.thumb?.S ? new Uint8Array(Buffer.from(item.thumb.S, 'base64')) : undefined,
    stopped: item.stopped?.BOOL === true,
    startedAt: Number.isFinite(started) ? started : undefined,
    leaseOwner: item.leaseOwner?.S,
    leaseUntil: num('leaseUntil'),
    successor: item.successor?.S || undefined,
  };
}

/** Thrown when the lease was lost (it expired and another invocation took it): stop at once. */
export class LeaseLost extends Error {}

async function underLease(key: string, lease: Lease, fields: Record<string, AttributeValue> = {}): Promise<CameraState> {
  const row = await update(key, extend(lease), fields);
  if (!row) {
    throw new LeaseLost(`the lease of ${key} was taken by another invocation`);
  }
  return row;
}

/**
 * Saves progress under the lease (conditional on still holding it) and extends it. Answers the row
 * as written: whether a schedule stopped the camera meanwhile, and who waits to be handed the lease.
 */
export function saveProgress(key: string, owner: string, untilMs: number, position: number, tracks: Track[], thumb: Uint8Array | undefined, windows: Record<string, number>): Promise<CameraState> {
  return underLease(key, { owner, untilMs }, progressFields(position, tracks, thumb, windows));
}

/** Only extends the lease (conditional on still holding it); answers the row as written. */
export function renewLease(key: string, owner: string, untilMs: number): Promise<CameraState> {
  return underLease(key, { owner, untilMs });
}

/** Live mode: a successor says it waits for the lease of `predecessor` (false: that one no longer holds it). */
export async function registerSuccessor(key: string, predecessor: string, me: string): Promise<boolean> {
  const { condition, update: set, values } = HAND_OVER.ask;
  return (await update(key, { condition, update: set, values: values(predecessor, me) })) !== undefined;
}

/**
 * Live mode: hands the lease to the registered successor in one conditional write, with the
 * position, the tracked faces and the thumbnail it continues from. False when no longer possible.
 */
export async function handOverLease(key: string, owner: string, successor: string, untilMs: number, position: number, tracks: Track[], thumb: Uint8Array | undefined, windows: Record<string, number>): Promise<boolean> {
  const { condition, update: set, values } = HAND_OVER.give;
  const operation = { condition, update: set, values: values(owner, { owner: successor, untilMs }) };
  return (await update(key, operation, progressFields(position, tracks, thumb, windows))) !== undefined;
}

/** Frees the lease (best effort: it expires anyway). */
export async function releaseLease(key: string, owner: string): Promise<void> {
  const lease = { owner, untilMs: 0 };
  await update(key, { condition: LEASE.held.expression, update: LEASE.release.expression, values: { ...LEASE.held.values(lease), ...LEASE.release.values(lease) } });
}
