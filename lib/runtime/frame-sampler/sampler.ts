/**
 * Follows one camera from where its state says sampling stopped up to near-live, window by window
 * (GetImages allows 300 s per request), page by page: each page's frames are analysed, their records
 * written, then the position saved (under the lease), so a crash repeats at most one page.
 */
import type { CameraInput } from './config';
import { FRAGMENT_LOOKBACK_MS, MAX_WINDOW_MS, PAGE_SIZE } from './config';
import { analyseFrame, Track } from './faces';
import { changed, decode, Frame, thumbnail } from './frames';
import { getImages, KvsImage } from './images';
import { faceSearchRecord, putRecords } from './records';
import { saveProgress } from './state';
import { OutOfTime } from './budget';
import { backoff, errorName, isRetryable } from '../shared/retry';

export interface Progress {
  position: number;
  tracks: Track[];
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
  /** Why sampling stopped before live, if it did. */
  stoppedEarly?: string;
}

export interface Lease {
  readonly key: string;
  readonly owner: string;
  readonly untilMs: number;
}

/** Errors of a frame's bytes: the frame is skipped (and counted), not retried. */
const BAD_IMAGE = new Set(['InvalidImageFormatException', 'ImageTooLargeException', 'InvalidParameterException']);
const KVS_RETRY = { attempts: 5, baseDelayMs: Number(process.env.RETRY_BASE_DELAY_MS ?? 250), maxDelayMs: Number(process.env.RETRY_MAX_DELAY_MS ?? 4000) };

async function page(input: CameraInput, startMs: number, endMs: number, nextToken?: string) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await getImages({
        streamArn: input.videoStreamArn,
        startMs,
        endMs,
        samplingIntervalMs: input.samplingIntervalMs,
        widthPixels: input.imageWidth || undefined,
        maxResults: PAGE_SIZE,
        nextToken,
      });
    } catch (error) {
      const retry = errorName(error) === 'ClientLimitExceededException' || isRetryable(error);
      if (!retry || attempt >= KVS_RETRY.attempts) {
        throw error;
      }
      await backoff(attempt, KVS_RETRY);
    }
  }
}

export async function sample(input: CameraInput, lease: Lease, progress: Progress, liveEdge: number, deadline: number): Promise<void> {
  while (progress.position < liveEdge) {
    const windowEnd = Math.min(progress.position + MAX_WINDOW_MS - FRAGMENT_LOOKBACK_MS, liveEdge);
    const windowStart = progress.position - FRAGMENT_LOOKBACK_MS;
    let token: string | undefined;
    do {
      if (Date.now() >= deadline) {
        progress.stoppedEarly = 'deadline';
        return;
      }
      const result = await page(input, windowStart, windowEnd, token);
      token = result.nextToken;
      const done = await analysePage(input, result.images, progress, deadline);
      if (!done) {
        await save(lease, progress);
        return;
      }
      await save(lease, progress);
    } while (token);
    progress.position = Math.max(progress.position, windowEnd);
    await save(lease, progress);
  }
}

async function save(lease: Lease, progress: Progress): Promise<void> {
  await saveProgress(lease.key, lease.owner, lease.untilMs, progress.position, progress.tracks, progress.thumb);
}

/** Analyses a page and writes its records; false when it had to stop before the page's end. */
async function analysePage(input: CameraInput, images: KvsImage[], progress: Progress, deadline: number): Promise<boolean> {
  const records: object[] = [];
  let position = progress.position;
  let tracks = progress.tracks;
  let thumb = progress.thumb;
  let complete = true;
  for (const image of [...images].sort((a, b) => a.timeMs - b.timeMs)) {
    if (image.timeMs <= position) {
      continue; // analysed already (the window starts a fragment early)
    }
    if (!image.jpeg) {
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
        records.push(faceSearchRecord(input.videoStreamArn, image.timeMs, analysis.results));
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
    progress.recordsRetried += await putRecords(input.dataStreamArn, input.camera, records);
    progress.recordsWritten += records.length;
  }
  progress.position = position;
  progress.tracks = tracks;
  progress.thumb = thumb;
  return complete;
}
