/**
 * The enrolment function's main behaviours through the bundled handler, against the project's fakes
 * and against moto for S3 (a versioned bucket too), DynamoDB and EventBridge
 * (test/support/enrollment-backends.ts): the same spec, read the way a user reads the outcome
 * (object tags, the mapping table, events a rule delivered). Rekognition is the project's fake in
 * both; faults are injected only into the fakes (test/face-enrollment-handler.test.ts and the
 * other enrolment tests).
 */
import { EnrollmentBackend, fakeEnrollmentBackend, motoEnrollmentBackend } from './support/enrollment-backends';
import { BUCKET, lambdaContext } from './support/enrollment-harness';
import { MOTO_TIMEOUT } from './support/moto';
import { checkIam } from './support/iam-check';
import { enrollmentDeployment, enrollmentRole } from './support/iam-deployments';

// every call that reaches the project's fakes is evaluated against the synthesized policies (moto's are not recorded)
checkIam({ deployment: enrollmentDeployment, callers: { AKIDEXAMPLE: enrollmentRole } });

// a ceiling, not a measure: moto is a Python server, slow to start and to answer on a busy machine
jest.setTimeout(MOTO_TIMEOUT);

// one SDK attempt per call, as in the other enrolment tests
const ENV = { AWS_MAX_ATTEMPTS: '1' };
const context = lambdaContext();
const KEY = 'faces/alice/badge.jpg';

function spec(b: EnrollmentBackend): void {
  const { rekognition } = b;

  test('an upload indexes the face, tags the object, records the mapping and emits Face Enrolled', async () => {
    await b.handler(await b.upload('faces/alice/2024-portrait.jpg', { tags: { owner: 'hr' } }), context);
    const [face] = [...rekognition.faces.values()];
    expect(face).toMatchObject({ ExternalImageId: 'alice', CollectionId: 'staff' });
    expect(await b.eventsOf('Face Enrolled')).toEqual([expect.objectContaining({ collectionId: 'staff', bucket: BUCKET, key: 'faces/alice/2024-portrait.jpg', externalImageId: 'alice', faceId: face.FaceId })]);
    expect(await b.tagsOf('faces/alice/2024-portrait.jpg')).toEqual({ 'owner': 'hr', 'face-enrollment': 'enrolled', 'face-id': face.FaceId });
    expect(await b.items()).toEqual([
      expect.objectContaining({ pk: { S: `${BUCKET}/faces/alice/2024-portrait.jpg` }, status: { S: 'enrolled' }, faceIds: { L: [{ S: face.FaceId }] } }),
    ]);
  });

  test('a retried S3 event never indexes the same image twice; the same event twice at once is indexed once', async () => {
    const event = await b.upload('faces/alice/a.jpg');
    await b.handler(event, context);
    await b.handler(event, context);
    expect(rekognition.callsOf('IndexFaces')).toHaveLength(1);
    const twice = await b.upload('faces/bob/b.jpg');
    const results = await Promise.allSettled([b.handler(twice, context), b.handler(twice, context)]);
    for (const r of results.filter((x) => x.status === 'rejected') as PromiseRejectedResult[]) {
      expect(String(r.reason)).toMatch(/being enrolled by another invocation/);
    }
    await b.handler(twice, context); // Lambda's retry of the loser
    expect(rekognition.faces.size).toBe(2);
    expect(await b.eventsOf('Face Enrolled')).toHaveLength(2);
  });

  test('deleting the object deletes its face and leaves a tombstone that expires (TTL)', async () => {
    await b.handler(await b.upload('faces/alice/one.jpg'), context);
    const [faceId] = [...rekognition.faces.keys()];
    await b.handler(await b.deleteObject('faces/alice/one.jpg'), context);
    expect(rekognition.faces.size).toBe(0);
    expect(await b.eventsOf('Face Removed')).toEqual([{ collectionId: 'staff', bucket: BUCKET, key: 'faces/alice/one.jpg', faceIds: [faceId] }]);
    const [tombstone] = await b.items();
    expect(tombstone).toMatchObject({ status: { S: 'deleted' }, faceIds: { L: [] } });
    expect(Number(tombstone.expiresAt.N) - Date.now() / 1000).toBeGreaterThan(29 * 24 * 3600);
  });

  test('a picture without a face fails with its reason in an event and on the object\'s tags', async () => {
    rekognition.images.set('faces/carol/empty.jpg', { faces: 0 });
    await b.handler(await b.upload('faces/carol/empty.jpg'), context);
    expect(rekognition.faces.size).toBe(0);
    expect(await b.eventsOf('Face Enrollment Failed')).toEqual([expect.objectContaining({ key: 'faces/carol/empty.jpg', code: 'NoFace' })]);
    expect((await b.tagsOf('faces/carol/empty.jpg'))?.['face-enrollment']).toBe('failed');
  });

  describe('a versioned bucket', () => {
    beforeEach(() => b.versioned());

    test('IndexFaces reads the version of the event, and the outcome tags go on that version', async () => {
      const v1 = await b.upload(KEY, { tags: { owner: 'hr' } });
      const v1Id = v1.Records[0].s3.object.versionId!;
      expect(v1Id).toBeTruthy();
      await b.handler(v1, context);
      expect(rekognition.callsOf('IndexFaces')[0].body.Image).toEqual({ S3Object: { Bucket: BUCKET, Name: KEY, Version: v1Id } });
      const [face] = [...rekognition.faces.keys()];
      expect(await b.tagsOf(KEY, v1Id)).toEqual({ 'owner': 'hr', 'face-enrollment': 'enrolled', 'face-id': face });
    });

    test('a delete marker removes the face of the current picture; one handled before the upload\'s event keeps it from being enrolled', async () => {
      const create = await b.upload(KEY);
      await b.handler(create, context);
      await b.handler(await b.deleteObject(KEY), context);
      expect(rekognition.faces.size).toBe(0);
      expect(await b.eventsOf('Face Removed')).toHaveLength(1);

      const late = await b.upload('faces/bob/b.jpg');
      await b.handler(await b.deleteObject('faces/bob/b.jpg'), context);
      await b.handler(late, context);
      expect(rekognition.faces.size).toBe(0);
      expect(rekognition.callsOf('IndexFaces')).toHaveLength(1);
    });

    test('permanently deleting the enrolled version removes its face; an older version that becomes current is not re-enrolled', async () => {
      await b.handler(await b.upload(KEY), context);
      const v2 = await b.upload(KEY);
      const v2Id = v2.Records[0].s3.object.versionId!;
      await b.handler(v2, context);
      await b.handler(await b.deleteVersion(KEY, v2Id), context);
      expect(rekognition.faces.size).toBe(0);
      expect(rekognition.callsOf('IndexFaces')).toHaveLength(2);
    });

    test('a version deleted before its upload event is handled is reported as unreadable, and no face is indexed', async () => {
      const v1 = await b.upload(KEY);
      const v1Id = v1.Records[0].s3.object.versionId!;
      await b.handler(await b.deleteVersion(KEY, v1Id), context);
      await b.handler(v1, context);
      expect(rekognition.faces.size).toBe(0);
      expect(await b.eventsOf('Face Enrollment Failed')).toEqual([expect.objectContaining({ key: KEY, versionId: v1Id, code: 'InvalidS3Object' })]);
    });
  });
}

describe('against the project\'s fakes', () => spec(fakeEnrollmentBackend(ENV)));
describe('against moto (S3, DynamoDB, EventBridge)', () => spec(motoEnrollmentBackend(ENV)));
