import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startWorker } from './worker-link.ts';
import type { ToWorker } from './protocol.ts';

for (const isolation of ['thread', 'process'] as const) {
  test(`an uncaught exception in a worker ${isolation} ends that worker alone and is reported`, { timeout: 20_000 }, async () => {
    const link = startWorker(isolation);
    const exited = new Promise<string>((resolve) => link.onExit(resolve));
    // A table message without a table: the worker throws while handling it (no try/catch there).
    assert.equal(link.send({ type: 'table', table: null } as unknown as ToWorker), true);
    const how = await exited;
    if (isolation === 'thread') assert.match(how, /^error: .*null/);
    else assert.equal(how, 'code 1');
    assert.equal(link.send({ type: 'stats', id: 1 }), false, 'a gone worker takes no messages');
  });

  test(`kill() stops a worker ${isolation} abruptly`, { timeout: 20_000 }, async () => {
    const link = startWorker(isolation);
    const exited = new Promise<string>((resolve) => link.onExit(resolve));
    link.kill();
    assert.match(await exited, isolation === 'thread' ? /^terminated$/ : /^SIGKILL$/);
    assert.match(link.label, isolation === 'thread' ? /^thread \d+$/ : /^pid \d+$/);
  });
}

test('a worker thread runs with its young generation capped', { timeout: 20_000 }, async () => {
  const { Worker } = await import('node:worker_threads');
  const started = new Promise<InstanceType<typeof Worker>>((resolve) => process.once('worker', resolve));
  const link = startWorker('thread');
  const thread = await started;
  const exited = new Promise<string>((resolve) => link.onExit(resolve));
  // The limits a thread runs with are readable once it is online.
  await new Promise((resolve) => thread.once('online', resolve));
  assert.equal(thread.resourceLimits?.maxYoungGenerationSizeMb, 16);
  link.kill();
  await exited;
});
