import { Match, Template } from 'aws-cdk-lib/assertions';
import { Camera, FaceCollection } from '../lib';
import { testStack } from './support/stacks';

describe('Camera', () => {
  test('used alone, a camera makes its own service role and defaults to a running processor at threshold 80', () => {
    const stack = testStack();
    const camera = new Camera(stack, 'Door', { name: 'door', collection: new FaceCollection(stack, 'Faces') });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::KinesisVideo::Stream', 1);
    template.resourceCountIs('AWS::Kinesis::Stream', 1);
    template.hasResourceProperties('Custom::RekognitionStreamProcessor', {
      RoleArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^DoorStreamProcessorServiceRole'), 'Arn'] },
      FaceMatchThreshold: 80,
      Running: true,
    });
    expect(camera.cameraName).toBe('door');
    expect(camera.streamProcessor!.role).toBeDefined();
  });

  test('the data stream is deleted with the stack: it only holds transient face search records', () => {
    const stack = testStack();
    new Camera(stack, 'Door', { name: 'door', collection: new FaceCollection(stack, 'Faces') });
    Template.fromStack(stack).hasResource('AWS::Kinesis::Stream', { DeletionPolicy: 'Delete' });
  });

  test('rejects an invalid name, naming the prop', () => {
    const stack = testStack();
    expect(() => new Camera(stack, 'Door', { name: 'front:door', collection: new FaceCollection(stack, 'Faces') })).toThrow(
      'name must be 1-64 characters of [a-zA-Z0-9_.-], got "front:door" (10 characters)',
    );
  });
});
