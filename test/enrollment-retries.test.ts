/**
 * Enrolment retries (issue 11, items 15 and 16), through the bundled handler against the local
 * fakes: a failed attempt hands its work to Lambda's retry, which finishes it; nothing is indexed
 * twice, no face is left behind, no event is lost.
 */
import { BUCKET, enrollmentHarness, lambdaContext } from './support/enrollment-harness';
import { checkIam } from './support/iam-check';
import { enrollmentDeployment, enrollmentRole } from './support/iam-deployments';

// every AWS call made in these tests is evaluated against the synthesized policies (test/support/iam-check.ts)
checkIam({ deployment: enrollmentDeployment, callers: { AKIDEXAMPLE: enrollmentRole } });

// one SDK attempt per call: a scripted fault fails the invocation, as exhausted SDK retries do
const h = enrollmentHarness({ AWS_MAX_ATTEMPTS: '1' });
const { rekognition, dynamodb, eventBridge, s3 } = h;
const context = lambdaContext(60_000);

describe('a failed attempt does not block Lambda\'s retries (claims)', () => {
  test('a throttled IndexFaces hands its claim back: Lambda\'s retry enrols the picture', async () => {
    const event = h.upload('faces/erin/e.jpg');
    rekognition.fail({ operation: 'IndexFaces', type: 'ThrottlingException', message: 'Rate exceeded' });
    await expect(h.handler(event, context)).rejects.toThrow('1 of 1 S3 records not finished: faces/erin/e.jpg: ThrottlingException: Rate exceeded');
    expect(rekognition.faces.size).toBe(0);

    await h.handler(event, context); // Lambda's first retry, about a minute later
    const [face] = [...rekognition.faces.values()];
    expect(face).toMatchObject({ ExternalImageId: 'erin' });
    expect(rekognition.callsOf('IndexFaces')).toHaveLength(2);
    expect(h.eventsOf('Face Enrolled')).toEqual([
      { collectionId: 'staff', bucket: BUCKET, key: 'faces/erin/e.jpg', externalImageId: 'erin', faceId: face.FaceId, imageId: face.ImageId, confidence: 99.9 },
    ]);
  });

  test('an invocation that died holding its claim does not block the retry that comes after its timeout', async () => {
    const event = h.upload('faces/erin/e.jpg');
    rekognition.fail({ operation: 'IndexFaces', type: 'ThrottlingException', message: 'Rate exceeded' });
    dynamodb.failNth('PutItem', 2, 'ProvisionedThroughputExceededException'); // the claim is the 1st PutItem, handing it back the 2nd
    await expect(h.handler(event, context)).rejects.toThrow(/ThrottlingException/);
    // a duplicate delivered at once still waits: the claim lasts until the invocation's timeout
    await expect(h.handler(event, context)).rejects.toThrow('faces-bucket/faces/erin/e.jpg is being enrolled by another invocation');

    dynamodb.later(90_000); // Lambda's first retry: the 60 s timeout, then about a minute
    await h.handler(event, context);
    expect(rekognition.faces.size).toBe(1);
    expect(h.eventsOf('Face Enrolled')).toHaveLength(1);
  });

  test('a group photo whose extra face cannot be deleted at once: the retry deletes it, no stranger stays under the person\'s id', async () => {
    rekognition.images.set('faces/carol/group.jpg', { faces: 3 });
    const event = h.upload('faces/carol/group.jpg');
    rekognition.fail({ operation: 'DeleteFaces', type: 'ThrottlingException', message: 'Rate exceeded' });
    await expect(h.handler(event, context)).rejects.toThrow(/DeleteFaces|ThrottlingException/);
    expect([...rekognition.faces.values()].map((f) => f.ExternalImageId)).toEqual(['carol']); // the largest face, for now

    await h.handler(event, context);
    expect(rekognition.faces.size).toBe(0);
    expect(rekognition.callsOf('IndexFaces')).toHaveLength(1);
    expect(h.eventsOf('Face Enrollment Failed')).toEqual([
      {
        collectionId: 'staff',
        bucket: BUCKET,
        key: 'faces/carol/group.jpg',
        externalImageId: 'carol',
        code: 'SeveralFaces',
        reason: 'the image shows 3 faces; upload a picture of one person',
      },
    ]);
    expect(s3.tagsOf(BUCKET, 'faces/carol/group.jpg')).toEqual({
      'face-enrollment': 'failed',
      'face-enrollment-code': 'SeveralFaces',
      'face-enrollment-reason': 'the image shows 3 faces  upload a picture of one person',
    });
  });

  test('an overwrite whose old face cannot be deleted at once: the retry deletes it, the new face stays, Face Removed says so', async () => {
    await h.handler(h.upload('faces/bob/b.jpg'), context);
    const [oldFace] = [...rekognition.faces.keys()];
    const overwrite = h.upload('faces/bob/b.jpg');
    rekognition.fail({ operation: 'DeleteFaces', type: 'ThrottlingException', message: 'Rate exceeded' });
    await expect(h.handler(overwrite, context)).rejects.toThrow(/ThrottlingException/);

    await h.handler(overwrite, context);
    const faces = [...rekognition.faces.keys()];
    expect(faces).toHaveLength(1);
    expect(faces[0]).not.toBe(oldFace);
    expect(rekognition.callsOf('IndexFaces')).toHaveLength(2);
    expect(h.eventsOf('Face Enrolled').map((d) => d.faceId)).toEqual([oldFace, faces[0]]);
    expect(h.eventsOf('Face Removed')).toEqual([{ collectionId: 'staff', bucket: BUCKET, key: 'faces/bob/b.jpg', faceIds: [oldFace] }]);
  });

  test('an overwrite whose old face can never be deleted: deleting the picture later removes the old face and the new one', async () => {
    await h.handler(h.upload('faces/bob/b.jpg'), context);
    const [oldFace] = [...rekognition.faces.keys()];
    const overwrite = h.upload('faces/bob/b.jpg');
    rekognition.fail({ operation: 'DeleteFaces', type: 'ThrottlingException', message: 'Rate exceeded', times: 3 });
    for (let attempt = 1; attempt <= 3; attempt++) {
      // the invocation and Lambda's two retries
      await expect(h.handler(overwrite, context)).rejects.toThrow(/ThrottlingException/);
    }
    const newFace = [...rekognition.faces.keys()].find((id) => id !== oldFace);
    expect(newFace).toBeDefined();
    expect(rekognition.callsOf('IndexFaces')).toHaveLength(2);

    await h.handler(h.deleteObject('faces/bob/b.jpg'), context);
    expect(rekognition.faces.size).toBe(0);
    expect(rekognition.callsOf('DeleteFaces').at(-1)!.body).toEqual({ CollectionId: 'staff', FaceIds: [oldFace, newFace] });
    expect(h.eventsOf('Face Removed')).toEqual([
      { collectionId: 'staff', bucket: BUCKET, key: 'faces/bob/b.jpg', faceIds: [oldFace] },
      { collectionId: 'staff', bucket: BUCKET, key: 'faces/bob/b.jpg', faceIds: [newFace] },
    ]);
  });
});

describe('an event that could not be sent is sent by the retry (event pending)', () => {
  test('PutEvents failing after indexing: the retry sends Face Enrolled once, without indexing again', async () => {
    const event = h.upload('faces/alice/a.jpg');
    eventBridge.failEntries(4); // every attempt of the publisher
    await expect(h.handler(event, context)).rejects.toThrow('1 of 1 S3 records not finished: faces/alice/a.jpg: Error: 1 enrolment event(s) not delivered: Face Enrolled');
    expect(h.eventsOf('Face Enrolled')).toEqual([]);

    await h.handler(event, context);
    await h.handler(event, context); // a later duplicate sends nothing more
    const [face] = [...rekognition.faces.values()];
    expect(rekognition.callsOf('IndexFaces')).toHaveLength(1);
    expect(h.eventsOf('Face Enrolled')).toEqual([expect.objectContaining({ key: 'faces/alice/a.jpg', faceId: face.FaceId })]);
  });

  test('PutEvents failing after a deletion: the retry sends Face Removed', async () => {
    await h.handler(h.upload('faces/alice/a.jpg'), context);
    const [faceId] = [...rekognition.faces.keys()];
    const deletion = h.deleteObject('faces/alice/a.jpg');
    eventBridge.failEntries(4);
    await expect(h.handler(deletion, context)).rejects.toThrow(/not delivered: Face Removed/);
    expect(rekognition.faces.size).toBe(0);

    await h.handler(deletion, context);
    expect(h.eventsOf('Face Removed')).toEqual([{ collectionId: 'staff', bucket: BUCKET, key: 'faces/alice/a.jpg', faceIds: [faceId] }]);
  });

  test('a failure event that could not be sent is sent by the retry', async () => {
    rekognition.images.set('faces/carol/empty.jpg', { faces: 0 });
    const event = h.upload('faces/carol/empty.jpg');
    eventBridge.failEntries(4);
    await expect(h.handler(event, context)).rejects.toThrow(/not delivered: Face Enrollment Failed/);
    await h.handler(event, context);
    expect(h.eventsOf('Face Enrollment Failed')).toEqual([expect.objectContaining({ key: 'faces/carol/empty.jpg', code: 'NoFace' })]);
    expect(rekognition.callsOf('IndexFaces')).toHaveLength(1);
  });
});
