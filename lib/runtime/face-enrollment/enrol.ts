/** An upload (a new current version of a key): claim, index, record, tag, finish. */
import { ENROLLMENT_OUTCOMES, ENROLLMENT_TAGS } from '../../enrollment-settings';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { ENROLLMENT_METRICS } from '../../metric-names';
import { FACE_DETAIL_TYPES } from '../shared/face-events';
import { errorName } from '../shared/errors';
import { leaseHeld, leaseUntil, RELEASED } from '../shared/lease';
import { logger, metrics } from './clients';
import { LEASE_MARGIN_MS, MAX_IMAGE_BYTES } from './config';
import { EnrollmentRejected, InProgress } from './errors';
import { deleteFaces, indexFace, IndexOutcome } from './faces';
import { finish, unfinished } from './finish';
import { MappingItem, pkOf, readItem, StaleRevision, union, writeItem } from './mapping';
import { detailBase, pendingEvent } from './publish';
import { externalImageIdOf, ObjectRef, storedVersion } from './s3-event';
import { tagObject } from './tags';
import { joinUser, userIdRejection, usersMode } from './users';

/** The picture's external image id, or why it is refused before calling Rekognition. */
function validate(o: ObjectRef): { externalImageId: string; rejection?: EnrollmentRejected } {
  if (o.keyError) {
    return { externalImageId: '', rejection: new EnrollmentRejected('InvalidKey', o.keyError) };
  }
  let externalImageId: string;
  try {
    externalImageId = externalImageIdOf(o.key);
  } catch (error) {
    if (error instanceof EnrollmentRejected) {
      return { externalImageId: '', rejection: error };
    }
    throw error;
  }
  if (o.size > MAX_IMAGE_BYTES) {
    const rejection = new EnrollmentRejected('ImageTooLarge', `the image is ${o.size} bytes; Rekognition reads at most ${MAX_IMAGE_BYTES} bytes from S3`);
    return { externalImageId, rejection };
  }
  return { externalImageId, rejection: usersMode() ? userIdRejection(externalImageId) : undefined };
}

/** Claims the key for this upload; undefined when there is nothing (more) to do. */
async function claim(o: ObjectRef, item: MappingItem | undefined, externalImageId: string, deadline: number): Promise<MappingItem | undefined> {
  const pk = pkOf(o);
  if (item && item.sequencer > o.sequencer) {
    logger.info('skipping a stale upload event: the key was written since', { bucket: o.bucket, key: o.key });
    return undefined;
  }
  if (item && item.sequencer === o.sequencer && item.status !== 'indexing') {
    if (unfinished(item)) {
      logger.info('finishing what an earlier attempt of this upload left', { bucket: o.bucket, key: o.key, staleFaceIds: item.staleFaceIds, pending: item.pending.length });
      await finish(item);
    } else {
      logger.info('skipping a repeated upload event: already handled', { bucket: o.bucket, key: o.key });
    }
    return undefined;
  }
  if (item && item.status === 'indexing' && leaseHeld(item.leaseUntil)) {
    const which = item.sequencer === o.sequencer ? pk : `an earlier upload of ${pk}`;
    throw new InProgress(`${which} is being enrolled by another invocation`);
  }
  // an overwrite replaces the faces of the previous picture: they are deleted after indexing
  const replaced = item && item.status !== 'indexing' && item.sequencer < o.sequencer ? item.faceIds : [];
  // faces an attempt indexed and recorded but did not finish with (users mode): deleted, no event
  const orphaned = item?.status === 'indexing' ? item.faceIds : [];
  const pending = [...(item?.pending ?? [])];
  if (item && replaced.length > 0) {
    pending.push(pendingEvent(FACE_DETAIL_TYPES.FACE_REMOVED, { ...detailBase(o, item.versionId), faceIds: [...replaced] }));
  }
  return writeItem(
    {
      pk,
      sequencer: o.sequencer,
      versionId: storedVersion(o.versionId),
      status: 'indexing',
      externalImageId,
      faceIds: [],
      staleFaceIds: union(item?.staleFaceIds ?? [], replaced, orphaned),
      pending,
      leaseUntil: leaseUntil(deadline, LEASE_MARGIN_MS),
    },
    item?.rev ?? 0,
  );
}

/** Hands the claim over to Lambda's retry of the event (else it would wait for the deadline). */
async function release(claimed: MappingItem): Promise<void> {
  try {
    await writeItem({ ...claimed, leaseUntil: RELEASED }, claimed.rev);
  } catch (error) {
    logger.warn("could not release the claim; it ends with this invocation's deadline", { pk: claimed.pk, error: errorName(error) });
  }
}

function recordOf(o: ObjectRef, claimed: MappingItem, outcome: IndexOutcome): MappingItem {
  const base = { ...claimed, leaseUntil: RELEASED, code: undefined, reason: undefined };
  if (outcome.kind === 'enrolled') {
    const detail = { ...detailBase(o), externalImageId: claimed.externalImageId, ...outcome.face };
    return { ...base, status: 'enrolled', faceIds: [outcome.face.faceId], pending: [...claimed.pending, pendingEvent(FACE_DETAIL_TYPES.FACE_ENROLLED, detail)] };
  }
  const { code, message } = outcome.rejection;
  const detail = { ...detailBase(o), ...(claimed.externalImageId ? { externalImageId: claimed.externalImageId } : {}), code, reason: message };
  return {
    ...base,
    status: 'failed',
    faceIds: [],
    staleFaceIds: union(claimed.staleFaceIds, outcome.indexed),
    code,
    reason: message,
    pending: [...claimed.pending, pendingEvent(FACE_DETAIL_TYPES.FACE_ENROLLMENT_FAILED, detail)],
  };
}

/** Records the outcome before anything else can fail; faces indexed but not recorded are deleted. */
async function record(o: ObjectRef, claimed: MappingItem, outcome: IndexOutcome): Promise<MappingItem> {
  try {
    return await writeItem(recordOf(o, claimed, outcome), claimed.rev);
  } catch (error) {
    const indexed = outcome.kind === 'enrolled' ? [outcome.face.faceId] : outcome.indexed;
    await deleteFaces(indexed).catch((e) =>
      logger.error('a face indexed from the picture is recorded nowhere and could not be deleted: delete it by hand', { pk: claimed.pk, faceIds: indexed, error: errorName(e) }),
    );
    if (error instanceof StaleRevision) {
      throw new InProgress(`${claimed.pk}: another invocation took the claim over; the face indexed meanwhile was deleted`);
    }
    await release(claimed);
    throw error;
  }
}

export async function enrol(o: ObjectRef, deadline: number): Promise<void> {
  const { externalImageId, rejection } = validate(o);
  let claimed: MappingItem | undefined;
  for (let attempt = 1; !claimed; attempt++) {
    try {
      claimed = await claim(o, await readItem(pkOf(o)), externalImageId, deadline);
      if (!claimed) {
        return;
      }
    } catch (error) {
      if (!(error instanceof StaleRevision)) {
        throw error;
      }
      if (attempt === 3) {
        throw new InProgress(error.message);
      }
    }
  }
  let outcome: IndexOutcome;
  if (rejection) {
    outcome = { kind: 'rejected', rejection, indexed: [] };
  } else {
    try {
      outcome = await indexFace(o, externalImageId);
    } catch (error) {
      await release(claimed);
      throw error;
    }
    if (outcome.kind === 'enrolled' && usersMode()) {
      ({ claimed, outcome } = await joinUser(claimed, outcome, release));
    }
  }
  const recorded = await record(o, claimed, outcome);
  const where = { bucket: o.bucket, key: o.key, versionId: o.versionId, externalImageId: externalImageId || undefined };
  if (outcome.kind === 'enrolled') {
    logger.info('face enrolled', { ...where, faceId: outcome.face.faceId });
    metrics.addMetric(ENROLLMENT_METRICS.FACES_ENROLLED, MetricUnit.Count, 1);
    await tagObject(o, [[ENROLLMENT_TAGS.OUTCOME, ENROLLMENT_OUTCOMES.ENROLLED], [ENROLLMENT_TAGS.FACE_ID, outcome.face.faceId]]);
  } else {
    logger.warn('face not enrolled', { ...where, code: outcome.rejection.code, reason: outcome.rejection.message, indexedAndDeleted: outcome.indexed });
    metrics.addMetric(ENROLLMENT_METRICS.ENROLLMENTS_FAILED, MetricUnit.Count, 1);
    await tagObject(o, [
      [ENROLLMENT_TAGS.OUTCOME, ENROLLMENT_OUTCOMES.FAILED],
      [ENROLLMENT_TAGS.CODE, outcome.rejection.code],
      [ENROLLMENT_TAGS.REASON, outcome.rejection.message],
    ]);
  }
  await finish(recorded);
}
