/**
 * cdk-nag's AwsSolutions pack over every example stack, and over a pipeline with every feature
 * turned on: no finding is left unacknowledged, and every acknowledgement carries a reason.
 */
import { App, Stack, Validations } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import { AwsSolutionsChecks } from 'cdk-nag';
import { FaceSearchEngine, FaceStreamPipeline } from '../lib';
import { FaceAlertsStack } from '../examples/face-alerts-stack';

function synthWithNag(build: (app: App) => Stack): { stack: Stack; error?: string } {
  const app = new App();
  const stack = build(app);
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  try {
    app.synth();
    return { stack };
  } catch (e) {
    return { stack, error: (e as Error).message };
  }
}

/** Every acknowledgement recorded in the tree, with its reason. */
function acknowledgements(stack: Stack): Array<{ path: string; id: string; reason: string }> {
  const found: Array<{ path: string; id: string; reason: string }> = [];
  for (const construct of stack.node.findAll()) {
    for (const entry of construct.node.metadata.filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)) {
      for (const [id, reason] of Object.entries(entry.data as Record<string, string>)) {
        found.push({ path: construct.node.path, id: id.replace(/^[A-Za-z]+::/, ''), reason });
      }
    }
  }
  return found;
}

test.each([
  ['FaceAlertsStack (example)', (app: App) => new FaceAlertsStack(app, 'FaceAlerts')],
  [
    'a pipeline with a customer-managed key, enrolment, snapshots, no de-duplication',
    (app: App) => {
      const stack = new Stack(app, 'AllFeatures');
      const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
      new FaceStreamPipeline(stack, 'Faces', {
        encryptionKey: key,
        enrollment: true,
        snapshots: true,
        cameras: [{ name: 'a' }, { name: 'b', running: false }, { name: 'c', engine: FaceSearchEngine.frameSampling() }],
      });
      return stack;
    },
  ],
  [
    'notifications: two on a pipeline with snapshots in an existing bucket, to a topic with a customer-managed key',
    (app: App) => {
      const stack = new Stack(app, 'Notifications');
      const pipeline = new FaceStreamPipeline(stack, 'Faces', {
        cameras: [{ name: 'a' }],
        snapshotOptions: { bucket: s3.Bucket.fromBucketName(stack, 'Pictures', 'pictures') },
      });
      const topic = new sns.Topic(stack, 'Alerts', { masterKey: new kms.Key(stack, 'TopicKey', { enableKeyRotation: true }), enforceSSL: true });
      pipeline.notify('Known', topic, { minSimilarity: 90 });
      pipeline.notify('Unknown', topic, { matches: false, unknownFaces: true, timeZone: 'Europe/Paris' });
      return stack;
    },
  ],
  [
    'a hub with cameras of both engines in nested stacks and snapshots, and a site in another stack',
    (app: App) => {
      const stack = new Stack(app, 'Hub');
      const hub = new FaceStreamPipeline(stack, 'Faces', {
        cameraStacks: 2,
        enrollment: true,
        snapshots: true,
        cameras: [{ name: 'a' }, { name: 'b', engine: FaceSearchEngine.frameSampling() }, { name: 'c' }],
      });
      new FaceStreamPipeline(new Stack(app, 'Site'), 'Faces', { hub, cameras: [{ name: 'd' }, { name: 'e', engine: FaceSearchEngine.frameSampling() }] });
      return stack;
    },
  ],
])('AwsSolutions finds nothing unacknowledged in %s', (_name, build) => {
  const { stack, error } = synthWithNag(build);
  expect(error).toBeUndefined();
  const acks = acknowledgements(stack);
  expect(acks.length).toBeGreaterThan(0);
  for (const a of acks) {
    expect(a.reason.length).toBeGreaterThan(40);
  }
});

test('the acknowledgements of the example, rule by rule', () => {
  const { stack } = synthWithNag((app) => new FaceAlertsStack(app, 'FaceAlerts'));
  const rules = [...new Set(acknowledgements(stack).map((a) => a.id.replace(/\[.*\]$/, (m) => (m.startsWith('[Resource::*') ? m : ''))))].sort();
  expect(rules).toEqual([
    'AwsSolutions-DDB3',
    'AwsSolutions-IAM4',
    'AwsSolutions-IAM5',
    'AwsSolutions-IAM5[Resource::*]',
    'AwsSolutions-S1',
    'AwsSolutions-SF2',
    'AwsSolutions-SQS3',
  ]);
});
