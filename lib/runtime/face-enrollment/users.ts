/**
 * Users mode (`FaceIdentity.users()`): one Rekognition user per external image id (the person),
 * built from the faces of all of that person's pictures, searched by the frame-sampling engine
 * with SearchUsersByImage.
 *
 * - an enrolled face joins its person's user: CreateUser on the first picture (idempotent with a
 *   ClientRequestToken; a user that exists already is found, not an error), then AssociateFaces.
 *   The face is recorded on the mapping item before it is associated (`checkpoint`), so a crash
 *   between IndexFaces and AssociateFaces leaves it where the retry finds and deletes it.
 * - a user holds at most 100 faces: the 101st picture is refused (`TooManyFaces`), and a face that
 *   does not look like the person's other faces (LOW_MATCH_CONFIDENCE) is refused (`NotSamePerson`).
 * - a face leaves its user (DisassociateFaces) before it is deleted (DeleteFaces refuses faces
 *   associated with a user); when the user has no face left (status CREATED) it is deleted.
 * - a user that is UPDATING refuses changes (ConflictException): its status is waited for
 *   (ListUsers) before the change is tried again.
 * - `backfill`: a collection enrolled in faces mode joins users mode without re-uploading.
 */
import { createHash } from 'node:crypto';
import {
  AssociateFacesCommand,
  CreateUserCommand,
  DeleteUserCommand,
  DisassociateFacesCommand,
  ListFacesCommand,
  ListUsersCommand,
  type UserStatus,
} from '@aws-sdk/client-rekognition';
import { batchBy } from '../shared/batching';
import { backoff, errorName } from '../shared/retry';
import { logger, rekognition } from './clients';
import { config } from './config';
import { EnrollmentRejected, InProgress } from './errors';
import { deleteFaces, IndexOutcome } from './faces';
import { MappingItem, StaleRevision, writeItem } from './mapping';

/** Whether enrolment keeps users (the FaceEnrollment's `identity`). */
export const usersMode = () => config.identity === 'users';

/** Rekognition's limits: faces per user, and face ids per AssociateFaces call. */
export const MAX_FACES_PER_USER = 100;
/** UserId allows 1-128 characters of [a-zA-Z0-9_.-:] (an ExternalImageId allows 255). */
const USER_ID = /^[a-zA-Z0-9_.\-:]{1,128}$/;
/** How long a change waits for an UPDATING user: ListUsers polls with backoff (about 30 s in all). */
const WAIT = { attempts: Number(process.env.USER_WAIT_ATTEMPTS ?? 8), baseDelayMs: Number(process.env.RETRY_BASE_DELAY_MS ?? 250), maxDelayMs: 8000 };

/** Why an external image id cannot be a user id; undefined when it can. */
export function userIdRejection(externalImageId: string): EnrollmentRejected | undefined {
  if (USER_ID.test(externalImageId)) {
    return undefined;
  }
  return new EnrollmentRejected('InvalidExternalImageId', `${JSON.stringify(externalImageId.slice(0, 40))} cannot name a Rekognition user: users mode allows 1-128 characters of [a-zA-Z0-9_.-:]`);
}

/** The user's status, or undefined when there is no such user (ListUsers pages through the collection). */
async function statusOf(userId: string): Promise<UserStatus | undefined> {
  let NextToken: string | undefined;
  do {
    const page = await rekognition.send(new ListUsersCommand({ CollectionId: config.collectionId, MaxResults: 500, NextToken }));
    const user = page.Users?.find((u) => u.UserId === userId);
    if (user) {
      return user.UserStatus;
    }
    NextToken = page.NextToken;
  } while (NextToken);
  return undefined;
}

/** Runs a change of the user; while the user is UPDATING (ConflictException) waits for its status and tries again. */
async function whenSettled<T>(userId: string, change: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await change();
    } catch (error) {
      if (errorName(error) !== 'ConflictException' || attempt >= WAIT.attempts) {
        throw error;
      }
    }
    await backoff(attempt, WAIT);
    const status = await statusOf(userId);
    logger.debug('waited for the user to settle', { userId, status, attempt });
  }
}

/** Creates the user unless it exists; the token makes a retried create (for the same face) get the same answer. */
async function ensureUser(userId: string, faceId: string): Promise<void> {
  const ClientRequestToken = createHash('sha256').update(`${config.collectionId}|${userId}|${faceId}`).digest('hex').slice(0, 64);
  try {
    await rekognition.send(new CreateUserCommand({ CollectionId: config.collectionId, UserId: userId, ClientRequestToken }));
  } catch (error) {
    if (errorName(error) !== 'ConflictException') {
      throw error;
    }
    // the person's user exists (an earlier picture): nothing to create
  }
}

/**
 * Associates a face with the user, creating the user on its first face (AssociateFaces answers
 * ResourceNotFoundException for a user that does not exist); a rejection when the face is refused.
 */
async function associate(userId: string, faceId: string): Promise<EnrollmentRejected | undefined> {
  for (let attempt = 1; ; attempt++) {
    let out;
    try {
      out = await whenSettled(userId, () => rekognition.send(new AssociateFacesCommand({ CollectionId: config.collectionId, UserId: userId, FaceIds: [faceId] })));
    } catch (error) {
      const name = errorName(error);
      if (name === 'ServiceQuotaExceededException') {
        return tooMany(userId);
      }
      if (name === 'ResourceNotFoundException' && attempt < 3) {
        await ensureUser(userId, faceId); // the person's first picture, or their user was deleted meanwhile
        continue;
      }
      throw error;
    }
    const refused = out.UnsuccessfulFaceAssociations?.find((u) => u.FaceId === faceId);
    if (!refused) {
      return undefined; // associated now, or already before (a repeated request)
    }
    const reasons = refused.Reasons ?? [];
    if (reasons.includes('LOW_MATCH_CONFIDENCE')) {
      return new EnrollmentRejected('NotSamePerson', `the face does not look like the other pictures of ${userId} (match confidence ${refused.Confidence ?? 0}); upload a picture of the same person`);
    }
    if (!reasons.some((r) => r === 'FACE_NOT_FOUND' || r === 'ASSOCIATED_TO_A_DIFFERENT_USER')) {
      return tooMany(userId); // refused for no listed reason: the user is full
    }
    throw new Error(`AssociateFaces refused face ${faceId} for user ${userId}: ${reasons.join(', ')}`);
  }
}

function tooMany(userId: string): EnrollmentRejected {
  return new EnrollmentRejected(
    'TooManyFaces',
    `${userId} already has ${MAX_FACES_PER_USER} faces, the most a Rekognition user can hold; delete one of their pictures before adding another`,
  );
}

/**
 * The face just indexed joins its user. It is written on the item first (a checkpoint): an
 * attempt that fails after this leaves the face on the item, where the retry's claim finds it.
 * Answers the item as written and the outcome (a rejection when the user refuses the face).
 */
export async function joinUser(
  claimed: MappingItem,
  outcome: Extract<IndexOutcome, { kind: 'enrolled' }>,
  release: (claimed: MappingItem) => Promise<void>,
): Promise<{ claimed: MappingItem; outcome: IndexOutcome }> {
  const faceId = outcome.face.faceId;
  let checkpoint: MappingItem;
  try {
    checkpoint = await writeItem({ ...claimed, faceIds: [faceId] }, claimed.rev);
  } catch (error) {
    await deleteFaces([faceId]).catch((e) =>
      logger.error('a face indexed from the picture is recorded nowhere and could not be deleted: delete it by hand', { pk: claimed.pk, faceIds: [faceId], error: errorName(e) }),
    );
    if (error instanceof StaleRevision) {
      throw new InProgress(`${claimed.pk}: another invocation took the claim over; the face indexed meanwhile was deleted`);
    }
    await release(claimed);
    throw error;
  }
  let rejection: EnrollmentRejected | undefined;
  try {
    rejection = await associate(claimed.externalImageId, faceId);
  } catch (error) {
    await release(checkpoint);
    throw error;
  }
  return { claimed: checkpoint, outcome: rejection ? { kind: 'rejected', rejection, indexed: [faceId] } : outcome };
}

/**
 * Faces about to be deleted leave their user first; a user left with no face (CREATED) is
 * deleted. Faces that were never associated (a refused or half-enrolled picture) are no error.
 */
export async function leaveUser(userId: string, faceIds: readonly string[]): Promise<void> {
  if (!USER_ID.test(userId) || faceIds.length === 0) {
    return; // no user can have this id (a refused picture's, or none)
  }
  let status: UserStatus | undefined;
  try {
    for (const FaceIds of batchBy(faceIds, { maxCount: MAX_FACES_PER_USER })) {
      const out = await whenSettled(userId, () => rekognition.send(new DisassociateFacesCommand({ CollectionId: config.collectionId, UserId: userId, FaceIds })));
      status = out.UserStatus;
    }
  } catch (error) {
    if (errorName(error) === 'ResourceNotFoundException') {
      return; // no user (deleted already): no face is associated with it
    }
    throw error;
  }
  await deleteIfEmpty(userId, status);
}

/** Deletes the user when it has no face left, after waiting for an UPDATING user to settle. */
async function deleteIfEmpty(userId: string, reported: UserStatus | undefined): Promise<void> {
  let status = reported;
  for (let attempt = 1; status === 'UPDATING' && attempt < WAIT.attempts; attempt++) {
    await backoff(attempt, WAIT);
    status = await statusOf(userId);
  }
  if (status !== 'CREATED') {
    return; // faces left (ACTIVE), gone already, or still updating (the next removal checks again)
  }
  try {
    await whenSettled(userId, () => rekognition.send(new DeleteUserCommand({ CollectionId: config.collectionId, UserId: userId })));
    logger.info('user deleted: its last face was removed', { userId });
  } catch (error) {
    if (errorName(error) !== 'ResourceNotFoundException') {
      throw error;
    }
  }
}

/** What a backfill did. */
export interface BackfillResult {
  readonly associated: number;
  readonly users: number;
  /** Faces left out: their person has 100 faces already, or the face does not look like them. */
  readonly refused: number;
  /** false when the deadline came first: invoke again to go on (what is done is not repeated). */
  readonly done: boolean;
}

/**
 * Switches a collection enrolled in faces mode to users mode without re-uploading: every face
 * with an external image id and no user joins the user of that id. Idempotent: run it again after
 * a timeout and it goes on where it stopped. Invoked as the enrolment function with
 * `{"action": "backfill-users"}` (see the README).
 */
export async function backfill(deadline: number): Promise<BackfillResult> {
  const byPerson = new Map<string, string[]>();
  let NextToken: string | undefined;
  do {
    const page = await rekognition.send(new ListFacesCommand({ CollectionId: config.collectionId, MaxResults: 4096, NextToken }));
    for (const f of page.Faces ?? []) {
      if (f.FaceId && f.ExternalImageId && !f.UserId && USER_ID.test(f.ExternalImageId)) {
        byPerson.set(f.ExternalImageId, [...(byPerson.get(f.ExternalImageId) ?? []), f.FaceId]);
      }
    }
    NextToken = page.NextToken;
  } while (NextToken);
  let associated = 0;
  let refused = 0;
  for (const [userId, faceIds] of byPerson) {
    if (Date.now() > deadline) {
      return { associated, users: byPerson.size, refused, done: false };
    }
    for (const faceId of faceIds) {
      const rejection = await associate(userId, faceId);
      if (rejection) {
        refused++;
        logger.warn('a face was not added to its user', { userId, faceId, code: rejection.code, reason: rejection.message });
      } else {
        associated++;
      }
    }
  }
  logger.info('users backfilled', { associated, users: byPerson.size, refused });
  return { associated, users: byPerson.size, refused, done: true };
}
