/**
 * Sighting de-duplication: one event per key (camera + person, or camera + "unknown") and window.
 *
 * The claim protocol (one DynamoDB item per key; the claim is the only conditional write a key and
 * window costs):
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
 *    fails its lease is released at once (a conditional UpdateItem, on that failure path only), and
 *    the key's later sightings are retried with it;
 *  - after the batch, the last window of each key that this invocation sent is marked delivered by
 *    writing its whole item again with delivered = true: unconditional PutRequests in
 *    BatchWriteItem calls (25 keys a call, the calls in parallel, unprocessed items retried a few
 *    times). That needs no condition while the lease is live: no other invocation can claim an
 *    undelivered item held under another owner's live lease (CLAIM_CONDITION), and this invocation
 *    wrote the item last, so the item is still exactly the one claimed. When the lease is within
 *    LEASE_MARGIN_SECONDS of its end (or it gets there while unprocessed items are retried), the
 *    key is marked with a conditional UpdateItem (eventId and owner still ours) instead. A mark
 *    that fails is only logged: a replay of the record then waits for the lease and sends once more.
 * Window time is the frame time, but never more than MAX_FRAME_AHEAD_SECONDS after the record
 * arrived in Kinesis: a producer clock in the future cannot open windows (and TTLs) in the future.
 */
import { BatchWriteItemCommand, ConditionalCheckFailedException, PutItemCommand, UpdateItemCommand, type AttributeValue, type WriteRequest } from '@aws-sdk/client-dynamodb';
import type { FaceEvent } from '../face-records/parser';
import { retryFailedEntries, batchBy } from '../shared/batching';
import { errorName, isConditionFailure } from '../shared/errors';
import { type Lease, leaseConditions, leaseLive, storedUntil } from '../shared/lease';
import { retryOptionsFromEnv, type RetryOptions } from '../shared/retry';
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

/**
 * The claim's lease (shared/lease.ts) over `claimedBy` and `leaseUntil`, stored in epoch seconds
 * as the table's items always were.
 */
const LEASE = leaseConditions({ owner: 'claimedBy', until: 'leaseUntil' }, 'seconds');

interface Window {
  readonly start: number;
  readonly end: number;
  readonly eventId: string;
  readonly delivered: boolean;
}

type Item = Record<string, AttributeValue>;

type ClaimResult =
  | { readonly kind: 'claimed'; readonly window: Window; readonly item: Item }
  | { readonly kind: 'taken'; readonly window: Window }
  | { readonly kind: 'busy' }
  | { readonly kind: 'error'; readonly error: unknown };

const CLAIM_CONDITION = [
  'attribute_not_exists(pk)',
  `(windowEnds <= :t AND (delivered = :yes OR ${LEASE.take.expression}))`,
  `(eventId = :id AND delivered = :no AND ${LEASE.take.expression})`,
].join(' OR ');

const n = (value: number): AttributeValue => ({ N: String(value) });

async function claim(key: string, sighting: Sighting, t: number, lease: Lease): Promise<ClaimResult> {
  const nowMs = Date.now();
  const now = nowMs / 1000;
  const end = t + config.dedupeWindowSeconds;
  const eventId = sighting.event.id;
  const item: Item = {
    pk: { S: key },
    windowStart: n(t),
    windowEnds: n(end),
    eventId: { S: eventId },
    claimedBy: { S: lease.owner },
    leaseUntil: n(storedUntil(lease, 'seconds')),
    delivered: { BOOL: false },
    expiresAt: n(Math.ceil(Math.max(end, now) + CLAIM_TTL_SECONDS)),
  };
  try {
    await dynamodb.send(
      new PutItemCommand({
        TableName: config.dedupeTable,
        Item: item,
        ConditionExpression: CLAIM_CONDITION,
        ExpressionAttributeValues: {
          ':t': n(t),
          ...LEASE.take.values(lease, nowMs),
          ':id': { S: eventId },
          ':yes': { BOOL: true },
          ':no': { BOOL: false },
        },
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      }),
    );
    return { kind: 'claimed', window: { start: t, end, eventId, delivered: false }, item };
  } catch (error) {
    if (!isConditionFailure(error)) {
      return { kind: 'error', error };
    }
    return judge((error as ConditionalCheckFailedException).Item, eventId, t);
  }
}

/** What a refused claim means, from the stored item. */
function judge(item: Item | undefined, eventId: string, t: number): ClaimResult {
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

async function settle(key: string, window: Window, lease: Lease, update: string, values: Item, what: string): Promise<void> {
  try {
    await dynamodb.send(
      new UpdateItemCommand({
        TableName: config.dedupeTable,
        Key: { pk: { S: key } },
        UpdateExpression: update,
        ConditionExpression: `eventId = :id AND ${LEASE.held.expression}`,
        ExpressionAttributeValues: { ...values, ':id': { S: window.eventId }, ...LEASE.held.values(lease) },
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
  /** The window this invocation wrote last (and the item it wrote), and whether it delivered its event. */
  written?: { readonly window: Window; readonly item: Item };
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
        chain.written = { window: result.window, item: result.item };
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
        releases.push(settle(chain.key, window, lease, LEASE.release.expression, LEASE.release.values(lease), 'release'));
        block(chain, outcome);
      } else {
        chain.window = { ...window, delivered: true };
        chain.writtenDelivered = true;
        chain.next += 1;
      }
    }
    await Promise.all(releases);
  }
  await markDelivered(
    chains.filter((chain) => chain.written && chain.writtenDelivered).map((chain) => ({ key: chain.key, ...chain.written! })),
    lease,
  );
}

/**
 * How long before the end of its lease an invocation stops writing its items unconditionally. The
 * lease end is this invocation's clock; other invocations test it against theirs (`:now` of the
 * claim), so a put must reach DynamoDB while the lease is live on every other invocation's clock
 * too: the margin covers clock skew between Lambda hosts (synchronised, well under a second) and
 * the time a BatchWriteItem call may take with the SDK's own retries (a few seconds at worst),
 * with room to spare. Past it, a key is marked with the conditional UpdateItem.
 */
export const LEASE_MARGIN_SECONDS = 10;

/** BatchWriteItem takes at most 25 requests a call. */
const BATCH_WRITE_MAX = 25;

/** BatchWriteItem calls in all for one chunk of marks: the first and the retries of unprocessed items. */
const MARK_ATTEMPTS = 4;

/** Short waits between those retries: the marks are the last thing an invocation does. */
const markRetry: RetryOptions = (() => {
  const options = retryOptionsFromEnv();
  return { attempts: MARK_ATTEMPTS, baseDelayMs: Math.min(options.baseDelayMs, 50), maxDelayMs: Math.min(options.maxDelayMs, 200) };
})();

interface Mark {
  readonly key: string;
  readonly window: Window;
  readonly item: Item;
}

const live = (lease: Lease) => leaseLive(lease, LEASE_MARGIN_SECONDS * 1000);

const markConditionally = (mark: Mark, lease: Lease) =>
  settle(mark.key, mark.window, lease, 'SET delivered = :yes', { ':yes': { BOOL: true } }, 'mark delivered');

/** Marks the windows delivered: unconditional puts while the lease is live, else conditional updates. */
async function markDelivered(marks: Mark[], lease: Lease): Promise<void> {
  if (marks.length === 0) {
    return;
  }
  if (!live(lease)) {
    await Promise.all(marks.map((mark) => markConditionally(mark, lease)));
    return;
  }
  await Promise.all(batchBy(marks, { maxCount: BATCH_WRITE_MAX }).map((chunk) => putDelivered(chunk, lease)));
}

/** One chunk (at most 25 keys, each once) through BatchWriteItem, retrying unprocessed items. */
async function putDelivered(chunk: Mark[], lease: Lease): Promise<void> {
  const byKey = new Map(chunk.map((mark) => [mark.key, mark]));
  const undelivered = await retryFailedEntries(
    chunk,
    async (pending) => {
      const requests: WriteRequest[] = pending.map((mark) => ({ PutRequest: { Item: { ...mark.item, delivered: { BOOL: true } } } }));
      const response = await dynamodb.send(new BatchWriteItemCommand({ RequestItems: { [config.dedupeTable]: requests } }));
      const unprocessed = response.UnprocessedItems?.[config.dedupeTable] ?? [];
      return unprocessed.map((request) => byKey.get(request.PutRequest?.Item?.pk?.S ?? '')).filter((mark): mark is Mark => mark !== undefined);
    },
    { attempts: MARK_ATTEMPTS, retry: markRetry, retryIf: () => false, proceed: () => live(lease) },
  );
  if (undelivered.reason === 'stopped') {
    // too late for a write without a condition: the rest is marked with one
    await Promise.all(undelivered.entries.map((mark) => markConditionally(mark, lease)));
    return;
  }
  // as a failed conditional mark: a replay of the record waits for the lease and sends once more
  const error = undelivered.reason === 'error' ? errorName(undelivered.error) : 'UnprocessedItems';
  undelivered.entries.forEach((mark) => logger.warn('could not mark delivered a sighting claim', { error, key: mark.key }));
}
