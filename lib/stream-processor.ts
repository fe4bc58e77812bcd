import { Annotations, CustomResource, IResolvable, IResource, Lazy, Resource, TagManager, TagType, ITaggable, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import { Construct } from 'constructs';
import type { IFaceCollection } from './face-collection';
import { HEALTH_CHECK_PERIOD, HEALTH_METRICS, ProcessorHealthCheck } from './private/processor-health-check';
import { createRekognitionServiceRole } from './private/service-role';
import { nameHash, processorArn, processorNamePrefix } from './private/processor-names';
import { MANAGE_PROCESSOR_ACTIONS, StreamProcessorProvider, WAIT_TIMEOUT } from './private/stream-processor-provider';
import { PROCESSOR_NAME, validateName, validateNumber } from './private/validate';
import type { ProcessorProperties } from './runtime/stream-processor/properties';
import { IVideoStream } from './video-stream';

/**
 * The custom resource's properties as this construct writes them: the handler's own contract
 * (lib/runtime/stream-processor/properties.ts), so the compiler catches a property one side
 * renamed; only Tags is a token here (rendered from the TagManager as `{ Key, Value }` pairs).
 */
type ProcessorResourceProperties = Omit<ProcessorProperties, 'Tags'> & { readonly Tags: IResolvable };

/**
 * A Rekognition stream processor, created here or imported.
 */
export interface IStreamProcessor extends IResource {
  /**
   * The name of the stream processor.
   * @attribute
   */
  readonly streamProcessorName: string;

  /**
   * The ARN of the stream processor.
   * @attribute
   */
  readonly streamProcessorArn: string;
}

/**
 * Properties of a StreamProcessor.
 */
export interface StreamProcessorProps {
  /**
   * The Kinesis video stream the processor watches. A video stream can feed one processor only.
   */
  readonly videoStream: IVideoStream;

  /**
   * The Kinesis data stream the processor writes one JSON record per analysed frame to. A data
   * stream can receive from one processor only.
   */
  readonly dataStream: kinesis.IStream;

  /**
   * The face collection searched for every detected face.
   */
  readonly collection: IFaceCollection;

  /**
   * The role Rekognition assumes to read the video stream and write to the data stream. When it
   * is a role of this app, it is granted exactly that. Give each processor its own role: a role
   * shared by several processors lets each of them read every camera's video.
   * @default - a new role for this processor only: it trusts rekognition.amazonaws.com for this
   * account and this processor's name (aws:SourceAccount, aws:SourceArn) and may read only this
   * video stream and write only this data stream
   */
  readonly role?: iam.IRole;

  /**
   * Minimum confidence (0-100) that a detected face matches a face of the collection. The
   * service raises values below 80 to 80.
   * @default 80
   */
  readonly faceMatchThreshold?: number;

  /**
   * The processor name: 1-128 characters of `[a-zA-Z0-9_.-]`. A fixed name means a change that
   * needs a new processor (video stream, data stream, collection, threshold, role) must also
   * change the name, as for any custom-named CloudFormation resource. The stack's health check
   * watches only processors whose names start with the stack's processor prefix (the generated
   * names do): with another fixed name, `metricFailed()` and `metricRunning()` have no data, and
   * the handler needs a policy for that name (an inline policy of its role, about 500 characters).
   * @default - `<stack prefix>-<construct path>-<hash>-<12 hex digits>`, the last digits a hash of the
   * settings that force a replacement
   */
  readonly streamProcessorName?: string;

  /**
   * Whether the processor should be running. `false` deploys it stopped (it analyses nothing
   * and costs nothing); flipping it starts or stops the same processor.
   * @default true
   */
  readonly running?: boolean;

  /**
   * Whether Rekognition may store the analysed video to improve its models
   * (DataSharingPreference.OptIn).
   * @default false
   */
  readonly dataSharing?: boolean;
}

/**
 * A Rekognition Video stream processor doing face search, with its whole lifecycle owned by a
 * custom resource: create, start, wait until RUNNING (the deployment fails with the service's
 * StatusMessage if it goes FAILED), update, stop, wait until STOPPED, delete.
 *
 * Tags given with `Tags.of(...)` are applied to the processor.
 *
 * @resource Custom::RekognitionStreamProcessor
 */
export class StreamProcessor extends Resource implements IStreamProcessor, ITaggable {
  /**
   * Imports an existing stream processor by name (in this stack's account and Region).
   */
  public static fromStreamProcessorName(scope: Construct, id: string, streamProcessorName: string): IStreamProcessor {
    validateName('streamProcessorName', streamProcessorName, PROCESSOR_NAME);
    class Import extends Resource implements IStreamProcessor {
      public readonly streamProcessorName = streamProcessorName;
      public readonly streamProcessorArn = processorArn(scope, streamProcessorName);
    }
    return new Import(scope, id);
  }

  public readonly streamProcessorName: string;
  public readonly streamProcessorArn: string;

  /**
   * The processor's status when the deployment finished (RUNNING or STOPPED).
   * @attribute
   */
  public readonly streamProcessorStatus: string;

  /** The role Rekognition assumes for this processor. */
  public readonly role: iam.IRole;

  /** Tags of the processor. */
  public readonly tags: TagManager;

  /** The video stream the processor watches. */
  public readonly videoStream: IVideoStream;

  /** The data stream the processor writes to. */
  public readonly dataStream: kinesis.IStream;

  /** The face collection the processor searches. */
  public readonly collection: IFaceCollection;

  /** The prefix of the names generated for this processor: IAM and the service role's trust are scoped to it. */
  private readonly namePattern: string;

  constructor(scope: Construct, id: string, props: StreamProcessorProps) {
    super(scope, id, { physicalName: props.streamProcessorName });
    validateName('streamProcessorName', props.streamProcessorName, PROCESSOR_NAME);
    validateNumber('faceMatchThreshold', props.faceMatchThreshold, 0, 100);
    if (props.faceMatchThreshold !== undefined && props.faceMatchThreshold < 80) {
      Annotations.of(this).addWarningV2(
        'cdk-face-stream-pipeline:faceMatchThresholdRaised',
        `faceMatchThreshold is ${props.faceMatchThreshold}, but Rekognition raises values below 80 to 80: matches will need at least 80% similarity`,
      );
    }

    this.videoStream = props.videoStream;
    this.dataStream = props.dataStream;
    this.collection = props.collection;
    this.tags = new TagManager(TagType.KEY_VALUE, 'Custom::RekognitionStreamProcessor');

    const namePrefix = processorNamePrefix(this);
    this.namePattern = props.streamProcessorName ?? `${namePrefix}-*`;
    const arnPattern = processorArn(this, this.namePattern);
    this.role = props.role ?? createRekognitionServiceRole(this, 'ServiceRole', arnPattern);

    const provider = StreamProcessorProvider.getOrCreate(this);
    // The health check that publishes metricFailed() and metricRunning(): one per stack.
    const health = ProcessorHealthCheck.getOrCreate(this);
    const name = props.streamProcessorName;
    const outsidePrefix = name !== undefined && (Token.isUnresolved(name) || !name.startsWith(health.namePrefix));
    if (outsidePrefix && !Token.isUnresolved(name)) {
      Annotations.of(this).addWarningV2(
        'cdk-face-stream-pipeline:processorNotWatched',
        `streamProcessorName "${props.streamProcessorName}" does not start with "${health.namePrefix}": the health check does not watch it, so metricFailed() and metricRunning() have no data`,
      );
    }

    // The handler's permissions: the stack's constant policy covers generated names and roles made
    // here. A processor outside those patterns (a fixed name outside the stack prefix, a role given
    // by the user) adds a policy of its own, whose id follows the name it covers: a rename or a move
    // creates a new policy and deletes the old one in the clean-up phase, after the old processor.
    provider.allowCollection(props.collection.collectionArn);
    const own: iam.PolicyStatement[] = [];
    if (outsidePrefix) {
      own.push(new iam.PolicyStatement({ sid: 'ManageThisStreamProcessor', actions: MANAGE_PROCESSOR_ACTIONS, resources: [arnPattern] }));
    }
    if (props.role) {
      own.push(
        new iam.PolicyStatement({
          sid: 'PassItsServiceRole',
          actions: ['iam:PassRole'],
          resources: [props.role.roleArn],
          conditions: { StringEquals: { 'iam:PassedToService': 'rekognition.amazonaws.com' } },
        }),
      );
    }
    const access = own.length > 0 ? new iam.Policy(this, `HandlerAccess${nameHash(this, this.namePattern)}`, { roles: [provider.handlerRole], statements: own }) : undefined;

    const resource = new CustomResource(this, 'Resource', {
      serviceToken: provider.serviceToken,
      resourceType: 'Custom::RekognitionStreamProcessor',
      properties: {
        Name: props.streamProcessorName,
        NamePrefix: namePrefix,
        KinesisVideoStreamArn: props.videoStream.streamArn,
        KinesisDataStreamArn: props.dataStream.streamArn,
        RoleArn: this.role.roleArn,
        CollectionId: props.collection.collectionId,
        FaceMatchThreshold: props.faceMatchThreshold ?? 80,
        Running: props.running ?? true,
        DataSharing: props.dataSharing ?? false,
        Tags: Lazy.any({ produce: () => this.tags.renderTags() }),
        WaitTimeoutSeconds: WAIT_TIMEOUT.toSeconds(),
      } satisfies ProcessorResourceProperties,
    });
    // The handler's permissions exist before the processor and outlive it (delete in reverse order).
    resource.node.addDependency(provider.policy);
    if (access) {
      resource.node.addDependency(access);
    }

    // What Rekognition itself needs, granted to the service role before the processor starts.
    const grants = [
      props.videoStream.grantRead(this.role),
      props.dataStream.grant(this.role, 'kinesis:PutRecord', 'kinesis:PutRecords'),
    ];
    if (props.dataStream.encryptionKey) {
      grants.push(props.dataStream.encryptionKey.grant(this.role, 'kms:GenerateDataKey'));
    }
    grants.forEach((grant) => grant.applyBefore(resource));

    this.streamProcessorName = resource.getAttString('Name');
    this.streamProcessorArn = resource.getAttString('Arn');
    this.streamProcessorStatus = resource.getAttString('Status');
  }

  /**
   * 1 while the processor is FAILED, from the stack's health check (namespace FaceStreamPipeline,
   * dimension StreamProcessor), which reads every processor's status every 5 minutes.
   * @default - maximum over 5 minutes
   */
  public metricFailed(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.healthMetric(HEALTH_METRICS.failed, props);
  }

  /**
   * 1 while the processor is RUNNING, from the stack's health check. No data while the processor
   * does not exist (deleted out of band): alarm on it with `treatMissingData: BREACHING` to catch that.
   * @default - minimum over 5 minutes
   */
  public metricRunning(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.healthMetric(HEALTH_METRICS.running, { statistic: cloudwatch.Stats.MINIMUM, ...props });
  }

  private healthMetric(metricName: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: HEALTH_METRICS.namespace,
      metricName,
      dimensionsMap: { [HEALTH_METRICS.dimension]: this.streamProcessorName },
      statistic: cloudwatch.Stats.MAXIMUM,
      period: HEALTH_CHECK_PERIOD,
      ...props,
    }).attachTo(this);
  }
}
