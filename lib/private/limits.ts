import { CfnResource, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct, IConstruct } from 'constructs';

/** AWS limits a stack of this library must respect, checked when the app synthesizes. */
export const LIMITS = {
  /** CloudFormation: resources per template. */
  resources: 500,
  /** Lambda: the environment, measured as the JSON of the whole variable map. */
  environmentBytes: 4 * 1024,
  /** IAM: the inline policies of one role, together, without white space. */
  rolePolicyCharacters: 10_240,
  /** CloudFormation: a template in S3 (how the CDK deploys large and nested templates), 1 MB, as written by the CDK. */
  templateBytes: 1_000_000,
  /** CloudFormation: parameters per template (a nested stack gets one per value of its parent it uses). */
  parameters: 200,
  /** CloudFormation: outputs per template (a nested stack gets one per value its parent uses). */
  outputs: 200,
};

/** What to do when a stack has too many cameras for a template. */
const SPLIT_CAMERAS =
  "Give the pipeline cameraStacks (cameras placed in that many nested stacks; about 40 cameras each), or put cameras in another stack with a pipeline whose hub is this one (see the README \"Limits\").";

/**
 * What a reference (Ref, Fn::GetAtt) counts for in a size measured before deployment resolves it:
 * at least as long as the values it stands for (a data stream ARN is at most 58 characters + a
 * 128-character name, a queue URL about 140, a table or bus name up to 255), so that what passes
 * here fits at deploy.
 */
export const REFERENCE_ESTIMATE = 256;
/** The longest values of pseudo parameters. */
const PSEUDO_ESTIMATES: Record<string, number> = { 'AWS::Partition': 10, 'AWS::Region': 14, 'AWS::AccountId': 12, 'AWS::URLSuffix': 16 };

/** The length of a resolved value as JSON text once deployed: references estimated, Fn::Join as the sum of its parts. */
function estimateLength(value: unknown, quoted: boolean): number {
  if (typeof value === 'string') {
    return JSON.stringify(value).length - (quoted ? 0 : 2);
  }
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) {
    return String(value).length;
  }
  if (Array.isArray(value)) {
    return 2 + value.reduce<number>((sum, item, i) => sum + (i > 0 ? 1 : 0) + estimateLength(item, true), 0);
  }
  const v = (value ?? {}) as Record<string, any>;
  const keys = Object.keys(v);
  const quotes = quoted ? 2 : 0;
  if (keys.length === 1 && keys[0] === 'Ref') {
    return (PSEUDO_ESTIMATES[v.Ref] ?? REFERENCE_ESTIMATE) + quotes;
  }
  if (keys.length === 1 && keys[0] === 'Fn::Join' && Array.isArray(v['Fn::Join'])) {
    const [separator, parts] = v['Fn::Join'] as [string, unknown[]];
    return parts.reduce<number>((sum, part) => sum + estimateLength(part, false), 0) + separator.length * Math.max(0, parts.length - 1) + quotes;
  }
  if (keys.length === 1 && keys[0].startsWith('Fn::')) {
    return REFERENCE_ESTIMATE + quotes;
  }
  return 2 + keys.reduce((sum, key, i) => sum + (i > 0 ? 1 : 0) + JSON.stringify(key).length + 1 + estimateLength(v[key], true), 0);
}

/** The size of a value once deployed: its JSON, with each reference counted as REFERENCE_ESTIMATE characters. */
export function deployedLength(scope: IConstruct, value: unknown): number {
  return estimateLength(Stack.of(scope).resolve(value), true);
}

/** The size Lambda counts for a function's environment: the JSON of the whole variable map, resolved. */
export function environmentSize(fn: lambda.Function): number {
  const cfn = fn.node.defaultChild as lambda.CfnFunction;
  const variables = (Stack.of(cfn).resolve(cfn.environment) as { variables?: unknown } | undefined)?.variables;
  return variables ? estimateLength(variables, true) : 2;
}

/** Functions that check their own environment with a message of their own (the consumer). */
const selfChecked = new WeakSet<lambda.IFunction>();

/** Leaves `fn`'s environment to its own check. */
export function checksOwnEnvironment(fn: lambda.IFunction): void {
  selfChecked.add(fn);
}

/** How a message names a stack: a nested stack's name is only known at deploy time. */
const stackLabel = (stack: Stack) => (stack.nestedStackParent ? `the nested stack ${stack.node.path}` : `the stack ${stack.stackName}`);

function resourcesOf(stack: Stack): CfnResource[] {
  return stack.node.findAll().filter((c): c is CfnResource => CfnResource.isCfnResource(c) && Stack.of(c) === stack);
}

/**
 * The limits a stack breaks: each with the limit, the count and what to do. Run as a validation of
 * the pipeline (once per stack), so that a configuration fails at synth time, not at deploy.
 */
export function stackLimitProblems(stack: Stack): string[] {
  const problems: string[] = [];
  const resources = resourcesOf(stack);
  if (resources.length > LIMITS.resources) {
    problems.push(
      `${stackLabel(stack)} has ${resources.length} resources; CloudFormation allows ${LIMITS.resources} per template. ` +
        SPLIT_CAMERAS,
    );
  }
  problems.push(...templateProblems(stack));
  for (const fn of stack.node.findAll().filter((c): c is lambda.Function => c instanceof lambda.Function && Stack.of(c) === stack && !selfChecked.has(c))) {
    const size = environmentSize(fn);
    if (size > LIMITS.environmentBytes) {
      problems.push(
        `the environment of ${fn.node.path} is about ${size} bytes (counting each reference as ${REFERENCE_ESTIMATE} characters); Lambda allows ${LIMITS.environmentBytes}. ` +
          'Give fewer data streams to this consumer without the pipeline\'s naming rule, or split the cameras across consumers.',
      );
    }
  }
  const byRole = new Map<string, number>();
  for (const policy of resources.filter((r): r is iam.CfnPolicy => r instanceof iam.CfnPolicy)) {
    const roles = (Stack.of(policy).resolve(policy.roles) as unknown[] | undefined) ?? [];
    const size = deployedLength(policy, policy.policyDocument);
    for (const role of roles) {
      const key = JSON.stringify(role);
      byRole.set(key, (byRole.get(key) ?? 0) + size);
    }
  }
  for (const [role, size] of byRole) {
    if (size > LIMITS.rolePolicyCharacters) {
      problems.push(
        `the inline policies of the role ${role} are about ${size} characters (counting each reference as ${REFERENCE_ESTIMATE}); IAM allows ${LIMITS.rolePolicyCharacters} per role. ` +
          'Split the cameras across pipelines or stacks.',
      );
    }
  }
  return problems;
}

/** The template as the CDK writes it (aws-cdk-lib's Stack._toCloudFormation, JSON with one-space indents). */
function renderTemplate(stack: Stack): Record<string, unknown> | undefined {
  const render = (stack as unknown as { _toCloudFormation?: () => Record<string, unknown> })._toCloudFormation;
  return typeof render === 'function' ? render.call(stack) : undefined;
}

/** The template's size, parameters and outputs against CloudFormation's limits. */
function templateProblems(stack: Stack): string[] {
  const template = renderTemplate(stack);
  if (!template) {
    return [];
  }
  const problems: string[] = [];
  const bytes = Buffer.byteLength(JSON.stringify(template, undefined, 1));
  if (bytes > LIMITS.templateBytes) {
    problems.push(`the template of ${stackLabel(stack)} is ${bytes} bytes; CloudFormation allows ${LIMITS.templateBytes} (1 MB). ${SPLIT_CAMERAS}`);
  }
  for (const [section, limit] of [['Parameters', LIMITS.parameters], ['Outputs', LIMITS.outputs]] as const) {
    const count = Object.keys((template[section] as object | undefined) ?? {}).length;
    if (count > limit) {
      problems.push(`the template of ${stackLabel(stack)} has ${count} ${section.toLowerCase()}; CloudFormation allows ${limit}. ${SPLIT_CAMERAS}`);
    }
  }
  return problems;
}

const CHECK_ID = 'cdk-face-stream-pipeline.LimitCheck';

/** Checks the stack's limits when the app synthesizes, once per stack however many pipelines it has. */
export function checkStackLimits(scope: IConstruct): void {
  const stack = Stack.of(scope);
  if (stack.node.tryFindChild(CHECK_ID)) {
    return;
  }
  new Construct(stack, CHECK_ID).node.addValidation({ validate: () => stackLimitProblems(stack) });
}
