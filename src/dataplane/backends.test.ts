// Backend groups (issue 6 items 1, 2, 3, 5): balancing policies, the consistent-hash ring, affinity
// cookie lookup, passive health. Pure: no sockets; `now` is passed in. Numbers that go into the issue's
// closing note are printed with console.log ("[measure] ...").

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { BackendTable, EndpointAddress, LoadBalancePolicy } from '../snapshot/table.ts';
import { BackendGroup, MAX_BACKOFF_MS, MAX_FAILS, MIN_BACKOFF_MS, buildGroups, countEndpointUses, patchGroups, recordFailure, recordSuccess, type Endpoint } from './backends.ts';

const POLICIES: LoadBalancePolicy[] = ['round_robin', 'random', 'least_request', 'ewma'];

function addrs(n: number, from = 1): EndpointAddress[] {
  return Array.from({ length: n }, (_, i) => ({ address: `10.0.0.${from + i}`, port: 8080 }));
}

function tableOf(endpoints: EndpointAddress[]): BackendTable {
  return { service: 'ns/svc', port: '80', endpoints, problem: null };
}

function group(endpoints: EndpointAddress[], registry = new Map<string, Endpoint>(), id = 'ns/svc:80'): BackendGroup {
  return new BackendGroup(id, tableOf(endpoints), registry);
}

function shares(counts: Map<string, number>, total: number): { max: number; min: number } {
  const v = [...counts.values()].map((c) => c / total);
  return { max: Math.max(...v), min: Math.min(...v) };
}

const pct = (x: number) => `${(x * 100).toFixed(2)}%`;

/**
 * 10,000 picks with 20 requests in flight at all times (released oldest first, each taking 10 ms), so
 * least_request and ewma see real load and latency, not just ties.
 */
function simulate(g: BackendGroup, policy: LoadBalancePolicy, picks: number, latencyOf: (e: Endpoint) => number = () => 10, concurrency = 20): Map<string, number> {
  const counts = new Map<string, number>(g.endpoints.map((e) => [e.key, 0]));
  // Discrete events: a request is sent every 1 ms; each finishes after its endpoint's latency.
  const running: Array<{ e: Endpoint; at: number; done: number }> = [];
  let now = 1_000_000;
  for (let i = 0; i < picks; i++) {
    now += 1;
    // Finish what is due, and keep at most `concurrency` in flight (the oldest finish first).
    running.sort((a, b) => a.done - b.done);
    while (running.length > 0 && (running[0].done <= now || running.length >= concurrency)) {
      const r = running.shift()!;
      r.e.inflight--;
      recordSuccess(r.e, Math.max(r.done, now) - r.at, now);
    }
    const e = g.pick(policy, now);
    assert.ok(e !== null);
    e.inflight++;
    counts.set(e.key, counts.get(e.key)! + 1);
    running.push({ e, at: now, done: now + latencyOf(e) });
  }
  for (const r of running) r.e.inflight--;
  return counts;
}

test('every policy spreads 10,000 picks evenly over 10 endpoints', () => {
  for (const policy of POLICIES) {
    const g = group(addrs(10));
    const counts = simulate(g, policy, 10_000);
    const { max, min } = shares(counts, 10_000);
    console.log(`[measure] unit distribution ${policy}: 10 endpoints, 10,000 picks, max share ${pct(max)}, min share ${pct(min)}, max/min ${(max / min).toFixed(3)}`);
    if (policy === 'round_robin') {
      assert.deepEqual([...counts.values()], Array(10).fill(1000), 'round robin is exact');
    } else {
      // Fair share 10 %: 1000 picks, binomial sd ~30. 8 %..12 % is more than 6 sd away for random.
      assert.ok(min >= 0.08 && max <= 0.12, `${policy}: shares ${pct(min)}..${pct(max)}`);
    }
    for (const e of g.endpoints) assert.equal(e.inflight, 0, 'in-flight counts balanced');
  }
});

test('least_request and ewma steer away from an endpoint 100x slower (1 of 5)', () => {
  for (const policy of ['least_request', 'ewma', 'round_robin', 'random'] as const) {
    const g = group(addrs(5));
    const slow = g.endpoints[2];
    const counts = simulate(g, policy, 10_000, (e) => (e === slow ? 100 : 1));
    const share = counts.get(slow.key)! / 10_000;
    console.log(`[measure] unit slow endpoint (100 ms vs 1 ms, 1 of 5, 1 request/ms) ${policy}: slow share ${pct(share)} (fair 20%)`);
    if (policy === 'least_request' || policy === 'ewma') assert.ok(share < 0.05, `${policy} sent ${pct(share)} to the slow endpoint`);
    else assert.ok(share > 0.15, `${policy} is load-blind: ${pct(share)}`);
  }
});

test('least_request: an endpoint with more requests in flight loses every comparison', () => {
  const g = group(addrs(4));
  g.endpoints[0].inflight = 3;
  let chosen = 0;
  for (let i = 0; i < 10_000; i++) if (g.pick('least_request', 0) === g.endpoints[0]) chosen++;
  // Only when both random candidates are endpoint 0 (four draws in a row): (1/4)^4 of picks at most.
  assert.ok(chosen < 100, `busy endpoint chosen ${chosen} times`);
  g.endpoints[0].inflight = 0;
});

test('ewma: a measured slow endpoint is avoided; its score decays back over time (10 s constant)', () => {
  const g = group(addrs(3));
  const [slow, fast, other] = g.endpoints;
  recordSuccess(slow, 500, 1000);
  recordSuccess(fast, 5, 1000);
  recordSuccess(other, 5, 1000);
  let slowPicks = 0;
  for (let i = 0; i < 10_000; i++) if (g.pick('ewma', 1000) === slow) slowPicks++;
  // Power of two choices compares two distinct endpoints, so the slow one loses every comparison.
  assert.ok(slowPicks < 50, `slow endpoint picked ${slowPicks} of 10,000 times`);
  // Peak EWMA: a slower sample replaces the average at once; a faster one only pulls it down.
  recordSuccess(fast, 50, 1000);
  assert.equal(fast.ewma, 50);
  recordSuccess(fast, 10, 2000);
  assert.ok(fast.ewma > 10 && fast.ewma < 50, `decayed average ${fast.ewma}`);
  // A minute later the slow endpoint's old 500 ms has decayed (x e^-6 = 1.2 ms) below a fresh 20 ms.
  const g2 = group(addrs(2));
  recordSuccess(g2.endpoints[0], 500, 1000);
  recordSuccess(g2.endpoints[1], 20, 61_000);
  let old = 0;
  for (let i = 0; i < 1000; i++) if (g2.pick('ewma', 61_000) === g2.endpoints[0]) old++;
  assert.ok(old > 900, `the decayed endpoint won ${old} of 1000 picks`);
});


test('least_request and ewma with two endpoints: the busy / slow one is never chosen while the other is better', () => {
  const g = group(addrs(2));
  const [busy, idle] = g.endpoints;
  busy.inflight = 5;
  let lr = 0;
  for (let i = 0; i < 10_000; i++) if (g.pick('least_request', 0) === busy) lr++;
  busy.inflight = 0;
  recordSuccess(busy, 500, 0);
  recordSuccess(idle, 5, 0);
  let ew = 0;
  for (let i = 0; i < 10_000; i++) if (g.pick('ewma', 0) === busy) ew++;
  console.log(`[measure] unit 2 endpoints, one busy (5 in flight) / slow (500 ms vs 5 ms): picked ${lr} (least_request), ${ew} (ewma) of 10,000`);
  assert.equal(lr, 0, `least_request picked the busy endpoint ${lr} of 10,000 times`);
  assert.equal(ew, 0, `ewma picked the slow endpoint ${ew} of 10,000 times`);
});

test('all policies skip ejected endpoints and the excluded one (retries go elsewhere)', () => {
  for (const policy of POLICIES) {
    const g = group(addrs(5));
    const [a, b, c] = g.endpoints;
    a.ejectedUntil = 10_000;
    b.ejectedUntil = 10_000;
    for (let i = 0; i < 500; i++) {
      const e = g.pick(policy, 5000, c);
      assert.ok(e !== null && e !== a && e !== b && e !== c, `${policy} picked ${e?.key}`);
    }
    // After the back-off the endpoints are eligible again.
    const seen = new Set<Endpoint>();
    for (let i = 0; i < 500; i++) seen.add(g.pick(policy, 10_000)!);
    assert.ok(seen.has(a) && seen.has(b), `${policy}: ejected endpoints return after ejectedUntil`);
  }
});

test('everything ejected: a request still gets the endpoint whose back-off ends first; empty group: null (503)', () => {
  for (const policy of POLICIES) {
    const g = group(addrs(3));
    g.endpoints[0].ejectedUntil = 9000;
    g.endpoints[1].ejectedUntil = 7000;
    g.endpoints[2].ejectedUntil = 8000;
    assert.equal(g.pick(policy, 0), g.endpoints[1], policy);
    assert.equal(g.pick(policy, 0, g.endpoints[1]), g.endpoints[2], `${policy} with the soonest one excluded`);
  }
  assert.equal(group([]).pick('round_robin', 0), null);
  assert.equal(group([]).pickByHash('k', 0), null);
});

// ---- consistent hashing ----

function keys(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `/item/${i}?user=${(i * 7919) % 1000}`);
}

test('hash ring: 10,000 keys spread over 10 endpoints; removing one moves only its keys (~1/N)', () => {
  const all = addrs(10);
  const ks = keys(10_000);
  const before = group(all);
  const owner = new Map(ks.map((k) => [k, before.pickByHash(k, 0)!.key]));
  const counts = new Map<string, number>();
  for (const o of owner.values()) counts.set(o, (counts.get(o) ?? 0) + 1);
  const { max, min } = shares(counts, ks.length);
  console.log(`[measure] unit hash ring balance: 10 endpoints x 160 points, 10,000 keys, max share ${pct(max)}, min share ${pct(min)}`);
  assert.equal(counts.size, 10);
  assert.ok(min > 0.06 && max < 0.14, `ring shares ${pct(min)}..${pct(max)}`);

  const moved: number[] = [];
  for (let r = 0; r < all.length; r++) {
    const removed = `${all[r].address}:${all[r].port}`;
    const after = group(all.filter((_, i) => i !== r));
    let m = 0;
    for (const k of ks) {
      const now = after.pickByHash(k, 0)!.key;
      if (now !== owner.get(k)) {
        m++;
        assert.equal(owner.get(k), removed, `key ${k} of a remaining endpoint moved from ${owner.get(k)} to ${now}`);
      }
    }
    moved.push(m / ks.length);
  }
  console.log(`[measure] unit hash stability N=10, one endpoint removed (each in turn): moved fraction min ${pct(Math.min(...moved))}, mean ${pct(moved.reduce((a, b) => a + b) / moved.length)}, max ${pct(Math.max(...moved))} (ideal 10%); keys of remaining endpoints moved: 0`);
  for (const f of moved) assert.ok(f > 0.06 && f < 0.14, `moved ${pct(f)}`);
});

test('hash ring: adding an 11th endpoint moves ~1/11 of keys, all of them to the new endpoint', () => {
  const ks = keys(10_000);
  const g10 = group(addrs(10));
  const g11 = group(addrs(11));
  let moved = 0;
  for (const k of ks) {
    const a = g10.pickByHash(k, 0)!.key;
    const b = g11.pickByHash(k, 0)!.key;
    if (a !== b) {
      moved++;
      assert.equal(b, '10.0.0.11:8080');
    }
  }
  console.log(`[measure] unit hash stability N=10 -> 11 (one added): moved fraction ${pct(moved / ks.length)} (ideal ${pct(1 / 11)})`);
  assert.ok(moved / ks.length > 0.05 && moved / ks.length < 0.14);
});

test('hash ring: independent of endpoint order and of the process (two groups, two registries agree)', () => {
  const all = addrs(10);
  const a = group(all);
  const b = group([...all].reverse(), new Map());
  for (const k of keys(2000)) assert.equal(a.pickByHash(k, 0)!.key, b.pickByHash(k, 0)!.key);
});

test('hash ring: an ejected endpoint\'s keys go to the next endpoint on the ring, others stay; they return after the back-off', () => {
  const g = group(addrs(10));
  const ks = keys(5000);
  const owner = new Map(ks.map((k) => [k, g.pickByHash(k, 0)!]));
  const out = g.endpoints[4];
  out.ejectedUntil = 1000;
  for (const k of ks) {
    const e = g.pickByHash(k, 500)!;
    if (owner.get(k) === out) assert.notEqual(e, out);
    else assert.equal(e, owner.get(k));
  }
  for (const k of ks) assert.equal(g.pickByHash(k, 1000), owner.get(k));
  // All ejected: still an answer (the key's own endpoint).
  for (const e of g.endpoints) e.ejectedUntil = 1000;
  for (const k of ks.slice(0, 100)) assert.equal(g.pickByHash(k, 0), owner.get(k));
});

test('IPv6 endpoints get bracketed keys and work on the ring', () => {
  const g = group([{ address: 'fd00::1', port: 80 }, { address: 'fd00::2', port: 80 }]);
  assert.deepEqual(g.endpoints.map((e) => e.key), ['[fd00::1]:80', '[fd00::2]:80']);
  const seen = new Set(keys(200).map((k) => g.pickByHash(k, 0)!.key));
  assert.equal(seen.size, 2);
});

// ---- affinity cookie values ----

test('affinity cookie values: a hash of the address, identical in every process, unique per endpoint', () => {
  const a = group(addrs(10));
  const b = group(addrs(10).reverse(), new Map());
  const values = new Set<string>();
  for (const e of a.endpoints) {
    assert.match(e.cookie, /^[0-9a-f]{16}$/);
    values.add(e.cookie);
    assert.equal(b.byCookie(e.cookie)?.key, e.key, 'another instance maps the cookie to the same endpoint');
    assert.equal(a.byCookie(e.cookie), e);
  }
  assert.equal(values.size, 10);
  assert.equal(a.byCookie('0000000000000000'), undefined);
  const gone = a.endpoints[3].cookie;
  assert.equal(group(addrs(10).filter((_, i) => i !== 3)).byCookie(gone), undefined, 'endpoint removed: its cookie names nothing');
});

// ---- passive health ----

test(`passive health: ejected after ${MAX_FAILS} consecutive failures, back-off doubling from ${MIN_BACKOFF_MS} ms to ${MAX_BACKOFF_MS} ms, returned on success`, () => {
  const g = group(addrs(3));
  const e = g.endpoints[0];
  let now = 1000;
  assert.equal(recordFailure(e, now, 'connection refused'), null, 'one failure is not enough');
  assert.equal(recordSuccess(e, 5, now), null, 'a success in between resets the count');
  assert.equal(recordFailure(e, now, 'connection refused'), null);
  const ev = recordFailure(e, now, 'connection refused');
  assert.deepEqual(ev, { kind: 'ejected', group: '', endpoint: '10.0.0.1:8080', backoffMs: MIN_BACKOFF_MS, reason: 'connection refused' });
  assert.equal(e.ejectedUntil, now + MIN_BACKOFF_MS);
  for (let i = 0; i < 300; i++) assert.notEqual(g.pick('round_robin', now + 999), e);
  // Back-off over: the endpoint is tried again; one more failure ejects it for twice as long.
  const expected = [2000, 4000, 8000, 16_000, 32_000, 60_000, 60_000];
  for (const b of expected) {
    now = e.ejectedUntil;
    const seen = new Set<Endpoint>();
    for (let i = 0; i < 3; i++) seen.add(g.pick('round_robin', now)!);
    assert.ok(seen.has(e), 'retried once the back-off ended');
    const again = recordFailure(e, now, 'timeout');
    assert.equal(again?.kind, 'ejected');
    assert.equal(again?.backoffMs, b);
  }
  now = e.ejectedUntil;
  assert.deepEqual(recordSuccess(e, 3, now), { kind: 'returned', group: '', endpoint: '10.0.0.1:8080', backoffMs: 0, reason: 'answered again' });
  assert.equal(e.ejectedUntil, 0);
  assert.equal(e.backoff, 0);
  assert.equal(recordSuccess(e, 3, now), null, 'returned only once');
  // A fresh run of failures starts from the minimum back-off again.
  recordFailure(e, now, 'x');
  assert.equal(recordFailure(e, now, 'x')?.backoffMs, MIN_BACKOFF_MS);
});


test('passive health: failures of requests already in flight during an ejection neither extend it nor repeat the event', () => {
  const e = group(addrs(2)).endpoints[0];
  const now = 5000;
  const events = [];
  // Ten requests were in flight when the endpoint died; they all fail within a few milliseconds.
  for (let i = 0; i < 10; i++) {
    const ev = recordFailure(e, now + i, 'connection reset');
    if (ev !== null) events.push(ev);
  }
  assert.equal(events.length, 1, `${events.length} ejection events for one incident`);
  assert.equal(e.backoff, MIN_BACKOFF_MS, `back-off ${e.backoff} ms after one incident`);
});

// ---- groups across table swaps ----

test('buildGroups: unchanged groups and live endpoint state survive a swap; removed endpoints are forgotten', () => {
  const registry = new Map<string, Endpoint>();
  const first = buildGroups({ a: tableOf(addrs(3)), b: tableOf(addrs(2, 3)) }, undefined, registry);
  const shared = first.get('a')!.endpoints[2];
  assert.equal(first.get('b')!.endpoints[0], shared, 'one live state per address, shared by groups');
  shared.inflight = 2;
  shared.ejectedUntil = 777;
  const second = buildGroups({ a: tableOf(addrs(3)), b: tableOf(addrs(1, 3)) }, first, registry);
  assert.equal(second.get('a'), first.get('a'), 'unchanged group kept (round-robin position too)');
  assert.notEqual(second.get('b'), first.get('b'));
  assert.equal(second.get('a')!.endpoints[2].inflight, 2);
  assert.equal(second.get('a')!.endpoints[2].ejectedUntil, 777);
  assert.deepEqual([...registry.keys()].sort(), ['10.0.0.1:8080', '10.0.0.2:8080', '10.0.0.3:8080']);
  shared.inflight = 0;
});

test('a group whose endpoints come and go keeps serving: picks stay O(1)/O(log n) and valid', () => {
  const registry = new Map<string, Endpoint>();
  let groups = buildGroups({ g: tableOf(addrs(10)) }, undefined, registry);
  for (let round = 0; round < 20; round++) {
    const n = 1 + (round * 7) % 10;
    groups = buildGroups({ g: tableOf(addrs(n, 1 + round % 5)) }, groups, registry);
    const g = groups.get('g')!;
    const valid = new Set(g.endpoints);
    for (const policy of POLICIES) for (let i = 0; i < 50; i++) assert.ok(valid.has(g.pick(policy, 0)!));
    for (const k of keys(50)) assert.ok(valid.has(g.pickByHash(k, 0)!));
  }
});

test('patchGroups applies a delta as buildGroups would build the whole table, registry and endpoint uses included', () => {
  let seed = 9;
  const int = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
  const tableOf = (): BackendTable => ({ service: 'default/s', port: 'http', endpoints: Array.from({ length: int(3) }, (_, i) => ({ address: `10.0.0.${int(6)}`, port: 8000 + i })).filter((e, i, a) => a.findIndex((x) => x.address === e.address && x.port === e.port) === i).sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : a.port - b.port)), problem: null });
  let table: Record<string, BackendTable> = {};
  for (let i = 0; i < 8; i++) table[`b${i}`] = tableOf();
  const registry = new Map<string, Endpoint>();
  const groups = buildGroups(table, undefined, registry);
  const uses = countEndpointUses(groups);
  for (let step = 0; step < 300; step++) {
    const set: Record<string, BackendTable> = {};
    const del: string[] = [];
    for (let n = 1 + int(3); n > 0; n--) {
      const id = `b${int(10)}`;
      if (int(4) === 0) {
        if (table[id] && !del.includes(id)) del.push(id);
        delete set[id];
      } else {
        set[id] = tableOf();
        const at = del.indexOf(id);
        if (at >= 0) del.splice(at, 1);
      }
    }
    const before = new Map(groups);
    const endpointsBefore = new Map(registry);
    table = { ...table };
    for (const id of del) delete table[id];
    Object.assign(table, set);
    patchGroups(groups, { set, del }, registry, uses);
    const fresh = new Map<string, Endpoint>();
    const expected = buildGroups(table, before, fresh);
    assert.deepEqual([...groups.keys()].sort(), [...expected.keys()].sort(), `step ${step}`);
    for (const [id, g] of expected) assert.deepEqual(groups.get(id)!.endpoints.map((e) => e.key), g.endpoints.map((e) => e.key), `step ${step} ${id}`);
    // Unchanged groups are the very objects they were (their balancing state survives).
    for (const [id, g] of before) if (!(id in set) && !del.includes(id)) assert.equal(groups.get(id), g);
    assert.deepEqual([...registry.keys()].sort(), [...new Set([...groups.values()].flatMap((g) => g.endpoints.map((e) => e.key)))].sort(), `registry, step ${step}`);
    assert.deepEqual(uses, countEndpointUses(groups), `uses, step ${step}`);
    // An endpoint still in use keeps its state object (load, health), even when it changed groups.
    for (const [key, e] of registry) if (endpointsBefore.has(key)) assert.equal(e, endpointsBefore.get(key), `endpoint ${key}, step ${step}`);
  }
});

test('patchGroups: an endpoint that stays (in a changed group, or moving to another) keeps its state; a gone one is forgotten', () => {
  const t = (...ports: number[]): BackendTable => ({ service: 'default/s', port: 'http', endpoints: ports.map((port) => ({ address: '10.0.0.1', port })), problem: null });
  const registry = new Map<string, Endpoint>();
  const groups = buildGroups({ a: t(1), b: t(2) }, undefined, registry);
  const uses = countEndpointUses(groups);
  const one = registry.get('10.0.0.1:1')!;
  one.failures = 1; // some state
  assert.equal(patchGroups(groups, { set: { a: t(1, 3) }, del: [] }, registry, uses), false);
  assert.equal(registry.get('10.0.0.1:1'), one, 'same group id, changed endpoints: the kept endpoint keeps its state');
  // :1 moves from a to b while a goes away.
  assert.equal(patchGroups(groups, { set: { b: t(1) }, del: ['a'] }, registry, uses), true, ':2 and :3 are gone');
  assert.equal(registry.get('10.0.0.1:1'), one);
  assert.deepEqual([...registry.keys()], ['10.0.0.1:1']);
  assert.deepEqual([...uses], [['10.0.0.1:1', 1]]);
});
