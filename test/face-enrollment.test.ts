import { Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { FaceCollection, FaceEnrollment, FaceEvents, FaceStreamPipeline } from '../lib';
import { testStack } from './support/stacks';

/**
 * Enrolment where FaceCollection's `enrollment: true` put it in 0.1.x (the collection's scope, id
 * `Enrollment`): the same construct paths, so the same template, as the upgrade note says.
 */
function enrolmentAsIn01(stack: Stack): FaceEnrollment {
  const collection = new FaceCollection(stack, 'Faces');
  return new FaceEnrollment(collection, 'Enrollment', { collection });
}

describe('FaceEnrollment', () => {
  test('a new bucket is private, encrypted, TLS only, versioned and retained; notifications for faces/ reach the function', () => {
    const stack = testStack();
    enrolmentAsIn01(stack);
    const template = Template.fromStack(stack);
    template.hasResource('AWS::S3::Bucket', {
      Properties: {
        BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
        PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
        OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
        // the pictures faces were enrolled from are kept 90 days after an overwrite or a deletion
        VersioningConfiguration: { Status: 'Enabled' },
        LifecycleConfiguration: {
          Rules: [
            {
              Id: 'ExpireReplacedPictures',
              Status: 'Enabled',
              NoncurrentVersionExpiration: { NoncurrentDays: 90 },
              ExpiredObjectDeleteMarker: true,
              AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 },
            },
          ],
        },
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

  test('the function: Node.js 24 arm64, the collection, table and bus in its environment (the event source is not), failures to an encrypted queue', () => {
    const stack = testStack();
    enrolmentAsIn01(stack);
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
          FACES_PREFIX: 'faces/',
          LIBRARY_VERSION: Match.anyValue(),
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
      Properties: {
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        SSESpecification: { SSEEnabled: true },
        // records of deletions expire; those of enrolled pictures carry no expiresAt
        TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      },
      DeletionPolicy: 'Retain',
    });
  });

  test('IAM is scoped to the collection, the faces/ prefix, the table, the queue and the bus, with the library\'s event source only', () => {
    const stack = testStack();
    enrolmentAsIn01(stack);
    const template = Template.fromStack(stack);
    const [policy] = Object.values(template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: Match.stringLikeRegexp('^FacesEnrollmentHandlerRole') }] } }));
    const statements = stack.resolve(policy.Properties.PolicyDocument.Statement);
    const objects = { 'Fn::Join': ['', [{ 'Fn::GetAtt': [expect.stringMatching(/^FacesEnrollmentBucket/), 'Arn'] }, '/faces/*']] };
    expect(statements).toEqual([
      { Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Effect: 'Allow', Resource: { 'Fn::GetAtt': [expect.stringMatching(/^FacesEnrollmentLogs/), 'Arn'] } },
      { Action: ['rekognition:IndexFaces', 'rekognition:DeleteFaces'], Effect: 'Allow', Resource: { 'Fn::GetAtt': [expect.stringMatching(/^Faces/), 'Arn'] } },
      {
        Action: ['s3:GetObject', 's3:GetObjectVersion', 's3:GetObjectTagging', 's3:GetObjectVersionTagging', 's3:PutObjectTagging', 's3:PutObjectVersionTagging'],
        Effect: 'Allow',
        Resource: objects,
      },
      { Action: ['dynamodb:GetItem', 'dynamodb:PutItem'], Effect: 'Allow', Resource: [{ 'Fn::GetAtt': [expect.stringMatching(/^FacesEnrollmentMapping/), 'Arn'] }] },
      {
        Action: 'events:PutEvents',
        Condition: { 'ForAnyValue:StringEquals': { 'events:source': FaceEvents.SOURCE } },
        Effect: 'Allow',
        Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':events:eu-west-1:123456789012:event-bus/default']] },
      },
      { Action: 'sqs:SendMessage', Effect: 'Allow', Resource: { 'Fn::GetAtt': [expect.stringMatching(/^FacesEnrollmentFailureQueue/), 'Arn'] } },
    ]);
  });

  test('with a customer-managed key, each use of it is granted through its service, for its resource only', () => {
    const stack = testStack();
    const key = new kms.Key(stack, 'Key');
    new FaceEnrollment(stack, 'Enrollment', { collection: new FaceCollection(stack, 'Faces'), encryptionKey: key });
    const template = Template.fromStack(stack);
    const [policy] = Object.values(template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: Match.stringLikeRegexp('^EnrollmentHandlerRole') }] } }));
    const statements: any[] = stack.resolve(policy.Properties.PolicyDocument.Statement);
    const keyArn = { 'Fn::GetAtt': [expect.stringMatching(/^Key/), 'Arn'] };
    const via = (service: string) => ({ 'Fn::Join': ['', [`${service}.eu-west-1.`, { Ref: 'AWS::URLSuffix' }]] });
    const bucketArn = { 'Fn::GetAtt': [expect.stringMatching(/^EnrollmentBucket/), 'Arn'] };
    expect(statements.filter((st) => JSON.stringify(st.Action).includes('kms:'))).toEqual([
      {
        // reading pictures: S3 decrypts with the caller's permissions
        Action: 'kms:Decrypt',
        Condition: {
          StringEquals: { 'kms:ViaService': via('s3') },
          StringLike: { 'kms:EncryptionContext:aws:s3:arn': [bucketArn, { 'Fn::Join': ['', [bucketArn, '/faces/*']] }] },
        },
        Effect: 'Allow',
        Resource: keyArn,
      },
      {
        Action: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey'],
        Condition: { StringEquals: { 'kms:ViaService': via('dynamodb'), 'kms:EncryptionContext:aws:dynamodb:tableName': { Ref: expect.stringMatching(/^EnrollmentMapping/) } } },
        Effect: 'Allow',
        Resource: keyArn,
      },
      {
        // the failure queue is written by Lambda's on-failure destination, with the function's role
        Action: ['kms:GenerateDataKey', 'kms:Decrypt'],
        Condition: { StringEquals: { 'kms:ViaService': via('sqs'), 'kms:EncryptionContext:aws:sqs:arn': { 'Fn::GetAtt': [expect.stringMatching(/^EnrollmentFailureQueue/), 'Arn'] } } },
        Effect: 'Allow',
        Resource: keyArn,
      },
    ]);
    expect(JSON.stringify(statements)).not.toMatch(/kms:ReEncrypt|GenerateDataKey\*|"kms:\*"/);
  });

  test('with a customer-managed key, the new bucket refuses uploads that ask for another encryption; uploads without headers use the key', () => {
    const stack = testStack();
    const key = new kms.Key(stack, 'Key');
    new FaceEnrollment(stack, 'Enrollment', { collection: new FaceCollection(stack, 'Faces'), encryptionKey: key });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ BucketKeyEnabled: true, ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Key'), 'Arn'] } } }],
      },
    });
    const [bucketPolicy] = Object.values(template.findResources('AWS::S3::BucketPolicy'));
    const denies = stack.resolve(bucketPolicy.Properties.PolicyDocument.Statement).filter((st: any) => st.Action === 's3:PutObject');
    const keyArn = { 'Fn::GetAtt': [expect.stringMatching(/^Key/), 'Arn'] };
    expect(denies.map((st: any) => [st.Sid, st.Effect, st.Principal, st.Condition])).toEqual([
      // each comparison only where its header is sent: IAM evaluates ...IfExists as true for an absent key, which denied plain uploads
      ['DenyOtherEncryptionAlgorithms', 'Deny', { AWS: '*' }, { 'Null': { 's3:x-amz-server-side-encryption': 'false' }, 'StringNotEquals': { 's3:x-amz-server-side-encryption': ['aws:kms', 'aws:kms:dsse'] } }],
      ['DenyOtherKmsKeys', 'Deny', { AWS: '*' }, { 'Null': { 's3:x-amz-server-side-encryption-aws-kms-key-id': 'false' }, 'StringNotEquals': { 's3:x-amz-server-side-encryption-aws-kms-key-id': keyArn } }],
      ['DenyKmsWithoutTheKey', 'Deny', { AWS: '*' }, { Null: { 's3:x-amz-server-side-encryption': 'false', 's3:x-amz-server-side-encryption-aws-kms-key-id': 'true' } }],
      ['DenyCustomerProvidedKeys', 'Deny', { AWS: '*' }, { Null: { 's3:x-amz-server-side-encryption-customer-algorithm': 'false' } }],
    ]);
  });

  test('event types come from FaceEvents; FaceEnrollment has no literals of its own', () => {
    expect([FaceEvents.FACE_ENROLLED, FaceEvents.FACE_ENROLLMENT_FAILED, FaceEvents.FACE_REMOVED]).toEqual(['Face Enrolled', 'Face Enrollment Failed', 'Face Removed']);
    expect(Object.keys(FaceEnrollment)).toEqual([]);
  });

  test('noncurrentVersionExpiration: whole days, and only for a new bucket', () => {
    const stack = testStack();
    const collection = FaceCollection.fromCollectionId(stack, 'Staff', 'staff');
    new FaceEnrollment(stack, 'Kept', { collection, noncurrentVersionExpiration: Duration.days(365) });
    Template.fromStack(stack).hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: { Rules: [Match.objectLike({ NoncurrentVersionExpiration: { NoncurrentDays: 365 } })] },
    });
    expect(() => new FaceEnrollment(stack, 'Hours', { collection, noncurrentVersionExpiration: Duration.hours(36) })).toThrow(
      'noncurrentVersionExpiration must be a whole number of days, at least 1, got 1 day 12 hours',
    );
    expect(() => new FaceEnrollment(stack, 'Existing', { collection, bucket: new s3.Bucket(stack, 'B'), noncurrentVersionExpiration: Duration.days(30) })).toThrow(
      'noncurrentVersionExpiration sets the lifecycle of a new bucket; the bucket given with bucket keeps its own. Remove one of them',
    );
  });

  test('an existing bucket and a customer-managed key are used; the bucket\'s versioning and policy are its own', () => {
    const stack = testStack();
    const key = new kms.Key(stack, 'Key');
    const bucket = new s3.Bucket(stack, 'Existing');
    new FaceEnrollment(stack, 'Enrollment', { collection: FaceCollection.fromCollectionId(stack, 'Staff', 'staff'), bucket, encryptionKey: key });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::S3::Bucket', 1);
    template.resourceCountIs('AWS::S3::BucketPolicy', 0);
    expect(Object.values(template.findResources('AWS::S3::Bucket'))[0].Properties?.VersioningConfiguration).toBeUndefined();
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

  test('enrolment options with enrollment: false are rejected', () => {
    const stack = testStack();
    const bucket = new s3.Bucket(stack, 'B');
    expect(() => new FaceStreamPipeline(stack, 'Faces', { enrollment: false, enrollmentOptions: { bucket } })).toThrow(
      'enrollmentOptions configure face enrolment, which enrollment: false leaves out. Remove one of them',
    );
  });

  test('a FaceCollection no longer creates enrolment (0.1.x did): a JavaScript caller learns where it went', () => {
    const stack = testStack();
    const bucket = new s3.Bucket(stack, 'B');
    for (const props of [{ enrollment: true }, { enrollmentOptions: { bucket } }]) {
      expect(() => new FaceCollection(stack, `Faces${Object.keys(props)[0]}`, props as any)).toThrow(
        /FaceCollection no longer creates enrolment \((enrollment|enrollmentOptions)\): use new FaceEnrollment\(scope, 'Enrollment', \{ collection \}\) or FaceStreamPipeline's enrollment/,
      );
    }
    expect(Template.fromStack(stack).findResources('AWS::Lambda::Function')).toEqual({});
  });
});
