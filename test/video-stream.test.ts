import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { VideoStream } from '../lib';
import { testStack } from './support/stacks';

describe('VideoStream', () => {
  test('defaults: 24 h retention, H.264, AWS managed encryption, deleted with the stack', () => {
    const stack = testStack();
    new VideoStream(stack, 'Video');
    const template = Template.fromStack(stack);
    template.hasResource('AWS::KinesisVideo::Stream', {
      Properties: { DataRetentionInHours: 24, MediaType: 'video/h264', KmsKeyId: Match.absent(), Name: Match.absent() },
      DeletionPolicy: 'Delete',
    });
  });

  test('name, retention, key and removal policy are passed through', () => {
    const stack = testStack();
    const key = new kms.Key(stack, 'Key');
    new VideoStream(stack, 'Video', {
      streamName: 'front-door',
      dataRetention: Duration.days(2),
      encryptionKey: key,
      removalPolicy: RemovalPolicy.RETAIN,
      mediaType: 'video/h265',
    });
    Template.fromStack(stack).hasResource('AWS::KinesisVideo::Stream', {
      Properties: {
        Name: 'front-door',
        DataRetentionInHours: 48,
        MediaType: 'video/h265',
        KmsKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Key'), 'Arn'] },
      },
      DeletionPolicy: 'Retain',
    });
  });

  test('grantRead gives GetDataEndpoint and GetMedia on this stream, and kms:Decrypt on its key', () => {
    const stack = testStack();
    const key = new kms.Key(stack, 'Key');
    const stream = new VideoStream(stack, 'Video', { encryptionKey: key });
    const role = new iam.Role(stack, 'Reader', { assumedBy: new iam.ServicePrincipal('rekognition.amazonaws.com') });
    stream.grantRead(role);
    Template.fromStack(stack).hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: [
          {
            Action: ['kinesisvideo:GetDataEndpoint', 'kinesisvideo:GetMedia'],
            Effect: 'Allow',
            Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Video'), 'Arn'] },
          },
          { Action: 'kms:Decrypt', Effect: 'Allow', Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Key'), 'Arn'] } },
        ],
      },
    });
  });

  test('grantWrite gives GetDataEndpoint, PutMedia and DescribeStream, and kms:GenerateDataKey on its key', () => {
    const stack = testStack();
    const key = new kms.Key(stack, 'Key');
    const stream = new VideoStream(stack, 'Video', { encryptionKey: key });
    const role = new iam.Role(stack, 'Camera', { assumedBy: new iam.AccountRootPrincipal() });
    stream.grantWrite(role);
    Template.fromStack(stack).hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: [
          {
            Action: ['kinesisvideo:GetDataEndpoint', 'kinesisvideo:PutMedia', 'kinesisvideo:DescribeStream'],
            Effect: 'Allow',
            Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Video'), 'Arn'] },
          },
          { Action: 'kms:GenerateDataKey', Effect: 'Allow', Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Key'), 'Arn'] } },
        ],
      },
    });
  });

  test('fromStreamArn imports by ARN, reads the name, and grants on that ARN', () => {
    const stack = testStack();
    const arn = 'arn:aws:kinesisvideo:eu-west-1:123456789012:stream/lobby/1700000000000';
    const stream = VideoStream.fromStreamArn(stack, 'Imported', arn);
    expect(stream.streamName).toBe('lobby');
    expect(stream.streamArn).toBe(arn);
    expect(stream.env.region).toBe('eu-west-1');
    const role = new iam.Role(stack, 'Reader', { assumedBy: new iam.ServicePrincipal('rekognition.amazonaws.com') });
    stream.grantRead(role);
    Template.fromStack(stack).hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: [{ Action: ['kinesisvideo:GetDataEndpoint', 'kinesisvideo:GetMedia'], Resource: arn }] },
    });
  });

  test('fromStreamArn rejects what is not a Kinesis video stream ARN, naming the prop', () => {
    const stack = testStack();
    expect(() => VideoStream.fromStreamArn(stack, 'Bad', 'arn:aws:kinesis:eu-west-1:123456789012:stream/data')).toThrow(
      'streamArn must be a Kinesis video stream ARN like arn:aws:kinesisvideo:REGION:ACCOUNT:stream/NAME/CREATION-TIME, got "arn:aws:kinesis:eu-west-1:123456789012:stream/data"',
    );
  });

  test.each([
    [{ dataRetention: Duration.minutes(90) }, 'dataRetention (in hours) must be a whole number from 1 to 87600, got 1.5'],
    [{ dataRetention: Duration.hours(0) }, 'dataRetention (in hours) must be a whole number from 1 to 87600, got 0'],
    [{ dataRetention: Duration.days(3651) }, 'dataRetention (in hours) must be a whole number from 1 to 87600, got 87624'],
    [{ streamName: 'front door' }, 'streamName must be 1-256 characters of [a-zA-Z0-9_.-], got "front door" (10 characters)'],
  ])('rejects %j', (props, message) => {
    expect(() => new VideoStream(testStack(), 'Video', props)).toThrow(message);
  });
});
