/** SDK clients, logger, metrics and the event publisher: created once per container. */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SQSClient } from '@aws-sdk/client-sqs';
import { EventPublisher } from '../shared/event-publisher';
import { observability } from '../shared/observability';
import { config } from './config';

// the "service" of logs and metrics is the consumer id, so that pipelines in one account and Region are told apart
export const { logger, metrics, begin } = observability(config.consumerId || 'face-search-consumer');

// the SDK retries whole calls that were throttled or failed with a 5xx; PutEvents entries reported
// failed are retried by the publisher
export const eventBridge = new EventBridgeClient({ maxAttempts: 3 });
export const sqs = new SQSClient({ maxAttempts: 3 });
export const dynamodb = new DynamoDBClient({ maxAttempts: 3 });

export const publisher = new EventPublisher(eventBridge, logger);
