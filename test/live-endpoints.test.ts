// Issue 4 item 3 (endpoint fast lane): editing only an Endpoints file updates the backend address lists
// without a rebuild; a new endpoint gets traffic and a removed one gets no new requests within a second,
// while a request already running on the removed endpoint finishes.

import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { after, before, describe, test } from 'node:test';
import { backend, ingress, rule, service, sleep, startArchway, yamlDocs, type Archway } from './harness.ts';
import { dumpOnError, get, Load, muteStderr, namedBackend, readManifests, waitFor, writeInPlace, type NamedBackend } from './live-harness.ts';


const stderr = muteStderr();
after(() => stderr.restore());

/** Endpoints of Service `app`: one subset per backend port, port name `http`. */
function endpoints(...ports: number[]): string {
  return yamlDocs({
    apiVersion: 'v1',
    kind: 'Endpoints',
    metadata: { name: 'app', namespace: 'default' },
    subsets: ports.map((port) => ({ addresses: [{ ip: '127.0.0.1' }], ports: [{ name: 'http', port }] })),
  });
}

function files(ports: number[]): Record<string, string> {
  // The Service maps port 80 to the endpoints' port named http; its own Endpoints come from eps.yaml.
  const svc = service('app', 0, { targetPort: 'http' })[0];
  return {
    'svc.yaml': yamlDocs(svc),
    'ing.yaml': yamlDocs(ingress('app', { rules: [rule('ep.test', [['/', 'Prefix', backend('app')]])] }, { creationTimestamp: '2024-01-01T00:00:00Z' })),
    'eps.yaml': endpoints(...ports),
  };
}

for (const workers of [0, 2]) {
  describe(`endpoint fast lane (--workers ${workers})`, () => {
    let a: NamedBackend;
    let b: NamedBackend;
    let arch: Archway;

    before(async () => {
      a = await namedBackend('A');
      b = await namedBackend('B');
      arch = await dumpOnError(stderr, () => startArchway(files([a.port]), ['--workers', String(workers)]));
    });
    after(async () => {
      await arch.stop();
      await Promise.all([a.close(), b.close()]);
    });

    /** Waits until the controller applied a change (and, with workers, every worker acknowledged it). */
    async function applied(swapsBefore: number, what: string): Promise<void> {
      const pool = arch.running.workers;
      await waitFor(what, () => arch.running.controller.counters.tableSwaps > swapsBefore && (pool === null || pool.applied), 2000, 5);
    }

    test('add an endpoint, then remove the first: traffic moves within 1 s, no rebuild, the running request finishes', { timeout: 15_000 }, async () => {
      const c = arch.running.controller.counters;
      const load = new Load({ port: arch.port, keepAliveClients: 4, freshClients: 4, targets: [{ host: 'ep.test', path: '/', backend: ['A', 'B'] }] }).start();
      try {
        // A request that will still be running on A when A is removed.
        const held = get(arch.port, 'ep.test', '/hold', false, undefined, 8000);
        await waitFor('the held request to reach A', () => a.held === 1, 2000, 5);
        await sleep(100);
        assert.ok(a.requests > 10 && b.requests === 0, `A ${a.requests}, B ${b.requests}`);
        const before = { ...c };

        // 1. Add B.
        const tAdd = performance.now();
        await writeInPlace(arch.dir, 'eps.yaml', endpoints(a.port, b.port));
        const firstB = await waitFor('B to receive a request', () => b.arrivals.find((t) => t > tAdd), 2000, 5);
        const addMs = firstB - tAdd;
        await sleep(200);

        // 2. Remove A.
        const tRemove = performance.now();
        await writeInPlace(arch.dir, 'eps.yaml', endpoints(b.port));
        await sleep(1300);
        const lateA = a.arrivals.filter((t) => t > tRemove + 1000);
        const lastA = Math.max(tRemove, ...a.arrivals.filter((t) => t > tRemove));
        const bAfter = b.arrivals.filter((t) => t > tRemove + 1000).length;
        console.log(`fast lane (--workers ${workers}): new endpoint's first request ${addMs.toFixed(0)} ms after the write; removed endpoint's last request ${(lastA - tRemove).toFixed(0)} ms after the write`);
        assert.ok(addMs < 1000, `the new endpoint got its first request ${addMs.toFixed(0)} ms after the write`);
        assert.equal(lateA.length, 0, `the removed endpoint still got ${lateA.length} requests more than 1 s after the write`);
        assert.ok(bAfter > 10, `B got ${bAfter} requests after the removal`);

        // Endpoint changes took the fast lane: no route rebuild.
        assert.equal(c.fullSyncs - before.fullSyncs, 0, 'an Endpoints-only change rebuilt the routes');
        assert.ok(c.fastLaneSyncs - before.fastLaneSyncs >= 2, `fast-lane syncs ${before.fastLaneSyncs} -> ${c.fastLaneSyncs}`);

        // The request running on A when A was removed finishes normally.
        a.releaseHeld();
        const res = await held;
        assert.equal(res.status, 200);
        assert.equal(res.backend, 'A');
        await load.stop();
        assert.deepEqual(load.failures, [], `${load.failureCount} of ${load.total} requests failed while endpoints changed`);
        assert.equal(a.requests, a.arrivals.length);
      } finally {
        a.releaseHeld();
        await load.stop();
      }
    });

    test('the fast-lane table is the table a fresh start builds from the same files', { timeout: 10_000 }, async () => {
      const fresh = await startArchway(await readManifests(arch.dir));
      try {
        const live = arch.running.controller.table!;
        const full = fresh.running.controller.table!;
        assert.deepEqual(live, full);
      } finally {
        await fresh.stop();
      }
    });

    // Once a bug: UpstreamPool.release() pooled a connection whose endpoint was removed while it was busy (fixed in 5b29acb).
    test('connections to a removed endpoint are closed once their requests finish', { timeout: 10_000 }, async () => {
      const c = arch.running.controller.counters;
      // Back to A and B; some traffic so that pools hold idle connections to both.
      let swaps = c.tableSwaps;
      await writeInPlace(arch.dir, 'eps.yaml', endpoints(a.port, b.port));
      await applied(swaps, 'A to come back');
      for (let i = 0; i < 20; i++) assert.equal((await get(arch.port, 'ep.test', '/', false)).status, 200);
      a.held = 0;
      const held = get(arch.port, 'ep.test', '/hold', false, undefined, 8000);
      // Round robin: a few more requests until one is held by A.
      let extra: Promise<unknown>[] = [];
      await waitFor('a held request on A', async () => {
        if (a.held > 0) return true;
        extra.push(get(arch.port, 'ep.test', '/hold', false, undefined, 8000));
        await sleep(20);
        return a.held > 0;
      }, 3000, 0);
      swaps = c.tableSwaps;
      await writeInPlace(arch.dir, 'eps.yaml', endpoints(b.port));
      await applied(swaps, 'A to be removed');
      await sleep(100);
      assert.equal(a.open, a.held, `idle connections to the removed endpoint are closed at once (open ${a.open}, busy ${a.held})`);
      a.releaseHeld();
      b.releaseHeld();
      await Promise.all([held, ...extra]);
      extra = [];
      await sleep(300);
      assert.equal(a.open, 0, `connections to the removed endpoint still open after their requests finished: ${a.open}`);
    });
  });
}
