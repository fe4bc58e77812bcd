import { ArnFormat, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { serviceRolePath } from './processor-names';

/**
 * The role Rekognition assumes to read a video stream and write to a data stream. It trusts
 * rekognition.amazonaws.com only on behalf of this account (aws:SourceAccount) and only for the
 * processors matching `processorArn` (aws:SourceArn: one processor's exact ARN, or the
 * `<NamePrefix>-*` pattern of its generated names): the confused-deputy guard, and what keeps a
 * role made for one camera from serving another camera's processor. It starts with no
 * permissions: its StreamProcessor grants exactly its own streams. Its IAM path is the stack's
 * service role path, on which the stream processor handler may pass roles.
 *
 * @param processorArn the processors that may use the role
 * @default processorArn - every stream processor of this account and Region
 */
export function createRekognitionServiceRole(scope: Construct, id: string, processorArn?: string): iam.Role {
  const stack = Stack.of(scope);
  return new iam.Role(scope, id, {
    // the stream processor handler may pass the roles under this path, and no other
    path: serviceRolePath(scope),
    description: 'Assumed by Amazon Rekognition Video stream processors to read Kinesis video streams and write face search results',
    assumedBy: new iam.ServicePrincipal('rekognition.amazonaws.com', {
      conditions: {
        StringEquals: { 'aws:SourceAccount': stack.account },
        ArnLike: {
          'aws:SourceArn': processorArn ?? stack.formatArn({ service: 'rekognition', resource: 'streamprocessor', resourceName: '*', arnFormat: ArnFormat.SLASH_RESOURCE_NAME }),
        },
      },
    }),
  });
}
