/**
 * Deletions. A deletion of the key's current picture (a delete in an unversioned bucket, a delete
 * marker in a versioned one) removes its faces and leaves a record of the deletion, so that an
 * older upload event delivered late is stale. A permanent deletion of one version removes faces
 * only when that version is the enrolled one; the version that becomes current again is not
 * re-enrolled (copy it over the key to enrol it).
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { ENROLLMENT_METRICS } from '../../metric-names';
import { FACE_DETAIL_TYPES } from '../shared/face-events';
import { logger, metrics } from './clients';
import { TOMBSTONE_SECONDS } from './config';
import { leaseHeld, RELEASED } from '../shared/lease';
import { InProgress } from './errors';
import { finish, unfinished } from './finish';
import { MappingItem, pkOf, readItem, StaleRevision, union, writeItem } from './mapping';
import { detailBase, pendingEvent } from './publish';
import { ObjectRef, storedVersion } from './s3-event';

/** The item with its faces moved to deletion, and a "Face Removed" event pending for them. */
function withoutFaces(o: ObjectRef, item: MappingItem | undefined) {
  const faceIds = item?.faceIds ?? [];
  const pending = [...(item?.pending ?? [])];
  if (item && faceIds.length > 0) {
    pending.push(pendingEvent(FACE_DETAIL_TYPES.FACE_REMOVED, { ...detailBase(o, item.versionId), faceIds: [...faceIds] }));
  }
  return { faceIds: [], staleFaceIds: union(item?.staleFaceIds ?? [], faceIds), pending, leaseUntil: RELEASED };
}

function assertNotClaimed(item: MappingItem): void {
  if (item.status === 'indexing' && leaseHeld(item.leaseUntil)) {
    throw new InProgress(`${item.pk} is being enrolled by another invocation`);
  }
}

/** The next state of the item, or undefined when the event changes nothing. */
async function nextState(o: ObjectRef, item: MappingItem | undefined): Promise<Omit<MappingItem, 'rev'> | undefined> {
  const where = { bucket: o.bucket, key: o.key, versionId: o.versionId };
  if (o.change === 'versionDeleted') {
    if (!item || item.versionId !== storedVersion(o.versionId) || item.status === 'deleted') {
      logger.info('a version that is not the enrolled picture was deleted: nothing to remove', where);
      return undefined;
    }
    if (item.status === 'removed') {
      if (unfinished(item)) {
        await finish(item);
      }
      return undefined;
    }
    assertNotClaimed(item);
    return { ...item, status: 'removed', ...withoutFaces(o, item) };
  }
  if (item && item.sequencer > o.sequencer) {
    logger.info('skipping a stale delete event: the key was written since', where);
    return undefined;
  }
  if (item && item.sequencer === o.sequencer) {
    if (unfinished(item)) {
      await finish(item);
    }
    return undefined;
  }
  if (item) {
    assertNotClaimed(item);
  }
  return {
    pk: pkOf(o),
    sequencer: o.sequencer,
    versionId: storedVersion(o.versionId),
    status: 'deleted',
    externalImageId: item?.externalImageId ?? '',
    expiresAt: Math.floor(Date.now() / 1000) + TOMBSTONE_SECONDS,
    ...withoutFaces(o, item),
  };
}

export async function remove(o: ObjectRef): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const item = await readItem(pkOf(o));
    const next = await nextState(o, item);
    if (!next) {
      return;
    }
    let written: MappingItem;
    try {
      written = await writeItem(next, item?.rev ?? 0);
    } catch (error) {
      if (error instanceof StaleRevision && attempt < 3) {
        continue;
      }
      throw error instanceof StaleRevision ? new InProgress(error.message) : error;
    }
    const removed = item?.faceIds ?? [];
    if (removed.length > 0) {
      logger.info('removing the faces of a deleted picture', { bucket: o.bucket, key: o.key, versionId: o.versionId, faceIds: removed });
      metrics.addMetric(ENROLLMENT_METRICS.FACES_REMOVED, MetricUnit.Count, removed.length);
    }
    await finish(written);
    return;
  }
}
