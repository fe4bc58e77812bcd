import { IResource, Resource } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';

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
