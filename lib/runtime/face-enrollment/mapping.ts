/**
 * The mapping table: one item per object key, the state of its enrolment. Every write replaces
 * the whole item on the condition that it is still the revision that was read (optimistic
 * concurrency), so two invocations never both act on one state.
 *
 * - `indexing`: claimed by an invocation until `leaseUntil` (its deadline)
 * - `enrolled` / `failed`: the outcome of the upload `sequencer` (version `versionId`)
 * - `deleted`: the key's current picture was deleted (kept until `expiresAt`, so that an older
 *   upload event delivered late is recognised as stale)
 * - `removed`: the enrolled version was deleted permanently (older versions are not re-enrolled)
 *
 * Faces are recorded before anything that can fail may lose them: `faceIds` are the faces of the
 * current picture; `staleFaceIds` are faces still to delete (of a replaced or deleted picture, or
 * the extra face of a group photo); `pending` are events still to send, sent once `staleFaceIds`
 * is empty, so that a retry finishes what a failed attempt left.
 */
import { AttributeValue, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { isConditionFailure } from '../shared/errors';
import type { FaceDetailType, FaceEventDetail } from '../shared/face-events';
import { dynamodb } from './clients';
import { config } from './config';

export type Status = 'indexing' | 'enrolled' | 'failed' | 'deleted' | 'removed';

export interface PendingEvent {
  readonly detailType: FaceDetailType;
  readonly detail: FaceEventDetail;
}

export interface MappingItem {
  readonly pk: string;
  /** 0 for an item not written yet (or written before revisions). */
  readonly rev: number;
  readonly sequencer: string;
  /** '' when unversioned or the null version. */
  readonly versionId: string;
  readonly status: Status;
  readonly externalImageId: string;
  readonly faceIds: readonly string[];
  readonly staleFaceIds: readonly string[];
  readonly pending: readonly PendingEvent[];
  /** Milliseconds since the epoch; 0 when not claimed. */
  readonly leaseUntil: number;
  readonly code?: string;
  readonly reason?: string;
  /** Seconds since the epoch (DynamoDB TTL), only on `deleted`. */
  readonly expiresAt?: number;
}

/** Another invocation wrote the item since it was read. */
export class StaleRevision extends Error {
  constructor(pk: string) {
    super(`${pk} was changed by another invocation`);
    this.name = 'StaleRevision';
  }
}

export const pkOf = (o: { readonly bucket: string; readonly key: string }) => `${o.bucket}/${o.key}`;

const strings = (v: AttributeValue | undefined) => v?.L?.map((x) => x.S ?? '').filter(Boolean) ?? [];
const list = (ids: readonly string[]): AttributeValue => ({ L: ids.map((id) => ({ S: id })) });

export async function readItem(pk: string): Promise<MappingItem | undefined> {
  const { Item } = await dynamodb.send(new GetItemCommand({ TableName: config.table, Key: { pk: { S: pk } }, ConsistentRead: true }));
  if (!Item) {
    return undefined;
  }
  return {
    pk,
    rev: Number(Item.rev?.N ?? 0),
    sequencer: Item.sequencer?.S ?? '',
    versionId: Item.versionId?.S ?? '',
    status: (Item.status?.S ?? 'failed') as Status,
    externalImageId: Item.externalImageId?.S ?? '',
    faceIds: strings(Item.faceIds),
    // replacedFaceIds and claimedAt: items written before revisions (carried over on their next write)
    staleFaceIds: strings(Item.staleFaceIds ?? Item.replacedFaceIds),
    pending: Item.pending?.S ? (JSON.parse(Item.pending.S) as PendingEvent[]) : [],
    leaseUntil: Item.leaseUntil?.N ? Number(Item.leaseUntil.N) : Item.claimedAt?.N ? Number(Item.claimedAt.N) * 1000 + 60_000 : 0,
    code: Item.code?.S || undefined,
    reason: Item.reason?.S || undefined,
    expiresAt: Item.expiresAt?.N ? Number(Item.expiresAt.N) : undefined,
  };
}

/** Writes `next` in place of revision `previousRev`; returns what was written. */
export async function writeItem(next: Omit<MappingItem, 'rev'>, previousRev: number): Promise<MappingItem> {
  const written: MappingItem = { ...next, rev: previousRev + 1 };
  const item: Record<string, AttributeValue> = {
    pk: { S: written.pk },
    rev: { N: String(written.rev) },
    sequencer: { S: written.sequencer },
    versionId: { S: written.versionId },
    status: { S: written.status },
    externalImageId: { S: written.externalImageId },
    faceIds: list(written.faceIds),
    staleFaceIds: list(written.staleFaceIds),
    pending: { S: JSON.stringify(written.pending) },
    leaseUntil: { N: String(written.leaseUntil) },
  };
  if (written.code) {
    item.code = { S: written.code };
  }
  if (written.reason) {
    item.reason = { S: written.reason };
  }
  if (written.expiresAt) {
    item.expiresAt = { N: String(written.expiresAt) };
  }
  try {
    await dynamodb.send(
      new PutItemCommand({
        TableName: config.table,
        Item: item,
        // revision 0: no item, or one written before revisions
        ConditionExpression: previousRev === 0 ? 'attribute_not_exists(rev)' : 'rev = :rev',
        ExpressionAttributeValues: previousRev === 0 ? undefined : { ':rev': { N: String(previousRev) } },
      }),
    );
  } catch (error) {
    if (isConditionFailure(error)) {
      throw new StaleRevision(written.pk);
    }
    throw error;
  }
  return written;
}

/** Unique, in order. */
export function union(...lists: ReadonlyArray<readonly string[]>): string[] {
  return [...new Set(lists.flat())];
}
