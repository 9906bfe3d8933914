import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { startDemoBackends } from './backends.ts';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

test('starts every backend, each answering with its own name', { timeout: 5000 }, async () => {
  const ports = [await freePort(), await freePort()];
  const running = await startDemoBackends([
    { name: 'alpha', port: ports[0] },
    { name: 'beta', port: ports[1] },
  ]);
  try {
    for (const [i, name] of ['alpha', 'beta'].entries()) {
      const res = await fetch(`http://127.0.0.1:${ports[i]}/x`);
      assert.equal(((await res.json()) as { backend: string }).backend, name);
    }
  } finally {
    await running.close();
  }
  await assert.rejects(fetch(`http://127.0.0.1:${ports[0]}/`));
});

test('a taken port fails clearly and closes the backends already started', { timeout: 5000 }, async () => {
  const blocker = createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  const taken = (blocker.address() as AddressInfo).port;
  const first = await freePort();
  try {
    await assert.rejects(
      startDemoBackends([
        { name: 'ok', port: first },
        { name: 'blocked', port: taken },
      ]),
      /cannot start echo backend "blocked" on 127\.0\.0\.1:\d+: the port is already in use/,
    );
    await assert.rejects(fetch(`http://127.0.0.1:${first}/`), 'the first backend was closed again');
  } finally {
    await new Promise<void>((resolve) => blocker.close(() => resolve()));
  }
});
