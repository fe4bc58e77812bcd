/**
 * Scheduled stream processor health check: Rekognition sends no event when a processor goes
 * FAILED after the deployment (a revoked permission, a deleted stream), so every few minutes this
 * lists the account's processors in the Region (ListStreamProcessors: name and status) and, for
 * those whose names start with this stack's prefix (PROCESSOR_NAME_PREFIX, one constant string
 * whatever the number of cameras), publishes `StreamProcessorFailed` (1 when FAILED) and
 * `StreamProcessorRunning` (1 when RUNNING) in the FaceStreamPipeline namespace with the one
 * dimension `StreamProcessor` (the name): CloudWatch embedded metrics through Powertools, so no
 * cloudwatch:PutMetricData. A FAILED processor is described for its StatusMessage, logged.
 */
import { DescribeStreamProcessorCommand, ListStreamProcessorsCommand, RekognitionClient, StreamProcessor } from '@aws-sdk/client-rekognition';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import { observability } from '../shared/observability';
import { PROCESSOR_HEALTH_METRICS, PROCESSOR_HEALTH_SERVICE } from '../../metric-names';
import { errorName } from '../shared/errors';
import { retryingSend } from '../shared/retry';

const { logger, metrics, begin } = observability(PROCESSOR_HEALTH_SERVICE);
// The metric's identity is namespace + StreamProcessor only: StreamProcessor.metricFailed() reads it.
metrics.clearDefaultDimensions();

/** Created once per container. Retries are ours (see retry.ts), so the SDK makes one attempt. */
const rekognition = new RekognitionClient({ maxAttempts: 1 });

const send = retryingSend(logger);

/** Every processor of the account and Region, page by page. */
async function listProcessors(): Promise<StreamProcessor[]> {
  const all: StreamProcessor[] = [];
  let token: string | undefined;
  do {
    const page = await send('ListStreamProcessors', () => rekognition.send(new ListStreamProcessorsCommand({ NextToken: token, MaxResults: 100 })));
    all.push(...(page.StreamProcessors ?? []));
    token = page.NextToken;
  } while (token);
  return all;
}

async function statusMessage(name: string): Promise<string | undefined> {
  try {
    const d = await send('DescribeStreamProcessor', () => rekognition.send(new DescribeStreamProcessorCommand({ Name: name })));
    return d.StatusMessage;
  } catch (error) {
    logger.warn('could not read the status message of a failed stream processor', { name, error: errorName(error) });
    return undefined;
  }
}

export interface HealthResult {
  /** Status by processor name, for this stack's processors. */
  readonly statuses: Record<string, string>;
}

export async function handler(_event?: unknown, context?: Context): Promise<HealthResult> {
  begin(context);
  const prefix = process.env.PROCESSOR_NAME_PREFIX;
  if (!prefix) {
    throw new Error('PROCESSOR_NAME_PREFIX is not set: the health check does not know which processors are this stack\'s');
  }
  const statuses: Record<string, string> = {};
  const mine = (await listProcessors()).filter((p) => p.Name?.startsWith(prefix));
  for (const p of mine) {
    const name = p.Name!;
    const status = p.Status ?? 'UNKNOWN';
    statuses[name] = status;
    metrics.addDimension(PROCESSOR_HEALTH_METRICS.DIMENSION, name);
    metrics.addMetric(PROCESSOR_HEALTH_METRICS.FAILED, MetricUnit.Count, status === 'FAILED' ? 1 : 0);
    metrics.addMetric(PROCESSOR_HEALTH_METRICS.RUNNING, MetricUnit.Count, status === 'RUNNING' ? 1 : 0);
    metrics.addMetadata('status', status);
    if (status === 'FAILED') {
      const message = await statusMessage(name);
      metrics.addMetadata('statusMessage', message ?? '');
      logger.warn('stream processor is FAILED', { name, statusMessage: message });
    }
    metrics.publishStoredMetrics();
  }
  logger.info('stream processor health', { prefix, processors: mine.length, statuses });
  return { statuses };
}
