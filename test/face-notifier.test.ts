/**
 * Behaviour of the bundled notifier (assets/face-notifier/index.js), invoked with the input that
 * EventBridge's input transformer makes from the synthesized rules of a pipeline's notification
 * (the notifier deployment of iam-deployments.ts), against a local SNS (query protocol) and a local
 * S3 that checks presigned URLs with the SDK's own S3 signer, through the real AWS SDK v3.
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import type { FaceSightingDetail } from '../lib/events';
import { PresignedS3 } from './support/fake-s3-presigned';
import { FakeSns } from './support/fake-sns';
import { checkIam } from './support/iam-check';
import { notifierDeployment, notifierRole } from './support/iam-deployments';

const BUNDLE = path.join(__dirname, '..', 'assets', 'face-notifier', 'index.js');
const TOPIC = 'arn:aws:sns:eu-west-1:123456789012:face-alerts';
const BUCKET = 'face-snapshots';
const ACCESS_KEY = 'ASIANOTIFIER';
const CREDENTIALS = { secretAccessKey: 'notifier-secret', sessionToken: 'notifier-session-token' };
const FACE_KEY = 'snapshots/front-door/2026-12-02/1796220127250-0-0123456789abcdef/face.jpg';
const FRAME_KEY = 'snapshots/front-door/2026-12-02/1796220127250-0-0123456789abcdef/frame.jpg';
const JPEG = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 4, 0xff, 0xd9]);

// every call the bundle makes (Publish), and every presigned GET (authorized as the role that signed it), is evaluated against the synthesized policies
const iam = checkIam({ deployment: notifierDeployment, callers: { [ACCESS_KEY]: notifierRole } });

const sns = new FakeSns();
const s3 = new PresignedS3();
let handler: (input: unknown) => Promise<{ messageId: string }>;

beforeAll(async () => {
  if (!existsSync(BUNDLE)) {
    throw new Error(`${BUNDLE} is missing: run "node scripts/bundle.mjs face-notifier" first`);
  }
  const [snsUrl, s3Url] = await Promise.all([sns.start(), s3.start()]);
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_SNS: snsUrl,
    AWS_ENDPOINT_URL_S3: s3Url,
    S3_FORCE_PATH_STYLE: 'true',
    AWS_REGION: 'eu-west-1',
    AWS_ACCESS_KEY_ID: ACCESS_KEY,
    AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
    AWS_SESSION_TOKEN: CREDENTIALS.sessionToken,
    LOG_LEVEL: 'SILENT',
  });
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  handler = require(BUNDLE).handler;
}, 60_000);
afterAll(async () => {
  await Promise.all([sns.stop(), s3.stop()]);
  // Publish (with the topic's key) and the presigned GetObject (with the bucket's key) were evaluated
  expect(iam.checked()).toBeGreaterThanOrEqual(4);
});
beforeEach(() => {
  sns.reset();
  s3.reset();
  sns.subscribe(TOPIC, 'email');
  sns.subscribe(TOPIC, 'sms');
  s3.knowKey(ACCESS_KEY, CREDENTIALS);
  s3.put(BUCKET, FACE_KEY, JPEG);
  s3.put(BUCKET, FRAME_KEY, Buffer.from('frame'));
});

function sighting(overrides: Partial<FaceSightingDetail> = {}): FaceSightingDetail {
  return {
    version: '1',
    id: 'arn:aws:kinesisvideo:eu-west-1:123456789012:stream/front-door/1|91343852333181432392682062607743920146264470993|1796220127000|0.25|0',
    consumer: 'TestStack-Faces-Consumer',
    engine: 'frame-sampling',
    camera: 'front-door',
    videoStreamArn: 'arn:aws:kinesisvideo:eu-west-1:123456789012:stream/front-door/1',
    fragmentNumber: '91343852333181432392682062607743920146264470993',
    frameTime: '2026-12-02T14:02:07.250Z',
    serverTime: '2026-12-02T14:02:07.900Z',
    frameOffsetInSeconds: 0.25,
    processorStatus: 'RUNNING',
    faceIndex: 0,
    facesInFrame: 1,
    face: { boundingBox: { width: 0.2, height: 0.3, left: 0.4, top: 0.1 }, confidence: 99.9 },
    matched: true,
    match: { faceId: 'f-alice-1', externalImageId: 'alice', imageId: 'i-1', similarity: 98.764, confidence: 99.9 },
    matches: [{ faceId: 'f-alice-1', externalImageId: 'alice', imageId: 'i-1', similarity: 98.764, confidence: 99.9 }],
    snapshot: { bucket: BUCKET, faceKey: FACE_KEY, frameKey: FRAME_KEY },
    ...overrides,
  } as FaceSightingDetail;
}

const unknown = (overrides: Partial<FaceSightingDetail> = {}) => sighting({ matched: false, match: undefined, matches: [], facesInFrame: 2, ...overrides } as Partial<FaceSightingDetail>);

/**
 * What EventBridge invokes the notifier with for this detail: the synthesized rule's input
 * transformer (its template resolved as deployed, `<detail>` replaced by the event's detail).
 */
function invocationOf(detail: FaceSightingDetail, transform: (template: string) => string = (t) => t): unknown {
  const d = notifierDeployment();
  const detailType = detail.matched ? 'Face Matched' : 'Face Not Matched';
  const rule = d.resources('AWS::Events::Rule').find((r) => r.properties.EventPattern['detail-type'][0] === detailType && /\/Notify\//.test(r.path));
  if (!rule) throw new Error(`no notification rule on ${detailType}`);
  const transformer = d.resolve(rule.stack, rule.properties.Targets[0].InputTransformer);
  expect(transformer.InputPathsMap).toEqual({ detail: '$.detail' });
  return JSON.parse(transform(String(transformer.InputTemplate)).replace('<detail>', JSON.stringify(detail)));
}

/** The body's "Snapshot:" link, and the rest of the body with it replaced by <link>. */
function splitLink(body: string): { url: URL; rest: string } {
  const m = /^Snapshot: (\S+)$/m.exec(body);
  if (!m) throw new Error(`no link in\n${body}`);
  return { url: new URL(m[1]), rest: body.replace(m[1], '<link>') };
}

/** X-Amz-Date + seconds, as the message writes it in Paris in December (UTC+1). */
function parisTime(amzDate: string, plusSeconds: number): string {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(amzDate)!;
  const at = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]) + plusSeconds * 1000 + 3600_000;
  return `${new Date(at).toISOString().slice(0, 19)}+01:00`;
}

describe('message text', () => {
  test('a match: subject "alice at front-door", the body with camera, Paris and UTC time, similarity, engine and the link; SMS one line', async () => {
    await handler(invocationOf(sighting()));

    expect(sns.published).toHaveLength(1);
    const published = sns.published[0];
    expect(published).toMatchObject({ topicArn: TOPIC, subject: 'alice at front-door', messageStructure: 'json' });
    expect(published.attributes).toEqual({
      kind: { DataType: 'String', StringValue: 'match' },
      camera: { DataType: 'String', StringValue: 'front-door' },
      externalImageId: { DataType: 'String', StringValue: 'alice' },
    });
    const email = sns.deliveries.find((x) => x.protocol === 'email')!;
    expect(email.subject).toBe('alice at front-door');
    const { url, rest } = splitLink(email.text);
    const until = parisTime(url.searchParams.get('X-Amz-Date')!, 3600);
    expect(rest).toBe(
      [
        'alice was seen by the camera front-door.',
        '',
        'Who: alice',
        'Similarity: 98.8%',
        'Camera: front-door',
        'Time: 2026-12-02T15:02:07+01:00 (Europe/Paris)',
        'Time (UTC): 2026-12-02T14:02:07Z',
        'Engine: frame-sampling',
        'Faces in the frame: 1',
        'Snapshot: <link>',
        `The link works until ${until} (Europe/Paris) at the latest.`,
        '',
        `Sighting: ${sighting().id}`,
      ].join('\n'),
    );
    expect(sns.deliveries.find((x) => x.protocol === 'sms')!.text).toBe('alice at front-door, 2026-12-02T15:02:07+01:00, 98.8% similar');
    // the default part (SQS, HTTPS, ... subscribers) is the e-mail text
    expect(JSON.parse(published.message).default).toBe(email.text);
  });

  test('an unknown face: subject "Unknown face at front-door", no similarity; SMS one line', async () => {
    await handler(invocationOf(unknown()));

    const email = sns.deliveries.find((x) => x.protocol === 'email')!;
    expect(email.subject).toBe('Unknown face at front-door');
    const { url, rest } = splitLink(email.text);
    expect(rest).toBe(
      [
        'A face that matches nobody in the collection was seen by the camera front-door.',
        '',
        'Who: unknown (no match in the collection)',
        'Camera: front-door',
        'Time: 2026-12-02T15:02:07+01:00 (Europe/Paris)',
        'Time (UTC): 2026-12-02T14:02:07Z',
        'Engine: frame-sampling',
        'Faces in the frame: 2',
        'Snapshot: <link>',
        `The link works until ${parisTime(url.searchParams.get('X-Amz-Date')!, 3600)} (Europe/Paris) at the latest.`,
        '',
        `Sighting: ${sighting().id}`,
      ].join('\n'),
    );
    expect(sns.deliveries.find((x) => x.protocol === 'sms')!.text).toBe('Unknown face at front-door, 2026-12-02T15:02:07+01:00');
    expect(sns.published[0].attributes).toEqual({ kind: { DataType: 'String', StringValue: 'unknown' }, camera: { DataType: 'String', StringValue: 'front-door' } });
  });

  test('the time zone of the rule: summer time in New York, a half-hour zone, UTC', async () => {
    const cases: Array<[string, string, string]> = [
      ['America/New_York', '2026-07-04T16:30:00.000Z', 'Time: 2026-07-04T12:30:00-04:00 (America/New_York)'],
      ['Asia/Kolkata', '2026-12-02T14:02:07.250Z', 'Time: 2026-12-02T19:32:07+05:30 (Asia/Kolkata)'],
      ['UTC', '2026-12-02T14:02:07.250Z', 'Time: 2026-12-02T14:02:07+00:00 (UTC)'],
    ];
    for (const [zone, frameTime, line] of cases) {
      await handler(invocationOf(sighting({ frameTime }), (t) => t.replace('"timeZone":"Europe/Paris"', `"timeZone":"${zone}"`)));
      expect(sns.deliveries.filter((x) => x.protocol === 'email').pop()!.text.split('\n')).toContain(line);
    }
  });

  test('users mode: the user id; a long person name keeps the subject within SNS rules (under 100 characters)', async () => {
    const long = `${'a'.repeat(120)}:${'b'.repeat(100)}`;
    const match = { userId: long, externalImageId: long, similarity: 91.04 };
    await handler(invocationOf(sighting({ match, matches: [match] })));

    const subject = sns.published[0].subject!;
    expect(subject.length).toBeLessThan(100);
    expect(subject).toBe(`${'a'.repeat(96)}...`);
    expect(sns.deliveries.find((x) => x.protocol === 'email')!.text).toContain(`Who: ${long}\nSimilarity: 91.0%`);
  });

  test('no link when the sighting has no snapshot, or one outside the pipeline store: the message says so', async () => {
    await handler(invocationOf(sighting({ snapshot: undefined })));
    await handler(invocationOf(sighting({ snapshot: { bucket: 'someone-elses-bucket', faceKey: 'x/face.jpg', frameKey: 'x/frame.jpg' } })));
    const texts = sns.deliveries.filter((x) => x.protocol === 'email').map((x) => x.text);
    expect(texts[0]).toContain('\nSnapshot: none (no snapshot was stored for this sighting)\n\nSighting: ');
    expect(texts[1]).toContain('\nSnapshot: none (the snapshot is not in the pipeline snapshot store)\n\nSighting: ');
    expect(texts.join('\n')).not.toContain('http');
  });
});

describe('the snapshot link', () => {
  async function link(expirySeconds?: number): Promise<URL> {
    const transform = expirySeconds === undefined ? undefined : (t: string) => t.replace('"linkExpirySeconds":3600', `"linkExpirySeconds":${expirySeconds}`);
    await handler(invocationOf(sighting(), transform));
    return splitLink(sns.deliveries.find((x) => x.protocol === 'email')!.text).url;
  }

  test('is signed for the snapshot bucket and face key, for the rule expiry, with the function credentials; S3 serves the face', async () => {
    const url = await link();
    expect(url.pathname).toBe(`/${BUCKET}/${FACE_KEY}`);
    expect(url.searchParams.get('X-Amz-Expires')).toBe('3600');
    expect(url.searchParams.get('X-Amz-Credential')).toMatch(new RegExp(`^${ACCESS_KEY}/\\d{8}/eu-west-1/s3/aws4_request$`));
    expect(url.searchParams.get('X-Amz-Security-Token')).toBe(CREDENTIALS.sessionToken);
    expect(url.searchParams.get('X-Amz-SignedHeaders')).toBe('host');
    expect([...url.searchParams.keys()].sort()).toEqual(
      ['X-Amz-Algorithm', 'X-Amz-Content-Sha256', 'X-Amz-Credential', 'X-Amz-Date', 'X-Amz-Expires', 'X-Amz-Security-Token', 'X-Amz-Signature', 'X-Amz-SignedHeaders', 'x-id'].sort(),
    );

    const response = await fetch(url);
    expect(response.status).toBe(200);
    expect(Buffer.from(await response.arrayBuffer())).toEqual(JPEG);
    expect(s3.served).toEqual([`${BUCKET}/${FACE_KEY}`]);
  });

  test('a URL changed to another key, another expiry or another signature is refused', async () => {
    const url = await link();
    const otherKey = new URL(url);
    otherKey.pathname = `/${BUCKET}/${FRAME_KEY}`;
    const longer = new URL(url);
    longer.searchParams.set('X-Amz-Expires', '7200');
    const forged = new URL(url);
    forged.searchParams.set('X-Amz-Signature', '0'.repeat(64));
    for (const tampered of [otherKey, longer, forged]) {
      const response = await fetch(tampered);
      expect(response.status).toBe(403);
      expect(await response.text()).toContain('<Code>SignatureDoesNotMatch</Code>');
    }
    expect(s3.served).toEqual([]);
  });

  test('works until its expiry and is refused after it', async () => {
    const url = await link(120);
    expect(url.searchParams.get('X-Amz-Expires')).toBe('120');
    s3.later(100_000);
    expect((await fetch(url)).status).toBe(200);
    s3.later(30_000);
    const response = await fetch(url);
    expect(response.status).toBe(403);
    expect(await response.text()).toContain('Request has expired');
  });
});

describe('failures', () => {
  test('a Publish that SNS refuses fails the invocation (Lambda retries it, then its failure queue keeps it)', async () => {
    sns.fail('AuthorizationError', 403);
    await expect(handler(invocationOf(sighting()))).rejects.toThrow(/scripted AuthorizationError/);
    expect(sns.published).toHaveLength(0);
  });

  test('a transient SNS error is retried by the SDK and the message is published once', async () => {
    sns.fail('InternalError', 500);
    await handler(invocationOf(sighting()));
    expect(sns.published).toHaveLength(1);
  });

  test('an input that is no face event fails the invocation, naming what it got', async () => {
    await expect(handler({ topicArn: TOPIC })).rejects.toThrow('the notifier got no face event with a topic (keys: topicArn)');
  });
});
