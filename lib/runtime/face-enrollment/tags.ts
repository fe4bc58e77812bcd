/**
 * The outcome as tags on the object's version (ENROLLMENT_TAGS): `face-enrollment` (enrolled |
 * failed) and `face-id`, or `face-enrollment-code` and `face-enrollment-reason`. S3 allows 10 tags per object; the object's own tags are
 * never dropped: with 9 of them only `face-enrollment` fits, with 10 none does, and what is left
 * out is reported (a warning and the EnrollmentTagsOmitted metric). The event carries the outcome
 * either way.
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { GetObjectTaggingCommand, PutObjectTaggingCommand } from '@aws-sdk/client-s3';
import { ENROLLMENT_TAGS } from '../../enrollment-settings';
import { ENROLLMENT_METRICS } from '../../metric-names';
import { errorName } from '../shared/errors';
import { logger, metrics, s3 } from './clients';
import { ObjectRef, versionOf } from './s3-event';

export const MAX_TAGS = 10;
/** The tags this library writes, most important first. */
const OUTCOME_TAGS: string[] = [ENROLLMENT_TAGS.OUTCOME, ENROLLMENT_TAGS.FACE_ID, ENROLLMENT_TAGS.CODE, ENROLLMENT_TAGS.REASON];

/** S3 tag values allow letters, digits, spaces and + - = . _ : / @, up to 256 characters. */
const tagValue = (text: string) => text.replace(/[^a-zA-Z0-9 +\-=._:/@]/g, ' ').slice(0, 256);

/** The object's own tags plus as many outcome tags as fit, in order; and those left out. */
export function mergeTags(current: ReadonlyArray<{ Key?: string; Value?: string }>, outcome: Array<[string, string]>) {
  const own = current.filter((t) => !OUTCOME_TAGS.includes(t.Key ?? '')).map((t) => ({ Key: t.Key ?? '', Value: t.Value ?? '' }));
  const room = Math.max(0, MAX_TAGS - own.length);
  const added = outcome.slice(0, room).map(([Key, Value]) => ({ Key, Value: tagValue(Value) }));
  return { tagSet: [...own, ...added], omitted: outcome.slice(room).map(([key]) => key) };
}

export async function tagObject(o: ObjectRef, outcome: Array<[string, string]>): Promise<void> {
  if (o.keyError) {
    return; // a key that cannot be decoded cannot be addressed
  }
  const target = { Bucket: o.bucket, Key: o.key, VersionId: versionOf(o) };
  try {
    const current = await s3.send(new GetObjectTaggingCommand(target));
    const { tagSet, omitted } = mergeTags(current.TagSet ?? [], outcome);
    if (omitted.length > 0) {
      logger.warn('the object has too many tags of its own for the enrolment outcome tags; see the event for the outcome', {
        bucket: o.bucket,
        key: o.key,
        versionId: o.versionId,
        ownTags: tagSet.length - (outcome.length - omitted.length),
        omitted,
      });
      metrics.addMetric(ENROLLMENT_METRICS.ENROLLMENT_TAGS_OMITTED, MetricUnit.Count, 1);
      if (tagSet.length === (current.TagSet ?? []).length && omitted.length === outcome.length) {
        return; // nothing of ours fits, and nothing of ours is there to replace
      }
    }
    await s3.send(new PutObjectTaggingCommand({ ...target, Tagging: { TagSet: tagSet } }));
  } catch (error) {
    // the event and the log carry the outcome too; a picture deleted meanwhile has nothing to tag
    logger.warn('could not tag the object with its enrolment outcome', { bucket: o.bucket, key: o.key, versionId: o.versionId, error: errorName(error) });
  }
}
