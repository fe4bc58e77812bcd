import { Acknowledgment, Stack, Validations } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

/**
 * Acknowledgements of cdk-nag AwsSolutions findings, recorded on the construct they are about
 * with the reason a reviewer reads (aws-cdk-lib `Validations.of(scope).acknowledge`). Every one
 * is listed in the README's Security section.
 */
export function ack(rule: string, reason: string): Acknowledgment {
  return { id: rule, reason };
}

/**
 * A resource as cdk-nag writes it in a finding id: literal text, `<Ref>` for a reference and
 * `<LogicalId.Attribute>` for an attribute.
 */
export function nagResource(scope: IConstruct, arn: string): string {
  const render = (value: unknown): string => {
    if (typeof value === 'string') {
      return value;
    }
    const v = value as Record<string, any>;
    if (v.Ref) {
      return `<${v.Ref}>`;
    }
    if (v['Fn::GetAtt']) {
      return `<${v['Fn::GetAtt'][0]}.${v['Fn::GetAtt'][1]}>`;
    }
    if (v['Fn::ImportValue']) {
      // another stack's export, as cdk-nag names it: the export's name
      return render(v['Fn::ImportValue']);
    }
    if (v['Fn::Join']) {
      return (v['Fn::Join'][1] as unknown[]).map(render).join(v['Fn::Join'][0]);
    }
    return JSON.stringify(v);
  };
  return render(Stack.of(scope).resolve(arn));
}

/** Acknowledges one wildcard resource (AwsSolutions-IAM5) of the policies at or under `scope`. */
export function ackWildcard(scope: IConstruct, resourceArn: string, reason: string): void {
  Validations.of(scope).acknowledge(ack(`AwsSolutions-IAM5[Resource::${nagResource(scope, resourceArn)}]`, reason));
}

/** Acknowledges the AWS managed Lambda basic execution policy (AwsSolutions-IAM4) on a role aws-cdk-lib makes. */
export function ackBasicExecutionRole(scope: IConstruct, reason: string): void {
  Validations.of(scope).acknowledge(ack('AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]', reason));
}
