import { test } from 'node:test';
import assert from 'node:assert/strict';
import { eventInterval, formatEventTable } from './events.ts';

const NOW = Date.parse('2024-05-01T12:00:00Z');

function ev(name: string, over: Record<string, unknown>): Record<string, unknown> {
  return {
    apiVersion: 'v1', kind: 'Event',
    metadata: { name: `${name}.0000000${over.seq ?? 1}`, namespace: over.namespace ?? 'default' },
    involvedObject: { kind: 'Ingress', namespace: over.namespace ?? 'default', name },
    type: 'Normal', reason: 'Sync', message: 'Scheduled for sync', count: 1,
    firstTimestamp: '2024-05-01T11:58:00Z', lastTimestamp: '2024-05-01T11:58:00Z',
    source: { component: 'archway' },
    ...over,
  };
}

test('get events: LAST SEEN, TYPE, REASON, OBJECT, MESSAGE; oldest first', () => {
  const items = [
    ev('web', { type: 'Warning', reason: 'ServiceNotFound', message: ' spec.rules[0].http.paths[0].backend: Service default/gone not found ', lastTimestamp: '2024-05-01T11:59:30Z', count: 3 }),
    ev('web', { seq: 2 }),
  ];
  assert.equal(
    formatEventTable(items, { allNamespaces: false, wide: false, now: NOW }),
    [
      'LAST SEEN   TYPE      REASON            OBJECT        MESSAGE',
      '2m          Normal    Sync              ingress/web   Scheduled for sync',
      '30s         Warning   ServiceNotFound   ingress/web   spec.rules[0].http.paths[0].backend: Service default/gone not found',
      '',
    ].join('\n'),
  );
  const all = formatEventTable([ev('api', { namespace: 'team-a' })], { allNamespaces: true, wide: false, now: NOW });
  assert.match(all, /^NAMESPACE   LAST SEEN   TYPE     REASON   OBJECT        MESSAGE\nteam-a      2m          Normal   Sync     ingress\/api   Scheduled for sync\n$/);
  const wide = formatEventTable([ev('api', { count: 4 })], { allNamespaces: false, wide: true, now: NOW });
  assert.match(wide, /^LAST SEEN +TYPE +REASON +OBJECT +SUBOBJECT +SOURCE +MESSAGE +FIRST SEEN +COUNT +NAME\n2m +Normal +Sync +ingress\/api +archway +Scheduled for sync +2m +4 +api\.00000001\n$/);
  assert.equal(formatEventTable([], { allNamespaces: false, wide: false, now: NOW }), '');
});

test('describe interval: a repeated event shows "(xN over AGE)"', () => {
  assert.equal(eventInterval(ev('a', {}), NOW), '2m');
  assert.equal(eventInterval(ev('a', { count: 3, firstTimestamp: '2024-05-01T11:00:00Z', lastTimestamp: '2024-05-01T11:59:20Z' }), NOW), '40s (x3 over 60m)');
});
