import { ArnFormat, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';

/**
 * The role Rekognition assumes to read the video streams and write to the data streams. It trusts
 * rekognition.amazonaws.com only on behalf of this account's stream processors in this Region
 * (aws:SourceAccount and aws:SourceArn: the confused-deputy guard). It starts with no permissions:
 * each StreamProcessor grants exactly its own streams.
 */
export function createRekognitionServiceRole(scope: Construct, id: string): iam.Role {
  const stack = Stack.of(scope);
  return new iam.Role(scope, id, {
    description: 'Assumed by Amazon Rekognition Video stream processors to read Kinesis video streams and write face search results',
    assumedBy: new iam.ServicePrincipal('rekognition.amazonaws.com', {
      conditions: {
        StringEquals: { 'aws:SourceAccount': stack.account },
        ArnLike: {
          'aws:SourceArn': stack.formatArn({
            service: 'rekognition',
            resource: 'streamprocessor',
            resourceName: '*',
            arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
          }),
        },
      },
    }),
  });
}
