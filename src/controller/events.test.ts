import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventRecorder } from './events.ts';

const ing = { kind: 'Ingress', namespace: 'default', name: 'web' };

test('identical events increase count and lastTimestamp instead of piling up', () => {
  let t = Date.parse('2026-01-01T00:00:00Z');
  const r = new EventRecorder(10, () => new Date(t));
  const a = r.record(ing, 'Warning', 'PathConflict', 'x');
  t += 5000;
  const b = r.record(ing, 'Warning', 'PathConflict', 'x');
  assert.equal(a, b);
  assert.equal(b.count, 2);
  assert.equal(b.firstTimestamp, '2026-01-01T00:00:00.000Z');
  assert.equal(b.lastTimestamp, '2026-01-01T00:00:05.000Z');
  assert.equal(r.size, 1);
  r.record(ing, 'Warning', 'PathConflict', 'y');
  assert.equal(r.size, 2);
  assert.equal(b.source.component, 'archway');
});

test('memory is bounded: the least recently updated events are dropped', () => {
  const r = new EventRecorder(3);
  for (let i = 0; i < 10; i++) r.record(ing, 'Normal', 'Sync', `m${i}`);
  assert.equal(r.size, 3);
  assert.deepEqual(r.list().map((e) => e.message).sort(), ['m7', 'm8', 'm9']);
});

test('list filters by namespace and object', () => {
  const r = new EventRecorder();
  r.record(ing, 'Normal', 'Sync', 'a');
  r.record({ kind: 'Ingress', namespace: 'other', name: 'api' }, 'Normal', 'Sync', 'b');
  assert.deepEqual(r.list({ namespace: 'other' }).map((e) => e.message), ['b']);
  assert.deepEqual(r.list({ kind: 'Ingress', name: 'web' }).map((e) => e.message), ['a']);
});
