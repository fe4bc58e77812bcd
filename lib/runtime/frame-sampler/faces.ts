/**
 * Every face of a frame, searched: DetectFaces finds the faces (SearchFacesByImage would search
 * only the largest), then each face worth searching that is not already known is searched alone,
 * on a padded crop of it (the whole frame when it holds exactly one face). Faces are tracked from
 * frame to frame by their boxes, so a face identified (or found unknown) within the identity
 * window is not searched again: its identity is carried forward.
 */
import { DetectFacesCommand, SearchFacesByImageCommand, SearchUsersByImageCommand, type BoundingBox, type FaceDetail, type FaceMatch, type UserMatch } from '@aws-sdk/client-rekognition';
import type { DetectedFace, FaceSearchResult, MatchedFace } from '../face-records/parser';
import { takeToken, throttled } from './budget';
import { rekognition } from './clients';
import type { CameraInput } from './config';
import { settings } from './config';
import { cropFace } from './frames';
import type { Box, Frame } from '../shared/pictures';
import { errorName } from '../shared/errors';
import { retryOptionsFromEnv, withRetry } from '../shared/retry';

export interface Track {
  box: Box;
  /** Producer time (ms) the face was last seen. */
  lastSeen: number;
  /** Producer time (ms) the face was searched. */
  searchedAt: number;
  /** What the search found: the matches (empty for an unknown face). */
  matches: MatchedFace[];
  /**
   * With snapshots: the end (producer time, ms) of the current de-duplication window of this face's
   * person, so that a successor knows it (snapshots.ts). Carried forward with the track.
   */
  snapshotUntil?: number;
}

export interface FrameAnalysis {
  readonly results: FaceSearchResult[];
  readonly tracks: Track[];
  readonly detectCalls: number;
  readonly searchCalls: number;
  readonly throttles: number;
}

const THROTTLES = new Set(['ThrottlingException', 'ProvisionedThroughputExceededException']);
const retry = retryOptionsFromEnv();
/** A box this much overlapping (intersection over union) a track's box is the same face. */
export const MIN_IOU = 0.3;

/**
 * A Rekognition call under the shared budget, retried through withRetry: a token per attempt; a
 * throttled attempt halves the shared rate (AIMD) before withRetry backs off.
 */
function paced<T>(operation: string, deadline: number, counters: { throttles: number }, call: () => Promise<T>): Promise<T> {
  return withRetry(
    operation,
    async () => {
      await takeToken(operation, deadline);
      try {
        return await call();
      } catch (error) {
        if (THROTTLES.has(errorName(error))) {
          counters.throttles++;
          await throttled(operation);
        }
        throw error;
      }
    },
    retry,
  );
}

function iou(a: Box, b: Box): number {
  const x1 = Math.max(a.Left, b.Left);
  const y1 = Math.max(a.Top, b.Top);
  const x2 = Math.min(a.Left + a.Width, b.Left + b.Width);
  const y2 = Math.min(a.Top + a.Height, b.Top + b.Height);
  const inter = Math.max(0, x2 - x1) * Math.max(0, y2 - y1);
  const union = a.Width * a.Height + b.Width * b.Height - inter;
  return union > 0 ? inter / union : 0;
}

function toDetected(face: FaceDetail): DetectedFace {
  const b = face.BoundingBox!;
  const detected: { -readonly [K in keyof DetectedFace]: DetectedFace[K] } = {
    BoundingBox: { Width: b.Width ?? 0, Height: b.Height ?? 0, Left: b.Left ?? 0, Top: b.Top ?? 0 },
    Confidence: face.Confidence ?? 0,
  };
  if (face.Landmarks) {
    detected.Landmarks = face.Landmarks.map((l) => ({ Type: String(l.Type), X: l.X ?? 0, Y: l.Y ?? 0 }));
  }
  if (face.Pose) {
    detected.Pose = { Pitch: face.Pose.Pitch ?? 0, Roll: face.Pose.Roll ?? 0, Yaw: face.Pose.Yaw ?? 0 };
  }
  if (face.Quality) {
    detected.Quality = { Brightness: face.Quality.Brightness ?? 0, Sharpness: face.Quality.Sharpness ?? 0 };
  }
  return detected;
}

function toMatches(found: FaceMatch[] | undefined): MatchedFace[] {
  return (found ?? [])
    .filter((m) => m.Face?.FaceId)
    .map((m) => {
      const f = m.Face!;
      const face: Record<string, unknown> = { FaceId: f.FaceId };
      if (f.BoundingBox) {
        face.BoundingBox = { Width: f.BoundingBox.Width, Height: f.BoundingBox.Height, Left: f.BoundingBox.Left, Top: f.BoundingBox.Top };
      }
      if (f.Confidence !== undefined) face.Confidence = f.Confidence;
      if (f.ImageId) face.ImageId = f.ImageId;
      if (f.ExternalImageId) face.ExternalImageId = f.ExternalImageId;
      return { Similarity: m.Similarity ?? 0, Face: face as unknown as MatchedFace['Face'] };
    })
    .sort((a, b) => b.Similarity - a.Similarity);
}

/** Users matched (users mode), as matches of the record: `UserId`, and `ExternalImageId` equal to it. */
function toUserMatches(found: UserMatch[] | undefined): MatchedFace[] {
  return (found ?? [])
    .filter((m) => m.User?.UserId)
    .map((m) => ({ Similarity: m.Similarity ?? 0, Face: { UserId: m.User!.UserId, ExternalImageId: m.User!.UserId } }))
    .sort((a, b) => b.Similarity - a.Similarity);
}

/** SearchFacesByImage, or SearchUsersByImage in users mode: the matches and the box of the face searched. */
async function search(input: CameraInput, bytes: Buffer, deadline: number, counters: { throttles: number }): Promise<{ matches: MatchedFace[]; searched?: BoundingBox } | undefined> {
  if (input.identity === 'users') {
    const found = await paced('SearchUsersByImage', deadline, counters, () =>
      rekognition.send(new SearchUsersByImageCommand({ CollectionId: input.collectionId, Image: { Bytes: bytes }, UserMatchThreshold: input.faceMatchThreshold, MaxUsers: 5 })),
    );
    // no face in the image: no SearchedFace (not an error, unlike SearchFacesByImage)
    return found.SearchedFace ? { matches: toUserMatches(found.UserMatches), searched: found.SearchedFace.FaceDetail?.BoundingBox } : undefined;
  }
  const found = await paced('SearchFacesByImage', deadline, counters, () =>
    rekognition.send(new SearchFacesByImageCommand({ CollectionId: input.collectionId, Image: { Bytes: bytes }, FaceMatchThreshold: input.faceMatchThreshold, MaxFaces: 5 })),
  );
  return { matches: toMatches(found.FaceMatches), searched: found.SearchedFaceBoundingBox };
}

/**
 * Searches one face. Answers its matches, or undefined when the service finds no face in what it
 * was sent (InvalidParameterException: "no face", not a failure) or finds another face there.
 */
async function searchFace(
  input: CameraInput,
  jpeg: Buffer,
  frame: () => Frame,
  face: DetectedFace,
  alone: boolean,
  deadline: number,
  counters: { throttles: number },
): Promise<MatchedFace[] | undefined> {
  let bytes = jpeg;
  let region = { x: 0, y: 0, width: 0, height: 0 };
  const f = alone ? undefined : frame();
  if (f) {
    const crop = cropFace(f, face.BoundingBox);
    bytes = crop.jpeg;
    region = crop;
  }
  try {
    const found = await search(input, bytes, deadline, counters);
    if (!found) {
      return undefined;
    }
    const searched = found.searched;
    if (f && searched) {
      // the face searched (the largest of the crop) must be the one this crop was made for
      const cx = region.x + ((searched.Left ?? 0) + (searched.Width ?? 0) / 2) * region.width;
      const cy = region.y + ((searched.Top ?? 0) + (searched.Height ?? 0) / 2) * region.height;
      const b = face.BoundingBox;
      if (cx < b.Left * f.width || cx > (b.Left + b.Width) * f.width || cy < b.Top * f.height || cy > (b.Top + b.Height) * f.height) {
        return undefined;
      }
    }
    return found.matches;
  } catch (error) {
    if (errorName(error) === 'InvalidParameterException') {
      return undefined;
    }
    throw error;
  }
}

/** Detects, tracks and searches the faces of one frame. */
export async function analyseFrame(
  input: CameraInput,
  timeMs: number,
  jpeg: Buffer,
  frame: () => Frame,
  previous: Track[],
  deadline: number,
): Promise<FrameAnalysis> {
  const counters = { throttles: 0 };
  const detected = await paced('DetectFaces', deadline, counters, () => rekognition.send(new DetectFacesCommand({ Image: { Bytes: jpeg }, Attributes: ['DEFAULT'] })));
  const all = (detected.FaceDetails ?? []).filter((d) => d.BoundingBox);
  const eligible = all
    .filter((d) => (d.Confidence ?? 0) >= input.minFaceConfidence && (d.BoundingBox!.Width ?? 0) >= input.minFaceWidth)
    .sort((a, b) => b.BoundingBox!.Width! * b.BoundingBox!.Height! - a.BoundingBox!.Width! * a.BoundingBox!.Height!)
    .slice(0, input.maxFacesPerFrame)
    .map(toDetected);

  // tracks still alive: seen within three sampling intervals (at least 5 s)
  const ttl = Math.max(5000, 3 * input.samplingIntervalMs);
  const alive = previous.filter((t) => timeMs - t.lastSeen <= ttl);
  const used = new Set<Track>();
  const results: FaceSearchResult[] = [];
  const tracks: Track[] = [];
  let searchCalls = 0;
  for (const face of eligible) {
    let best: Track | undefined;
    let bestIou = MIN_IOU;
    for (const t of alive) {
      const overlap = iou(t.box, face.BoundingBox);
      if (!used.has(t) && overlap >= bestIou) {
        best = t;
        bestIou = overlap;
      }
    }
    if (best) {
      used.add(best);
    }
    if (best && timeMs - best.searchedAt < settings.identityWindowMs) {
      tracks.push({ ...best, box: face.BoundingBox, lastSeen: timeMs });
      results.push({ DetectedFace: face, MatchedFaces: best.matches });
      continue;
    }
    searchCalls++;
    const matches = await searchFace(input, jpeg, frame, face, all.length === 1, deadline, counters);
    if (matches === undefined) {
      continue; // not a searchable face: not reported, searched again next time
    }
    tracks.push({ box: face.BoundingBox, lastSeen: timeMs, searchedAt: timeMs, matches });
    results.push({ DetectedFace: face, MatchedFaces: matches });
  }
  // A track this analysed frame did not see ends here: the next face at its place is searched, not
  // taken for the one that left (a person stepping into the spot another just left would otherwise be
  // reported under the other's name until the identity window ran out). A face DetectFaces misses in
  // one frame costs one more search when it is seen again.
  // results[i] is the face of tracks[i] (pushed together above): snapshots.ts relies on it
  return { results, tracks, detectCalls: 1, searchCalls, throttles: counters.throttles };
}
