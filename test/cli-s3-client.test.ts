/**
 * The enrol command's S3 requests (lib/cli/s3-client.ts, lib/cli/sigv4.ts), which do without an SDK
 * client, against what the SDK does: the URL an S3Client sends a request of the bucket to, the
 * SigV4 signature @smithy/signature-v4 gives an S3 request (path signed as sent, a query), and the
 * endpoint settings an S3Client reads (AWS_ENDPOINT_URL_S3, the profile's services section).
 * No request leaves the process: the SDK's is stopped before it is sent.
 */
import { Sha256 } from '@aws-crypto/sha256-js';
import { HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SignatureV4 } from '@smithy/signature-v4';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { resolveSettings } from '../lib/cli/kvs-client';
import { bucketUrl } from '../lib/cli/s3-client';
import { signedHeaders } from '../lib/cli/sigv4';

let dir: string;
const savedEnv = { ...process.env };

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'cli-s3-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => {
  for (const key of Object.keys(process.env)) {
    if (!(key in savedEnv)) {
      delete process.env[key];
    }
  }
  Object.assign(process.env, savedEnv);
});

/** The URL an S3Client sends HeadObject of `bucket`/k to (the request is stopped before it is sent). */
async function sdkUrl(bucket: string, config: ConstructorParameters<typeof S3Client>[0]): Promise<string> {
  const client = new S3Client({ credentials: { accessKeyId: 'AKID', secretAccessKey: 's' }, ...config });
  let url = '';
  client.middlewareStack.add(
    () => async (args: any) => {
      const r = args.request;
      url = `${r.protocol}//${r.hostname}${r.port ? `:${r.port}` : ''}${r.path}`;
      throw new Error('stopped');
    },
    { step: 'finalizeRequest', priority: 'low' },
  );
  await client.send(new HeadObjectCommand({ Bucket: bucket, Key: 'k' })).catch(() => undefined);
  return url;
}

/** The URL the CLI sends a request for key k of `bucket` to. */
async function cliUrl(bucket: string, region: string, fips = false, dualStack = false): Promise<string> {
  const { origin, pathStyle } = await bucketUrl({ region, useFipsEndpoint: fips, useDualstackEndpoint: dualStack }, bucket);
  return `${origin.protocol}//${origin.host}${pathStyle ? `/${bucket}` : ''}/k`;
}

test.each([
  ['eu-west-1', 'faces-bucket', false, false],
  ['us-east-1', 'faces-bucket', false, false],
  ['cn-north-1', 'faces-bucket', false, false],
  ['us-gov-west-1', 'faces-bucket', true, false],
  ['eu-west-1', 'faces-bucket', false, true],
  ['us-east-1', 'faces-bucket', true, true],
  ['eu-west-1', 'faces.example.com', false, false],
])('the URL of a bucket, as an S3Client addresses it: %s %s (FIPS %s, dual-stack %s)', async (region, bucket, fips, dualStack) => {
  expect(await cliUrl(bucket, region, fips, dualStack)).toBe(await sdkUrl(bucket, { region, useFipsEndpoint: fips, useDualstackEndpoint: dualStack }));
});

test('a configured endpoint (a local S3) is addressed path-style, as an S3Client with forcePathStyle does', async () => {
  const { origin, pathStyle } = await bucketUrl({ region: 'eu-west-1', useFipsEndpoint: false, useDualstackEndpoint: false, configuredEndpoint: 'http://127.0.0.1:4566' }, 'faces-bucket');
  expect(`${origin.protocol}//${origin.host}${pathStyle ? '/faces-bucket' : ''}/k`).toBe(await sdkUrl('faces-bucket', { region: 'eu-west-1', endpoint: 'http://127.0.0.1:4566', forcePathStyle: true }));
});

test.each([
  ['GetObjectTagging of a version', { method: 'GET', path: '/faces-bucket/faces/bob/snapshot-front-door_2026-12-02_1764670000750-0-556b1442d7796a3f.jpg', query: { tagging: '', versionId: 'v1/+=' } }],
  ['ListObjectsV2 with a prefix and a continuation token', { method: 'GET', path: '/snapshots-bucket/', query: { 'list-type': '2', 'prefix': 'snapshots/', 'delimiter': '/', 'continuation-token': 'a b+c/=' } }],
  ['CopyObject, a key with characters to escape (signed as sent, not normalised)', {
    method: 'PUT', path: '/faces-bucket/faces/a%20b/.././x%28y%29.jpg',
    headers: { 'x-amz-copy-source': '/snapshots-bucket/snapshots/front-door/face.jpg', 'x-amz-metadata-directive': 'REPLACE', 'content-type': 'image/jpeg' },
  }],
])('S3 SigV4 as @smithy/signature-v4 signs it: %s', async (_, request: { method: string; path: string; query?: Record<string, string>; headers?: Record<string, string> }) => {
  const date = new Date('2024-02-29T23:59:58.123Z');
  const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', sessionToken: 'token' };
  const body = Buffer.from([0xff, 0xd8, 0xff, 0x00, 0x41]);
  const headers = { host: '127.0.0.1:4566', ...request.headers };
  const mine = signedHeaders({ method: request.method, path: request.path, query: request.query, headers, body, region: 'eu-west-1', service: 's3', credentials, date });
  const signer = new SignatureV4({ service: 's3', region: 'eu-west-1', credentials, sha256: Sha256, uriEscapePath: false });
  const theirs = await signer.sign({ method: request.method, protocol: 'http:', hostname: '127.0.0.1', port: 4566, path: request.path, query: request.query ?? {}, headers: { ...headers }, body }, { signingDate: date });
  expect(mine).toEqual(theirs.headers);
});

test('S3 settings: AWS_ENDPOINT_URL_S3 (not Kinesis Video\'s), and a profile\'s services section for s3, as an S3Client reads them', async () => {
  const clean = () => {
    for (const key of Object.keys(process.env).filter((k) => k.startsWith('AWS_') && !k.startsWith('AWS_SDK_JS_'))) {
      delete process.env[key];
    }
    Object.assign(process.env, { AWS_EC2_METADATA_DISABLED: 'true', AWS_CONFIG_FILE: path.join(dir, 'none'), AWS_SHARED_CREDENTIALS_FILE: path.join(dir, 'none') });
  };
  clean();
  Object.assign(process.env, { AWS_REGION: 'eu-west-1', AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:9000', AWS_ENDPOINT_URL_KINESIS_VIDEO: 'http://127.0.0.1:4566' });
  expect(await resolveSettings(undefined, 'S3')).toEqual({ region: 'eu-west-1', useFipsEndpoint: false, useDualstackEndpoint: false, configuredEndpoint: 'http://127.0.0.1:9000' });
  expect((await resolveSettings(undefined))?.configuredEndpoint).toBe('http://127.0.0.1:4566');

  clean();
  const config = path.join(dir, 'config');
  writeFileSync(config, '[profile local]\nregion = eu-central-1\nservices = local-services\n\n[services local-services]\ns3 =\n  endpoint_url = http://127.0.0.1:9001\n');
  Object.assign(process.env, { AWS_CONFIG_FILE: config, AWS_PROFILE: 'local' });
  const settings = await resolveSettings(undefined, 'S3');
  expect(settings).toEqual({ region: 'eu-central-1', useFipsEndpoint: false, useDualstackEndpoint: false, configuredEndpoint: 'http://127.0.0.1:9001' });
  expect(await sdkUrl('faces-bucket', { forcePathStyle: true })).toBe('http://127.0.0.1:9001/faces-bucket/k');
});
