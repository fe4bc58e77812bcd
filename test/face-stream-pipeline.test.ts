import { Duration } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Camera, FaceCollection, FaceStreamPipeline, VideoStream, FaceSearchEngine } from '../lib';
import { testStack } from './support/stacks';

describe('FaceStreamPipeline', () => {
  test('one line gives a collection, and per camera a video stream, an encrypted 1-shard data stream, a running processor and its own service role', () => {
    const stack = testStack();
    new FaceStreamPipeline(stack, 'Faces', { cameras: [{ name: 'front-door' }, { name: 'lobby' }] });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::Rekognition::Collection', 1);
    template.resourceCountIs('AWS::KinesisVideo::Stream', 2);
    template.resourceCountIs('AWS::Kinesis::Stream', 2);
    template.resourceCountIs('Custom::RekognitionStreamProcessor', 2);
    template.resourcePropertiesCountIs('AWS::IAM::Role', { AssumeRolePolicyDocument: { Statement: [Match.objectLike({ Principal: { Service: 'rekognition.amazonaws.com' } })] } }, 2);
    template.allResourcesProperties('AWS::Kinesis::Stream', {
      ShardCount: 1,
      RetentionPeriodHours: 24,
      StreamEncryption: { EncryptionType: 'KMS', KeyId: 'alias/aws/kinesis' },
      StreamModeDetails: { StreamMode: 'PROVISIONED' },
    });
    for (const camera of ['frontdoor', 'lobby']) {
      template.hasResourceProperties('Custom::RekognitionStreamProcessor', {
        RoleArn: { 'Fn::GetAtt': [Match.stringLikeRegexp(`^Faces${camera}StreamProcessorServiceRole`), 'Arn'] },
      });
    }
    template.allResourcesProperties('Custom::RekognitionStreamProcessor', {
      CollectionId: { Ref: Match.stringLikeRegexp('^FacesCollection') },
      FaceMatchThreshold: 80,
      Running: true,
      DataSharing: false,
    });
  });

  test('FaceSearchEngine.streamProcessor() is the default engine: naming it explicitly synthesizes the same template', () => {
    const implicit = testStack();
    new FaceStreamPipeline(implicit, 'Faces', { cameras: [{ name: 'front-door' }, { name: 'lobby', running: false }] });
    const explicit = testStack();
    new FaceStreamPipeline(explicit, 'Faces', {
      engine: FaceSearchEngine.streamProcessor(),
      cameras: [{ name: 'front-door', engine: FaceSearchEngine.streamProcessor() }, { name: 'lobby', running: false }],
    });
    expect(Template.fromStack(explicit).toJSON()).toEqual(Template.fromStack(implicit).toJSON());
  });

  test('a camera tells which engine analyses it', () => {
    const stack = testStack();
    const pipeline = new FaceStreamPipeline(stack, 'Faces', { cameras: [{ name: 'door' }] });
    expect(pipeline.cameras[0].engineName).toBe('stream-processor');
    expect(pipeline.cameras[0].streamProcessor).toBeDefined();
  });

  test('each camera\'s processor reads its own video stream and writes its own data stream', () => {
    const stack = testStack();
    const pipeline = new FaceStreamPipeline(stack, 'Faces', { cameras: [{ name: 'front-door' }, { name: 'lobby' }] });
    for (const camera of pipeline.cameras) {
      Template.fromStack(stack).hasResourceProperties('Custom::RekognitionStreamProcessor', {
        NamePrefix: Match.stringLikeRegexp(`^TestStack-[0-9a-f]{8}-Faces-${camera.cameraName}-StreamProcessor-`),
        KinesisVideoStreamArn: stack.resolve(camera.videoStream.streamArn),
        KinesisDataStreamArn: stack.resolve(camera.dataStream.streamArn),
      });
    }
  });

  test('each camera\'s service role is granted exactly its own streams', () => {
    const stack = testStack();
    new FaceStreamPipeline(stack, 'Faces', { cameras: [{ name: 'front-door' }, { name: 'lobby' }] });
    const statement = (actions: string[], logicalPrefix: string) => ({
      Action: actions,
      Effect: 'Allow',
      Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp(`^${logicalPrefix}`), 'Arn'] },
    });
    for (const camera of ['frontdoor', 'lobby']) {
      Template.fromStack(stack).hasResourceProperties('AWS::IAM::Policy', {
        Roles: [{ Ref: Match.stringLikeRegexp(`^Faces${camera}StreamProcessorServiceRole`) }],
        PolicyDocument: {
          Statement: [
            statement(['kinesisvideo:GetDataEndpoint', 'kinesisvideo:GetMedia'], `Faces${camera}VideoStream`),
            statement(['kinesis:PutRecord', 'kinesis:PutRecords'], `Faces${camera}DataStream`),
          ],
        },
      });
    }
  });

  test('addCamera returns the camera with its streams and processor; cameras lists them in order', () => {
    const stack = testStack();
    const pipeline = new FaceStreamPipeline(stack, 'Faces', { cameras: [{ name: 'front-door' }] });
    const garage = pipeline.addCamera('garage', { running: false, faceMatchThreshold: 95 });
    expect(garage).toBeInstanceOf(Camera);
    expect(pipeline.cameras.map((c) => c.cameraName)).toEqual(['front-door', 'garage']);
    expect(garage.videoStream).toBeInstanceOf(VideoStream);
    expect(garage.dataStream).toBeInstanceOf(kinesis.Stream);
    expect(garage.streamProcessor!.videoStream).toBe(garage.videoStream);
    expect(garage.streamProcessor!.dataStream).toBe(garage.dataStream);
    expect(garage.streamProcessor!.collection).toBe(pipeline.collection);
    // every camera has its own Rekognition service role
    expect(garage.streamProcessor!.role).not.toBe(pipeline.cameras[0].streamProcessor!.role);
    Template.fromStack(stack).hasResourceProperties('Custom::RekognitionStreamProcessor', {
      NamePrefix: Match.stringLikeRegexp('-garage-'),
      Running: false,
      FaceMatchThreshold: 95,
    });
  });

  test('pipeline-wide settings apply to every camera unless the camera sets its own', () => {
    const stack = testStack();
    new FaceStreamPipeline(stack, 'Faces', {
      faceMatchThreshold: 90,
      running: false,
      dataSharing: true,
      cameras: [{ name: 'a' }, { name: 'b', faceMatchThreshold: 99, running: true, dataSharing: false }],
    });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('Custom::RekognitionStreamProcessor', { NamePrefix: Match.stringLikeRegexp('-a-'), FaceMatchThreshold: 90, Running: false, DataSharing: true });
    template.hasResourceProperties('Custom::RekognitionStreamProcessor', { NamePrefix: Match.stringLikeRegexp('-b-'), FaceMatchThreshold: 99, Running: true, DataSharing: false });
  });

  test('onCamera reaches the cameras added before and after', () => {
    const stack = testStack();
    const pipeline = new FaceStreamPipeline(stack, 'Faces', { cameras: [{ name: 'a' }] });
    const seen: string[] = [];
    pipeline.onCamera({ handle: (camera) => seen.push(camera.cameraName) });
    pipeline.addCamera('b');
    expect(seen).toEqual(['a', 'b']);
  });

  test('an existing collection, role, video stream and data stream are used instead of new ones', () => {
    const stack = testStack();
    const collection = FaceCollection.fromCollectionId(stack, 'Staff', 'staff');
    const role = iam.Role.fromRoleArn(stack, 'Role', 'arn:aws:iam::123456789012:role/Rekognition', { mutable: false });
    const videoStream = VideoStream.fromStreamArn(stack, 'Video', 'arn:aws:kinesisvideo:eu-west-1:123456789012:stream/cam/1700000000000');
    const dataStream = kinesis.Stream.fromStreamArn(stack, 'Data', 'arn:aws:kinesis:eu-west-1:123456789012:stream/cam-faces');
    new FaceStreamPipeline(stack, 'Faces', { collection, engine: FaceSearchEngine.streamProcessor({ role }), cameras: [{ name: 'cam', videoStream, dataStream }] });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::Rekognition::Collection', 0);
    template.resourceCountIs('AWS::KinesisVideo::Stream', 0);
    template.resourceCountIs('AWS::Kinesis::Stream', 0);
    template.hasResourceProperties('Custom::RekognitionStreamProcessor', {
      CollectionId: 'staff',
      RoleArn: 'arn:aws:iam::123456789012:role/Rekognition',
      KinesisVideoStreamArn: 'arn:aws:kinesisvideo:eu-west-1:123456789012:stream/cam/1700000000000',
      KinesisDataStreamArn: 'arn:aws:kinesis:eu-west-1:123456789012:stream/cam-faces',
    });
  });

  test('a customer-managed key encrypts the new streams and is granted to the camera\'s service role', () => {
    const stack = testStack();
    const key = new kms.Key(stack, 'Key');
    new FaceStreamPipeline(stack, 'Faces', { encryptionKey: key, cameras: [{ name: 'cam', videoRetention: Duration.hours(2) }] });
    const template = Template.fromStack(stack);
    const keyArn = { 'Fn::GetAtt': [Match.stringLikeRegexp('^Key'), 'Arn'] };
    template.hasResourceProperties('AWS::KinesisVideo::Stream', { KmsKeyId: keyArn, DataRetentionInHours: 2 });
    template.hasResourceProperties('AWS::Kinesis::Stream', { StreamEncryption: { EncryptionType: 'KMS', KeyId: keyArn } });
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('^FacescamStreamProcessorServiceRole') }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          { Action: 'kms:Decrypt', Effect: 'Allow', Resource: keyArn },
          { Action: 'kms:GenerateDataKey', Effect: 'Allow', Resource: keyArn },
        ]),
      },
    });
  });

  test('a long invalid value is cut in the error message, which still gives its length', () => {
    const stack = testStack();
    const name = `${'x'.repeat(199)}!`;
    let message = '';
    try {
      new FaceStreamPipeline(stack, 'Faces', { cameras: [{ name }] });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toBe(`camera name must be 1-64 characters of [a-zA-Z0-9_.-], got "${'x'.repeat(36)}..." (cut) (200 characters)`);
  });

  test('rule options are events.OnEventOptions: ruleName, description, eventPattern merged, target', () => {
    const stack = testStack();
    const pipeline = new FaceStreamPipeline(stack, 'Faces', { cameras: [{ name: 'door' }] });
    pipeline.onFaceMatch('Alice', { ruleName: 'alice-at-the-door', description: 'Alice', externalImageIds: ['alice'], eventPattern: { detail: { engine: ['frame-sampling'] } } });
    Template.fromStack(stack).hasResourceProperties('AWS::Events::Rule', {
      Name: 'alice-at-the-door',
      Description: 'Alice',
      EventPattern: {
        'source': ['face-stream-pipeline'],
        'detail-type': ['Face Matched'],
        'detail': { consumer: [pipeline.consumer!.consumerId], match: { externalImageId: ['alice'] }, engine: ['frame-sampling'] },
      },
    });
  });

  test('stack outputs name what the README\'s next steps need: the stream name prefix and the enrolment bucket', () => {
    const stack = testStack();
    const pipeline = new FaceStreamPipeline(stack, 'Faces', { cameras: [{ name: 'front-door' }], enrollment: true });
    const template = Template.fromStack(stack);
    const outputs = template.toJSON().Outputs;
    const prefix = Object.entries<any>(outputs).find(([id]) => id.startsWith('FacesStreamNamePrefix'))![1];
    expect(prefix.Value).toBe(pipeline.streamNamePrefix);
    const bucket = Object.entries<any>(outputs).find(([id]) => id.startsWith('FacesEnrollmentBucketName'))![1];
    expect(bucket.Value).toEqual(stack.resolve(pipeline.enrollment!.bucket.bucketName));
    // the camera's streams are named <prefix><camera>, as the README tells a newcomer to use them
    template.hasResourceProperties('AWS::KinesisVideo::Stream', { Name: `${pipeline.streamNamePrefix}front-door` });
    template.hasResourceProperties('AWS::Kinesis::Stream', { Name: `${pipeline.streamNamePrefix}front-door` });
  });

  describe('validation', () => {
    test.each([
      [{ cameras: [{ name: 'front door' }] }, 'camera name must be 1-64 characters of [a-zA-Z0-9_.-], got "front door" (10 characters)'],
      [{ cameras: [{ name: '' }] }, 'camera name must be 1-64 characters of [a-zA-Z0-9_.-], got "" (0 characters)'],
      [{ cameras: [{ name: 'x'.repeat(65) }] }, 'camera name must be 1-64 characters of [a-zA-Z0-9_.-]'],
      [{ cameras: [{ name: 'a' }, { name: 'a' }] }, 'camera name "a" is used twice; each camera of a pipeline needs a unique name'],
      [{ cameras: [{}] }, 'cameras[0].name must be a camera name (1-64 characters of [a-zA-Z0-9_.-]), got undefined'],
      [{ faceMatchThreshold: 100.5 }, 'faceMatchThreshold must be a number from 0 to 100, got 100.5'],
      [{ cameras: [{ name: 'a', faceMatchThreshold: -5 }] }, 'faceMatchThreshold must be a number from 0 to 100, got -5'],
      [{ collectionId: 'bad id' }, 'collectionId must be 1-255 characters of [a-zA-Z0-9_.-], got "bad id" (6 characters)'],
      [{ cameras: [{ name: 'a', streamProcessorName: 'bad name' }] }, 'streamProcessorName must be 1-128 characters of [a-zA-Z0-9_.-], got "bad name"'],
      [{ cameras: [{ name: 'a', videoRetention: Duration.minutes(30) }] }, 'dataRetention (in hours) must be a whole number from 1 to 87600, got 0.5'],
    ])('rejects %j', (props, message) => {
      expect(() => new FaceStreamPipeline(testStack(), 'Faces', props as any)).toThrow(message);
    });

    test('collection and collectionId together are rejected', () => {
      const stack = testStack();
      const collection = FaceCollection.fromCollectionId(stack, 'Staff', 'staff');
      expect(() => new FaceStreamPipeline(stack, 'Faces', { collection, collectionId: 'other' })).toThrow(
        'collectionId names a new collection; it cannot be used with collection (an existing one). Remove one of them',
      );
    });

    test('videoRetention with an existing video stream is rejected', () => {
      const stack = testStack();
      const videoStream = VideoStream.fromStreamArn(stack, 'Video', 'arn:aws:kinesisvideo:eu-west-1:123456789012:stream/cam/1700000000000');
      const pipeline = new FaceStreamPipeline(stack, 'Faces');
      expect(() => pipeline.addCamera('cam', { videoStream, videoRetention: Duration.hours(1) })).toThrow(
        'Camera "cam": videoRetention applies to a new video stream only; remove it or remove videoStream',
      );
    });

    test('a camera encryptionKey with both existing streams is rejected', () => {
      const stack = testStack();
      const videoStream = VideoStream.fromStreamArn(stack, 'Video', 'arn:aws:kinesisvideo:eu-west-1:123456789012:stream/cam/1700000000000');
      const dataStream = kinesis.Stream.fromStreamArn(stack, 'Data', 'arn:aws:kinesis:eu-west-1:123456789012:stream/cam-faces');
      const pipeline = new FaceStreamPipeline(stack, 'Faces');
      expect(() => pipeline.addCamera('cam', { videoStream, dataStream, encryptionKey: new kms.Key(stack, 'Key') })).toThrow(
        'encryptionKey applies to new streams only, and both videoStream and dataStream are given; remove encryptionKey',
      );
    });

    test('more than 10 cameras warns once about the default quota of 10 stream processors', () => {
      const ten = testStack();
      new FaceStreamPipeline(ten, 'Faces', { cameras: Array.from({ length: 10 }, (_, i) => ({ name: `cam${i}` })) });
      Annotations.fromStack(ten).hasNoWarning('*', Match.stringLikeRegexp('quota'));

      const stack = testStack();
      const pipeline = new FaceStreamPipeline(stack, 'Faces', { cameras: Array.from({ length: 10 }, (_, i) => ({ name: `cam${i}` })) });
      pipeline.addCamera('cam10');
      pipeline.addCamera('cam11');
      const warnings = Annotations.fromStack(stack).findWarning('/TestStack/Faces', Match.stringLikeRegexp('default Rekognition quota is 10 stream processors'));
      expect(warnings).toHaveLength(1);
    });
  });
});
