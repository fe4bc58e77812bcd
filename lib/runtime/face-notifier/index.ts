/**
 * The notifier: one function per stack, invoked by EventBridge for every notification rule
 * (FaceStreamPipeline.notify) with the event's detail and the rule's settings (input.ts). It
 * publishes a message a person can read to the rule's SNS topic: who, which camera, when (in the
 * rule's time zone and UTC), how similar, which engine, and a presigned link to the face snapshot.
 *
 * A failed publish fails the invocation: Lambda retries the asynchronous invocation, then sends it
 * to the function's on-failure queue, so no notification is lost silently.
 */
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { Context } from 'aws-lambda';
import { errorName } from '../shared/errors';
import { logging } from '../shared/logging';
import type { NotifierInput } from './input';
import { composeNotification, Link } from './message';

const { logger, begin } = logging('face-notifier');
const sns = new SNSClient({});
// no checksum parameters (x-amz-checksum-*) in the links: a person's browser checks nothing, and the URL is shorter
const s3 = new S3Client({ forcePathStyle: process.env.S3_FORCE_PATH_STYLE === 'true', requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' });

export const handler = async (input: NotifierInput, context?: Context): Promise<{ messageId: string }> => {
  begin(context);
  const detail = input.detail;
  if (!detail || typeof detail.camera !== 'string' || !input.topicArn) {
    // not an event this function's rules send: failing sends it to the on-failure queue for a look
    throw new Error(`the notifier got no face event with a topic (keys: ${Object.keys(input ?? {}).join(', ')})`);
  }
  const { link, noLinkReason } = await snapshotLink(input);
  const message = composeNotification(detail, input.timeZone || 'UTC', link, noLinkReason);
  try {
    const out = await sns.send(
      new PublishCommand({
        TopicArn: input.topicArn,
        Subject: message.subject,
        MessageStructure: 'json',
        Message: JSON.stringify({ default: message.body, email: message.body, sms: message.sms }),
        MessageAttributes: Object.fromEntries(Object.entries(message.attributes).map(([name, value]) => [name, { DataType: 'String', StringValue: value }])),
      }),
    );
    logger.info('notification published', { sighting: detail.id, topicArn: input.topicArn, messageId: out.MessageId, linked: link !== undefined });
    return { messageId: out.MessageId ?? '' };
  } catch (error) {
    logger.error('notification not published', { sighting: detail.id, topicArn: input.topicArn, error: errorName(error) });
    throw error;
  }
};

/** A presigned GetObject URL of the face snapshot, when there is one this function may read. */
async function snapshotLink(input: NotifierInput): Promise<{ link?: Link; noLinkReason: string }> {
  const snapshot = input.detail.snapshot;
  if (input.snapshotBucket === undefined) {
    return { noLinkReason: 'this pipeline stores no snapshots' };
  }
  if (!snapshot) {
    return { noLinkReason: 'no snapshot was stored for this sighting' };
  }
  if (snapshot.bucket !== input.snapshotBucket || !snapshot.faceKey.startsWith(input.snapshotPrefix ?? '')) {
    logger.warn('snapshot outside the pipeline store, not linked', { sighting: input.detail.id, bucket: snapshot.bucket, key: snapshot.faceKey });
    return { noLinkReason: 'the snapshot is not in the pipeline snapshot store' };
  }
  const expiresIn = input.linkExpirySeconds;
  const signedAt = new Date();
  const url = await getSignedUrl(s3, new GetObjectCommand({ Bucket: snapshot.bucket, Key: snapshot.faceKey }), { expiresIn, signingDate: signedAt });
  return { link: { url, expires: new Date(signedAt.getTime() + expiresIn * 1000) }, noLinkReason: '' };
}
