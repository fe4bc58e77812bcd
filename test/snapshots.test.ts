/**
 * SnapshotStore and its wiring, construct side: validation of the options, the new bucket's
 * properties (private, encrypted, TLS only, unversioned, expiring), the grants, and the
 * frame-sampling engine's part: each camera's schedule input says where and how often, and the
 * sampler's policy names each store once, never each camera.
 */
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { FaceSearchEngine, FaceStreamPipeline, FaceStreamPipelineProps, SnapshotStore } from '../lib';

const env = { account: '123456789012', region: 'us-west-2' };
const newStack = () => new Stack(new App(), 'Stack', { env });

describe('validation', () => {
  test.each([
    [{ keyPrefix: 'no-slash' }, 'snapshots keyPrefix must be empty or 1-200 characters of [a-zA-Z0-9!_.*\'()/-] ending with "/", got "no-slash"'],
    [{ keyPrefix: 'sp ace/' }, 'snapshots keyPrefix must be empty or 1-200 characters'],
    [{ faceMargin: 1.5 }, 'snapshots faceMargin must be a ratio from 0 to 1, got 1.5'],
    [{ faceMargin: -0.1 }, 'snapshots faceMargin must be a ratio from 0 to 1, got -0.1'],
    [{ expiration: Duration.hours(36) }, 'snapshots expiration must be whole days from 1 to 3650'],
    [{ expiration: Duration.days(3651) }, 'snapshots expiration must be whole days from 1 to 3650'],
  ])('%j is refused, naming the option and what it allows', (props, message) => {
    expect(() => new SnapshotStore(newStack(), 'Snapshots', props as any)).toThrow(message);
  });

  test('expiration with an existing bucket is refused: its lifecycle is the bucket owner\'s', () => {
    const stack = newStack();
    const bucket = s3.Bucket.fromBucketName(stack, 'Mine', 'my-bucket');
    expect(() => new SnapshotStore(stack, 'Snapshots', { bucket, expiration: Duration.days(7) })).toThrow('snapshots expiration applies to a new bucket only');
  });

  test('snapshotOptions with snapshots: false, and snapshots on a site, are refused', () => {
    expect(() => new FaceStreamPipeline(newStack(), 'Faces', { snapshots: false, snapshotOptions: { keyPrefix: 'x/' } })).toThrow('snapshotOptions configure snapshots, which snapshots: false leaves out');
    const app = new App();
    const hub = new FaceStreamPipeline(new Stack(app, 'Hub', { env }), 'Faces', { snapshots: true });
    expect(() => new FaceStreamPipeline(new Stack(app, 'Site', { env }), 'Faces', { hub, snapshots: true })).toThrow('hub gives this pipeline its collection, consumer, enrolment and snapshots; remove snapshots');
  });
});

describe('the new bucket', () => {
  test('private, TLS only, unversioned, objects under the prefix expire after 30 days, kept when the stack is deleted', () => {
    const stack = newStack();
    new SnapshotStore(stack, 'Snapshots');
    const template = Template.fromStack(stack);
    template.hasResource('AWS::S3::Bucket', {
      DeletionPolicy: 'Retain',
      Properties: {
        BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
        PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
        OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
        LifecycleConfiguration: { Rules: Match.arrayWith([{ Id: 'ExpireSnapshots', Prefix: 'snapshots/', ExpirationInDays: 30, Status: 'Enabled' }]) },
      },
    });
    const bucket = Object.values(template.findResources('AWS::S3::Bucket'))[0];
    expect(bucket.Properties.VersioningConfiguration).toBeUndefined();
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
  });

  test('with a key: SSE-KMS with a bucket key, and uploads asking for another encryption are refused', () => {
    const stack = newStack();
    const key = new kms.Key(stack, 'Key');
    new SnapshotStore(stack, 'Snapshots', { encryptionKey: key, expiration: Duration.days(7), keyPrefix: '' });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ BucketKeyEnabled: true, ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Key'), 'Arn'] } } }] },
      LifecycleConfiguration: { Rules: Match.arrayWith([{ Id: 'ExpireSnapshots', ExpirationInDays: 7, Status: 'Enabled' }]) },
    });
    const policy = Object.values(template.findResources('AWS::S3::BucketPolicy'))[0];
    expect(policy.Properties.PolicyDocument.Statement.map((s: any) => s.Sid).filter(Boolean)).toEqual(['DenyOtherEncryptionAlgorithms', 'DenyOtherKmsKeys', 'DenyKmsWithoutTheKey', 'DenyCustomerProvidedKeys']);
  });

  test('the pipeline\'s encryptionKey encrypts its snapshots; an existing bucket is used as it is', () => {
    const stack = newStack();
    const key = new kms.Key(stack, 'Key');
    const pipeline = new FaceStreamPipeline(stack, 'Faces', { encryptionKey: key, snapshots: true });
    expect(pipeline.snapshots!.bucket.encryptionKey).toBe(key);
    const other = newStack();
    const mine = s3.Bucket.fromBucketName(other, 'Mine', 'my-bucket');
    const withBucket = new FaceStreamPipeline(other, 'Faces', { snapshotOptions: { bucket: mine, keyPrefix: 'faces/snaps/' } });
    expect(withBucket.snapshots!.bucket).toBe(mine);
    Template.fromStack(other).resourceCountIs('AWS::S3::Bucket', 0);
  });
});

describe('grants', () => {
  test('grantPut: s3:PutObject under the prefix and the key\'s GenerateDataKey through S3; grantRead: GetObject and Decrypt through S3; nothing more', () => {
    const stack = newStack();
    const store = new SnapshotStore(stack, 'Snapshots', { encryptionKey: new kms.Key(stack, 'Key'), keyPrefix: 'snaps/' });
    const writer = new iam.Role(stack, 'Writer', { assumedBy: new iam.AccountRootPrincipal() });
    const reader = new iam.Role(stack, 'Reader', { assumedBy: new iam.AccountRootPrincipal() });
    store.grantPut(writer);
    store.grantRead(reader);
    const template = Template.fromStack(stack);
    const statements = (role: string) =>
      Object.values(template.findResources('AWS::IAM::Policy'))
        .filter((p) => JSON.stringify(p.Properties.Roles).includes(role))
        .flatMap((p) => p.Properties.PolicyDocument.Statement);
    const objects = { 'Fn::Join': ['', [{ 'Fn::GetAtt': [expect.stringMatching(/^SnapshotsBucket/), 'Arn'] }, '/snaps/*']] };
    const viaS3 = { StringEquals: { 'kms:ViaService': { 'Fn::Join': ['', ['s3.us-west-2.', { Ref: 'AWS::URLSuffix' }]] } } };
    const key = { 'Fn::GetAtt': [expect.stringMatching(/^Key/), 'Arn'] };
    expect(statements('Writer')).toEqual([
      { Effect: 'Allow', Action: 's3:PutObject', Resource: objects },
      { Effect: 'Allow', Action: 'kms:GenerateDataKey', Resource: key, Condition: viaS3 },
    ]);
    expect(statements('Reader')).toEqual([
      { Effect: 'Allow', Action: 's3:GetObject', Resource: objects },
      { Effect: 'Allow', Action: 'kms:Decrypt', Resource: key, Condition: viaS3 },
    ]);
  });
});

describe('the frame-sampling engine', () => {
  function pipeline(props: FaceStreamPipelineProps, stack = newStack()) {
    const faces = new FaceStreamPipeline(stack, 'Faces', { engine: FaceSearchEngine.frameSampling(), ...props });
    return { stack, faces, template: () => Template.fromStack(stack) };
  }
  const inputs = (template: Template) =>
    Object.values(template.findResources('AWS::Scheduler::Schedule'))
      .filter((r) => r.Properties.ScheduleExpression === 'rate(1 minute)')
      .map((s) => flat(s.Properties.Target.Input));
  /** A schedule input as text, its tokens (bucket name, key ARN) as <token>. */
  const flat = (value: unknown): string => (typeof value === 'string' ? value : (value as any)['Fn::Join'][1].map((part: unknown) => (typeof part === 'string' ? part : '<token>')).join(''));
  const samplerStatements = (template: Template) =>
    Object.entries(template.findResources('AWS::IAM::Policy'))
      .filter(([id]) => id.includes('FrameSampler'))
      .flatMap(([, p]) => p.Properties.PolicyDocument.Statement);

  test('each camera\'s schedule input carries the store, the margin and the consumer\'s window; the sampler\'s environment names no bucket', () => {
    const { template } = pipeline({ snapshots: true, consumerProps: { dedupeWindow: Duration.seconds(45) }, cameras: [{ name: 'a' }, { name: 'b' }] });
    const t = template();
    for (const input of inputs(t)) {
      expect(input).toMatch(/"snapshots":\{"bucket":"/);
      expect(input).toMatch(/"prefix":"snapshots\/","faceMargin":0.25,"quality":85,"windowSeconds":45\}/);
      expect(input).not.toMatch(/kmsKeyArn/);
    }
    const sampler = Object.values(t.findResources('AWS::Lambda::Function')).find((f) => String(f.Properties.Description).includes('samples frames'))!;
    expect(JSON.stringify(sampler.Properties.Environment)).not.toMatch(/SNAPSHOT|Snapshots/);
  });

  test('the sampler may put objects under exactly <bucket>/<prefix>*, once however many cameras; with a key, GenerateDataKey through S3 and the key named in the input', () => {
    const statementsFor = (cameras: number) => {
      const stack = newStack();
      const key = new kms.Key(stack, 'Key');
      const { template } = pipeline({ encryptionKey: key, snapshots: true, snapshotOptions: { keyPrefix: 'site-1/' }, cameras: Array.from({ length: cameras }, (_, i) => ({ name: `cam-${i}` })) }, stack);
      return { statements: samplerStatements(template()), inputs: inputs(template()) };
    };
    const one = statementsFor(1);
    const many = statementsFor(12);
    const put = one.statements.filter((s: any) => JSON.stringify(s.Action).includes('s3:'));
    expect(put).toEqual([
      {
        Sid: 'StoreSnapshots',
        Effect: 'Allow',
        Action: 's3:PutObject',
        Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [expect.stringMatching(/^FacesSnapshotsBucket/), 'Arn'] }, '/site-1/*']] },
      },
    ]);
    const kmsStatement = one.statements.find((s: any) => s.Sid === 'EncryptSnapshots');
    expect(kmsStatement).toMatchObject({ Action: 'kms:GenerateDataKey', Condition: { StringEquals: { 'kms:ViaService': 's3.us-west-2.amazonaws.com' } } });
    // the policy does not grow with cameras
    expect(JSON.stringify(many.statements).length).toBe(JSON.stringify(one.statements).length);
    expect(many.inputs).toHaveLength(12);
    expect(many.inputs[0]).toMatch(/"kmsKeyArn":"/);
  });

  test('two pipelines of one stack share the sampler: only the cameras of the one with snapshots store them, each in its own store', () => {
    const stack = newStack();
    new FaceStreamPipeline(stack, 'Private', { engine: FaceSearchEngine.frameSampling(), cameras: [{ name: 'office' }] });
    new FaceStreamPipeline(stack, 'Lobby', { engine: FaceSearchEngine.frameSampling(), snapshots: true, cameras: [{ name: 'door' }], consumerProps: { dedupeWindow: Duration.seconds(0) } });
    const all = inputs(Template.fromStack(stack));
    expect(all).toHaveLength(2);
    expect(all.find((i) => i.includes('"camera":"office"'))).not.toMatch(/snapshots/);
    expect(all.find((i) => i.includes('"camera":"door"'))).toMatch(/"windowSeconds":0\}/);
  });

  test('a site\'s cameras store their snapshots in the hub\'s store', () => {
    const app = new App();
    const hub = new FaceStreamPipeline(new Stack(app, 'Hub', { env }), 'Faces', { snapshots: true, consumerProps: { dedupeWindow: Duration.seconds(30) } });
    const siteStack = new Stack(app, 'Site', { env });
    const site = new FaceStreamPipeline(siteStack, 'Faces', { hub, engine: FaceSearchEngine.frameSampling(), cameras: [{ name: 'gate' }] });
    expect(site.snapshots).toBe(hub.snapshots);
    const siteTemplate = Template.fromStack(siteStack);
    const [input] = inputs(siteTemplate);
    expect(input).toMatch(/"snapshots":\{"bucket":"/);
    expect(input).toMatch(/"windowSeconds":30\}/);
    // the hub's bucket through a named export of the hub's stack (which the wildcard's acknowledgement names)
    const put = samplerStatements(siteTemplate).find((s: any) => s.Sid === 'StoreSnapshots');
    expect(put.Resource).toEqual({ 'Fn::Join': ['', [{ 'Fn::ImportValue': expect.stringMatching(/^Hub-HubFacesSnapshots[A-Za-z0-9]+-BucketArn$/) }, '/snapshots/*']] });
    const exports = Object.values(Template.fromStack(hub.node.scope as Stack).toJSON().Outputs).map((o: any) => o.Export?.Name).filter(Boolean);
    expect(exports).toContain(put.Resource['Fn::Join'][1][0]['Fn::ImportValue']);
  });
});
