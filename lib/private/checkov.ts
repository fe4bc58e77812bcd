import { CfnResource } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

/**
 * Skips of checkov checks (the IaC scanner many CDK users run on cdk.out), recorded on the exact
 * resource they are about with the reason a reviewer reads: checkov reads
 * `Metadata: { checkov: { skip: [{ id, comment }] } }` of a CloudFormation resource. They stand
 * beside the cdk-nag acknowledgements (./nag.ts), and every one is listed in the README's Security
 * section; test/template-tools.test.ts runs checkov over the synthesized templates.
 */
export function skipCheckov(scope: IConstruct, id: string, comment: string): void {
  const resource = scope instanceof CfnResource ? scope : scope.node.defaultChild;
  if (!(resource instanceof CfnResource)) {
    throw new Error(`skipCheckov: ${scope.node.path} is not a CloudFormation resource nor has one as its default child`);
  }
  const existing = (resource.getMetadata('checkov') as { skip?: Array<{ id: string; comment: string }> } | undefined)?.skip ?? [];
  resource.addMetadata('checkov', { skip: [...existing.filter((s) => s.id !== id), { id, comment }] });
}

/**
 * The checks that every Lambda function of this library (and aws-cdk-lib's functions it brings:
 * the provider framework's, the bucket notifications handler) fails by design, skipped with the
 * reasons. `failures` says where a failed invocation's event goes instead of a dead-letter queue
 * (CKV_AWS_116); `environment` whether the function has environment variables (CKV_AWS_173).
 */
export function skipLambdaChecks(fn: IConstruct, failures: string, environment = true): void {
  skipCheckov(fn, 'CKV_AWS_115', 'no reserved concurrency: a reservation takes its share of the account\'s unreserved concurrency for good, and what invokes the function bounds it already (shards of the event source mappings, S3 events, schedules, deployments)');
  skipCheckov(fn, 'CKV_AWS_116', failures);
  skipCheckov(fn, 'CKV_AWS_117', 'not in a VPC: it calls only AWS service APIs and reaches nothing inside a VPC; in one it would need a NAT gateway or an interface endpoint per service');
  if (environment) {
    skipCheckov(fn, 'CKV_AWS_173', 'the environment holds resource names, ARNs and settings, no secret; Lambda encrypts it at rest with its AWS managed key');
  }
}
