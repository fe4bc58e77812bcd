import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import { Construct } from 'constructs';
import { IFaceCollection } from '../face-collection-base';
import { StreamProcessor } from '../stream-processor';
import { IVideoStream } from '../video-stream';
import { scheduleProcessor, ScheduleExpressions } from './processor-schedule';

/** What the stream-processor engine needs for one camera (FaceSearchEngineBindOptions + its role). */
export interface ProcessorEngineInput {
  readonly cameraName: string;
  readonly videoStream: IVideoStream;
  readonly dataStream: kinesis.IStream;
  readonly collection: IFaceCollection;
  readonly faceMatchThreshold?: number;
  readonly running?: boolean;
  readonly dataSharing?: boolean;
  readonly schedule?: ScheduleExpressions;
  readonly streamProcessorName?: string;
  readonly streamNamePrefix?: string;
  readonly role?: iam.IRole;
}

/** The stream-processor engine for one camera: its processor, its schedule, its health metric. */
export function bindStreamProcessor(scope: Construct, input: ProcessorEngineInput) {
  const processor = new StreamProcessor(scope, 'StreamProcessor', {
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
    engineName: 'stream-processor',
    streamProcessor: processor,
    healthMetric,
    healthDescription: `the stream processor of camera ${input.cameraName} is FAILED or gone`,
  };
}
