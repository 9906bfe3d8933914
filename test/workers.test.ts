// Issue 3 item 1: every core used. Workers (threads, or processes) share the listener, each serves the table the
// primary built, a crashed worker is restarted without disturbing the others, and the admin port
// speaks for the whole instance.

import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { backend, closeAll, echoes, ingress, manifestDir, request, rule, service, spawnArchway, startArchway, yamlDocs } from './harness.ts';

async function adminJson(port: number, path: string): Promise<Record<string, number>> {
  const res = await request(port, path);
  assert.equal(res.status, 200);
  return JSON.parse(res.text) as Record<string, number>;
}

function pidsOf(stderr: string): number[] {
  const m = /data plane: (\d+) worker process\(es\), pids ([\d, ]+)/.exec(stderr);
  assert.ok(m, `no worker line in stderr:\n${stderr}`);
  return m[2].split(',').map((s) => Number(s.trim()));
}

async function appFiles(t: TestContext): Promise<Record<string, string>> {
  const be = await echoes('app');
  t.after(() => closeAll(be));
  return { 'app.yaml': yamlDocs(service('app', be.app.port), ingress('app', { rules: [rule(undefined, [['/', 'Prefix', backend('app')]])] })) };
}

/** Both workers take connections, one is stopped abruptly, requests keep succeeding, it comes back. */
async function crashAndRecover(port: number, adminPort: number, crash: () => void, restarted: () => boolean): Promise<void> {
  assert.equal((await request(adminPort, '/readyz')).status, 200);
  // New connections are spread by the kernel (SO_REUSEPORT): both workers end up with some.
  for (let i = 0; i < 40; i++) assert.equal((await request(port, '/', { headers: { connection: 'close' } })).status, 200);
  const before = await adminJson(adminPort, '/stats');
  assert.equal(before.workers, 2);
  assert.ok(before.requests >= 40, `instance-wide request count ${before.requests}`);

  crash();
  // Requests keep succeeding while the worker is down and after it is back.
  let failures = 0;
  for (let i = 0; i < 60; i++) {
    const res = await request(port, '/', { headers: { connection: 'close' } }).catch(() => null);
    if (res?.status !== 200) failures++;
  }
  // A connection accepted by the dying worker's queue at the instant of the kill may be lost; the
  // other worker keeps serving, so nearly all requests succeed.
  assert.ok(failures <= 1, `${failures} failed requests while a worker restarted`);
  const deadline = Date.now() + 5000;
  while (!restarted() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  assert.ok(restarted(), 'the worker was not restarted within 5 s');
  const after = await adminJson(adminPort, '/stats');
  assert.equal(after.workers, 2);
  assert.equal((await request(adminPort, '/readyz')).status, 200);
  for (let i = 0; i < 20; i++) assert.equal((await request(port, '/', { headers: { connection: 'close' } })).status, 200);
}

test('two worker threads serve one port; a worker stopped abruptly is restarted while the other keeps serving', { timeout: 30_000 }, async (t) => {
  const aw = await startArchway(await appFiles(t), ['--workers', '2']);
  t.after(() => aw.stop());
  const pool = aw.running.workers!;
  assert.equal(pool.isolation, 'thread');
  assert.match(aw.stderr, /data plane: 2 worker thread\(s\)/);
  const [first] = pool.labels;
  await crashAndRecover(aw.port, aw.adminPort, () => pool.kill(0), () => pool.applied && pool.labels.length === 2 && !pool.labels.includes(first));
});

test('two worker processes (--worker-isolation process) serve one port; a killed worker is restarted', { timeout: 30_000 }, async (t) => {
  const aw = await spawnArchway(await manifestDir(await appFiles(t)), ['--workers', '2', '--worker-isolation', 'process']);
  t.after(() => aw.stop());
  const [first, second] = pidsOf(aw.stderr());
  assert.notEqual(first, second);
  await crashAndRecover(aw.port, aw.adminPort, () => process.kill(first, 'SIGKILL'), () => /worker 0 restarted/.test(aw.stderr()));
  assert.match(aw.stderr(), /worker 0 \(pid \d+\) exited \(SIGKILL\); restarting/);
});

test('--workers validates its value', { timeout: 10_000 }, async () => {
  const { runNode, MAIN } = await import('./harness.ts');
  const r = await runNode([MAIN, 'serve', '--manifests', '.', '--workers', 'many']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--workers: "many" is not a number of workers/);
});

test('--worker-isolation validates its value', { timeout: 10_000 }, async () => {
  const { runNode, MAIN } = await import('./harness.ts');
  const r = await runNode([MAIN, 'serve', '--manifests', '.', '--worker-isolation', 'fiber']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--worker-isolation: "fiber" is not one of thread, process/);
});
