/** The enrolment events: built with the shared face-event contract, sent with the shared publisher. */
import { faceEventEntry, FaceDetailType, FaceEventDetail } from '../shared/face-events';
import { logger, publisher } from './clients';
import { config } from './config';
import type { PendingEvent } from './mapping';
import { ObjectRef, versionOf } from './s3-event';

/** The fields every enrolment event's detail starts with. */
export function detailBase(o: ObjectRef, versionId = versionOf(o)) {
  return { collectionId: config.collectionId, bucket: o.bucket, key: o.key, ...(versionId ? { versionId } : {}) };
}

export function pendingEvent<T extends FaceDetailType>(detailType: T, detail: FaceEventDetail<T>): PendingEvent {
  return { detailType, detail };
}

/** Sends the events; returns those not delivered after the publisher's retries. */
export async function publishEvents(events: readonly PendingEvent[]): Promise<PendingEvent[]> {
  if (events.length === 0) {
    return [];
  }
  const undelivered = await publisher.publish(
    events.map((event, index) => ({ entry: faceEventEntry(event.detailType, event.detail, { eventBusName: config.eventBus }), ref: index })),
  );
  if (undelivered.length > 0) {
    logger.error('enrolment events not delivered; they stay pending for the retry', { undelivered: undelivered.length, of: events.length });
  }
  return undelivered.map((index) => events[index]);
}
