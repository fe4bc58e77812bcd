/**
 * `follow` (issue 14 item 11): the bundled CLI following a Kinesis data stream on a local Kinesis
 * endpoint (JSON 1.1), printing each record as the consumer parses it.
 */
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { parseFaceRecord, RecordError } from '../lib/runtime/face-records/parser';
import { FakeKinesisData } from './support/fake-kinesis-data';
import { recordWith, toData } from './fixtures/face-records';
import { checkIam } from './support/iam-check';
import { cliDeployment, role } from './support/iam-deployments';

// every AWS call made in these tests is evaluated against the synthesized policies (test/support/iam-check.ts)
checkIam({ deployment: cliDeployment, callers: { AKIDEXAMPLE: role(/Follower\/Resource$/) } });

const CLI = process.env.CLI_BUNDLE ?? path.join(__dirname, '..', 'assets', 'cli', 'index.js');
let kinesis: FakeKinesisData;
let endpoint: string;

beforeAll(async () => {
  kinesis = new FakeKinesisData();
  endpoint = await kinesis.start();
});
afterAll(() => kinesis.stop());
beforeEach(() => kinesis.reset());

function cliEnv(): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    NODE_NO_WARNINGS: '1',
    AWS_ENDPOINT_URL_KINESIS: endpoint,
    AWS_REGION: 'eu-west-1',
    AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
    AWS_SECRET_ACCESS_KEY: 'secret',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_CONFIG_FILE: '/nonexistent',
    AWS_SHARED_CREDENTIALS_FILE: '/nonexistent',
  };
}

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function follow(args: string[], env: NodeJS.ProcessEnv = cliEnv()): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, 'follow', '--poll-interval', '10', ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Waits (bounded by the test timeout) until the CLI has made `n` calls of `operation`. */
async function callsMade(operation: string, n: number): Promise<void> {
  while (kinesis.callsOf(operation).length < n) {
    await new Promise((r) => setTimeout(r, 10));
  }
}

const alice = () => recordWith([{ matches: ['alice'] }, { matches: [] }], { producerTime: 1700000000, offset: 0.5 });
const nobody = () => recordWith([], { producerTime: 1700000001 });
const bob = () => recordWith([{ matches: ['bob', 'bob-2'] }], { producerTime: 1700000002 });
const broken = () => {
  const record = recordWith([{ matches: ['carol'] }], { producerTime: 1700000003 });
  record.FaceSearchResponse[0].DetectedFace.BoundingBox.Width = 'wide';
  return record;
};
/** The consumer's own error for a record. */
function consumerError(record: unknown): RecordError {
  try {
    parseFaceRecord(toData(record));
  } catch (error) {
    return error as RecordError;
  }
  throw new Error('the record parses');
}

test('prints every record as the consumer parses it: faces, matches, similarity, frame time, errors', async () => {
  const [shard] = kinesis.createStream('front-door-faces');
  for (const record of [alice(), nobody(), bob(), broken()]) {
    kinesis.put('front-door-faces', shard, record);
  }
  const run = await follow(['--stream', 'front-door-faces', '--from-start', '--max-records', '4']);
  expect(run).toMatchObject({ code: 0, stderr: '' });
  const error = consumerError(broken());
  expect(error.path).toMatch(/^FaceSearchResponse\[0\]\.DetectedFace\.BoundingBox\.Width/);
  expect(run.stdout).toContain([
    '  frame 2023-11-14T22:13:20.500Z camera front-door: 2 faces',
    '  face 1: matched alice (similarity 99.0), confidence 100.0',
    '  face 2: not matched, confidence 100.0',
  ].join('\n'));
  expect(run.stdout).toContain('  frame 2023-11-14T22:13:21.000Z: no faces');
  expect(run.stdout).toContain('  face 1: matched bob (similarity 99.0, 1 more match), confidence 100.0');
  expect(run.stdout).toContain(`  not a face record: ${error.message}`);
  expect(run.stdout.match(/^\S+ shardId-000000000000 \d+$/gm)).toHaveLength(4);
});

test('--json: one JSON object per record and line, with the consumer\'s face events or the error', async () => {
  const [shard] = kinesis.createStream('front-door-faces');
  const seq = [alice(), broken(), 'not json'].map((r) => kinesis.put('front-door-faces', shard, r));
  const run = await follow(['--stream', 'arn:aws:kinesis:eu-west-1:123456789012:stream/front-door-faces', '--from-start', '--json', '--max-records', '3']);
  expect(run.code).toBe(0);
  const lines = run.stdout.trimEnd().split('\n').map((line) => JSON.parse(line));
  expect(lines.map((l) => l.sequenceNumber)).toEqual(seq);
  expect(lines[0]).toMatchObject({ shardId: 'shardId-000000000000', partitionKey: 'front-door', arrivalTime: '2023-11-14T22:13:20.000Z' });
  expect(lines[0].faces).toEqual(parseFaceRecord(toData(alice())));
  expect(lines[0].faces[0]).toMatchObject({ matched: true, match: { externalImageId: 'alice', similarity: 99 }, frameTime: '2023-11-14T22:13:20.500Z' });
  const error = consumerError(broken());
  expect(lines[1].error).toEqual({ path: error.path, reason: error.reason, message: error.message });
  expect(lines[2].error.path).toBe('(data)');
  // the stream was addressed by ARN
  expect(kinesis.callsOf('ListShards')[0].body).toMatchObject({ StreamARN: 'arn:aws:kinesis:eu-west-1:123456789012:stream/front-door-faces' });
});

test('follows new records (LATEST) across a shard split: the parent, then its children', async () => {
  const [parent] = kinesis.createStream('front-door-faces');
  kinesis.put('front-door-faces', parent, bob()); // before the CLI starts: not shown
  const running = follow(['--stream', 'front-door-faces', '--json', '--max-records', '3']);
  await callsMade('GetShardIterator', 1);
  expect(kinesis.callsOf('GetShardIterator')[0].body).toMatchObject({ ShardId: parent, ShardIteratorType: 'LATEST' });
  const first = kinesis.put('front-door-faces', parent, alice());
  const [left, right] = kinesis.split('front-door-faces', parent);
  const second = kinesis.put('front-door-faces', left, nobody());
  const third = kinesis.put('front-door-faces', right, alice());
  const run = await running;
  expect(run.code).toBe(0);
  expect(run.stderr).toContain(`shard ${parent} closed; following its child shards`);
  const lines = run.stdout.trimEnd().split('\n').map((line) => JSON.parse(line));
  expect(lines[0]).toMatchObject({ shardId: parent, sequenceNumber: first });
  expect(lines.slice(1).map((l) => `${l.shardId} ${l.sequenceNumber}`).sort()).toEqual([`${left} ${second}`, `${right} ${third}`].sort());
  // the children were found with ListShards after the parent closed, and read from their start
  expect(kinesis.callsOf('ListShards').length).toBeGreaterThanOrEqual(2);
  expect(kinesis.callsOf('GetShardIterator').slice(1).map((c) => c.body.ShardIteratorType)).toEqual(['TRIM_HORIZON', 'TRIM_HORIZON']);
});

test('--from-start reads a split stream parents first', async () => {
  const [parent] = kinesis.createStream('front-door-faces');
  const first = kinesis.put('front-door-faces', parent, alice());
  const [left] = kinesis.split('front-door-faces', parent);
  const second = kinesis.put('front-door-faces', left, bob());
  const run = await follow(['--stream', 'front-door-faces', '--from-start', '--json', '--max-records', '2']);
  expect(run.code).toBe(0);
  expect(run.stdout.trimEnd().split('\n').map((line) => JSON.parse(line).sequenceNumber)).toEqual([first, second]);
});

test('an expired iterator is renewed after the last record read: nothing lost, nothing twice', async () => {
  const [shard] = kinesis.createStream('front-door-faces');
  const seq = [alice(), bob(), nobody(), alice(), bob()].map((r) => kinesis.put('front-door-faces', shard, r));
  kinesis.recordsPerCall = 2;
  kinesis.expireOnce = true;
  const run = await follow(['--stream', 'front-door-faces', '--from-start', '--json', '--max-records', '5']);
  expect(run.code).toBe(0);
  expect(run.stdout.trimEnd().split('\n').map((line) => JSON.parse(line).sequenceNumber)).toEqual(seq);
  expect(kinesis.callsOf('GetShardIterator').map((c) => c.body)).toEqual([
    expect.objectContaining({ ShardIteratorType: 'TRIM_HORIZON' }),
    expect.objectContaining({ ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', StartingSequenceNumber: seq[1] }),
  ]);
});

test('--duration stops a quiet stream with exit 0', async () => {
  kinesis.createStream('front-door-faces', 2);
  const run = await follow(['--stream', 'front-door-faces', '--duration', '0.3']);
  expect(run).toMatchObject({ code: 0, stdout: '' });
  expect(kinesis.callsOf('GetShardIterator')).toHaveLength(2);
});

test('a stream that does not exist exits 2 with the service\'s error', async () => {
  const run = await follow(['--stream', 'back-door-faces']);
  expect(run.code).toBe(2);
  expect(run.stderr).toContain('error: ListShards on back-door-faces failed: ResourceNotFoundException: Stream back-door-faces under account 123456789012 not found.');
});

test('without a Region, the error names --region and AWS_REGION', async () => {
  const env = cliEnv();
  delete env.AWS_REGION;
  const run = await follow(['--stream', 'front-door-faces'], env);
  expect(run.code).toBe(2);
  expect(run.stderr).toContain('error: no AWS Region: pass --region <region>, or set AWS_REGION');
});

test.each([
  [['--max-records', 'all'], '--max-records must be a number of records above 0, got "all"'],
  [['--stream'], '--stream needs a value'],
  [[], '--stream is required'],
  [['--stream', 's', '--tail'], 'unknown flag --tail (see follow --help)'],
])('usage errors exit 1: %j', async (args, message) => {
  const run = await follow(args);
  expect(run.code).toBe(1);
  expect(run.stderr).toContain(message);
});

test('follow --help explains every flag', async () => {
  const run = await follow(['--help']);
  expect(run.code).toBe(0);
  for (const flag of ['--stream', '--region', '--from-start', '--json', '--max-records', '--duration', '--poll-interval']) {
    expect(run.stdout).toContain(flag);
  }
});
