import { createHash } from 'node:crypto';
import { ArnFormat, Duration, Names, Stack, Token, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { skipCheckov, skipLambdaChecks } from './checkov';
import { ack, ackWildcard } from './nag';
import { handlerFunction, lambdaRole, retainedLogGroup } from './resources';
import { rootRelativePath, rootStack } from './stacks';

/** How long isComplete may wait for a processor before failing with the state it is stuck in. */
export const WAIT_TIMEOUT = Duration.minutes(25);

const PROVIDER_ID = 'cdk-face-stream-pipeline.StreamProcessorProvider';

const hash8 = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 8);
const nameSafe = (text: string) => text.replace(/[^a-zA-Z0-9_.-]/g, '');

/**
 * The prefix of every generated processor name of a stack: `<stack name, at most 40 characters>-<8
 * hex digits of its hash>`. IAM (the health check's DescribeStreamProcessor) and the health check's
 * name filter use it; the hash keeps stack "Prod" from matching stack "Prod-EU"'s processors.
 */
export function processorStackPrefix(scope: Construct): string {
  // the root stack's: processors in the pipeline's nested stacks share its provider and health check
  const stack = rootStack(scope);
  // a nested stack's name is a token: its construct path identifies it instead
  const name = Token.isUnresolved(stack.stackName) ? Names.uniqueId(stack) : stack.stackName;
  return `${nameSafe(name).slice(0, 40) || 'Stack'}-${hash8(name)}`;
}

/**
 * The NamePrefix of a processor: `<stack prefix>-<construct path in the stack, cut to fit>-<8 hex
 * digits of that path's hash>`, at most 100 characters. The handler appends `-<12 hex digits>`.
 */
export function processorNamePrefix(scope: Construct): string {
  const stackPrefix = processorStackPrefix(scope);
  const path = rootRelativePath(scope);
  const hash = hash8(path).toUpperCase();
  const room = 100 - stackPrefix.length - hash.length - 2;
  const human = path.split('/').map(nameSafe).filter((part) => part.length > 0).join('-');
  const cut = human.length > room ? `${human.slice(0, Math.floor(room / 2))}${human.slice(human.length - Math.ceil(room / 2))}` : human;
  return `${stackPrefix}-${cut ? `${cut}-` : ''}${hash}`;
}

/** The ARN of the stream processor(s) named `name` (a name or a `prefix*` pattern). */
export function processorArn(scope: Construct, name: string): string {
  return Stack.of(scope).formatArn({ service: 'rekognition', resource: 'streamprocessor', resourceName: name, arnFormat: ArnFormat.SLASH_RESOURCE_NAME });
}

/**
 * The IAM path of the service roles this library creates in a stack: iam:PassRole is granted on
 * `role<path>*`, one pattern whatever the number of roles, and no other stack's roles.
 */
export function serviceRolePath(scope: Construct): string {
  return `/face-stream-pipeline/${processorStackPrefix(scope)}/`;
}

/** What the handler does with processors. */
export const MANAGE_PROCESSOR_ACTIONS = [
  'rekognition:CreateStreamProcessor',
  'rekognition:DescribeStreamProcessor',
  'rekognition:StartStreamProcessor',
  'rekognition:StopStreamProcessor',
  'rekognition:UpdateStreamProcessor',
  'rekognition:DeleteStreamProcessor',
  'rekognition:TagResource',
  'rekognition:UntagResource',
];

/**
 * One custom resource provider per stack for every StreamProcessor in it (found by a fixed id in
 * the construct tree, never module state). Its permissions are patterns, not lists, so that no
 * update withdraws a permission a processor still needs: a processor removed, renamed or moved is
 * deleted in CloudFormation's clean-up phase, after the UPDATE phase that changes policies. Every
 * processor resource depends on `policy` (`ProcessorAccess`), which is constant:
 * - the stream processor actions on `streamprocessor/<stack prefix>-*`: every generated name;
 * - iam:PassRole on `role/face-stream-pipeline/<stack prefix>/*`: every service role created here;
 * - rekognition:CreateStreamProcessor on the collections used (one entry per distinct collection,
 *   not per processor).
 * A processor outside these patterns (a fixed name outside the prefix, a role given by the user)
 * adds a policy of its own (see StreamProcessor).
 */
export class StreamProcessorProvider extends Construct {
  public static getOrCreate(scope: Construct): StreamProcessorProvider {
    const stack = rootStack(scope);
    return (stack.node.tryFindChild(PROVIDER_ID) as StreamProcessorProvider | undefined) ?? new StreamProcessorProvider(stack, PROVIDER_ID);
  }

  public readonly serviceToken: string;
  /** The role of the onEvent and isComplete functions. */
  public readonly handlerRole: iam.Role;
  /** The handler's processor permissions (constant size); every processor resource depends on it. */
  public readonly policy: iam.Policy;
  private readonly collectionStatement: iam.PolicyStatement;
  private readonly collections = new Set<string>();

  private constructor(scope: Construct, id: string) {
    super(scope, id);

    const logGroup = retainedLogGroup(this, 'HandlerLogs');
    this.handlerRole = lambdaRole(this, 'HandlerRole', 'Runs the face-stream-pipeline stream processor custom resource handler');
    // Logs go to the one log group above, not to any log group (no AWSLambdaBasicExecutionRole).
    logGroup.grantWrite(this.handlerRole);

    const common = {
      asset: 'stream-processor',
      role: this.handlerRole,
      logGroup,
      environment: { LOG_LEVEL: 'INFO' },
      extra: { timeout: Duration.minutes(2) },
    };
    const onEvent = handlerFunction(this, 'OnEvent', {
      ...common,
      handler: 'index.onEvent',
      description: 'creates, starts, updates, stops and deletes Rekognition stream processors',
    });
    const isComplete = handlerFunction(this, 'IsComplete', {
      ...common,
      handler: 'index.isComplete',
      description: 'waits for Rekognition stream processors to reach the desired status',
    });

    // The framework's own functions and waiter state machine: roles without managed policies,
    // logs with a retention.
    const frameworkLogs = retainedLogGroup(this, 'FrameworkLogs');
    const frameworkOnEventRole = lambdaRole(this, 'FrameworkOnEventRole', 'Runs the provider framework onEvent function of face-stream-pipeline');
    const frameworkWaiterRole = lambdaRole(this, 'FrameworkWaiterRole', 'Runs the provider framework isComplete and onTimeout functions of face-stream-pipeline');
    frameworkLogs.grantWrite(frameworkOnEventRole);
    frameworkLogs.grantWrite(frameworkWaiterRole);
    const waiterLogs = retainedLogGroup(this, 'WaiterLogs');
    const provider = new cr.Provider(this, 'Provider', {
      onEventHandler: onEvent,
      isCompleteHandler: isComplete,
      queryInterval: Duration.seconds(10),
      totalTimeout: WAIT_TIMEOUT.plus(Duration.minutes(5)),
      frameworkOnEventRole,
      frameworkCompleteAndTimeoutRole: frameworkWaiterRole,
      logGroup: frameworkLogs,
      disableWaiterStateMachineLogging: false,
      waiterStateMachineLogOptions: { destination: waiterLogs, level: sfn.LogLevel.ALL, includeExecutionData: false },
    });
    // aws-cdk-lib's Provider grants lambda:InvokeFunction on "<function arn>:*" (the function's
    // versions and aliases) for each function it calls, and no other function.
    const invokes = 'lambda:InvokeFunction on the versions and aliases (":*") of this function only, as granted by aws-cdk-lib\'s custom resource Provider';
    for (const role of [frameworkOnEventRole, frameworkWaiterRole]) {
      ackWildcard(role, `${onEvent.functionArn}:*`, invokes);
      ackWildcard(role, `${isComplete.functionArn}:*`, invokes);
    }
    const waiter = provider.node.findChild('waiter-state-machine');
    // Step Functions' log delivery actions (logs:CreateLogDelivery, GetLogDelivery, UpdateLogDelivery,
    // DeleteLogDelivery, ListLogDeliveries, PutResourcePolicy, DescribeResourcePolicies,
    // DescribeLogGroups) support no resource-level permissions: aws-cdk-lib grants them on "*".
    Validations.of(waiter).acknowledge(
      ack(
        'AwsSolutions-IAM5[Resource::*]',
        'CloudWatch Logs delivery for the waiter state machine: logs:CreateLogDelivery, GetLogDelivery, UpdateLogDelivery, DeleteLogDelivery, ListLogDeliveries, PutResourcePolicy, DescribeResourcePolicies and DescribeLogGroups support no resource-level permissions',
      ),
    );
    for (const framework of ['framework-isComplete', 'framework-onTimeout']) {
      ackWildcard(waiter, `${(provider.node.findChild(framework) as lambda.IFunction).functionArn}:*`, invokes);
    }
    skipCheckov(
      waiter.node.findChild('Role').node.findChild('DefaultPolicy').node.defaultChild!,
      'CKV_AWS_111',
      'CloudWatch Logs delivery for the waiter state machine (logs:CreateLogDelivery, UpdateLogDelivery, DeleteLogDelivery, PutResourcePolicy) supports no resource-level permissions, so aws-cdk-lib grants it on "*"',
    );
    for (const framework of ['framework-onEvent', 'framework-isComplete', 'framework-onTimeout']) {
      skipLambdaChecks(provider.node.findChild(framework), 'aws-cdk-lib\'s provider framework function: invoked synchronously by CloudFormation\'s custom resource call or the waiter state machine, which report a failure to CloudFormation; no event waits to be retried');
    }
    // X-Ray on a state machine that only polls isComplete every 10 seconds costs more than it tells.
    Validations.of(provider).acknowledge(ack('AwsSolutions-SF2', 'the waiter state machine only polls isComplete; every state change is logged, and failures fail the deployment with the reason'));
    this.serviceToken = provider.serviceToken;

    const processors = processorArn(this, `${processorStackPrefix(this)}-*`);
    const roles = Stack.of(this).formatArn({ service: 'iam', region: '', resource: 'role', resourceName: `${serviceRolePath(this).slice(1)}*`, arnFormat: ArnFormat.SLASH_RESOURCE_NAME });
    this.collectionStatement = new iam.PolicyStatement({ sid: 'CreateStreamProcessorsOnCollections', actions: ['rekognition:CreateStreamProcessor'] });
    this.policy = new iam.Policy(this, 'ProcessorAccess', {
      roles: [this.handlerRole],
      statements: [
        new iam.PolicyStatement({ sid: 'ManageThisStacksStreamProcessors', actions: MANAGE_PROCESSOR_ACTIONS, resources: [processors] }),
        new iam.PolicyStatement({
          sid: 'PassThisStacksServiceRoles',
          actions: ['iam:PassRole'],
          resources: [roles],
          conditions: { StringEquals: { 'iam:PassedToService': 'rekognition.amazonaws.com' } },
        }),
        this.collectionStatement,
      ],
    });
    ackWildcard(
      this.policy,
      processors,
      "the stream processors of this stack: their generated names start with the stack's processor prefix and end in hashes the handler derives at deploy time; one pattern, so that no update withdraws the permission to stop and delete a processor that CloudFormation deletes later, in its clean-up phase",
    );
    ackWildcard(
      this.policy,
      roles,
      'iam:PassRole, only to rekognition.amazonaws.com, on the service roles created in this stack (one per processor, under this IAM path): a pattern that does not grow with the number of processors',
    );
  }

  /** Lets the handler create processors on this collection (one entry per distinct collection). */
  public allowCollection(collectionArn: string): void {
    const key = JSON.stringify(Stack.of(this).resolve(collectionArn));
    if (!this.collections.has(key)) {
      this.collections.add(key);
      this.collectionStatement.addResources(collectionArn);
    }
  }
}
