import { RemovalPolicy } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { FaceCollection } from '../lib';
import { testStack } from './support/stacks';

describe('FaceCollection', () => {
  test('a new collection gets a generated ID and is retained by default', () => {
    const stack = testStack();
    new FaceCollection(stack, 'Faces');
    Template.fromStack(stack).hasResource('AWS::Rekognition::Collection', {
      Properties: { CollectionId: Match.stringLikeRegexp('^TestStack-Faces-[A-F0-9]{8}$') },
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
  });

  test('collectionId and removalPolicy are honoured; collectionId is a Ref so users depend on the collection', () => {
    const stack = testStack();
    const collection = new FaceCollection(stack, 'Faces', { collectionId: 'staff', removalPolicy: RemovalPolicy.DESTROY });
    Template.fromStack(stack).hasResource('AWS::Rekognition::Collection', {
      Properties: { CollectionId: 'staff' },
      DeletionPolicy: 'Delete',
    });
    expect(stack.resolve(collection.collectionId)).toEqual({ Ref: expect.stringMatching(/^Faces/) });
  });

  test('grantSearch gives SearchFaces and SearchFacesByImage on the collection only', () => {
    const stack = testStack();
    const collection = new FaceCollection(stack, 'Faces');
    const role = new iam.Role(stack, 'Searcher', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    collection.grantSearch(role);
    Template.fromStack(stack).hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: [
          {
            Action: ['rekognition:SearchFaces', 'rekognition:SearchFacesByImage'],
            Effect: 'Allow',
            Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Faces'), 'Arn'] },
          },
        ],
      },
    });
  });

  test('fromCollectionId builds the ARN in the stack account and Region', () => {
    const stack = testStack();
    const collection = FaceCollection.fromCollectionId(stack, 'Imported', 'staff');
    expect(collection.collectionId).toBe('staff');
    expect(stack.resolve(collection.collectionArn)).toEqual({
      'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':rekognition:eu-west-1:123456789012:collection/staff']],
    });
  });

  test.each([
    ['', 'collectionId must be 1-255 characters of [a-zA-Z0-9_.-], got "" (0 characters)'],
    ['my faces', 'collectionId must be 1-255 characters of [a-zA-Z0-9_.-], got "my faces" (8 characters)'],
    ['x'.repeat(256), 'collectionId must be 1-255 characters of [a-zA-Z0-9_.-]'],
  ])('rejects collectionId %j', (collectionId, message) => {
    expect(() => new FaceCollection(testStack(), 'Faces', { collectionId })).toThrow(message);
    expect(() => FaceCollection.fromCollectionId(testStack(), 'Imported', collectionId)).toThrow(message);
  });
});
