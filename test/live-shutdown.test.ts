// Issue 4 item 5 (graceful shutdown), on a real child process: SIGTERM turns /readyz 503 at once, the
// listeners stop accepting, in-flight requests finish within --shutdown-grace-period, idle keep-alive
// connections are closed, and the process exits 0; past the grace period it exits anyway.

import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { performance } from 'node:perf_hooks';
import { after, before, describe, test } from 'node:test';
import { backend, ingress, manifestDir, RawConn, request, rule, service, sleep, spawnArchway, yamlDocs, type ArchwayProcess } from './harness.ts';
import { get, namedBackend, waitFor, type NamedBackend } from './live-harness.ts';


let slow: NamedBackend;
let dir: string;

before(async () => {
  slow = await namedBackend('slow');
  dir = await manifestDir({
    'app.yaml': yamlDocs(service('slow', slow.port), ingress('app', { rules: [rule(undefined, [['/', 'Prefix', backend('slow')]])] })),
  });
});
after(async () => {
  slow.releaseHeld();
  await slow.close();
  await rm(dir, { recursive: true, force: true });
});

/** Resolves with the exit code, or null when the process is still running after `ms`. */
function exitWithin(aw: ArchwayProcess, ms: number): Promise<{ code: number | null; signal: string | null; atMs: number } | null> {
  const { child } = aw;
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve({ code: child.exitCode, signal: child.signalCode, atMs: performance.now() });
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.off('exit', onExit);
      resolve(null);
    }, ms);
    const onExit = (code: number | null, signal: string | null) => {
      clearTimeout(timer);
      resolve({ code, signal, atMs: performance.now() });
    };
    child.once('exit', onExit);
  });
}

/** True when a TCP connection to the port is refused (or reset before any byte). */
function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      // Accepted by the kernel: refused only if it is closed without an answer.
      s.write('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
      s.once('data', () => (s.destroy(), resolve(false)));
      s.once('close', () => resolve(true));
    });
    s.once('error', () => resolve(true));
    s.setTimeout(1000, () => (s.destroy(), resolve(false)));
  });
}

/** Polls /readyz from the moment of the signal; returns ms until the first 503. */
async function readyzTurns503(aw: ArchwayProcess, t0: number): Promise<number> {
  return waitFor('/readyz to answer 503', async () => {
    const res = await request(aw.adminPort, '/readyz', { timeoutMs: 1000 });
    return res.status === 503 ? performance.now() - t0 : false;
  }, 2000, 5);
}

for (const workers of [0, 2]) {
  describe(`graceful shutdown (--workers ${workers})`, () => {
    test('SIGTERM with a slow request in flight: not ready at once, no new connections, the request completes, exit 0', { timeout: 15_000 }, async () => {
      const aw = await spawnArchway(dir, ['--workers', String(workers), '--shutdown-grace-period', '5s']);
      try {
        assert.equal((await request(aw.adminPort, '/readyz')).status, 200);
        slow.held = 0;
        const inFlight = get(aw.port, 'any.test', '/hold', false, undefined, 8000);
        await waitFor('the request to reach the backend', () => slow.held === 1, 2000, 5);

        const t0 = performance.now();
        aw.child.kill('SIGTERM');
        const notReadyMs = await readyzTurns503(aw, t0);
        assert.ok(notReadyMs < 500, `/readyz turned 503 after ${notReadyMs.toFixed(0)} ms`);
        await waitFor('new connections to be refused', () => refused(aw.port), 1000, 20);
        const refusedMs = performance.now() - t0;

        await sleep(300);
        assert.equal(aw.child.exitCode, null, 'the process waits for the request in flight');
        slow.releaseHeld();
        const res = await inFlight;
        assert.equal(res.status, 200);
        assert.equal(res.backend, 'slow');
        const exit = await exitWithin(aw, 3000);
        assert.ok(exit, `the process did not exit within 3 s of its last request; stderr:\n${aw.stderr()}`);
        console.log(`shutdown (--workers ${workers}): /readyz 503 after ${notReadyMs.toFixed(0)} ms, connections refused after ${refusedMs.toFixed(0)} ms, exit ${(exit.atMs - t0).toFixed(0)} ms after SIGTERM`);
        assert.equal(exit.code, 0);
      } finally {
        slow.releaseHeld();
        await aw.stop();
      }
    });

    // Once a bug: DataPlane.drain() awaited net.Server#close(), whose callback waits for every connection, before
    // draining them; idle connections stayed open and the grace period never started (fixed in 5b29acb).
    test('SIGTERM closes an idle keep-alive connection; a busy one gets Connection: close, then closes', { timeout: 15_000 }, async () => {
      const aw = await spawnArchway(dir, ['--workers', String(workers), '--shutdown-grace-period', '5s']);
      const idle = await RawConn.open(aw.port);
      const busy = await RawConn.open(aw.port);
      try {
        idle.write('GET /one HTTP/1.1\r\nHost: any.test\r\n\r\n');
        assert.equal((await idle.response()).status, 200);
        slow.held = 0;
        busy.write('GET /hold HTTP/1.1\r\nHost: any.test\r\n\r\n');
        await waitFor('the request to reach the backend', () => slow.held === 1, 2000, 5);

        aw.child.kill('SIGTERM');
        assert.ok(await idle.closedWithin(1000), 'the idle keep-alive connection is still open 1 s after SIGTERM');
        // With two workers, `idle` and `busy` may sit on different ones: give the drain message a moment to
        // reach the other worker too before the held response is released.
        await new Promise((r) => setTimeout(r, 200));
        slow.releaseHeld();
        const res = await busy.response();
        assert.equal(res.status, 200);
        assert.equal(res.headers.connection?.toLowerCase(), 'close');
        assert.ok(await busy.closedWithin(1000), 'the busy connection closes after its response');
        const exit = await exitWithin(aw, 3000);
        assert.ok(exit, 'the process did not exit');
        assert.equal(exit.code, 0);
      } finally {
        idle.destroy();
        busy.destroy();
        slow.releaseHeld();
        await aw.stop();
      }
    });

    test('--shutdown-grace-period 500ms: a request that takes longer does not hold the exit', { timeout: 15_000 }, async () => {
      const aw = await spawnArchway(dir, ['--workers', String(workers), '--shutdown-grace-period', '500ms']);
      try {
        slow.held = 0;
        const inFlight = get(aw.port, 'any.test', '/hold', false, undefined, 8000).then(
          (r) => `HTTP ${r.status}`,
          (e: Error) => `error: ${e.message}`,
        );
        await waitFor('the request to reach the backend', () => slow.held === 1, 2000, 5);
        const t0 = performance.now();
        aw.child.kill('SIGTERM');
        const exit = await exitWithin(aw, 1600);
        assert.ok(exit, 'the process was still running 1.6 s after SIGTERM with a 500 ms grace period');
        const ms = exit.atMs - t0;
        console.log(`grace period 500 ms (--workers ${workers}): exit ${ms.toFixed(0)} ms after SIGTERM, code ${exit.code}`);
        assert.ok(ms >= 400 && ms < 1500, `exited ${ms.toFixed(0)} ms after SIGTERM`);
        assert.equal(exit.code, 0);
        // The cut request ends (an error, not a hang).
        assert.match(await inFlight, /error/);
      } finally {
        slow.releaseHeld();
        await aw.stop();
      }
    });
  });
}
