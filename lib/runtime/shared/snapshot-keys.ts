/**
 * Snapshot object keys, from what an event carries: the same function for the handlers that store
 * snapshots and the CLI that finds one by event id.
 *
 *   <prefix><camera>/<YYYY-MM-DD>/<frame time ms>-<face index>-<hash>/face.jpg   (and frame.jpg)
 *
 * The day is the frame time's, in UTC. The hash (16 hex digits of the sha-256 of the sighting id)
 * keeps two streams' frames of the same millisecond apart. The sighting id is
 * `<video stream ARN>|<fragment number>|<producer timestamp s>|<frame offset s>|<face index>`
 * (lib/runtime/face-records/parser.ts), so everything but the camera follows from it.
 */
import { createHash } from 'node:crypto';

export interface SnapshotKeys {
  readonly faceKey: string;
  readonly frameKey: string;
}

/** What a sighting id tells, and the frame time the parser derives from it (ms, as the event's frameTime). */
export interface SightingIdParts {
  readonly videoStreamArn: string;
  readonly fragmentNumber: string;
  readonly frameTimeMs: number;
  readonly faceIndex: number;
}

/** Splits a sighting id (the detail's `id`); undefined when it is not one. */
export function parseSightingId(id: string): SightingIdParts | undefined {
  const parts = id.split('|');
  if (parts.length !== 5) {
    return undefined;
  }
  const [videoStreamArn, fragmentNumber, producer, offset, index] = parts;
  const producerSeconds = Number(producer);
  const offsetSeconds = Number(offset);
  const faceIndex = Number(index);
  if (!videoStreamArn || !fragmentNumber || !Number.isFinite(producerSeconds) || !Number.isFinite(offsetSeconds) || !Number.isInteger(faceIndex) || faceIndex < 0) {
    return undefined;
  }
  // the parser's frameTime: Math.round((ProducerTimestamp + FrameOffsetInSeconds) * 1000)
  return { videoStreamArn, fragmentNumber, frameTimeMs: Math.round((producerSeconds + offsetSeconds) * 1000), faceIndex };
}

/** The folder of one sighting's pictures, from its id and camera (frame time and face index come from the id). */
export function snapshotFolder(prefix: string, camera: string, sightingId: string): string {
  const parts = parseSightingId(sightingId);
  if (!parts) {
    throw new Error(`not a sighting id: ${JSON.stringify(sightingId)} (expected <video stream ARN>|<fragment>|<producer timestamp>|<offset>|<face index>)`);
  }
  const day = new Date(parts.frameTimeMs).toISOString().slice(0, 10);
  const hash = createHash('sha256').update(sightingId).digest('hex').slice(0, 16);
  return `${prefix}${camera}/${day}/${parts.frameTimeMs}-${parts.faceIndex}-${hash}/`;
}

/** The face and frame keys of one sighting. */
export function snapshotKeys(prefix: string, camera: string, sightingId: string): SnapshotKeys {
  const folder = snapshotFolder(prefix, camera, sightingId);
  return { faceKey: `${folder}face.jpg`, frameKey: `${folder}frame.jpg` };
}
