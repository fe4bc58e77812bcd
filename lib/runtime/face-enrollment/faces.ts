/** IndexFaces for a one-person enrolment picture, and DeleteFaces. */
import { DeleteFacesCommand, IndexFacesCommand, IndexFacesCommandOutput } from '@aws-sdk/client-rekognition';
import { batchBy } from '../shared/batching';
import { errorName } from '../shared/errors';
import type { FaceEnrollmentFailureCode } from '../shared/face-events';
import { rekognition } from './clients';
import { config } from './config';
import { EnrollmentRejected } from './errors';
import { ObjectRef, versionOf } from './s3-event';

/** DeleteFaces takes at most 4096 face ids per call. */
const DELETE_BATCH = 4096;

/** Rekognition's answers that are the picture's fault: reported, not retried. */
const REJECTIONS: Record<string, { code: FaceEnrollmentFailureCode; message: string }> = {
  InvalidImageFormatException: { code: 'InvalidImageFormat', message: 'the image format is not supported (JPEG or PNG only)' },
  ImageTooLargeException: { code: 'ImageTooLarge', message: 'the image is too large for Rekognition (at most 15 MB, 4096 x 4096 pixels)' },
  InvalidS3ObjectException: { code: 'InvalidS3Object', message: 'Rekognition could not read the object (deleted meanwhile, or not readable with the function\'s permissions)' },
  InvalidParameterException: { code: 'InvalidParameter', message: 'Rekognition rejected the image (for example, smaller than 80 pixels)' },
};

export interface IndexedFace {
  readonly faceId: string;
  readonly imageId?: string;
  readonly confidence?: number;
}

/** What IndexFaces did with the picture. */
export type IndexOutcome =
  | { readonly kind: 'enrolled'; readonly face: IndexedFace }
  /** Refused; `indexed` are faces IndexFaces added anyway (the largest face of a group photo), to delete. */
  | { readonly kind: 'rejected'; readonly rejection: EnrollmentRejected; readonly indexed: string[] };

/** Indexes the picture's face; throws what is not the picture's fault (throttling, access denied...). */
export async function indexFace(o: ObjectRef, externalImageId: string): Promise<IndexOutcome> {
  let output: IndexFacesCommandOutput;
  try {
    output = await rekognition.send(
      new IndexFacesCommand({
        CollectionId: config.collectionId,
        Image: { S3Object: { Bucket: o.bucket, Name: o.key, Version: versionOf(o) } },
        ExternalImageId: externalImageId,
        MaxFaces: 1,
        QualityFilter: 'AUTO',
        DetectionAttributes: ['DEFAULT'],
      }),
    );
  } catch (error) {
    const rejection = REJECTIONS[errorName(error)];
    if (rejection) {
      return { kind: 'rejected', rejection: new EnrollmentRejected(rejection.code, `${rejection.message}: ${(error as Error).message}`), indexed: [] };
    }
    throw error;
  }
  return outcomeOf(output);
}

function outcomeOf(output: IndexFacesCommandOutput): IndexOutcome {
  const indexed = (output.FaceRecords ?? []).map((f) => f.Face ?? {});
  const unindexed = output.UnindexedFaces ?? [];
  const indexedIds = indexed.map((f) => f.FaceId ?? '').filter(Boolean);
  const extra = unindexed.filter((u) => u.Reasons?.includes('EXCEEDS_MAX_FACES')).length;
  if (indexed.length > 0 && extra > 0) {
    // MaxFaces 1 indexed the largest face: a group photo would enrol a stranger, so it is undone
    const rejection = new EnrollmentRejected('SeveralFaces', `the image shows ${indexed.length + extra} faces; upload a picture of one person`);
    return { kind: 'rejected', rejection, indexed: indexedIds };
  }
  if (indexed.length === 0) {
    if (unindexed.length === 0) {
      return { kind: 'rejected', rejection: new EnrollmentRejected('NoFace', 'no face was found in the image'), indexed: [] };
    }
    const reasons = [...new Set(unindexed.flatMap((u) => u.Reasons ?? []))];
    const rejection = reasons.includes('SMALL_BOUNDING_BOX')
      ? new EnrollmentRejected('FaceTooSmall', 'the face is too small in the image; use a picture where the face is larger')
      : new EnrollmentRejected('LowQuality', `the face was not indexed: ${reasons.join(', ') || 'quality too low'}`);
    return { kind: 'rejected', rejection, indexed: [] };
  }
  const face = indexed[0];
  return { kind: 'enrolled', face: { faceId: face.FaceId ?? '', imageId: face.ImageId, confidence: face.Confidence } };
}

/**
 * Deletes the faces (ids that are gone already are not an error). A face associated with a
 * Rekognition user is not deleted by the service (ASSOCIATED_TO_AN_EXISTING_USER): an error, so
 * that the retry deletes it once it has left its user.
 */
export async function deleteFaces(faceIds: readonly string[]): Promise<void> {
  for (const FaceIds of batchBy(faceIds, { maxCount: DELETE_BATCH })) {
    const out = await rekognition.send(new DeleteFacesCommand({ CollectionId: config.collectionId, FaceIds }));
    const kept = (out.UnsuccessfulFaceDeletions ?? []).filter((u) => u.Reasons?.includes('ASSOCIATED_TO_AN_EXISTING_USER'));
    if (kept.length > 0) {
      throw new Error(`DeleteFaces kept ${kept.length} face(s) associated with a user (${kept.map((u) => `${u.FaceId} of ${u.UserId}`).join(', ')}): they are deleted once disassociated`);
    }
  }
}
