import { Token } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import { Construct } from 'constructs';
import { FACE_DETAIL_TYPES, FACE_EVENT_SOURCE } from '../events';
import type { FaceMatchRuleOptions, UnknownFaceRuleOptions } from '../face-events';
import { CAMERA_NAME, EXTERNAL_IMAGE_ID, validateName, validateNumber } from './validate';

/** What a face-event rule is scoped to: one consumer's events on one bus. */
export interface FaceEventRuleScope {
  readonly eventBus: events.IEventBus;
  /** `detail.consumer` of the consumer's events. */
  readonly consumerId: string;
}

/** A rule on "Face Matched" events of one consumer. */
export function faceMatchRule(scope: Construct, id: string, on: FaceEventRuleScope, options: FaceMatchRuleOptions): events.Rule {
  validateList('externalImageIds', options.externalImageIds, (value) => validateName('externalImageIds[]', value, EXTERNAL_IMAGE_ID));
  validateList('cameras', options.cameras, (value) => validateName('cameras[]', value, CAMERA_NAME));
  validateNumber('minSimilarity', options.minSimilarity, 0, 100);
  const match: Record<string, unknown> = {};
  if (options.externalImageIds) {
    match.externalImageId = options.externalImageIds;
  }
  if (options.minSimilarity !== undefined) {
    match.similarity = events.Match.greaterThanOrEqual(options.minSimilarity);
  }
  return faceRule(scope, id, on, FACE_DETAIL_TYPES.FACE_MATCHED, options, match, describeMatchRule(options));
}

/** A rule on "Face Not Matched" events of one consumer. */
export function unknownFaceRule(scope: Construct, id: string, on: FaceEventRuleScope, options: UnknownFaceRuleOptions): events.Rule {
  validateList('cameras', options.cameras, (value) => validateName('cameras[]', value, CAMERA_NAME));
  const where = options.cameras ? ` on ${options.cameras.join(', ')}` : '';
  return faceRule(scope, id, on, FACE_DETAIL_TYPES.FACE_NOT_MATCHED, options, {}, `Unknown faces${where}`);
}

function faceRule(
  scope: Construct,
  id: string,
  on: FaceEventRuleScope,
  detailType: string,
  options: events.OnEventOptions & { readonly cameras?: string[] },
  match: Record<string, unknown>,
  description: string,
): events.Rule {
  const detail: Record<string, unknown> = { consumer: [on.consumerId] };
  if (options.cameras) {
    detail.camera = options.cameras;
  }
  if (Object.keys(match).length > 0) {
    detail.match = match;
  }
  const rule = new events.Rule(scope, id, {
    eventBus: on.eventBus,
    ruleName: options.ruleName,
    crossStackScope: options.crossStackScope,
    description: (options.description ?? description).slice(0, 512),
    eventPattern: { source: [FACE_EVENT_SOURCE], detailType: [detailType], detail },
    targets: options.target ? [options.target] : undefined,
  });
  if (options.eventPattern) {
    rule.addEventPattern(options.eventPattern);
  }
  return rule;
}

function validateList(prop: string, values: string[] | undefined, check: (value: string) => void): void {
  if (values === undefined || Token.isUnresolved(values)) {
    return;
  }
  if (values.length === 0) {
    throw new Error(`${prop} must name at least one value when given; leave it out to match all`);
  }
  values.forEach(check);
}

function describeMatchRule(options: FaceMatchRuleOptions): string {
  const who = options.externalImageIds ? options.externalImageIds.join(', ') : 'anyone in the collection';
  const where = options.cameras ? ` on ${options.cameras.join(', ')}` : '';
  const how = options.minSimilarity !== undefined ? ` with similarity >= ${options.minSimilarity}` : '';
  return `Face matches of ${who}${where}${how}`;
}
