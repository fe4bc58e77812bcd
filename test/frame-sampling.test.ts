/**
 * The frame-sampling engine, construct side: one sampler, state table and scheduler role per
 * stack; per camera a schedule carrying its configuration; permissions scoped to each camera's
 * streams and collection; scheduled start/stop through DynamoDB; a health metric.
 */
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import { FaceSearchEngine, FaceStreamPipeline, FrameSamplingMode } from '../lib';

function mixed(extra: (stack: Stack) => Partial<ConstructorParameters<typeof FaceStreamPipeline>[2]> = () => ({})) {
  const app = new App();
  const stack = new Stack(app, 'Mixed', { env: { account: '123456789012', region: 'us-west-2' } });
  const pipeline = new FaceStreamPipeline(stack, 'Faces', {
    cameras: [{ name: 'front-door', engine: FaceSearchEngine.streamProcessor() }, { name: 'yard', engine: FaceSearchEngine.frameSampling({ samplingInterval: Duration.millis(500), mode: FrameSamplingMode.CATCH_UP }) }, { name: 'gate' }],
    engine: FaceSearchEngine.frameSampling(),
    ...extra(stack),
  });
  return { stack, pipeline, template: Template.fromStack(stack) };
}

const samplerSchedules = (t: Template) => Object.values(t.findResources('AWS::Scheduler::Schedule')).filter((r) => r.Properties.ScheduleExpression === 'rate(1 minute)');

test('a pipeline mixing both engines: one stream processor, one sampler for the two sampled cameras', () => {
  const { template, pipeline } = mixed();
  expect(pipeline.cameras.map((c) => c.engineName)).toEqual(['stream-processor', 'frame-sampling', 'frame-sampling']);
  template.resourceCountIs('Custom::RekognitionStreamProcessor', 1);
  const functions = Object.values(template.findResources('AWS::Lambda::Function')).filter((f) => String(f.Properties.Description).includes('samples frames'));
  expect(functions).toHaveLength(1);
  // a live follower runs up to Lambda's 15 minutes; 256 MB from the bench's peak RSS
  expect(functions[0].Properties).toMatchObject({ Architectures: ['arm64'], Timeout: 900, MemorySize: 256 });
  // the environment does not name cameras
  expect(JSON.stringify(functions[0].Properties.Environment)).not.toMatch(/yard|gate/);
  template.resourceCountIs('AWS::DynamoDB::Table', Object.keys(template.findResources('AWS::DynamoDB::Table')).length);
  template.hasResourceProperties('AWS::DynamoDB::Table', { BillingMode: 'PAY_PER_REQUEST', SSESpecification: { SSEEnabled: true }, KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }] });

  const schedules = samplerSchedules(template);
  expect(schedules).toHaveLength(2);
  const inputs = schedules.map((s) => JSON.parse(JSON.stringify(s.Properties.Target.Input)));
  expect(JSON.stringify(inputs)).toContain('\\"samplingIntervalMs\\":500');
  expect(JSON.stringify(inputs)).toContain('\\"samplingIntervalMs\\":1000');
  // each camera's mode travels in its input: live by default, catch-up where chosen
  expect(JSON.stringify(inputs)).toMatch(/\\"mode\\":\\"catch-up\\",\\"camera\\":\\"yard\\"/);
  expect(JSON.stringify(inputs)).toMatch(/\\"mode\\":\\"live\\",\\"camera\\":\\"gate\\"/);
  for (const s of schedules) {
    expect(s.Properties).toMatchObject({ State: 'ENABLED', FlexibleTimeWindow: { Mode: 'OFF' }, Target: { RetryPolicy: { MaximumRetryAttempts: 0 } } });
  }
});

test('running: false disables the camera\'s schedule', () => {
  const app = new App();
  const stack = new Stack(app, 'Off');
  new FaceStreamPipeline(stack, 'Faces', { cameras: [{ name: 'a', running: false }], engine: FaceSearchEngine.frameSampling() });
  expect(samplerSchedules(Template.fromStack(stack))[0].Properties.State).toBe('DISABLED');
});

test('IAM: images of each sampled camera\'s video stream, records to its data stream, search on the collection, DetectFaces on * only', () => {
  const { template, stack } = mixed();
  const policies = Object.values(template.findResources('AWS::IAM::Policy')).filter((p) => JSON.stringify(p.Properties.PolicyName).includes('CameraAccess'));
  expect(policies).toHaveLength(1);
  const statements = stack.resolve(policies[0].Properties.PolicyDocument.Statement) as Array<{ Sid: string; Action: string[]; Resource: unknown[] }>;
  const bySid = Object.fromEntries(statements.map((s) => [s.Sid, s]));
  expect(Object.keys(bySid).sort()).toEqual(['ReadCameraImages', 'SearchCollection', 'WriteFaceSearchRecords']);
  expect(bySid.ReadCameraImages.Action).toEqual(['kinesisvideo:GetDataEndpoint', 'kinesisvideo:GetImages']);
  // the pipeline names its streams <prefix><camera name>: one pattern per statement, whatever the number of cameras
  expect(JSON.stringify(bySid.ReadCameraImages.Resource)).toMatch(/:kinesisvideo:us-west-2:123456789012:stream\/[A-Za-z0-9-]+-\*"/);
  expect([bySid.ReadCameraImages.Resource].flat()).toHaveLength(1);
  expect(bySid.WriteFaceSearchRecords.Action).toEqual(['kinesis:PutRecord', 'kinesis:PutRecords']);
  expect(JSON.stringify(bySid.WriteFaceSearchRecords.Resource)).toMatch(/:kinesis:us-west-2:123456789012:stream\/[A-Za-z0-9-]+-\*"/);
  expect([bySid.WriteFaceSearchRecords.Resource].flat()).toHaveLength(1);
  expect([bySid.SearchCollection.Resource].flat()).toHaveLength(1);
  // the only "*" of the sampler's role: DetectFaces
  const all = Object.values(template.findResources('AWS::IAM::Policy'))
    .filter((p) => JSON.stringify(p.Properties.Roles).includes('SamplerRole'))
    .flatMap((p) => stack.resolve(p.Properties.PolicyDocument.Statement) as Array<{ Action: string | string[]; Resource: unknown }>);
  const star = all.filter((s) => JSON.stringify(s.Resource) === '"*"' && [s.Action].flat().some((a) => a.startsWith('rekognition:')));
  expect(star.map((s) => s.Action)).toEqual(['rekognition:DetectFaces']);
  // the scheduler role: invoke the sampler only, trusted by this account's schedules only
  template.hasResourceProperties('AWS::IAM::Role', {
    Description: Match.stringLikeRegexp('invoke the face-stream-pipeline frame sampler'),
    AssumeRolePolicyDocument: { Statement: [Match.objectLike({ Condition: { StringEquals: { 'aws:SourceAccount': '123456789012' }, ArnLike: Match.anyValue() } })] },
  });
});

test('a customer-managed key: kms actions through Kinesis only (kms:ViaService)', () => {
  const { template, stack } = mixed((s) => ({ encryptionKey: new kms.Key(s, 'Key', { enableKeyRotation: true }) }));
  const policy = Object.values(template.findResources('AWS::IAM::Policy')).find((p) => JSON.stringify(p.Properties.PolicyName).includes('CameraAccess'))!;
  const statements = stack.resolve(policy.Properties.PolicyDocument.Statement) as Array<{ Sid: string; Condition?: unknown }>;
  expect(statements.find((s) => s.Sid === 'DecryptVideo')?.Condition).toEqual({ StringEquals: { 'kms:ViaService': 'kinesisvideo.us-west-2.amazonaws.com' } });
  expect(statements.find((s) => s.Sid === 'EncryptRecords')?.Condition).toEqual({ StringEquals: { 'kms:ViaService': 'kinesis.us-west-2.amazonaws.com' } });
});

test('a schedule starts and stops sampling by writing the camera\'s state row (DynamoDB UpdateItem, no Lambda)', () => {
  const app = new App();
  const stack = new Stack(app, 'Scheduled');
  new FaceStreamPipeline(stack, 'Faces', {
    cameras: [{ name: 'a' }],
    engine: FaceSearchEngine.frameSampling(),
    schedule: { start: scheduler.ScheduleExpression.cron({ minute: '0', hour: '7' }), stop: scheduler.ScheduleExpression.cron({ minute: '0', hour: '19' }) },
  });
  const template = Template.fromStack(stack);
  const updates = Object.values(template.findResources('AWS::Scheduler::Schedule')).filter((s) => JSON.stringify(s.Properties.Target.Arn).includes('aws-sdk:dynamodb:updateItem'));
  expect(updates).toHaveLength(2);
  const inputs = updates.map((u) => JSON.stringify(stack.resolve(u.Properties.Target.Input)));
  expect(inputs.some((i) => i.includes('<aws.scheduler.scheduled-time>') && i.includes('\\"BOOL\\":false'))).toBe(true);
  expect(inputs.some((i) => i.includes('\\"BOOL\\":true'))).toBe(true);
  const schedulerPolicy = Object.values(template.findResources('AWS::IAM::Policy')).find((p) => JSON.stringify(p.Properties.PolicyDocument).includes('dynamodb:UpdateItem') && JSON.stringify(p.Properties.PolicyDocument).includes('lambda:InvokeFunction'));
  expect(schedulerPolicy).toBeDefined();
});

test.each([
  [{ samplingInterval: Duration.millis(100) }, /samplingInterval must be whole milliseconds from 200 ms to 60 s .* got 100 ms/],
  [{ maxFacesPerFrame: 0 }, /maxFacesPerFrame/],
  [{ minFaceWidth: 2 }, /minFaceWidth/],
  [{ imageWidth: 5000 }, /imageWidth/],
  [{ mode: 'often' as FrameSamplingMode }, /frameSampling mode must be one of "live", "catch-up" .* got "often"/],
])('bad options are refused at synth time, naming the option: %p', (options, message) => {
  const stack = new Stack(new App(), 'Bad');
  expect(() => new FaceStreamPipeline(stack, 'Faces', { cameras: [{ name: 'a' }], engine: FaceSearchEngine.frameSampling(options) })).toThrow(message);
});

test('live mode: the follower may invoke its own function (its successor), in a policy of its own; catch-up alone grants nothing of the kind', () => {
  const { template, stack } = mixed();
  const handOver = Object.values(template.findResources('AWS::IAM::Policy')).filter((p) => JSON.stringify(p.Properties.PolicyName).includes('HandOver'));
  expect(handOver).toHaveLength(1);
  const [statement] = stack.resolve(handOver[0].Properties.PolicyDocument.Statement) as Array<{ Action: string; Resource: unknown }>;
  expect(statement.Action).toBe('lambda:InvokeFunction');
  expect(JSON.stringify(statement.Resource)).toMatch(/FrameSampler[A-F0-9]{8}","Arn"/);
  expect(JSON.stringify(handOver[0].Properties.Roles)).toMatch(/SamplerRole/);

  const catchUp = new Stack(new App(), 'CatchUp');
  new FaceStreamPipeline(catchUp, 'Faces', { cameras: [{ name: 'a' }], engine: FaceSearchEngine.frameSampling({ mode: FrameSamplingMode.CATCH_UP }) });
  expect(JSON.stringify(Template.fromStack(catchUp).toJSON())).not.toContain('HandOver');
});

test('the health metric: a live follower is unhealthy when silent or more than 30 s behind', () => {
  const { pipeline } = mixed();
  const gate = pipeline.cameras.find((c) => c.cameraName === 'gate')!;
  expect(gate.metricEngineHealth().toMetricConfig().mathExpression?.expression).toBe('IF(FILL(heartbeat, 0) == 0 AND FILL(stopped, 0) == 0, 1, 0) + IF(FILL(lag, 0) > 30, 1, 0)');
  expect(gate.engineHealthDescription).toMatch(/frame sampler \(live\) of camera gate stopped or is more than 30 s behind/);
});

test('the health metric counts a camera whose sampler sends no heartbeat, or lags more than 3 minutes (catch-up)', () => {
  const { pipeline, stack } = mixed();
  const yard = pipeline.cameras.find((c) => c.cameraName === 'yard')!;
  const config = yard.metricEngineHealth().toMetricConfig();
  expect(config.mathExpression?.expression).toBe('IF(FILL(heartbeat, 0) == 0 AND FILL(stopped, 0) == 0, 1, 0) + IF(FILL(lag, 0) > 180, 1, 0)');
  const heartbeat = config.mathExpression!.usingMetrics.heartbeat.toMetricConfig().metricStat!;
  expect(stack.resolve(heartbeat.dimensions)).toEqual([
    { name: 'camera', value: 'yard' },
    { name: 'service', value: 'frame-sampler' },
  ]);
  expect(yard.engineHealthDescription).toMatch(/frame sampler \(catch-up\) of camera yard stopped or is more than 180 s behind/);
});
