import { Duration } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as sns from 'aws-cdk-lib/aws-sns';
import { FaceStreamPipeline, VideoStream } from '../lib';
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
      Dimensions: [{ Name: 'StreamProcessor', Value: stack.resolve(faces.cameras[0].streamProcessor.streamProcessorName) }],
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

describe('health check', () => {
  test('every 5 minutes a function reads exactly the pipeline\'s processors', () => {
    const { stack, faces, template } = pipeline();
    const [fn] = Object.values(template.findResources('AWS::Lambda::Function', { Properties: { Handler: 'index.health' } }));
    expect(fn.Properties).toMatchObject({ Runtime: 'nodejs24.x', Architectures: ['arm64'] });
    const processors = JSON.stringify(fn.Properties.Environment.Variables.PROCESSORS);
    for (const camera of faces.cameras) {
      const [logicalId, attribute] = stack.resolve(camera.streamProcessor.streamProcessorName)['Fn::GetAtt'];
      expect(processors).toContain(`{"Fn::GetAtt":["${logicalId}","${attribute}"]}`);
      expect(processors).toContain(`\\"camera\\":\\"${camera.cameraName}\\"`);
    }
    template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(5 minutes)' });
    const [policy] = Object.values(template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: Match.stringLikeRegexp('HealthCheckRole') }] } }));
    const statements = stack.resolve(policy.Properties.PolicyDocument.Statement);
    expect(statements).toEqual([
      { Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Effect: 'Allow', Resource: { 'Fn::GetAtt': [expect.stringMatching(/HealthCheckLogs/), 'Arn'] } },
      ...faces.cameras.map((c) => ({ Action: 'rekognition:DescribeStreamProcessor', Effect: 'Allow', Resource: stack.resolve(c.streamProcessor.streamProcessorArn) })),
    ]);
  });
});

describe('dashboard', () => {
  test('off by default; with dashboard: true, a row per camera and one for the consumer', () => {
    pipeline().template.resourceCountIs('AWS::CloudWatch::Dashboard', 0);
    const { template } = pipeline({ dashboard: true });
    const [dashboard] = Object.values(template.findResources('AWS::CloudWatch::Dashboard'));
    const body = JSON.stringify(dashboard.Properties.DashboardBody);
    for (const text of ['### Camera door', '### Camera hall', '### Face search consumer', 'PutMedia.IncomingBytes', 'FacesMatched', 'StreamProcessorFailed']) {
      expect(body).toContain(text);
    }
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
      [consumer.metricSightingsSuppressed(), 'SightingsSuppressed'],
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
  test('EventBridge Scheduler starts and stops the processor with Rekognition universal targets, no Lambda', () => {
    const { stack, faces, template } = pipeline({ schedule: { start: 'cron(0 7 ? * MON-FRI *)', stop: 'cron(0 19 ? * MON-FRI *)', timeZone: 'Europe/Paris' } });
    const door = faces.cameras[0];
    const name = stack.resolve(door.streamProcessor.streamProcessorName);
    for (const [expression, action] of [
      ['cron(0 7 ? * MON-FRI *)', 'startStreamProcessor'],
      ['cron(0 19 ? * MON-FRI *)', 'stopStreamProcessor'],
    ]) {
      template.hasResourceProperties('AWS::Scheduler::Schedule', {
        ScheduleExpression: expression,
        ScheduleExpressionTimezone: 'Europe/Paris',
        FlexibleTimeWindow: { Mode: 'OFF' },
        Target: Match.objectLike({
          Arn: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:scheduler:::aws-sdk:rekognition:${action}`]] },
          Input: { 'Fn::Join': ['', ['{"Name":"', name, '"}']] },
        }),
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
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: [{ Action: ['rekognition:StartStreamProcessor', 'rekognition:StopStreamProcessor'], Effect: 'Allow', Resource: stack.resolve(door.streamProcessor.streamProcessorArn) }],
      },
    });
  });

  test('a camera may have its own schedule; an expression that is not cron() or rate() is rejected', () => {
    const stack = testStack();
    const faces = new FaceStreamPipeline(stack, 'Faces');
    faces.addCamera('door', { schedule: { start: 'rate(1 day)', stop: 'cron(0 19 * * ? *)' } });
    expect(() => faces.addCamera('hall', { schedule: { start: '0 7 * * *', stop: 'cron(0 19 * * ? *)' } })).toThrow(
      'schedule.start must be an EventBridge Scheduler expression such as "cron(0 7 ? * MON-FRI *)" or "rate(12 hours)", got "0 7 * * *"',
    );
    Template.fromStack(stack).resourceCountIs('AWS::Scheduler::Schedule', 2);
  });
});
