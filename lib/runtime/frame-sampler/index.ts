/**
 * The frame sampler: invoked every minute for each camera on the frame-sampling engine by that
 * camera's EventBridge Scheduler schedule (the camera's configuration is the event). It takes the
 * camera's lease, samples from where the camera stopped up to near-live (sampler.ts), and
 * publishes what it did as metrics (dimension `camera`): FramesAnalysed, FramesSkippedUnchanged,
 * FacesSearched, Throttles, LagSeconds, Heartbeat (1 per invocation that sampled), Stopped.
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import { begin, logger, metrics } from './clients';
import { InputError, parseInput, settings } from './config';
import { Progress, sample } from './sampler';
import { acquireLease, releaseLease } from './state';
import { errorName } from '../shared/retry';

export async function handler(event: unknown, context?: Context): Promise<{ camera?: string; position?: number; stoppedEarly?: string; skipped?: string }> {
  begin(context);
  let input;
  try {
    input = parseInput(event);
  } catch (error) {
    if (error instanceof InputError) {
      logger.error('invalid schedule input: nothing sampled', { reason: error.message });
      return { skipped: error.message };
    }
    throw error;
  }
  metrics.addDimension('camera', input.camera);
  const started = Date.now();
  const remaining = context?.getRemainingTimeInMillis?.() ?? 60_000;
  const deadline = started + remaining - settings.safetyMs;
  const owner = context?.awsRequestId ?? `local-${started}-${Math.random().toString(36).slice(2)}`;
  const lease = { key: input.stateKey, owner, untilMs: started + remaining };
  try {
    const state = await acquireLease(lease.key, owner, lease.untilMs);
    if (!state) {
      logger.info('another invocation holds the lease of this camera', { camera: input.camera });
      return { camera: input.camera, skipped: 'lease held' };
    }
    try {
      if (state.stopped) {
        metrics.addMetric('Stopped', MetricUnit.Count, 1);
        return { camera: input.camera, skipped: 'stopped' };
      }
      const liveEdge = started - settings.liveMarginMs;
      let position = state.position ?? liveEdge - settings.initialLookbackMs;
      if (state.startedAt !== undefined && state.startedAt > position) {
        position = state.startedAt; // started by the schedule: the stopped hours are not analysed
      }
      if (liveEdge - position > settings.maxCatchUpMs) {
        const skipped = liveEdge - settings.maxCatchUpMs - position;
        metrics.addMetric('SecondsSkipped', MetricUnit.Seconds, skipped / 1000);
        logger.warn('too far behind live: skipping ahead', { camera: input.camera, skippedSeconds: skipped / 1000 });
        position = liveEdge - settings.maxCatchUpMs;
      }
      const progress: Progress = {
        position,
        tracks: state.tracks,
        thumb: state.thumb,
        framesAnalysed: 0,
        framesSkippedUnchanged: 0,
        facesSearched: 0,
        detectCalls: 0,
        throttles: 0,
        mediaErrors: 0,
        noMedia: 0,
        recordsWritten: 0,
        recordsRetried: 0,
      };
      try {
        await sample(input, lease, progress, liveEdge, deadline);
      } finally {
        publish(progress);
      }
      metrics.addMetric('Heartbeat', MetricUnit.Count, 1);
      logger.info('sampled', { camera: input.camera, ...summary(progress) });
      return { camera: input.camera, position: progress.position, stoppedEarly: progress.stoppedEarly };
    } finally {
      await releaseLease(lease.key, owner);
    }
  } catch (error) {
    logger.error('sampling failed', { camera: input.camera, error: errorName(error), message: (error as Error).message });
    throw error;
  } finally {
    metrics.publishStoredMetrics();
  }
}

function summary(p: Progress) {
  const { tracks: _t, thumb: _th, ...rest } = p;
  return rest;
}

function publish(p: Progress): void {
  metrics.addMetric('FramesAnalysed', MetricUnit.Count, p.framesAnalysed);
  metrics.addMetric('FramesSkippedUnchanged', MetricUnit.Count, p.framesSkippedUnchanged);
  metrics.addMetric('FacesSearched', MetricUnit.Count, p.facesSearched);
  metrics.addMetric('Throttles', MetricUnit.Count, p.throttles);
  metrics.addMetric('MediaErrors', MetricUnit.Count, p.mediaErrors);
  metrics.addMetric('LagSeconds', MetricUnit.Seconds, Math.max(0, (Date.now() - p.position) / 1000));
}
