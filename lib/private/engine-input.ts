import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import { IConstruct } from 'constructs';
import { IFaceCollection } from '../face-collection-base';
import { IVideoStream } from '../video-stream';
import type { ScheduleExpressions } from './processor-schedule';

/**
 * What an engine implementation is given for one camera: the public FaceSearchEngineBindOptions,
 * as the engines in lib/private see it (they must not import the public module that imports them).
 */
export interface EngineInput {
  readonly cameraName: string;
  readonly videoStream: IVideoStream;
  readonly dataStream: kinesis.IStream;
  readonly collection: IFaceCollection;
  readonly faceMatchThreshold?: number;
  /** Frame sampling: search Rekognition users (FaceIdentity.users()). */
  readonly searchUsers?: boolean;
  readonly running?: boolean;
  readonly dataSharing?: boolean;
  readonly schedule?: ScheduleExpressions;
  readonly streamProcessorName?: string;
  readonly streamNamePrefix?: string;
  readonly budgetScope?: IConstruct;
}
