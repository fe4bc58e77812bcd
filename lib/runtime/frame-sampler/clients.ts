/** SDK v3 clients, logger and metrics: created once per container. */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { KinesisVideoClient } from '@aws-sdk/client-kinesis-video';
import { RekognitionClient } from '@aws-sdk/client-rekognition';
import { S3Client } from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { SAMPLER_SERVICE } from '../../metric-names';
import { observability } from '../shared/observability';

export const { logger, metrics, begin } = observability(SAMPLER_SERVICE);

export const kinesisVideo = new KinesisVideoClient({});
export const dynamodb = new DynamoDBClient({});
/** PutRecords over HTTP/1.1 with keep-alive (the client's HTTP/2 default exists for SubscribeToShard). */
export const kinesis = new KinesisClient({ requestHandler: new NodeHttpHandler() });
/**
 * Rekognition calls are paced by the shared budget (budget.ts), which owns retries and back-off on
 * throttling: the SDK does not retry them on its own (no hidden storm of retries).
 */
export const rekognition = new RekognitionClient({ maxAttempts: 1 });
/**
 * Snapshots (with the pipeline's snapshots on): retried by the shared withRetry only (snapshots.ts).
 * Path-style addressing only for S3-compatible endpoints that need it (S3_FORCE_PATH_STYLE=true).
 */
export const s3 = new S3Client({ maxAttempts: 1, forcePathStyle: process.env.S3_FORCE_PATH_STYLE === 'true' });
