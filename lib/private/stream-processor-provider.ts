import { Duration, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { ack, ackWildcard } from './nag';
import { handlerFunction, lambdaRole, retainedLogGroup } from './resources';

/** How long isComplete may wait for a processor before failing with the state it is stuck in. */
export const WAIT_TIMEOUT = Duration.minutes(25);

const PROVIDER_ID = 'cdk-face-stream-pipeline.StreamProcessorProvider';

/**
 * One custom resource provider per stack for every StreamProcessor in it (found by a fixed id in
 * the construct tree, never module state). Its permissions live in one policy that each processor
 * resource depends on, so they outlive the processors while a stack is deleted.
 */
export class StreamProcessorProvider extends Construct {
  public static getOrCreate(scope: Construct): StreamProcessorProvider {
    const stack = Stack.of(scope);
    return (stack.node.tryFindChild(PROVIDER_ID) as StreamProcessorProvider | undefined) ?? new StreamProcessorProvider(stack, PROVIDER_ID);
  }

  public readonly serviceToken: string;
  /** The permissions the handler needs on the processors; every processor depends on it. */
  public readonly policy: iam.Policy;
  public readonly handlerRole: iam.Role;

  private readonly processorStatement: iam.PolicyStatement;
  private readonly collectionStatement: iam.PolicyStatement;
  private readonly passRoleStatement: iam.PolicyStatement;
  private readonly registered = new Set<string>();

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
    // X-Ray on a state machine that only polls isComplete every 10 seconds costs more than it tells.
    Validations.of(provider).acknowledge(ack('AwsSolutions-SF2', 'the waiter state machine only polls isComplete; every state change is logged, and failures fail the deployment with the reason'));
    this.serviceToken = provider.serviceToken;

    this.processorStatement = new iam.PolicyStatement({
      sid: 'ManageStreamProcessors',
      actions: [
        'rekognition:CreateStreamProcessor',
        'rekognition:DescribeStreamProcessor',
        'rekognition:StartStreamProcessor',
        'rekognition:StopStreamProcessor',
        'rekognition:UpdateStreamProcessor',
        'rekognition:DeleteStreamProcessor',
        'rekognition:TagResource',
        'rekognition:UntagResource',
      ],
    });
    this.collectionStatement = new iam.PolicyStatement({
      sid: 'CreateStreamProcessorsOnCollections',
      actions: ['rekognition:CreateStreamProcessor'],
    });
    this.passRoleStatement = new iam.PolicyStatement({
      sid: 'PassServiceRoleToRekognition',
      actions: ['iam:PassRole'],
      conditions: { StringEquals: { 'iam:PassedToService': 'rekognition.amazonaws.com' } },
    });
    this.policy = new iam.Policy(this, 'ProcessorAccess', { roles: [this.handlerRole] });
  }

  /**
   * Lets the handler manage processors matching `processorArn` (an exact ARN or a `prefix-*`
   * pattern), create them on `collectionArn` and pass `roleArn` to Rekognition.
   */
  public allow(processorArn: string, collectionArn: string, roleArn: string): void {
    const add = (statement: iam.PolicyStatement, arn: string) => {
      const key = `${statement.sid}|${JSON.stringify(Stack.of(this).resolve(arn))}`;
      if (this.registered.has(key)) {
        return;
      }
      this.registered.add(key);
      statement.addResources(arn);
      if (statement.resources.length === 1) {
        this.policy.addStatements(statement);
      }
    };
    add(this.processorStatement, processorArn);
    if (processorArn.endsWith('-*')) {
      ackWildcard(
        this.policy,
        processorArn,
        'a processor with a generated name is matched by "streamprocessor/<its construct-path prefix>-*": the name ends in a hash the handler derives at deploy time, so only the prefix is known at synth time',
      );
    }
    add(this.collectionStatement, collectionArn);
    add(this.passRoleStatement, roleArn);
  }
}
