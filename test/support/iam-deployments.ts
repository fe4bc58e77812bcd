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
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as sns from 'aws-cdk-lib/aws-sns';
import { FaceCollection, FaceEnrollment, FaceIdentity, FaceSearchConsumer, FaceSearchEngine, FaceStreamPipeline, FrameSamplingMode, SnapshotStore, StreamProcessor, VideoStream } from '../../lib';
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

/** A camera of the snapshots deployment whose video stream is the user's (by ARN), outside the pipeline's name prefix. */
export const SNAPSHOT_OWN_VIDEO_ARN = `arn:aws:kinesisvideo:us-west-2:${ACCOUNT}:stream/garage-camera/1700000000000`;

/**
 * The consumer with snapshots (test/consumer-snapshots.test.ts): a pipeline "Faces" with its
 * encryption key, snapshots on (bucket "snapshots-bucket"), and two stream-processor cameras:
 * "front-door" with the pipeline's own streams (named with its prefix) and "garage" with a video
 * stream of the user's (SNAPSHOT_OWN_VIDEO_ARN). Dead-letter queue "face-dlq", table "sightings".
 */
export function consumerSnapshotsDeployment(): Deployment {
  return cached(
    'consumer-snapshots',
    {
      account: ACCOUNT,
      region: 'us-west-2',
      names: [
        [/Consumer\/DeadLetterQueue\/Resource$/, 'face-dlq'],
        [/Consumer\/DedupeTable\/Resource$/, 'sightings'],
        [/Snapshots\/Bucket\/Resource$/, 'snapshots-bucket'],
      ],
    },
    (app) => {
      const stack = new Stack(app, 'TestStack', { env: env('us-west-2') });
      new FaceStreamPipeline(stack, 'Faces', {
        collectionId: 'faces',
        encryptionKey: new kms.Key(stack, 'Key'),
        snapshots: true,
        consumerProps: { eventBus: new events.EventBus(stack, 'Bus', { eventBusName: 'faces-bus' }), dedupeWindow: Duration.seconds(60) },
        cameras: [{ name: 'front-door' }, { name: 'garage', videoStream: VideoStream.fromStreamArn(stack, 'GarageVideo', SNAPSHOT_OWN_VIDEO_ARN) }],
      });
    },
  );
}
export const snapshotConsumerRole = (d: Deployment) => d.functionRole(/\/Faces\/Consumer\/Handler\/Resource$/);

/** The enrolment function (test/support/enrollment-harness.ts): collection "staff", bucket and table by the harness's names, a customer-managed key. */
export function enrollmentDeployment(): Deployment {
  return enrollmentApp('enrollment');
}
/** The same enrolment function in users mode (`identity: FaceIdentity.users()`, test/enrollment-users.test.ts). */
export function enrollmentUsersDeployment(): Deployment {
  return enrollmentApp('enrollment-users', FaceIdentity.users());
}
function enrollmentApp(name: string, identity?: FaceIdentity): Deployment {
  return cached(name, { account: ACCOUNT, region: 'eu-west-1', names: [[/Enrollment\/Bucket\/Resource$/, 'faces-bucket'], [/Enrollment\/Mapping\/Resource$/, 'enrolments']] }, (app) => {
    const stack = new Stack(app, 'TestStack', { env: env('eu-west-1') });
    const collection = new FaceCollection(stack, 'Collection', { collectionId: 'staff' });
    new FaceEnrollment(stack, 'Enrollment', { collection, encryptionKey: new kms.Key(stack, 'Key'), identity });
  });
}
export const enrollmentRole = (d: Deployment) => d.functionRole(/\/Enrollment\/Handler\/Resource$/);

/**
 * The frame sampler (test/support/frame-sampler-harness.ts) of a site of a hub: camera front-door on
 * its own streams, collection "faces" (the hub's), its own state table "sampler-state"; the hub's
 * state table "hub-budget" holds every site's Rekognition budget rows. A second camera of the site
 * is on a schedule (EventBridge Scheduler writes its state row).
 */
export function samplerDeployment(): Deployment {
  return samplerApp('sampler');
}
/** The same sampler in users mode (the hub's `identity: FaceIdentity.users()`, which its sites take; test/frame-sampler-users.test.ts). */
export function samplerUsersDeployment(): Deployment {
  return samplerApp('sampler-users', FaceIdentity.users());
}
function samplerApp(name: string, identity?: FaceIdentity): Deployment {
  return cached(
    name,
    { account: ACCOUNT, region: 'us-west-2', names: [[/^Hub\/.*FrameSampler\/State\/Resource$/, 'hub-budget'], [/FrameSampler\/State\/Resource$/, 'sampler-state'], [/^Site\/.*FrameSampler\/Sampler\/Resource$/, 'sampler']] },
    (app) => {
      const hubStack = new Stack(app, 'Hub', { env: env('us-west-2') });
      const hub = new FaceStreamPipeline(hubStack, 'Faces', { collectionId: 'faces', engine: FaceSearchEngine.frameSampling(), cameras: [{ name: 'lobby' }], identity });
      const siteStack = new Stack(app, 'Site', { env: env('us-west-2') });
      new FaceStreamPipeline(siteStack, 'Faces', {
        hub,
        engine: FaceSearchEngine.frameSampling(),
        cameras: [
          {
            // streams made elsewhere, by ARN (a site's own kinesis.Stream would make the hub's consumer
            // reference the site while the site references the hub: a dependency cycle)
            name: 'front-door',
            videoStream: VideoStream.fromStreamArn(siteStack, 'Video', `arn:aws:kinesisvideo:us-west-2:${ACCOUNT}:stream/front-door/1700000000000`),
            dataStream: kinesis.Stream.fromStreamArn(siteStack, 'Data', `arn:aws:kinesis:us-west-2:${ACCOUNT}:stream/front-door-faces`),
          },
          { name: 'garage', schedule: { start: scheduler.ScheduleExpression.cron({ hour: '8', minute: '0' }), stop: scheduler.ScheduleExpression.cron({ hour: '18', minute: '0' }) } },
        ],
      });
    },
  );
}
/** The site's sampler: its own camera state, the budget rows in the hub's table. */
export const samplerRole = (d: Deployment) => d.functionRole(/^Site\/.*FrameSampler\/Sampler\/Resource$/);

/**
 * The frame sampler with snapshots on (test/frame-sampler-snapshots.test.ts): one stack, camera
 * front-door on its own streams, collection "faces", state table "sampler-state", the pipeline's
 * snapshot bucket "snapshots-bucket" (prefix snapshots/) encrypted with its customer-managed key
 * "snapshots-key",
 * and a second camera (a stream of the pipeline's prefix): the sampler's policy names the bucket once.
 */
export function samplerSnapshotsDeployment(): Deployment {
  return cached(
    'sampler-snapshots',
    { account: ACCOUNT, region: 'us-west-2', names: [[/FrameSampler\/State\/Resource$/, 'sampler-state'], [/FrameSampler\/Sampler\/Resource$/, 'sampler'], [/Snapshots\/Bucket\/Resource$/, 'snapshots-bucket'], [/^Snapshots\/Key\/Resource$/, 'snapshots-key']] },
    (app) => {
      const stack = new Stack(app, 'Snapshots', { env: env('us-west-2') });
      new FaceStreamPipeline(stack, 'Faces', {
        collectionId: 'faces',
        engine: FaceSearchEngine.frameSampling({ mode: FrameSamplingMode.CATCH_UP }),
        encryptionKey: new kms.Key(stack, 'Key'),
        snapshots: true,
        consumerProps: { dedupeWindow: Duration.seconds(10) },
        cameras: [
          {
            name: 'front-door',
            videoStream: VideoStream.fromStreamArn(stack, 'Video', `arn:aws:kinesisvideo:us-west-2:${ACCOUNT}:stream/front-door/1700000000000`),
            dataStream: kinesis.Stream.fromStreamArn(stack, 'Data', `arn:aws:kinesis:us-west-2:${ACCOUNT}:stream/front-door-faces`),
          },
          { name: 'garage' },
        ],
      });
    },
  );
}
export const samplerSnapshotsRole = (d: Deployment) => d.functionRole(/FrameSampler\/Sampler\/Resource$/);

/**
 * The stream processor provider (test/support/provider-harness.ts): stack "Stack", pipeline "Faces",
 * camera front-door on its own streams (whose processor's NamePrefix the harness uses), collection
 * "faces", the camera's service role by the harness's name.
 */
export function providerDeployment(stackName = 'Stack'): Deployment {
  return cached(`provider-${stackName}`, { account: ACCOUNT, region: 'eu-west-1', names: [
      [/front-door\/StreamProcessor\/ServiceRole\/Resource$/, 'RekognitionServiceRole'],
      [/lobby\/StreamProcessor\/ServiceRole\/Resource$/, 'NamedProcessorRole'],
      [/hall\/StreamProcessor\/ServiceRole\/Resource$/, 'RenamedProcessorRole'],
    ] }, (app) => {
    const stack = new Stack(app, stackName, { env: env('eu-west-1') });
    new FaceStreamPipeline(stack, 'Faces', {
      collectionId: 'faces',
      cameras: [
        {
          name: 'front-door',
          videoStream: new VideoStream(stack, 'Video', { streamName: 'front-door' }),
          dataStream: new kinesis.Stream(stack, 'Data', { streamName: 'front-door-faces', encryption: kinesis.StreamEncryption.MANAGED }),
        },
        // processors with names of their own (the handler tests' "front-door" and "front-door-v2")
        { name: 'lobby', streamProcessorName: 'front-door' },
        { name: 'hall', streamProcessorName: 'front-door-v2' },
      ],
    });
    // a second collection, so that the provider may create processors on it (the tests that move a processor to "other-faces")
    new FaceStreamPipeline(stack, 'Other', { collectionId: 'other-faces', cameras: [{ name: 'garage' }] });
    // a processor with a role and streams of the user's ("changing RoleArn / the streams replaces the processor")
    new StreamProcessor(stack, 'Custom', {
      collection: FaceCollection.fromCollectionId(stack, 'FacesCollection', 'faces'),
      videoStream: VideoStream.fromStreamArn(stack, 'OtherVideo', `arn:aws:kinesisvideo:eu-west-1:${ACCOUNT}:stream/other/1700000000001`),
      dataStream: kinesis.Stream.fromStreamArn(stack, 'OtherData', `arn:aws:kinesis:eu-west-1:${ACCOUNT}:stream/other`),
      role: iam.Role.fromRoleArn(stack, 'OtherRole', `arn:aws:iam::${ACCOUNT}:role/Other`),
    });
  });
}
/** The processor health check of stack "TestStack" (test/processor-health-handler.test.ts's prefix). */
export const healthDeployment = () => providerDeployment('TestStack');
export const providerRole = (d: Deployment) => d.functionRole(/StreamProcessorProvider\/OnEvent\/Resource$/);
export const processorHealthRole = (d: Deployment) => d.functionRole(/ProcessorHealthCheck\/Function\/Resource$/);

/**
 * The CLI's users (put-media, follow): roles granted what VideoStream.grantWrite and
 * Stream.grantRead give, on camera front-door's streams and on a camera's imported streams that no
 * longer exist (the tests of a missing stream: AWS answers ResourceNotFound only to a caller allowed
 * to ask).
 */
export function cliDeployment(): Deployment {
  return cached('cli', { account: ACCOUNT, region: 'eu-west-1' }, (app) => {
    const stack = new Stack(app, 'TestStack', { env: env('eu-west-1') });
    const uploader = new iam.Role(stack, 'Uploader', { assumedBy: new iam.AccountRootPrincipal() });
    const follower = new iam.Role(stack, 'Follower', { assumedBy: new iam.AccountRootPrincipal() });
    new VideoStream(stack, 'Video', { streamName: 'front-door' }).grantWrite(uploader);
    VideoStream.fromStreamArn(stack, 'Gone', `arn:aws:kinesisvideo:eu-west-1:${ACCOUNT}:stream/back-door/0`).grantWrite(uploader);
    new kinesis.Stream(stack, 'Data', { streamName: 'front-door-faces', encryption: kinesis.StreamEncryption.MANAGED }).grantRead(follower);
    kinesis.Stream.fromStreamArn(stack, 'GoneData', `arn:aws:kinesis:eu-west-1:${ACCOUNT}:stream/back-door-faces`).grantRead(follower);
  });
}
/**
 * The CLI's enrol (test/cli-enrol.test.ts): enrolment as the harness names it (collection "staff",
 * bucket "faces-bucket", table "enrolments") and snapshots in "snapshots-bucket", both encrypted
 * with one customer-managed key (as a pipeline's encryptionKey does); the user "Enroller" with
 * what the README's "Unknown face -> name it" says the command needs, and "Nobody" with nothing.
 */
export function enrolCliDeployment(): Deployment {
  const names: DeploymentOptions['names'] = [
    [/Enrollment\/Bucket\/Resource$/, 'faces-bucket'],
    [/Enrollment\/Mapping\/Resource$/, 'enrolments'],
    [/Snapshots\/Bucket\/Resource$/, 'snapshots-bucket'],
  ];
  return cached('enrol-cli', { account: ACCOUNT, region: 'eu-west-1', names }, (app) => {
    const stack = new Stack(app, 'TestStack', { env: env('eu-west-1') });
    const key = new kms.Key(stack, 'Key');
    const collection = new FaceCollection(stack, 'Collection', { collectionId: 'staff' });
    const enrollment = new FaceEnrollment(stack, 'Enrollment', { collection, encryptionKey: key });
    const snapshots = new SnapshotStore(stack, 'Snapshots', { encryptionKey: key });
    const enroller = new iam.Role(stack, 'Enroller', { assumedBy: new iam.AccountRootPrincipal() });
    new iam.Role(stack, 'Nobody', { assumedBy: new iam.AccountRootPrincipal() });
    // as the README's "Unknown face -> name it" lists it
    snapshots.grantRead(enroller);
    enroller.addToPolicy(new iam.PolicyStatement({ actions: ['s3:ListBucket'], resources: [snapshots.bucket.bucketArn], conditions: { StringLike: { 's3:prefix': [`${snapshots.keyPrefix}*`] } } }));
    enroller.addToPolicy(new iam.PolicyStatement({ actions: ['s3:PutObject', 's3:GetObjectTagging', 's3:GetObjectVersionTagging'], resources: [enrollment.bucket.arnForObjects(`${enrollment.prefix}*`)] }));
    key.grant(enroller, 'kms:GenerateDataKey');
  });
}

export const role = (pathPattern: RegExp) => (d: Deployment): DeployedResource => d.resource('AWS::IAM::Role', pathPattern);

/**
 * The notifier (test/face-notifier.test.ts): a pipeline with snapshots in bucket "face-snapshots"
 * (its encryptionKey), notifying topic "face-alerts" (encrypted with a key of its own) of matches
 * and unknown faces.
 */
export function notifierDeployment(): Deployment {
  return cached(
    'notifier',
    { account: ACCOUNT, region: 'eu-west-1', names: [[/Faces\/Snapshots\/Bucket\/Resource$/, 'face-snapshots'], [/Alerts\/Resource$/, 'face-alerts']] },
    (app) => {
      const stack = new Stack(app, 'TestStack', { env: env('eu-west-1') });
      const pipeline = new FaceStreamPipeline(stack, 'Faces', { collectionId: 'faces', cameras: [{ name: 'front-door' }], snapshots: true, encryptionKey: new kms.Key(stack, 'Key') });
      const topic = new sns.Topic(stack, 'Alerts', { masterKey: new kms.Key(stack, 'TopicKey') });
      pipeline.notify('Notify', topic, { unknownFaces: true, timeZone: 'Europe/Paris' });
    },
  );
}
export const notifierRole = (d: Deployment) => d.functionRole(/FaceStreamPipelineNotifier\/Function\/Resource$/);
