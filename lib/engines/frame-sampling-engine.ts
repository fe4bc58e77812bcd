import { ArnFormat, Annotations, CfnOutput, CfnResource, Duration, Fn, Names, Stack, TagManager, Tags, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { CfnStream } from 'aws-cdk-lib/aws-kinesisvideo';
import { CfnSchedule } from 'aws-cdk-lib/aws-scheduler';
import { Construct, IConstruct } from 'constructs';
import { ENGINE_NAMES } from '../events';
import { METRICS_NAMESPACE, SAMPLER_METRICS, SAMPLER_SERVICE } from '../metric-names';
import { ScheduleExpressions, validateSchedule } from '../private/analysis-schedule';
import { ackWildcard } from '../private/nag';
import { SNAPSHOT_DEFAULTS } from '../snapshot-settings';
import { show, validateNumber } from '../private/validate';
import { EngineInput } from './engine-input';
import { CAMERA_STATE_KEY_PREFIX, FrameSamplerResources } from './frame-sampler-resources';
import type { CameraInput, SamplingMode, SnapshotInput } from '../runtime/frame-sampler/config';

/** What the frame-sampling engine needs for one camera (FaceSearchEngineBindOptions). */
export type SamplingEngineInput = EngineInput;

/** FrameSamplingOptions, as the engine was given them. */
export interface SamplingOptions {
  /** FrameSamplingMode's value. */
  readonly mode?: string;
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

/**
 * Every camera's schedule invokes the sampler every minute: in catch-up mode to sample the last
 * minute, in live mode to start a follower when none holds the camera's lease (a follower was
 * killed, or its successor never started). A catch-up camera is unhealthy when further behind live
 * than three periods; a live one when further behind than LIVE_MAX_HEALTHY_LAG_SECONDS.
 */
export const SAMPLER_PERIOD = Duration.minutes(1);
export const MAX_HEALTHY_LAG_SECONDS = 3 * SAMPLER_PERIOD.toSeconds();
export const LIVE_MAX_HEALTHY_LAG_SECONDS = 30;
const MODES: readonly SamplingMode[] = ['live', 'catch-up'];

function samplingMode(options: SamplingOptions): SamplingMode {
  const mode = options.mode ?? 'live';
  if (!MODES.includes(mode as SamplingMode)) {
    throw new Error(`frameSampling mode must be one of ${MODES.map((m) => `"${m}"`).join(', ')} (FrameSamplingMode.LIVE or CATCH_UP), got ${show(mode)}`);
  }
  return mode as SamplingMode;
}

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
  const mode = samplingMode(options);
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

  if (mode === 'live') {
    shared.grantHandOver();
  }

  const stateKey = `${CAMERA_STATE_KEY_PREFIX}${Names.uniqueId(scope)}`;
  const config = {
    mode,
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
    ...(input.snapshots ? { snapshots: snapshotInput(scope, shared, input) } : {}),
  } satisfies CameraInput;
  new CfnSchedule(scope, 'SamplerSchedule', {
    description: `face-stream-pipeline: samples camera ${input.cameraName}`.slice(0, 512),
    scheduleExpression: `rate(${SAMPLER_PERIOD.toMinutes()} minute)`,
    flexibleTimeWindow: { mode: 'OFF' },
    state: input.running === false ? 'DISABLED' : 'ENABLED',
    target: {
      arn: shared.sampler.functionArn,
      roleArn: shared.schedulerRole.roleArn,
      input: stack.toJsonString(config),
      // the next minute's invocation resumes where this one stopped (or finds the live follower's lease): no retries
      retryPolicy: { maximumRetryAttempts: 0, maximumEventAgeInSeconds: 60 },
    },
  });
  if (input.schedule) {
    scheduleStartStop(scope, shared, stateKey, input.schedule);
  }

  const dims = { service: SAMPLER_SERVICE, camera: input.cameraName };
  const period = Duration.minutes(5);
  const metric = (metricName: string, statistic: string) => new cloudwatch.Metric({ namespace: METRICS_NAMESPACE, metricName, dimensionsMap: dims, statistic, period });
  const lag = metric(SAMPLER_METRICS.LAG_SECONDS, cloudwatch.Stats.MAXIMUM);
  // a live follower publishes its lag and a heartbeat every minute: behind by more than
  // LIVE_MAX_HEALTHY_LAG_SECONDS, or silent for a whole period, it is unhealthy
  const maxLag = mode === 'live' ? LIVE_MAX_HEALTHY_LAG_SECONDS : MAX_HEALTHY_LAG_SECONDS;
  const healthMetric =
    input.running === false && !input.schedule
      ? new cloudwatch.MathExpression({ expression: `IF(FILL(lag, 0) > ${maxLag}, 1, 0)`, usingMetrics: { lag }, period, label: `${input.cameraName}: sampler behind` })
      : new cloudwatch.MathExpression({
          // no heartbeat in 5 minutes while not stopped by its schedule = the sampler stopped
          expression: `IF(FILL(heartbeat, 0) == 0 AND FILL(stopped, 0) == 0, 1, 0) + IF(FILL(lag, 0) > ${maxLag}, 1, 0)`,
          usingMetrics: { heartbeat: metric(SAMPLER_METRICS.HEARTBEAT, cloudwatch.Stats.SUM), stopped: metric(SAMPLER_METRICS.STOPPED, cloudwatch.Stats.SUM), lag },
          period,
          label: `${input.cameraName}: sampler stopped or behind`,
        });
  return {
    engineName: ENGINE_NAMES.FRAME_SAMPLING,
    healthMetric,
    healthDescription: `the frame sampler (${mode}) of camera ${input.cameraName} stopped or is more than ${maxLag} s behind live`,
  };
}

/**
 * The tag the frame-sampling engine sets on the streams it names with the pipeline's prefix; its
 * value names the sampler that reads them (one per root stack). The sampler's `stream/<prefix>*`
 * statements hold only for streams with this tag and value, so a stream-processor camera of the
 * same pipeline (same prefix, no tag) and another stack's frame-sampling cameras (a hub's or a
 * site's, other value) are outside them. The Service Authorization Reference lists
 * `aws:ResourceTag/${TagKey}` for the stream resource type of both services, which
 * kinesisvideo:GetDataEndpoint/GetImages and kinesis:PutRecord/PutRecords take. A tag, not a
 * name: renaming would replace the existing cameras' streams (their video and records).
 */
export const SAMPLER_TAG = 'face-stream-pipeline:frame-sampler';

function grantCamera(shared: FrameSamplerResources, stack: Stack, input: SamplingEngineInput): void {
  const prefix = input.streamNamePrefix;
  if (prefix) {
    const sampler = Names.uniqueId(shared);
    tagStream(input.videoStream, sampler, input.cameraName);
    tagStream(input.dataStream, sampler, input.cameraName);
    const tagged = { StringEquals: { [`aws:ResourceTag/${SAMPLER_TAG}`]: sampler } };
    const videoArn = stack.formatArn({ service: 'kinesisvideo', resource: 'stream', resourceName: `${prefix}*`, arnFormat: ArnFormat.SLASH_RESOURCE_NAME });
    const dataArn = stack.formatArn({ service: 'kinesis', resource: 'stream', resourceName: `${prefix}*`, arnFormat: ArnFormat.SLASH_RESOURCE_NAME });
    shared.allow('ReadCameraImages', ['kinesisvideo:GetDataEndpoint', 'kinesisvideo:GetImages'], videoArn, tagged);
    shared.allow('WriteFaceSearchRecords', ['kinesis:PutRecord', 'kinesis:PutRecords'], dataArn, tagged);
    const reason = `the frame-sampling cameras of this stack: streams named "${prefix}<camera name>" and tagged ${SAMPLER_TAG}=${sampler} (not the pipeline's stream-processor cameras, nor another stack's); one pattern, so the policy does not grow with cameras`;
    ackWildcard(shared, videoArn, reason);
    ackWildcard(shared, dataArn, reason);
  } else {
    // streams given by the user (or a camera without a prefix): exactly these
    shared.allow('ReadStreamImages', ['kinesisvideo:GetDataEndpoint', 'kinesisvideo:GetImages'], input.videoStream.streamArn);
    shared.allow('WriteStreamRecords', ['kinesis:PutRecord', 'kinesis:PutRecords'], input.dataStream.streamArn);
  }
  if (input.searchUsers) {
    shared.allow('SearchCollectionUsers', ['rekognition:SearchUsersByImage'], input.collection.collectionArn);
  } else {
    shared.allow('SearchCollection', ['rekognition:SearchFacesByImage'], input.collection.collectionArn);
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
/** Tags a stream the camera made (its CloudFormation resource), in place: no replacement. */
function tagStream(stream: IConstruct, sampler: string, camera: string): void {
  const resource = stream.node.defaultChild;
  if (!(resource instanceof CfnResource) || !TagManager.isTaggable(resource)) {
    throw new Error(`Camera "${camera}": frame sampling expected ${stream.node.path} to be a stream this camera made`);
  }
  Tags.of(resource).add(SAMPLER_TAG, sampler);
}

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

/**
 * Snapshots of a camera: where to store them and how often, in the camera's schedule input (one
 * sampler serves the frame-sampling cameras of every pipeline of its stack, with or without
 * snapshots, each with its own store: not its environment). The sampler's policy gains one
 * statement for every store, never one per camera: s3:PutObject on `<bucket>/<prefix>*`, and the
 * bucket key's kms:GenerateDataKey through S3.
 */
function snapshotInput(scope: Construct, shared: FrameSamplerResources, input: SamplingEngineInput): SnapshotInput {
  const store = input.snapshots!;
  const window = input.dedupeWindow?.toSeconds() ?? 60;
  if (Token.isUnresolved(window)) {
    throw new Error(`Camera "${input.cameraName}": dedupeWindow must be a literal duration`);
  }
  const objects = objectsArnIn(Stack.of(shared), store);
  shared.allow('StoreSnapshots', ['s3:PutObject'], objects);
  ackWildcard(shared, objects, `the snapshots of the frame-sampling cameras (any sighting's face.jpg and frame.jpg, named at run time) under the store's key prefix "${store.keyPrefix}"`);
  const key = store.bucket.encryptionKey;
  if (key) {
    shared.allow('EncryptSnapshots', ['kms:GenerateDataKey'], key.keyArn, { StringEquals: { 'kms:ViaService': `s3.${Stack.of(scope).region}.amazonaws.com` } });
  }
  return {
    bucket: store.bucket.bucketName,
    prefix: store.keyPrefix,
    faceMargin: store.faceMargin,
    quality: SNAPSHOT_DEFAULTS.JPEG_QUALITY,
    windowSeconds: window,
    ...(key ? { kmsKeyArn: key.keyArn } : {}),
  };
}

/**
 * The store's objects ARN pattern, as a policy of `stack` names it. A site's sampler writes to its
 * hub's bucket: the ARN comes through an export of the hub's stack with a name of its own (not an
 * automatic cross-stack reference, whose name is made only at synthesis), so that the wildcard's
 * acknowledgement can name it.
 */
function objectsArnIn(stack: Stack, store: NonNullable<SamplingEngineInput['snapshots']>): string {
  const home = Stack.of(store);
  if (home === stack || !Token.isUnresolved(store.bucket.bucketArn)) {
    return store.objectsArn;
  }
  const name = `${home.stackName}-${Names.uniqueId(store)}-BucketArn`;
  const id = `${Names.uniqueId(store)}BucketArnExport`;
  if (!home.node.tryFindChild(id)) {
    new CfnOutput(home, id, { description: 'The snapshot bucket, for the frame samplers of this stack\'s sites', value: store.bucket.bucketArn, exportName: name });
  }
  return `${Fn.importValue(name)}/${store.keyPrefix}*`;
}
