import { ArnFormat, Duration, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as cr from 'aws-cdk-lib/custom-resources';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct, IConstruct } from 'constructs';
import { skipCheckov, skipLambdaChecks } from './checkov';
import { ack, ackWildcard } from './nag';
import { processorArn, processorStackPrefix, serviceRolePath } from './processor-names';
import { handlerFunction, lambdaRole, retainedLogGroup } from './resources';
import { rootStack } from './stacks';

/** How long isComplete may wait for a processor before failing with the state it is stuck in. */
export const WAIT_TIMEOUT = Duration.minutes(25);

const PROVIDER_ID = 'cdk-face-stream-pipeline.StreamProcessorProvider';

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
      // logging is configured below: aws-cdk-lib's would also grant logs:CreateLogStream and
      // logs:PutLogEvents on "*", which Step Functions' vended log delivery does not use
      disableWaiterStateMachineLogging: true,
    });
    // aws-cdk-lib's Provider grants lambda:InvokeFunction on "<function arn>:*" (the function's
    // versions and aliases) for each function it calls, and no other function.
    const invokes = 'lambda:InvokeFunction on the versions and aliases (":*") of this function only, as granted by aws-cdk-lib\'s custom resource Provider';
    for (const role of [frameworkOnEventRole, frameworkWaiterRole]) {
      ackWildcard(role, `${onEvent.functionArn}:*`, invokes);
      ackWildcard(role, `${isComplete.functionArn}:*`, invokes);
    }
    const waiter = provider.node.findChild('waiter-state-machine');
    logWaiter(waiter, waiterLogs);
    // Step Functions' log delivery actions (logs:CreateLogDelivery, GetLogDelivery, UpdateLogDelivery,
    // DeleteLogDelivery, ListLogDeliveries, PutResourcePolicy, DescribeResourcePolicies,
    // DescribeLogGroups) support no resource-level permissions.
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

/**
 * The waiter state machine's logging, as aws-cdk-lib's Provider would configure it (every state
 * change to `logGroup`, without execution data) but with only the permissions Step Functions' vended
 * log delivery uses: the log delivery actions, which support no resource-level permission. The
 * delivery itself writes the log streams with the service's own credentials, so the role gets no
 * logs:CreateLogStream or logs:PutLogEvents. Its trust policy also gets the confused-deputy
 * conditions Step Functions supports (the account, and a state machine of this account and Region).
 */
function logWaiter(waiter: IConstruct, logGroup: logs.ILogGroup): void {
  const stack = Stack.of(waiter);
  const role = waiter.node.findChild('Role') as iam.Role;
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      sid: 'VendedLogDelivery',
      actions: [
        'logs:CreateLogDelivery',
        'logs:GetLogDelivery',
        'logs:UpdateLogDelivery',
        'logs:DeleteLogDelivery',
        'logs:ListLogDeliveries',
        'logs:PutResourcePolicy',
        'logs:DescribeResourcePolicies',
        'logs:DescribeLogGroups',
      ],
      resources: ['*'],
    }),
  );
  const cfnRole = role.node.defaultChild as iam.CfnRole;
  cfnRole.addPropertyOverride('AssumeRolePolicyDocument.Statement.0.Condition', {
    StringEquals: { 'aws:SourceAccount': stack.account },
    ArnLike: { 'aws:SourceArn': stack.formatArn({ service: 'states', resource: 'stateMachine', resourceName: '*', arnFormat: ArnFormat.COLON_RESOURCE_NAME }) },
  });
  const machine = waiter.node.findChild('Resource') as sfn.CfnStateMachine;
  machine.loggingConfiguration = {
    destinations: [{ cloudWatchLogsLogGroup: { logGroupArn: logGroup.logGroupArn } }],
    includeExecutionData: false,
    level: sfn.LogLevel.ALL,
  };
}
