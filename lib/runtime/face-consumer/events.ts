/** The face events of sightings, sent through the shared publisher. */
import type { PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { FACE_DETAIL_TYPES, faceEventEntry, FaceMatchedDetail, FaceNotMatchedDetail } from '../shared/face-events';
import { publisher } from './clients';
import { config } from './config';
import type { FaceSnapshot } from '../../events';
import type { Outcome, Sighting } from './outcome';
import { storeSnapshots } from './snapshot-step';

/** The PutEvents entry of a sighting; `snapshot` is the one the consumer stored for it (snapshot-step.ts). */
export function entryOf(sighting: Sighting, snapshot?: FaceSnapshot): PutEventsRequestEntry {
  const event = sighting.event;
  const options = { eventBusName: config.eventBusName, resources: [event.videoStreamArn], time: new Date(event.frameTime) };
  const detail = snapshot ? { ...event, consumer: config.consumerId, snapshot } : { ...event, consumer: config.consumerId };
  return event.matched
    ? faceEventEntry(FACE_DETAIL_TYPES.FACE_MATCHED, detail as FaceMatchedDetail, options)
    : faceEventEntry(FACE_DETAIL_TYPES.FACE_NOT_MATCHED, detail as FaceNotMatchedDetail, options);
}

/**
 * Sends the events of the sightings, each once its snapshot is stored (with snapshots on, see
 * snapshot-step.ts); records of events not delivered after the retries become batch item failures.
 * Returns the sightings whose events were not delivered.
 */
export async function publishSightings(sightings: Sighting[], outcome: Outcome): Promise<Set<Sighting>> {
  if (sightings.length === 0) {
    return new Set();
  }
  const snapshots = await storeSnapshots(sightings, outcome);
  const undelivered = new Set(await publisher.publish(sightings.map((s) => ({ entry: entryOf(s, snapshots.get(s)), ref: s }))));
  for (const s of sightings) {
    if (undelivered.has(s)) {
      outcome.failed.add(s.record);
      outcome.eventsFailed += 1;
    } else if (s.event.matched) {
      outcome.matched += 1;
    } else {
      outcome.unknown += 1;
    }
  }
  return undelivered;
}
