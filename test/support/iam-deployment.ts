/**
 * A synthesized app as IAM would see it once deployed: every stack (nested ones and other
 * top-level stacks too) with its intrinsics resolved to the physical names and ARNs that a test's
 * fakes use. The IAM check (iam-check.ts) takes from it what a principal may do: a role's identity
 * policies, a resource's policy (queue, bucket, key), a resource's customer-managed key, a service
 * role's trust policy.
 *
 * Names: a resource is named by the deployment's `names` (construct path pattern -> physical name,
 * or the ARN itself), else by its literal name property (TableName, QueueName, ...), else by
 * `<stack>-<logicalId>`, the way CloudFormation generates one. Fn::ImportValue resolves to the
 * exporting stack's Output, a nested stack's parameter to what its parent passes.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { App, Stack, CfnResource, NestedStack } from 'aws-cdk-lib';

export interface DeploymentOptions {
  /** The pseudo parameters every stack resolves (the fakes' account and Region). */
  readonly account: string;
  readonly region: string;
  /** [construct path pattern, physical name (or full ARN, starting `arn:`)], first match wins. */
  readonly names?: ReadonlyArray<readonly [RegExp, string]>;
}

export interface DeployedResource {
  readonly stack: DeployedStack;
  readonly logicalId: string;
  readonly type: string;
  readonly path: string;
  readonly properties: Record<string, any>;
}

interface DeployedStack {
  /** The stack's construct path. */
  readonly id: string;
  readonly name: string;
  readonly template: Record<string, any>;
  /** The AWS::CloudFormation::Stack resource of a nested stack, in its parent. */
  readonly parent?: { readonly stack: DeployedStack; readonly logicalId: string };
}

/** What a synthesized app is, as JSON (so that it can be cached between test files). */
export interface AppSnapshot {
  readonly stacks: Array<{ id: string; name: string; template: Record<string, any>; parent?: { index: number; logicalId: string } }>;
  readonly paths: Array<[string, string]>;
}

/** Synthesizes `app` once (Template.fromStack would synthesize it once per stack) and reads every template. */
export function snapshotOf(app: App): AppSnapshot {
  const assembly = app.synth();
  const all = app.node.findAll().filter((c): c is Stack => Stack.isStack(c));
  // parents before their nested stacks
  const depth = (s: Stack): number => (s.nestedStackParent ? 1 + depth(s.nestedStackParent) : 0);
  const ordered = all.sort((a, b) => depth(a) - depth(b));
  const stacks: AppSnapshot['stacks'] = ordered.map((stack) => {
    const template = JSON.parse(readFileSync(path.join(assembly.directory, stack.templateFile), 'utf8'));
    const parent = NestedStack.isNestedStack(stack)
      ? { index: ordered.indexOf(stack.nestedStackParent!), logicalId: stack.nestedStackParent!.resolve((stack.nestedStackResource as CfnResource).logicalId) }
      : undefined;
    return { id: stack.node.path, name: stack.stackName, template, parent };
  });
  const paths: Array<[string, string]> = [];
  for (const c of app.node.findAll()) {
    if (CfnResource.isCfnResource(c)) {
      const stack = Stack.of(c);
      paths.push([`${stack.node.path}#${stack.resolve(c.logicalId)}`, c.node.path]);
    }
  }
  return { stacks, paths };
}

/** Policies are documents of JSON; a value IAM cannot see (an unresolved intrinsic) throws. */
export type PolicyDocument = { Version?: string; Statement: any[] };

export interface NamedPolicy {
  readonly name: string;
  /** Writable, so that a test can plant a missing statement (test/iam-simulation.test.ts). */
  policy: PolicyDocument;
}

export class Deployment {
  public readonly account: string;
  public readonly region: string;
  private readonly stacks: DeployedStack[] = [];
  private readonly paths = new Map<string, string>();
  private readonly names: ReadonlyArray<readonly [RegExp, string]>;
  private readonly arnIndex = new Map<string, DeployedResource>();

  /** Synthesizes `app` once and reads every stack's template. */
  public static fromApp(app: App, options: DeploymentOptions): Deployment {
    return new Deployment(snapshotOf(app), options);
  }

  constructor(snapshot: AppSnapshot, options: DeploymentOptions) {
    this.account = options.account;
    this.region = options.region;
    this.names = options.names ?? [];
    for (const s of snapshot.stacks) {
      const parent = s.parent ? { stack: this.stacks[s.parent.index], logicalId: s.parent.logicalId } : undefined;
      this.stacks.push({ id: s.id, name: s.name, template: s.template, parent });
    }
    for (const [key, value] of snapshot.paths) this.paths.set(key, value);
    for (const resource of this.resources()) {
      for (const attribute of ['Arn', 'StreamArn']) {
        const arn = this.tryArn(resource, attribute);
        if (arn) this.arnIndex.set(arn, resource);
      }
    }
  }

  /** Every resource of every stack. */
  public resources(type?: string): DeployedResource[] {
    return this.stacks.flatMap((stack) =>
      Object.entries<any>(stack.template.Resources ?? {})
        .filter(([, r]) => !type || r.Type === type)
        .map(([logicalId, r]) => ({ stack, logicalId, type: r.Type, path: this.paths.get(`${stack.id}#${logicalId}`) ?? logicalId, properties: r.Properties ?? {} })),
    );
  }

  /** The one resource of `type` whose construct path matches `path`. */
  public resource(type: string, path: RegExp): DeployedResource {
    const found = this.resources(type).filter((r) => path.test(r.path));
    if (found.length !== 1) {
      throw new Error(`expected one ${type} at ${path}, found ${found.length}: ${found.map((r) => r.path).join(', ')}`);
    }
    return found[0];
  }

  /** The resource a request's ARN names (an S3 object's bucket, a KVS stream by name too). */
  public resourceOf(arn: string): DeployedResource | undefined {
    const exact = this.arnIndex.get(arn);
    if (exact) return exact;
    const bucket = /^arn:aws:s3:::([^/]+)\//.exec(arn);
    if (bucket) return this.arnIndex.get(`arn:aws:s3:::${bucket[1]}`);
    return undefined;
  }

  /** A Kinesis video stream's ARN from its name, as deployed here (its creation time is the service's). */
  public videoStreamArn(name: string): string | undefined {
    return this.resources('AWS::KinesisVideo::Stream')
      .map((r) => this.arn(r))
      .find((arn) => arn.split(':')[5]?.split('/')[1] === name);
  }

  /** What Fn::GetAtt X.Arn (or another attribute) gives. */
  public arn(resource: DeployedResource, attribute = 'Arn'): string {
    const arn = this.tryArn(resource, attribute);
    if (!arn) throw new Error(`no ${attribute} for ${resource.type} ${resource.path}`);
    return arn;
  }

  /** The role a function runs as, and the policies that role has. */
  public functionRole(path: RegExp): DeployedResource {
    const fn = this.resource('AWS::Lambda::Function', path);
    return this.roleAt(fn.stack, fn.properties.Role);
  }

  /** The role a value (a role's ARN, GetAtt or Ref) stands for. */
  public roleAt(stack: DeployedStack, value: unknown): DeployedResource {
    const arn = String(this.resolve(stack, value));
    const role = this.resources('AWS::IAM::Role').find((r) => this.arn(r) === arn);
    if (!role) throw new Error(`no role of this app has the ARN ${arn}`);
    return role;
  }

  /** The identity policies of a role: inline, attached AWS::IAM::Policy and customer-managed policies. */
  public identityPolicies(role: DeployedResource): NamedPolicy[] {
    const name = this.physicalName(role);
    const policies: NamedPolicy[] = [];
    for (const inline of role.properties.Policies ?? []) {
      policies.push({ name: `${role.path}/${inline.PolicyName}`, policy: this.resolve(role.stack, inline.PolicyDocument) });
    }
    const managedArns = new Set((this.resolve(role.stack, role.properties.ManagedPolicyArns ?? []) as string[]).map(String));
    for (const policy of [...this.resources('AWS::IAM::Policy'), ...this.resources('AWS::IAM::ManagedPolicy')]) {
      const roles = (this.resolve(policy.stack, policy.properties.Roles ?? []) as unknown[]).map(String);
      const managedArn = policy.type === 'AWS::IAM::ManagedPolicy' ? this.arn(policy) : undefined;
      if (roles.includes(name) || (managedArn && managedArns.has(managedArn))) {
        policies.push({ name: policy.path, policy: this.resolve(policy.stack, policy.properties.PolicyDocument) });
      }
    }
    return policies;
  }

  /** The resource-based policy of a resource (queue, bucket, key), if it has one here. */
  public resourcePolicy(resource: DeployedResource): PolicyDocument | undefined {
    if (resource.type === 'AWS::KMS::Key') {
      return this.resolve(resource.stack, resource.properties.KeyPolicy);
    }
    const holder: Record<string, [string, string, string]> = {
      'AWS::SQS::Queue': ['AWS::SQS::QueuePolicy', 'Queues', 'PolicyDocument'],
      'AWS::S3::Bucket': ['AWS::S3::BucketPolicy', 'Bucket', 'PolicyDocument'],
    };
    const spec = holder[resource.type];
    if (!spec) return undefined;
    const ref = this.ref(resource);
    const statements = this.resources(spec[0])
      .filter((p) => [this.resolve(p.stack, p.properties[spec[1]])].flat().map(String).includes(ref))
      .flatMap((p) => (this.resolve(p.stack, p.properties[spec[2]]) as PolicyDocument).Statement);
    return statements.length > 0 ? { Version: '2012-10-17', Statement: statements } : undefined;
  }

  /**
   * The customer-managed key a resource is encrypted with (its ARN and, when the key is in this
   * app, the key's resource), or undefined for none or an AWS-managed key.
   */
  public encryptionKey(resource: DeployedResource): { arn: string; key?: DeployedResource } | undefined {
    const p = resource.properties;
    let value: unknown;
    switch (resource.type) {
      case 'AWS::SQS::Queue':
        value = p.KmsMasterKeyId;
        break;
      case 'AWS::DynamoDB::Table':
        value = p.SSESpecification?.SSEEnabled && p.SSESpecification?.SSEType === 'KMS' ? p.SSESpecification.KMSMasterKeyId : undefined;
        break;
      case 'AWS::Kinesis::Stream':
        value = p.StreamEncryption?.EncryptionType === 'KMS' ? p.StreamEncryption.KeyId : undefined;
        break;
      case 'AWS::KinesisVideo::Stream':
        value = p.KmsKeyId;
        break;
      case 'AWS::SNS::Topic':
        value = p.KmsMasterKeyId;
        break;
      case 'AWS::S3::Bucket':
        value = p.BucketEncryption?.ServerSideEncryptionConfiguration?.[0]?.ServerSideEncryptionByDefault?.KMSMasterKeyID;
        break;
      default:
        return undefined;
    }
    if (value === undefined) return undefined;
    const id = String(this.resolve(resource.stack, value));
    if (id.startsWith('alias/aws/') || id.includes(':alias/aws/')) return undefined;
    const key = this.resources('AWS::KMS::Key').find((k) => this.arn(k) === id || this.ref(k) === id);
    return { arn: key ? this.arn(key) : id, key };
  }

  /** The physical name (what Ref gives for most types). */
  public physicalName(resource: DeployedResource): string {
    for (const [pattern, name] of this.names) {
      if (pattern.test(resource.path)) {
        return name.startsWith('arn:') ? name.split(':').slice(5).join(':').split('/').slice(1, 2)[0] ?? name : name;
      }
    }
    const literal: Record<string, string> = {
      'AWS::DynamoDB::Table': 'TableName',
      'AWS::SQS::Queue': 'QueueName',
      'AWS::Kinesis::Stream': 'Name',
      'AWS::KinesisVideo::Stream': 'Name',
      'AWS::Lambda::Function': 'FunctionName',
      'AWS::IAM::Role': 'RoleName',
      'AWS::IAM::ManagedPolicy': 'ManagedPolicyName',
      'AWS::S3::Bucket': 'BucketName',
      'AWS::Events::EventBus': 'Name',
      'AWS::Rekognition::Collection': 'CollectionId',
      'AWS::Scheduler::Schedule': 'Name',
      'AWS::SNS::Topic': 'TopicName',
      'AWS::StepFunctions::StateMachine': 'StateMachineName',
      'AWS::Logs::LogGroup': 'LogGroupName',
    };
    const property = literal[resource.type];
    const value = property ? resource.properties[property] : undefined;
    if (value !== undefined) {
      const resolved = this.resolve(resource.stack, value);
      if (typeof resolved === 'string') return resolved;
    }
    return `${resource.stack.name}-${resource.logicalId}`.slice(0, 64);
  }

  /** What Ref gives. */
  public ref(resource: DeployedResource): string {
    switch (resource.type) {
      case 'AWS::SQS::Queue':
        return `https://sqs.${this.region}.amazonaws.com/${this.account}/${this.physicalName(resource)}`;
      case 'AWS::SNS::Topic':
      case 'AWS::StepFunctions::StateMachine':
      case 'AWS::IAM::ManagedPolicy':
        return this.arn(resource);
      default:
        return this.physicalName(resource);
    }
  }

  private tryArn(resource: DeployedResource, attribute: string): string | undefined {
    for (const [pattern, name] of this.names) {
      if (pattern.test(resource.path) && name.startsWith('arn:') && attribute === 'Arn') return name;
    }
    const name = this.physicalName(resource);
    const { region, account } = this;
    const arns: Record<string, string> = {
      'AWS::DynamoDB::Table': `arn:aws:dynamodb:${region}:${account}:table/${name}`,
      'AWS::SQS::Queue': `arn:aws:sqs:${region}:${account}:${name}`,
      'AWS::Kinesis::Stream': `arn:aws:kinesis:${region}:${account}:stream/${name}`,
      'AWS::KinesisVideo::Stream': `arn:aws:kinesisvideo:${region}:${account}:stream/${name}/1700000000000`,
      'AWS::Lambda::Function': `arn:aws:lambda:${region}:${account}:function:${name}`,
      'AWS::IAM::Role': `arn:aws:iam::${account}:role${resource.properties.Path ?? '/'}${name}`,
      'AWS::IAM::ManagedPolicy': `arn:aws:iam::${account}:policy${resource.properties.Path ?? '/'}${name}`,
      'AWS::S3::Bucket': `arn:aws:s3:::${name}`,
      'AWS::Events::EventBus': `arn:aws:events:${region}:${account}:event-bus/${name}`,
      'AWS::Rekognition::Collection': `arn:aws:rekognition:${region}:${account}:collection/${name}`,
      'AWS::KMS::Key': `arn:aws:kms:${region}:${account}:key/${name}`,
      'AWS::SNS::Topic': `arn:aws:sns:${region}:${account}:${name}`,
      'AWS::StepFunctions::StateMachine': `arn:aws:states:${region}:${account}:stateMachine:${name}`,
      'AWS::Scheduler::Schedule': `arn:aws:scheduler:${region}:${account}:schedule/${resource.properties.GroupName ?? 'default'}/${name}`,
      'AWS::Events::Rule': `arn:aws:events:${region}:${account}:rule/${name}`,
      'AWS::Logs::LogGroup': `arn:aws:logs:${region}:${account}:log-group:${name}:*`,
    };
    if (attribute === 'StreamArn' && resource.type === 'AWS::DynamoDB::Table') return `${arns[resource.type]}/stream/1700000000000`;
    return attribute === 'Arn' ? arns[resource.type] : undefined;
  }

  private attribute(resource: DeployedResource, attribute: string): unknown {
    switch (attribute) {
      case 'Arn':
      case 'StreamArn':
        return this.arn(resource, attribute);
      case 'QueueName':
      case 'Name':
        return this.physicalName(resource);
      case 'QueueUrl':
        return this.ref(resource);
      case 'KeyId':
        return this.physicalName(resource);
      case 'RoleId':
        return `AROA${this.physicalName(resource).toUpperCase().replace(/[^A-Z0-9]/g, '').slice(0, 17)}`;
      default:
        if (attribute.startsWith('Outputs.') && resource.type === 'AWS::CloudFormation::Stack') {
          const nested = this.stacks.find((s) => s.parent?.stack === resource.stack && s.parent.logicalId === resource.logicalId)!;
          return this.resolve(nested, nested.template.Outputs[attribute.slice('Outputs.'.length)].Value);
        }
        throw new Error(`Fn::GetAtt ${resource.logicalId}.${attribute} (${resource.type}) is not modelled by the IAM check`);
    }
  }

  private resourceIn(stack: DeployedStack, logicalId: string): DeployedResource {
    const r = stack.template.Resources?.[logicalId];
    if (!r) throw new Error(`${stack.name} has no resource ${logicalId}`);
    return { stack, logicalId, type: r.Type, path: this.paths.get(`${stack.id}#${logicalId}`) ?? logicalId, properties: r.Properties ?? {} };
  }

  private refIn(stack: DeployedStack, name: string): unknown {
    const pseudo: Record<string, string> = {
      'AWS::Region': this.region,
      'AWS::AccountId': this.account,
      'AWS::Partition': 'aws',
      'AWS::URLSuffix': 'amazonaws.com',
      'AWS::StackName': stack.name,
    };
    if (name in pseudo) return pseudo[name];
    const parameter = stack.template.Parameters?.[name];
    if (parameter) {
      if (stack.parent) {
        const owner = stack.parent.stack.template.Resources[stack.parent.logicalId];
        return this.resolve(stack.parent.stack, owner.Properties.Parameters[name]);
      }
      return parameter.Default;
    }
    return this.ref(this.resourceIn(stack, name));
  }

  /** Resolves the intrinsics of `value` within `stack`. */
  public resolve(stack: DeployedStack, value: any): any {
    if (Array.isArray(value)) return value.map((v) => this.resolve(stack, v));
    if (value === null || typeof value !== 'object') return value;
    const keys = Object.keys(value);
    if (keys.length === 1) {
      const [fn] = keys;
      const arg = value[fn];
      switch (fn) {
        case 'Ref':
          return this.refIn(stack, arg);
        case 'Fn::GetAtt': {
          const [id, attr] = Array.isArray(arg) ? arg : String(arg).split(/\.(.*)/);
          return this.attribute(this.resourceIn(stack, id), attr);
        }
        case 'Fn::Join': {
          const [sep, parts] = arg;
          return (this.resolve(stack, parts) as unknown[]).map(String).join(sep);
        }
        case 'Fn::Select': {
          const [index, list] = arg;
          return (this.resolve(stack, list) as unknown[])[Number(this.resolve(stack, index))];
        }
        case 'Fn::Split': {
          const [sep, source] = arg;
          return String(this.resolve(stack, source)).split(sep);
        }
        case 'Fn::Sub': {
          const [text, vars] = Array.isArray(arg) ? arg : [arg, {}];
          return String(text).replace(/\$\{([^}!]+)\}/g, (_, name: string) => {
            if (name in vars) return String(this.resolve(stack, vars[name]));
            const [id, attr] = name.split(/\.(.*)/);
            return String(attr ? this.attribute(this.resourceIn(stack, id), attr) : this.refIn(stack, id));
          });
        }
        case 'Fn::ImportValue': {
          const exportName = this.resolve(stack, arg);
          for (const other of this.stacks) {
            for (const output of Object.values<any>(other.template.Outputs ?? {})) {
              if (output.Export && this.resolve(other, output.Export.Name) === exportName) return this.resolve(other, output.Value);
            }
          }
          throw new Error(`no stack of this app exports ${exportName}`);
        }
        case 'Fn::If': {
          const [condition, yes, no] = arg;
          return this.resolve(stack, this.condition(stack, condition) ? yes : no);
        }
        default:
          if (fn.startsWith('Fn::')) throw new Error(`${fn} is not modelled by the IAM check`);
      }
    }
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, this.resolve(stack, v)]));
  }

  private condition(stack: DeployedStack, name: string): boolean {
    const evaluate = (c: any): boolean => {
      const [fn] = Object.keys(c);
      const arg = c[fn];
      switch (fn) {
        case 'Fn::Equals':
          return JSON.stringify(this.resolve(stack, arg[0])) === JSON.stringify(this.resolve(stack, arg[1]));
        case 'Fn::Not':
          return !evaluate(arg[0]);
        case 'Fn::And':
          return arg.every(evaluate);
        case 'Fn::Or':
          return arg.some(evaluate);
        case 'Condition':
          return this.condition(stack, arg);
        default:
          throw new Error(`condition ${fn} is not modelled by the IAM check`);
      }
    };
    return evaluate(stack.template.Conditions[name]);
  }
}
