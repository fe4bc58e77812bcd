import { Lazy, Tags, Token } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Stack } from 'aws-cdk-lib';
import { FaceCollection, StreamProcessor, StreamProcessorProps, VideoStream } from '../lib';
import { testStack } from './support/stacks';

function setup(stack: Stack, id = 'Cam', overrides: Partial<StreamProcessorProps> = {}) {
  const videoStream = new VideoStream(stack, `${id}Video`);
  const dataStream = new kinesis.Stream(stack, `${id}Data`, { shardCount: 1, encryption: kinesis.StreamEncryption.MANAGED });
  const collection = (stack.node.tryFindChild('Faces') as FaceCollection | undefined) ?? new FaceCollection(stack, 'Faces');
  const processor = new StreamProcessor(stack, `${id}Processor`, { videoStream, dataStream, collection, ...overrides });
  return { videoStream, dataStream, collection, processor };
}

describe('StreamProcessor', () => {
  test('renders the custom resource contract with defaults', () => {
    const stack = testStack();
    setup(stack);
    const template = Template.fromStack(stack);
    template.hasResourceProperties('Custom::RekognitionStreamProcessor', {
      ServiceToken: { 'Fn::GetAtt': [Match.stringLikeRegexp('StreamProcessorProviderframeworkonEvent'), 'Arn'] },
      Name: Match.absent(),
      NamePrefix: 'TestStack-e82b44c6-CamProcessor-B3789EC0', // stack prefix, construct path, hash of the path
      KinesisVideoStreamArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^CamVideo'), 'Arn'] },
      KinesisDataStreamArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^CamData'), 'Arn'] },
      RoleArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^CamProcessorServiceRole'), 'Arn'] },
      CollectionId: { Ref: Match.stringLikeRegexp('^Faces') },
      FaceMatchThreshold: 80,
      Running: true,
      DataSharing: false,
      Tags: Match.absent(),
      WaitTimeoutSeconds: 1500,
    });
  });

  test('passes the props given', () => {
    const stack = testStack();
    setup(stack, 'Cam', { faceMatchThreshold: 95.5, running: false, dataSharing: true, streamProcessorName: 'front-door' });
    Template.fromStack(stack).hasResourceProperties('Custom::RekognitionStreamProcessor', {
      Name: 'front-door',
      FaceMatchThreshold: 95.5,
      Running: false,
      DataSharing: true,
    });
  });

  test('Tags.of() reaches the processor', () => {
    const stack = testStack();
    setup(stack);
    Tags.of(stack).add('team', 'security');
    Template.fromStack(stack).hasResourceProperties('Custom::RekognitionStreamProcessor', {
      Tags: [{ Key: 'team', Value: 'security' }],
    });
  });

  test('the service role trusts Rekognition only for this account and this processor\'s names, and may only read its video and write its data stream', () => {
    const stack = testStack();
    setup(stack);
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [
          {
            Action: 'sts:AssumeRole',
            Effect: 'Allow',
            Principal: { Service: 'rekognition.amazonaws.com' },
            Condition: {
              StringEquals: { 'aws:SourceAccount': '123456789012' },
              ArnLike: {
                'aws:SourceArn': {
                  'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':rekognition:eu-west-1:123456789012:streamprocessor/TestStack-e82b44c6-CamProcessor-B3789EC0-*']],
                },
              },
            },
          },
        ],
      },
    });
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('^CamProcessorServiceRole') }],
      PolicyDocument: {
        Statement: [
          {
            Action: ['kinesisvideo:GetDataEndpoint', 'kinesisvideo:GetMedia'],
            Effect: 'Allow',
            Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('^CamVideo'), 'Arn'] },
          },
          {
            Action: ['kinesis:PutRecord', 'kinesis:PutRecords'],
            Effect: 'Allow',
            Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('^CamData'), 'Arn'] },
          },
        ],
      },
    });
  });

  test('with a fixed name, the service role trusts exactly that processor', () => {
    const stack = testStack();
    setup(stack, 'Cam', { streamProcessorName: 'front-door' });
    Template.fromStack(stack).hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [
          Match.objectLike({
            Condition: Match.objectLike({
              ArnLike: { 'aws:SourceArn': { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':rekognition:eu-west-1:123456789012:streamprocessor/front-door']] } },
            }),
          }),
        ],
      },
    });
  });

  test('a customer-managed key on the data stream is granted to the service role for GenerateDataKey only', () => {
    const stack = testStack();
    const key = new kms.Key(stack, 'Key');
    const dataStream = new kinesis.Stream(stack, 'Data', { encryption: kinesis.StreamEncryption.KMS, encryptionKey: key });
    new StreamProcessor(stack, 'Processor', {
      videoStream: new VideoStream(stack, 'Video'),
      dataStream,
      collection: new FaceCollection(stack, 'Faces'),
    });
    Template.fromStack(stack).hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('^ProcessorServiceRole') }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          { Action: 'kms:GenerateDataKey', Effect: 'Allow', Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Key'), 'Arn'] } },
        ]),
      },
    });
  });

  test('the processor depends on the handler permissions and the service role permissions', () => {
    const stack = testStack();
    setup(stack);
    const template = Template.fromStack(stack);
    const [processor] = Object.values(template.findResources('Custom::RekognitionStreamProcessor'));
    expect(processor.DependsOn.sort()).toEqual([expect.stringMatching(/^CamProcessorServiceRoleDefaultPolicy/), expect.stringMatching(/StreamProcessorProviderProcessorAccess/)]);
  });

  test('one provider and one health check per stack: handlers on Node.js 24 arm64, shared by all processors', () => {
    const stack = testStack();
    setup(stack, 'A');
    setup(stack, 'B');
    const template = Template.fromStack(stack);
    const handlers = template.findResources('AWS::Lambda::Function', { Properties: { Handler: Match.stringLikeRegexp('^index\\.(onEvent|isComplete)$') } });
    expect(Object.keys(handlers)).toHaveLength(2);
    for (const fn of Object.values(handlers)) {
      expect(fn.Properties).toMatchObject({ Runtime: 'nodejs24.x', Architectures: ['arm64'], Timeout: 120 });
    }
    const codes = new Set(Object.values(handlers).map((fn) => JSON.stringify(fn.Properties.Code)));
    expect(codes.size).toBe(1);
    // plus the provider framework's onEvent, isComplete and onTimeout, and the health check
    template.resourceCountIs('AWS::Lambda::Function', 6);
    template.resourceCountIs('AWS::Events::Rule', 1);
    template.resourceCountIs('AWS::StepFunctions::StateMachine', 1);
    template.resourceCountIs('Custom::RekognitionStreamProcessor', 2);
  });

  test('the handler may manage only this stack\'s processors, create them on the collection, and pass this stack\'s service roles to Rekognition', () => {
    const stack = testStack();
    setup(stack, 'A');
    setup(stack, 'B', { streamProcessorName: 'TestStack-e82b44c6-lobby' });
    const template = Template.fromStack(stack);
    const policies = template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: Match.stringLikeRegexp('StreamProcessorProviderHandlerRole') }] } });
    // the log group policy and one processor policy: nothing per processor
    expect(Object.keys(policies)).toHaveLength(2);
    const [access] = Object.entries(policies).filter(([id]) => id.includes('ProcessorAccess')).map(([, p]) => p);
    const join = (suffix: string) => ({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, suffix]] });
    expect(access.Properties.PolicyDocument.Statement).toEqual([
      {
        Sid: 'ManageThisStacksStreamProcessors',
        Effect: 'Allow',
        Action: [
          'rekognition:CreateStreamProcessor',
          'rekognition:DescribeStreamProcessor',
          'rekognition:StartStreamProcessor',
          'rekognition:StopStreamProcessor',
          'rekognition:UpdateStreamProcessor',
          'rekognition:DeleteStreamProcessor',
          'rekognition:TagResource',
          'rekognition:UntagResource',
        ],
        Resource: join(':rekognition:eu-west-1:123456789012:streamprocessor/TestStack-e82b44c6-*'),
      },
      {
        Sid: 'PassThisStacksServiceRoles',
        Effect: 'Allow',
        Action: 'iam:PassRole',
        Condition: { StringEquals: { 'iam:PassedToService': 'rekognition.amazonaws.com' } },
        Resource: join(':iam::123456789012:role/face-stream-pipeline/TestStack-e82b44c6/*'),
      },
      // one entry per distinct collection, not per processor
      { Sid: 'CreateStreamProcessorsOnCollections', Effect: 'Allow', Action: 'rekognition:CreateStreamProcessor', Resource: { 'Fn::GetAtt': [expect.stringMatching(/^Faces/), 'Arn'] } },
    ]);
    // the service roles live under that path; every generated name starts with that prefix
    template.resourcePropertiesCountIs('AWS::IAM::Role', { Path: '/face-stream-pipeline/TestStack-e82b44c6/' }, 2);
    for (const cr of Object.values(template.findResources('Custom::RekognitionStreamProcessor'))) {
      expect(cr.Properties.Name ?? cr.Properties.NamePrefix).toMatch(/^TestStack-e82b44c6-/);
    }
  });

  test('a fixed name outside the stack prefix, or a role given by the user, adds a policy of the processor\'s own', () => {
    const stack = testStack();
    const role = iam.Role.fromRoleArn(stack, 'Existing', 'arn:aws:iam::123456789012:role/MyRekognitionRole', { mutable: false });
    setup(stack, 'B', { streamProcessorName: 'lobby', role });
    const template = Template.fromStack(stack);
    const own = template.findResources('AWS::IAM::Policy', { Properties: { PolicyName: Match.stringLikeRegexp('^BProcessorHandlerAccess') } });
    expect(Object.values(own).map((p) => p.Properties)).toEqual([
      {
        PolicyName: expect.any(String),
        Roles: [{ Ref: expect.stringMatching(/StreamProcessorProviderHandlerRole/) }],
        PolicyDocument: {
          Version: '2012-10-17',
          Statement: [
            {
              Sid: 'ManageThisStreamProcessor',
              Effect: 'Allow',
              Action: expect.arrayContaining(['rekognition:StopStreamProcessor', 'rekognition:DeleteStreamProcessor']),
              Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':rekognition:eu-west-1:123456789012:streamprocessor/lobby']] },
            },
            {
              Sid: 'PassItsServiceRole',
              Effect: 'Allow',
              Action: 'iam:PassRole',
              Condition: { StringEquals: { 'iam:PassedToService': 'rekognition.amazonaws.com' } },
              Resource: 'arn:aws:iam::123456789012:role/MyRekognitionRole',
            },
          ],
        },
      },
    ]);
    const [cr] = Object.values(template.findResources('Custom::RekognitionStreamProcessor'));
    expect(cr.DependsOn).toEqual(expect.arrayContaining([Object.keys(own)[0], expect.stringMatching(/ProcessorAccess/)]));
  });

  test('the handler role writes logs to its own log group with a retention, not to any log group', () => {
    const stack = testStack();
    setup(stack);
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('StreamProcessorProviderHandlerRole') }],
      PolicyDocument: {
        Statement: [
          {
            Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
            Effect: 'Allow',
            Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('StreamProcessorProviderHandlerLogs'), 'Arn'] },
          },
        ],
      },
    });
    const role = Object.values(template.findResources('AWS::IAM::Role', { Properties: { Description: Match.stringLikeRegexp('custom resource handler') } }))[0];
    expect(role.Properties.ManagedPolicyArns).toBeUndefined();
  });

  test('an imported role is used as it is and not granted anything', () => {
    const stack = testStack();
    const role = iam.Role.fromRoleArn(stack, 'Existing', 'arn:aws:iam::123456789012:role/MyRekognitionRole', { mutable: false });
    setup(stack, 'Cam', { role });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('Custom::RekognitionStreamProcessor', { RoleArn: 'arn:aws:iam::123456789012:role/MyRekognitionRole' });
    template.resourcePropertiesCountIs('AWS::IAM::Role', { AssumeRolePolicyDocument: { Statement: [{ Principal: { Service: 'rekognition.amazonaws.com' } }] } }, 0);
  });

  test('attributes come from the custom resource', () => {
    const stack = testStack();
    const { processor } = setup(stack);
    expect(stack.resolve(processor.streamProcessorName)).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^CamProcessor/), 'Name'] });
    expect(stack.resolve(processor.streamProcessorArn)).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^CamProcessor/), 'Arn'] });
    expect(stack.resolve(processor.streamProcessorStatus)).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^CamProcessor/), 'Status'] });
  });

  test('fromStreamProcessorName imports by name', () => {
    const stack = testStack();
    const imported = StreamProcessor.fromStreamProcessorName(stack, 'Imported', 'front-door');
    expect(imported.streamProcessorName).toBe('front-door');
    expect(stack.resolve(imported.streamProcessorArn)).toEqual({
      'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:rekognition:eu-west-1:123456789012:streamprocessor/front-door`]],
    });
    expect(() => StreamProcessor.fromStreamProcessorName(stack, 'Bad', 'front door')).toThrow('streamProcessorName must be 1-128 characters');
  });

  describe('validation', () => {
    test.each([
      [{ faceMatchThreshold: 101 }, 'faceMatchThreshold must be a number from 0 to 100, got 101'],
      [{ faceMatchThreshold: -1 }, 'faceMatchThreshold must be a number from 0 to 100, got -1'],
      [{ faceMatchThreshold: NaN }, 'faceMatchThreshold must be a number from 0 to 100, got NaN'],
      [{ streamProcessorName: 'a'.repeat(129) }, 'streamProcessorName must be 1-128 characters of [a-zA-Z0-9_.-]'],
      [{ streamProcessorName: 'front/door' }, 'streamProcessorName must be 1-128 characters of [a-zA-Z0-9_.-], got "front/door" (10 characters)'],
      [{ streamProcessorName: '' }, 'streamProcessorName must be 1-128 characters of [a-zA-Z0-9_.-], got "" (0 characters)'],
    ])('rejects %j', (overrides, message) => {
      expect(() => setup(testStack(), 'Cam', overrides)).toThrow(message);
    });

    test('a threshold below 80 warns that the service raises it', () => {
      const stack = testStack();
      setup(stack, 'Cam', { faceMatchThreshold: 50 });
      Annotations.fromStack(stack).hasWarning('/TestStack/CamProcessor', Match.stringLikeRegexp('faceMatchThreshold is 50, but Rekognition raises values below 80 to 80'));
    });

    test('80 and above do not warn', () => {
      const stack = testStack();
      setup(stack, 'Cam', { faceMatchThreshold: 80 });
      Annotations.fromStack(stack).hasNoWarning('*', Match.stringLikeRegexp('faceMatchThreshold'));
    });

    test('token values are not validated', () => {
      const stack = testStack();
      const threshold = Token.asNumber(Lazy.number({ produce: () => 150 }));
      const name = Lazy.string({ produce: () => 'not valid!' });
      expect(() => setup(stack, 'Cam', { faceMatchThreshold: threshold, streamProcessorName: name })).not.toThrow();
    });
  });
});
