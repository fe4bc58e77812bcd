import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { METRICS_NAMESPACE, PROCESSOR_HEALTH_METRICS } from '../metric-names';
import { ackWildcard } from './nag';
import { handlerFunction, lambdaRole, retainedLogGroup } from './resources';
import { processorArn, processorStackPrefix } from './processor-names';
import { rootStack } from './stacks';

const HEALTH_CHECK_ID = 'cdk-face-stream-pipeline.ProcessorHealthCheck';

/** How often the health check reads the processors' statuses: the period of its metrics. */
export const HEALTH_CHECK_PERIOD = Duration.minutes(5);

/** The namespace and metric names the health check publishes (lib/runtime/processor-health). */
export const HEALTH_METRICS = {
  namespace: METRICS_NAMESPACE,
  failed: PROCESSOR_HEALTH_METRICS.FAILED,
  running: PROCESSOR_HEALTH_METRICS.RUNNING,
  dimension: PROCESSOR_HEALTH_METRICS.DIMENSION,
} as const;

/**
 * The stream processor health check of a stack, one per stack (found by a fixed id, created by
 * the first StreamProcessor): every 5 minutes a function lists the Region's processors and
 * publishes StreamProcessorFailed / StreamProcessorRunning for those whose names start with the
 * stack's processor prefix. Rekognition sends no event when a processor goes FAILED after the
 * deployment (a revoked permission, a deleted stream); this is how it becomes a metric.
 *
 * Nothing in it grows with the number of processors: its environment holds one prefix, its policy
 * one pattern.
 */
export class ProcessorHealthCheck extends Construct {
  public static getOrCreate(scope: Construct): ProcessorHealthCheck {
    const stack = rootStack(scope);
    return (stack.node.tryFindChild(HEALTH_CHECK_ID) as ProcessorHealthCheck | undefined) ?? new ProcessorHealthCheck(stack, HEALTH_CHECK_ID);
  }

  public readonly function: lambda.Function;
  public readonly role: iam.Role;
  public readonly schedule: events.Rule;
  /** The prefix of the processor names it watches. */
  public readonly namePrefix: string;

  private constructor(scope: Construct, id: string) {
    super(scope, id);
    this.namePrefix = `${processorStackPrefix(this)}-`;
    const logGroup = retainedLogGroup(this, 'Logs');
    this.role = lambdaRole(this, 'Role', 'Reads the status of the face-stream-pipeline stream processors of this stack');
    logGroup.grantWrite(this.role);

    // ListStreamProcessors supports no resource-level permission: its resource can only be "*".
    this.role.addToPolicy(new iam.PolicyStatement({ sid: 'ListStreamProcessors', actions: ['rekognition:ListStreamProcessors'], resources: ['*'] }));
    ackWildcard(
      this.role,
      '*',
      "rekognition:ListStreamProcessors supports no resource-level permission; the health check keeps only the names that start with this stack's processor prefix",
    );
    const describable = processorArn(this, `${this.namePrefix}*`);
    this.role.addToPolicy(new iam.PolicyStatement({ sid: 'DescribeThisStacksProcessors', actions: ['rekognition:DescribeStreamProcessor'], resources: [describable] }));
    ackWildcard(
      this.role,
      describable,
      "the health check describes this stack's processors only: their generated names start with the stack's processor prefix; the hashes that end them are derived at deploy time",
    );

    this.function = handlerFunction(this, 'Function', {
      asset: 'processor-health',
      description: "publishes the status of this stack's stream processors as metrics",
      role: this.role,
      logGroup,
      environment: { PROCESSOR_NAME_PREFIX: this.namePrefix, POWERTOOLS_METRICS_NAMESPACE: HEALTH_METRICS.namespace },
    });
    this.schedule = new events.Rule(this, 'Schedule', {
      description: 'face-stream-pipeline: stream processor health check',
      schedule: events.Schedule.rate(HEALTH_CHECK_PERIOD),
      targets: [new targets.LambdaFunction(this.function, { retryAttempts: 0 })],
    });
  }
}
