/**
 * The one lease of every handler: an item in DynamoDB held by one invocation (its owner token)
 * until a time, so that two overlapping invocations never both act on one thing, and a holder that
 * crashed frees it by running out of time. A lease is always in epoch milliseconds in code.
 *
 * API (for any handler, the frame sampler included):
 *  - `Lease { owner, untilMs }` and `leaseUntil(deadlineMs, marginMs?)`: a lease to the invocation's
 *    deadline (plus a margin).
 *  - `leaseLive(lease, marginMs?, nowMs?)`: the holder may still act without a condition (more
 *    than `marginMs` left); `leaseHeld(untilMs, nowMs?)`: a stored lease still excludes others.
 *  - `leaseConditions(names?, storedIn?)`: the DynamoDB expressions of the three operations on a
 *    stored lease, over the attributes `names.owner` / `names.until` (default `leaseOwner` /
 *    `leaseUntil`), stored in milliseconds (default) or seconds (`'seconds'`, the consumer's
 *    sighting claims, whose items predate this module):
 *      `take`    free (no lease, or expired at `:now`) or already ours (`:me`);
 *      `held`    still ours: the condition of every extend, save and release;
 *      `extend`  the update that takes or extends it (owner and until), under `take` or `held`;
 *      `release` the update that frees it at once (until = 0), for the next invocation to take;
 *    each an `expression` and `values(lease, nowMs?)`, exactly the values it uses. Compose them into
 *    a larger condition where a protocol needs more (the consumer's per-window claims).
 *  - `handOverConditions(names?, storedIn?)`: handing a live lease to a named successor (the
 *    frame sampler's followers), over `names.successor` (default `successor`) besides the lease's
 *    two attributes; each operation a `condition`, an `update` and exactly the values they use:
 *      `ask`   a successor (`:next`) says it waits for the lease the holder (`:holder`) still
 *              holds (not expired at `:now`);
 *      `give`  the holder (`:me`) gives the lease to the successor that asked (`:next`), until
 *              `:until`, in one conditional write; the request is cleared.
 *    A successor that was not handed the lease takes it as anyone would (`take`), once it is free.
 *  - `RELEASED`: the until of a released lease.
 * Enrolment's mapping items check their lease in code (`leaseHeld`) and write under a revision
 * condition instead: the revision already serialises every write of an item.
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';

/** The lease of one invocation: its owner token and when the lease ends (epoch ms). */
export interface Lease {
  readonly owner: string;
  readonly untilMs: number;
}

/** The until of a released lease: free for anyone. */
export const RELEASED = 0;

/** Lease until the deadline (epoch ms), plus a margin. */
export function leaseUntil(deadlineMs: number, marginMs = 0): number {
  return deadlineMs + marginMs;
}

/** The holder still has more than `marginMs` of its lease. */
export function leaseLive(lease: Lease, marginMs = 0, nowMs = Date.now()): boolean {
  return nowMs < lease.untilMs - marginMs;
}

/** A stored lease (epoch ms) still excludes every other invocation. */
export function leaseHeld(untilMs: number, nowMs = Date.now()): boolean {
  return untilMs > nowMs;
}

export interface LeaseAttributeNames {
  readonly owner: string;
  readonly until: string;
}

/** An expression and the values it uses (DynamoDB refuses values an expression does not use). */
export interface LeaseExpression {
  readonly expression: string;
  values(lease: Lease, nowMs?: number): Record<string, AttributeValue>;
}

export interface LeaseConditions {
  /** Condition: free (no lease, or expired at `:now`) or already ours (`:me`). */
  readonly take: LeaseExpression;
  /** Condition: still ours (`:me`). */
  readonly held: LeaseExpression;
  /** Update: the lease (owner and until) taken or extended to `lease.untilMs`; write it under `take` or `held`. */
  readonly extend: LeaseExpression;
  /** Update: frees the lease at once (`:zero`); write it under `held`. */
  readonly release: LeaseExpression;
}

/** The take/held/release expressions over a stored lease's attributes. */
export function leaseConditions(
  names: LeaseAttributeNames = { owner: 'leaseOwner', until: 'leaseUntil' },
  storedIn: 'milliseconds' | 'seconds' = 'milliseconds',
): LeaseConditions {
  const stored = (ms: number) => (storedIn === 'seconds' ? ms / 1000 : ms);
  const me = (lease: Lease): AttributeValue => ({ S: lease.owner });
  return {
    take: {
      expression: `(attribute_not_exists(${names.until}) OR ${names.until} <= :now OR ${names.owner} = :me)`,
      values: (lease, nowMs = Date.now()) => ({ ':me': me(lease), ':now': { N: String(stored(nowMs)) } }),
    },
    held: { expression: `${names.owner} = :me`, values: (lease) => ({ ':me': me(lease) }) },
    extend: {
      expression: `SET ${names.owner} = :me, ${names.until} = :until`,
      values: (lease) => ({ ':me': me(lease), ':until': { N: String(stored(lease.untilMs)) } }),
    },
    release: { expression: `SET ${names.until} = :zero`, values: () => ({ ':zero': { N: String(RELEASED) } }) },
  };
}

export interface HandOverAttributeNames extends LeaseAttributeNames {
  readonly successor: string;
}

/** A conditional update: its condition, its update expression, and the values both use. */
export interface LeaseUpdate<A extends unknown[]> {
  readonly condition: string;
  readonly update: string;
  values(...args: A): Record<string, AttributeValue>;
}

export interface HandOverConditions {
  /** `next` waits for the lease `holder` still holds (not expired at `nowMs`). */
  readonly ask: LeaseUpdate<[holder: string, next: string, nowMs?: number]>;
  /** The holder gives the lease to the successor that asked: `next.owner` until `next.untilMs`. */
  readonly give: LeaseUpdate<[holder: string, next: Lease]>;
}

/** The ask/give operations of handing a lease to a successor. */
export function handOverConditions(
  names: HandOverAttributeNames = { owner: 'leaseOwner', until: 'leaseUntil', successor: 'successor' },
  storedIn: 'milliseconds' | 'seconds' = 'milliseconds',
): HandOverConditions {
  const stored = (ms: number) => (storedIn === 'seconds' ? ms / 1000 : ms);
  return {
    ask: {
      condition: `${names.owner} = :holder AND ${names.until} > :now`,
      update: `SET ${names.successor} = :next`,
      values: (holder, next, nowMs = Date.now()) => ({ ':holder': { S: holder }, ':next': { S: next }, ':now': { N: String(stored(nowMs)) } }),
    },
    give: {
      condition: `${names.owner} = :me AND ${names.successor} = :next`,
      update: `SET ${names.owner} = :next, ${names.until} = :until, ${names.successor} = :none`,
      values: (holder, next) => ({ ':me': { S: holder }, ':next': { S: next.owner }, ':until': { N: String(stored(next.untilMs)) }, ':none': { S: '' } }),
    },
  };
}

/** The stored form of a lease's until. */
export function storedUntil(lease: Lease, storedIn: 'milliseconds' | 'seconds' = 'milliseconds'): number {
  return storedIn === 'seconds' ? lease.untilMs / 1000 : lease.untilMs;
}
