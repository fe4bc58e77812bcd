/**
 * The constructs of notifications (pipeline.notify, consumer.notify): one notifier function per
 * stack, the rules and their inputs, grants scoped to the topics and the snapshot prefix, the
 * failure queue, and the synth-time errors.
 */
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import { FaceSearchConsumer, FaceStreamPipeline, SnapshotStore } from '../lib';
import { testStack } from './support/stacks';

const NOTIFIER = { Description: Match.stringLikeRegexp('publishes readable face notifications') };

/** A pipeline whose snapshots are in an existing bucket (a new one is the snapshot store's business). */
function pipelineWithSnapshots(stack: Stack, id = 'Faces'): FaceStreamPipeline {
  return new FaceStreamPipeline(stack, id, {
    cameras: [{ name: 'front-door' }, { name: 'lobby' }],
    snapshotOptions: { bucket: s3.Bucket.fromBucketName(stack, `${id}Pictures`, `${id.toLowerCase()}-pictures`), keyPrefix: 'faces/snaps/' },
  });
}

/** The rules of the notifier (their targets are the notifier function), by logical id. */
function notifierRules(t: Template): Record<string, any> {
  const fn = Object.keys(t.findResources('AWS::Lambda::Function', { Properties: NOTIFIER }))[0];
  return t.findResources('AWS::Events::Rule', { Properties: { Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [fn, 'Arn'] } })] } });
}

describe('notify', () => {
  test('one notifier function per stack, whatever the number of notifications and pipelines', () => {
    const stack = testStack();
    const a = pipelineWithSnapshots(stack, 'A');
    const b = new FaceStreamPipeline(stack, 'B', { cameras: [{ name: 'yard' }] });
    const topic = new sns.Topic(stack, 'Alerts');
    a.notify('Alice', topic, { externalImageIds: ['alice'] });
    a.notify('Unknown', topic, { matches: false, unknownFaces: true });
    b.notify('Everything', new sns.Topic(stack, 'Other'), { unknownFaces: true });
    const t = Template.fromStack(stack);
    t.resourcePropertiesCountIs('AWS::Lambda::Function', NOTIFIER, 1);
    // Alice (1 rule), Unknown (1), Everything (matches and unknown faces: 2)
    expect(Object.keys(notifierRules(t))).toHaveLength(4);
    // the function may be invoked by exactly those rules
    t.resourcePropertiesCountIs('AWS::Lambda::Permission', { Principal: 'events.amazonaws.com', FunctionName: { 'Fn::GetAtt': [Match.stringLikeRegexp('^FaceStreamPipelineNotifierFunction'), 'Arn'] } }, 4);
  });

  test('the rules filter like onFaceMatch / onUnknownFace, and carry the settings of their notification in the input', () => {
    const stack = testStack();
    const pipeline = pipelineWithSnapshots(stack);
    const topic = new sns.Topic(stack, 'Alerts');
    const rules = pipeline.notify('Watch', topic, {
      externalImageIds: ['alice', 'bob'],
      cameras: ['front-door'],
      minSimilarity: 95,
      unknownFaces: true,
      timeZone: 'europe/paris',
      linkExpiry: Duration.minutes(30),
    });
    expect(rules).toHaveLength(2);
    const t = Template.fromStack(stack);
    const consumer = stack.resolve(pipeline.consumer!.consumerId);
    const input = (detail: string) => ({
      InputPathsMap: { detail: '$.detail' },
      InputTemplate: {
        'Fn::Join': [
          '',
          [
            '{"detail":<detail>,"topicArn":"',
            { Ref: Match.stringLikeRegexp('^Alerts') },
            // the canonical name of the zone, as Intl resolves it
            `","timeZone":"Europe/Paris","linkExpirySeconds":1800,"snapshotBucket":"faces-pictures","snapshotPrefix":"faces/snaps/"}`,
          ],
        ],
      },
      detail,
    });
    const target = (detail: string) => {
      const { detail: _, ...transformer } = input(detail);
      return Match.objectLike({
        InputTransformer: transformer,
        RetryPolicy: { MaximumRetryAttempts: 20, MaximumEventAgeInSeconds: 3600 },
        DeadLetterConfig: { Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^FaceStreamPipelineNotifierFailureQueue'), 'Arn'] } },
      });
    };
    t.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['face-stream-pipeline'],
        'detail-type': ['Face Matched'],
        detail: { consumer: [consumer], camera: ['front-door'], match: { externalImageId: ['alice', 'bob'], similarity: [{ numeric: ['>=', 95] }] } },
      },
      Targets: [target('match')],
    });
    t.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: { source: ['face-stream-pipeline'], 'detail-type': ['Face Not Matched'], detail: { consumer: [consumer], camera: ['front-door'] } },
      Targets: [target('unknown')],
    });
  });

  test('grants: sns:Publish on each topic and its key only, s3:GetObject under the snapshot prefix only, the failure queue', () => {
    const stack = testStack();
    const pipeline = pipelineWithSnapshots(stack);
    const key = new kms.Key(stack, 'TopicKey');
    pipeline.notify('One', new sns.Topic(stack, 'Encrypted', { masterKey: key }));
    pipeline.notify('Two', sns.Topic.fromTopicArn(stack, 'Imported', 'arn:aws:sns:eu-west-1:123456789012:elsewhere'), { unknownFaces: true });
    const t = Template.fromStack(stack);
    const policies = t.findResources('AWS::IAM::Policy', { Properties: { PolicyName: Match.stringLikeRegexp('^FaceStreamPipelineNotifierFunctionRole') } });
    expect(Object.keys(policies)).toHaveLength(1);
    const statements = stack.resolve(Object.values<any>(policies)[0].Properties.PolicyDocument.Statement);
    expect(statements).toEqual([
      { Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Effect: 'Allow', Resource: { 'Fn::GetAtt': [expect.stringMatching(/^FaceStreamPipelineNotifierLogs/), 'Arn'] } },
      { Action: 'sqs:SendMessage', Effect: 'Allow', Resource: { 'Fn::GetAtt': [expect.stringMatching(/^FaceStreamPipelineNotifierFailureQueue/), 'Arn'] } },
      { Action: 'sns:Publish', Effect: 'Allow', Resource: { Ref: expect.stringMatching(/^Encrypted/) } },
      { Action: ['kms:Decrypt', 'kms:GenerateDataKey'], Effect: 'Allow', Resource: { 'Fn::GetAtt': [expect.stringMatching(/^TopicKey/), 'Arn'] } },
      { Action: 's3:GetObject', Effect: 'Allow', Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':s3:::faces-pictures/faces/snaps/*']] } },
      { Action: 'sns:Publish', Effect: 'Allow', Resource: 'arn:aws:sns:eu-west-1:123456789012:elsewhere' },
    ]);
    // failed invocations: two Lambda retries within an hour, then the failure queue
    t.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      MaximumRetryAttempts: 2,
      MaximumEventAgeInSeconds: 3600,
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [Match.stringLikeRegexp('^FaceStreamPipelineNotifierFailureQueue'), 'Arn'] } } },
    });
  });

  test('without snapshots: no link settings in the input, no S3 grant', () => {
    const stack = testStack();
    const pipeline = new FaceStreamPipeline(stack, 'Faces', { cameras: [{ name: 'front-door' }] });
    pipeline.notify('Alerts', new sns.Topic(stack, 'Alerts'));
    const t = Template.fromStack(stack);
    const [rule] = Object.values<any>(notifierRules(t));
    expect(JSON.stringify(rule.Properties.Targets[0].InputTransformer.InputTemplate)).not.toContain('snapshot');
    expect(JSON.stringify(t.findResources('AWS::IAM::Policy'))).not.toContain('s3:GetObject');
  });

  test('a site notifies through its hub: the rule is on the hub consumer, linking the hub store', () => {
    const app = new App();
    const env = { account: '123456789012', region: 'eu-west-1' };
    const hubStack = new Stack(app, 'Hub', { env });
    const hub = pipelineWithSnapshots(hubStack, 'Faces');
    const siteStack = new Stack(app, 'Site', { env });
    const site = new FaceStreamPipeline(siteStack, 'Faces', { hub, cameras: [{ name: 'gate' }] });
    site.notify('Gate', new sns.Topic(hubStack, 'Alerts'), { cameras: ['gate'] });
    const t = Template.fromStack(hubStack);
    t.resourcePropertiesCountIs('AWS::Lambda::Function', NOTIFIER, 1);
    t.hasResourceProperties('AWS::Events::Rule', { EventPattern: Match.objectLike({ detail: { consumer: [hubStack.resolve(hub.consumer!.consumerId)], camera: ['gate'] } }) });
    expect(JSON.stringify(notifierRules(t))).toContain('"snapshotBucket\\":\\"faces-pictures');
    Template.fromStack(siteStack).resourcePropertiesCountIs('AWS::Lambda::Function', NOTIFIER, 0);
  });

  test('consumer.notify: a consumer of your own, with the store you give', () => {
    const stack = testStack();
    const consumer = new FaceSearchConsumer(stack, 'Consumer');
    const store = new SnapshotStore(stack, 'Store', { bucket: s3.Bucket.fromBucketName(stack, 'B', 'my-pictures') });
    consumer.notify('Alerts', new sns.Topic(stack, 'Alerts'), { unknownFaces: true, matches: false }, store);
    const t = Template.fromStack(stack);
    t.hasResourceProperties('AWS::Events::Rule', { EventPattern: Match.objectLike({ 'detail-type': ['Face Not Matched'] }) });
    t.hasResourceProperties('AWS::IAM::Policy', { PolicyDocument: { Statement: Match.arrayWith([{ Action: 's3:GetObject', Effect: 'Allow', Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':s3:::my-pictures/snapshots/*']] } }]) } });
  });
});

describe('notify: errors at synth time', () => {
  const setup = () => {
    const stack = testStack();
    return { stack, pipeline: new FaceStreamPipeline(stack, 'Faces', { cameras: [{ name: 'front-door' }] }), topic: new sns.Topic(stack, 'Alerts') };
  };

  test.each<[string, object, string]>([
    ['neither matches nor unknown faces', { matches: false }, 'notification "N": matches and unknownFaces are both false, so it would never notify; set matches: true (the default) and/or unknownFaces: true'],
    ['a match filter without matches', { matches: false, unknownFaces: true, minSimilarity: 90 }, 'notification "N": externalImageIds and minSimilarity filter matches, which matches: false leaves out'],
    ['a time zone that is not IANA', { timeZone: 'Paris' }, 'timeZone must be an IANA time zone name such as "UTC", "Europe/Paris" or "America/New_York", got "Paris"'],
    ['a link shorter than a minute', { linkExpiry: Duration.seconds(30) }, 'linkExpiry must be whole seconds from 1 minute to 12 hours'],
    ['a link longer than 12 hours', { linkExpiry: Duration.days(7) }, "linkExpiry must be whole seconds from 1 minute to 12 hours (a link signed with the notifier's temporary credentials cannot outlive them), got \"7 days\""],
    ['a fraction of a second', { linkExpiry: Duration.millis(90_500) }, 'linkExpiry must be whole seconds'],
    ['a bad person name', { externalImageIds: ['alice smith'] }, 'externalImageIds[] must be 1-255 characters of [a-zA-Z0-9_.-:], got "alice smith"'],
    ['an empty camera list', { cameras: [] }, 'cameras must name at least one value when given'],
    ['a similarity over 100', { minSimilarity: 101 }, 'minSimilarity must be a number from 0 to 100, got 101'],
  ])('%s', (_name, options, message) => {
    const { pipeline, topic } = setup();
    expect(() => pipeline.notify('N', topic, options)).toThrow(message);
  });

  test('a FIFO topic (e-mail and SMS cannot subscribe to one)', () => {
    const { stack, pipeline } = setup();
    expect(() => pipeline.notify('N', new sns.Topic(stack, 'Fifo', { fifo: true }))).toThrow('notification "N": the topic is a FIFO topic, which e-mail and SMS cannot subscribe to; give a standard topic');
  });

  test('a camera the pipeline does not have, named when the app synthesizes', () => {
    const { stack, pipeline, topic } = setup();
    pipeline.notify('N', topic, { cameras: ['back-door'] });
    expect(() => Template.fromStack(stack)).toThrow('rule "N" names the camera "back-door" in cameras, which is not a camera of this pipeline (cameras: front-door)');
  });

  test('a pipeline without its consumer', () => {
    const stack = testStack();
    const pipeline = new FaceStreamPipeline(stack, 'Faces', { consumer: false, cameras: [{ name: 'cam' }] });
    expect(() => pipeline.notify('N', new sns.Topic(stack, 'T'))).toThrow("notify needs the pipeline's consumer, which consumer: false leaves out");
  });
});
