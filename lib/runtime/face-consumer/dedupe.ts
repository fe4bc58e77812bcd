/**
 * Sighting de-duplication: one event per key (camera + person, or camera + "unknown") and window.
 *
 * The claim protocol (one DynamoDB item per key):
 *  - an invocation claims a window with a conditional PutItem carrying the event id, its own owner
 *    token and a lease (until the invocation's deadline). The claim succeeds when there is no item,
 *    when the stored window has ended and is delivered (or its lease expired, or it is this
 *    invocation's), or when it is the same event, undelivered, and its lease expired (a retry);
 *  - a failed claim returns the stored item (ReturnValuesOnConditionCheckFailure ALL_OLD), which
 *    says what to do without another call: within a window of another event, or the same event
 *    delivered: not sent (deduped); the same event (or an ended window) held by another live
 *    invocation: a batch item failure, so Lambda retries it later and finds it delivered, or the
 *    lease expired;
 *  - within a batch a key needs no call until its window ends: the window claimed (or found) is
 *    known. A later window of a key is claimed only after the earlier one is delivered, so an
 *    undelivered window is never overwritten by a later one of the same batch; when its delivery
 *    fails its lease is released at once, and the key's later sightings are retried with it;
 *  - after the batch, the last window of each key that this invocation sent is marked delivered.
 * Window time is the frame time, but never more than MAX_FRAME_AHEAD_SECONDS after the record
 * arrived in Kinesis: a producer clock in the future cannot open windows (and TTLs) in the future.
 */
import { ConditionalCheckFailedException, PutItemCommand, UpdateItemCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import type { FaceEvent } from '../face-records/parser';
import { errorName } from '../shared/retry';
import { dynamodb, logger } from './clients';
import { CLAIM_TTL_SECONDS, config, MAX_FRAME_AHEAD_SECONDS } from './config';
import { publishSightings } from './events';
import type { Outcome, Sighting } from './outcome';

/** Who the sighting is: the person (external image id, else face id) or, for unknown faces, nobody in particular. */
export function sightingKey(event: FaceEvent): string {
  const who = event.match ? `person:${event.match.externalImageId ?? event.match.faceId}` : 'unknown';
  return `${event.camera}#${who}`;
}

/** The time windows are measured in: the frame time, bounded by the record's arrival in Kinesis. */
export function windowTime(sighting: Sighting): number {
  const frame = Date.parse(sighting.event.frameTime) / 1000;
  const arrival = sighting.record.kinesis?.approximateArrivalTimestamp;
  const latest = (typeof arrival === 'number' && Number.isFinite(arrival) ? arrival : Date.now() / 1000) + MAX_FRAME_AHEAD_SECONDS;
  return Math.min(frame, latest);
}

/** The claim of one invocation: its owner token and when its lease ends (epoch seconds). */
export interface Lease {
  readonly owner: string;
  readonly until: number;
}

interface Window {
  readonly start: number;
  readonly end: number;
  readonly eventId: string;
  readonly delivered: boolean;
}

type ClaimResult =
  | { readonly kind: 'claimed'; readonly window: Window }
  | { readonly kind: 'taken'; readonly window: Window }
  | { readonly kind: 'busy' }
  | { readonly kind: 'error'; readonly error: unknown };

const CLAIM_CONDITION = [
  'attribute_not_exists(pk)',
  '(windowEnds <= :t AND (delivered = :yes OR leaseUntil <= :now OR claimedBy = :me))',
  '(eventId = :id AND delivered = :no AND (claimedBy = :me OR leaseUntil <= :now))',
].join(' OR ');

const n = (value: number): AttributeValue => ({ N: String(value) });

async function claim(key: string, sighting: Sighting, t: number, lease: Lease): Promise<ClaimResult> {
  const now = Date.now() / 1000;
  const end = t + config.dedupeWindowSeconds;
  const eventId = sighting.event.id;
  try {
    await dynamodb.send(
      new PutItemCommand({
        TableName: config.dedupeTable,
        Item: {
          pk: { S: key },
          windowStart: n(t),
          windowEnds: n(end),
          eventId: { S: eventId },
          claimedBy: { S: lease.owner },
          leaseUntil: n(lease.until),
          delivered: { BOOL: false },
          expiresAt: n(Math.ceil(Math.max(end, now) + CLAIM_TTL_SECONDS)),
        },
        ConditionExpression: CLAIM_CONDITION,
        ExpressionAttributeValues: {
          ':t': n(t),
          ':now': n(now),
          ':id': { S: eventId },
          ':me': { S: lease.owner },
          ':yes': { BOOL: true },
          ':no': { BOOL: false },
        },
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      }),
    );
    return { kind: 'claimed', window: { start: t, end, eventId, delivered: false } };
  } catch (error) {
    if (errorName(error) !== 'ConditionalCheckFailedException') {
      return { kind: 'error', error };
    }
    return judge((error as ConditionalCheckFailedException).Item, eventId, t);
  }
}

/** What a refused claim means, from the stored item. */
function judge(item: Record<string, AttributeValue> | undefined, eventId: string, t: number): ClaimResult {
  const end = Number(item?.windowEnds?.N);
  if (!item || !Number.isFinite(end)) {
    return { kind: 'busy' }; // nothing to judge by: retry later
  }
  const start = Number(item.windowStart?.N ?? end - config.dedupeWindowSeconds);
  const window: Window = { start, end, eventId: item.eventId?.S ?? '', delivered: item.delivered?.BOOL === true };
  if (window.eventId === eventId) {
    // this very event: sent already, or being sent by another invocation right now
    return window.delivered ? { kind: 'taken', window } : { kind: 'busy' };
  }
  // an ended window refused: it is undelivered and another invocation still holds it
  return t >= end ? { kind: 'busy' } : { kind: 'taken', window };
}

async function settle(key: string, window: Window, lease: Lease, update: string, values: Record<string, AttributeValue>, what: string): Promise<void> {
  try {
    await dynamodb.send(
      new UpdateItemCommand({
        TableName: config.dedupeTable,
        Key: { pk: { S: key } },
        UpdateExpression: update,
        ConditionExpression: 'eventId = :id AND claimedBy = :me',
        ExpressionAttributeValues: { ...values, ':id': { S: window.eventId }, ':me': { S: lease.owner } },
      }),
    );
  } catch (error) {
    // marking: at worst a replay of the record waits for the lease and sends once more; releasing:
    // the retry waits for the lease to expire
    logger.warn(`could not ${what} a sighting claim`, { error: errorName(error), key });
  }
}

interface Chain {
  readonly key: string;
  readonly sightings: Sighting[];
  readonly times: number[];
  next: number;
  blocked: boolean;
  /** The window known for the key: claimed here, or found claimed. */
  window?: Window;
  /** The window this invocation wrote last, and whether it delivered its event. */
  written?: Window;
  writtenDelivered: boolean;
}

function chainsOf(sightings: Sighting[]): Chain[] {
  const byKey = new Map<string, Chain>();
  for (const s of sightings) {
    const key = sightingKey(s.event);
    let chain = byKey.get(key);
    if (!chain) {
      chain = { key, sightings: [], times: [], next: 0, blocked: false, writtenDelivered: false };
      byKey.set(key, chain);
    }
    chain.sightings.push(s);
    chain.times.push(windowTime(s));
  }
  return [...byKey.values()];
}

/** Moves past the sightings decided without a call; returns the next one that needs a claim. */
function advance(chain: Chain, outcome: Outcome): Sighting | undefined {
  while (!chain.blocked && chain.next < chain.sightings.length) {
    const s = chain.sightings[chain.next];
    const w = chain.window;
    if (!w || (s.event.id === w.eventId && !w.delivered) || chain.times[chain.next] >= w.end) {
      return s;
    }
    outcome.deduped += 1; // within the known window (or before it), or its event delivered
    chain.next += 1;
  }
  return undefined;
}

/** This sighting and every later one of its key are retried. */
function block(chain: Chain, outcome: Outcome): void {
  chain.blocked = true;
  for (let i = chain.next; i < chain.sightings.length; i++) {
    outcome.failed.add(chain.sightings[i].record);
  }
}

/** Claims, sends and marks, in rounds: each round claims at most one window per key. */
export async function publishOncePerWindow(sightings: Sighting[], outcome: Outcome, lease: Lease): Promise<void> {
  const chains = chainsOf(sightings);
  for (;;) {
    const candidates = chains.map((chain) => ({ chain, sighting: advance(chain, outcome) })).filter((c) => c.sighting !== undefined);
    if (candidates.length === 0) {
      break;
    }
    const results = await Promise.all(candidates.map(({ chain, sighting }) => claim(chain.key, sighting!, chain.times[chain.next], lease)));
    const claimed: Array<{ chain: Chain; sighting: Sighting; window: Window }> = [];
    results.forEach((result, i) => {
      const { chain, sighting } = candidates[i];
      if (result.kind === 'claimed') {
        chain.written = result.window;
        chain.writtenDelivered = false;
        claimed.push({ chain, sighting: sighting!, window: result.window });
      } else if (result.kind === 'taken') {
        chain.window = result.window;
        outcome.deduped += 1;
        chain.next += 1;
      } else if (result.kind === 'busy') {
        logger.info('sighting held by another invocation; the record will be retried', { key: chain.key });
        block(chain, outcome);
      } else {
        logger.warn('sighting store unavailable; the record will be retried', { error: errorName(result.error), key: chain.key });
        block(chain, outcome);
      }
    });
    const undelivered = await publishSightings(
      claimed.map((c) => c.sighting),
      outcome,
    );
    const releases: Array<Promise<void>> = [];
    for (const { chain, sighting, window } of claimed) {
      if (undelivered.has(sighting)) {
        // let the retry claim it at once, and keep later windows of the key for after it
        releases.push(settle(chain.key, window, lease, 'SET leaseUntil = :zero', { ':zero': n(0) }, 'release'));
        block(chain, outcome);
      } else {
        chain.window = { ...window, delivered: true };
        chain.writtenDelivered = true;
        chain.next += 1;
      }
    }
    await Promise.all(releases);
  }
  await Promise.all(
    chains
      .filter((chain) => chain.written && chain.writtenDelivered)
      .map((chain) => settle(chain.key, chain.written!, lease, 'SET delivered = :yes', { ':yes': { BOOL: true } }, 'mark delivered')),
  );
}
