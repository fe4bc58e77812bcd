/**
 * cdk-nag's AwsSolutions pack over pipelines on the frame-sampling engine (mixed with stream
 * processors, with a customer-managed key and a schedule): nothing unacknowledged, reasons given.
 */
import { App, Duration, Stack, Validations } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import { AwsSolutionsChecks } from 'cdk-nag';
import { FaceSearchEngine, FaceStreamPipeline } from '../lib';

test.each([
  ['both engines, AWS managed keys', false],
  ['both engines, a customer-managed key, a schedule', true],
])('AwsSolutions finds nothing unacknowledged: %s', (_name, featured) => {
  const app = new App();
  const stack = new Stack(app, 'Sampled');
  new FaceStreamPipeline(stack, 'Faces', {
    cameras: [{ name: 'front-door', engine: FaceSearchEngine.streamProcessor() }, { name: 'yard' }, { name: 'gate', running: false }],
    engine: FaceSearchEngine.frameSampling({ samplingInterval: Duration.seconds(1) }),
    ...(featured
      ? {
          encryptionKey: new kms.Key(stack, 'Key', { enableKeyRotation: true }),
          schedule: { start: scheduler.ScheduleExpression.cron({ minute: '0', hour: '7' }), stop: scheduler.ScheduleExpression.cron({ minute: '0', hour: '19' }) },
        }
      : {}),
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  expect(() => app.synth()).not.toThrow();
  const reasons = stack.node
    .findAll()
    .flatMap((c) => c.node.metadata.filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY))
    .flatMap((m) => Object.values(m.data as Record<string, string>));
  expect(reasons.length).toBeGreaterThan(0);
  for (const reason of reasons) {
    expect(reason.length).toBeGreaterThan(40);
  }
});
