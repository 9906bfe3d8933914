import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryReleaser } from './memory-release.ts';

test('a release after a burst of garbage gives resident memory back', () => {
  const releaser = new MemoryReleaser();
  releaser.releaseNow();
  const base = process.memoryUsage.rss();
  // ~100 MB of short-lived objects: the young generation grows and old-space pages are freed to V8's pool.
  let keep: { i: number; s: string }[] | null = [];
  for (let i = 0; i < 1_500_000; i++) keep.push({ i, s: `item-${i}` });
  keep = null;
  const before = process.memoryUsage.rss();
  assert.ok(before > base + 50 * 2 ** 20, `the burst should have grown RSS (base ${base >> 20} MB, now ${before >> 20} MB)`);
  const r = releaser.releaseNow();
  assert.ok(r.rssAfter < before - 40 * 2 ** 20, `RSS ${before >> 20} -> ${r.rssAfter >> 20} MB`);
  assert.equal(typeof (globalThis as { gc?: unknown }).gc, 'undefined', 'gc stays unexposed to the program');
});

test('afterBurst releases once, after the quiet period, however many bursts came', async () => {
  const releaser = new MemoryReleaser({ quietMs: 40, minGrowthBytes: 0 });
  let releases = 0;
  releaser.onRelease = () => releases++;
  for (let i = 0; i < 5; i++) {
    releaser.afterBurst();
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.equal(releases, 0, 'no release while bursts keep coming');
  await new Promise((r) => setTimeout(r, 120));
  assert.equal(releases, 1);
  releaser.cancel();
});

test('afterBurst leaves a process alone whose memory did not grow enough to be worth a pause', async () => {
  const releaser = new MemoryReleaser({ quietMs: 20, minGrowthBytes: 512 * 2 ** 20 });
  let releases = 0;
  releaser.onRelease = () => releases++;
  releaser.afterBurst();
  await new Promise((r) => setTimeout(r, 80));
  assert.equal(releases, 0);
  releaser.cancel();
});

test('releaseIfGrown releases only when the heap grew by the given amount since the last release', () => {
  const releaser = new MemoryReleaser();
  releaser.releaseNow();
  assert.equal(releaser.releaseIfGrown(512 * 2 ** 20), null, 'did not grow by 512 MB');
  let keep: string[] | null = [];
  for (let i = 0; i < 300_000; i++) keep.push(`grow-${i}`);
  assert.ok(keep.length > 0);
  const r = releaser.releaseIfGrown(1);
  assert.ok(r !== null, 'grew: released');
  keep = null;
});

test('releaseWhenIdle releases only after an interval with no activity', async () => {
  const releaser = new MemoryReleaser();
  let releases = 0;
  releaser.onRelease = () => releases++;
  let requests = 0;
  const busy = setInterval(() => requests++, 5);
  const stop = releaser.releaseWhenIdle(() => requests, 40, 0);
  await new Promise((r) => setTimeout(r, 150));
  assert.equal(releases, 0, 'requests kept coming: not idle');
  clearInterval(busy);
  await new Promise((r) => setTimeout(r, 150));
  assert.ok(releases >= 1, 'idle: released');
  stop();
  const after = releases;
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(releases, after, 'stopped');
});
