/** SDK clients, logger, metrics and the event publisher: created once per container. */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { RekognitionClient } from '@aws-sdk/client-rekognition';
import { S3Client } from '@aws-sdk/client-s3';
import { ENROLLMENT_SERVICE } from '../../metric-names';
import { EventPublisher } from '../shared/event-publisher';
import { observability } from '../shared/observability';
import { config } from './config';

export const { logger, metrics, begin } = observability(ENROLLMENT_SERVICE);

export const rekognition = new RekognitionClient({});
export const dynamodb = new DynamoDBClient({});
export const s3 = new S3Client({ forcePathStyle: config.s3ForcePathStyle });
export const publisher = new EventPublisher(new EventBridgeClient({}), logger);
