import { ArnFormat, Names, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { CfnCollection } from 'aws-cdk-lib/aws-rekognition';
import { Construct } from 'constructs';
import { FaceCollectionBase, IFaceCollection } from './face-collection-base';
import { FaceEnrollment, FaceEnrollmentOptions } from './face-enrollment';
import { COLLECTION_ID, validateName } from './private/validate';

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
   * Settings of face enrolment (bucket, event bus, key, logs). Giving them turns enrolment on.
   * @default - the FaceEnrollment defaults, when `enrollment` is true
   */
  readonly enrollmentOptions?: FaceEnrollmentOptions;
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
    validateName('collectionId', collectionId, COLLECTION_ID);
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
    validateName('collectionId', props.collectionId, COLLECTION_ID);
    const collectionId =
      props.collectionId ?? Names.uniqueResourceName(this, { maxLength: 255, separator: '-', allowedSpecialCharacters: '_.-' });
    const resource = new CfnCollection(this, 'Resource', { collectionId });
    resource.applyRemovalPolicy(props.removalPolicy ?? RemovalPolicy.RETAIN);

    // Ref (the collection ID) rather than the plain string, so users depend on the collection
    this.collectionId = resource.ref;
    this.collectionArn = resource.attrArn;

    if (props.enrollment === false && props.enrollmentOptions) {
      throw new Error('enrollmentOptions configure face enrolment, which enrollment: false leaves out. Remove one of them');
    }
    if (props.enrollment || props.enrollmentOptions) {
      this.enrollment = new FaceEnrollment(this, 'Enrollment', { ...props.enrollmentOptions, collection: this });
    }
  }
}
