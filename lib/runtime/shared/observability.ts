/**
 * One logging and metrics style for every handler: Powertools for AWS Lambda's Logger (JSON lines
 * with the Lambda request id once `begin(context)` ran) and Metrics (CloudWatch embedded metric
 * format in the log, so no cloudwatch:PutMetricData, whose resource can only be "*").
 * Created once per container. Never log secrets or image bytes.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';

/** The namespace of every metric this library publishes. */
export const METRICS_NAMESPACE = 'FaceStreamPipeline';

export interface Observability {
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** Call first in every invocation: puts the request id (and function name) on every log line. */
  begin(context?: Context): void;
}

/**
 * @param service the Powertools service name: the `service` field of log lines and the `service`
 * dimension of metrics (the consumer uses its consumer id, so that pipelines are told apart)
 */
export function observability(service: string): Observability {
  const logger = new Logger({ serviceName: service });
  const metrics = new Metrics({ namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? METRICS_NAMESPACE, serviceName: service });
  return {
    logger,
    metrics,
    begin(context?: Context) {
      if (context) {
        logger.addContext(context);
      }
    },
  };
}
