import { Duration, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';

type MetricOf = (props?: cloudwatch.MetricOptions) => cloudwatch.IMetric;

/** What monitoring reads of a camera. */
export interface MonitoredCamera {
  readonly cameraName: string;
  readonly streamProcessor?: unknown;
  readonly engineHealthDescription: string;
  metricVideoBytes: MetricOf;
  metricRecords: MetricOf;
  metricIteratorAge: MetricOf;
  metricEngineHealth(): cloudwatch.IMetric;
}

/** What monitoring reads of a consumer. */
export interface MonitoredConsumer {
  metricErrors: MetricOf;
  metricIteratorAge: MetricOf;
  metricDeadLetterQueueDepth: MetricOf;
  metricFacesMatched: MetricOf;
  metricUnknownFaces: MetricOf;
  metricDedupedSightings: MetricOf;
  metricMalformedRecords: MetricOf;
  metricEventsFailed: MetricOf;
  metricDuration: MetricOf;
}

export interface PipelineMonitoringProps {
  readonly alarms: boolean;
  readonly alarmActions: cloudwatch.IAlarmAction[];
  readonly noVideoAlarmAfter: Duration;
  readonly iteratorAgeAlarmThreshold: Duration;
  readonly dashboard: boolean;
  readonly consumer?: MonitoredConsumer;
}

const PERIOD = Duration.minutes(5);

/**
 * The pipeline's alarms and dashboard. Cameras are added as the pipeline gets them; each camera's
 * engine publishes the health metric its alarm reads.
 */
export class PipelineMonitoring extends Construct {
  public readonly alarms: cloudwatch.Alarm[] = [];
  public readonly dashboard?: cloudwatch.Dashboard;

  private widgets = 0;

  constructor(scope: Construct, id: string, private readonly props: PipelineMonitoringProps) {
    super(scope, id);
    this.node.addValidation({ validate: () => this.validateDashboard() });
    if (props.dashboard) {
      this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', { defaultInterval: Duration.hours(3) });
    }
    const consumer = props.consumer;
    if (consumer) {
      if (props.alarms) {
        this.alarm(this, 'ConsumerErrors', consumer.metricErrors({ period: PERIOD }), 1, 'the face search consumer failed invocations', 1);
        this.alarm(
          this,
          'ConsumerIteratorAge',
          consumer.metricIteratorAge({ period: PERIOD }),
          props.iteratorAgeAlarmThreshold.toMilliseconds(),
          `the consumer is more than ${props.iteratorAgeAlarmThreshold.toHumanString()} behind the data streams`,
          3,
        );
        this.alarm(this, 'DeadLetterQueueNotEmpty', consumer.metricDeadLetterQueueDepth({ period: PERIOD }), 1, 'records or failed batches are waiting in the dead-letter queue', 1);
      }
      this.addWidgets(
        new cloudwatch.TextWidget({ markdown: '### Face search consumer', width: 24, height: 1 }),
        new cloudwatch.GraphWidget({
          title: 'Faces',
          left: [consumer.metricFacesMatched(), consumer.metricUnknownFaces(), consumer.metricDedupedSightings()],
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

  /**
   * The camera's alarms (in `alarmScope`: the camera's nested stack when it has one, so that they
   * count there) and dashboard row.
   */
  public addCamera(camera: MonitoredCamera, running: boolean | undefined, scheduled: boolean, alarmScope: Construct = this): void {
    const name = camera.cameraName;
    const video = camera.metricVideoBytes({ period: PERIOD });
    const records = camera.metricRecords({ period: PERIOD });
    if (this.props.alarms) {
      const periods = Math.max(1, Math.round(this.props.noVideoAlarmAfter.toMinutes() / 5));
      this.alarm(alarmScope, `${name}-NoVideo`, video, 1, `camera ${name} sent no video for ${this.props.noVideoAlarmAfter.toHumanString()}`, periods, {
        comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.BREACHING,
      });
      const health = camera.metricEngineHealth();
      // A sampler that stopped publishes nothing at all, and metric math cannot FILL a period without
      // any data point: for a camera that should always be sampled, missing data is a breach.
      const alwaysOn = !camera.streamProcessor && running !== false && !scheduled;
      this.alarm(alarmScope, `${name}-${camera.streamProcessor ? 'ProcessorFailed' : 'EngineUnhealthy'}`, health, 1, camera.engineHealthDescription, 1, {
        treatMissingData: alwaysOn ? cloudwatch.TreatMissingData.BREACHING : cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      if (running !== false) {
        const silent = new cloudwatch.MathExpression({
          expression: 'IF(video > 0 AND FILL(records, 0) == 0, 1, 0)',
          usingMetrics: { video, records },
          period: PERIOD,
          label: `${name}: video but no records`,
        });
        this.alarm(alarmScope, `${name}-NoRecords`, silent, 1, `camera ${name} sends video but its processor writes no records`, 3);
      }
    }
    // one row of four graphs per camera, its name in their titles: 100 cameras are 400 widgets of
    // the 500 a dashboard may have
    this.addWidgets(
      new cloudwatch.GraphWidget({ title: `${name}: video bytes`, left: [video], width: 6 }),
      new cloudwatch.GraphWidget({ title: `${name}: face search records`, left: [records], width: 6 }),
      new cloudwatch.GraphWidget({ title: `${name}: iterator age`, left: [camera.metricIteratorAge()], width: 6 }),
      new cloudwatch.GraphWidget({ title: `${name}: engine health`, left: [camera.metricEngineHealth()], width: 6 }),
    );
  }

  private addWidgets(...widgets: cloudwatch.IWidget[]): void {
    if (this.dashboard) {
      this.dashboard.addWidgets(...widgets);
      this.widgets += widgets.length;
    }
  }

  /** CloudWatch: widgets per dashboard. */
  private static readonly MAX_WIDGETS = 500;

  private validateDashboard(): string[] {
    return this.widgets > PipelineMonitoring.MAX_WIDGETS
      ? [
          `the dashboard has ${this.widgets} widgets (four per camera); CloudWatch allows ${PipelineMonitoring.MAX_WIDGETS} per dashboard. ` +
            'Turn dashboard off, or put cameras in pipelines of their own whose hub is this one (each site gets its own dashboard)',
        ]
      : [];
  }

  private alarm(
    scope: Construct,
    id: string,
    metric: cloudwatch.IMetric,
    threshold: number,
    description: string,
    evaluationPeriods: number,
    options: Partial<cloudwatch.AlarmProps> = {},
  ): cloudwatch.Alarm {
    const alarm = new cloudwatch.Alarm(scope, id, {
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
