/**
 * One logging and metrics style for every handler: Powertools for AWS Lambda's Logger (JSON lines
 * with the Lambda request id once `begin(context)` ran; shared/logging.ts) and Metrics (CloudWatch
 * embedded metric format in the log, so no cloudwatch:PutMetricData, whose resource can only be
 * "*"). A handler that publishes no metric uses shared/logging.ts alone. Created once per
 * container. Never log secrets or image bytes.
 */
import { Metrics } from '@aws-lambda-powertools/metrics';
import { METRICS_NAMESPACE } from '../../metric-names';
import { logging, Logging } from './logging';

export { METRICS_NAMESPACE };

export interface Observability extends Logging {
  readonly metrics: Metrics;
}

/**
 * @param service the Powertools service name: the `service` field of log lines and the `service`
 * dimension of metrics (the consumer uses its consumer id, so that pipelines are told apart)
 */
export function observability(service: string): Observability {
  const metrics = new Metrics({ namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? METRICS_NAMESPACE, serviceName: service });
  return { ...logging(service), metrics };
}
