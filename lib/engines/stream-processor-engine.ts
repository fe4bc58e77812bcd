import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { StreamProcessor } from '../stream-processor';
import { EngineInput } from './engine-input';
import { scheduleProcessor } from './processor-schedule';

/** What the stream-processor engine needs for one camera (FaceSearchEngineBindOptions + its role). */
export interface ProcessorEngineInput extends EngineInput {
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
