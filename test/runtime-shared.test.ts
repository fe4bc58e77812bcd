/**
 * The handlers' shared mechanisms (lib/runtime/shared), at unit level: the batcher, the
 * failed-entries retry, the retry's `retryIf`, the lease's expressions and the error checks. The
 * handler tests show them at work through the bundles; these pin the edge cases each handler
 * relies on.
 */
import { batchBy, retryFailedEntries } from '../lib/runtime/shared/batching';
import { errorName, isConditionFailure, isRetryable } from '../lib/runtime/shared/errors';
import { handOverConditions, leaseConditions, leaseHeld, leaseLive, RELEASED } from '../lib/runtime/shared/lease';
import { withRetry } from '../lib/runtime/shared/retry';

const fast = { attempts: 4, baseDelayMs: 0, maxDelayMs: 0 };
const throttled = Object.assign(new Error('slow down'), { name: 'ThrottlingException' });
const denied = Object.assign(new Error('no'), { name: 'AccessDeniedException', $metadata: { httpStatusCode: 403 } });

test('batchBy: at most maxCount items and maxBytes bytes a batch, in order; an item over maxBytes travels alone', () => {
  const sizes = [4, 4, 4, 9, 1, 1, 1, 1, 1, 20, 2];
  const batches = batchBy(sizes, { maxCount: 4, maxBytes: 10, sizeOf: (n) => n });
  expect(batches).toEqual([[4, 4], [4], [9, 1], [1, 1, 1, 1], [20], [2]]);
  expect(batchBy([1, 2, 3, 4, 5], { maxCount: 2 })).toEqual([[1, 2], [3, 4], [5]]);
  expect(batchBy([], { maxCount: 2 })).toEqual([]);
});

test('retryFailedEntries: resends only the entries reported failed, until none or the attempts are spent', async () => {
  const calls: string[][] = [];
  const result = await retryFailedEntries(
    ['a', 'b', 'c'],
    async (pending) => {
      calls.push(pending);
      return pending.filter((e) => e === 'c' || (e === 'b' && calls.length < 2));
    },
    { attempts: 3, retry: fast },
  );
  expect(calls).toEqual([['a', 'b', 'c'], ['b', 'c'], ['c']]);
  expect(result).toEqual({ entries: ['c'], reason: 'failed', error: undefined });
  expect(await retryFailedEntries(['a'], async () => [], { attempts: 3, retry: fast })).toEqual({ entries: [] });
});

test('retryFailedEntries: a transient call failure is retried, a permanent one hands the entries back at once, proceed() stops', async () => {
  let n = 0;
  const transient = await retryFailedEntries(['a'], async () => (++n === 1 ? Promise.reject(throttled) : []), { attempts: 3, retry: fast });
  expect([n, transient.entries]).toEqual([2, []]);
  n = 0;
  const permanent = await retryFailedEntries(['a', 'b'], async () => (++n, Promise.reject(denied)), { attempts: 3, retry: fast });
  expect([n, permanent.entries, permanent.reason, permanent.error]).toEqual([1, ['a', 'b'], 'error', denied]);
  n = 0;
  const stopped = await retryFailedEntries(['a'], async (p) => (++n, p), { attempts: 3, retry: fast, proceed: () => false });
  expect([n, stopped.entries, stopped.reason]).toEqual([1, ['a'], 'stopped']);
});

test('withRetry: retries what retryIf accepts (isRetryable by default), at most attempts times in all', async () => {
  let n = 0;
  await expect(withRetry('op', async () => (++n, Promise.reject(throttled)), fast)).rejects.toBe(throttled);
  expect(n).toBe(4);
  n = 0;
  await expect(withRetry('op', async () => (++n, Promise.reject(denied)), fast)).rejects.toBe(denied);
  expect(n).toBe(1);
  n = 0;
  const retried: number[] = [];
  const answer = await withRetry('op', async () => (++n < 3 ? Promise.reject(denied) : 'ok'), { ...fast, retryIf: (e) => errorName(e) === 'AccessDeniedException' }, (_op, attempt) => retried.push(attempt));
  expect([answer, n, retried]).toEqual(['ok', 3, [1, 2]]);
});

test('errors: names, transient failures and refused conditions', () => {
  expect(errorName(throttled)).toBe('ThrottlingException');
  expect(errorName(undefined)).toBe('Error');
  expect([isRetryable(throttled), isRetryable(denied), isRetryable({ $metadata: { httpStatusCode: 503 } }), isRetryable({ code: 'ECONNRESET' })]).toEqual([true, false, true, true]);
  expect(isConditionFailure({ name: 'ConditionalCheckFailedException' })).toBe(true);
  expect(isConditionFailure(throttled)).toBe(false);
});

test('lease: one unit (ms) in code, stored in ms or seconds; take, held, extend and release use exactly the values they name', () => {
  const lease = { owner: 'me', untilMs: 120_000 };
  expect([leaseLive(lease, 10_000, 100_000), leaseLive(lease, 30_000, 100_000), leaseHeld(120_000, 119_999), leaseHeld(RELEASED, 1)]).toEqual([true, false, true, false]);
  const ms = leaseConditions();
  expect(ms.take.expression).toBe('(attribute_not_exists(leaseUntil) OR leaseUntil <= :now OR leaseOwner = :me)');
  expect(ms.take.values(lease, 100_000)).toEqual({ ':me': { S: 'me' }, ':now': { N: '100000' } });
  expect(ms.extend.expression).toBe('SET leaseOwner = :me, leaseUntil = :until');
  expect(ms.extend.values(lease)).toEqual({ ':me': { S: 'me' }, ':until': { N: '120000' } });
  const seconds = leaseConditions({ owner: 'claimedBy', until: 'leaseUntil' }, 'seconds');
  expect(seconds.held.expression).toBe('claimedBy = :me');
  expect(seconds.take.values(lease, 100_500)).toEqual({ ':me': { S: 'me' }, ':now': { N: '100.5' } });
  expect([seconds.release.expression, seconds.release.values(lease)]).toEqual(['SET leaseUntil = :zero', { ':zero': { N: '0' } }]);
  for (const c of [ms, seconds]) {
    for (const e of [c.take, c.held, c.extend, c.release]) {
      const used = new Set(e.expression.match(/:[a-z]+/g));
      expect(new Set(Object.keys(e.values(lease, 1)))).toEqual(used);
    }
  }
});

test('lease hand-over: a successor asks for a lease its holder still holds; the holder gives it to that successor only, in one write', () => {
  const ms = handOverConditions();
  expect(ms.ask.condition).toBe('leaseOwner = :holder AND leaseUntil > :now');
  expect(ms.ask.update).toBe('SET successor = :next');
  expect(ms.ask.values('old', 'new', 100_000)).toEqual({ ':holder': { S: 'old' }, ':next': { S: 'new' }, ':now': { N: '100000' } });
  expect(ms.give.condition).toBe('leaseOwner = :me AND successor = :next');
  expect(ms.give.update).toBe('SET leaseOwner = :next, leaseUntil = :until, successor = :none');
  expect(ms.give.values('old', { owner: 'new', untilMs: 150_000 })).toEqual({ ':me': { S: 'old' }, ':next': { S: 'new' }, ':until': { N: '150000' }, ':none': { S: '' } });
  const seconds = handOverConditions({ owner: 'claimedBy', until: 'leaseUntil', successor: 'next' }, 'seconds');
  expect([seconds.ask.condition, seconds.ask.values('a', 'b', 1_500)[':now']]).toEqual(['claimedBy = :holder AND leaseUntil > :now', { N: '1.5' }]);
  expect(seconds.give.values('a', { owner: 'b', untilMs: 2_500 })[':until']).toEqual({ N: '2.5' });
  for (const op of [ms.ask, ms.give]) {
    const used = new Set(`${op.condition} ${op.update}`.match(/:[a-z]+/g));
    const values = op === ms.ask ? ms.ask.values('a', 'b', 1) : ms.give.values('a', { owner: 'b', untilMs: 1 });
    expect(new Set(Object.keys(values))).toEqual(used);
  }
});
