/**
 * Behaviour of the bundled enrolment handler (assets/face-enrollment/index.js) with S3 event
 * notifications, against local servers speaking Rekognition's (JSON 1.1), S3's (REST-XML),
 * DynamoDB's and EventBridge's wire protocols, through the real AWS SDK v3 clients.
 */
import { BUCKET, enrollmentHarness, TABLE } from './support/enrollment-harness';
import { checkIam } from './support/iam-check';
import { enrollmentDeployment, enrollmentRole } from './support/iam-deployments';

// every AWS call made in these tests is evaluated against the synthesized policies (test/support/iam-check.ts)
checkIam({ deployment: enrollmentDeployment, callers: { AKIDEXAMPLE: enrollmentRole } });

// one SDK attempt per call: a scripted fault fails the invocation, as exhausted SDK retries do
const h = enrollmentHarness({ AWS_MAX_ATTEMPTS: '1' });
const { rekognition, s3, dynamodb, handler, upload, s3Event, eventsOf } = h;

test('an upload indexes the face under the external image id, tags the object and emits Face Enrolled', async () => {
  await handler(upload('faces/alice/2024-portrait.jpg', { tags: { owner: 'hr' } }));

  const [call] = rekognition.callsOf('IndexFaces');
  expect(call.body).toEqual({
    CollectionId: 'staff',
    Image: { S3Object: { Bucket: BUCKET, Name: 'faces/alice/2024-portrait.jpg' } },
    ExternalImageId: 'alice',
    MaxFaces: 1,
    QualityFilter: 'AUTO',
    DetectionAttributes: ['DEFAULT'],
  });
  const [face] = [...rekognition.faces.values()];
  expect(face).toMatchObject({ ExternalImageId: 'alice', CollectionId: 'staff' });
  expect(eventsOf('Face Enrolled')).toEqual([
    expect.objectContaining({ collectionId: 'staff', bucket: BUCKET, key: 'faces/alice/2024-portrait.jpg', externalImageId: 'alice', faceId: face.FaceId }),
  ]);
  expect(s3.tagsOf(BUCKET, 'faces/alice/2024-portrait.jpg')).toEqual({ 'owner': 'hr', 'face-enrollment': 'enrolled', 'face-id': face.FaceId });
  expect(dynamodb.items(TABLE)).toEqual([
    expect.objectContaining({ pk: { S: `${BUCKET}/faces/alice/2024-portrait.jpg` }, status: { S: 'enrolled' }, faceIds: { L: [{ S: face.FaceId }] }, staleFaceIds: { L: [] }, pending: { S: '[]' } }),
  ]);
});

test('a retried S3 event never indexes the same image twice', async () => {
  const event = upload('faces/alice/a.jpg');
  await handler(event);
  await handler(event);
  await handler(event);
  expect(rekognition.callsOf('IndexFaces')).toHaveLength(1);
  expect(rekognition.faces.size).toBe(1);
  expect(eventsOf('Face Enrolled')).toHaveLength(1);
});

test('the same event delivered twice at once is indexed once; the loser retries later and then skips', async () => {
  const event = upload('faces/alice/a.jpg');
  const results = await Promise.allSettled([handler(event), handler(event)]);
  const rejected = results.filter((r) => r.status === 'rejected') as PromiseRejectedResult[];
  for (const r of rejected) {
    expect(String(r.reason)).toMatch(/being enrolled by another invocation/);
  }
  await handler(event); // Lambda's retry of the loser
  expect(rekognition.faces.size).toBe(1);
  expect(eventsOf('Face Enrolled')).toHaveLength(1);
});

test('deleting the object deletes exactly the faces indexed from it', async () => {
  await handler(upload('faces/alice/one.jpg'));
  await handler(upload('faces/alice/two.png'));
  const [first, second] = [...rekognition.faces.keys()];
  await handler(h.deleteObject('faces/alice/one.jpg'));
  expect(rekognition.callsOf('DeleteFaces').map((c) => c.body)).toEqual([{ CollectionId: 'staff', FaceIds: [first] }]);
  expect([...rekognition.faces.keys()]).toEqual([second]);
  expect(eventsOf('Face Removed')).toEqual([{ collectionId: 'staff', bucket: BUCKET, key: 'faces/alice/one.jpg', faceIds: [first] }]);
  // the deletion is remembered for 30 days (TTL), so that an older upload event delivered late is stale
  const tombstone = dynamodb.items(TABLE).find((i) => i.pk.S === `${BUCKET}/faces/alice/one.jpg`)!;
  expect(tombstone).toMatchObject({ status: { S: 'deleted' }, faceIds: { L: [] }, staleFaceIds: { L: [] }, pending: { S: '[]' } });
  expect(Number(tombstone.expiresAt.N) - Date.now() / 1000).toBeGreaterThan(29 * 24 * 3600);
  expect(dynamodb.items(TABLE).find((i) => i.pk.S === `${BUCKET}/faces/alice/two.png`)).toMatchObject({ status: { S: 'enrolled' }, faceIds: { L: [{ S: second }] } });
});

test('overwriting an object replaces its face; a stale delete of the older upload is ignored', async () => {
  const older = s3Event('ObjectRemoved:Delete', 'faces/bob/b.jpg');
  await handler(upload('faces/bob/b.jpg'));
  const [oldFace] = [...rekognition.faces.keys()];
  await handler(upload('faces/bob/b.jpg'));
  const [newFace] = [...rekognition.faces.keys()];
  expect(newFace).not.toBe(oldFace);
  expect(rekognition.faces.size).toBe(1);
  await handler(older); // delivered late, older than the second upload
  expect(rekognition.faces.has(newFace)).toBe(true);
});

test('an overwrite whose first attempt failed before deleting the old face deletes it on the retry', async () => {
  await handler(upload('faces/bob/b.jpg'));
  const [oldFace] = [...rekognition.faces.keys()];
  const overwrite = upload('faces/bob/b.jpg');
  rekognition.fail({ operation: 'DeleteFaces', type: 'ThrottlingException', message: 'Rate exceeded' });
  await expect(handler(overwrite)).rejects.toThrow(/ThrottlingException/);
  expect(rekognition.faces.has(oldFace)).toBe(true);
  await handler(overwrite); // Lambda's retry: no claim to wait for
  expect(rekognition.faces.has(oldFace)).toBe(false);
  expect(rekognition.faces.size).toBe(1);
});

test('URL-encoded keys are decoded', async () => {
  await handler(upload('faces/bob/100% me.jpg'));
  expect(rekognition.callsOf('IndexFaces')[0].body.Image.S3Object.Name).toBe('faces/bob/100% me.jpg');
  rekognition.reset();
  await handler(upload('faces/bob/my photo.jpeg', { encodedKey: 'faces/bob/my+photo.jpeg' }));
  expect(rekognition.callsOf('IndexFaces')[0].body.Image.S3Object.Name).toBe('faces/bob/my photo.jpeg');
});

describe('every failure has a clear reason: a Face Enrollment Failed event and object tags, nothing indexed', () => {
  test.each([
    ['no face', 'faces/carol/empty.jpg', { faces: 0 }, 'NoFace', 'no face was found in the image'],
    ['several faces', 'faces/carol/group.jpg', { faces: 3 }, 'SeveralFaces', 'the image shows 3 faces; upload a picture of one person'],
    ['a face too small', 'faces/carol/far.jpg', { faces: 1, unindexedReasons: ['SMALL_BOUNDING_BOX'] }, 'FaceTooSmall', 'the face is too small in the image'],
    ['low quality', 'faces/carol/blur.jpg', { faces: 1, unindexedReasons: ['LOW_SHARPNESS', 'LOW_BRIGHTNESS'] }, 'LowQuality', 'the face was not indexed: LOW_SHARPNESS, LOW_BRIGHTNESS'],
    ['a format Rekognition cannot read', 'faces/carol/fake.jpg', { error: 'InvalidImageFormatException' }, 'InvalidImageFormat', 'the image format is not supported (JPEG or PNG only)'],
  ])('%s', async (_name, key, image, code, reason) => {
    rekognition.images.set(key, image);
    await handler(upload(key));
    expect(rekognition.faces.size).toBe(0);
    expect(eventsOf('Face Enrollment Failed')).toEqual([expect.objectContaining({ key, code, reason: expect.stringContaining(reason) })]);
    expect(s3.tagsOf(BUCKET, key)).toEqual({ 'face-enrollment': 'failed', 'face-enrollment-code': code, 'face-enrollment-reason': expect.stringContaining(reason.replace(/[(),;]/g, ' ').slice(0, 20)) });
  });

  test.each([
    ['an unsupported file type', 'faces/dave/photo.gif', {}, 'UnsupportedFormat', '"photo.gif" is not a JPEG or PNG image (.jpg, .jpeg or .png)'],
    ['an invalid external image id', 'faces/dave smith/photo.jpg', {}, 'InvalidExternalImageId', '"dave smith" is not a valid external image id: 1-255 characters of [a-zA-Z0-9_.-:] are allowed'],
    ['a key outside the layout', 'faces/photo.jpg', {}, 'InvalidKey', 'faces/photo.jpg: expected faces/<external-image-id>/<name>.jpg|jpeg|png'],
    ['an image over 15 MB', 'faces/dave/huge.png', { size: 16 * 1024 * 1024 }, 'ImageTooLarge', 'the image is 16777216 bytes; Rekognition reads at most 15728640 bytes from S3'],
  ])('%s is rejected without calling Rekognition', async (_name, key, options, code, reason) => {
    await handler(upload(key, options));
    expect(rekognition.callsOf('IndexFaces')).toHaveLength(0);
    expect(eventsOf('Face Enrollment Failed')).toEqual([expect.objectContaining({ key, code, reason })]);
    expect(s3.tagsOf(BUCKET, key)?.['face-enrollment']).toBe('failed');
  });
});

test('a throttled Rekognition fails the invocation so that Lambda retries it; the retry enrols once', async () => {
  rekognition.fail({ operation: 'IndexFaces', type: 'ThrottlingException', message: 'Rate exceeded' });
  const event = upload('faces/erin/e.jpg');
  await expect(handler(event)).rejects.toThrow(/1 of 1 S3 records not finished: faces\/erin\/e.jpg: ThrottlingException/);
  expect(rekognition.faces.size).toBe(0);
  await handler(event);
  expect(rekognition.faces.size).toBe(1);
  expect(eventsOf('Face Enrolled')).toHaveLength(1);
});

test('an item written by the previous version of the handler (no revision) is carried over: deleting its picture removes its face', async () => {
  await handler(upload('faces/gus/g.jpg'));
  const [faceId] = [...rekognition.faces.keys()];
  const [item] = dynamodb.items(TABLE);
  // the item as the handler before revisions wrote it
  for (const attribute of ['rev', 'staleFaceIds', 'pending', 'leaseUntil', 'versionId']) {
    delete item[attribute];
  }
  Object.assign(item, { replacedFaceIds: { L: [] }, claimedAt: { N: String(Date.now() / 1000 - 3600) }, reason: { S: '' } });
  await handler(h.deleteObject('faces/gus/g.jpg'));
  expect(rekognition.faces.size).toBe(0);
  expect(eventsOf('Face Removed')).toEqual([{ collectionId: 'staff', bucket: BUCKET, key: 'faces/gus/g.jpg', faceIds: [faceId] }]);
});
