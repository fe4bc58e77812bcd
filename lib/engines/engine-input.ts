import type { Duration } from 'aws-cdk-lib';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import { IConstruct } from 'constructs';
import type { IFaceCollection } from '../face-collection';
import type { ScheduleExpressions } from '../private/analysis-schedule';
import type { SnapshotStore } from '../snapshots';
import type { IVideoStream } from '../video-stream';

/**
 * What an engine implementation is given for one camera: the public FaceSearchEngineBindOptions
 * resolved (`identity` -> `searchUsers`, `schedule` -> validated `ScheduleExpressions`, plus the
 * pipeline's snapshot store and de-duplication window), as the engines in lib/engines see it. It is
 * not derived from FaceSearchEngineBindOptions on purpose: that type lives in face-search-engine.ts,
 * which imports the engines, and test/layers.test.ts forbids import cycles, type-only ones included.
 * face-search-engine.ts passes the public options spread into it, so the compiler checks every
 * field the engines read against the public type where the two meet.
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
