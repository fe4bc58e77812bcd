/**
 * `cdk-face-stream-pipeline enrol`, the bundled CLI (assets/cli/index.js and enrol.js) run as a
 * user runs it, in a child process, against a local S3 (test/support/fake-s3.ts), end to end with
 * the bundled enrolment handler (assets/face-enrollment/index.js, test/support/enrollment-harness.ts):
 * each object the CLI writes to the enrolment bucket is handed to the handler as S3's notification
 * would hand it, the handler indexes it with the fake Rekognition and tags it, and the CLI reads
 * the outcome from those tags.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { snapshotKeys } from '../lib/runtime/shared/snapshot-keys';
import { cliEnv } from './support/cli-env';
import { BUCKET, enrollmentHarness, s3Notification } from './support/enrollment-harness';
import type { FakeImage } from './support/fake-rekognition';
import { checkIam, evaluate } from './support/iam-check';
import { enrolCliDeployment, role } from './support/iam-deployments';

const iam = checkIam({
  deployment: enrolCliDeployment,
  callers: {
    // the enrolment function, in this process
    AKIDEXAMPLE: (d) => d.functionRole(/\/Enrollment\/Handler\/Resource$/),
    // the CLI's user, with what the README lists
    AKIDENROLLER: role(/Enroller\/Resource$/),
    AKIDNOBODY: role(/Nobody\/Resource$/),
  },
});

const CLI = process.env.CLI_BUNDLE ?? path.join(__dirname, '..', 'assets', 'cli', 'index.js');
const SNAPSHOTS = 'snapshots-bucket';
const h = enrollmentHarness();
const { s3, rekognition } = h;
let dir: string;

/** A JPEG's first bytes and a label: the fakes read no pixels, only the enrolment handler's checks and the CLI's magic bytes. */
const jpeg = (label: string) => Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.from(label)]);
const png = (label: string) => Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.from(label)]);

const STREAM = 'arn:aws:kinesisvideo:eu-west-1:123456789012:stream/front-door/1700000000000';
const sightingId = (faceIndex = 0) => `${STREAM}|91343852333181432392682062607743920146264176333|1764670000.5|0.25|${faceIndex}`;

/** What Rekognition sees in a picture, by its bytes (the handler's IndexFaces names the copy, not the snapshot). */
const scripted = new Map<string, FakeImage>();
const script = (body: Buffer, image: FakeImage) => scripted.set(createHash('sha256').update(body).digest('hex'), image);
/** Every enrolment handled, or its error. */
let handled: Array<Promise<void>> = [];

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'enrol-cli-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

beforeEach(() => {
  scripted.clear();
  handled = [];
  s3.versioned(BUCKET); // as the FaceEnrollment's new bucket
  enrolmentFunction(true);
});
afterEach(async () => {
  await Promise.all(handled);
});

/** With `on`, each object written to the enrolment bucket is handed to the bundled handler, as S3's notification is. */
function enrolmentFunction(on: boolean): void {
  s3.onCreated = on
    ? (o) => {
        if (o.bucket !== BUCKET) {
          return;
        }
        const image = scripted.get(createHash('sha256').update(o.body).digest('hex'));
        if (image) {
          rekognition.images.set(o.key, image);
        }
        const event = s3Notification(o.key.endsWith('.png') ? 'ObjectCreated:Put' : 'ObjectCreated:Copy', o.key, { size: o.body.length, ...(o.versionId !== 'null' ? { versionId: o.versionId } : {}) });
        // after S3 has answered the write, as the notification comes
        handled.push(new Promise<void>((resolve) => setTimeout(resolve, 50)).then(() => h.handler(event)));
      }
    : undefined;
}

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function cli(args: string[], options: { stdin?: string; accessKey?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Run> {
  const endpoint = process.env.AWS_ENDPOINT_URL_S3!;
  const env = { ...cliEnv(endpoint, dir), AWS_ENDPOINT_URL_S3: endpoint, AWS_ACCESS_KEY_ID: options.accessKey ?? 'AKIDENROLLER', ...options.env };
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, 'enrol', ...args], { env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.stdin);
  });
}

/** A stored snapshot of a sighting (face.jpg and frame.jpg) and its face key. */
function storeSnapshot(camera: string, id: string, label: string): { faceKey: string; body: Buffer } {
  const { faceKey, frameKey } = snapshotKeys('snapshots/', camera, id);
  const body = jpeg(label);
  s3.put(SNAPSHOTS, faceKey, { note: 'snapshot' }, body, 'image/jpeg');
  s3.put(SNAPSHOTS, frameKey, {}, jpeg(`${label} frame`), 'image/jpeg');
  return { faceKey, body };
}

/** The pictures under faces/<person>/ in the enrolment bucket. */
const picturesOf = (person: string) => s3.keys(BUCKET).filter((k) => k.startsWith(`faces/${person}/`));

test('--snapshot-key: the snapshot is copied to faces/<name>/ (its bytes only), enrolled by the function, and the face id printed: exit 0', async () => {
  const { faceKey, body } = storeSnapshot('front-door', sightingId(), 'bob');
  const run = await cli(['--name', 'bob', '--bucket', BUCKET, '--snapshot-key', faceKey, '--snapshot-bucket', SNAPSHOTS]);
  expect(run).toMatchObject({ code: 0, stdout: expect.stringMatching(/^enrolled bob: face face-\d+\n$/) });
  const [key] = picturesOf('bob');
  expect(picturesOf('bob')).toHaveLength(1);
  expect(key).toMatch(/^faces\/bob\/snapshot-front-door_\d{4}-\d{2}-\d{2}_\d+-0-[0-9a-f]{16}\.jpg$/);
  expect(run.stderr).toContain(`copied s3://${SNAPSHOTS}/${faceKey} to s3://${BUCKET}/${key} (version v`);
  expect(s3.bodyOf(BUCKET, key)!.equals(body)).toBe(true);
  expect(s3.contentTypeOf(BUCKET, key)).toBe('image/jpeg');
  // the snapshot's tags stay behind: the copy carries the outcome only
  const tags = s3.tagsOf(BUCKET, key)!;
  expect(tags).toEqual({ 'face-enrollment': 'enrolled', 'face-id': run.stdout.match(/face (face-\d+)/)![1] });
  const [face] = [...rekognition.faces.values()];
  expect(face).toMatchObject({ ExternalImageId: 'bob', FaceId: tags['face-id'] });
  expect(h.eventsOf('Face Enrolled')).toEqual([expect.objectContaining({ externalImageId: 'bob', key, faceId: tags['face-id'] })]);
  // the copy request itself: server side, no encryption header (the bucket's default applies)
  const copy = s3.calls.find((c) => c.method === 'PUT' && c.path.startsWith(`/${BUCKET}/faces/bob/`));
  expect(copy).toBeDefined();
});

test.each([
  ['no face', { faces: 0 } as FakeImage, 'refused: NoFace: no face was found in the image\n'],
  ['several faces', { faces: 3 } as FakeImage, 'refused: SeveralFaces: the image shows 3 faces  upload a picture of one person\n'],
  ['a face too small', { faces: 1, unindexedReasons: ['SMALL_BOUNDING_BOX'] } as FakeImage, 'refused: FaceTooSmall: the face is too small in the image  use a picture where the face is larger\n'],
])('refused by enrolment (%s): the reason from the function\'s tag is printed, exit 9', async (_, image, printed) => {
  const { faceKey, body } = storeSnapshot('front-door', sightingId(1), 'a crowd');
  script(body, image);
  const run = await cli(['--name', 'bob', '--bucket', BUCKET, '--snapshot-key', faceKey, '--snapshot-bucket', SNAPSHOTS]);
  expect(run).toMatchObject({ code: 9, stdout: printed });
  expect(h.eventsOf('Face Enrollment Failed')).toHaveLength(1);
});

test('no outcome within --timeout (no enrolment function on the bucket): the picture stays stored, its key is printed, exit 10', async () => {
  enrolmentFunction(false);
  const { faceKey } = storeSnapshot('front-door', sightingId(), 'bob');
  const run = await cli(['--name', 'bob', '--bucket', BUCKET, '--snapshot-key', faceKey, '--snapshot-bucket', SNAPSHOTS, '--timeout', '1.5s']);
  expect(run.code).toBe(10);
  const [key] = picturesOf('bob');
  expect(run.stderr).toContain(`error: no enrolment outcome within 1.5 s for s3://${BUCKET}/${key}`);
  expect(run.stdout).toBe('');
  // it polled the version's tags until the timeout
  expect(s3.calls.filter((c) => c.path.startsWith(`/${BUCKET}/faces/bob/`) && c.path.includes('tagging')).length).toBeGreaterThanOrEqual(2);
});

test('a snapshot that is not there (expired, or a wrong key): exit 8, nothing written', async () => {
  const { faceKey } = snapshotKeys('snapshots/', 'front-door', sightingId());
  const run = await cli(['--name', 'bob', '--bucket', BUCKET, '--snapshot-key', faceKey, '--snapshot-bucket', SNAPSHOTS]);
  expect(run.code).toBe(8);
  expect(run.stderr).toContain('error: the snapshot was not found (NoSuchKey: The specified key does not exist.)');
  expect(s3.keys(BUCKET)).toEqual([]);
});

test.each([
  ['a name that is not an external image id', ['--name', 'Bob Smith', '--bucket', BUCKET, '--snapshot-key', 'k', '--snapshot-bucket', SNAPSHOTS], '--name must be 1-255 characters of [a-zA-Z0-9_.-:], got "Bob Smith" (9 characters)'],
  ['no name', ['--bucket', BUCKET, '--snapshot-key', 'k', '--snapshot-bucket', SNAPSHOTS], '--name is required'],
  ['no bucket', ['--name', 'bob', '--snapshot-key', 'k', '--snapshot-bucket', SNAPSHOTS], '--bucket is required'],
  ['two sources', ['--name', 'bob', '--bucket', BUCKET, '--snapshot-key', 'k', '--picture', 'p.jpg'], 'give exactly one of --snapshot-key, --event-id, --event and --picture, got 2'],
  ['--snapshot-key without its bucket', ['--name', 'bob', '--bucket', BUCKET, '--snapshot-key', 'k'], '--snapshot-key needs --snapshot-bucket'],
  ['an event id that is not one', ['--name', 'bob', '--bucket', BUCKET, '--event-id', 'abc', '--snapshot-bucket', SNAPSHOTS], '--event-id is not a sighting id: "abc"'],
  ['an unknown flag', ['--name', 'bob', '--bucket', BUCKET, '--snapshot', 'k'], 'unknown flag --snapshot (see enrol --help)'],
  ['a bad timeout', ['--name', 'bob', '--bucket', BUCKET, '--picture', 'p.jpg', '--timeout', '0'], '--timeout must be a number of seconds above 0'],
])('usage error (%s): exit 1 before any request', async (_, args, message) => {
  const run = await cli(args);
  expect(run.code).toBe(1);
  expect(run.stderr).toContain(`error: ${message}`);
  expect(s3.calls).toEqual([]);
});

test('--picture: a PNG is uploaded (PutObject, image/png) under a name from the file and its content, and enrolled: exit 0', async () => {
  const picture = path.join(dir, 'Carol at the door.png');
  writeFileSync(picture, png('carol'));
  const run = await cli(['--name', 'carol', '--bucket', BUCKET, '--picture', picture]);
  expect(run).toMatchObject({ code: 0, stdout: expect.stringMatching(/^enrolled carol: face face-\d+\n$/) });
  const [key] = picturesOf('carol');
  expect(key).toMatch(/^faces\/carol\/Carol-at-the-door-[0-9a-f]{12}\.png$/);
  expect(s3.contentTypeOf(BUCKET, key)).toBe('image/png');
  expect(s3.bodyOf(BUCKET, key)!.equals(png('carol'))).toBe(true);
});

test('--picture that is not a JPEG or PNG, or not there: refused before any request (exit 1), not found (exit 8)', async () => {
  const gif = path.join(dir, 'carol.jpg');
  writeFileSync(gif, Buffer.from('GIF89a...'));
  const notPicture = await cli(['--name', 'carol', '--bucket', BUCKET, '--picture', gif]);
  expect(notPicture.code).toBe(1);
  expect(notPicture.stderr).toContain(`error: ${gif} is not a JPEG or PNG picture`);
  const missing = await cli(['--name', 'carol', '--bucket', BUCKET, '--picture', path.join(dir, 'nobody.jpg')]);
  expect(missing.code).toBe(8);
  expect(missing.stderr).toContain('error: cannot read the picture');
  expect(s3.calls).toEqual([]);
});

test('the same snapshot enrolled again overwrites its copy: the face indexed from it is replaced, not doubled', async () => {
  const { faceKey } = storeSnapshot('front-door', sightingId(), 'bob');
  const args = ['--name', 'bob', '--bucket', BUCKET, '--snapshot-key', faceKey, '--snapshot-bucket', SNAPSHOTS];
  const first = await cli(args);
  await Promise.all(handled);
  const second = await cli(args);
  expect([first.code, second.code]).toEqual([0, 0]);
  expect(picturesOf('bob')).toHaveLength(1);
  expect([...rekognition.faces.values()].map((f) => f.FaceId)).toEqual([second.stdout.match(/face (face-\d+)/)![1]]);
  expect(h.eventsOf('Face Removed')).toHaveLength(1);
});

test('access denied (a caller without the permissions): exit 2, with what to check; IAM denies it too', async () => {
  for (const action of ['s3:PutObject', 's3:GetObject', 'kms:Decrypt', 'kms:GenerateDataKey']) {
    iam.knownDenial(action, 'the Nobody role has no permission: the fake S3 answers AccessDenied, as S3 would');
  }
  s3.deniedKeys.add('AKIDNOBODY');
  const { faceKey } = storeSnapshot('front-door', sightingId(), 'bob');
  const run = await cli(['--name', 'bob', '--bucket', BUCKET, '--snapshot-key', faceKey, '--snapshot-bucket', SNAPSHOTS], { accessKey: 'AKIDNOBODY' });
  expect(run.code).toBe(2);
  expect(run.stderr).toContain('error: copy: AccessDenied: User: AKIDNOBODY is not authorized to perform this operation (see enrol --help for the permissions it needs');
});

test('no Region anywhere: exit 2, naming --region and AWS_REGION, before any request', async () => {
  const { faceKey } = storeSnapshot('front-door', sightingId(), 'bob');
  s3.calls.length = 0;
  const run = await cli(['--name', 'bob', '--bucket', BUCKET, '--snapshot-key', faceKey, '--snapshot-bucket', SNAPSHOTS], { env: { AWS_REGION: undefined } });
  expect(run.code).toBe(2);
  expect(run.stderr).toContain('error: no AWS Region: pass --region <region>, or set AWS_REGION');
  expect(s3.calls).toEqual([]);
});

test('--event-id without --camera, for a caller who may not list the bucket: exit 2, pointing at --camera', async () => {
  iam.knownDenial('s3:ListBucket', 'the Nobody role has no permission: the fake S3 answers AccessDenied, as S3 would');
  s3.deniedKeys.add('AKIDNOBODY');
  const run = await cli(['--name', 'dave', '--bucket', BUCKET, '--event-id', sightingId(), '--snapshot-bucket', SNAPSHOTS], { accessKey: 'AKIDNOBODY' });
  expect(run.code).toBe(2);
  expect(run.stderr).toContain('error: find the snapshot: AccessDenied');
  expect(run.stderr).toContain('--camera spares the listing of camera folders (s3:ListBucket)');
});

test('--event-id with --camera: the key follows from the id; without --camera, each camera folder is looked in (ListObjectsV2, every page, HEAD)', async () => {
  const id = sightingId(2);
  storeSnapshot('back-door', sightingId(0), 'someone else');
  storeSnapshot('garage', sightingId(1), 'another');
  const { body } = storeSnapshot('front-door', id, 'dave');
  const withCamera = await cli(['--name', 'dave', '--bucket', BUCKET, '--event-id', id, '--snapshot-bucket', SNAPSHOTS, '--camera', 'front-door']);
  expect(withCamera).toMatchObject({ code: 0, stdout: expect.stringMatching(/^enrolled dave: face face-\d+\n$/) });
  await Promise.all(handled);

  s3.calls.length = 0;
  s3.listPageSize = 1; // one camera folder per page
  const found = await cli(['--name', 'erin', '--bucket', BUCKET, '--event-id', id, '--snapshot-bucket', SNAPSHOTS]);
  expect(found).toMatchObject({ code: 0, stdout: expect.stringMatching(/^enrolled erin: face face-\d+\n$/) });
  expect(found.stderr).toContain(`found the snapshot of camera front-door: s3://${SNAPSHOTS}/${snapshotKeys('snapshots/', 'front-door', id).faceKey}`);
  expect(s3.calls.filter((c) => c.method === 'GET' && c.path.startsWith(`/${SNAPSHOTS}/?list-type=2`))).toHaveLength(3);
  expect(s3.calls.filter((c) => c.method === 'HEAD').map((c) => c.path.split('/')[3])).toEqual(['back-door', 'front-door']);
  expect(s3.bodyOf(BUCKET, picturesOf('erin')[0])!.equals(body)).toBe(true);
});

test('--event-id that no camera folder holds (expired): exit 8', async () => {
  storeSnapshot('back-door', sightingId(0), 'someone else');
  const run = await cli(['--name', 'dave', '--bucket', BUCKET, '--event-id', sightingId(5), '--snapshot-bucket', SNAPSHOTS]);
  expect(run.code).toBe(8);
  expect(run.stderr).toContain(`error: no snapshot of event ${sightingId(5)}: none of the 1 camera folder(s) under s3://${SNAPSHOTS}/snapshots/ holds it`);
  expect(s3.keys(BUCKET)).toEqual([]);
});

/** A Face Not Matched event as EventBridge delivers it, with its snapshot. */
function unknownFaceEvent(faceKey: string, id: string) {
  return {
    'version': '0',
    'id': 'e1',
    'detail-type': 'Face Not Matched',
    'source': 'face-stream-pipeline',
    'detail': {
      version: '1', id, camera: 'front-door', matched: false, matches: [], faceIndex: 3,
      snapshot: { bucket: SNAPSHOTS, faceKey, frameKey: faceKey.replace(/face\.jpg$/, 'frame.jpg') },
    },
  };
}

test('--event from a file (the whole event) and from standard input (its detail): the snapshot it names is enrolled', async () => {
  const first = storeSnapshot('front-door', sightingId(3), 'frank');
  const file = path.join(dir, 'event.json');
  writeFileSync(file, JSON.stringify(unknownFaceEvent(first.faceKey, sightingId(3))));
  const fromFile = await cli(['--name', 'frank', '--bucket', BUCKET, '--event', file]);
  expect(fromFile).toMatchObject({ code: 0, stdout: expect.stringMatching(/^enrolled frank: face face-\d+\n$/) });

  const second = storeSnapshot('front-door', sightingId(4), 'grace');
  const fromStdin = await cli(['--name', 'grace', '--bucket', BUCKET, '--event', '-'], { stdin: JSON.stringify(unknownFaceEvent(second.faceKey, sightingId(4)).detail) });
  expect(fromStdin).toMatchObject({ code: 0, stdout: expect.stringMatching(/^enrolled grace: face face-\d+\n$/) });
  expect(s3.bodyOf(BUCKET, picturesOf('grace')[0])!.equals(second.body)).toBe(true);
});

test('--event without a snapshot: found by its id and camera with --snapshot-bucket, else exit 8; not JSON: exit 1', async () => {
  const { faceKey } = storeSnapshot('front-door', sightingId(3), 'heidi');
  const { snapshot, ...detail } = unknownFaceEvent(faceKey, sightingId(3)).detail;
  expect(snapshot).toBeDefined();
  const without = await cli(['--name', 'heidi', '--bucket', BUCKET, '--event', '-'], { stdin: JSON.stringify(detail) });
  expect(without.code).toBe(8);
  expect(without.stderr).toContain('the event has no snapshot (detail.snapshot)');
  const byId = await cli(['--name', 'heidi', '--bucket', BUCKET, '--event', '-', '--snapshot-bucket', SNAPSHOTS], { stdin: JSON.stringify(detail) });
  expect(byId).toMatchObject({ code: 0, stdout: expect.stringMatching(/^enrolled heidi: face face-\d+\n$/) });
  const notJson = await cli(['--name', 'heidi', '--bucket', BUCKET, '--event', '-'], { stdin: 'Face Not Matched' });
  expect(notJson.code).toBe(1);
  expect(notJson.stderr).toContain('error: the event in standard input is not JSON');
});

test('enrol --help prints the usage and the exit codes, the same codes as the README\'s table', async () => {
  const run = await cli(['--help']);
  expect(run.code).toBe(0);
  expect(run.stdout).toContain('Usage: cdk-face-stream-pipeline enrol --name <person> --bucket <enrolment-bucket> <source>');
  for (const code of ['0   enrolled', '1   usage error', '2   AWS error', '8   the snapshot or picture was not found', '9   refused by enrolment', '10  no outcome within --timeout']) {
    expect(run.stdout).toContain(code);
  }
  const helpCodes = [...run.stdout.split('Exit codes:')[1].matchAll(/^ {2}(\d+) +\S/gm)].map((m) => Number(m[1]));
  const readme = readFileSync(path.join(__dirname, '..', 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('### Unknown face -> name it'), readme.indexOf('### Users mode'));
  const readmeCodes = [...section.matchAll(/^\| (\d+) \|/gm)].map((m) => Number(m[1]));
  expect(helpCodes).toEqual([0, 1, 2, 8, 9, 10]);
  expect(readmeCodes).toEqual(helpCodes);
});

test('the KMS-encrypted enrolment bucket lets a plain upload or copy in (no encryption header), and still refuses one asking for another encryption', async () => {
  const d = enrolCliDeployment();
  const enroller = role(/Enroller\/Resource$/)(d);
  const put = (context: Record<string, string>) => evaluate(d, { principal: { role: enroller }, action: 's3:PutObject', resource: `arn:aws:s3:::${BUCKET}/faces/bob/x.jpg`, context, origin: 'test' });
  expect(await put({})).toBeUndefined();
  expect(await put({ 's3:x-amz-server-side-encryption': 'AES256' })).toMatchObject({ result: 'ExplicitlyDenied' });
  expect(await put({ 's3:x-amz-server-side-encryption': 'aws:kms', 's3:x-amz-server-side-encryption-aws-kms-key-id': 'arn:aws:kms:eu-west-1:123456789012:key/other' })).toMatchObject({ result: 'ExplicitlyDenied' });
  expect(await put({ 's3:x-amz-server-side-encryption': 'aws:kms' })).toMatchObject({ result: 'ExplicitlyDenied' });
  // and every call of the tests above was checked
  expect(iam.checked()).toBeGreaterThan(50);
});
