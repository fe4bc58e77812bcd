/**
 * The apps whose policies the handler and CLI tests are checked against (iam-check.ts): for each
 * bundled handler, an app that deploys it the way a user would, with the physical names the test's
 * fakes use (a test's table "sightings" is the consumer's dedupe table, ...). Each is synthesized
 * once per change of lib/ and cached in the OS temp folder, so that a test file pays no synthesis
 * when nothing changed.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { App, Duration, Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as kms from 'aws-cdk-lib/aws-kms';
import { FaceCollection, FaceEnrollment, FaceSearchConsumer, FaceSearchEngine, FaceStreamPipeline, VideoStream } from '../../lib';
import { AppSnapshot, DeployedResource, Deployment, DeploymentOptions, snapshotOf } from './iam-deployment';

export const ACCOUNT = '123456789012';
const ROOT = path.join(__dirname, '..', '..');

/** A digest of what a synthesized template depends on: lib/ and these two files. */
function sourceDigest(): string {
  const hash = createHash('sha256');
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir).sort()) {
      const file = path.join(dir, entry);
      if (statSync(file).isDirectory()) walk(file);
      else if (/\.ts$/.test(entry) && !entry.endsWith('.d.ts')) hash.update(entry).update(readFileSync(file));
    }
  };
  walk(path.join(ROOT, 'lib'));
  hash.update(readFileSync(__filename)).update(readFileSync(path.join(__dirname, 'iam-deployment.ts')));
  hash.update(readFileSync(path.join(ROOT, 'package-lock.json')));
  return hash.digest('hex').slice(0, 16);
}

/** The deployment `name`, synthesized by `build` unless the cache has it for these sources. */
function cached(name: string, options: DeploymentOptions, build: (app: App) => void): Deployment {
  const dir = path.join(tmpdir(), 'cdk-face-stream-pipeline-iam');
  const file = path.join(dir, `${name}-${sourceDigest()}.json`);
  let snapshot: AppSnapshot;
  try {
    snapshot = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    const app = new App();
    build(app);
    snapshot = snapshotOf(app);
    mkdirSync(dir, { recursive: true });
    // written whole, then renamed: a parallel test file reads the old file or the new one, never half
    const partial = `${file}.${process.pid}`;
    writeFileSync(partial, JSON.stringify(snapshot));
    renameSync(partial, file);
  }
  return new Deployment(snapshot, options);
}

const env = (region: string) => ({ account: ACCOUNT, region });

/** The consumer (test/support/consumer-harness.ts): its dead-letter queue, dedupe table and bus, with a customer-managed key. */
export function consumerDeployment(): Deployment {
  return cached('consumer', { account: ACCOUNT, region: 'us-west-2', names: [[/Consumer\/DeadLetterQueue\/Resource$/, 'face-dlq'], [/Consumer\/DedupeTable\/Resource$/, 'sightings']] }, (app) => {
    const stack = new Stack(app, 'TestStack', { env: env('us-west-2') });
    new FaceSearchConsumer(stack, 'Consumer', {
      eventBus: new events.EventBus(stack, 'Bus', { eventBusName: 'faces-bus' }),
      encryptionKey: new kms.Key(stack, 'Key'),
      dedupeWindow: Duration.seconds(60),
      dataStreams: [new kinesis.Stream(stack, 'FrontDoor', { streamName: 'front-door-faces', encryption: kinesis.StreamEncryption.MANAGED })],
    });
  });
}
export const consumerRole = (d: Deployment) => d.functionRole(/\/Consumer\/Handler\/Resource$/);

/** The enrolment function (test/support/enrollment-harness.ts): collection "staff", bucket and table by the harness's names, a customer-managed key. */
export function enrollmentDeployment(): Deployment {
  return cached('enrollment', { account: ACCOUNT, region: 'eu-west-1', names: [[/Enrollment\/Bucket\/Resource$/, 'faces-bucket'], [/Enrollment\/Mapping\/Resource$/, 'enrolments']] }, (app) => {
    const stack = new Stack(app, 'TestStack', { env: env('eu-west-1') });
    const collection = new FaceCollection(stack, 'Collection', { collectionId: 'staff' });
    new FaceEnrollment(stack, 'Enrollment', { collection, encryptionKey: new kms.Key(stack, 'Key') });
  });
}
export const enrollmentRole = (d: Deployment) => d.functionRole(/\/Enrollment\/Handler\/Resource$/);

/** The frame sampler (test/support/frame-sampler-harness.ts): camera front-door on its own streams, collection "faces", state table "sampler-state". */
export function samplerDeployment(): Deployment {
  return cached('sampler', { account: ACCOUNT, region: 'us-west-2', names: [[/FrameSampler\/State\/Resource$/, 'sampler-state']] }, (app) => {
    const stack = new Stack(app, 'TestStack', { env: env('us-west-2') });
    new FaceStreamPipeline(stack, 'Faces', {
      collectionId: 'faces',
      engine: FaceSearchEngine.frameSampling(),
      cameras: [
        {
          name: 'front-door',
          videoStream: new VideoStream(stack, 'Video', { streamName: 'front-door' }),
          dataStream: new kinesis.Stream(stack, 'Data', { streamName: 'front-door-faces', encryption: kinesis.StreamEncryption.MANAGED }),
        },
      ],
    });
  });
}
export const samplerRole = (d: Deployment) => d.functionRole(/FrameSampler\/Sampler\/Resource$/);

/**
 * The stream processor provider (test/support/provider-harness.ts): stack "Stack", pipeline "Faces",
 * camera front-door on its own streams (whose processor's NamePrefix the harness uses), collection
 * "faces", the camera's service role by the harness's name.
 */
export function providerDeployment(region = 'eu-west-1'): Deployment {
  return cached(`provider-${region}`, { account: ACCOUNT, region, names: [[/front-door\/StreamProcessor\/ServiceRole\/Resource$/, 'RekognitionServiceRole']] }, (app) => {
    const stack = new Stack(app, 'Stack', { env: env(region) });
    new FaceStreamPipeline(stack, 'Faces', {
      collectionId: 'faces',
      cameras: [
        {
          name: 'front-door',
          videoStream: new VideoStream(stack, 'Video', { streamName: 'front-door' }),
          dataStream: new kinesis.Stream(stack, 'Data', { streamName: 'front-door-faces', encryption: kinesis.StreamEncryption.MANAGED }),
        },
      ],
    });
  });
}
export const providerRole = (d: Deployment) => d.functionRole(/StreamProcessorProvider\/OnEvent\/Resource$/);
export const processorHealthRole = (d: Deployment) => d.functionRole(/ProcessorHealthCheck\/Function\/Resource$/);

/** The CLI's users (put-media, follow): a role granted what the README tells a camera's uploader and a follower to grant. */
export function cliDeployment(): Deployment {
  return cached('cli', { account: ACCOUNT, region: 'eu-west-1' }, (app) => {
    const stack = new Stack(app, 'TestStack', { env: env('eu-west-1') });
    const video = new VideoStream(stack, 'Video', { streamName: 'front-door' });
    const data = new kinesis.Stream(stack, 'Data', { streamName: 'front-door-faces', encryption: kinesis.StreamEncryption.MANAGED });
    video.grantWrite(new iam.Role(stack, 'Uploader', { assumedBy: new iam.AccountRootPrincipal() }));
    data.grantRead(new iam.Role(stack, 'Follower', { assumedBy: new iam.AccountRootPrincipal() }));
  });
}
export const role = (pathPattern: RegExp) => (d: Deployment): DeployedResource => d.resource('AWS::IAM::Role', pathPattern);
