import { Duration, Lazy, Stack, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { Camera } from '../camera';
import { FaceSearchConsumer } from '../face-search-consumer';
import { handlerFunction, lambdaRole, retainedLogGroup } from './resources';

export interface PipelineMonitoringProps {
  readonly alarms: boolean;
  readonly alarmActions: cloudwatch.IAlarmAction[];
  readonly noVideoAlarmAfter: Duration;
  readonly iteratorAgeAlarmThreshold: Duration;
  readonly dashboard: boolean;
  readonly consumer?: FaceSearchConsumer;
}

const PERIOD = Duration.minutes(5);

/**
 * The pipeline's alarms, dashboard and processor health check. Cameras are added as the pipeline
 * gets them.
 */
export class PipelineMonitoring extends Construct {
  public readonly alarms: cloudwatch.Alarm[] = [];
  public readonly dashboard?: cloudwatch.Dashboard;
  private readonly watched: Array<{ name: string; camera: string }> = [];
  private readonly healthRole?: iam.Role;

  constructor(scope: Construct, id: string, private readonly props: PipelineMonitoringProps) {
    super(scope, id);
    if (props.dashboard) {
      this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', { defaultInterval: Duration.hours(3) });
    }
    if (props.alarms) {
      this.healthRole = this.healthCheck();
    }
    const consumer = props.consumer;
    if (consumer) {
      if (props.alarms) {
        this.alarm('ConsumerErrors', consumer.metricErrors({ period: PERIOD }), 1, 'the face search consumer failed invocations', 1);
        this.alarm(
          'ConsumerIteratorAge',
          consumer.metricIteratorAge({ period: PERIOD }),
          props.iteratorAgeAlarmThreshold.toMilliseconds(),
          `the consumer is more than ${props.iteratorAgeAlarmThreshold.toHumanString()} behind the data streams`,
          3,
        );
        this.alarm('DeadLetterQueueNotEmpty', consumer.metricDeadLetterQueueDepth({ period: PERIOD }), 1, 'records or failed batches are waiting in the dead-letter queue', 1);
      }
      this.dashboard?.addWidgets(
        new cloudwatch.TextWidget({ markdown: '### Face search consumer', width: 24, height: 1 }),
        new cloudwatch.GraphWidget({
          title: 'Faces',
          left: [consumer.metricFacesMatched(), consumer.metricUnknownFaces(), consumer.metricSightingsSuppressed()],
          width: 8,
        }),
        new cloudwatch.GraphWidget({
          title: 'Problems',
          left: [consumer.metricMalformedRecords(), consumer.metricEventsFailed(), consumer.metricErrors(), consumer.metricDeadLetterQueueDepth()],
          width: 8,
        }),
        new cloudwatch.GraphWidget({ title: 'Duration and iterator age', left: [consumer.metricDuration()], right: [consumer.metricIteratorAge()], width: 8 }),
      );
    }
  }

  public addCamera(camera: Camera, running: boolean | undefined): void {
    const name = camera.cameraName;
    this.watched.push({ name: camera.streamProcessor.streamProcessorName, camera: name });
    if (this.healthRole) {
      this.healthRole.addToPolicy(
        new iam.PolicyStatement({ actions: ['rekognition:DescribeStreamProcessor'], resources: [camera.streamProcessor.streamProcessorArn] }),
      );
    }
    const video = camera.metricVideoBytes({ period: PERIOD });
    const records = camera.metricRecords({ period: PERIOD });
    if (this.props.alarms) {
      const periods = Math.max(1, Math.round(this.props.noVideoAlarmAfter.toMinutes() / 5));
      this.alarm(`${name}-NoVideo`, video, 1, `camera ${name} sent no video for ${this.props.noVideoAlarmAfter.toHumanString()}`, periods, {
        comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.BREACHING,
      });
      this.alarm(`${name}-ProcessorFailed`, camera.metricProcessorFailed({ period: PERIOD }), 1, `the stream processor of camera ${name} is FAILED or gone`, 1);
      if (running !== false) {
        const silent = new cloudwatch.MathExpression({
          expression: 'IF(video > 0 AND FILL(records, 0) == 0, 1, 0)',
          usingMetrics: { video, records },
          period: PERIOD,
          label: `${name}: video but no records`,
        });
        this.alarm(`${name}-NoRecords`, silent, 1, `camera ${name} sends video but its processor writes no records`, 3);
      }
    }
    this.dashboard?.addWidgets(
      new cloudwatch.TextWidget({ markdown: `### Camera ${name}`, width: 24, height: 1 }),
      new cloudwatch.GraphWidget({ title: `${name}: video bytes`, left: [video], width: 6 }),
      new cloudwatch.GraphWidget({ title: `${name}: face search records`, left: [records], width: 6 }),
      new cloudwatch.GraphWidget({ title: `${name}: iterator age`, left: [camera.metricIteratorAge()], width: 6 }),
      new cloudwatch.GraphWidget({ title: `${name}: processor failed`, left: [camera.metricProcessorFailed()], width: 6 }),
    );
  }

  private alarm(
    id: string,
    metric: cloudwatch.IMetric,
    threshold: number,
    description: string,
    evaluationPeriods: number,
    options: Partial<cloudwatch.AlarmProps> = {},
  ): cloudwatch.Alarm {
    const alarm = new cloudwatch.Alarm(this, id, {
      metric,
      threshold,
      evaluationPeriods,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription: `face-stream-pipeline: ${description}`,
      ...options,
    });
    this.props.alarmActions.forEach((action) => alarm.addAlarmAction(action));
    this.alarms.push(alarm);
    return alarm;
  }

  /**
   * Every 5 minutes, reads each processor's status and publishes it as a metric: a processor can
   * go FAILED long after the deployment (a revoked permission, a deleted stream), and Rekognition
   * sends no event for it.
   */
  private healthCheck(): iam.Role {
    const logGroup = retainedLogGroup(this, 'HealthCheckLogs');
    const role = lambdaRole(this, 'HealthCheckRole', 'Reads the status of the face-stream-pipeline stream processors');
    logGroup.grantWrite(role);
    const fn = handlerFunction(this, 'HealthCheck', {
      asset: 'stream-processor',
      handler: 'index.health',
      description: 'publishes the status of every stream processor as a metric',
      role,
      logGroup,
      environment: {
        METRICS_NAMESPACE: 'FaceStreamPipeline',
        PROCESSORS: Lazy.string({ produce: () => Stack.of(this).toJsonString(this.watched) }),
      },
    });
    new events.Rule(this, 'HealthCheckSchedule', {
      description: 'face-stream-pipeline: stream processor health check',
      schedule: events.Schedule.rate(PERIOD),
      targets: [new targets.LambdaFunction(fn, { retryAttempts: 0 })],
    });
    return role;
  }
}

/** Minutes of a duration, rejecting what is not a whole number of 5-minute periods. */
export function validateAlarmPeriod(prop: string, value: Duration | undefined): void {
  if (value === undefined || Token.isUnresolved(value.toMinutes({ integral: false }))) {
    return;
  }
  const minutes = value.toMinutes({ integral: false });
  if (minutes < 5 || minutes > 1440 || minutes % 5 !== 0) {
    throw new Error(`${prop} must be a whole number of 5-minute periods from 5 minutes to 1 day, got ${value.toHumanString()}`);
  }
}
