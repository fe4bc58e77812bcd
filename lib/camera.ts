import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { IFaceCollection } from './face-collection';
import { ack } from './private/nag';
import { scheduleProcessor, validateSchedule } from './private/processor-schedule';
import { REKOGNITION_NAME, validateName } from './private/validate';
import { StreamProcessor } from './stream-processor';
import { IVideoStream, VideoStream } from './video-stream';

/**
 * When a camera's stream processor runs: EventBridge Scheduler starts and stops it.
 */
export interface ProcessorSchedule {
  /**
   * When to start the processor: an EventBridge Scheduler expression, e.g. `cron(0 7 ? * MON-FRI *)`.
   */
  readonly start: string;

  /**
   * When to stop the processor, e.g. `cron(0 19 ? * MON-FRI *)`.
   */
  readonly stop: string;

  /**
   * The time zone of the expressions (IANA name).
   * @default 'UTC'
   */
  readonly timeZone?: string;
}

/**
 * Options of one camera, for `FaceStreamPipeline.addCamera()`.
 */
export interface CameraOptions {
  /**
   * An existing Kinesis video stream for this camera. It must not feed another stream processor.
   * @default - a new video stream
   */
  readonly videoStream?: IVideoStream;

  /**
   * An existing Kinesis data stream for this camera's face search results. It must not receive
   * from another stream processor.
   * @default - a new data stream with one shard, encrypted
   */
  readonly dataStream?: kinesis.IStream;

  /**
   * How long the new video stream keeps video (whole hours, 1 to 87600). Only for a new video stream.
   * @default Duration.hours(24)
   */
  readonly videoRetention?: Duration;

  /**
   * A customer-managed KMS key for the new video stream and data stream; it is granted to the
   * Rekognition service role. Only for streams created here.
   * @default - the AWS managed keys aws/kinesisvideo and aws/kinesis
   */
  readonly encryptionKey?: kms.IKey;

  /**
   * Minimum similarity (0-100) for a face match. Values below 80 are raised to 80 by the service.
   * @default - the pipeline's faceMatchThreshold, 80 when used alone
   */
  readonly faceMatchThreshold?: number;

  /**
   * Whether this camera's stream processor runs.
   * @default - the pipeline's `running`, true when used alone
   */
  readonly running?: boolean;

  /**
   * Whether Rekognition may store the analysed video to improve its models.
   * @default - the pipeline's `dataSharing`, false when used alone
   */
  readonly dataSharing?: boolean;

  /**
   * Start and stop the stream processor on a schedule, to pay only for the hours it watches. A
   * deployment still leaves the processor in the `running` state; with a schedule, consider
   * `running: false` so that a deployment outside the hours does not start it.
   * @default - the pipeline's `schedule`; none when used alone
   */
  readonly schedule?: ProcessorSchedule;

  /**
   * A fixed stream processor name (1-128 characters of `[a-zA-Z0-9_.-]`).
   * @default - generated from the construct path, which includes the camera name
   */
  readonly streamProcessorName?: string;
}

/**
 * One camera of the `cameras` prop of FaceStreamPipeline.
 */
export interface CameraConfig extends CameraOptions {
  /**
   * The camera name: 1-64 characters of `[a-zA-Z0-9_.-]`, unique in the pipeline. It names the
   * camera's resources and appears in every face event.
   */
  readonly name: string;
}

/**
 * Properties of a Camera.
 */
export interface CameraProps extends CameraConfig {
  /**
   * The face collection searched.
   */
  readonly collection: IFaceCollection;

  /**
   * The role Rekognition assumes for this camera's processor.
   * @default - a new role for this camera
   */
  readonly role?: iam.IRole;
}

/**
 * Everything one camera needs: a Kinesis video stream (input), a Kinesis data stream (output) and
 * a Rekognition stream processor between them. Rekognition lets a video stream and a data stream
 * each serve only one processor, so nothing here is shared with other cameras.
 */
export class Camera extends Construct {
  /** The camera name. */
  public readonly cameraName: string;

  /** The video stream the camera sends to. */
  public readonly videoStream: IVideoStream;

  /** The data stream that receives this camera's face search results. */
  public readonly dataStream: kinesis.IStream;

  /** The stream processor. */
  public readonly streamProcessor: StreamProcessor;

  constructor(scope: Construct, id: string, props: CameraProps) {
    super(scope, id);
    validateName('name', props.name, 1, 64, REKOGNITION_NAME, '[a-zA-Z0-9_.-]');
    if (props.schedule) {
      validateSchedule(props.schedule.start, props.schedule.stop);
    }
    if (props.videoStream && props.videoRetention) {
      throw new Error(`Camera "${props.name}": videoRetention applies to a new video stream only; remove it or remove videoStream`);
    }
    if (props.videoStream && props.dataStream && props.encryptionKey) {
      throw new Error(
        `Camera "${props.name}": encryptionKey applies to new streams only, and both videoStream and dataStream are given; remove encryptionKey`,
      );
    }
    this.cameraName = props.name;

    this.videoStream =
      props.videoStream ??
      new VideoStream(this, 'VideoStream', { dataRetention: props.videoRetention, encryptionKey: props.encryptionKey });

    this.dataStream = props.dataStream ?? this.newDataStream(props.encryptionKey);

    this.streamProcessor = new StreamProcessor(this, 'StreamProcessor', {
      videoStream: this.videoStream,
      dataStream: this.dataStream,
      collection: props.collection,
      role: props.role,
      faceMatchThreshold: props.faceMatchThreshold,
      running: props.running,
      dataSharing: props.dataSharing,
      streamProcessorName: props.streamProcessorName,
    });
    if (props.schedule) {
      scheduleProcessor(this, this.streamProcessor, props.schedule.start, props.schedule.stop, props.schedule.timeZone ?? 'UTC');
    }
  }

  /** Bytes of video arriving in the camera's video stream. @default - sum over 5 minutes */
  public metricVideoBytes(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.videoStream.metricIncomingBytes(props);
  }

  /** Face search records arriving in the camera's data stream. @default - sum over 5 minutes */
  public metricRecords(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.dataStream.metricIncomingRecords({ statistic: cloudwatch.Stats.SUM, ...props });
  }

  /** Age of the oldest unread record of the data stream. @default - maximum over 5 minutes */
  public metricIteratorAge(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.dataStream.metricGetRecordsIteratorAgeMilliseconds({ statistic: cloudwatch.Stats.MAXIMUM, ...props });
  }

  /**
   * 1 while the processor is FAILED (or gone), from the pipeline's health check
   * (namespace FaceStreamPipeline, dimension StreamProcessor).
   * @default - maximum over 5 minutes
   */
  public metricProcessorFailed(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: 'FaceStreamPipeline',
      metricName: 'StreamProcessorFailed',
      dimensionsMap: { StreamProcessor: this.streamProcessor.streamProcessorName },
      statistic: cloudwatch.Stats.MAXIMUM,
      ...props,
    });
  }

  private newDataStream(encryptionKey?: kms.IKey): kinesis.IStream {
    const stream = new kinesis.Stream(this, 'DataStream', {
      shardCount: 1,
      streamMode: kinesis.StreamMode.PROVISIONED,
      retentionPeriod: Duration.hours(24),
      encryption: encryptionKey ? kinesis.StreamEncryption.KMS : kinesis.StreamEncryption.MANAGED,
      encryptionKey,
      // face search results are transient: they are consumed within seconds and kept a day at most
      removalPolicy: RemovalPolicy.DESTROY,
    });
    if (encryptionKey) {
      Validations.of(stream).acknowledge(
        ack('AwsSolutions-KDS3', 'the data stream is encrypted with the customer-managed key asked for with encryptionKey instead of aws/kinesis'),
      );
    }
    return stream;
  }
}
