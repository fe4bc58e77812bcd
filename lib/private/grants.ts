import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import { FACE_EVENT_SOURCE } from '../events';

/**
 * events:PutEvents on exactly one bus, and only for events whose source is this library's
 * (`events:source`): a handler of this library cannot put events that pose as another service's.
 * `events:source` is a multivalued key (ArrayOfString in AWS's service authorization reference), so
 * the condition takes a set operator: ForAnyValue matches an entry whose source is this library's,
 * and no entry without one (ForAllValues would also match a request with no source at all).
 */
export function grantPutFaceEvents(eventBus: events.IEventBus, grantee: iam.IGrantable): iam.Grant {
  return iam.Grant.addToPrincipal({
    grantee,
    actions: ['events:PutEvents'],
    resourceArns: [eventBus.eventBusArn],
    conditions: { 'ForAnyValue:StringEquals': { 'events:source': FACE_EVENT_SOURCE } },
  });
}
