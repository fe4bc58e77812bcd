import { ArnFormat, IResource, Names, RemovalPolicy, Resource, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { CfnCollection } from 'aws-cdk-lib/aws-rekognition';
import { Construct } from 'constructs';
import { COLLECTION_ID, validateName } from './private/validate';

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
 * What every collection, created or imported, shares: its grants (not part of the public API).
 * @internal
 */
export abstract class FaceCollectionBase extends Resource implements IFaceCollection {
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
}

/**
 * A Rekognition face collection (`AWS::Rekognition::Collection`): the faces a stream processor
 * searches for. Enrolment from S3 is a construct of its own that takes the collection
 * (`new FaceEnrollment(this, 'Enrollment', { collection })`), or the pipeline's `enrollment`.
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

  constructor(scope: Construct, id: string, props: FaceCollectionProps = {}) {
    super(scope, id, { physicalName: props.collectionId });
    // 0.1.x created enrolment here; JavaScript callers (no compiler to tell them) learn where it went
    const removed = (['enrollment', 'enrollmentOptions'] as const).filter((key) => (props as Record<string, unknown>)[key] !== undefined);
    if (removed.length > 0) {
      throw new Error(
        `FaceCollection no longer creates enrolment (${removed.join(', ')}): use new FaceEnrollment(scope, 'Enrollment', { collection }) or FaceStreamPipeline's enrollment and enrollmentOptions`,
      );
    }
    validateName('collectionId', props.collectionId, COLLECTION_ID);
    const collectionId =
      props.collectionId ?? Names.uniqueResourceName(this, { maxLength: 255, separator: '-', allowedSpecialCharacters: '_.-' });
    const resource = new CfnCollection(this, 'Resource', { collectionId });
    resource.applyRemovalPolicy(props.removalPolicy ?? RemovalPolicy.RETAIN);

    // Ref (the collection ID) rather than the plain string, so users depend on the collection
    this.collectionId = resource.ref;
    this.collectionArn = resource.attrArn;
  }
}
