/**
 * put-media's AWS settings, credentials, GetDataEndpoint request and SigV4 signing
 * (lib/cli/kvs-client.ts, lib/cli/sigv4.ts), which do without an SDK client, against what the SDK's own
 * KinesisVideoClient and @smithy/signature-v4 do with the same environment and files.
 */
import { Sha256 } from '@aws-crypto/sha256-js';
import { GetDataEndpointCommand, KinesisVideoClient } from '@aws-sdk/client-kinesis-video';
import { SignatureV4 } from '@smithy/signature-v4';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { AwsSettings, controlPlaneEndpoint, kinesisVideoJson, resolveCredentials, resolveSettings } from '../lib/cli/kvs-client';
import { signedHeaders } from '../lib/cli/sigv4';
import { LocalServer } from './support/local-server';
import { checkIam } from './support/iam-check';
import { cliDeployment, role } from './support/iam-deployments';

// every AWS call made in these tests is evaluated against the synthesized policies (test/support/iam-check.ts)
checkIam({ deployment: cliDeployment, callers: { AKIDEXAMPLE: role(/Uploader\/Resource$/) } });

let dir: string;
const savedEnv = { ...process.env };
let files = 0;

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'cli-aws-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});
afterEach(() => {
  for (const key of Object.keys(process.env)) {
    if (!(key in savedEnv)) {
      delete process.env[key];
    }
  }
  Object.assign(process.env, savedEnv);
});

/** A file of its own for each case (the SDK caches the shared files it reads, by path). */
function file(text: string): string {
  const name = path.join(dir, `file-${files++}`);
  writeFileSync(name, text);
  return name;
}

/** process.env as the CLI would see it: only these AWS variables, no instance metadata, no files unless given. */
function useEnv(vars: Record<string, string | undefined>): void {
  for (const key of Object.keys(process.env)) {
    if (key.startsWith('AWS_') && !key.startsWith('AWS_SDK_JS_')) {
      delete process.env[key];
    }
  }
  Object.assign(process.env, {
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_CONFIG_FILE: path.join(dir, 'none'),
    AWS_SHARED_CREDENTIALS_FILE: path.join(dir, 'none'),
  });
  for (const [key, value] of Object.entries(vars)) {
    if (value === undefined) {
      delete process.env[key];
    } else {
      process.env[key] = value;
    }
  }
}

/** The settings a KinesisVideoClient resolves, in the form of resolveSettings. */
async function clientSettings(region: string | undefined): Promise<AwsSettings | undefined | string> {
  let client: KinesisVideoClient;
  try {
    client = new KinesisVideoClient({ region });
  } catch (error) {
    return (error as Error).message;
  }
  let resolved: string;
  try {
    resolved = await client.config.region();
  } catch {
    return undefined;
  }
  const configuredEndpoint = await (client.config as unknown as { serviceConfiguredEndpoint: () => Promise<string | undefined> }).serviceConfiguredEndpoint();
  return {
    region: resolved,
    useFipsEndpoint: await client.config.useFipsEndpoint(),
    useDualstackEndpoint: await client.config.useDualstackEndpoint(),
    ...(configuredEndpoint !== undefined ? { configuredEndpoint } : {}),
  };
}

async function cliSettings(region: string | undefined): Promise<AwsSettings | undefined | string> {
  try {
    return await resolveSettings(region);
  } catch (error) {
    return (error as Error).message;
  }
}

const settingsCases: Array<[string, string | undefined, () => Record<string, string | undefined>]> = [
  ['AWS_REGION', undefined, () => ({ AWS_REGION: 'eu-west-1' })],
  ['--region over AWS_REGION', 'us-west-2', () => ({ AWS_REGION: 'eu-west-1' })],
  ['an empty --region', '', () => ({ AWS_REGION: 'eu-west-1' })],
  ['an empty AWS_REGION', undefined, () => ({ AWS_REGION: '' })],
  ['a Region that is not a host name', undefined, () => ({ AWS_REGION: 'eu west 1' })],
  ['no Region anywhere', undefined, () => ({})],
  ['a FIPS pseudo-Region (prefix)', undefined, () => ({ AWS_REGION: 'fips-us-east-1' })],
  ['a FIPS pseudo-Region (suffix)', 'us-gov-west-1-fips', () => ({})],
  ['the global FIPS pseudo-Region', undefined, () => ({ AWS_REGION: 'fips-aws-global' })],
  ['a FIPS pseudo-Region with a dkr- prefix', 'fips-dkr-us-east-2', () => ({})],
  ['a Region label ending in a hyphen', undefined, () => ({ AWS_REGION: 'eu-west-' })],
  ['a Region longer than a host label', undefined, () => ({ AWS_REGION: 'r'.repeat(64) })],
  ['a dual-stack flag that is not true or false, with AWS_ENDPOINT_URL', undefined, () => ({ AWS_REGION: 'eu-west-1', AWS_USE_DUALSTACK_ENDPOINT: 'TRUE', AWS_ENDPOINT_URL: 'http://127.0.0.1:4566' })],
  ['FIPS and dual-stack from the environment', undefined, () => ({ AWS_REGION: 'us-east-1', AWS_USE_FIPS_ENDPOINT: 'true', AWS_USE_DUALSTACK_ENDPOINT: 'true' })],
  ['a FIPS flag that is not true or false', undefined, () => ({ AWS_REGION: 'us-east-1', AWS_USE_FIPS_ENDPOINT: 'yes', AWS_USE_DUALSTACK_ENDPOINT: 'false' })],
  ['AWS_ENDPOINT_URL', undefined, () => ({ AWS_REGION: 'eu-west-1', AWS_ENDPOINT_URL: 'http://127.0.0.1:4566' })],
  ['AWS_ENDPOINT_URL_KINESIS_VIDEO over AWS_ENDPOINT_URL', undefined, () => ({ AWS_REGION: 'eu-west-1', AWS_ENDPOINT_URL: 'http://a:1', AWS_ENDPOINT_URL_KINESIS_VIDEO: 'http://b:2/base' })],
  ['AWS_IGNORE_CONFIGURED_ENDPOINT_URLS', undefined, () => ({ AWS_REGION: 'eu-west-1', AWS_ENDPOINT_URL: 'http://a:1', AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: 'true' })],
  ['the Region and endpoint variants of the default profile', undefined, () => ({
    AWS_CONFIG_FILE: file('[default]\nregion = ap-south-1\nuse_dualstack_endpoint = true\n'),
  })],
  ['a profile FIPS setting under an environment Region', undefined, () => ({
    AWS_REGION: 'us-east-1', AWS_CONFIG_FILE: file('[default]\nuse_fips_endpoint = true\n'),
  })],
  ['AWS_PROFILE: its Region and its services section endpoint', undefined, () => ({
    AWS_PROFILE: 'cam',
    AWS_CONFIG_FILE: file('[profile cam]\nregion = eu-central-1\nservices = local\n[services local]\nkinesis_video =\n  endpoint_url = http://127.0.0.1:9000\n'),
  })],
  ['a profile endpoint_url, and the credentials file region', undefined, () => ({
    AWS_CONFIG_FILE: file('[default]\nendpoint_url = http://127.0.0.1:9001\n'),
    AWS_SHARED_CREDENTIALS_FILE: file('[default]\nregion = sa-east-1\n'),
  })],
  ['the environment over the profile', undefined, () => ({
    AWS_REGION: 'eu-west-3', AWS_USE_FIPS_ENDPOINT: 'false', AWS_ENDPOINT_URL: 'http://127.0.0.1:9002',
    AWS_CONFIG_FILE: file('[default]\nregion = us-east-2\nuse_fips_endpoint = true\nendpoint_url = http://127.0.0.1:9003\n'),
  })],
  ['ignore_configured_endpoint_urls in the profile', undefined, () => ({
    AWS_REGION: 'eu-west-1', AWS_CONFIG_FILE: file('[default]\nignore_configured_endpoint_urls = true\nendpoint_url = http://127.0.0.1:9004\n'),
  })],
];

test.each(settingsCases)('settings as a KinesisVideoClient resolves them: %s', async (_, region, env) => {
  useEnv(env());
  const expected = await clientSettings(region);
  expect(await cliSettings(region)).toEqual(expected);
});

const regions = ['us-east-1', 'eu-west-1', 'cn-north-1', 'us-gov-west-1', 'us-iso-east-1', 'us-isob-east-1', 'eu-isoe-west-1', 'us-isof-south-1', 'eusc-de-east-1', 'mx-central-1', 'xx-nowhere-9'];
const variants = [[false, false], [true, false], [false, true], [true, true]];

test.each(regions)('the control-plane endpoint in %s, with and without FIPS and dual-stack, as the client\'s rules give it', async (region) => {
  const client = new KinesisVideoClient({ region });
  for (const [fips, dualStack] of variants) {
    let expected: string;
    try {
      expected = client.config.endpointProvider({ Region: region, UseFIPS: fips, UseDualStack: dualStack }).url.href;
    } catch (error) {
      expected = `EndpointError: ${(error as Error).message}`;
    }
    let actual: string;
    try {
      actual = await controlPlaneEndpoint({ region, useFipsEndpoint: fips, useDualstackEndpoint: dualStack });
    } catch (error) {
      actual = `${(error as Error).name}: ${(error as Error).message}`;
    }
    expect({ fips, dualStack, endpoint: actual }).toEqual({ fips, dualStack, endpoint: expected });
  }
});

test('a configured endpoint with FIPS or dual-stack is the error the client\'s rules give', async () => {
  const client = new KinesisVideoClient({ region: 'eu-west-1' });
  for (const [fips, dualStack] of variants.slice(1)) {
    let expected = '';
    try {
      client.config.endpointProvider({ Region: 'eu-west-1', UseFIPS: fips, UseDualStack: dualStack, Endpoint: 'http://127.0.0.1:1/' });
    } catch (error) {
      expected = (error as Error).message;
    }
    await expect(controlPlaneEndpoint({ region: 'eu-west-1', useFipsEndpoint: fips, useDualstackEndpoint: dualStack, configuredEndpoint: 'http://127.0.0.1:1' }))
      .rejects.toThrow(expected);
  }
});

describe('GetDataEndpoint', () => {
  const requests: Array<{ method?: string; url?: string; headers: IncomingMessage['headers']; body: string }> = [];
  const server = new LocalServer(async (req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    for await (const chunk of req) {
      body += chunk;
    }
    requests.push({ method: req.method, url: req.url, headers: req.headers, body });
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ DataEndpoint: 'https://data.example' }));
  }, (res) => res.end());
  let url: string;
  beforeAll(async () => {
    url = await server.start();
  });
  afterAll(() => server.stop());

  test.each([
    ['a stream name, an endpoint with a base path, session credentials', '/base/', { StreamName: 'front-door' }, 'token'],
    ['a stream ARN, an endpoint without a path', '', { StreamARN: 'arn:aws:kinesisvideo:eu-west-1:123456789012:stream/front-door/1700000000000' }, undefined],
  ])('the request the client sends, validly signed: %s', async (_, base, stream, sessionToken) => {
    useEnv({ AWS_REGION: 'eu-west-1', AWS_ENDPOINT_URL_KINESIS_VIDEO: `${url}${base}`, AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE', AWS_SECRET_ACCESS_KEY: 'secret', AWS_SESSION_TOKEN: sessionToken });
    requests.length = 0;
    const sdk = await new KinesisVideoClient({}).send(new GetDataEndpointCommand({ ...stream, APIName: 'PUT_MEDIA' }));
    const settings = (await resolveSettings(undefined))!;
    const credentials = await resolveCredentials(settings.region);
    const cli = await kinesisVideoJson<{ DataEndpoint?: string }>({
      endpoint: await controlPlaneEndpoint(settings), path: '/getDataEndpoint', body: { ...stream, APIName: 'PUT_MEDIA' }, region: settings.region, credentials,
    });
    expect(cli).toEqual({ DataEndpoint: sdk.DataEndpoint });
    const [fromSdk, fromCli] = requests;
    expect({ method: fromCli.method, url: fromCli.url, body: JSON.parse(fromCli.body), type: fromCli.headers['content-type'] })
      .toEqual({ method: fromSdk.method, url: fromSdk.url, body: JSON.parse(fromSdk.body), type: fromSdk.headers['content-type'] });
    expect(fromCli.headers['x-amz-security-token']).toBe(sessionToken);
    await expectValidSignature(fromCli, { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret', sessionToken });
  });
});

/** Signs the received request again with @smithy/signature-v4, over the headers it says it signed. */
async function expectValidSignature(
  request: { method?: string; url?: string; headers: IncomingMessage['headers']; body?: string },
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string },
): Promise<void> {
  const authorization = String(request.headers.authorization);
  const [, scope, signed] = /Credential=[^/]+\/(\S+), SignedHeaders=([^,]+), Signature=/.exec(authorization)!;
  const [, region, service] = scope.split('/');
  const headers: Record<string, string> = {};
  for (const name of signed.split(';')) {
    headers[name] = String(request.headers[name]);
  }
  const date = String(request.headers['x-amz-date']);
  const signingDate = new Date(`${date.slice(0, 4)}-${date.slice(4, 6)}-${date.slice(6, 11)}:${date.slice(11, 13)}:${date.slice(13)}`);
  const signer = new SignatureV4({ service, region, credentials, sha256: Sha256 });
  const again = await signer.sign({ method: request.method!, protocol: 'http:', hostname: 'ignored', path: request.url!, query: {}, headers, ...(request.body !== undefined ? { body: request.body } : {}) }, { signingDate });
  expect(authorization).toBe(again.headers.authorization);
}

test('credentials from the environment, as the SDK\'s chain takes them', async () => {
  useEnv({ AWS_ACCESS_KEY_ID: 'AKIDENV', AWS_SECRET_ACCESS_KEY: 'env-secret', AWS_SESSION_TOKEN: 'env-token' });
  const sdk = await new KinesisVideoClient({ region: 'eu-west-1' }).config.credentials();
  expect(await resolveCredentials('eu-west-1')).toEqual({ accessKeyId: sdk.accessKeyId, secretAccessKey: sdk.secretAccessKey, sessionToken: sdk.sessionToken });
});

test('with AWS_PROFILE set, the profile\'s credentials, not the environment\'s, as the SDK\'s chain', async () => {
  useEnv({
    AWS_ACCESS_KEY_ID: 'AKIDENV', AWS_SECRET_ACCESS_KEY: 'env-secret', AWS_PROFILE: 'cam',
    AWS_SHARED_CREDENTIALS_FILE: file('[cam]\naws_access_key_id = AKIDPROFILE\naws_secret_access_key = profile-secret\n'),
  });
  const sdk = await new KinesisVideoClient({ region: 'eu-west-1', logger: { debug() {}, info() {}, warn() {}, error() {} } }).config.credentials();
  const cli = await resolveCredentials('eu-west-1');
  expect(cli).toMatchObject({ accessKeyId: 'AKIDPROFILE', secretAccessKey: 'profile-secret' });
  expect(cli).toMatchObject({ accessKeyId: sdk.accessKeyId, secretAccessKey: sdk.secretAccessKey });
});

test('no credentials anywhere: the SDK chain\'s own error', async () => {
  useEnv({});
  await expect(resolveCredentials('eu-west-1')).rejects.toMatchObject({ name: 'CredentialsProviderError', message: 'Could not load credentials from any providers' });
});

test.each([
  ['GetDataEndpoint with a session token', {
    method: 'POST', path: '/base/getDataEndpoint', body: '{"StreamName":"front-door","APIName":"PUT_MEDIA"}',
    headers: { 'host': '127.0.0.1:4566', 'content-type': 'application/json', 'content-length': '49', 'user-agent': 'x' },
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret', sessionToken: 'token' },
  }],
  ['PutMedia, unsigned payload, unsignable headers', {
    method: 'POST', path: '/putMedia',
    headers: {
      'host': 's-1234.kinesisvideo.eu-west-1.amazonaws.com', 'x-amzn-stream-name': 'front-door', 'x-amzn-fragment-timecode-type': 'RELATIVE',
      'x-amzn-producer-start-timestamp': '1700000000.250', 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD', 'transfer-encoding': 'chunked',
      'content-type': 'application/octet-stream', 'proxy-authorization': 'p', 'sec-fetch-mode': 'cors', 'connection': 'keep-alive',
    },
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' },
  }],
  ['odd header names and values, a path to normalise and escape', {
    method: 'POST', path: '/a/./b/../c d/(x)*!\'/',
    headers: { 'Host': 'example.com', 'X-Amzn-Stream-Name': '  two   spaces\tand tab ', 'x-amzn-multi': 'line1\nline2' },
    body: 'é',
    credentials: { accessKeyId: 'AKID', secretAccessKey: 'k' },
  }],
])('SigV4 as @smithy/signature-v4 signs: %s', async (_, request) => {
  const date = new Date('2024-02-29T23:59:58.123Z');
  const mine = signedHeaders({ ...request, region: 'eu-west-1', service: 'kinesisvideo', date });
  const signer = new SignatureV4({ service: 'kinesisvideo', region: 'eu-west-1', credentials: request.credentials, sha256: Sha256 });
  const theirs = await signer.sign({ method: request.method, protocol: 'https:', hostname: 'ignored', path: request.path, query: {}, headers: { ...request.headers }, ...('body' in request ? { body: request.body } : {}) }, { signingDate: date });
  expect(mine).toEqual(theirs.headers);
});

