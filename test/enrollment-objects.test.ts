/**
 * What enrolment makes of unusual objects and keys (issue 11, item 18), and its logs (issue 10),
 * through the bundled handler against the local fakes.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { S3Event } from 'aws-lambda';
import { BUCKET, enrollmentHarness, lambdaContext } from './support/enrollment-harness';
import { checkIam } from './support/iam-check';
import { enrollmentDeployment, enrollmentRole } from './support/iam-deployments';

// every AWS call made in these tests is evaluated against the synthesized policies (test/support/iam-check.ts)
checkIam({ deployment: enrollmentDeployment, callers: { AKIDEXAMPLE: enrollmentRole } });

// POWERTOOLS_DEV: the logger writes through the global console, where the tests read it
const h = enrollmentHarness({ AWS_MAX_ATTEMPTS: '1', LOG_LEVEL: 'INFO', POWERTOOLS_DEV: 'true' });
const { rekognition, s3, dynamodb } = h;

let logs: Array<Record<string, any>>;
beforeEach(() => {
  logs = [];
  for (const method of ['log', 'info', 'warn', 'error', 'debug'] as const) {
    jest.spyOn(console, method).mockImplementation((...args: unknown[]) => {
      const line = args[0];
      logs.push(JSON.parse(String(line)));
    });
  }
});
afterEach(() => jest.restoreAllMocks());

const ownTags = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`own-${i + 1}`, `value ${i + 1}`]));

describe('S3 allows 10 tags per object: the object\'s own tags are kept, and what does not fit is reported', () => {
  test('8 tags of its own: both outcome tags fit', async () => {
    await h.handler(h.upload('faces/alice/a.jpg', { tags: ownTags(8) }), lambdaContext());
    const [faceId] = [...rekognition.faces.keys()];
    expect(s3.tagsOf(BUCKET, 'faces/alice/a.jpg')).toEqual({ ...ownTags(8), 'face-enrollment': 'enrolled', 'face-id': faceId });
    expect(logs.filter((l) => l.level === 'WARN')).toEqual([]);
  });

  test('9 tags of its own: face-enrollment only, and a warning names face-id as left out', async () => {
    await h.handler(h.upload('faces/alice/a.jpg', { tags: ownTags(9) }), lambdaContext());
    expect(s3.tagsOf(BUCKET, 'faces/alice/a.jpg')).toEqual({ ...ownTags(9), 'face-enrollment': 'enrolled' });
    expect(logs.filter((l) => l.level === 'WARN')).toEqual([
      expect.objectContaining({
        message: 'the object has too many tags of its own for the enrolment outcome tags; see the event for the outcome',
        key: 'faces/alice/a.jpg',
        ownTags: 9,
        omitted: ['face-id'],
      }),
    ]);
    expect(h.eventsOf('Face Enrolled')).toHaveLength(1);
  });

  test('10 tags of its own: the tags stay as they are, and a warning names both outcome tags', async () => {
    rekognition.images.set('faces/alice/a.jpg', { faces: 0 });
    await h.handler(h.upload('faces/alice/a.jpg', { tags: ownTags(10) }), lambdaContext());
    expect(s3.tagsOf(BUCKET, 'faces/alice/a.jpg')).toEqual(ownTags(10));
    const warnings = logs.filter((l) => l.level === 'WARN');
    expect(warnings.map((w) => w.message)).toEqual([
      'face not enrolled',
      'the object has too many tags of its own for the enrolment outcome tags; see the event for the outcome',
    ]);
    expect(warnings[1]).toMatchObject({ ownTags: 10, omitted: ['face-enrollment', 'face-enrollment-code', 'face-enrollment-reason'] });
    expect(s3.calls.filter((c) => c.method === 'PUT')).toEqual([]);
  });
});

test('a raw % in one record\'s key fails that record only, as InvalidKey; the other record is enrolled', async () => {
  const good = h.upload('faces/bob/b.jpg');
  const bad = h.s3Event('ObjectCreated:Put', 'faces/bob/100%.jpg', { encodedKey: 'faces/bob/100%.jpg' });
  const event = { Records: [...bad.Records, ...good.Records] } as S3Event;
  await h.handler(event, lambdaContext());
  expect(rekognition.callsOf('IndexFaces').map((c) => c.body.Image.S3Object.Name)).toEqual(['faces/bob/b.jpg']);
  expect(h.eventsOf('Face Enrollment Failed')).toEqual([
    { collectionId: 'staff', bucket: BUCKET, key: 'faces/bob/100%.jpg', code: 'InvalidKey', reason: '"faces/bob/100%.jpg" is not a URL-encoded S3 key (URI malformed)' },
  ]);
  expect(h.eventsOf('Face Enrolled')).toEqual([expect.objectContaining({ key: 'faces/bob/b.jpg' })]);
});

test('a folder marker made by the S3 console (faces/alice/, 0 bytes) is ignored, created or deleted', async () => {
  await h.handler(h.s3Event('ObjectCreated:Put', 'faces/alice/', { size: 0 }), lambdaContext());
  await h.handler(h.s3Event('ObjectRemoved:Delete', 'faces/alice/', { size: 0 }), lambdaContext());
  expect(rekognition.calls).toEqual([]);
  expect(h.eventsOf('Face Enrollment Failed')).toEqual([]);
  expect(dynamodb.calls).toEqual([]);
});

test('an overwrite that replaces a face emits Face Removed for the old face', async () => {
  await h.handler(h.upload('faces/bob/b.jpg'), lambdaContext());
  const [oldFace] = [...rekognition.faces.keys()];
  rekognition.images.set('faces/bob/b.jpg', { faces: 0 }); // the new picture shows nobody
  await h.handler(h.upload('faces/bob/b.jpg'), lambdaContext());
  expect(rekognition.faces.size).toBe(0);
  expect(h.eventsOf('Face Removed')).toEqual([{ collectionId: 'staff', bucket: BUCKET, key: 'faces/bob/b.jpg', faceIds: [oldFace] }]);
  expect(h.eventsOf('Face Enrollment Failed')).toEqual([expect.objectContaining({ code: 'NoFace' })]);
});

describe('Rekognition\'s refusals are failure codes of their own', () => {
  test('InvalidS3Object: the picture was deleted before its upload event was handled', async () => {
    const event = h.upload('faces/dan/d.jpg');
    s3.delete(BUCKET, 'faces/dan/d.jpg'); // its delete event is still on its way
    await h.handler(event, lambdaContext());
    expect(h.eventsOf('Face Enrollment Failed')).toEqual([expect.objectContaining({ key: 'faces/dan/d.jpg', code: 'InvalidS3Object' })]);
  });

  test('InvalidParameter: an image Rekognition refuses (e.g. under 80 pixels)', async () => {
    rekognition.images.set('faces/dan/tiny.png', { error: 'InvalidParameterException' });
    await h.handler(h.upload('faces/dan/tiny.png'), lambdaContext());
    expect(h.eventsOf('Face Enrollment Failed')).toEqual([
      expect.objectContaining({ code: 'InvalidParameter', reason: 'Rekognition rejected the image (for example, smaller than 80 pixels): scripted InvalidParameterException' }),
    ]);
  });

  test('every failure code of the event contract is documented in the README', () => {
    const contract = readFileSync(path.join(__dirname, '..', 'lib', 'events.ts'), 'utf8');
    const union = /export type FaceEnrollmentFailureCode =([^;]+);/.exec(contract)![1];
    const codes = [...union.matchAll(/'([A-Za-z0-9]+)'/g)].map((m) => m[1]);
    expect(codes).toHaveLength(13);
    const readme = readFileSync(path.join(__dirname, '..', 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## Enrolling faces'), readme.indexOf('\n## ', readme.indexOf('## Enrolling faces') + 1));
    expect(codes.filter((code) => !section.includes(`\`${code}\``))).toEqual([]);
  });
});

test('every log line of an invocation carries its Lambda request id', async () => {
  await h.handler(h.upload('faces/alice/a.jpg'), lambdaContext(60_000, 'req-enrol-1'));
  await h.handler(h.deleteObject('faces/alice/a.jpg'), lambdaContext(60_000, 'req-enrol-2'));
  expect(logs.map((l) => [l.function_request_id, l.message])).toEqual([
    ['req-enrol-1', 'face enrolled'],
    ['req-enrol-2', 'removing the faces of a deleted picture'],
    ['req-enrol-2', 'faces deleted from the collection'],
  ]);
  expect(logs.every((l) => l.service === 'face-enrollment')).toBe(true);
});
