import type { Duration } from 'aws-cdk-lib';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import { IConstruct } from 'constructs';
import type { IFaceCollection } from '../face-collection';
import type { ScheduleExpressions } from '../private/analysis-schedule';
import type { SnapshotStore } from '../snapshots';
import type { IVideoStream } from '../video-stream';

/**
 * What an engine implementation is given for one camera: the public FaceSearchEngineBindOptions,
 * as the engines in lib/engines see it (they import only types from the constructs above them,
 * and nothing from the public module that imports them).
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
  readonly snapshots?: SnapshotStore;
  /** The consumer's de-duplication window (default 60 s; 0: none). */
  readonly dedupeWindow?: Duration;
}
