/**
 * Drives the bundled stream processor handler the way aws-cdk-lib's Provider framework does:
 * onEvent once, then isComplete with `{...event, ...onEventResult}` until it answers IsComplete
 * or throws. The handler talks to a FakeRekognition through the real AWS SDK v3 client.
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { FakeRekognition } from './fake-rekognition';

/** The bundle under test; STREAM_PROCESSOR_BUNDLE points at another build (e.g. an older one, to show a test fails there). */
export const STREAM_PROCESSOR_BUNDLE = process.env.STREAM_PROCESSOR_BUNDLE ?? path.join(__dirname, '..', '..', 'assets', 'stream-processor', 'index.js');

export interface Handler {
  onEvent(event: any): Promise<any>;
  isComplete(event: any): Promise<any>;
}

export interface Harness {
  readonly fake: FakeRekognition;
  readonly handler: Handler;
}

/** Starts the fake service and loads the bundled handler pointed at it (call in beforeAll). */
export async function startHarness(): Promise<Harness> {
  if (!existsSync(STREAM_PROCESSOR_BUNDLE)) {
    throw new Error(`${STREAM_PROCESSOR_BUNDLE} is missing: run "npm run bundle" (npm test does) first`);
  }
  const fake = new FakeRekognition();
  const url = await fake.start();
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_REKOGNITION: url,
    AWS_REGION: 'eu-west-1',
    AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
    AWS_SECRET_ACCESS_KEY: 'secret',
    AWS_EC2_METADATA_DISABLED: 'true',
    RETRY_BASE_DELAY_MS: '1',
    RETRY_MAX_DELAY_MS: '5',
    LOG_LEVEL: 'SILENT',
  });
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const handler = require(STREAM_PROCESSOR_BUNDLE) as Handler;
  return { fake, handler };
}

export const VIDEO_ARN = 'arn:aws:kinesisvideo:eu-west-1:123456789012:stream/front-door/1700000000000';
export const DATA_ARN = 'arn:aws:kinesis:eu-west-1:123456789012:stream/front-door-faces';
/** The names of test/support/iam-deployments.ts's providerDeployment() (test/iam-simulation.test.ts keeps them equal). */
export const ROLE_ARN = 'arn:aws:iam::123456789012:role/face-stream-pipeline/Stack-e5516412/RekognitionServiceRole';
export const NAME_PREFIX = 'Stack-e5516412-Faces-front-door-StreamProcessor-DCA121EC';

/** The service roles of the processors with names of their own ("front-door" and "front-door-v2"): each trusts Rekognition for its processor only. */
const NAMED_ROLES: Record<string, string> = {
  'front-door': 'arn:aws:iam::123456789012:role/face-stream-pipeline/Stack-e5516412/NamedProcessorRole',
  'front-door-v2': 'arn:aws:iam::123456789012:role/face-stream-pipeline/Stack-e5516412/RenamedProcessorRole',
};

/** ResourceProperties as CloudFormation delivers them: every scalar a string. */
export function properties(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    RoleArn: NAMED_ROLES[String(overrides.Name)] ?? ROLE_ARN,
    ServiceToken: 'arn:aws:lambda:eu-west-1:123456789012:function:provider',
    NamePrefix: NAME_PREFIX,
    KinesisVideoStreamArn: VIDEO_ARN,
    KinesisDataStreamArn: DATA_ARN,
    CollectionId: 'faces',
    FaceMatchThreshold: '90',
    Running: 'true',
    DataSharing: 'false',
    WaitTimeoutSeconds: '60',
    ...overrides,
  };
}

let requestCounter = 0;

export function event(
  requestType: 'Create' | 'Update' | 'Delete',
  resourceProperties: Record<string, unknown>,
  extra: Record<string, unknown> = {},
): any {
  requestCounter += 1;
  return {
    RequestType: requestType,
    RequestId: `request-${requestCounter}`,
    StackId: 'arn:aws:cloudformation:eu-west-1:123456789012:stack/Stack/guid',
    LogicalResourceId: 'FacesfrontdoorStreamProcessor58A0293B',
    ResourceType: 'Custom::RekognitionStreamProcessor',
    ResponseURL: 'https://example.invalid/response',
    ResourceProperties: resourceProperties,
    ...extra,
  };
}

export interface Outcome {
  readonly PhysicalResourceId: string;
  readonly Data: Record<string, string>;
  readonly polls: number;
}

/**
 * Runs one custom resource request to the end. Rejects with the handler's error, as the
 * framework would report it to CloudFormation.
 */
export async function run(handler: Handler, request: any, options: { maxPolls?: number; intervalMs?: number } = {}): Promise<Outcome> {
  const onEventResult = await handler.onEvent(request);
  const waiting = { ...request, ...onEventResult, PhysicalResourceId: onEventResult?.PhysicalResourceId ?? request.PhysicalResourceId };
  const maxPolls = options.maxPolls ?? 50;
  for (let polls = 1; polls <= maxPolls; polls++) {
    const result = await handler.isComplete(waiting);
    if (result.IsComplete) {
      return { PhysicalResourceId: waiting.PhysicalResourceId, Data: { ...waiting.Data, ...result.Data }, polls };
    }
    if (result.Data && Object.keys(result.Data).length > 0) {
      throw new Error('"Data" is not allowed if "IsComplete" is "False"'); // the framework's own rule
    }
    if (options.intervalMs) {
      await new Promise((resolve) => setTimeout(resolve, options.intervalMs));
    }
  }
  throw new Error(`harness: isComplete did not finish in ${maxPolls} polls`);
}
