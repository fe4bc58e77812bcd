/**
 * `cdk-face-stream-pipeline enrol`: enrols a person from a sighting's snapshot (by its S3 key, the
 * event id, or the event itself) or from a local picture: copies the snapshot server side
 * (CopyObject) or uploads the picture (PutObject) to `faces/<name>/` in the enrolment bucket, then
 * waits for the enrolment function's outcome tags on that object version and prints them.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ENROLLMENT_OUTCOMES, ENROLLMENT_PREFIX, ENROLLMENT_TAGS, EXTERNAL_IMAGE_ID_RULE } from '../enrollment-settings';
import { SNAPSHOT_DEFAULTS } from '../snapshot-settings';
import { parseSightingId, snapshotKeys } from '../runtime/shared/snapshot-keys';
import { flagValue } from './args';
import { CliError, EXIT, NO_REGION } from './exit';
import { AwsRequestError, resolveCredentials, resolveSettings } from './kvs-client';
import { getObjectTagging, listFolders, objectExists, s3Call, S3Target } from './s3-client';

export const ENROL_HELP = `Usage: cdk-face-stream-pipeline enrol --name <person> --bucket <enrolment-bucket> <source> [options]

Enrols a person from a sighting's snapshot or from a picture: copies it to
faces/<person>/ in the enrolment bucket, where the enrolment function indexes it, then waits
for the function's outcome (the tags it writes on the picture) and prints it.

Source (exactly one):
  --snapshot-key <key>      a snapshot's face picture, by its key in --snapshot-bucket
                            (detail.snapshot.faceKey of a Face Matched / Not Matched event)
  --event-id <id>           the sighting's event id (detail.id): its face picture is found
                            in --snapshot-bucket under --snapshot-prefix, in the --camera's
                            folder, or in each camera's folder when --camera is not given
  --event <file|->          the event as JSON (the whole EventBridge event or its detail),
                            from a file or standard input ("-"): its detail.snapshot
  --picture <file>          a local JPEG or PNG picture, uploaded

Options:
  --name <person>           the person's name, the external image id faces match under:
                            1-255 characters of [a-zA-Z0-9_.-:] (required)
  --bucket <name>           the enrolment bucket (stack output EnrollmentBucketName) (required)
  --snapshot-bucket <name>  the snapshot bucket (stack output SnapshotBucketName): needed
                            with --snapshot-key and --event-id
  --snapshot-prefix <p>     the snapshots' key prefix (default: ${SNAPSHOT_DEFAULTS.KEY_PREFIX})
  --camera <name>           the camera of --event-id (default: look in every camera's folder)
  --timeout <s>             how long to wait for the outcome, in seconds (default: 120)
  --region <region>         the AWS Region (default: AWS_REGION or your profile's Region)
  -h, --help                this help

The picture is stored as faces/<person>/<name from its source>.jpg|png: the same snapshot or
picture enrolled again for the same person overwrites its earlier copy, which replaces the face
indexed from it rather than adding a second one.

The caller needs s3:PutObject and s3:GetObjectTagging on <enrolment bucket>/faces/*; for a
snapshot, s3:GetObject on it; for --event-id without --camera, s3:ListBucket on the snapshot
bucket; with KMS-encrypted buckets, kms:Decrypt on the snapshot bucket's key and
kms:GenerateDataKey on the enrolment bucket's. No encryption header is sent: the bucket's default
encryption applies.

Exit codes:
  0   enrolled: "enrolled <person>: face <face id>" is printed
  1   usage error: a missing or unknown flag, a name that is not a valid external image id, a
      picture that is not a JPEG or PNG (refused before any request), an event that is not JSON
  2   AWS error: access denied, bucket not found, no credentials, no Region
  8   the snapshot or picture was not found (no such key, no snapshot in the event, no camera
      folder holding the event id's snapshot, no such file)
  9   refused by enrolment: "refused: <code>: <reason>" is printed (NoFace, SeveralFaces,
      FaceTooSmall, LowQuality, ...: the README's enrolment failure codes)
  10  no outcome within --timeout: the picture was stored (its key is printed) but the enrolment
      function has not tagged it yet; it may still do so
`;

interface EnrolArgs {
  name?: string;
  bucket?: string;
  snapshotKey?: string;
  eventId?: string;
  event?: string;
  picture?: string;
  snapshotBucket?: string;
  snapshotPrefix: string;
  camera?: string;
  timeoutMs: number;
  region?: string;
  help: boolean;
}

function parseEnrolArgs(argv: string[]): EnrolArgs {
  const args: EnrolArgs = { snapshotPrefix: SNAPSHOT_DEFAULTS.KEY_PREFIX, timeoutMs: 120_000, help: false };
  const value = (i: number, flag: string) => flagValue(argv, i, flag);
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    switch (arg) {
      case '-h':
      case '--help':
        args.help = true;
        break;
      case '--name':
        args.name = value(i++, arg);
        break;
      case '--bucket':
        args.bucket = value(i++, arg);
        break;
      case '--snapshot-key':
        args.snapshotKey = value(i++, arg);
        break;
      case '--event-id':
        args.eventId = value(i++, arg);
        break;
      case '--event':
        args.event = value(i++, arg);
        break;
      case '--picture':
        args.picture = value(i++, arg);
        break;
      case '--snapshot-bucket':
        args.snapshotBucket = value(i++, arg);
        break;
      case '--snapshot-prefix':
        args.snapshotPrefix = value(i++, arg);
        break;
      case '--camera':
        args.camera = value(i++, arg);
        break;
      case '--region':
        args.region = value(i++, arg);
        break;
      case '--timeout': {
        const v = value(i++, arg);
        const seconds = Number(v.replace(/s$/, ''));
        if (!Number.isFinite(seconds) || seconds <= 0) {
          throw new CliError(EXIT.USAGE, `--timeout must be a number of seconds above 0, for example 120, got ${JSON.stringify(v)}`);
        }
        args.timeoutMs = seconds * 1000;
        break;
      }
      default:
        throw new CliError(EXIT.USAGE, `unknown ${arg.startsWith('-') ? 'flag' : 'argument'} ${arg} (see enrol --help)`);
    }
  }
  return args;
}

function checkArgs(args: EnrolArgs): void {
  const rule = EXTERNAL_IMAGE_ID_RULE;
  if (args.name === undefined) {
    throw new CliError(EXIT.USAGE, '--name is required: the person, as faces will match under (the external image id)');
  }
  if (args.name.length < rule.min || args.name.length > rule.max || !rule.pattern.test(args.name)) {
    throw new CliError(EXIT.USAGE, `--name must be ${rule.min}-${rule.max} characters of ${rule.allowed}, got ${JSON.stringify(args.name.slice(0, 60))} (${args.name.length} characters)`);
  }
  if (!args.bucket) {
    throw new CliError(EXIT.USAGE, '--bucket is required: the enrolment bucket (stack output EnrollmentBucketName)');
  }
  const sources = (['snapshotKey', 'eventId', 'event', 'picture'] as const).filter((s) => args[s] !== undefined);
  if (sources.length !== 1) {
    throw new CliError(EXIT.USAGE, `give exactly one of --snapshot-key, --event-id, --event and --picture${sources.length > 1 ? `, got ${sources.length}` : ''}`);
  }
  if ((args.snapshotKey !== undefined || args.eventId !== undefined) && !args.snapshotBucket) {
    throw new CliError(EXIT.USAGE, `${args.snapshotKey !== undefined ? '--snapshot-key' : '--event-id'} needs --snapshot-bucket: the snapshot bucket (stack output SnapshotBucketName)`);
  }
  if (args.eventId !== undefined && !parseSightingId(args.eventId)) {
    throw new CliError(EXIT.USAGE, `--event-id is not a sighting id: ${JSON.stringify(args.eventId.slice(0, 80))} (expected <video stream ARN>|<fragment>|<producer timestamp>|<offset>|<face index>, the event's detail.id)`);
  }
  if (args.snapshotPrefix !== '' && !args.snapshotPrefix.endsWith('/')) {
    throw new CliError(EXIT.USAGE, `--snapshot-prefix must be empty or end with "/", got ${JSON.stringify(args.snapshotPrefix)}`);
  }
}

/** The picture's format from its first bytes; undefined for anything but JPEG and PNG. */
export function pictureFormat(bytes: Uint8Array): { ext: 'jpg' | 'png'; contentType: string } | undefined {
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) {
    return { ext: 'jpg', contentType: 'image/jpeg' };
  }
  const png = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (bytes.length >= png.length && png.every((b, i) => bytes[i] === b)) {
    return { ext: 'png', contentType: 'image/png' };
  }
  return undefined;
}

/** A file name of [a-zA-Z0-9._-] from a source name: every other run of characters is one '-'. */
const fileName = (text: string) => text.replace(/[^a-zA-Z0-9._-]+/g, '-').replace(/^[-.]+|-+$/g, '').slice(0, 200) || 'picture';

/** The enrolment key of a snapshot: the same snapshot for the same person gives the same key. */
export function keyForSnapshot(person: string, snapshotKey: string, prefix: string): string {
  const inside = snapshotKey.startsWith(prefix) ? snapshotKey.slice(prefix.length) : snapshotKey;
  const ext = /\.png$/i.test(inside) ? 'png' : 'jpg';
  const stem = inside.replace(/\/face\.jpg$/, '').replace(/\.(jpe?g|png)$/i, '');
  return `${ENROLLMENT_PREFIX}${person}/snapshot-${fileName(stem.replace(/\//g, '_'))}.${ext}`;
}

interface Source {
  /** The snapshot to copy: bucket and key. */
  readonly copy?: { readonly bucket: string; readonly key: string };
  /** The picture to upload. */
  readonly upload?: { readonly body: Buffer; readonly contentType: string; readonly key: string };
}

function readEvent(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (error) {
    throw new CliError(EXIT.NOT_FOUND, `cannot read the event ${file}: ${(error as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new CliError(EXIT.USAGE, `the event in ${file === '-' ? 'standard input' : file} is not JSON: ${(error as Error).message}`);
  }
}

/** The snapshot of an event (whole, or its detail): detail.snapshot, or the key its id and camera give in --snapshot-bucket. */
function snapshotOfEvent(event: any, args: EnrolArgs): { bucket: string; key: string } {
  const detail = event && typeof event === 'object' && event.detail && typeof event.detail === 'object' ? event.detail : event;
  const snapshot = detail?.snapshot;
  if (snapshot && typeof snapshot.bucket === 'string' && typeof snapshot.faceKey === 'string') {
    return { bucket: snapshot.bucket, key: snapshot.faceKey };
  }
  if (typeof detail?.id !== 'string' || typeof detail?.camera !== 'string') {
    throw new CliError(EXIT.USAGE, 'the event is not a face sighting: its detail has no snapshot, id or camera (give a Face Matched or Face Not Matched event, or its detail)');
  }
  if (!args.snapshotBucket) {
    throw new CliError(EXIT.NOT_FOUND, `the event has no snapshot (detail.snapshot): snapshots were off, or storing them failed; give --snapshot-bucket to look for it by the event's id`);
  }
  return { bucket: args.snapshotBucket, key: snapshotKeys(args.snapshotPrefix, detail.camera, detail.id).faceKey };
}

/** The face picture of --event-id: in --camera's folder, or the first camera folder that has it. */
async function findByEventId(target: S3Target, args: EnrolArgs, log: (line: string) => void): Promise<{ bucket: string; key: string }> {
  const bucket = args.snapshotBucket!;
  const id = args.eventId!;
  if (args.camera !== undefined) {
    return { bucket, key: snapshotKeys(args.snapshotPrefix, args.camera, id).faceKey };
  }
  const folders = await listFolders(target, bucket, args.snapshotPrefix);
  let denied = 0;
  for (const folder of folders) {
    const camera = folder.slice(args.snapshotPrefix.length).replace(/\/$/, '');
    const key = snapshotKeys(args.snapshotPrefix, camera, id).faceKey;
    try {
      if (await objectExists(target, bucket, key)) {
        log(`found the snapshot of camera ${camera}: s3://${bucket}/${key}`);
        return { bucket, key };
      }
    } catch (error) {
      if ((error as AwsRequestError).status !== 403) {
        throw error;
      }
      denied++;
    }
  }
  const where = folders.length === 0 ? `no camera folder under s3://${bucket}/${args.snapshotPrefix}` : `none of the ${folders.length} camera folder(s) under s3://${bucket}/${args.snapshotPrefix} holds it`;
  const deniedNote = denied > 0 ? ` (${denied} answered 403: without s3:GetObject there, or s3:ListBucket for a missing key, S3 denies rather than says "not found")` : '';
  throw new CliError(EXIT.NOT_FOUND, `no snapshot of event ${id}: ${where}${deniedNote}; snapshots expire (30 days by default)`);
}

async function sourceOf(target: () => Promise<S3Target>, args: EnrolArgs, log: (line: string) => void): Promise<Source> {
  if (args.picture !== undefined) {
    let body: Buffer;
    try {
      body = readFileSync(args.picture);
    } catch (error) {
      throw new CliError(EXIT.NOT_FOUND, `cannot read the picture ${args.picture}: ${(error as Error).message}`);
    }
    const format = pictureFormat(body);
    if (!format) {
      throw new CliError(EXIT.USAGE, `${args.picture} is not a JPEG or PNG picture (its first bytes are neither FF D8 FF nor the PNG signature): enrolment reads JPEG and PNG only`);
    }
    const base = args.picture.split(/[\\/]/).pop()!.replace(/\.[^.]*$/, '');
    const hash = createHash('sha256').update(body).digest('hex').slice(0, 12);
    return { upload: { body, contentType: format.contentType, key: `${ENROLLMENT_PREFIX}${args.name}/${fileName(base)}-${hash}.${format.ext}` } };
  }
  if (args.snapshotKey !== undefined) {
    return { copy: { bucket: args.snapshotBucket!, key: args.snapshotKey } };
  }
  if (args.event !== undefined) {
    return { copy: snapshotOfEvent(readEvent(args.event), args) };
  }
  return { copy: await findByEventId(await target(), args, log) };
}

/** The outcome tags of the picture's version, once the enrolment function has written them. */
export type Outcome = { readonly kind: 'enrolled'; readonly faceId?: string } | { readonly kind: 'failed'; readonly code?: string; readonly reason?: string };

export function outcomeOf(tags: Record<string, string>): Outcome | undefined {
  switch (tags[ENROLLMENT_TAGS.OUTCOME]) {
    case ENROLLMENT_OUTCOMES.ENROLLED:
      return { kind: 'enrolled', faceId: tags[ENROLLMENT_TAGS.FACE_ID] };
    case ENROLLMENT_OUTCOMES.FAILED:
      return { kind: 'failed', code: tags[ENROLLMENT_TAGS.CODE], reason: tags[ENROLLMENT_TAGS.REASON] };
    default:
      return undefined;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls the version's tags (0.5 s, growing by half up to 5 s) until they carry an outcome or `timeoutMs` has passed. */
async function waitForOutcome(target: S3Target, bucket: string, key: string, versionId: string | undefined, timeoutMs: number): Promise<Outcome | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (let delay = 500; ; delay = Math.min(5000, delay * 1.5)) {
    const outcome = outcomeOf(await getObjectTagging(target, bucket, key, versionId));
    if (outcome) {
      return outcome;
    }
    const left = deadline - Date.now();
    if (left <= 0) {
      return undefined;
    }
    await sleep(Math.min(delay, left));
  }
}

/** What an AWS error exits with: not found (8) for a missing source object, else an AWS error (2). */
function awsFailure(error: AwsRequestError, what: string): CliError {
  if (['NoSuchKey', 'NotFound'].includes(error.name) && what === 'copy') {
    return new CliError(EXIT.NOT_FOUND, `the snapshot was not found (${error.name}: ${error.message}); snapshots expire (30 days by default)`);
  }
  const listing = what === 'find the snapshot' ? '; --camera spares the listing of camera folders (s3:ListBucket)' : '';
  const hint = error.name === 'AccessDenied' || error.status === 403 ? ` (see enrol --help for the permissions it needs; S3 answers 403 for a missing key to a caller without s3:ListBucket${listing})` : '';
  return new CliError(EXIT.AWS, `${what}: ${error.name}: ${error.message}${hint}`);
}

export async function enrol(argv: string[]): Promise<number> {
  let args: EnrolArgs;
  try {
    args = parseEnrolArgs(argv);
    if (args.help) {
      process.stdout.write(ENROL_HELP);
      return EXIT.OK;
    }
    checkArgs(args);
  } catch (error) {
    process.stderr.write(`error: ${(error as Error).message}\n`);
    return (error as CliError).exitCode ?? EXIT.USAGE;
  }
  const log = (line: string) => process.stderr.write(`${line}\n`);
  let resolved: S3Target | undefined;
  const target = async (): Promise<S3Target> => {
    if (!resolved) {
      let settings;
      try {
        settings = await resolveSettings(args.region, 'S3');
      } catch (error) {
        throw new CliError(EXIT.AWS, (error as Error).message === 'Region is missing' ? NO_REGION : (error as Error).message);
      }
      if (!settings) {
        throw new CliError(EXIT.AWS, NO_REGION);
      }
      let credentials;
      try {
        credentials = await resolveCredentials(settings.region);
      } catch (error) {
        throw new CliError(EXIT.AWS, `no AWS credentials: ${(error as Error).message}`);
      }
      resolved = { settings, credentials };
    }
    return resolved;
  };
  let step = 'find the snapshot';
  try {
    const source = await sourceOf(target, args, log);
    const s3 = await target();
    const bucket = args.bucket!;
    let key: string;
    let response;
    if (source.upload) {
      step = 'upload';
      key = source.upload.key;
      response = await s3Call(s3, { method: 'PUT', bucket, key, headers: { 'content-type': source.upload.contentType }, body: source.upload.body });
    } else {
      step = 'copy';
      const from = source.copy!;
      key = keyForSnapshot(args.name!, from.key, args.snapshotPrefix);
      response = await s3Call(s3, {
        method: 'PUT',
        bucket,
        key,
        headers: {
          // the bytes only: the snapshot's metadata and tags stay behind; no encryption header (the bucket's default applies)
          'x-amz-copy-source': `/${from.bucket}/${from.key.split('/').map(encodeURIComponent).join('/')}`,
          'x-amz-metadata-directive': 'REPLACE',
          'x-amz-tagging-directive': 'REPLACE',
          'content-type': key.endsWith('.png') ? 'image/png' : 'image/jpeg',
        },
      });
    }
    const versionHeader = response.headers['x-amz-version-id'];
    const versionId = typeof versionHeader === 'string' && versionHeader !== 'null' ? versionHeader : undefined;
    log(`${source.upload ? 'uploaded' : `copied s3://${source.copy!.bucket}/${source.copy!.key} to`} s3://${bucket}/${key}${versionId ? ` (version ${versionId})` : ''}; waiting for the enrolment outcome`);
    step = 'read the outcome';
    const outcome = await waitForOutcome(s3, bucket, key, versionId, args.timeoutMs);
    if (!outcome) {
      process.stderr.write(`error: no enrolment outcome within ${args.timeoutMs / 1000} s for s3://${bucket}/${key}: is the bucket the enrolment bucket of a deployed FaceEnrollment? The function may still tag it; see its log group and the Face Enrolled / Face Enrollment Failed events\n`);
      return EXIT.TIMEOUT;
    }
    if (outcome.kind === 'enrolled') {
      process.stdout.write(`enrolled ${args.name}: face ${outcome.faceId ?? '(face id not tagged)'}\n`);
      return EXIT.OK;
    }
    process.stdout.write(`refused: ${outcome.code ? `${outcome.code}: ` : ''}${outcome.reason ?? '(no reason tagged: see the Face Enrollment Failed event)'}\n`);
    return EXIT.REFUSED;
  } catch (error) {
    const e = error instanceof AwsRequestError ? awsFailure(error, step) : (error as CliError);
    process.stderr.write(`error: ${e.message}\n`);
    return e.exitCode ?? EXIT.AWS;
  }
}
