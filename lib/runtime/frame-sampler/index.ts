/**
 * The frame sampler, invoked every minute for each camera on the frame-sampling engine by that
 * camera's EventBridge Scheduler schedule (the camera's configuration is the event).
 * - live mode: the invocation that takes the camera's lease follows it (sampler.ts `follow`) until
 *   HAND_OVER_SECONDS before its timeout, starts its successor (successor.ts) and hands it the lease,
 *   the position and the tracked faces; schedule invocations finding the lease held end at once, and
 *   one finding it free (a follower was killed, or its successor never came) takes over.
 * - catch-up mode: the invocation samples from where the camera stopped up to near-live, then ends.
 * Metrics (dimension `camera`): FramesAnalysed, FramesSkippedUnchanged, FacesSearched, Throttles,
 * MediaErrors, GetImagesCalls, LagSeconds, LatencySeconds (frame time to record written),
 * Heartbeat (1 per invocation or live minute that sampled), Stopped.
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import { begin, logger, metrics } from './clients';
import { CameraInput, InputError, parseInput, settings } from './config';
import { follow, Lease, newProgress, Progress, sample, ServiceClock } from './sampler';
import { acquireLease, CameraState, readRow, registerSuccessor, releaseLease } from './state';
import { invokeSuccessor } from './successor';
import { errorName } from '../shared/errors';
import { SAMPLER_METRICS, SNAPSHOT_METRICS } from '../../metric-names';

export interface SamplerResult {
  camera?: string;
  position?: number;
  stoppedEarly?: string;
  skipped?: string;
  /** Live mode: how the follower ended. */
  outcome?: string;
}

export async function handler(event: unknown, context?: Context): Promise<SamplerResult> {
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
  const timeLeft = () => context?.getRemainingTimeInMillis?.() ?? 60_000;
  const owner = context?.awsRequestId ?? `local-${started}-${Math.random().toString(36).slice(2)}`;
  try {
    if (input.mode === 'live') {
      return await live(input, input.handOverFrom, owner, timeLeft, context);
    }
    return await catchUp(input, owner, started, timeLeft());
  } catch (error) {
    logger.error('sampling failed', { camera: input.camera, error: errorName(error), message: (error as Error).message });
    throw error;
  } finally {
    metrics.publishStoredMetrics();
  }
}

/** Where sampling starts: the saved position, the schedule's start time, at most MAX_CATCH_UP_SECONDS behind. */
function startPosition(state: CameraState, liveEdge: number, firstLookback: number): number {
  let position = state.position ?? liveEdge - firstLookback;
  if (state.startedAt !== undefined && state.startedAt > position) {
    position = state.startedAt; // started by the schedule: the stopped hours are not analysed
  }
  if (liveEdge - position > settings.maxCatchUpMs) {
    const skipped = liveEdge - settings.maxCatchUpMs - position;
    metrics.addMetric(SAMPLER_METRICS.SECONDS_SKIPPED, MetricUnit.Seconds, skipped / 1000);
    logger.warn('too far behind live: skipping ahead', { skippedSeconds: skipped / 1000 });
    position = liveEdge - settings.maxCatchUpMs;
  }
  return position;
}

async function catchUp(input: CameraInput, owner: string, started: number, remaining: number): Promise<SamplerResult> {
  const deadline = started + remaining - settings.safetyMs;
  const lease: Lease = { key: input.stateKey, owner, untilMs: started + remaining };
  const state = await acquireLease(lease.key, owner, lease.untilMs);
  if (!state) {
    logger.info('another invocation holds the lease of this camera', { camera: input.camera });
    return { camera: input.camera, skipped: 'lease held' };
  }
  try {
    if (state.stopped) {
      metrics.addMetric(SAMPLER_METRICS.STOPPED, MetricUnit.Count, 1);
      return { camera: input.camera, skipped: 'stopped' };
    }
    const liveEdge = started - settings.liveMarginMs;
    const progress = newProgress(startPosition(state, liveEdge, settings.initialLookbackMs), state);
    try {
      await sample(input, lease, progress, liveEdge, deadline);
    } finally {
      publishSince(input.camera, progress, counters(newProgress(0, { tracks: [] })), Date.now());
    }
    metrics.addMetric(SAMPLER_METRICS.HEARTBEAT, MetricUnit.Count, 1);
    logger.info('sampled', { camera: input.camera, ...summary(progress) });
    return { camera: input.camera, position: progress.position, stoppedEarly: progress.stoppedEarly };
  } finally {
    await releaseLease(lease.key, owner);
  }
}

/** Live mode: take the lease (from a predecessor, or free), follow, hand over. */
async function live(input: CameraInput, predecessor: string | undefined, owner: string, timeLeft: () => number, context?: Context): Promise<SamplerResult> {
  const lease: Lease = { key: input.stateKey, owner, untilMs: Date.now() + settings.leaseMs };
  const state = predecessor ? await takeOver(lease, predecessor, timeLeft) : await acquireLease(lease.key, owner, lease.untilMs);
  if (!state) {
    logger.info('another follower holds the lease of this camera', { camera: input.camera });
    return { camera: input.camera, skipped: 'lease held' };
  }
  if (state.stopped) {
    await releaseLease(lease.key, owner);
    metrics.addMetric(SAMPLER_METRICS.STOPPED, MetricUnit.Count, 1);
    return { camera: input.camera, skipped: 'stopped' };
  }
  const progress = newProgress(startPosition(state, Date.now() - settings.gapMarginMs, 0), state);
  const functionName = context?.functionName || process.env.AWS_LAMBDA_FUNCTION_NAME || '';
  let published = { at: Date.now(), ...counters(progress) };
  const outcome = await follow(
    input,
    {
      lease,
      timeLeft,
      startSuccessor: async () => {
        try {
          await invokeSuccessor(functionName, input, owner);
        } catch (error) {
          // the schedule starts a follower within a minute of the lease's release: later, never lost
          logger.warn('could not start the successor', { camera: input.camera, error: errorName(error) });
        }
      },
      tick: (p: Progress, clock: ServiceClock) => {
        if (Date.now() - published.at >= settings.metricsEveryMs) {
          publishSince(input.camera, p, published, clock.now());
          metrics.addMetric(SAMPLER_METRICS.HEARTBEAT, MetricUnit.Count, 1);
          metrics.publishStoredMetrics();
          published = { at: Date.now(), ...counters(p) };
        }
      },
    },
    progress,
  );
  publishSince(input.camera, progress, published, Date.now());
  metrics.addMetric(SAMPLER_METRICS.HEARTBEAT, MetricUnit.Count, 1);
  logger.info('followed', { camera: input.camera, outcome, ...summary(progress) });
  return { camera: input.camera, position: progress.position, outcome, stoppedEarly: progress.stoppedEarly };
}

/**
 * A successor: says it waits for `predecessor`'s lease, then waits until the predecessor hands it
 * over (or frees it, or dies and the lease expires: then it takes the lease as anyone would).
 */
async function takeOver(lease: Lease, predecessor: string, timeLeft: () => number): Promise<CameraState | undefined> {
  const registered = await registerSuccessor(lease.key, predecessor, lease.owner);
  const waitUntil = Date.now() + Math.min(settings.successorWaitMs, Math.max(0, timeLeft() - settings.handOverLeadMs));
  for (;;) {
    if (registered) {
      const row = await readRow(lease.key);
      if (row.leaseOwner === lease.owner) {
        lease.untilMs = row.leaseUntil ?? lease.untilMs;
        return row;
      }
      if (row.successor !== lease.owner && row.leaseOwner !== predecessor) {
        return undefined; // someone else took the camera
      }
      if (row.leaseOwner === predecessor && (row.leaseUntil ?? 0) >= Date.now() && Date.now() < waitUntil) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        continue;
      }
    }
    lease.untilMs = Date.now() + settings.leaseMs;
    return acquireLease(lease.key, lease.owner, lease.untilMs);
  }
}

function counters(p: Progress) {
  const { position: _p, tracks: _t, thumb: _th, windows: _w, latencies: _l, stoppedEarly: _s, ...rest } = p;
  return rest;
}

function summary(p: Progress) {
  const { tracks: _t, thumb: _th, windows: _w, latencies, ...rest } = p;
  return { ...rest, latencyMaxSeconds: latencies.length ? Math.max(...latencies) : undefined };
}

/** Publishes what happened since `last` (a snapshot of the counters) and the latencies since. */
function publishSince(camera: string, p: Progress, last: ReturnType<typeof counters>, now: number): void {
  metrics.addDimension('camera', camera); // publishing clears the dimensions
  metrics.addMetric(SAMPLER_METRICS.FRAMES_ANALYSED, MetricUnit.Count, p.framesAnalysed - last.framesAnalysed);
  metrics.addMetric(SAMPLER_METRICS.FRAMES_SKIPPED_UNCHANGED, MetricUnit.Count, p.framesSkippedUnchanged - last.framesSkippedUnchanged);
  metrics.addMetric(SAMPLER_METRICS.FACES_SEARCHED, MetricUnit.Count, p.facesSearched - last.facesSearched);
  metrics.addMetric(SAMPLER_METRICS.THROTTLES, MetricUnit.Count, p.throttles - last.throttles);
  metrics.addMetric(SAMPLER_METRICS.MEDIA_ERRORS, MetricUnit.Count, p.mediaErrors - last.mediaErrors);
  metrics.addMetric(SAMPLER_METRICS.GET_IMAGES_CALLS, MetricUnit.Count, p.getImagesCalls - last.getImagesCalls);
  if (p.snapshotsStored > last.snapshotsStored || p.snapshotsFailed > last.snapshotsFailed) {
    metrics.addMetric(SNAPSHOT_METRICS.STORED, MetricUnit.Count, p.snapshotsStored - last.snapshotsStored);
    metrics.addMetric(SNAPSHOT_METRICS.FAILED, MetricUnit.Count, p.snapshotsFailed - last.snapshotsFailed);
  }
  metrics.addMetric(SAMPLER_METRICS.LAG_SECONDS, MetricUnit.Seconds, Math.max(0, (now - p.position) / 1000));
  for (const seconds of p.latencies.splice(0, p.latencies.length).slice(-100)) {
    metrics.addMetric(SAMPLER_METRICS.LATENCY_SECONDS, MetricUnit.Seconds, Math.max(0, seconds));
  }
}
