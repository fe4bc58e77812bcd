import { Match, Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { FaceCollection, FaceEnrollment, FaceStreamPipeline } from '../lib';
import { testStack } from './support/stacks';

describe('FaceEnrollment', () => {
  test('a new bucket is private, encrypted, TLS only and retained; notifications for faces/ reach the function', () => {
    const stack = testStack();
    new FaceCollection(stack, 'Faces', { enrollment: true });
    const template = Template.fromStack(stack);
    template.hasResource('AWS::S3::Bucket', {
      Properties: {
        BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
        PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
        OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
      },
      DeletionPolicy: 'Retain',
    });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: { Statement: [Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })] },
    });
    template.hasResourceProperties('Custom::S3BucketNotifications', {
      NotificationConfiguration: {
        LambdaFunctionConfigurations: [
          Match.objectLike({ Events: ['s3:ObjectCreated:*'], Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: 'faces/' }] } } }),
          Match.objectLike({ Events: ['s3:ObjectRemoved:*'], Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: 'faces/' }] } } }),
        ],
      },
    });
  });

  test('the function: Node.js 24 arm64, the collection and table in its environment, failures to an encrypted queue', () => {
    const stack = testStack();
    new FaceCollection(stack, 'Faces', { enrollment: true });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Handler: 'index.handler',
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      Environment: {
        Variables: {
          COLLECTION_ID: { Ref: Match.stringLikeRegexp('^Faces') },
          TABLE_NAME: { Ref: Match.stringLikeRegexp('^FacesEnrollmentMapping') },
          EVENT_BUS_NAME: 'default',
          EVENT_SOURCE: 'face-stream-pipeline',
          FACES_PREFIX: 'faces/',
        },
      },
    });
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      MaximumRetryAttempts: 2,
      MaximumEventAgeInSeconds: 21600,
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [Match.stringLikeRegexp('^FacesEnrollmentFailureQueue'), 'Arn'] } } },
    });
    template.hasResourceProperties('AWS::SQS::Queue', { SqsManagedSseEnabled: true });
    template.hasResource('AWS::DynamoDB::Table', {
      Properties: { PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true }, SSESpecification: { SSEEnabled: true } },
      DeletionPolicy: 'Retain',
    });
  });

  test('IAM is scoped to the collection, the faces/ prefix, the table and the bus', () => {
    const stack = testStack();
    new FaceCollection(stack, 'Faces', { enrollment: true });
    const template = Template.fromStack(stack);
    const [policy] = Object.values(template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: Match.stringLikeRegexp('^FacesEnrollmentHandlerRole') }] } }));
    const statements = stack.resolve(policy.Properties.PolicyDocument.Statement);
    const objects = { 'Fn::Join': ['', [{ 'Fn::GetAtt': [expect.stringMatching(/^FacesEnrollmentBucket/), 'Arn'] }, '/faces/*']] };
    expect(statements).toEqual(
      expect.arrayContaining([
        { Action: ['rekognition:IndexFaces', 'rekognition:DeleteFaces'], Effect: 'Allow', Resource: { 'Fn::GetAtt': [expect.stringMatching(/^Faces/), 'Arn'] } },
        { Action: ['s3:GetObject', 's3:GetObjectVersion', 's3:GetObjectTagging', 's3:PutObjectTagging'], Effect: 'Allow', Resource: objects },
        { Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Effect: 'Allow', Resource: { 'Fn::GetAtt': [expect.stringMatching(/^FacesEnrollmentLogs/), 'Arn'] } },
        {
          Action: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
          Effect: 'Allow',
          Resource: [{ 'Fn::GetAtt': [expect.stringMatching(/^FacesEnrollmentMapping/), 'Arn'] }],
        },
        { Action: 'events:PutEvents', Effect: 'Allow', Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':events:eu-west-1:123456789012:event-bus/default']] } },
      ]),
    );
    for (const statement of statements) {
      expect(statement.Resource).not.toEqual('*');
    }
  });

  test('an existing bucket and a customer-managed key are used', () => {
    const stack = testStack();
    const key = new kms.Key(stack, 'Key');
    const bucket = new s3.Bucket(stack, 'Existing');
    new FaceEnrollment(stack, 'Enrollment', { collection: FaceCollection.fromCollectionId(stack, 'Staff', 'staff'), bucket, encryptionKey: key });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::S3::Bucket', 1);
    template.hasResourceProperties('AWS::DynamoDB::Table', { SSESpecification: { SSEType: 'KMS', KMSMasterKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Key'), 'Arn'] } } });
    template.hasResourceProperties('AWS::Lambda::Function', { Environment: { Variables: Match.objectLike({ COLLECTION_ID: 'staff' }) } });
  });

  test('the pipeline enrols into its collection and sends enrolment events to its consumer\'s bus', () => {
    const stack = testStack();
    const pipeline = new FaceStreamPipeline(stack, 'Faces', { enrollment: true });
    expect(pipeline.enrollment).toBeInstanceOf(FaceEnrollment);
    expect(pipeline.enrollment!.bucket).toBeDefined();
    Template.fromStack(stack).hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ COLLECTION_ID: { Ref: Match.stringLikeRegexp('^FacesCollection') }, FACES_PREFIX: 'faces/' }) },
    });
  });

  test('enrollmentBucket without enrollment is rejected', () => {
    const stack = testStack();
    const bucket = new s3.Bucket(stack, 'B');
    expect(() => new FaceCollection(stack, 'Faces', { enrollmentBucket: bucket })).toThrow('enrollmentBucket is the bucket of face enrolment; it needs enrollment: true');
    expect(() => new FaceStreamPipeline(stack, 'P', { enrollmentBucket: bucket })).toThrow('enrollmentBucket is the bucket of face enrolment; it needs enrollment: true');
  });
});
