import { Aws, Duration, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { SNAPSHOT_DEFAULTS, SNAPSHOT_ENV } from './snapshot-settings';
import { denyOtherEncryption, privateBucketProps } from './private/bucket-encryption';
import { skipCheckov } from './private/checkov';
import { ack } from './private/nag';
import { show } from './private/validate';

/**
 * Options of snapshots: a JPEG of the face and of the whole frame with every sighting that
 * becomes an event. Snapshots are biometric data: see the README's "Snapshots and privacy".
 */
export interface SnapshotOptions {
  /**
   * An existing bucket for the snapshots. The library grants its functions access to `keyPrefix`
   * only; expiry and encryption are then yours to configure (a KMS key of the bucket is granted).
   * @default - a new bucket: private, encrypted (the pipeline's `encryptionKey` when given, else
   * S3-managed keys), TLS only, versioning off, objects expiring after `expiration`
   */
  readonly bucket?: s3.IBucket;

  /**
   * The key prefix of every snapshot: empty, or up to 200 characters of `[a-zA-Z0-9!_.*'()/-]`
   * ending with `/`. Keys are `<keyPrefix><camera>/<YYYY-MM-DD>/<frame time ms>-<face index>-<hash>/face.jpg`
   * and `.../frame.jpg`.
   * @default 'snapshots/'
   */
  readonly keyPrefix?: string;

  /**
   * How long snapshots are kept, in whole days (1-3650): a lifecycle rule of the new bucket.
   * Only without `bucket`.
   * @default Duration.days(30)
   */
  readonly expiration?: Duration;

  /**
   * The margin stored around a face's bounding box, as a ratio of the box's width and height on
   * each side (0-1), clipped at the frame's edges.
   * @default 0.25
   */
  readonly faceMargin?: number;
}

/** Properties of a SnapshotStore. */
export interface SnapshotStoreProps extends SnapshotOptions {
  /**
   * A customer-managed KMS key for a new bucket.
   * @default - S3-managed keys (SSE-S3)
   */
  readonly encryptionKey?: kms.IKey;
}

const KEY_PREFIX = /^$|^[a-zA-Z0-9!_.*'()\-/]{1,200}\/$/;

/**
 * Where snapshots are stored: a bucket and a key prefix, with grants to write (the handlers that
 * store snapshots) and to read (notifications, your own consumers).
 */
export class SnapshotStore extends Construct {
  /** The bucket of the snapshots. */
  public readonly bucket: s3.IBucket;
  /** The key prefix of every snapshot (empty, or ending with '/'). */
  public readonly keyPrefix: string;
  /** The margin around a face box (ratio of the box, each side). */
  public readonly faceMargin: number;

  constructor(scope: Construct, id: string, props: SnapshotStoreProps = {}) {
    super(scope, id);
    const keyPrefix = props.keyPrefix ?? SNAPSHOT_DEFAULTS.KEY_PREFIX;
    if (!Token.isUnresolved(keyPrefix) && !KEY_PREFIX.test(keyPrefix)) {
      throw new Error(`snapshots keyPrefix must be empty or 1-200 characters of [a-zA-Z0-9!_.*'()/-] ending with "/", got ${show(keyPrefix)}`);
    }
    const faceMargin = props.faceMargin ?? SNAPSHOT_DEFAULTS.FACE_MARGIN;
    if (!Number.isFinite(faceMargin) || faceMargin < 0 || faceMargin > 1) {
      throw new Error(`snapshots faceMargin must be a ratio from 0 to 1, got ${show(faceMargin)}`);
    }
    if (props.bucket && props.expiration) {
      throw new Error('snapshots expiration applies to a new bucket only: with an existing bucket, give it a lifecycle rule of your own (or leave out `bucket`)');
    }
    const days = props.expiration?.toDays({ integral: false }) ?? SNAPSHOT_DEFAULTS.EXPIRATION_DAYS;
    if (!Number.isInteger(days) || days < 1 || days > 3650) {
      throw new Error(`snapshots expiration must be whole days from 1 to 3650, got ${show(props.expiration?.toHumanString())}`);
    }
    this.keyPrefix = keyPrefix;
    this.faceMargin = faceMargin;
    const key = props.encryptionKey;
    this.bucket = props.bucket ?? this.newBucket(key, keyPrefix, days);
  }

  private newBucket(key: kms.IKey | undefined, keyPrefix: string, days: number): s3.Bucket {
    const bucket = new s3.Bucket(this, 'Bucket', {
      ...privateBucketProps(key),
      // a deleted snapshot is gone: no older version keeps a person's picture after its deletion or expiry
      versioned: false,
      lifecycleRules: [
        { id: 'ExpireSnapshots', prefix: keyPrefix || undefined, expiration: Duration.days(days) },
        { id: 'AbortIncompleteUploads', abortIncompleteMultipartUploadAfter: Duration.days(1) },
      ],
      // biometric data with a lifetime of its own: deleting the stack deletes nothing a person may still need, and keeps nothing forever (objects expire)
      removalPolicy: RemovalPolicy.RETAIN,
    });
    if (key) {
      denyOtherEncryption(bucket, key);
    }
    const logs =
      'object-level access to the snapshots is audited with CloudTrail data events where needed (README: Snapshots and privacy); server access logs would need a second bucket and would keep the keys of every snapshot beyond its expiry';
    Validations.of(bucket).acknowledge(ack('AwsSolutions-S1', logs));
    skipCheckov(bucket, 'CKV_AWS_18', logs);
    skipCheckov(bucket, 'CKV_AWS_21', 'versioning is off on purpose: a deleted or expired snapshot (biometric data) must be gone, not kept as an older version');
    return bucket;
  }

  /** The ARN pattern of every snapshot object. */
  public get objectsArn(): string {
    return this.bucket.arnForObjects(`${this.keyPrefix}*`);
  }

  /**
   * Lets the grantee store snapshots: s3:PutObject under the prefix, and kms:GenerateDataKey of the
   * bucket's key through S3 (nothing else: no tagging, no ACLs, no reading back).
   */
  public grantPut(grantee: iam.IGrantable): iam.Grant {
    const grant = iam.Grant.addToPrincipal({ grantee, actions: ['s3:PutObject'], resourceArns: [this.objectsArn] });
    const key = this.bucket.encryptionKey;
    if (key) {
      iam.Grant.addToPrincipal({ grantee, actions: ['kms:GenerateDataKey'], resourceArns: [key.keyArn], conditions: this.viaS3() });
    }
    return grant;
  }

  /** The condition that limits a grant of the bucket's key to its use by S3 in this Region. */
  private viaS3(): Record<string, Record<string, string>> {
    return { StringEquals: { 'kms:ViaService': `s3.${Stack.of(this).region}.${Aws.URL_SUFFIX}` } };
  }

  /** Lets the grantee read snapshots (s3:GetObject under the prefix; decrypt with the bucket's key). */
  public grantRead(grantee: iam.IGrantable): iam.Grant {
    const grant = iam.Grant.addToPrincipal({ grantee, actions: ['s3:GetObject'], resourceArns: [this.objectsArn] });
    const key = this.bucket.encryptionKey;
    if (key) {
      iam.Grant.addToPrincipal({ grantee, actions: ['kms:Decrypt'], resourceArns: [key.keyArn], conditions: this.viaS3() });
    }
    return grant;
  }

  /** The environment a handler storing or reading snapshots is given. */
  public environment(): Record<string, string> {
    return {
      [SNAPSHOT_ENV.BUCKET]: this.bucket.bucketName,
      [SNAPSHOT_ENV.PREFIX]: this.keyPrefix,
      [SNAPSHOT_ENV.FACE_MARGIN]: String(this.faceMargin),
    };
  }
}
