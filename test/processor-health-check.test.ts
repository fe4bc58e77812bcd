/**
 * The stream processor health check on the construct side: created by the first StreamProcessor
 * of a stack (so the metrics StreamProcessor reads always have a publisher), one per stack, its
 * environment and permissions constant, read with StreamProcessor.metricFailed() / metricRunning().
 */
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import { Stack } from 'aws-cdk-lib';
import { FaceCollection, StreamProcessor, StreamProcessorProps, VideoStream } from '../lib';
import { testStack } from './support/stacks';

function processor(stack: Stack, id: string, overrides: Partial<StreamProcessorProps> = {}): StreamProcessor {
  const collection = (stack.node.tryFindChild('Faces') as FaceCollection | undefined) ?? new FaceCollection(stack, 'Faces');
  return new StreamProcessor(stack, id, {
    videoStream: new VideoStream(stack, `${id}Video`),
    dataStream: new kinesis.Stream(stack, `${id}Data`, { shardCount: 1 }),
    collection,
    ...overrides,
  });
}

test('a StreamProcessor used alone has its health check: a function every 5 minutes, watching the stack\'s processor prefix', () => {
  const stack = testStack();
  const p = processor(stack, 'Cam');
  const template = Template.fromStack(stack);
  template.hasResourceProperties('AWS::Lambda::Function', {
    Handler: 'index.handler',
    Runtime: 'nodejs24.x',
    Environment: { Variables: { PROCESSOR_NAME_PREFIX: 'TestStack-e82b44c6-', POWERTOOLS_METRICS_NAMESPACE: 'FaceStreamPipeline', LIBRARY_VERSION: Match.anyValue() } },
  });
  template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(5 minutes)', Targets: [Match.objectLike({ RetryPolicy: { MaximumRetryAttempts: 0 } })] });
  // the processor's generated names start with the prefix the health check filters on
  const [cr] = Object.values(template.findResources('Custom::RekognitionStreamProcessor'));
  expect(cr.Properties.NamePrefix.startsWith('TestStack-e82b44c6-')).toBe(true);
  expect(p.metricFailed().namespace).toBe('FaceStreamPipeline');
});

test('one health check per stack, whatever the number of processors', () => {
  const stack = testStack();
  processor(stack, 'A');
  processor(stack, 'B');
  processor(stack, 'C');
  const template = Template.fromStack(stack);
  template.resourceCountIs('AWS::Events::Rule', 1);
  template.resourcePropertiesCountIs('AWS::Lambda::Function', { Handler: 'index.handler' }, 1);
});

test('its role may list processors (no resource-level permission exists) and describe only this stack\'s', () => {
  const stack = testStack();
  processor(stack, 'Cam');
  Template.fromStack(stack).hasResourceProperties('AWS::IAM::Policy', {
    Roles: [{ Ref: Match.stringLikeRegexp('ProcessorHealthCheckRole') }],
    PolicyDocument: {
      Statement: [
        { Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Effect: 'Allow', Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('ProcessorHealthCheckLogs'), 'Arn'] } },
        { Sid: 'ListStreamProcessors', Action: 'rekognition:ListStreamProcessors', Effect: 'Allow', Resource: '*' },
        {
          Sid: 'DescribeThisStacksProcessors',
          Action: 'rekognition:DescribeStreamProcessor',
          Effect: 'Allow',
          Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':rekognition:eu-west-1:123456789012:streamprocessor/TestStack-e82b44c6-*']] },
        },
      ],
    },
  });
});

test('stacks whose names share a beginning get prefixes that do not match each other\'s processors', () => {
  const prefix = (name: string) => {
    const stack = testStack(name);
    processor(stack, 'Cam');
    const [fn] = Object.values(Template.fromStack(stack).findResources('AWS::Lambda::Function', { Properties: { Handler: 'index.handler' } }));
    return fn.Properties.Environment.Variables.PROCESSOR_NAME_PREFIX as string;
  };
  const prod = prefix('Prod');
  const prodEu = prefix('Prod-EU');
  expect(prod).toMatch(/^Prod-[0-9a-f]{8}-$/);
  expect(prodEu.startsWith(prod)).toBe(false);
});

test('metricFailed() and metricRunning() read what the health check publishes for this processor', () => {
  const stack = testStack();
  const p = processor(stack, 'Cam');
  const name = { 'Fn::GetAtt': [expect.stringMatching(/^CamProcessor|^Cam[A-F0-9]{8}$/), 'Name'] };
  expect(stack.resolve(p.metricFailed().toMetricConfig().metricStat)).toMatchObject({
    namespace: 'FaceStreamPipeline',
    metricName: 'StreamProcessorFailed',
    dimensions: [{ name: 'StreamProcessor', value: name }],
    statistic: 'Maximum',
    period: { amount: 5, unit: { label: 'minutes' } },
  });
  expect(stack.resolve(p.metricRunning().toMetricConfig().metricStat)).toMatchObject({
    metricName: 'StreamProcessorRunning',
    dimensions: [{ name: 'StreamProcessor', value: name }],
    statistic: 'Minimum',
  });
});

test('a fixed name outside the stack\'s prefix warns that the health check does not watch it', () => {
  const stack = testStack();
  processor(stack, 'Cam', { streamProcessorName: 'front-door' });
  Annotations.fromStack(stack).hasWarning(
    '/TestStack/Cam',
    Match.stringLikeRegexp('streamProcessorName "front-door" does not start with "TestStack-e82b44c6-": the health check does not watch it'),
  );
});
