/**
 * Face enrolment from S3: uploading `faces/<external-image-id>/<name>.jpg|jpeg|png` indexes the face
 * into the collection (IndexFaces, MaxFaces 1, QualityFilter AUTO) under that ExternalImageId;
 * deleting the picture deletes exactly the faces indexed from it (DeleteFaces).
 *
 * Every outcome is visible: "Face Enrolled", "Face Enrollment Failed" (with the reason) and
 * "Face Removed" on EventBridge, and `face-enrollment` / `face-id` / `face-enrollment-reason` tags
 * on the object. The mapping table (mapping.ts) orders the events of a key by S3 sequencer and
 * version, and makes retries finish what a failed attempt left instead of repeating or losing it.
 */
import type { Context, S3Event } from 'aws-lambda';
import { errorName } from '../shared/errors';
import { begin, logger, metrics } from './clients';
import { DEFAULT_REMAINING_MS } from './config';
import { enrol } from './enrol';
import { InProgress } from './errors';
import { remove } from './remove';
import { objectOf } from './s3-event';
import { backfill, BackfillResult, usersMode } from './users';

/** The one-off command of users mode (README): the collection's faces join their users. */
export interface BackfillUsersRequest {
  readonly action: 'backfill-users';
}

export async function handler(event: S3Event | BackfillUsersRequest, context?: Context): Promise<void | BackfillResult> {
  begin(context);
  const deadline = Date.now() + (context?.getRemainingTimeInMillis?.() ?? DEFAULT_REMAINING_MS);
  if ('action' in event) {
    if (event.action !== 'backfill-users' || !usersMode()) {
      throw new Error(`unknown action ${JSON.stringify(event.action)}: the enrolment function takes S3 events, and {"action": "backfill-users"} with identity FaceIdentity.users()`);
    }
    // leaves time to answer before the function's timeout
    return backfill(deadline - 5_000);
  }
  const records = event.Records ?? [];
  const failures: string[] = [];
  try {
    for (const record of records) {
      const o = objectOf(record);
      if (!o) {
        logger.debug('ignoring an event that is not about a picture', { eventName: record.eventName, key: record.s3?.object?.key });
        continue;
      }
      try {
        await (o.change === 'created' ? enrol(o, deadline) : remove(o));
      } catch (error) {
        const fields = { bucket: o.bucket, key: o.key, versionId: o.versionId, error };
        if (error instanceof InProgress) {
          logger.info('enrolment event not finished; Lambda will retry it', fields);
        } else {
          logger.error('enrolment event not finished; Lambda will retry it', fields);
        }
        failures.push(`${o.key}: ${errorName(error)}: ${(error as Error).message}`);
      }
    }
  } finally {
    if (metrics.hasStoredMetrics()) {
      metrics.publishStoredMetrics();
    }
  }
  if (failures.length > 0) {
    // Lambda retries the whole event; the records finished already are skipped then
    throw new Error(`${failures.length} of ${records.length} S3 records not finished: ${failures.join('; ')}`);
  }
}
