import { Annotations, ArnFormat, CustomResource, IResource, Lazy, Names, Resource, Stack, TagManager, TagType, ITaggable } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import { Construct } from 'constructs';
import { IFaceCollection } from './face-collection';
import { createRekognitionServiceRole } from './private/service-role';
import { StreamProcessorProvider, WAIT_TIMEOUT } from './private/stream-processor-provider';
import { REKOGNITION_NAME, validateName, validateNumber } from './private/validate';
import { IVideoStream } from './video-stream';

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
   * is a role of this app, it is granted exactly that.
   * @default - a new role trusting rekognition.amazonaws.com for this account's stream processors
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
   * change the name, as for any custom-named CloudFormation resource.
   * @default - a unique name generated from the construct path
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
    validateName('streamProcessorName', streamProcessorName, 1, 128, REKOGNITION_NAME, '[a-zA-Z0-9_.-]');
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

  constructor(scope: Construct, id: string, props: StreamProcessorProps) {
    super(scope, id, { physicalName: props.streamProcessorName });
    validateName('streamProcessorName', props.streamProcessorName, 1, 128, REKOGNITION_NAME, '[a-zA-Z0-9_.-]');
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
    this.role = props.role ?? createRekognitionServiceRole(this, 'ServiceRole');
    this.tags = new TagManager(TagType.KEY_VALUE, 'Custom::RekognitionStreamProcessor');

    const namePrefix = Names.uniqueResourceName(this, { maxLength: 100, separator: '-', allowedSpecialCharacters: '_.-' });
    const provider = StreamProcessorProvider.getOrCreate(this);
    const arnPattern = processorArn(this, props.streamProcessorName ?? `${namePrefix}-*`);
    provider.allow(arnPattern, props.collection.collectionArn, this.role.roleArn);

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
      },
    });
    // The handler's permissions must exist before the processor and outlive it on stack deletion.
    resource.node.addDependency(provider.policy);

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
}

function processorArn(scope: Construct, name: string): string {
  return Stack.of(scope).formatArn({
    service: 'rekognition',
    resource: 'streamprocessor',
    resourceName: name,
    arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
  });
}
