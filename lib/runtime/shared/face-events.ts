/**
 * The face-event contract on the runtime side: the literals and detail types of ../../events.ts
 * (the one place they are written), and the PutEvents entry of an event.
 */
import type { PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { FACE_EVENT_SOURCE, FaceDetailType, FaceEventDetail } from '../../events';

export * from '../../events';

export interface EntryOptions {
  readonly eventBusName: string;
  /** ARNs the event is about (the video stream of a sighting). */
  readonly resources?: string[];
  /** The event's time (a sighting's frame time). @default - when EventBridge receives it */
  readonly time?: Date;
}

/** The PutEvents entry of one face event. */
export function faceEventEntry<T extends FaceDetailType>(detailType: T, detail: FaceEventDetail<T>, options: EntryOptions): PutEventsRequestEntry {
  return {
    Source: FACE_EVENT_SOURCE,
    DetailType: detailType,
    Detail: JSON.stringify(detail),
    EventBusName: options.eventBusName,
    Resources: options.resources,
    Time: options.time,
  };
}
