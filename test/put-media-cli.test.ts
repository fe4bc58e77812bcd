/**
 * The bundled producer CLI (assets/cli/index.js, the package's bin) run as a user runs it, in a
 * child process, against a local Kinesis Video Streams endpoint (GetDataEndpoint + PutMedia).
 */
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { spawn, spawnSync } from 'node:child_process';
import { createWriteStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { cliEnv as localCliEnv } from './support/cli-env';
import { FakeKinesisVideo } from './support/fake-kinesis-video';
import { CLUSTER_ID, countClusters, makeMkv } from './support/mkv';
import { checkIam } from './support/iam-check';
import { cliDeployment, role } from './support/iam-deployments';

// every AWS call made in these tests is evaluated against the synthesized policies (test/support/iam-check.ts)
checkIam({
  deployment: cliDeployment,
  callers: { AKIDEXAMPLE: role(/Uploader\/Resource$/) },
  // the profile test's camera is in another Region than the deployment's (it tests where the CLI finds its settings)
  ignoreKeys: ['AKIDPROFILE'],
});

/** CLI_BUNDLE: another build of the CLI to run these tests against (an older one, to see them fail). */
const CLI = process.env.CLI_BUNDLE ?? path.join(__dirname, '..', 'assets', 'cli', 'index.js');
let kvs: FakeKinesisVideo;
let endpoint: string;
let dir: string;
let fixture = "";
let fixtureBytes: Buffer;
/** Big enough that the CLI is still sending when the service closes the connection. */
let bigFixture = '';

beforeAll(async () => {
  kvs = new FakeKinesisVideo();
  endpoint = await kvs.start();
  dir = mkdtempSync(path.join(tmpdir(), 'put-media-'));
  fixtureBytes = makeMkv({ clusters: 5, framesPerCluster: 10, frameBytes: 2000 });
  fixture = path.join(dir, 'door.mkv');
  writeFileSync(fixture, fixtureBytes);
  bigFixture = path.join(dir, 'big.mkv');
  writeFileSync(bigFixture, makeMkv({ clusters: 20, framesPerCluster: 20, frameBytes: 20_000 }));
});
afterAll(async () => {
  await kvs.stop();
  rmSync(dir, { recursive: true, force: true });
});
beforeEach(() => {
  kvs.reset();
  kvs.streams.add('front-door');
});

/** The CLI's environment: the local endpoint, static credentials, no profile files. */
function cliEnv(): NodeJS.ProcessEnv {
  return localCliEnv(endpoint, dir);
}

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function cli(args: string[], stdin?: Buffer, env: NodeJS.ProcessEnv = cliEnv()): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.on('error', () => undefined); // a CLI that refuses its input exits before reading it all (EPIPE)
    if (stdin) {
      child.stdin.end(stdin);
    } else {
      child.stdin.end();
    }
  });
}

test('the fixture is an MKV with 5 clusters', () => {
  expect(fixtureBytes.subarray(0, 4).toString('hex')).toBe('1a45dfa3');
  expect(countClusters(fixtureBytes)).toBe(5);
});

test('streams a file: the server receives exactly its bytes, signed, with the PutMedia headers', async () => {
  const run = await cli(['put-media', '--stream', 'front-door', '--file', fixture, '--producer-start-timestamp', '1700000000.25']);
  expect(run).toMatchObject({ code: 0 });
  expect(kvs.calls).toEqual(['POST /getDataEndpoint', 'POST /putMedia']);
  const [session] = kvs.sessions;
  expect(session.body.equals(fixtureBytes)).toBe(true);
  expect(session.headers).toMatchObject({
    'x-amzn-stream-name': 'front-door',
    'x-amzn-fragment-timecode-type': 'RELATIVE',
    'x-amzn-producer-start-timestamp': '1700000000.250',
    'transfer-encoding': 'chunked',
    'x-amz-content-sha256': 'UNSIGNED-PAYLOAD',
  });
  expect(String(session.headers.authorization)).toMatch(
    /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/kinesisvideo\/aws4_request, SignedHeaders=[^,]*x-amzn-fragment-timecode-type;x-amzn-producer-start-timestamp;x-amzn-stream-name/,
  );
  // not a terminal: plain lines, one per persisted fragment, then a summary
  expect(run.stderr.match(/^persisted fragment \d+ \(\d+ so far, \d+ bytes sent\)$/gm)).toHaveLength(5);
  expect(run.stderr).toContain(`done: ${fixtureBytes.length} bytes sent, 5 fragments persisted`);
});

/**
 * The modules a CLI run requires, recorded by a preload. With `stopAt`, the run ends (exit 99) when
 * it first requires that module, before it would connect anywhere.
 */
async function requiresOf(args: string[], env: NodeJS.ProcessEnv, stopAt?: string): Promise<{ run: Run; required: string[] }> {
  const log = path.join(dir, 'requires.txt');
  const hook = path.join(dir, 'record-requires.js');
  rmSync(log, { force: true });
  writeFileSync(hook, [
    "const Module = require('node:module');",
    "const fs = require('node:fs');",
    'const seen = new Set();',
    'const load = Module._load;',
    `const stopAt = ${JSON.stringify(stopAt ?? null)};`,
    'Module._load = function (request, ...rest) {',
    '  seen.add(request);',
    '  if (request === stopAt) process.exit(99);',
    '  return load.call(this, request, ...rest);',
    '};',
    `process.on('exit', () => fs.writeFileSync(${JSON.stringify(log)}, [...seen].join('\\n')));`,
  ].join('\n'));
  const run = await cli(args, undefined, { ...env, NODE_OPTIONS: `--require ${hook}` });
  return { run, required: readFileSync(log, 'utf8').split('\n') };
}

// the SDK's shared-file readers and partitions table are the bundle file ./shared-config (with
// node:fs/promises); its credential chain is the bundle file ./sdk
test('with the Region, credentials and endpoint in the environment and no shared config file, it loads none of the SDK\'s code', async () => {
  const { run, required } = await requiresOf(['put-media', '--stream', 'front-door', '--quiet', fixture], cliEnv());
  expect(run).toMatchObject({ code: 0 });
  expect(required).toContain('node:http');
  for (const heavy of ['./shared-config', './sdk', 'node:fs/promises']) {
    expect(required).not.toContain(heavy);
  }
});

test('against AWS, with the Region and credentials in the environment, it loads the SDK\'s partitions table and not its credential chain', async () => {
  const env = cliEnv();
  delete env.AWS_ENDPOINT_URL_KINESIS_VIDEO;
  // stopped where it would first connect to AWS (https), once the endpoint is known: the endpoint
  // comes from the SDK's partitions table, which is in ./shared-config
  const { run, required } = await requiresOf(['put-media', '--stream', 'front-door', '--quiet', fixture], env, 'node:https');
  expect(run.code).toBe(99);
  expect(required).toContain('./shared-config');
  expect(required).not.toContain('./sdk');
});

test('streams standard input, and addresses the stream by ARN', async () => {
  const arn = 'arn:aws:kinesisvideo:eu-west-1:123456789012:stream/front-door/1700000000000';
  const run = await cli(['put-media', '--stream', arn, '--timecode-type', 'absolute', '-'], fixtureBytes);
  expect(run.code).toBe(0);
  const [session] = kvs.sessions;
  expect(session.body.equals(fixtureBytes)).toBe(true);
  expect(session.headers).toMatchObject({ 'x-amzn-stream-arn': arn, 'x-amzn-fragment-timecode-type': 'ABSOLUTE' });
  expect(session.headers['x-amzn-stream-name']).toBeUndefined();
});

test('an ERROR acknowledgement exits 4 with the error id and what it means', async () => {
  kvs.errorId = 4006;
  kvs.errorAfterFragments = 2;
  const run = await cli(['put-media', '--stream', 'front-door', fixture]);
  expect(run.code).toBe(4);
  expect(run.stderr).toContain('error: ERROR 4006 INVALID_MKV_DATA: The data is not valid MKV. (fragment timecode 2000)');
});

test('an unknown error id still exits 4 and says where to look', async () => {
  kvs.errorId = 4999;
  const run = await cli(['put-media', '--stream', 'front-door', fixture]);
  expect(run.code).toBe(4);
  expect(run.stderr).toContain('ERROR 4999 UNKNOWN_ERROR');
  expect(run.stderr).toContain('an error id this tool does not know');
});

test('a stream that does not exist exits 2 with the service\'s error', async () => {
  const run = await cli(['put-media', '--stream', 'back-door', fixture]);
  expect(run.code).toBe(2);
  expect(run.stderr).toMatch(/error: GetDataEndpoint for back-door failed: ResourceNotFoundException: The requested stream back-door was not found/);
});

test('an HTTP error from PutMedia exits 3 with the status and the service\'s message', async () => {
  kvs.httpError = { status: 403, type: 'NotAuthorizedException', message: 'not allowed to PutMedia' };
  const run = await cli(['put-media', '--stream', 'front-door', fixture]);
  expect(run.code).toBe(3);
  expect(run.stderr).toContain('error: PutMedia answered HTTP 403: not allowed to PutMedia');
});

test.each([
  [['put-media', '--stream'], '--stream needs a value'],
  [['put-media', fixture], '--stream is required: the name or ARN of the Kinesis video stream'],
  [['put-media', '--stream', 's', '--timecode-type', 'sometimes'], '--timecode-type must be ABSOLUTE or RELATIVE, got "SOMETIMES"'],
  [['put-media', '--stream', 's', '--producer-start-timestamp', 'yesterday'], '--producer-start-timestamp must be epoch seconds'],
  [['put-media', '--stream', 's', '--fast'], 'unknown flag --fast (see --help)'],
  [['upload'], 'unknown command "upload"; the commands are put-media, follow and enrol (see --help)'],
  [['put-media', '--stream', 's', '--ack-timeout', 'never'], '--ack-timeout must be a number of seconds above 0'],
  [['put-media', '--stream', 's', '/no/such/file.mkv'], 'cannot read /no/such/file.mkv'],
])('usage errors exit 1: %j', async (args, message) => {
  const run = await cli(args);
  expect(run.code).toBe(1);
  expect(run.stderr).toContain(message);
});

test('--help explains every flag and the exit codes', async () => {
  const run = await cli(['put-media', '--help']);
  expect(run.code).toBe(0);
  for (const flag of ['--stream', '--file', '--region', '--timecode-type', '--producer-start-timestamp', '--ack-timeout', '--quiet', '--help', '--version']) {
    expect(run.stdout).toContain(flag);
  }
  expect(run.stdout).toMatch(/Exit codes:\n {2}0 {2}every fragment[\s\S]*\n {2}1 {2}usage[\s\S]*\n {2}2 {2}AWS[\s\S]*\n {2}3 {2}HTTP[\s\S]*\n {2}4 {2}an ERROR[\s\S]*\n {2}5 {2}not every fragment was acknowledged PERSISTED[\s\S]*\n {2}6 {2}protocol error/);
});

// Issue 11 item 19: the service answers an ERROR ack and closes the connection while the body is
// still coming (a reset). Whatever the CLI was doing (writing, reading), the ack decides.
test.each([
  ['a small file (sent before the reset)', () => fixture, 2, 2000],
  ['a large file (still being sent)', () => bigFixture, 1, 1000],
])('an ERROR acknowledgement followed by a reset connection exits 4, every time: %s', async (_, file, after, timecode) => {
  for (let i = 0; i < 8; i++) {
    kvs.reset();
    kvs.streams.add('front-door');
    kvs.errorId = 4006;
    kvs.errorAfterFragments = after;
    const run = await cli(['put-media', '--stream', 'front-door', file()]);
    expect({ i, code: run.code, stderr: run.stderr }).toMatchObject({ i, code: 4 });
    expect(run.stderr).toContain(`error: ERROR 4006 INVALID_MKV_DATA: The data is not valid MKV. (fragment timecode ${timecode})`);
  }
});

// Issue 11 item 20: exit 0 means every fragment sent was acknowledged PERSISTED.
test('a malformed acknowledgement is a protocol error (exit 6), not a crash', async () => {
  kvs.misbehave = 'malformed';
  const run = await cli(['put-media', '--stream', 'front-door', fixture]);
  expect(run.code).toBe(6);
  expect(run.stderr).toContain('warning: PutMedia sent something that is not an acknowledgement: "{\\"EventType\\":\\"BUFFERING\\",\\"FragmentTimecode\\":}"');
  expect(run.stderr).toMatch(/error: PutMedia sent 1 malformed acknowledgement \(the first: .*\); 5 fragments sent/);
  expect(run.stderr).not.toMatch(/\n\s+at /); // no stack trace
});

test('a stray } does not hide the acknowledgements after it: the ERROR still exits 4', async () => {
  kvs.misbehave = 'stray-brace';
  kvs.errorId = 4006;
  kvs.errorAfterFragments = 3;
  const run = await cli(['put-media', '--stream', 'front-door', fixture]);
  expect(run.code).toBe(4);
  expect(run.stderr).toContain('warning: PutMedia sent something that is not an acknowledgement: "}"');
  expect(run.stderr).toContain('error: ERROR 4006 INVALID_MKV_DATA: The data is not valid MKV. (fragment timecode 3000)');
});

test('a stray } with every fragment persisted still exits 6: something else spoke on the stream', async () => {
  kvs.misbehave = 'stray-brace';
  const run = await cli(['put-media', '--stream', 'front-door', fixture]);
  expect(run.code).toBe(6);
  expect(run.stderr).toContain('error: PutMedia sent 1 malformed acknowledgement (the first: "}"); 5 fragments sent');
  expect(run.stderr.match(/^persisted fragment/gm)).toHaveLength(5);
});

test.each([
  ['no-acks', 'a server that answers 200 and never acknowledges'],
  ['no-answer', 'a server that never answers'],
] as const)('%s: %s exits 5 once --ack-timeout passes', async (misbehave, _what) => {
  kvs.misbehave = misbehave;
  const run = await cli(['put-media', '--stream', 'front-door', '--ack-timeout', '0.3', fixture]);
  expect(run.code).toBe(5);
  expect(run.stderr).toContain('error: no acknowledgement from PutMedia for 0.3 s (--ack-timeout): 5 of 5 fragments sent not acknowledged PERSISTED (fragment timecodes 0, 1000, 2000, 3000, 4000)');
});

test('a response that ends before the upload finished exits 5 and says how much was sent', async () => {
  kvs.misbehave = 'end-early';
  const run = await cli(['put-media', '--stream', 'front-door', bigFixture]);
  expect(run.code).toBe(5);
  expect(run.stderr).toMatch(/error: (PutMedia ended its response|the connection to PutMedia closed.*) with \d+ bytes of the input sent and the rest not: \d+ of \d+ fragments sent not acknowledged PERSISTED/);
  expect(run.stderr).not.toContain('done:');
});

test('the whole acknowledgement stream is checked: every fragment sent, every one PERSISTED', async () => {
  const run = await cli(['put-media', '--stream', 'front-door', '--quiet', bigFixture]);
  expect(run).toMatchObject({ code: 0, stderr: '' });
  const acks = kvs.sessions[0].acks as Array<{ EventType: string }>;
  expect(acks.filter((a) => a.EventType === 'PERSISTED')).toHaveLength(20);
});

// Issue 14 item 6
test('--version prints the version in package.json', async () => {
  const { version } = JSON.parse(readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8'));
  for (const args of [['--version'], ['put-media', '--version']]) {
    const run = await cli(args);
    expect(run).toMatchObject({ code: 0, stdout: `cdk-face-stream-pipeline ${version}\n` });
  }
});

test('without a Region, the error names --region and AWS_REGION (exit 2)', async () => {
  const env = cliEnv();
  delete env.AWS_REGION;
  const run = await cli(['put-media', '--stream', 'front-door', fixture], undefined, env);
  expect(run.code).toBe(2);
  expect(run.stderr).toContain('error: no AWS Region: pass --region <region>, or set AWS_REGION (or a region in your AWS profile)');
  expect(kvs.calls).toEqual([]);
});

const hasScript = spawnSync('script', ['--version']).status === 0;

(hasScript ? test : test.skip)('on a terminal, a progress bar with bytes sent and fragments persisted', async () => {
  // util-linux script(1) gives the CLI a pseudo-terminal, as a person's shell would; spawned
  // asynchronously, since the local endpoint answers from this process
  const command = `${JSON.stringify(process.execPath)} ${JSON.stringify(CLI)} put-media --stream front-door ${JSON.stringify(fixture)}`;
  const run = await new Promise<{ code: number | null; screen: string }>((resolve) => {
    const child = spawn('script', ['-q', '-e', '-c', command, '/dev/null'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: cliEnv(),
    });
    let screen = '';
    child.stdout.on('data', (d) => (screen += d));
    child.on('close', (code) => resolve({ code, screen }));
  });
  expect(run.code).toBe(0);
  expect(run.screen).toMatch(/\r\[[#.]{30}\] \d+\.\d MB of 0\.1 MB sent, \d+ fragments persisted/);
  expect(run.screen).toContain(`done: ${fixtureBytes.length} bytes sent, 5 fragments persisted`);
  expect(run.screen).not.toMatch(/^persisted fragment/m);
});

/**
 * Signs the PutMedia request the fake received again with @smithy/signature-v4, over the headers
 * it says it signed: the CLI's signature must be the one AWS computes.
 */
async function expectValidSignature(headers: Record<string, string | string[] | undefined>, credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string }) {
  const authorization = String(headers.authorization);
  const [, scope, signed] = /Credential=[^/]+\/(\S+), SignedHeaders=([^,]+), Signature=/.exec(authorization)!;
  const [, region, service] = scope.split('/');
  const toSign: Record<string, string> = {};
  for (const name of signed.split(';')) {
    toSign[name] = String(headers[name]);
  }
  const d = String(headers['x-amz-date']);
  const signingDate = new Date(`${d.slice(0, 4)}-${d.slice(4, 6)}-${d.slice(6, 11)}:${d.slice(11, 13)}:${d.slice(13)}`);
  const again = await new SignatureV4({ service, region, credentials, sha256: Sha256 }).sign(
    { method: 'POST', protocol: 'http:', hostname: 'ignored', path: '/putMedia', query: {}, headers: toSign },
    { signingDate },
  );
  expect(authorization).toBe(again.headers.authorization);
}

test('the PutMedia request is validly signed, session token included', async () => {
  const run = await cli(['put-media', '--stream', 'front-door', '--quiet', fixture], undefined, { ...cliEnv(), AWS_SESSION_TOKEN: 'session-token' });
  expect(run).toMatchObject({ code: 0 });
  const { headers } = kvs.sessions[0];
  expect(headers['x-amz-security-token']).toBe('session-token');
  expect(String(headers.authorization)).toMatch(/SignedHeaders=[^,]*x-amz-security-token/);
  await expectValidSignature(headers, { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret', sessionToken: 'session-token' });
});

test('credentials, Region and endpoint from the shared config files (AWS_PROFILE), as the SDK reads them', async () => {
  const config = path.join(dir, 'profile-config');
  const credentials = path.join(dir, 'profile-credentials');
  writeFileSync(config, `[profile camera]\nregion = eu-central-1\nendpoint_url = ${endpoint}\n`);
  writeFileSync(credentials, '[camera]\naws_access_key_id = AKIDPROFILE\naws_secret_access_key = profile-secret\n');
  const env: NodeJS.ProcessEnv = { ...cliEnv(), AWS_PROFILE: 'camera', AWS_CONFIG_FILE: config, AWS_SHARED_CREDENTIALS_FILE: credentials };
  // the environment's keys are not used with AWS_PROFILE set (the SDK's chain skips them), nor are
  // its Region and endpoint there to find
  delete env.AWS_REGION;
  delete env.AWS_ENDPOINT_URL_KINESIS_VIDEO;
  const run = await cli(['put-media', '--stream', 'front-door', '--quiet', fixture], undefined, env);
  expect(run).toMatchObject({ code: 0, stderr: '' });
  expect(kvs.calls).toEqual(['POST /getDataEndpoint', 'POST /putMedia']);
  const { headers } = kvs.sessions[0];
  expect(String(headers.authorization)).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDPROFILE\/\d{8}\/eu-central-1\/kinesisvideo\/aws4_request/);
  await expectValidSignature(headers, { accessKeyId: 'AKIDPROFILE', secretAccessKey: 'profile-secret' });
});

const hasMkfifo = spawnSync('mkfifo', ['--version']).status === 0;

/** A named pipe the test writes as a live producer would. */
function namedPipe(name: string): string {
  const fifo = path.join(dir, name);
  rmSync(fifo, { force: true });
  expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
  return fifo;
}

/** Where the nth Cluster (from 0) of the fixture starts. */
const clusterAt = (n: number) => {
  let at = fixtureBytes.indexOf(CLUSTER_ID);
  for (let k = 0; k < n; k++) {
    at = fixtureBytes.indexOf(CLUSTER_ID, at + 4);
  }
  return at;
};

(hasMkfifo ? test : test.skip)('a named pipe as the file: read as the producer writes it, every fragment persisted', async () => {
  const fifo = namedPipe('camera.fifo');
  const running = cli(['put-media', '--stream', 'front-door', '--ack-timeout', '0.3', fifo]);
  const writer = createWriteStream(fifo);
  // two fragments, then a pause longer than --ack-timeout while nothing is due
  writer.write(fixtureBytes.subarray(0, clusterAt(2) + 4));
  await new Promise((r) => setTimeout(r, 500));
  writer.end(fixtureBytes.subarray(clusterAt(2) + 4));
  const run = await running;
  expect(run.stderr).toContain(`done: ${fixtureBytes.length} bytes sent, 5 fragments persisted`);
  expect(run.code).toBe(0);
  expect(kvs.sessions[0].body.equals(fixtureBytes)).toBe(true);
});

(hasMkfifo ? test : test.skip)('a named pipe whose producer goes silent: an ERROR acknowledgement is still reported at once (exit 4)', async () => {
  const fifo = namedPipe('silent.fifo');
  kvs.errorId = 4006;
  kvs.errorAfterFragments = 1;
  const child = spawn(process.execPath, [CLI, 'put-media', '--stream', 'front-door', fifo], { env: cliEnv(), stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  const writer = createWriteStream(fifo);
  // the second fragment starts (the service answers it with an ERROR), then the producer is silent:
  // the CLI must not be blocked reading the pipe, but reading the acknowledgements
  writer.write(fixtureBytes.subarray(0, clusterAt(1) + 20));
  for (let waited = 0; !stderr.includes('error:') && waited < 5000; waited += 20) {
    await new Promise((r) => setTimeout(r, 20));
  }
  const reported = stderr;
  writer.end(); // (a read of the pipe still waiting in node's thread pool keeps the process until then)
  expect(reported).toContain('error: ERROR 4006 INVALID_MKV_DATA: The data is not valid MKV. (fragment timecode 1000)');
  expect(await exited).toBe(4);
});

// Issue 20 item 3: exit 0 means the whole input was sent and every fragment in it acknowledged
// PERSISTED, whatever the input and whatever the endpoint does.
describe('exit 0 only when the whole input is an MKV sent and PERSISTED', () => {
  /** 2 MiB that are not an MKV (as in the review: an mp4 or a JPEG given by mistake). */
  const notAnMkv = Buffer.alloc(2 * 1024 * 1024, 0x42);
  notAnMkv.write('\u0000\u0000\u0000\u0018ftypisom', 'latin1');

  test.each([
    ['a file', false],
    ['standard input', true],
  ] as const)('%s that is not an MKV is a usage error (exit 1) before any request', async (_what, stdin) => {
    kvs.misbehave = 'end-early';
    const file = path.join(dir, 'clip.mp4');
    writeFileSync(file, notAnMkv);
    const run = stdin ? await cli(['put-media', '--stream', 'front-door', '-'], notAnMkv) : await cli(['put-media', '--stream', 'front-door', file]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('error: the input is not an MKV (Matroska) file: it starts with bytes 00 00 00 18, not the EBML header 1a 45 df a3');
    expect(run.stderr).not.toContain('done:');
    expect(kvs.calls).toEqual([]);
  });

  test('an empty input is a usage error (exit 1) before any request', async () => {
    const run = await cli(['put-media', '--stream', 'front-door', '-'], Buffer.alloc(0));
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('error: the input is empty');
    expect(kvs.calls).toEqual([]);
  });

  (hasMkfifo ? test : test.skip)('a named pipe that is not an MKV: refused before its first byte goes out (exit 1)', async () => {
    const fifo = namedPipe('not-mkv.fifo');
    const running = cli(['put-media', '--stream', 'front-door', fifo]);
    const writer = createWriteStream(fifo);
    writer.on('error', () => undefined); // the CLI may close the pipe before the writer ends
    writer.end(notAnMkv.subarray(0, 256 * 1024));
    const run = await running;
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('error: the input is not an MKV (Matroska) file');
    expect(kvs.sessions).toHaveLength(0);
  });

  test('an MKV that stops being one part way is not exit 0 even when every fragment seen is PERSISTED (exit 5)', async () => {
    const file = path.join(dir, 'garbage-tail.mkv');
    writeFileSync(file, Buffer.concat([fixtureBytes, Buffer.alloc(64 * 1024, 0)]));
    const run = await cli(['put-media', '--stream', 'front-door', file]);
    expect(run.code).toBe(5);
    expect(run.stderr).toMatch(/error: PutMedia ended its response, but the input stopped being an MKV put-media can follow \(byte 0x0 cannot start an element id near byte \d+\)/);
    expect(run.stderr).not.toContain('done:');
  });

  test('an MKV with no fragment (Cluster) at all is not exit 0: nothing was persisted (exit 1)', async () => {
    const file = path.join(dir, 'header-only.mkv');
    writeFileSync(file, fixtureBytes.subarray(0, clusterAt(0)));
    const run = await cli(['put-media', '--stream', 'front-door', file]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('the input holds no fragment (MKV Cluster), so nothing was persisted');
  });
});
