import { ArnFormat, Annotations, Duration, Names, Stack, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { CfnStream } from 'aws-cdk-lib/aws-kinesisvideo';
import { CfnSchedule } from 'aws-cdk-lib/aws-scheduler';
import { Construct } from 'constructs';
import { EngineInput } from './engine-input';
import { FrameSamplerResources } from './frame-sampler-resources';
import { ScheduleExpressions, validateSchedule } from './processor-schedule';
import { ackWildcard } from './nag';
import { show, validateNumber } from './validate';

/** What the frame-sampling engine needs for one camera (FaceSearchEngineBindOptions). */
export type SamplingEngineInput = EngineInput;

/** FrameSamplingOptions, as the engine was given them. */
export interface SamplingOptions {
  readonly samplingInterval?: Duration;
  readonly imageWidth?: number;
  readonly minFaceConfidence?: number;
  readonly minFaceWidth?: number;
  readonly maxFacesPerFrame?: number;
}

export interface SamplingBinding {
  readonly engineName: string;
  readonly healthMetric: cloudwatch.IMetric;
  readonly healthDescription: string;
}

/** The sampler runs every minute; it is unhealthy when further behind live than three periods. */
export const SAMPLER_PERIOD = Duration.minutes(1);
export const MAX_HEALTHY_LAG_SECONDS = 3 * SAMPLER_PERIOD.toSeconds();
/** The Powertools service name of the sampler: the `service` dimension of its metrics. */
export const SAMPLER_SERVICE = 'frame-sampler';

function samplingIntervalMs(options: SamplingOptions): number {
  const interval = options.samplingInterval ?? Duration.seconds(1);
  if (Token.isUnresolved(interval.toMilliseconds({ integral: false }))) {
    throw new Error('frameSampling samplingInterval must be a literal duration');
  }
  const ms = interval.toMilliseconds({ integral: false });
  if (!Number.isInteger(ms) || ms < 200 || ms > 60_000) {
    throw new Error(`frameSampling samplingInterval must be whole milliseconds from 200 ms to 60 s (GetImages samples at most every 200 ms), got ${show(ms)} ms`);
  }
  return ms;
}

/** The frame-sampling engine for one camera: its schedules, permissions and health metric. */
export function bindFrameSampling(scope: Construct, input: SamplingEngineInput, options: SamplingOptions): SamplingBinding {
  const intervalMs = samplingIntervalMs(options);
  validateNumber('frameSampling imageWidth', options.imageWidth, 1, 3840, true);
  validateNumber('frameSampling minFaceConfidence', options.minFaceConfidence, 0, 100);
  validateNumber('frameSampling minFaceWidth', options.minFaceWidth, 0, 1);
  validateNumber('frameSampling maxFacesPerFrame', options.maxFacesPerFrame, 1, 100, true);
  validateNumber('faceMatchThreshold', input.faceMatchThreshold, 0, 100);
  if (input.schedule) {
    validateSchedule(input.schedule);
  }
  if (input.dataSharing) {
    Annotations.of(scope).addWarning(`camera ${input.cameraName}: dataSharing applies to stream processors only; frame sampling sends Rekognition images, not video`);
  }
  if (input.streamProcessorName) {
    throw new Error(`Camera "${input.cameraName}": streamProcessorName applies to the stream-processor engine only; remove it or use FaceSearchEngine.streamProcessor()`);
  }
  // GetImages reads stored video: the stream must keep some (VideoStream keeps 24 h by default and
  // allows no less than 1 h; an imported stream is checked by the sampler: NoDataRetentionException).
  const cfn = input.videoStream.node.tryFindChild('Resource');
  if (cfn instanceof CfnStream && cfn.dataRetentionInHours !== undefined && !Token.isUnresolved(cfn.dataRetentionInHours) && cfn.dataRetentionInHours <= 0) {
    throw new Error(`Camera "${input.cameraName}": frame sampling reads stored video (GetImages): videoRetention must be at least 1 hour, got ${cfn.dataRetentionInHours}`);
  }

  const shared = FrameSamplerResources.getOrCreate(scope, input.budgetScope);
  const stack = Stack.of(scope);
  grantCamera(shared, stack, input);

  const stateKey = `camera|${Names.uniqueId(scope)}`;
  const config = {
    camera: input.cameraName,
    stateKey,
    videoStreamArn: input.videoStream.streamArn,
    dataStreamArn: input.dataStream.streamArn,
    collectionId: input.collection.collectionId,
    faceMatchThreshold: input.faceMatchThreshold ?? 80,
    samplingIntervalMs: intervalMs,
    imageWidth: options.imageWidth ?? 0,
    minFaceConfidence: options.minFaceConfidence ?? 90,
    minFaceWidth: options.minFaceWidth ?? 0.04,
    maxFacesPerFrame: options.maxFacesPerFrame ?? 5,
    ...(input.searchUsers ? { identity: 'users' as const } : {}),
  };
  new CfnSchedule(scope, 'SamplerSchedule', {
    description: `face-stream-pipeline: samples camera ${input.cameraName}`.slice(0, 512),
    scheduleExpression: `rate(${SAMPLER_PERIOD.toMinutes()} minute)`,
    flexibleTimeWindow: { mode: 'OFF' },
    state: input.running === false ? 'DISABLED' : 'ENABLED',
    target: {
      arn: shared.sampler.functionArn,
      roleArn: shared.schedulerRole.roleArn,
      input: stack.toJsonString(config),
      // the next minute's invocation resumes where this one stopped: no retries that would overlap it
      retryPolicy: { maximumRetryAttempts: 0, maximumEventAgeInSeconds: 60 },
    },
  });
  if (input.schedule) {
    scheduleStartStop(scope, shared, stateKey, input.schedule);
  }

  const dims = { service: SAMPLER_SERVICE, camera: input.cameraName };
  const period = Duration.minutes(5);
  const metric = (metricName: string, statistic: string) => new cloudwatch.Metric({ namespace: 'FaceStreamPipeline', metricName, dimensionsMap: dims, statistic, period });
  const lag = metric('LagSeconds', cloudwatch.Stats.MAXIMUM);
  const healthMetric =
    input.running === false && !input.schedule
      ? new cloudwatch.MathExpression({ expression: `IF(FILL(lag, 0) > ${MAX_HEALTHY_LAG_SECONDS}, 1, 0)`, usingMetrics: { lag }, period, label: `${input.cameraName}: sampler behind` })
      : new cloudwatch.MathExpression({
          // no heartbeat in 5 minutes while not stopped by its schedule = the sampler stopped
          expression: `IF(FILL(heartbeat, 0) == 0 AND FILL(stopped, 0) == 0, 1, 0) + IF(FILL(lag, 0) > ${MAX_HEALTHY_LAG_SECONDS}, 1, 0)`,
          usingMetrics: { heartbeat: metric('Heartbeat', cloudwatch.Stats.SUM), stopped: metric('Stopped', cloudwatch.Stats.SUM), lag },
          period,
          label: `${input.cameraName}: sampler stopped or behind`,
        });
  return {
    engineName: 'frame-sampling',
    healthMetric,
    healthDescription: `the frame sampler of camera ${input.cameraName} stopped or is more than ${MAX_HEALTHY_LAG_SECONDS} s behind live`,
  };
}

function grantCamera(shared: FrameSamplerResources, stack: Stack, input: SamplingEngineInput): void {
  const prefix = input.streamNamePrefix;
  const videoArn = prefix
    ? stack.formatArn({ service: 'kinesisvideo', resource: 'stream', resourceName: `${prefix}*`, arnFormat: ArnFormat.SLASH_RESOURCE_NAME })
    : input.videoStream.streamArn;
  const dataArn = prefix ? stack.formatArn({ service: 'kinesis', resource: 'stream', resourceName: `${prefix}*`, arnFormat: ArnFormat.SLASH_RESOURCE_NAME }) : input.dataStream.streamArn;
  shared.allow('ReadCameraImages', ['kinesisvideo:GetDataEndpoint', 'kinesisvideo:GetImages'], videoArn);
  shared.allow('WriteFaceSearchRecords', ['kinesis:PutRecord', 'kinesis:PutRecords'], dataArn);
  if (input.searchUsers) {
    shared.allow('SearchCollectionUsers', ['rekognition:SearchUsersByImage'], input.collection.collectionArn);
  } else {
    shared.allow('SearchCollection', ['rekognition:SearchFacesByImage'], input.collection.collectionArn);
  }
  if (prefix) {
    const reason = `every camera of the pipeline names its streams "${prefix}<camera name>": one pattern covers them, so the policy does not grow with cameras`;
    ackWildcard(shared, videoArn, reason);
    ackWildcard(shared, dataArn, reason);
  }
  const region = stack.region;
  if (input.videoStream.encryptionKey) {
    shared.allow('DecryptVideo', ['kms:Decrypt'], input.videoStream.encryptionKey.keyArn, { StringEquals: { 'kms:ViaService': `kinesisvideo.${region}.amazonaws.com` } });
  }
  if (input.dataStream.encryptionKey) {
    shared.allow('EncryptRecords', ['kms:GenerateDataKey'], input.dataStream.encryptionKey.keyArn, { StringEquals: { 'kms:ViaService': `kinesis.${region}.amazonaws.com` } });
  }
}

/**
 * Scheduled start and stop: EventBridge Scheduler writes the camera's row of the state table
 * directly (DynamoDB UpdateItem, a universal target: no Lambda). Start clears `stopped` and records
 * the start time, so the sampler resumes there and does not analyse the stopped hours.
 */
function scheduleStartStop(scope: Construct, shared: FrameSamplerResources, stateKey: string, schedule: ScheduleExpressions): void {
  shared.grantScheduledStartStop();
  const stack = Stack.of(scope);
  const update = (id: string, expression: ScheduleExpressions['start'], running: boolean) =>
    new CfnSchedule(scope, id, {
      description: `face-stream-pipeline: ${running ? 'starts' : 'stops'} sampling ${scope.node.path}`.slice(0, 512),
      scheduleExpression: expression.expressionString,
      scheduleExpressionTimezone: expression.timeZone?.timezoneName,
      flexibleTimeWindow: { mode: 'OFF' },
      target: {
        arn: `arn:${stack.partition}:scheduler:::aws-sdk:dynamodb:updateItem`,
        roleArn: shared.schedulerRole.roleArn,
        input: stack.toJsonString({
          TableName: shared.table.tableName,
          Key: { pk: { S: stateKey } },
          UpdateExpression: running ? 'SET #stopped = :stopped, #startedAt = :at' : 'SET #stopped = :stopped',
          ExpressionAttributeNames: running ? { '#stopped': 'stopped', '#startedAt': 'startedAt' } : { '#stopped': 'stopped' },
          ExpressionAttributeValues: running ? { ':stopped': { BOOL: false }, ':at': { S: '<aws.scheduler.scheduled-time>' } } : { ':stopped': { BOOL: true } },
        }),
        retryPolicy: { maximumRetryAttempts: 3, maximumEventAgeInSeconds: 3600 },
      },
    });
  update('StartSchedule', schedule.start, true);
  update('StopSchedule', schedule.stop, false);
}
