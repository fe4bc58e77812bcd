import { ArnFormat, Stack, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { CfnSchedule } from 'aws-cdk-lib/aws-scheduler';
import { Construct } from 'constructs';
import { StreamProcessor } from '../stream-processor';

const EXPRESSION = /^(cron|rate)\(.+\)$/;

/**
 * Starts and stops a processor on schedules: EventBridge Scheduler calls Rekognition's
 * StartStreamProcessor / StopStreamProcessor directly (universal targets, no Lambda), with a role
 * that may only do that on this processor.
 */
/** Checks a schedule's expressions before anything is built. */
export function validateSchedule(startExpression: string, stopExpression: string): void {
  for (const [prop, value] of [
    ['schedule.start', startExpression],
    ['schedule.stop', stopExpression],
  ]) {
    if (!Token.isUnresolved(value) && !EXPRESSION.test(value)) {
      throw new Error(`${prop} must be an EventBridge Scheduler expression such as "cron(0 7 ? * MON-FRI *)" or "rate(12 hours)", got ${JSON.stringify(value)}`);
    }
  }
}

export function scheduleProcessor(scope: Construct, processor: StreamProcessor, startExpression: string, stopExpression: string, timeZone: string): void {
  validateSchedule(startExpression, stopExpression);
  const stack = Stack.of(scope);
  const role = new iam.Role(scope, 'ScheduleRole', {
    description: 'Lets EventBridge Scheduler start and stop one face-stream-pipeline stream processor',
    assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
      conditions: {
        StringEquals: { 'aws:SourceAccount': stack.account },
        ArnLike: { 'aws:SourceArn': stack.formatArn({ service: 'scheduler', resource: 'schedule', resourceName: '*', arnFormat: ArnFormat.SLASH_RESOURCE_NAME }) },
      },
    }),
  });
  role.addToPolicy(
    new iam.PolicyStatement({
      actions: ['rekognition:StartStreamProcessor', 'rekognition:StopStreamProcessor'],
      resources: [processor.streamProcessorArn],
    }),
  );
  const schedule = (id: string, expression: string, action: 'startStreamProcessor' | 'stopStreamProcessor') =>
    new CfnSchedule(scope, id, {
      description: `face-stream-pipeline: ${action} ${processor.node.path}`.slice(0, 512),
      scheduleExpression: expression,
      scheduleExpressionTimezone: timeZone,
      flexibleTimeWindow: { mode: 'OFF' },
      target: {
        arn: `arn:${stack.partition}:scheduler:::aws-sdk:rekognition:${action}`,
        roleArn: role.roleArn,
        input: stack.toJsonString({ Name: processor.streamProcessorName }),
        retryPolicy: { maximumRetryAttempts: 3, maximumEventAgeInSeconds: 3600 },
      },
    });
  schedule('StartSchedule', startExpression, 'startStreamProcessor');
  schedule('StopSchedule', stopExpression, 'stopStreamProcessor');
}
