/**
 * The step before a sighting's event is sent (events.ts publishSightings, after de-duplication
 * decided that it is sent): with snapshots on (SNAPSHOT_BUCKET), the snapshot of each
 * stream-processor sighting is stored, and its event names it. Frame-sampling records bring their
 * own (the frame sampler stores them). A snapshot that cannot be stored is counted, and its event
 * goes without it: a snapshot never holds an event back, nor makes its record be retried.
 *
 * The snapshot code is a second file of the consumer's asset (./snapshots, scripts/bundle.mjs),
 * loaded at the first sighting that needs it: a consumer without snapshots does not load it.
 */
import type { FaceSnapshot } from '../../events';
import { ENGINE_NAMES } from '../../events';
import { errorName } from '../shared/errors';
import { logger } from './clients';
import { config } from './config';
import type { Outcome, Sighting } from './outcome';
import type { Snapshotter } from './snapshots';

/**
 * Time kept before the invocation's deadline for what follows the snapshots (sending the events,
 * marking the claims): snapshots still unfinished then are given up.
 */
export const SNAPSHOT_RESERVE_MS = 15_000;

let snapshotter: Promise<Snapshotter> | undefined;

function load(): Promise<Snapshotter> {
  snapshotter ??= import('./snapshots').then(({ createSnapshotter }) => createSnapshotter({ ...config.snapshots, log: logger }));
  return snapshotter;
}

/** Whether the consumer stores this sighting's snapshot. */
export function needsSnapshot(sighting: Sighting): boolean {
  return config.snapshots.bucket !== '' && sighting.event.snapshot === undefined && sighting.event.engine === ENGINE_NAMES.STREAM_PROCESSOR;
}

/** Stores the snapshots of the sightings that need one; answers those stored. */
export async function storeSnapshots(sightings: Sighting[], outcome: Outcome): Promise<Map<Sighting, FaceSnapshot>> {
  const stored = new Map<Sighting, FaceSnapshot>();
  const due = sightings.filter(needsSnapshot);
  if (due.length === 0) {
    return stored;
  }
  let taken: Array<FaceSnapshot | undefined> = [];
  try {
    const take = await load();
    taken = await take(
      due.map((s) => s.event),
      outcome.deadlineMs - SNAPSHOT_RESERVE_MS,
    );
  } catch (error) {
    snapshotter = undefined; // loaded again by the next batch
    logger.error('snapshots failed; the events go without them', { error: errorName(error), message: (error as Error).message, sightings: due.length });
  }
  due.forEach((s, i) => {
    const snapshot = taken[i];
    if (snapshot) {
      stored.set(s, snapshot);
      outcome.snapshotsStored += 1;
    } else {
      outcome.snapshotsFailed += 1;
    }
  });
  return stored;
}
