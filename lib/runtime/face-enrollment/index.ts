/**
 * Face enrolment from S3: uploading `faces/<external-image-id>/<name>.jpg|jpeg|png` indexes the face
 * into the collection (IndexFaces, MaxFaces 1, QualityFilter AUTO) under that ExternalImageId;
 * deleting the object deletes exactly the faces indexed from it (DeleteFaces).
 *
 * Every outcome is visible: "Face Enrolled" or "Face Enrollment Failed" (with the reason) on
 * EventBridge, and `face-enrollment` / `face-id` / `face-enrollment-reason` tags on the object.
 * A DynamoDB item per object keeps the object -> face ids mapping and makes retried S3 events
 * harmless: an event whose sequencer was handled already is skipped, and a stale one (an older
 * upload or delete of a key that has been written since) is ignored.
 */
import { ConditionalCheckFailedException, DeleteItemCommand, DynamoDBClient, GetItemCommand, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { DeleteFacesCommand, IndexFacesCommand, IndexFacesCommandOutput, RekognitionClient } from '@aws-sdk/client-rekognition';
import { GetObjectTaggingCommand, PutObjectTaggingCommand, S3Client } from '@aws-sdk/client-s3';
import type { S3Event, S3EventRecord } from 'aws-lambda';
import { log } from '../shared/log';
import { errorName } from '../shared/retry';

const env = process.env;
const config = {
  collectionId: env.COLLECTION_ID ?? '',
  table: env.TABLE_NAME ?? '',
  eventBus: env.EVENT_BUS_NAME ?? 'default',
  source: env.EVENT_SOURCE ?? 'face-stream-pipeline',
  prefix: env.FACES_PREFIX ?? 'faces/',
};

/** Created once per container. */
const rekognition = new RekognitionClient({});
const dynamodb = new DynamoDBClient({});
const eventBridge = new EventBridgeClient({});
// path-style addressing only for S3-compatible endpoints that need it
const s3 = new S3Client({ forcePathStyle: env.S3_FORCE_PATH_STYLE === 'true' });

export const FACE_ENROLLED = 'Face Enrolled';
export const FACE_ENROLLMENT_FAILED = 'Face Enrollment Failed';
export const FACE_REMOVED = 'Face Removed';

/** IndexFaces reads images of at most 15 MB from S3. */
const MAX_IMAGE_BYTES = 15 * 1024 * 1024;
const EXTERNAL_IMAGE_ID = /^[a-zA-Z0-9_.\-:]{1,255}$/;
const FORMATS = new Set(['jpg', 'jpeg', 'png']);
/** A claim older than this was left by an invocation that died (the function times out sooner). */
const STALE_CLAIM_SECONDS = 5 * 60;

/** A reason the image is not enrolled: the user's to fix, so reported, never retried. */
class EnrollmentRejected extends Error {
  constructor(public readonly code: string, message: string) {
    super(message);
  }
}

/** Another invocation is enrolling this object right now: retry later. */
class InProgress extends Error {}

interface ObjectRef {
  readonly bucket: string;
  readonly key: string;
  readonly sequencer: string;
  readonly size: number;
  readonly versionId?: string;
}

/**
 * S3 sequencers of one key are ordered: pad the shorter with zeros on the right, then compare
 * lexicographically. Stored padded, so DynamoDB's string comparison orders them too.
 */
export function paddedSequencer(sequencer: string): string {
  return sequencer.toUpperCase().padEnd(32, '0');
}

/** `faces/<external-image-id>/<name>.<ext>` -> the external image id, or a rejection. */
export function externalImageIdOf(key: string, prefix = config.prefix): string {
  const usage = `expected ${prefix}<external-image-id>/<name>.jpg|jpeg|png`;
  if (!key.startsWith(prefix)) {
    throw new EnrollmentRejected('InvalidKey', `${key}: ${usage}`);
  }
  const parts = key.slice(prefix.length).split('/');
  if (parts.length !== 2 || !parts[0] || !parts[1]) {
    throw new EnrollmentRejected('InvalidKey', `${key}: ${usage}`);
  }
  const [id, file] = parts;
  if (!EXTERNAL_IMAGE_ID.test(id)) {
    throw new EnrollmentRejected(
      'InvalidExternalImageId',
      `${JSON.stringify(id)} is not a valid external image id: 1-255 characters of [a-zA-Z0-9_.-:] are allowed`,
    );
  }
  const ext = file.includes('.') ? file.slice(file.lastIndexOf('.') + 1).toLowerCase() : '';
  if (!FORMATS.has(ext)) {
    throw new EnrollmentRejected('UnsupportedFormat', `${JSON.stringify(file)} is not a JPEG or PNG image (.jpg, .jpeg or .png)`);
  }
  return id;
}

function objectOf(record: S3EventRecord): ObjectRef {
  const o = record.s3.object;
  return {
    bucket: record.s3.bucket.name,
    // keys arrive URL-encoded, with + for spaces
    key: decodeURIComponent(o.key.replace(/\+/g, ' ')),
    sequencer: paddedSequencer(o.sequencer ?? '0'),
    size: Number(o.size ?? 0),
    versionId: o.versionId ?? undefined,
  };
}

const pkOf = (o: ObjectRef) => `${o.bucket}/${o.key}`;

interface MappingItem {
  readonly sequencer: string;
  readonly status: string;
  readonly faceIds: string[];
  /** Faces of the picture this upload overwrote, still to delete. */
  readonly replacedFaceIds: string[];
  readonly claimedAt: number;
}

async function readMapping(o: ObjectRef): Promise<MappingItem | undefined> {
  const { Item } = await dynamodb.send(new GetItemCommand({ TableName: config.table, Key: { pk: { S: pkOf(o) } }, ConsistentRead: true }));
  if (!Item) {
    return undefined;
  }
  return {
    sequencer: Item.sequencer?.S ?? '',
    status: Item.status?.S ?? '',
    faceIds: Item.faceIds?.L?.map((v) => v.S ?? '').filter(Boolean) ?? [],
    replacedFaceIds: Item.replacedFaceIds?.L?.map((v) => v.S ?? '').filter(Boolean) ?? [],
    claimedAt: Number(Item.claimedAt?.N ?? 0),
  };
}

async function publish(detailType: string, detail: Record<string, unknown>): Promise<void> {
  const response = await eventBridge.send(
    new PutEventsCommand({
      Entries: [{ Source: config.source, DetailType: detailType, Detail: JSON.stringify({ collectionId: config.collectionId, ...detail }), EventBusName: config.eventBus }],
    }),
  );
  if (response.FailedEntryCount) {
    // thrown so that Lambda retries the event; the mapping makes the retry skip the indexing
    throw new Error(`PutEvents failed: ${response.Entries?.[0]?.ErrorCode} ${response.Entries?.[0]?.ErrorMessage}`);
  }
}

/** S3 tag values allow letters, digits, spaces and + - = . _ : / @, up to 256 characters. */
const tagValue = (text: string) => text.replace(/[^a-zA-Z0-9 +\-=._:/@]/g, ' ').slice(0, 256);

async function tagObject(o: ObjectRef, tags: Record<string, string>): Promise<void> {
  try {
    const current = await s3.send(new GetObjectTaggingCommand({ Bucket: o.bucket, Key: o.key, VersionId: o.versionId }));
    const merged = new Map((current.TagSet ?? []).map((t) => [t.Key ?? '', t.Value ?? '']));
    for (const key of ['face-enrollment', 'face-id', 'face-enrollment-reason']) {
      merged.delete(key);
    }
    for (const [key, value] of Object.entries(tags)) {
      merged.set(key, tagValue(value));
    }
    await s3.send(
      new PutObjectTaggingCommand({
        Bucket: o.bucket,
        Key: o.key,
        VersionId: o.versionId,
        Tagging: { TagSet: [...merged].slice(0, 10).map(([Key, Value]) => ({ Key, Value })) },
      }),
    );
  } catch (error) {
    // the event and the log carry the outcome too; an object deleted meanwhile has nothing to tag
    log('WARN', 'could not tag the object with its enrolment outcome', { bucket: o.bucket, key: o.key, error: errorName(error) });
  }
}

async function deleteFaces(faceIds: string[]): Promise<void> {
  if (faceIds.length > 0) {
    await rekognition.send(new DeleteFacesCommand({ CollectionId: config.collectionId, FaceIds: faceIds }));
  }
}

/** Claims the object for this upload; false when it was handled already (a retried event). */
async function claim(o: ObjectRef, externalImageId: string | undefined, replacedFaceIds: string[]): Promise<boolean> {
  const now = Date.now() / 1000;
  try {
    await dynamodb.send(
      new PutItemCommand({
        TableName: config.table,
        Item: {
          pk: { S: pkOf(o) },
          sequencer: { S: o.sequencer },
          status: { S: 'indexing' },
          claimedAt: { N: String(now) },
          externalImageId: { S: externalImageId ?? '' },
          // kept in the claim, so that a retry after a crash still deletes them
          replacedFaceIds: { L: replacedFaceIds.map((id) => ({ S: id })) },
        },
        ConditionExpression: 'attribute_not_exists(pk) OR sequencer < :seq OR (sequencer = :seq AND #status = :indexing AND claimedAt < :stale)',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':seq': { S: o.sequencer }, ':indexing': { S: 'indexing' }, ':stale': { N: String(now - STALE_CLAIM_SECONDS) } },
      }),
    );
    return true;
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException) && errorName(error) !== 'ConditionalCheckFailedException') {
      throw error;
    }
    const current = await readMapping(o);
    if (current && current.sequencer === o.sequencer && current.status === 'indexing') {
      throw new InProgress(`${pkOf(o)} is being enrolled by another invocation`);
    }
    return false;
  }
}

async function record(o: ObjectRef, status: string, faceIds: string[], reason?: string): Promise<void> {
  await dynamodb.send(
    new UpdateItemCommand({
      TableName: config.table,
      Key: { pk: { S: pkOf(o) } },
      UpdateExpression: 'SET #status = :status, faceIds = :faces, reason = :reason',
      ConditionExpression: 'sequencer = :seq',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: {
        ':status': { S: status },
        ':faces': { L: faceIds.map((id) => ({ S: id })) },
        ':reason': { S: reason ?? '' },
        ':seq': { S: o.sequencer },
      },
    }),
  );
}

/** What IndexFaces' answer means for a one-person enrolment picture. */
async function outcomeOf(output: IndexFacesCommandOutput): Promise<{ faceId: string; imageId?: string; confidence?: number }> {
  const indexed = output.FaceRecords ?? [];
  const unindexed = output.UnindexedFaces ?? [];
  const extra = unindexed.filter((u) => u.Reasons?.includes('EXCEEDS_MAX_FACES')).length;
  if (indexed.length > 0 && extra > 0) {
    // MaxFaces 1 indexed the largest face: a group photo would enrol a stranger, so undo it
    await deleteFaces(indexed.map((f) => f.Face?.FaceId ?? '').filter(Boolean));
    throw new EnrollmentRejected('SeveralFaces', `the image shows ${indexed.length + extra} faces; upload a picture of one person`);
  }
  if (indexed.length === 0) {
    if (unindexed.length === 0) {
      throw new EnrollmentRejected('NoFace', 'no face was found in the image');
    }
    const reasons = [...new Set(unindexed.flatMap((u) => u.Reasons ?? []))];
    if (reasons.includes('SMALL_BOUNDING_BOX')) {
      throw new EnrollmentRejected('FaceTooSmall', 'the face is too small in the image; use a picture where the face is larger');
    }
    throw new EnrollmentRejected('LowQuality', `the face was not indexed: ${reasons.join(', ') || 'quality too low'}`);
  }
  const face = indexed[0].Face ?? {};
  return { faceId: face.FaceId ?? '', imageId: face.ImageId, confidence: face.Confidence };
}

const REKOGNITION_REJECTIONS: Record<string, string> = {
  InvalidImageFormatException: 'the image format is not supported (JPEG or PNG only)',
  ImageTooLargeException: 'the image is too large for Rekognition (at most 15 MB, 4096 x 4096 pixels)',
  InvalidS3ObjectException: 'Rekognition could not read the object',
  InvalidParameterException: 'Rekognition rejected the image (for example, smaller than 80 pixels)',
};

async function enrol(o: ObjectRef): Promise<void> {
  let externalImageId: string | undefined;
  let rejection: EnrollmentRejected | undefined;
  try {
    externalImageId = externalImageIdOf(o.key);
  } catch (error) {
    rejection = error as EnrollmentRejected;
  }
  const previous = await readMapping(o);
  if (previous && previous.sequencer > o.sequencer) {
    log('INFO', 'skipping a stale upload event: the key was written since', { bucket: o.bucket, key: o.key });
    return;
  }
  // an overwrite of the same key replaces the faces of the previous picture (or, on a retry of
  // this upload, the faces its first attempt recorded as replaced)
  const replaced = !previous ? [] : previous.sequencer < o.sequencer ? previous.faceIds : previous.replacedFaceIds;
  if (!(await claim(o, externalImageId, replaced))) {
    log('INFO', 'skipping a repeated upload event: already handled', { bucket: o.bucket, key: o.key });
    return;
  }
  await deleteFaces(replaced);
  if (!rejection && o.size > MAX_IMAGE_BYTES) {
    rejection = new EnrollmentRejected('ImageTooLarge', `the image is ${o.size} bytes; Rekognition reads at most ${MAX_IMAGE_BYTES} bytes from S3`);
  }
  try {
    if (rejection) {
      throw rejection;
    }
    let output: IndexFacesCommandOutput;
    try {
      output = await rekognition.send(
        new IndexFacesCommand({
          CollectionId: config.collectionId,
          Image: { S3Object: { Bucket: o.bucket, Name: o.key, Version: o.versionId } },
          ExternalImageId: externalImageId,
          MaxFaces: 1,
          QualityFilter: 'AUTO',
          DetectionAttributes: ['DEFAULT'],
        }),
      );
    } catch (error) {
      const message = REKOGNITION_REJECTIONS[errorName(error)];
      if (message) {
        throw new EnrollmentRejected(errorName(error).replace(/Exception$/, ''), `${message}: ${(error as Error).message}`);
      }
      throw error;
    }
    const face = await outcomeOf(output);
    await record(o, 'enrolled', [face.faceId]);
    log('INFO', 'face enrolled', { bucket: o.bucket, key: o.key, externalImageId, faceId: face.faceId });
    await tagObject(o, { 'face-enrollment': 'enrolled', 'face-id': face.faceId });
    await publish(FACE_ENROLLED, { bucket: o.bucket, key: o.key, externalImageId, ...face });
  } catch (error) {
    if (!(error instanceof EnrollmentRejected)) {
      throw error;
    }
    await record(o, 'failed', [], error.message);
    log('WARN', 'face not enrolled', { bucket: o.bucket, key: o.key, code: error.code, reason: error.message });
    await tagObject(o, { 'face-enrollment': 'failed', 'face-enrollment-reason': error.message });
    await publish(FACE_ENROLLMENT_FAILED, { bucket: o.bucket, key: o.key, externalImageId, code: error.code, reason: error.message });
  }
}

async function remove(o: ObjectRef): Promise<void> {
  const item = await readMapping(o);
  if (!item) {
    log('INFO', 'nothing enrolled from this object', { bucket: o.bucket, key: o.key });
    return;
  }
  if (item.sequencer > o.sequencer) {
    log('INFO', 'skipping a stale delete event: the key was written since', { bucket: o.bucket, key: o.key });
    return;
  }
  await deleteFaces(item.faceIds);
  try {
    await dynamodb.send(
      new DeleteItemCommand({
        TableName: config.table,
        Key: { pk: { S: pkOf(o) } },
        ConditionExpression: 'sequencer = :seq',
        ExpressionAttributeValues: { ':seq': { S: item.sequencer } },
      }),
    );
  } catch (error) {
    if (errorName(error) !== 'ConditionalCheckFailedException') {
      throw error;
    }
    return; // a new upload of the key raced this delete: it owns the item now
  }
  log('INFO', 'faces removed', { bucket: o.bucket, key: o.key, faceIds: item.faceIds });
  if (item.faceIds.length > 0) {
    await publish(FACE_REMOVED, { bucket: o.bucket, key: o.key, faceIds: item.faceIds });
  }
}

export async function handler(event: S3Event): Promise<void> {
  const failures: string[] = [];
  for (const r of event.Records ?? []) {
    const o = objectOf(r);
    try {
      if (r.eventName.startsWith('ObjectCreated')) {
        await enrol(o);
      } else if (r.eventName.startsWith('ObjectRemoved')) {
        await remove(o);
      }
    } catch (error) {
      log(error instanceof InProgress ? 'INFO' : 'ERROR', 'enrolment event not finished; Lambda will retry it', {
        bucket: o.bucket,
        key: o.key,
        error,
      });
      failures.push(`${o.key}: ${errorName(error)}: ${(error as Error).message}`);
    }
  }
  if (failures.length > 0) {
    // Lambda retries the whole event; the records finished already are skipped then
    throw new Error(`${failures.length} of ${event.Records.length} S3 records not finished: ${failures.join('; ')}`);
  }
}
