import { App, Duration, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import { AwsSolutionsChecks } from 'cdk-nag';
import { FaceSearchConsumer, FaceSearchConsumerProps, FaceSearchEngine, FaceStreamPipeline, SnapshotStore, VideoStream } from '../lib';
import { testStack } from './support/stacks';

function consumerWith(stack: Stack, props: FaceSearchConsumerProps = {}) {
  const stream = new kinesis.Stream(stack, 'Data', { shardCount: 1, encryption: kinesis.StreamEncryption.MANAGED });
  const consumer = new FaceSearchConsumer(stack, 'Consumer', props);
  consumer.addDataStream(stream, 'front-door');
  return { stream, consumer };
}

const ref = (prefix: string) => ({ 'Fn::GetAtt': [Match.stringLikeRegexp(`^${prefix}`), 'Arn'] });

describe('FaceSearchConsumer', () => {
  test('the function: bundled handler on Node.js 24 arm64, configured through its environment', () => {
    const stack = testStack();
    const { consumer } = consumerWith(stack);
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Handler: 'index.handler',
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      Environment: {
        Variables: {
          EVENT_BUS_NAME: 'default',
          CONSUMER_ID: consumer.consumerId,
          DEAD_LETTER_QUEUE_URL: { Ref: Match.stringLikeRegexp('^ConsumerDeadLetterQueue') },
          DEAD_LETTER_QUEUE_MAX_MESSAGE_BYTES: '1048576',
          DEDUPE_TABLE_NAME: { Ref: Match.stringLikeRegexp('^ConsumerDedupeTable') },
          DEDUPE_WINDOW_SECONDS: '60',
          DATA_STREAM_PREFIX: consumer.dataStreamNamePrefix,
          CAMERAS: { 'Fn::Join': ['', ['{"', { 'Fn::GetAtt': [Match.stringLikeRegexp('^Data'), 'Arn'] }, '":"front-door"}']] },
          POWERTOOLS_METRICS_NAMESPACE: 'FaceStreamPipeline',
          LIBRARY_VERSION: Match.anyValue(),
        },
      },
    });
    expect(consumer.consumerId).toMatch(/^TestStack-Consumer-[A-F0-9]{8}$/);
    expect(consumer.dataStreamNamePrefix).toBe(`${consumer.consumerId}-`);
  });

  test('event source mappings: batch item failures, bisect, bounded retries and record age, on-failure to the DLQ', () => {
    const stack = testStack();
    consumerWith(stack);
    Template.fromStack(stack).hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: ref('Data'),
      StartingPosition: 'LATEST',
      BatchSize: 100,
      BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: 3,
      MaximumRecordAgeInSeconds: 3600,
      ParallelizationFactor: 1,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      DestinationConfig: { OnFailure: { Destination: ref('ConsumerDeadLetterQueue') } },
    });
  });

  test('the DLQ is encrypted, takes 1 MiB messages and denies non-TLS access; the dedupe table is on-demand, encrypted, with a TTL', () => {
    const stack = testStack();
    consumerWith(stack);
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::SQS::Queue', { SqsManagedSseEnabled: true, MessageRetentionPeriod: 1209600, MaximumMessageSize: 1048576 });
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      PolicyDocument: {
        Statement: [
          Match.objectLike({ Effect: 'Deny', Action: 'sqs:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } }, Principal: { AWS: '*' } }),
        ],
      },
    });
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      SSESpecification: { SSEEnabled: true },
    });
  });

  test('IAM: read exactly the data stream, PutEvents of face events on the bus, SendMessage to the DLQ, PutItem/UpdateItem on the table', () => {
    const stack = testStack();
    consumerWith(stack);
    const template = Template.fromStack(stack);
    const [policy] = Object.values(template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: Match.stringLikeRegexp('^ConsumerHandlerRole') }] } }));
    const statements = stack.resolve(policy.Properties.PolicyDocument.Statement);
    expect(statements).toEqual([
      {
        Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        Effect: 'Allow',
        Resource: { 'Fn::GetAtt': [expect.stringMatching(/^ConsumerLogs/), 'Arn'] },
      },
      {
        Action: 'events:PutEvents',
        Condition: { 'ForAnyValue:StringEquals': { 'events:source': 'face-stream-pipeline' } },
        Effect: 'Allow',
        Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':events:eu-west-1:123456789012:event-bus/default']] },
      },
      // the handler's letters and the event source mappings' on-failure destination
      { Action: 'sqs:SendMessage', Effect: 'Allow', Resource: { 'Fn::GetAtt': [expect.stringMatching(/^ConsumerDeadLetterQueue/), 'Arn'] } },
      { Action: ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:BatchWriteItem'], Effect: 'Allow', Resource: { 'Fn::GetAtt': [expect.stringMatching(/^ConsumerDedupeTable/), 'Arn'] } },
      {
        // what the event source mapping reads, on this stream only (it is not named with the prefix)
        Action: [
          'kinesis:DescribeStream',
          'kinesis:DescribeStreamSummary',
          'kinesis:GetRecords',
          'kinesis:GetShardIterator',
          'kinesis:ListShards',
          'kinesis:ListStreams',
          'kinesis:SubscribeToShard',
        ],
        Effect: 'Allow',
        Resource: { 'Fn::GetAtt': [expect.stringMatching(/^Data/), 'Arn'] },
      },
    ]);
    for (const statement of statements) {
      expect(statement.Resource).not.toEqual('*');
    }
  });

  test('IAM with a customer-managed key: only the key actions each service needs, only through that service (kms:ViaService)', () => {
    const stack = testStack();
    const key = new kms.Key(stack, 'Key');
    const consumer = new FaceSearchConsumer(stack, 'Consumer', { encryptionKey: key });
    consumer.addDataStream(new kinesis.Stream(stack, 'Data', { encryption: kinesis.StreamEncryption.KMS, encryptionKey: key }), 'front-door');
    consumer.addDataStream(new kinesis.Stream(stack, 'Named', { streamName: `${consumer.dataStreamNamePrefix}lobby`, encryption: kinesis.StreamEncryption.KMS, encryptionKey: key }));
    const template = Template.fromStack(stack);
    const [policy] = Object.values(template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: Match.stringLikeRegexp('^ConsumerHandlerRole') }] } }));
    const keyStatements = (stack.resolve(policy.Properties.PolicyDocument.Statement) as any[]).filter((s) => JSON.stringify(s.Action).includes('kms:'));
    const keyArn = { 'Fn::GetAtt': [expect.stringMatching(/^Key/), 'Arn'] };
    expect(keyStatements).toEqual([
      { Action: ['kms:Decrypt', 'kms:GenerateDataKey'], Condition: { StringEquals: { 'kms:ViaService': 'sqs.eu-west-1.amazonaws.com' } }, Effect: 'Allow', Resource: keyArn },
      {
        Action: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey'],
        Condition: { StringEquals: { 'kms:ViaService': 'dynamodb.eu-west-1.amazonaws.com' } },
        Effect: 'Allow',
        Resource: keyArn,
      },
      // one statement for the data streams' keys, whatever the number of streams
      { Action: 'kms:Decrypt', Condition: { StringEquals: { 'kms:ViaService': 'kinesis.eu-west-1.amazonaws.com' } }, Effect: 'Allow', Resource: keyArn },
    ]);
  });

  test('dedupeWindow 0 turns de-duplication off and leaves out the table', () => {
    const stack = testStack();
    consumerWith(stack, { dedupeWindow: Duration.seconds(0) });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::DynamoDB::Table', 0);
    template.hasResourceProperties('AWS::Lambda::Function', { Environment: { Variables: Match.objectLike({ DEDUPE_TABLE_NAME: '', DEDUPE_WINDOW_SECONDS: '0' }) } });
  });

  test('a customer-managed key encrypts the DLQ and the table', () => {
    const stack = testStack();
    const key = new kms.Key(stack, 'Key');
    consumerWith(stack, { encryptionKey: key });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::SQS::Queue', { KmsMasterKeyId: ref('Key') });
    template.hasResourceProperties('AWS::DynamoDB::Table', { SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: ref('Key') } });
  });

  test('a given event bus receives the events and carries the rules', () => {
    const stack = testStack();
    const bus = new events.EventBus(stack, 'Bus');
    const { consumer } = consumerWith(stack, { eventBus: bus });
    consumer.onUnknownFace('Unknown');
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::Lambda::Function', { Environment: { Variables: Match.objectLike({ EVENT_BUS_NAME: { Ref: Match.stringLikeRegexp('^Bus') } }) } });
    template.hasResourceProperties('AWS::Events::Rule', { EventBusName: { Ref: Match.stringLikeRegexp('^Bus') } });
  });

  test('onFaceMatch filters on consumer, people, cameras and similarity, and sends to the target', () => {
    const stack = testStack();
    const { consumer } = consumerWith(stack);
    const topic = new sns.Topic(stack, 'Topic');
    const rule = consumer.onFaceMatch('Alice', { externalImageIds: ['alice'], cameras: ['front-door'], minSimilarity: 95, target: new targets.SnsTopic(topic) });
    expect(rule).toBeInstanceOf(events.Rule);
    Template.fromStack(stack).hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        'source': ['face-stream-pipeline'],
        'detail-type': ['Face Matched'],
        'detail': {
          consumer: [consumer.consumerId],
          camera: ['front-door'],
          match: { externalImageId: ['alice'], similarity: [{ numeric: ['>=', 95] }] },
        },
      },
      Description: 'Face matches of alice on front-door with similarity >= 95',
      Targets: [Match.objectLike({ Arn: { Ref: Match.stringLikeRegexp('^Topic') } })],
    });
  });

  test('onUnknownFace filters on Face Not Matched and cameras', () => {
    const stack = testStack();
    const { consumer } = consumerWith(stack);
    consumer.onUnknownFace('Strangers', { cameras: ['front-door'] });
    Template.fromStack(stack).hasResourceProperties('AWS::Events::Rule', {
      EventPattern: { 'source': ['face-stream-pipeline'], 'detail-type': ['Face Not Matched'], 'detail': { consumer: [consumer.consumerId], camera: ['front-door'] } },
    });
  });

  describe('validation', () => {
    test.each([
      [{ dedupeWindow: Duration.days(2) }, 'dedupeWindow (in seconds) must be a whole number from 0 to 86400, got 172800'],
      [{ batchSize: 0 }, 'batchSize must be a whole number from 1 to 10000, got 0'],
      [{ batchSize: 10001 }, 'batchSize must be a whole number from 1 to 10000, got 10001'],
      [{ maxBatchingWindow: Duration.minutes(6) }, 'maxBatchingWindow (in seconds) must be a whole number from 0 to 300, got 360'],
      [{ retryAttempts: -1 }, 'retryAttempts must be a whole number from 0 to 10000, got -1'],
      [{ maxRecordAge: Duration.seconds(30) }, 'maxRecordAge (in seconds) must be a whole number from 60 to 604800, got 30'],
      [{ maxRecordAge: Duration.days(8) }, 'maxRecordAge (in seconds) must be a whole number from 60 to 604800, got 691200'],
    ])('rejects %j', (props, message) => {
      expect(() => new FaceSearchConsumer(testStack(), 'Consumer', props)).toThrow(message);
    });

    test.each([
      [{ externalImageIds: [] }, 'externalImageIds must name at least one value when given; leave it out to match all'],
      [{ externalImageIds: ['al ice'] }, 'externalImageIds[] must be 1-255 characters of [a-zA-Z0-9_.-:], got "al ice"'],
      [{ cameras: ['front door'] }, 'cameras[] must be 1-64 characters of [a-zA-Z0-9_.-], got "front door"'],
      [{ minSimilarity: 101 }, 'minSimilarity must be a number from 0 to 100, got 101'],
    ])('onFaceMatch rejects %j', (options, message) => {
      const { consumer } = consumerWith(testStack());
      expect(() => consumer.onFaceMatch('Rule', options)).toThrow(message);
    });

    test('the same data stream cannot be consumed twice', () => {
      const stack = testStack();
      const { stream, consumer } = consumerWith(stack);
      expect(() => consumer.addDataStream(stream)).toThrow('the data stream TestStack/Data is consumed already by TestStack/Consumer');
    });

    test('a prefix-named stream whose name gives another camera than cameraName is refused', () => {
      const stack = testStack();
      const consumer = new FaceSearchConsumer(stack, 'Consumer');
      const stream = new kinesis.Stream(stack, 'Lobby', { streamName: `${consumer.dataStreamNamePrefix}lobby` });
      expect(() => consumer.addDataStream(stream, 'hall')).toThrow(
        `cameraName "hall" does not match the data stream TestStack/Lobby, whose name gives the camera "lobby" (streams named "${consumer.dataStreamNamePrefix}<camera>" carry their camera in their name): name the stream "${consumer.dataStreamNamePrefix}hall", or leave out cameraName`,
      );
    });

    test('cameraName is validated', () => {
      const stack = testStack();
      const { consumer } = consumerWith(stack);
      expect(() => consumer.addDataStream(new kinesis.Stream(stack, 'Other'), 'a/b')).toThrow('cameraName must be 1-64 characters of [a-zA-Z0-9_.-], got "a/b"');
    });
  });
});

describe('FaceStreamPipeline with its consumer', () => {
  test('attaches the consumer to every camera, those added later included, with camera names', () => {
    const stack = testStack();
    const pipeline = new FaceStreamPipeline(stack, 'Faces', { cameras: [{ name: 'front-door' }] });
    pipeline.addCamera('lobby');
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::Lambda::EventSourceMapping', 2);
    for (const camera of pipeline.cameras) {
      template.hasResourceProperties('AWS::Lambda::EventSourceMapping', { EventSourceArn: stack.resolve(camera.dataStream.streamArn) });
    }
    const [fn] = Object.values(template.findResources('AWS::Lambda::Function', { Properties: { Handler: 'index.handler' } }));
    // the pipeline names its data streams <prefix><camera>: no CAMERAS entries, the handler reads the names
    expect(fn.Properties.Environment.Variables.CAMERAS).toBe('{}');
    expect(fn.Properties.Environment.Variables.DATA_STREAM_PREFIX).toBe(pipeline.consumer!.dataStreamNamePrefix);
    for (const camera of pipeline.cameras) {
      expect(stack.resolve((camera.dataStream.node.defaultChild as kinesis.CfnStream).name)).toBe(`${pipeline.consumer!.dataStreamNamePrefix}${camera.cameraName}`);
    }
  });

  test('consumer: false leaves the consumer out, and rules then say why they cannot be made', () => {
    const stack = testStack();
    const pipeline = new FaceStreamPipeline(stack, 'Faces', { consumer: false, cameras: [{ name: 'cam' }] });
    expect(pipeline.consumer).toBeUndefined();
    Template.fromStack(stack).resourceCountIs('AWS::Lambda::EventSourceMapping', 0);
    expect(() => pipeline.onFaceMatch('Rule')).toThrow("onFaceMatch needs the pipeline's consumer, which consumer: false leaves out");
    expect(() => new FaceStreamPipeline(stack, 'Other', { consumer: false, consumerProps: {} })).toThrow(
      'consumerProps configure the consumer, which consumer: false leaves out. Remove one of them',
    );
  });

  test('consumerProps reach the consumer; the pipeline key encrypts its queue and table', () => {
    const stack = testStack();
    const key = new kms.Key(stack, 'Key');
    new FaceStreamPipeline(stack, 'Faces', { encryptionKey: key, consumerProps: { batchSize: 10 }, cameras: [{ name: 'cam' }] });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', { BatchSize: 10 });
    template.hasResourceProperties('AWS::SQS::Queue', { KmsMasterKeyId: ref('Key') });
  });

  test('pipeline rules go through the consumer; a camera a rule names must exist when the app synthesizes', () => {
    const stack = testStack();
    const pipeline = new FaceStreamPipeline(stack, 'Faces', { cameras: [{ name: 'front-door' }] });
    pipeline.onFaceMatch('Later', { cameras: ['garage'] });
    pipeline.addCamera('garage'); // added after the rule: fine
    pipeline.onUnknownFace('Typo', { cameras: ['frontdoor'] });
    expect(() => Template.fromStack(stack)).toThrow(
      'rule "Typo" names the camera "frontdoor" in cameras, which is not a camera of this pipeline (cameras: front-door, garage)',
    );
  });
});

describe('many cameras (issue 13): nothing in the environment or the role grows per prefix-named stream', () => {
  function consumerOf(streams: number, encrypted = false) {
    const stack = testStack();
    const key = encrypted ? new kms.Key(stack, 'Key') : undefined;
    const consumer = new FaceSearchConsumer(stack, 'Consumer', { encryptionKey: key });
    for (let i = 0; i < streams; i++) {
      const name = `camera-${i}`;
      const stream = new kinesis.Stream(stack, `Stream${i}`, {
        streamName: `${consumer.dataStreamNamePrefix}${name}`,
        encryption: key ? kinesis.StreamEncryption.KMS : kinesis.StreamEncryption.MANAGED,
        encryptionKey: key,
      });
      consumer.addDataStream(stream, i % 2 === 0 ? name : undefined);
    }
    const template = Template.fromStack(stack);
    const [fn] = Object.values(template.findResources('AWS::Lambda::Function', { Properties: { Handler: 'index.handler' } }));
    const [policy] = Object.values(template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: Match.stringLikeRegexp('^ConsumerHandlerRole') }] } }));
    return { template, environment: fn.Properties.Environment, policy: policy.Properties.PolicyDocument };
  }

  test.each([false, true])('100 streams give exactly the environment and policy of 1 (customer key: %s)', (encrypted) => {
    const one = consumerOf(1, encrypted);
    const hundred = consumerOf(100, encrypted);
    hundred.template.resourceCountIs('AWS::Lambda::EventSourceMapping', 100);
    expect(hundred.environment).toEqual(one.environment);
    expect(hundred.policy).toEqual(one.policy);
    expect(one.environment.Variables.CAMERAS).toBe('{}');
    // one statement reads every prefix-named stream
    expect(hundred.policy.Statement).toContainEqual({
      Action: expect.arrayContaining(['kinesis:GetRecords', 'kinesis:GetShardIterator', 'kinesis:DescribeStreamSummary', 'kinesis:ListShards', 'kinesis:SubscribeToShard']),
      Effect: 'Allow',
      Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':kinesis:eu-west-1:123456789012:stream/TestStack-Consumer-A6C8DA27-*']] },
    });
  });

  test('streams of other names keep an entry in CAMERAS and a statement each; too many fail synthesis with the limit, the count and what to do', () => {
    const stack = testStack();
    const consumer = new FaceSearchConsumer(stack, 'Consumer');
    for (let i = 0; i < 14; i++) {
      consumer.addDataStream(new kinesis.Stream(stack, `Other${i}`), `camera-${i}`);
    }
    expect(() => Template.fromStack(stack)).toThrow(
      /the environment of TestStack\/Consumer\/Handler would be about \d+ bytes, over Lambda's limit of 4096 bytes \(the JSON of all variables; each reference resolved at deployment counts 256\): 14 data streams have an entry in CAMERAS\. Name the data streams "TestStack-Consumer-A6C8DA27-<camera>" \(dataStreamNamePrefix; FaceStreamPipeline does\), which need no entry, or spread them over more consumers/,
    );
  });

  test('imported streams with concrete ARNs count their real length, so many more fit', () => {
    const stack = testStack();
    const consumer = new FaceSearchConsumer(stack, 'Consumer');
    for (let i = 0; i < 25; i++) {
      consumer.addDataStream(kinesis.Stream.fromStreamArn(stack, `Imported${i}`, `arn:aws:kinesis:eu-west-1:123456789012:stream/cam-${i}`), `cam-${i}`);
    }
    const template = Template.fromStack(stack);
    const [fn] = Object.values(template.findResources('AWS::Lambda::Function', { Properties: { Handler: 'index.handler' } }));
    expect(Object.keys(JSON.parse(fn.Properties.Environment.Variables.CAMERAS))).toHaveLength(25);
  });
});

describe('snapshots of stream-processor sightings (issue 23): the consumer reads the frames', () => {
  function pipelineOf(options: { cameras: number; snapshots?: boolean; ownVideo?: boolean; sampled?: boolean; key?: boolean }) {
    const stack = testStack();
    const pipeline = new FaceStreamPipeline(stack, 'Faces', { collectionId: 'faces', snapshots: options.snapshots, encryptionKey: options.key ? new kms.Key(stack, 'Key') : undefined });
    for (let i = 0; i < options.cameras; i++) {
      pipeline.addCamera(`camera-${i}`);
    }
    if (options.ownVideo) {
      pipeline.addCamera('garage', { videoStream: VideoStream.fromStreamArn(stack, 'GarageVideo', 'arn:aws:kinesisvideo:eu-west-1:123456789012:stream/garage/1700000000000') });
    }
    if (options.sampled) {
      pipeline.addCamera('lobby', { engine: FaceSearchEngine.frameSampling() });
    }
    const template = Template.fromStack(stack);
    const [fn] = Object.values(template.findResources('AWS::Lambda::Function', { Properties: { Description: Match.stringLikeRegexp('parses Rekognition face search records') } }));
    const [policy] = Object.values(template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: Match.stringLikeRegexp('^FacesConsumerHandlerRole') }] } }));
    const statements: any[] = policy.Properties.PolicyDocument.Statement;
    const video = statements.filter((s) => [s.Action].flat().some((a: string) => a.startsWith('kinesisvideo:')));
    return { pipeline, template, fn, statements, video };
  }
  const untaggedBySampler = { Null: { 'aws:ResourceTag/face-stream-pipeline:frame-sampler': 'true' } };
  const prefixPattern = (prefix: string) => ({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:kinesisvideo:eu-west-1:123456789012:stream/${prefix}*/*`]] });

  test('GetDataEndpoint and GetImages on the pipeline\'s own video streams (one pattern, not growing per camera) and on a camera\'s own stream; S3 puts under the prefix; 1024 MB', () => {
    const one = pipelineOf({ cameras: 1, snapshots: true, ownVideo: true });
    const many = pipelineOf({ cameras: 8, snapshots: true, ownVideo: true, sampled: true });
    const prefix = one.pipeline.streamNamePrefix;
    expect(one.video).toEqual([
      { Action: ['kinesisvideo:GetDataEndpoint', 'kinesisvideo:GetImages'], Condition: untaggedBySampler, Effect: 'Allow', Resource: prefixPattern(prefix) },
      { Action: ['kinesisvideo:GetDataEndpoint', 'kinesisvideo:GetImages'], Effect: 'Allow', Resource: 'arn:aws:kinesisvideo:eu-west-1:123456789012:stream/garage/1700000000000' },
    ]);
    // 8 cameras and a frame-sampling one (whose records bring their own snapshots): the same statements
    expect(many.video).toEqual(one.video);
    expect(many.statements).toHaveLength(one.statements.length);
    expect(one.statements).toContainEqual({
      Action: 's3:PutObject',
      Effect: 'Allow',
      Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [expect.stringMatching(/^FacesSnapshotsBucket/), 'Arn'] }, '/snapshots/*']] },
    });
    expect(one.fn.Properties.MemorySize).toBe(1024);
    expect(one.fn.Properties.Environment.Variables).toMatchObject({ SNAPSHOT_BUCKET: { Ref: expect.stringMatching(/^FacesSnapshotsBucket/) }, SNAPSHOT_PREFIX: 'snapshots/', SNAPSHOT_FACE_MARGIN: '0.25' });
  });

  test('without snapshots: no video access, no snapshot settings, 256 MB', () => {
    const off = pipelineOf({ cameras: 2, ownVideo: true });
    expect(off.video).toEqual([]);
    expect(off.fn.Properties.MemorySize).toBe(256);
    expect(Object.keys(off.fn.Properties.Environment.Variables).filter((k) => k.startsWith('SNAPSHOT_'))).toEqual([]);
    expect(off.statements.filter((s) => [s.Action].flat().some((a: string) => a.startsWith('s3:')))).toEqual([]);
  });

  test('the video streams\' customer-managed key: kms:Decrypt through Kinesis Video Streams only', () => {
    const { statements } = pipelineOf({ cameras: 2, snapshots: true, key: true });
    expect(statements).toContainEqual({
      Action: 'kms:Decrypt',
      Condition: { StringEquals: { 'kms:ViaService': 'kinesisvideo.eu-west-1.amazonaws.com' } },
      Effect: 'Allow',
      Resource: { 'Fn::GetAtt': [expect.stringMatching(/^Key/), 'Arn'] },
    });
  });

  test('a site\'s stream-processor cameras are covered by the hub consumer\'s pattern (one prefix): the hub\'s role does not change', () => {
    const policyOf = (sites: number) => {
      const app = new App();
      const hubStack = new Stack(app, `Hub${sites}`, { env: { account: '123456789012', region: 'eu-west-1' } });
      const hub = new FaceStreamPipeline(hubStack, 'Faces', { collectionId: `faces-${sites}`, snapshots: true, cameras: [{ name: 'lobby' }] });
      for (let i = 0; i < sites; i++) {
        const siteStack = new Stack(app, `Site${sites}-${i}`, { env: { account: '123456789012', region: 'eu-west-1' } });
        new FaceStreamPipeline(siteStack, 'Faces', { hub, cameras: [{ name: `door-${i}` }, { name: `yard-${i}` }] });
      }
      const template = Template.fromStack(hubStack);
      const [policy] = Object.values(template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: Match.stringLikeRegexp('^FacesConsumerHandlerRole') }] } }));
      return { hub, statements: policy.Properties.PolicyDocument.Statement as any[] };
    };
    const alone = policyOf(0);
    const withSites = policyOf(2);
    const video = (s: any[]) => s.filter((x) => [x.Action].flat().some((a: string) => a.startsWith('kinesisvideo:')));
    expect(video(withSites.statements)).toEqual([{ Action: ['kinesisvideo:GetDataEndpoint', 'kinesisvideo:GetImages'], Condition: untaggedBySampler, Effect: 'Allow', Resource: prefixPattern(withSites.hub.streamNamePrefix) }]);
    expect(video(alone.statements)).toHaveLength(1);
  });

  test('a consumer has one snapshot store', () => {
    const stack = testStack();
    const consumer = new FaceSearchConsumer(stack, 'Consumer');
    const store = new SnapshotStore(stack, 'Store');
    consumer.addSnapshots(store);
    consumer.addSnapshots(store); // the same again: nothing new
    expect(consumer.snapshots).toBe(store);
    expect(stack.resolve(consumer.metricSnapshotsFailed().toMetricConfig().metricStat)).toMatchObject({ namespace: 'FaceStreamPipeline', metricName: 'SnapshotsFailed', statistic: 'Sum', dimensions: [{ name: 'service', value: consumer.consumerId }] });
    expect(() => consumer.addSnapshots(new SnapshotStore(stack, 'Other'))).toThrow('TestStack/Consumer stores snapshots in TestStack/Store already; a consumer has one snapshot store');
  });
});

test('snapshots with a stream-processor camera need the consumer (it takes them): consumer: false fails synthesis, naming the camera and what to do', () => {
  const stack = testStack();
  expect(() => new FaceStreamPipeline(stack, 'Faces', { collectionId: 'faces', consumer: false, snapshots: true, cameras: [{ name: 'front-door' }] })).toThrow(
    'camera "front-door": the snapshots of stream-processor cameras are taken by the pipeline\'s consumer, which consumer: false leaves out; keep the consumer, give the camera engine: FaceSearchEngine.frameSampling() (which stores its own snapshots), or remove snapshots',
  );
  // frame-sampling cameras store their own
  expect(() => new FaceStreamPipeline(testStack(), 'Faces', { collectionId: 'faces', consumer: false, snapshots: true, cameras: [{ name: 'lobby', engine: FaceSearchEngine.frameSampling() }] })).not.toThrow();
});

test('cdk-nag AwsSolutions: the consumer\'s access to the frames of a pipeline taking snapshots (own and imported video streams, customer-managed key, a site) leaves no unacknowledged finding', () => {
  const app = new App();
  const env = { account: '123456789012', region: 'eu-west-1' };
  const hubStack = new Stack(app, 'Hub', { env });
  const key = new kms.Key(hubStack, 'Key', { enableKeyRotation: true });
  const hub = new FaceStreamPipeline(hubStack, 'Faces', {
    collectionId: 'faces',
    encryptionKey: key,
    snapshots: true,
    cameras: [{ name: 'a' }, { name: 'b', videoStream: VideoStream.fromStreamArn(hubStack, 'Video', 'arn:aws:kinesisvideo:eu-west-1:123456789012:stream/b/1700000000000') }],
  });
  new FaceStreamPipeline(new Stack(app, 'Site', { env }), 'Faces', { hub, cameras: [{ name: 'c' }] });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  let findings = '';
  try {
    app.synth();
  } catch (error) {
    findings = (error as Error).message;
  }
  // the snapshot store's own grant (SnapshotStore.grantPut, lib/snapshots.ts) is the store's to acknowledge;
  // nothing of the consumer's video access may be left
  expect(findings).not.toMatch(/kinesisvideo|kinesisVideo/);
  const reasons = hubStack.node.findAll().flatMap((c) => c.node.metadata.filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY).flatMap((m) => Object.entries(m.data as Record<string, string>)));
  expect(reasons).toContainEqual([expect.stringMatching(/AwsSolutions-IAM5\[Resource::arn:<AWS::Partition>:kinesisvideo:eu-west-1:123456789012:stream\/Hub-Faces-Consumer-[0-9A-F]+-\*\/\*\]$/), expect.stringContaining('GetImages of the frame of each sighting')]);
});
