import { Duration, TimeZone } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import { ScheduleExpression } from 'aws-cdk-lib/aws-scheduler';
import * as sns from 'aws-cdk-lib/aws-sns';
import { FaceSearchEngine, FaceStreamPipeline, VideoStream } from '../lib';
import { testStack } from './support/stacks';

function pipeline(props: ConstructorParameters<typeof FaceStreamPipeline>[2] = {}) {
  const stack = testStack();
  const faces = new FaceStreamPipeline(stack, 'Faces', { cameras: [{ name: 'door' }, { name: 'hall', running: false }], ...props });
  return { stack, faces, template: Template.fromStack(stack) };
}

describe('alarms', () => {
  test('on by default: consumer errors, iterator age, DLQ not empty; per camera no video, processor failed, and no records while video arrives for running cameras', () => {
    const { faces, template } = pipeline();
    const descriptions = Object.values(template.findResources('AWS::CloudWatch::Alarm')).map((a) => a.Properties.AlarmDescription).sort();
    expect(descriptions).toEqual(
      [
        'face-stream-pipeline: camera door sends video but its processor writes no records',
        'face-stream-pipeline: camera door sent no video for 15 minutes',
        'face-stream-pipeline: camera hall sent no video for 15 minutes',
        'face-stream-pipeline: records or failed batches are waiting in the dead-letter queue',
        'face-stream-pipeline: the consumer is more than 1 minute behind the data streams',
        'face-stream-pipeline: the face search consumer failed invocations',
        'face-stream-pipeline: the stream processor of camera door is FAILED or gone',
        'face-stream-pipeline: the stream processor of camera hall is FAILED or gone',
      ].sort(),
    );
    expect(faces.alarms).toHaveLength(8);
  });

  test('no video: PutMedia.IncomingBytes of the camera below 1 for the configured time, missing data breaching', () => {
    const { stack, faces, template } = pipeline({ noVideoAlarmAfter: Duration.minutes(30) });
    const door = faces.cameras[0];
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmDescription: 'face-stream-pipeline: camera door sent no video for 30 minutes',
      Namespace: 'AWS/KinesisVideo',
      MetricName: 'PutMedia.IncomingBytes',
      Dimensions: [{ Name: 'StreamName', Value: stack.resolve((door.videoStream as VideoStream).streamName) }],
      Statistic: 'Sum',
      Period: 300,
      EvaluationPeriods: 6,
      Threshold: 1,
      ComparisonOperator: 'LessThanThreshold',
      TreatMissingData: 'breaching',
    });
  });

  test('no records while video arrives: a metric math alarm on the camera\'s video bytes and data stream records', () => {
    const { template } = pipeline();
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmDescription: 'face-stream-pipeline: camera door sends video but its processor writes no records',
      Metrics: Match.arrayWith([
        Match.objectLike({ Expression: 'IF(video > 0 AND FILL(records, 0) == 0, 1, 0)' }),
        Match.objectLike({ Id: 'video', MetricStat: Match.objectLike({ Metric: Match.objectLike({ MetricName: 'PutMedia.IncomingBytes' }) }) }),
        Match.objectLike({ Id: 'records', MetricStat: Match.objectLike({ Metric: Match.objectLike({ Namespace: 'AWS/Kinesis', MetricName: 'IncomingRecords' }) }) }),
      ]),
      EvaluationPeriods: 3,
    });
  });

  test('processor failed: the health check metric of the camera\'s processor', () => {
    const { stack, faces, template } = pipeline();
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'FaceStreamPipeline',
      MetricName: 'StreamProcessorFailed',
      Dimensions: [{ Name: 'StreamProcessor', Value: stack.resolve(faces.cameras[0].streamProcessor!.streamProcessorName) }],
      Statistic: 'Maximum',
      Threshold: 1,
    });
  });

  test('alarmActions are attached to every alarm', () => {
    const stack = testStack();
    const topic = new sns.Topic(stack, 'Ops');
    new FaceStreamPipeline(stack, 'Faces', { cameras: [{ name: 'door' }], alarmActions: [new actions.SnsAction(topic)] });
    const alarms = Object.values(Template.fromStack(stack).findResources('AWS::CloudWatch::Alarm'));
    expect(alarms.length).toBeGreaterThan(0);
    for (const alarm of alarms) {
      expect(alarm.Properties.AlarmActions).toEqual([{ Ref: expect.stringMatching(/^Ops/) }]);
    }
  });

  test('alarms: false leaves out the alarms and the health check', () => {
    const { template, faces } = pipeline({ alarms: false });
    template.resourceCountIs('AWS::CloudWatch::Alarm', 0);
    template.resourcePropertiesCountIs('AWS::Lambda::Function', { Handler: 'index.health' }, 0);
    expect(faces.alarms).toEqual([]);
  });

  test.each([
    [{ noVideoAlarmAfter: Duration.minutes(7) }, 'noVideoAlarmAfter must be a whole number of 5-minute periods from 5 minutes to 1 day, got 7 minutes'],
    [{ noVideoAlarmAfter: Duration.days(2) }, 'noVideoAlarmAfter must be a whole number of 5-minute periods from 5 minutes to 1 day, got 2 days'],
    [{ alarms: false, alarmActions: [{ bind: () => ({ alarmActionArn: 'arn' }) }] }, 'alarmActions act on the alarms, which alarms: false leaves out. Remove one of them'],
  ])('rejects %j', (props, message) => {
    expect(() => pipeline(props as any)).toThrow(message);
  });
});

describe('engine health alarms', () => {
  test('a frame-sampling camera alarms on its sampler\'s health; missing data breaches only while it should always run', () => {
    const stack = testStack();
    new FaceStreamPipeline(stack, 'Faces', {
      engine: FaceSearchEngine.frameSampling(),
      cameras: [{ name: 'yard' }, { name: 'gate', running: false }],
    });
    const alarms = Template.fromStack(stack).findResources('AWS::CloudWatch::Alarm');
    const health = Object.values(alarms).filter((a) => /sampler/.test(a.Properties.AlarmDescription));
    expect(health.map((a) => a.Properties.TreatMissingData).sort()).toEqual(['breaching', 'notBreaching']);
    expect(Object.keys(alarms).filter((id) => /EngineUnhealthy/.test(id))).toHaveLength(2);
  });
});

describe('dashboard', () => {
  test('off by default; with dashboard: true, a row of four graphs per camera (its name in their titles) and one for the consumer', () => {
    pipeline().template.resourceCountIs('AWS::CloudWatch::Dashboard', 0);
    const { template } = pipeline({ dashboard: true });
    const [dashboard] = Object.values(template.findResources('AWS::CloudWatch::Dashboard'));
    const body = JSON.stringify(dashboard.Properties.DashboardBody);
    for (const text of ['door: video bytes', 'hall: engine health', '### Face search consumer', 'PutMedia.IncomingBytes', 'FacesMatched', 'StreamProcessorFailed']) {
      expect(body).toContain(text);
    }
    // two cameras of four graphs, the consumer's heading and three graphs
    expect(body.match(/\\"type\\":\\"(metric|text)\\"/g)).toHaveLength(12);
  });
});

describe('metrics', () => {
  test('camera, video stream and consumer metrics name the right namespaces and dimensions', () => {
    const { stack, faces } = pipeline();
    const door = faces.cameras[0];
    const consumer = faces.consumer!;
    expect(stack.resolve(door.metricVideoBytes().toMetricConfig().metricStat)).toMatchObject({ namespace: 'AWS/KinesisVideo', metricName: 'PutMedia.IncomingBytes', statistic: 'Sum' });
    expect(stack.resolve(door.metricRecords().toMetricConfig().metricStat)).toMatchObject({ namespace: 'AWS/Kinesis', metricName: 'IncomingRecords', statistic: 'Sum' });
    expect(stack.resolve(door.metricIteratorAge().toMetricConfig().metricStat)).toMatchObject({ namespace: 'AWS/Kinesis', metricName: 'GetRecords.IteratorAgeMilliseconds', statistic: 'Maximum' });
    for (const [metric, name] of [
      [consumer.metricFacesMatched(), 'FacesMatched'],
      [consumer.metricUnknownFaces(), 'UnknownFaces'],
      [consumer.metricMalformedRecords(), 'MalformedRecords'],
      [consumer.metricEventsFailed(), 'EventsFailed'],
      [consumer.metricDedupedSightings(), 'DedupedSightings'],
    ] as const) {
      expect(stack.resolve(metric.toMetricConfig().metricStat)).toMatchObject({
        namespace: 'FaceStreamPipeline',
        metricName: name,
        dimensions: [{ name: 'service', value: consumer.consumerId }],
      });
    }
    expect(stack.resolve(consumer.metricIteratorAge().toMetricConfig().metricStat)).toMatchObject({ namespace: 'AWS/Lambda', metricName: 'IteratorAge', statistic: 'Maximum' });
    expect(stack.resolve(consumer.metricDeadLetterQueueDepth().toMetricConfig().metricStat)).toMatchObject({ namespace: 'AWS/SQS', metricName: 'ApproximateNumberOfMessagesVisible' });
  });
});

describe('schedule', () => {
  const paris = TimeZone.EUROPE_PARIS;
  const workdays = () => ({
    start: ScheduleExpression.cron({ minute: '0', hour: '7', weekDay: 'MON-FRI', timeZone: paris }),
    stop: ScheduleExpression.cron({ minute: '0', hour: '19', weekDay: 'MON-FRI', timeZone: paris }),
  });

  test('EventBridge Scheduler starts and stops the processor with Rekognition universal targets, no Lambda', () => {
    const { stack, faces, template } = pipeline({ schedule: workdays() });
    const door = faces.cameras[0];
    const name = stack.resolve(door.streamProcessor!.streamProcessorName);
    for (const [expression, action, permission] of [
      ['cron(0 7 ? * MON-FRI *)', 'startStreamProcessor', 'rekognition:StartStreamProcessor'],
      ['cron(0 19 ? * MON-FRI *)', 'stopStreamProcessor', 'rekognition:StopStreamProcessor'],
    ]) {
      template.hasResourceProperties('AWS::Scheduler::Schedule', {
        ScheduleExpression: expression,
        ScheduleExpressionTimezone: 'Europe/Paris',
        FlexibleTimeWindow: { Mode: 'OFF' },
        Target: Match.objectLike({
          Arn: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:scheduler:::aws-sdk:rekognition:${action}`]] },
          Input: { 'Fn::Join': ['', ['{"Name":"', name, '"}']] },
          RetryPolicy: { MaximumRetryAttempts: 3, MaximumEventAgeInSeconds: 86400 },
        }),
      });
      template.hasResourceProperties('AWS::IAM::Policy', {
        PolicyDocument: { Statement: Match.arrayWith([{ Action: permission, Effect: 'Allow', Resource: stack.resolve(door.streamProcessor!.streamProcessorArn) }]) },
      });
    }
    template.resourceCountIs('AWS::Scheduler::Schedule', 4);
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [
          Match.objectLike({
            Principal: { Service: 'scheduler.amazonaws.com' },
            Condition: { StringEquals: { 'aws:SourceAccount': '123456789012' }, ArnLike: { 'aws:SourceArn': Match.anyValue() } },
          }),
        ],
      },
    });
  });

  test('a camera may have its own schedule; rate() and at() are schedules too', () => {
    const stack = testStack();
    const faces = new FaceStreamPipeline(stack, 'Faces');
    faces.addCamera('door', { schedule: { start: ScheduleExpression.rate(Duration.days(1)), stop: ScheduleExpression.expression('at(2027-01-31T19:00:00)', TimeZone.of('Asia/Tokyo')) } });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::Scheduler::Schedule', 2);
    template.hasResourceProperties('AWS::Scheduler::Schedule', { ScheduleExpression: 'rate(1 day)' });
    template.hasResourceProperties('AWS::Scheduler::Schedule', { ScheduleExpression: 'at(2027-01-31T19:00:00)', ScheduleExpressionTimezone: 'Asia/Tokyo' });
  });

  test.each([
    ['cron(bogus)', undefined, 'got "cron(bogus)": a cron expression has 6 fields, this one has 1'],
    ['cron(0 7 * * *)', undefined, 'got "cron(0 7 * * *)": a cron expression has 6 fields, this one has 5'],
    ['cron(0 7 * * MON *)', undefined, 'one of day-of-month (field 3) and day-of-week (field 5) must be "?"'],
    ['rate(banana)', undefined, 'got "rate(banana)": it is not cron(...), rate(...) or at(...)'],
    ['rate(2 hour)', undefined, 'write rate(1 hour) for one, rate(2 hours) for more'],
    ['at(2027-02-30T07:00:00)', undefined, 'the date or time of at() does not exist'],
    ['0 7 * * *', undefined, 'schedule.start must be an EventBridge Scheduler expression such as cron(0 7 ? * MON-FRI *)'],
    ['cron(0 7 ? * MON-FRI *)', 'Mars/Olympus', 'schedule.start has the time zone "Mars/Olympus", which is not an IANA time zone name'],
  ])('%s in %s is refused at synth time', (expression, zone, message) => {
    const stack = testStack();
    const faces = new FaceStreamPipeline(stack, 'Faces');
    const start = ScheduleExpression.expression(expression, zone ? TimeZone.of(zone) : undefined);
    expect(() => faces.addCamera('hall', { schedule: { start, stop: ScheduleExpression.rate(Duration.hours(12)) } })).toThrow(message);
  });
});
