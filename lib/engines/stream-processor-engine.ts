import { ArnFormat, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as targets from 'aws-cdk-lib/aws-scheduler-targets';
import { Construct } from 'constructs';
import { ENGINE_NAMES } from '../events';
import { ScheduleExpressions, validateSchedule } from '../private/analysis-schedule';
import type { StreamProcessor, StreamProcessorProps } from '../stream-processor';
import { EngineInput } from './engine-input';

/** What the stream-processor engine needs for one camera (FaceSearchEngineBindOptions + its role). */
export interface ProcessorEngineInput extends EngineInput {
  readonly role?: iam.IRole;
}

/**
 * Makes the camera's StreamProcessor: given by the construct that chooses the engine
 * (FaceSearchEngine), so that this engine, below the constructs, imports only their types.
 */
export type NewStreamProcessor = (scope: Construct, id: string, props: StreamProcessorProps) => StreamProcessor;

/** The stream-processor engine for one camera: its processor, its schedule, its health metric. */
export function bindStreamProcessor(scope: Construct, input: ProcessorEngineInput, newStreamProcessor: NewStreamProcessor) {
  const processor = newStreamProcessor(scope, 'StreamProcessor', {
    videoStream: input.videoStream,
    dataStream: input.dataStream,
    collection: input.collection,
    role: input.role,
    faceMatchThreshold: input.faceMatchThreshold,
    running: input.running,
    dataSharing: input.dataSharing,
    streamProcessorName: input.streamProcessorName,
  });
  if (input.schedule) {
    scheduleProcessor(scope, processor, input.schedule);
  }
  // published by the stack's processor health check, which every StreamProcessor brings
  const healthMetric: cloudwatch.IMetric = processor.metricFailed();
  return {
    engineName: ENGINE_NAMES.STREAM_PROCESSOR,
    streamProcessor: processor,
    healthMetric,
    healthDescription: `the stream processor of camera ${input.cameraName} is FAILED or gone`,
  };
}

/**
 * Starts and stops a processor on schedules: EventBridge Scheduler calls Rekognition's
 * StartStreamProcessor / StopStreamProcessor directly (universal targets, no Lambda), with a role
 * that may only do that on this processor, and that trusts only this account's schedules.
 *
 * Why the frame-sampling engine schedules differently (a CfnSchedule with the
 * `aws-sdk:dynamodb:updateItem` target ARN): its start/stop writes the camera's row of the state
 * table (`stopped`, `startedAt` from `<aws.scheduler.scheduled-time>`), one shared scheduler role
 * for all cameras so that nothing grows per camera, while here each processor gets a role limited
 * to its own ARN, which `targets.Universal` builds with the policy statements. Both are
 * EventBridge Scheduler universal targets without a Lambda; only the target differs.
 */
export function scheduleProcessor(scope: Construct, processor: { readonly streamProcessorName: string; readonly streamProcessorArn: string }, schedule: ScheduleExpressions): void {
  validateSchedule(schedule);
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
  const call = (id: string, expression: scheduler.ScheduleExpression, action: 'startStreamProcessor' | 'stopStreamProcessor') =>
    new scheduler.Schedule(scope, id, {
      description: `face-stream-pipeline: ${action} ${processor.streamProcessorName}`.slice(0, 512),
      schedule: expression,
      timeWindow: scheduler.TimeWindow.off(),
      target: new targets.Universal({
        service: 'rekognition',
        action,
        role,
        input: scheduler.ScheduleTargetInput.fromObject({ Name: processor.streamProcessorName }),
        retryAttempts: 3,
        policyStatements: [
          new iam.PolicyStatement({
            actions: [`rekognition:${action.charAt(0).toUpperCase()}${action.slice(1)}`],
            resources: [processor.streamProcessorArn],
          }),
        ],
      }),
    });
  call('StartSchedule', schedule.start, 'startStreamProcessor');
  call('StopSchedule', schedule.stop, 'stopStreamProcessor');
}
