import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';

/**
 * What every bucket the library creates has: encrypted with `key` (SSE-KMS with an S3 Bucket Key)
 * or S3-managed keys, all public access blocked, ACLs disabled (bucket owner enforced), TLS only.
 */
export function privateBucketProps(key: kms.IKey | undefined): s3.BucketProps {
  return {
    encryption: key ? s3.BucketEncryption.KMS : s3.BucketEncryption.S3_MANAGED,
    encryptionKey: key,
    bucketKeyEnabled: key ? true : undefined,
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
    enforceSSL: true,
  };
}

/**
 * Uploads to a bucket encrypted with `key` are encrypted with it by default (bucket default
 * encryption). These statements refuse the uploads that ask for something else: another
 * algorithm (SSE-S3), another KMS key, SSE-KMS naming no key (S3 would use aws/s3), or a
 * customer-provided key (SSE-C). Uploads without encryption headers stay allowed: each
 * comparison applies only where its header is sent (`Null: false` and `StringNotEquals`; not
 * `StringNotEqualsIfExists`, which IAM evaluates as true when the key is absent, and so denied
 * every upload without the header).
 * `s3:x-amz-server-side-encryption-aws-kms-key-id` compares the header as sent: name the key by its ARN.
 * Used by the enrolment bucket and the snapshot bucket.
 */
export function denyOtherEncryption(bucket: s3.Bucket, key: kms.IKey): void {
  const deny = (sid: string, conditions: Record<string, unknown>) =>
    bucket.addToResourcePolicy(
      new iam.PolicyStatement({
        sid,
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['s3:PutObject'],
        resources: [bucket.arnForObjects('*')],
        conditions,
      }),
    );
  const sent = (header: string, allowed: string | string[]) => ({ Null: { [header]: 'false' }, StringNotEquals: { [header]: allowed } });
  deny('DenyOtherEncryptionAlgorithms', sent('s3:x-amz-server-side-encryption', ['aws:kms', 'aws:kms:dsse']));
  deny('DenyOtherKmsKeys', sent('s3:x-amz-server-side-encryption-aws-kms-key-id', key.keyArn));
  deny('DenyKmsWithoutTheKey', { Null: { 's3:x-amz-server-side-encryption': 'false', 's3:x-amz-server-side-encryption-aws-kms-key-id': 'true' } });
  deny('DenyCustomerProvidedKeys', { Null: { 's3:x-amz-server-side-encryption-customer-algorithm': 'false' } });
}
