/**
 * How a camera's video is read, page by page: each page's frames are analysed, their records
 * written (under the lease: renewed just before, so a follower that lost it writes nothing), then
 * the position saved, so a crash repeats at most the page it was analysing and writes no record twice.
 * - catch-up mode (`sample`): from where the camera stopped up to near-live, window by window
 *   (GetImages allows 300 s per request), then the invocation ends;
 * - live mode (`follow`): from where the camera stopped, then at the newest stored fragment, asking
 *   again every LIVE_POLL_MS, until it is time to hand over to a successor.
 */
import { OutOfTime } from './budget';
import type { CameraInput } from './config';
import { FRAGMENT_LOOKBACK_MS, LIVE_PAGE_AHEAD_MS, MAX_WINDOW_MS, PAGE_SIZE, settings } from './config';
import { analyseFrame, Track } from './faces';
import { changed, thumbnail } from './frames';
import { decode, type Frame } from '../shared/pictures';
import { getImages, KvsImage } from './images';
import { faceSearchRecord, putRecords } from './records';
import { snapshotRecord, SnapshotWindows } from './snapshots';
import { CameraState, handOverLease, LeaseLost, releaseLease, renewLease, saveProgress } from './state';
import { errorName } from '../shared/errors';
import { type Lease as SharedLease, leaseUntil } from '../shared/lease';

export interface Progress {
  position: number;
  tracks: Track[];
  /** With snapshots: each person's open de-duplication window (saved with the camera's state). */
  windows: Record<string, number>;
  thumb?: Uint8Array;
  framesAnalysed: number;
  framesSkippedUnchanged: number;
  facesSearched: number;
  detectCalls: number;
  throttles: number;
  mediaErrors: number;
  noMedia: number;
  recordsWritten: number;
  recordsRetried: number;
  getImagesCalls: number;
  /** Snapshots stored, and sightings written without one because storing failed. */
  snapshotsStored: number;
  snapshotsFailed: number;
  /** Seconds from each written record's frame time to its write (the service's clock). */
  latencies: number[];
  /** Why sampling stopped before live, if it did. */
  stoppedEarly?: string;
}

export function newProgress(position: number, state: Pick<CameraState, 'tracks' | 'thumb'> & Partial<Pick<CameraState, 'windows'>>): Progress {
  return {
    position,
    tracks: state.tracks,
    windows: { ...state.windows },
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
    getImagesCalls: 0,
    snapshotsStored: 0,
    snapshotsFailed: 0,
    latencies: [],
  };
}

/** The camera's lease (shared/lease.ts's), with the state row it is stored in; extended as sampling goes. */
export interface Lease extends SharedLease {
  readonly key: string;
  untilMs: number;
}

/**
 * The service's clock, from the Date header of its answers (1 s resolution, so it lags by up to a
 * second: the safe side for deciding that video is old enough to be missing rather than on its way).
 */
export class ServiceClock {
  private offset = 0;
  public observe(serverTime: number | undefined): void {
    if (serverTime !== undefined) {
      this.offset = serverTime - Date.now();
    }
  }
  public now(): number {
    return Date.now() + this.offset;
  }
}

/** Errors of a frame's bytes: the frame is skipped (and counted), not retried. */
const BAD_IMAGE = new Set(['InvalidImageFormatException', 'ImageTooLargeException', 'InvalidParameterException']);
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function request(input: CameraInput, startMs: number, endMs: number, maxResults: number, nextToken?: string) {
  return getImages({ streamArn: input.videoStreamArn, startMs, endMs, samplingIntervalMs: input.samplingIntervalMs, widthPixels: input.imageWidth || undefined, maxResults, nextToken });
}

/** Catch-up mode: samples from the position up to `liveEdge`, or until the deadline. */
export async function sample(input: CameraInput, lease: Lease, progress: Progress, liveEdge: number, deadline: number): Promise<void> {
  const page = { noMediaBefore: Number.POSITIVE_INFINITY, clock: new ServiceClock(), fence: () => renew(lease) };
  while (progress.position < liveEdge) {
    const windowEnd = Math.min(progress.position + MAX_WINDOW_MS - FRAGMENT_LOOKBACK_MS, liveEdge);
    const windowStart = progress.position - FRAGMENT_LOOKBACK_MS;
    let token: string | undefined;
    do {
      if (Date.now() >= deadline) {
        progress.stoppedEarly = 'deadline';
        return;
      }
      const result = await request(input, windowStart, windowEnd, PAGE_SIZE, token);
      progress.getImagesCalls++;
      token = result.nextToken;
      const done = await analysePage(input, result.images, progress, deadline, page);
      await save(lease, progress);
      if (!done) {
        return;
      }
    } while (token);
    progress.position = Math.max(progress.position, windowEnd);
    await save(lease, progress);
  }
}

export interface LiveControl {
  readonly lease: Lease;
  /** Milliseconds left in this invocation. */
  timeLeft(): number;
  /** Starts the successor (asynchronously); called once, HAND_OVER_SECONDS before the end. */
  startSuccessor(): Promise<void>;
  /** Called after every page: publishes metrics when due. */
  tick(progress: Progress, clock: ServiceClock): void;
}

export type FollowOutcome = 'handed over' | 'released' | 'stopped' | 'lease lost';

/**
 * Live mode: follows the camera until it hands the lease to its successor (or, without one, frees
 * it just before the invocation ends: the camera's schedule then starts the next follower).
 */
export async function follow(input: CameraInput, control: LiveControl, progress: Progress): Promise<FollowOutcome> {
  const { lease } = control;
  const clock = new ServiceClock();
  const page = { noMediaBefore: 0, clock, fence: () => renew(lease) };
  let successorAsked = false;
  let lastCall = 0;
  let lastRenew = Date.now();
  try {
    for (;;) {
      const left = control.timeLeft();
      if (left <= settings.safetyMs) {
        await save(lease, progress);
        await releaseLease(lease.key, lease.owner);
        return 'released';
      }
      if (left <= settings.handOverLeadMs && !successorAsked) {
        successorAsked = true;
        await control.startSuccessor();
      }
      const gap = lastCall + settings.minCallGapMs - Date.now();
      if (gap > 0) {
        await sleep(gap);
      }
      const start = progress.position - FRAGMENT_LOOKBACK_MS;
      const end = Math.min(progress.position + MAX_WINDOW_MS - FRAGMENT_LOOKBACK_MS, clock.now() + FRAGMENT_LOOKBACK_MS);
      // ask only for the sampling points the window holds (the request's quota cost is 400 + MaxResults),
      // and a few seconds at a time: records are written per page
      const span = Math.min(end - start, FRAGMENT_LOOKBACK_MS + LIVE_PAGE_AHEAD_MS);
      const maxResults = Math.max(1, Math.min(PAGE_SIZE, Math.floor(span / input.samplingIntervalMs) + 1));
      lastCall = Date.now();
      const result = await request(input, start, end, maxResults);
      progress.getImagesCalls++;
      clock.observe(result.serverTime);
      page.noMediaBefore = clock.now() - settings.gapMarginMs;
      const before = progress.position;
      const complete = await analysePage(input, result.images, progress, Date.now() + control.timeLeft() - settings.safetyMs, page);
      if (complete && !result.images.some((i) => i.timeMs > before) && end < page.noMediaBefore) {
        progress.position = end; // nothing stored in a window old enough: a gap in the video
      }
      const progressed = progress.position > before;
      let row: CameraState | undefined;
      if (progressed) {
        row = await save(lease, progress);
        lastRenew = Date.now();
      } else if (successorAsked || Date.now() - lastRenew >= settings.leaseMs / 3) {
        row = await renew(lease);
        lastRenew = Date.now();
      }
      control.tick(progress, clock);
      if (row?.stopped) {
        await releaseLease(lease.key, lease.owner);
        return 'stopped';
      }
      if (row?.successor) {
        lease.untilMs = leaseUntil(Date.now(), settings.leaseMs);
        if (await handOverLease(lease.key, lease.owner, row.successor, lease.untilMs, progress.position, progress.tracks, progress.thumb, progress.windows)) {
          return 'handed over';
        }
      }
      if (!progressed) {
        await sleep(settings.pollMs);
      }
    }
  } catch (error) {
    if (error instanceof LeaseLost) {
      return 'lease lost';
    }
    throw error;
  }
}

function extend(lease: Lease): void {
  lease.untilMs = Math.max(lease.untilMs, leaseUntil(Date.now(), settings.leaseMs));
}

async function renew(lease: Lease): Promise<CameraState> {
  extend(lease);
  return renewLease(lease.key, lease.owner, lease.untilMs);
}

async function save(lease: Lease, progress: Progress): Promise<CameraState> {
  extend(lease);
  return saveProgress(lease.key, lease.owner, lease.untilMs, progress.position, progress.tracks, progress.thumb, progress.windows);
}

interface PageOptions {
  /** A NO_MEDIA sampling point after the page's last stored image is passed over only if older than this. */
  readonly noMediaBefore: number;
  readonly clock: ServiceClock;
  /** Renews the lease just before records are written (throws LeaseLost). */
  readonly fence: () => Promise<unknown>;
}

/** Analyses a page and writes its records; false when it had to stop before the page's end. */
async function analysePage(input: CameraInput, images: KvsImage[], progress: Progress, deadline: number, options: PageOptions): Promise<boolean> {
  const records: Array<{ timeMs: number; record: object }> = [];
  let position = progress.position;
  let tracks = progress.tracks;
  let thumb = progress.thumb;
  let complete = true;
  const sorted = [...images].sort((a, b) => a.timeMs - b.timeMs);
  const lastStored = sorted.reduce((last, i) => (i.error === 'NO_MEDIA' ? last : Math.max(last, i.timeMs)), Number.NEGATIVE_INFINITY);
  const snapshots = input.snapshots ? new SnapshotWindows(progress.windows, tracks, input.snapshots.windowSeconds * 1000) : undefined;
  for (const image of sorted) {
    if (image.timeMs <= position) {
      continue; // analysed already (the window starts a fragment early)
    }
    if (!image.jpeg) {
      if (image.error === 'NO_MEDIA' && image.timeMs > lastStored && image.timeMs >= options.noMediaBefore) {
        break; // its fragment may not be stored yet: asked again next time
      }
      if (image.error === 'MEDIA_ERROR') {
        progress.mediaErrors++;
      } else {
        progress.noMedia++;
      }
      position = image.timeMs;
      continue;
    }
    let decoded: Frame;
    try {
      decoded = decode(image.jpeg);
    } catch {
      progress.mediaErrors++;
      position = image.timeMs;
      continue;
    }
    const small = thumbnail(decoded);
    if (!changed(thumb, small)) {
      progress.framesSkippedUnchanged++;
      position = image.timeMs;
      continue;
    }
    try {
      const analysis = await analyseFrame(input, image.timeMs, image.jpeg, () => decoded, tracks, deadline);
      progress.framesAnalysed++;
      progress.detectCalls += analysis.detectCalls;
      progress.facesSearched += analysis.searchCalls;
      progress.throttles += analysis.throttles;
      tracks = analysis.tracks;
      if (analysis.results.length > 0) {
        const record = faceSearchRecord(input.videoStreamArn, image.timeMs, analysis.results);
        if (snapshots) {
          // stored now, before the page's records are written (snapshots.ts)
          await snapshotRecord({ ...input, snapshots: input.snapshots! }, record, decoded, image.jpeg, tracks, snapshots, progress);
        }
        records.push({ timeMs: image.timeMs, record });
      }
    } catch (error) {
      if (error instanceof OutOfTime) {
        progress.stoppedEarly = 'rekognition budget';
        complete = false;
        break;
      }
      if (!BAD_IMAGE.has(errorName(error))) {
        // a throttling that outlived its retries, or a permanent error: stop here, keep the position
        progress.stoppedEarly = errorName(error);
        complete = false;
        if (records.length === 0) {
          throw error;
        }
        break;
      }
      progress.mediaErrors++;
    }
    thumb = small;
    position = image.timeMs;
  }
  if (records.length > 0) {
    await options.fence();
    progress.recordsRetried += await putRecords(
      input.dataStreamArn,
      input.camera,
      records.map((r) => r.record),
    );
    progress.recordsWritten += records.length;
    snapshots?.commit(position);
    const now = options.clock.now();
    progress.latencies.push(...records.map((r) => (now - r.timeMs) / 1000));
  }
  progress.position = position;
  progress.tracks = tracks;
  progress.thumb = thumb;
  return complete;
}
