/**
 * The logging half of shared/observability.ts, for a handler that publishes no metric (the
 * stream processor custom resource): Powertools for AWS Lambda's Logger alone, so that its bundle
 * neither loads nor constructs Powertools Metrics. Created once per container. Never log secrets
 * or image bytes.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import type { Context } from 'aws-lambda';

export interface Logging {
  readonly logger: Logger;
  /** Call first in every invocation: puts the request id (and function name) on every log line. */
  begin(context?: Context): void;
}

/** @param service the Powertools service name: the `service` field of log lines */
export function logging(service: string): Logging {
  const logger = new Logger({ serviceName: service });
  return {
    logger,
    begin(context?: Context) {
      if (context) {
        logger.addContext(context);
      }
    },
  };
}
