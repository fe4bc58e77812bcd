import { ArnFormat, IResource, Names, RemovalPolicy, Resource, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { CfnCollection } from 'aws-cdk-lib/aws-rekognition';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { FaceEnrollment } from './face-enrollment';
import { REKOGNITION_NAME, validateName } from './private/validate';

/**
 * A Rekognition face collection, created here or imported.
 */
export interface IFaceCollection extends IResource {
  /**
   * The collection ID.
   * @attribute
   */
  readonly collectionId: string;

  /**
   * The collection ARN.
   * @attribute
   */
  readonly collectionArn: string;

  /**
   * Grants searching the collection: rekognition:SearchFaces and rekognition:SearchFacesByImage.
   */
  grantSearch(grantee: iam.IGrantable): iam.Grant;

  /**
   * Grants the given rekognition actions on this collection.
   */
  grant(grantee: iam.IGrantable, ...actions: string[]): iam.Grant;
}

/**
 * Properties of a FaceCollection.
 */
export interface FaceCollectionProps {
  /**
   * The collection ID: 1-255 characters of `[a-zA-Z0-9_.-]`.
   * @default - a unique ID generated from the construct path
   */
  readonly collectionId?: string;

  /**
   * What happens to the collection, and every face indexed in it, when it leaves the stack.
   * @default RemovalPolicy.RETAIN - enrolled faces are hard to gather again
   */
  readonly removalPolicy?: RemovalPolicy;

  /**
   * Face enrolment from S3: uploading `faces/<external-image-id>/<name>.jpg|jpeg|png` indexes the
   * face; deleting the object removes it (see FaceEnrollment).
   * @default false
   */
  readonly enrollment?: boolean;

  /**
   * An existing bucket for enrolment pictures. Only with `enrollment`.
   * @default - a new bucket: encrypted, private, TLS only
   */
  readonly enrollmentBucket?: s3.IBucket;
}

abstract class FaceCollectionBase extends Resource implements IFaceCollection {
  public abstract readonly collectionId: string;
  public abstract readonly collectionArn: string;

  public grantSearch(grantee: iam.IGrantable): iam.Grant {
    return this.grant(grantee, 'rekognition:SearchFaces', 'rekognition:SearchFacesByImage');
  }

  public grant(grantee: iam.IGrantable, ...actions: string[]): iam.Grant {
    return iam.Grant.addToPrincipal({ grantee, actions, resourceArns: [this.collectionArn] });
  }
}

/**
 * A Rekognition face collection (`AWS::Rekognition::Collection`): the faces a stream processor
 * searches for.
 *
 * @resource AWS::Rekognition::Collection
 */
export class FaceCollection extends FaceCollectionBase {
  /**
   * Imports an existing collection by its ID (in this stack's account and Region).
   */
  public static fromCollectionId(scope: Construct, id: string, collectionId: string): IFaceCollection {
    validateName('collectionId', collectionId, 1, 255, REKOGNITION_NAME, '[a-zA-Z0-9_.-]');
    class Import extends FaceCollectionBase {
      public readonly collectionId = collectionId;
      public readonly collectionArn = Stack.of(scope).formatArn({
        service: 'rekognition',
        resource: 'collection',
        resourceName: collectionId,
        arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
      });
    }
    return new Import(scope, id);
  }

  public readonly collectionId: string;
  public readonly collectionArn: string;

  /** Face enrolment from S3, when turned on. */
  public readonly enrollment?: FaceEnrollment;

  constructor(scope: Construct, id: string, props: FaceCollectionProps = {}) {
    super(scope, id, { physicalName: props.collectionId });
    validateName('collectionId', props.collectionId, 1, 255, REKOGNITION_NAME, '[a-zA-Z0-9_.-]');
    const collectionId =
      props.collectionId ?? Names.uniqueResourceName(this, { maxLength: 255, separator: '-', allowedSpecialCharacters: '_.-' });
    const resource = new CfnCollection(this, 'Resource', { collectionId });
    resource.applyRemovalPolicy(props.removalPolicy ?? RemovalPolicy.RETAIN);

    // Ref (the collection ID) rather than the plain string, so users depend on the collection
    this.collectionId = resource.ref;
    this.collectionArn = resource.attrArn;

    if (props.enrollmentBucket && !props.enrollment) {
      throw new Error('enrollmentBucket is the bucket of face enrolment; it needs enrollment: true');
    }
    if (props.enrollment) {
      this.enrollment = new FaceEnrollment(this, 'Enrollment', { collection: this, bucket: props.enrollmentBucket });
    }
  }
}
