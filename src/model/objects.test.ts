// ObjectStore: keyed by kind/namespace/name, sorted lists (deterministic builds), cache invalidation.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ObjectStore, describeObject, objectKey, type Kind, type StoredObject } from './objects.ts';

const o = (kind: Kind, namespace: string, name: string, v = 1): StoredObject => ({ kind, apiVersion: 'v1', namespace, name, raw: { v } });

test('list is sorted by namespace then name whatever the insertion order; kinds are separate', () => {
  const s = new ObjectStore();
  for (const x of [o('Service', 'b', 'a'), o('Service', 'a', 'z'), o('Service', 'a', 'b'), o('Endpoints', 'a', 'a')]) s.set(x);
  assert.deepEqual(s.list('Service').map((x) => `${x.namespace}/${x.name}`), ['a/b', 'a/z', 'b/a']);
  assert.deepEqual(s.list('Endpoints').map((x) => x.name), ['a']);
  assert.deepEqual(s.list('Ingress'), []);
  assert.equal(s.size, 4);
});

test('set replaces by key; delete removes; lists follow every change', () => {
  const s = new ObjectStore();
  s.set(o('Service', 'ns', 'a', 1));
  assert.equal(s.list('Service').length, 1);
  s.set(o('Service', 'ns', 'a', 2));
  assert.deepEqual(s.list('Service').map((x) => x.raw.v), [2]);
  assert.equal(s.get('Service', 'ns', 'a')?.raw.v, 2);
  s.set(o('Service', 'ns', 'b'));
  assert.equal(s.list('Service').length, 2);
  assert.equal(s.delete('Service', 'ns', 'a'), true);
  assert.equal(s.delete('Service', 'ns', 'a'), false);
  assert.deepEqual(s.list('Service').map((x) => x.name), ['b']);
  assert.equal(s.get('Service', 'ns', 'a'), undefined);
  assert.equal(s.get('Endpoints', 'ns', 'b'), undefined);
});

test('keys and descriptions', () => {
  assert.equal(objectKey('Ingress', 'ns', 'a'), 'Ingress/ns/a');
  assert.equal(describeObject({ kind: 'Ingress', namespace: 'ns', name: 'a' }), 'Ingress ns/a');
  assert.equal(describeObject({ kind: 'IngressClass', namespace: '', name: 'c' }), 'IngressClass c');
});
