/**
 * The bundled processor health check (assets/processor-health/index.js) against the fake
 * Rekognition through the real AWS SDK v3 client: it lists the Region's processors, keeps this
 * stack's (by name prefix), and publishes their status as CloudWatch embedded metrics.
 */
import * as path from 'node:path';
import { FakeRekognition } from './support/fake-rekognition';
import { checkIam } from './support/iam-check';
import { healthDeployment, processorHealthRole } from './support/iam-deployments';

// every AWS call made in these tests is evaluated against the synthesized policies (test/support/iam-check.ts)
checkIam({ deployment: healthDeployment, callers: { AKIDEXAMPLE: processorHealthRole } });

const BUNDLE = path.join(__dirname, '..', 'assets', 'processor-health', 'index.js');
const PREFIX = 'TestStack-e82b44c6-';

let fake: FakeRekognition;
let health: { handler(event?: unknown, context?: unknown): Promise<{ statuses: Record<string, string> }> };

beforeAll(async () => {
  fake = new FakeRekognition();
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_REKOGNITION: await fake.start(),
    AWS_REGION: 'eu-west-1',
    AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
    AWS_SECRET_ACCESS_KEY: 'secret',
    AWS_EC2_METADATA_DISABLED: 'true',
    RETRY_BASE_DELAY_MS: '1',
    RETRY_MAX_DELAY_MS: '5',
    POWERTOOLS_METRICS_NAMESPACE: 'FaceStreamPipeline',
    PROCESSOR_NAME_PREFIX: PREFIX,
  });
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  health = require(BUNDLE);
});
afterAll(async () => {
  await fake.stop();
});
beforeEach(() => fake.reset());

function processor(name: string, status: 'RUNNING' | 'STOPPED' | 'FAILED' | 'STARTING', statusMessage?: string): void {
  fake.processors.set(name, {
    Name: name,
    StreamProcessorArn: `arn:aws:rekognition:eu-west-1:123456789012:streamprocessor/${name}`,
    Status: status,
    StatusMessage: statusMessage,
    Input: { KinesisVideoStream: { Arn: 'arn:aws:kinesisvideo:eu-west-1:123456789012:stream/v/1' } },
    Output: { KinesisDataStream: { Arn: 'arn:aws:kinesis:eu-west-1:123456789012:stream/d' } },
    RoleArn: 'arn:aws:iam::123456789012:role/r',
    Settings: { FaceSearch: { CollectionId: 'faces', FaceMatchThreshold: 80 } },
    DataSharingPreference: { OptIn: false },
    Tags: {},
    CreationTimestamp: 0,
    LastUpdateTimestamp: 0,
    pending: 0,
  });
}

/** Runs the health check; its stdout lines, parsed. */
async function check(context?: unknown): Promise<{ result: { statuses: Record<string, string> }; lines: any[] }> {
  const written: string[] = [];
  const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: any) => {
    written.push(String(chunk));
    return true;
  });
  try {
    const result = await health.handler({}, context);
    return { result, lines: written.join('').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l)) };
  } finally {
    spy.mockRestore();
  }
}

test('publishes StreamProcessorFailed and StreamProcessorRunning for this stack\'s processors only, one dimension: the name', async () => {
  processor(`${PREFIX}door-A1B2C3D4-0123456789ab`, 'RUNNING');
  processor(`${PREFIX}hall-E5F6A7B8-0123456789ab`, 'FAILED', 'Access denied to Role');
  processor(`${PREFIX}garage-11223344-0123456789ab`, 'STOPPED');
  processor('OtherStack-12345678-door-0123456789ab', 'FAILED');
  const { result, lines } = await check();
  expect(result.statuses).toEqual({
    [`${PREFIX}door-A1B2C3D4-0123456789ab`]: 'RUNNING',
    [`${PREFIX}hall-E5F6A7B8-0123456789ab`]: 'FAILED',
    [`${PREFIX}garage-11223344-0123456789ab`]: 'STOPPED',
  });
  const emf = lines.filter((l) => l._aws);
  expect(emf.map((m) => [m.StreamProcessor, m.StreamProcessorFailed, m.StreamProcessorRunning, m.status])).toEqual([
    [`${PREFIX}door-A1B2C3D4-0123456789ab`, 0, 1, 'RUNNING'],
    [`${PREFIX}garage-11223344-0123456789ab`, 0, 0, 'STOPPED'],
    [`${PREFIX}hall-E5F6A7B8-0123456789ab`, 1, 0, 'FAILED'],
  ]);
  expect(emf[2].statusMessage).toBe('Access denied to Role');
  for (const m of emf) {
    expect(m._aws.CloudWatchMetrics).toEqual([
      {
        Namespace: 'FaceStreamPipeline',
        Dimensions: [['StreamProcessor']],
        Metrics: [
          { Name: 'StreamProcessorFailed', Unit: 'Count' },
          { Name: 'StreamProcessorRunning', Unit: 'Count' },
        ],
      },
    ]);
  }
  // only this stack's FAILED processor is described (for its message); the list is the only other call
  expect(fake.calls.map((c) => [c.operation, c.body.Name])).toEqual([
    ['ListStreamProcessors', undefined],
    ['DescribeStreamProcessor', `${PREFIX}hall-E5F6A7B8-0123456789ab`],
  ]);
});

test('reads every page of the list, retrying throttling', async () => {
  for (let i = 0; i < 230; i++) {
    processor(`${PREFIX}cam${String(i).padStart(3, '0')}-0123456789ab`, 'RUNNING');
  }
  fake.fail({ operation: 'ListStreamProcessors', type: 'ThrottlingException', message: 'Rate exceeded', times: 2 });
  const { result } = await check();
  expect(Object.keys(result.statuses)).toHaveLength(230);
  expect(fake.callsOf('ListStreamProcessors').map((c) => c.body.NextToken)).toEqual([undefined, undefined, undefined, 'token-100', 'token-200']);
});

test('a status message that cannot be read does not stop the others', async () => {
  processor(`${PREFIX}a-0123456789ab`, 'FAILED', 'gone');
  processor(`${PREFIX}b-0123456789ab`, 'RUNNING');
  fake.fail({ operation: 'DescribeStreamProcessor', type: 'AccessDeniedException', message: 'no' });
  const { lines } = await check();
  expect(lines.filter((l) => l._aws).map((m) => [m.StreamProcessorFailed, m.statusMessage])).toEqual([
    [1, ''],
    [0, undefined],
  ]);
});

test('a list that is refused fails the invocation (the function\'s Errors metric), and logs carry the request id', async () => {
  fake.fail({ operation: 'ListStreamProcessors', type: 'AccessDeniedException', message: 'not allowed' });
  const context = { awsRequestId: 'req-123', functionName: 'health', functionVersion: '1', invokedFunctionArn: 'arn', memoryLimitInMB: '256', getRemainingTimeInMillis: () => 60000 };
  await expect(health.handler({}, context)).rejects.toThrow(/not allowed/);
  processor(`${PREFIX}a-0123456789ab`, 'RUNNING');
  const { lines } = await check(context);
  const log = lines.find((l) => l.message === 'stream processor health');
  expect(log).toMatchObject({ level: 'INFO', function_request_id: 'req-123', processors: 1 });
});
