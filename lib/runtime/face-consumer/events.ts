/** The face events of sightings, sent through the shared publisher. */
import type { PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { FACE_DETAIL_TYPES, faceEventEntry, FaceMatchedDetail, FaceNotMatchedDetail } from '../shared/face-events';
import { publisher } from './clients';
import { config } from './config';
import type { Outcome, Sighting } from './outcome';

export function entryOf(sighting: Sighting): PutEventsRequestEntry {
  const event = sighting.event;
  const options = { eventBusName: config.eventBusName, resources: [event.videoStreamArn], time: new Date(event.frameTime) };
  const detail = { ...event, consumer: config.consumerId };
  return event.matched
    ? faceEventEntry(FACE_DETAIL_TYPES.FACE_MATCHED, detail as FaceMatchedDetail, options)
    : faceEventEntry(FACE_DETAIL_TYPES.FACE_NOT_MATCHED, detail as FaceNotMatchedDetail, options);
}

/**
 * Sends the events of the sightings; records of events not delivered after the retries become
 * batch item failures. Returns the sightings whose events were not delivered.
 */
export async function publishSightings(sightings: Sighting[], outcome: Outcome): Promise<Set<Sighting>> {
  if (sightings.length === 0) {
    return new Set();
  }
  const undelivered = new Set(await publisher.publish(sightings.map((s) => ({ entry: entryOf(s), ref: s }))));
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
