/**
 * Users mode of the bundled enrolment handler (FaceIdentity.users(): IDENTITY=users): one
 * Rekognition user per external image id, kept in step with the pictures, against the local
 * Rekognition that models users (100 faces per user, statuses, ConflictException while UPDATING,
 * DeleteFaces refusing associated faces).
 */
import { BUCKET, enrollmentHarness, lambdaContext, TABLE } from './support/enrollment-harness';
import { MAX_FACES_PER_USER } from './support/fake-rekognition';
import { checkIam } from './support/iam-check';
import { enrollmentRole, enrollmentUsersDeployment } from './support/iam-deployments';

// every AWS call made in these tests is evaluated against the synthesized policies of a users-mode enrolment
checkIam({ deployment: enrollmentUsersDeployment, callers: { AKIDEXAMPLE: enrollmentRole } });

// one SDK attempt per call: a scripted fault fails the invocation, as exhausted SDK retries do
const h = enrollmentHarness({ AWS_MAX_ATTEMPTS: '1', IDENTITY: 'users' });
const { rekognition, dynamodb, s3, handler, upload, eventsOf } = h;

const user = (id: string) => rekognition.users.get(`staff|${id}`);
const facesOf = (id: string) => rekognition.facesOf('staff', id).map((f) => f.FaceId);

test('the first picture creates the person\'s user and associates its face; the next pictures join it', async () => {
  await handler(upload('faces/alice/1.jpg'));
  const [first] = [...rekognition.faces.keys()];
  const [create] = rekognition.callsOf('CreateUser');
  expect(create.body).toEqual({ CollectionId: 'staff', UserId: 'alice', ClientRequestToken: expect.stringMatching(/^[a-f0-9]{64}$/) });
  expect(user('alice')).toMatchObject({ UserStatus: 'ACTIVE' });
  expect(facesOf('alice')).toEqual([first]);

  await handler(upload('faces/alice/2.jpg'));
  await handler(upload('faces/alice/3.png'));
  expect(rekognition.callsOf('CreateUser')).toHaveLength(1);
  // the first face's association found no user (ResourceNotFoundException): created, then associated
  const [f1, f2, f3] = [...rekognition.faces.keys()];
  expect(rekognition.callsOf('AssociateFaces').map((c) => c.body.FaceIds)).toEqual([[f1], [f1], [f2], [f3]]);
  expect(facesOf('alice')).toHaveLength(3);
  expect(eventsOf('Face Enrolled').map((e) => e.externalImageId)).toEqual(['alice', 'alice', 'alice']);
});

test('overwriting a picture moves the user from the old face to the new one; deleting the last picture deletes the user', async () => {
  await handler(upload('faces/bob/b.jpg'));
  const [oldFace] = [...rekognition.faces.keys()];
  await handler(upload('faces/bob/b.jpg'));
  const [newFace] = [...rekognition.faces.keys()];
  expect(newFace).not.toBe(oldFace);
  expect(rekognition.callsOf('DisassociateFaces').map((c) => c.body)).toEqual([expect.objectContaining({ CollectionId: 'staff', UserId: 'bob', FaceIds: [oldFace] })]);
  expect(facesOf('bob')).toEqual([newFace]);
  expect(rekognition.callsOf('DeleteUser')).toHaveLength(0);

  await handler(upload('faces/bob/c.jpg'));
  await handler(h.deleteObject('faces/bob/b.jpg'));
  expect(facesOf('bob')).toHaveLength(1);
  expect(user('bob')).toMatchObject({ UserStatus: 'ACTIVE' });
  await handler(h.deleteObject('faces/bob/c.jpg'));
  expect(rekognition.callsOf('DeleteUser').map((c) => c.body)).toEqual([expect.objectContaining({ CollectionId: 'staff', UserId: 'bob' })]);
  expect(user('bob')).toBeUndefined();
  expect(rekognition.faces.size).toBe(0);
  expect(eventsOf('Face Removed')).toHaveLength(3);
});

test('a user that is UPDATING is waited for (ListUsers) before its next change', async () => {
  rekognition.userPollsToSettle = 2;
  await handler(upload('faces/carol/1.jpg'));
  expect(user('carol')).toMatchObject({ UserStatus: 'UPDATING' });
  await handler(upload('faces/carol/2.jpg'));
  // the second association met ConflictException while the user was UPDATING, waited for its
  // status (two ListUsers polls settle it) and was tried again
  const [, second] = [...rekognition.faces.keys()];
  expect(rekognition.callsOf('AssociateFaces').filter((c) => c.body.FaceIds[0] === second)).toHaveLength(3);
  expect(rekognition.callsOf('ListUsers')).toHaveLength(2);
  expect(facesOf('carol')).toHaveLength(2);
  // removing both pictures: the user is deleted once it has settled with no face
  await handler(h.deleteObject('faces/carol/1.jpg'));
  await handler(h.deleteObject('faces/carol/2.jpg'));
  expect(user('carol')).toBeUndefined();
  expect(rekognition.faces.size).toBe(0);
});

test('a create that finds the user (made meanwhile by another picture of the person) is no error', async () => {
  await handler(upload('faces/dave/1.jpg'));
  // the next association does not find the user at first, as in a race with the user's creation
  rekognition.fail({ operation: 'AssociateFaces', type: 'ResourceNotFoundException', message: 'The user id: dave does not exist' });
  await handler(upload('faces/dave/2.jpg'));
  expect(rekognition.callsOf('CreateUser')).toHaveLength(2); // the second one answered ConflictException
  expect(facesOf('dave')).toHaveLength(2);
  expect(eventsOf('Face Enrolled')).toHaveLength(2);
});

describe('a crash between IndexFaces and AssociateFaces', () => {
  test('handed back to Lambda\'s retry: the retry enrols the picture once, and the face indexed before is deleted', async () => {
    rekognition.fail({ operation: 'AssociateFaces', type: 'ThrottlingException', message: 'Rate exceeded' });
    const event = upload('faces/erin/1.jpg');
    await expect(handler(event)).rejects.toThrow(/ThrottlingException/);
    const [first] = [...rekognition.faces.keys()];
    // the face is recorded on the item before it is associated: nothing is lost track of
    const item = dynamodb.items(TABLE)[0];
    expect(item).toMatchObject({ status: { S: 'indexing' }, faceIds: { L: [{ S: first }] }, leaseUntil: { N: '0' } });

    await handler(event);
    expect([...rekognition.faces.keys()]).toHaveLength(1);
    const [second] = [...rekognition.faces.keys()];
    expect(second).not.toBe(first);
    expect(facesOf('erin')).toEqual([second]);
    expect(eventsOf('Face Enrolled')).toEqual([expect.objectContaining({ faceId: second })]);
    expect(eventsOf('Face Removed')).toEqual([]); // a face never announced is not announced removed
    expect(s3.tagsOf(BUCKET, 'faces/erin/1.jpg')).toMatchObject({ 'face-enrollment': 'enrolled', 'face-id': second });
  });

  test('an invocation that died (its claim not handed back): the retry after the claim ended does the same', async () => {
    rekognition.fail({ operation: 'AssociateFaces', type: 'ThrottlingException', message: 'Rate exceeded' });
    dynamodb.failNth('PutItem', 3, 'ProvisionedThroughputExceededException'); // claim, checkpoint, then the hand-back fails
    const event = upload('faces/erin/1.jpg');
    // its deadline passed already: its claim ends 2 s after it
    await expect(handler(event, lambdaContext(-10_000))).rejects.toThrow();
    const [first] = [...rekognition.faces.keys()];
    expect(Number(dynamodb.items(TABLE)[0].leaseUntil.N)).toBeLessThan(Date.now());

    await handler(event);
    expect(rekognition.faces.has(first)).toBe(false);
    expect(rekognition.faces.size).toBe(1);
    expect(facesOf('erin')).toEqual([...rekognition.faces.keys()]);
  });
});

test('the 101st picture of a person is refused with TooManyFaces, and its face is deleted', async () => {
  // alice has 100 faces in her user already
  rekognition.users.set('staff|alice', { UserId: 'alice', CollectionId: 'staff', UserStatus: 'ACTIVE', pending: 0 });
  for (let i = 0; i < MAX_FACES_PER_USER; i++) {
    rekognition.faces.set(`old-${i}`, { FaceId: `old-${i}`, ImageId: `image-old-${i}`, ExternalImageId: 'alice', CollectionId: 'staff', UserId: 'alice' });
  }
  await handler(upload('faces/alice/101.jpg'));
  expect(eventsOf('Face Enrollment Failed')).toEqual([
    expect.objectContaining({ key: 'faces/alice/101.jpg', externalImageId: 'alice', code: 'TooManyFaces', reason: expect.stringMatching(/alice already has 100 faces/) }),
  ]);
  expect(eventsOf('Face Enrolled')).toEqual([]);
  expect(rekognition.faces.size).toBe(MAX_FACES_PER_USER);
  expect(facesOf('alice')).toHaveLength(MAX_FACES_PER_USER);
  expect(s3.tagsOf(BUCKET, 'faces/alice/101.jpg')).toMatchObject({ 'face-enrollment': 'failed' });

  // deleting one of her pictures makes room: the picture uploaded again is enrolled
  rekognition.faces.get('old-0')!.UserId = undefined;
  await handler(upload('faces/alice/101.jpg'));
  expect(eventsOf('Face Enrolled')).toHaveLength(1);
  expect(facesOf('alice')).toHaveLength(MAX_FACES_PER_USER);
});

test('a face that does not look like the person\'s other pictures is refused with NotSamePerson', async () => {
  await handler(upload('faces/frank/1.jpg'));
  rekognition.images.set('faces/frank/2.jpg', { person: 'mallory' });
  await handler(upload('faces/frank/2.jpg'));
  expect(eventsOf('Face Enrollment Failed')).toEqual([expect.objectContaining({ code: 'NotSamePerson', externalImageId: 'frank' })]);
  expect(rekognition.faces.size).toBe(1);
  expect(facesOf('frank')).toHaveLength(1);
});

test('an external image id longer than a user id allows (128 characters) is refused before indexing', async () => {
  const id = 'x'.repeat(129);
  await handler(upload(`faces/${id}/1.jpg`));
  expect(eventsOf('Face Enrollment Failed')).toEqual([expect.objectContaining({ code: 'InvalidExternalImageId', reason: expect.stringMatching(/1-128 characters/) })]);
  expect(rekognition.callsOf('IndexFaces')).toHaveLength(0);
});

test('backfill: a collection enrolled in faces mode joins users mode without re-uploading; running it again changes nothing', async () => {
  const faces = [
    ['f1', 'alice'],
    ['f2', 'alice'],
    ['f3', 'bob'],
    ['f4', undefined],
  ] as const;
  for (const [FaceId, ExternalImageId] of faces) {
    rekognition.faces.set(FaceId, { FaceId, ImageId: `image-${FaceId}`, ExternalImageId, CollectionId: 'staff' });
  }
  const backfill = handler as unknown as (event: unknown, context?: unknown) => Promise<unknown>;
  expect(await backfill({ action: 'backfill-users' }, lambdaContext())).toEqual({ associated: 3, users: 2, refused: 0, done: true });
  expect(facesOf('alice')).toEqual(['f1', 'f2']);
  expect(facesOf('bob')).toEqual(['f3']);
  expect(rekognition.faces.get('f4')!.UserId).toBeUndefined();
  const calls = rekognition.calls.length;
  expect(await backfill({ action: 'backfill-users' }, lambdaContext())).toEqual({ associated: 0, users: 0, refused: 0, done: true });
  expect(rekognition.calls.slice(calls).map((c) => c.operation)).toEqual(['ListFaces']);
  await expect(backfill({ action: 'something' })).rejects.toThrow(/unknown action "something"/);
});
