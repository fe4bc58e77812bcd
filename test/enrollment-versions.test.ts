/**
 * Enrolment in a versioned bucket (issue 11, item 17), through the bundled handler against the
 * local fakes: S3 notifies each version's creation, each delete marker and each permanent deletion
 * of a version, in any order; enrolment follows the key's current picture.
 */
import { BUCKET, enrollmentHarness, lambdaContext } from './support/enrollment-harness';
import { checkIam } from './support/iam-check';
import { enrollmentDeployment, enrollmentRole } from './support/iam-deployments';

// every AWS call made in these tests is evaluated against the synthesized policies (test/support/iam-check.ts)
checkIam({ deployment: enrollmentDeployment, callers: { AKIDEXAMPLE: enrollmentRole } });

const h = enrollmentHarness({ AWS_MAX_ATTEMPTS: '1' });
const { rekognition, s3 } = h;
const context = lambdaContext();
const KEY = 'faces/alice/badge.jpg';

beforeEach(() => s3.versioned(BUCKET));

test('IndexFaces reads the version of the event, and the outcome tags go on that version', async () => {
  const v1 = h.upload(KEY, { tags: { owner: 'hr' } });
  const v1Id = v1.Records[0].s3.object.versionId!;
  await h.handler(v1, context);
  expect(rekognition.callsOf('IndexFaces')[0].body.Image).toEqual({ S3Object: { Bucket: BUCKET, Name: KEY, Version: v1Id } });
  const [face] = [...rekognition.faces.keys()];
  expect(s3.tagsOf(BUCKET, KEY, v1Id)).toEqual({ 'owner': 'hr', 'face-enrollment': 'enrolled', 'face-id': face });
  expect(h.eventsOf('Face Enrolled')).toEqual([expect.objectContaining({ key: KEY, versionId: v1Id, faceId: face })]);
});

test('a delete marker handled before the older upload\'s event: the deleted picture is not enrolled', async () => {
  const create = h.upload(KEY);
  const deletion = h.deleteObject(KEY); // a delete marker; the version itself is still readable
  await h.handler(deletion, context);
  await h.handler(create, context);
  expect(rekognition.callsOf('IndexFaces')).toEqual([]);
  expect(rekognition.faces.size).toBe(0);
  expect(h.eventsOf('Face Enrolled')).toEqual([]);
  expect(h.eventsOf('Face Enrollment Failed')).toEqual([]);
});

test('a delete marker removes the face of the current picture', async () => {
  const create = h.upload(KEY);
  await h.handler(create, context);
  const [face] = [...rekognition.faces.keys()];
  await h.handler(h.deleteObject(KEY), context);
  expect(rekognition.faces.size).toBe(0);
  expect(h.eventsOf('Face Removed')).toEqual([
    { collectionId: 'staff', bucket: BUCKET, key: KEY, versionId: create.Records[0].s3.object.versionId, faceIds: [face] },
  ]);
});

test('permanently deleting an older version keeps the current picture\'s face', async () => {
  const v1 = h.upload(KEY);
  await h.handler(v1, context);
  await h.handler(h.upload(KEY), context);
  const [current] = [...rekognition.faces.keys()];
  await h.handler(h.deleteVersion(KEY, v1.Records[0].s3.object.versionId!), context);
  expect([...rekognition.faces.keys()]).toEqual([current]);
  expect(h.eventsOf('Face Removed')).toHaveLength(1); // the overwrite's, of v1's face
});

test('permanently deleting the enrolled version removes its face; the older version that becomes current is not re-enrolled', async () => {
  await h.handler(h.upload(KEY), context);
  const v2 = h.upload(KEY);
  const v2Id = v2.Records[0].s3.object.versionId!;
  await h.handler(v2, context);
  const [face] = [...rekognition.faces.keys()];
  await h.handler(h.deleteVersion(KEY, v2Id), context);
  expect(rekognition.faces.size).toBe(0);
  expect(h.eventsOf('Face Removed').at(-1)).toEqual({ collectionId: 'staff', bucket: BUCKET, key: KEY, versionId: v2Id, faceIds: [face] });
  expect(rekognition.callsOf('IndexFaces')).toHaveLength(2);
});

test('two versions whose events arrive in reverse order: the newer is enrolled, the older is stale', async () => {
  const v1 = h.upload(KEY);
  const v2 = h.upload(KEY);
  await h.handler(v2, context);
  await h.handler(v1, context);
  expect(rekognition.callsOf('IndexFaces').map((c) => c.body.Image.S3Object.Version)).toEqual([v2.Records[0].s3.object.versionId]);
  expect(rekognition.faces.size).toBe(1);
});

test('a version deleted before its upload event is handled is reported as unreadable, and no face is indexed', async () => {
  const v1 = h.upload(KEY);
  const v1Id = v1.Records[0].s3.object.versionId!;
  const permanent = h.deleteVersion(KEY, v1Id);
  await h.handler(permanent, context);
  await h.handler(v1, context);
  expect(rekognition.faces.size).toBe(0);
  expect(h.eventsOf('Face Enrollment Failed')).toEqual([expect.objectContaining({ key: KEY, versionId: v1Id, code: 'InvalidS3Object' })]);
});
