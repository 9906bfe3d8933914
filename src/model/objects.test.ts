// ObjectStore: keyed by kind/namespace/name, sorted lists (deterministic builds), cache invalidation.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ChangeCursor, ObjectStore, describeObject, objectKey, type Kind, type StoredObject } from './objects.ts';
import { mulberry32 } from '../util/prng.ts';

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

const obj = (kind: Kind, namespace: string, name: string, v = 0): StoredObject => ({ kind, apiVersion: 'v1', namespace, name, raw: { v } });

/** What list() must return: every object of the kind, sorted by namespace then name. */
function sortedFromScratch(objects: Map<string, StoredObject>, kind: Kind): StoredObject[] {
  return [...objects.values()].filter((o) => o.kind === kind).sort((a, b) => (a.namespace + '\0' + a.name < b.namespace + '\0' + b.name ? -1 : 1));
}

test('sorted lists patched change by change equal lists sorted from scratch; handed-out lists never change', () => {
  const rand = mulberry32(7);
  const int = (n: number) => Math.floor(rand() * n);
  const store = new ObjectStore();
  const truth = new Map<string, StoredObject>();
  const kinds: Kind[] = ['Ingress', 'Service'];
  for (let step = 0; step < 3000; step++) {
    const kind = kinds[int(2)];
    const ns = `ns${int(4)}`;
    const name = `n${int(60)}`;
    const key = `${kind}/${ns}/${name}`;
    if (int(4) === 0) {
      assert.equal(store.delete(kind, ns, name), truth.delete(key));
    } else {
      const o = obj(kind, ns, name, step);
      store.set(o);
      truth.set(key, o);
    }
    if (step % 7 === 0) {
      const handed = store.list(kind);
      const copy = [...handed];
      assert.deepEqual(handed, sortedFromScratch(truth, kind), `step ${step}`);
      // The next changes patch a copy: what a consumer holds stays as it was.
      store.set(obj(kind, 'ns0', 'n0', -step));
      truth.set(`${kind}/ns0/n0`, store.get(kind, 'ns0', 'n0')!);
      assert.deepEqual(handed, copy);
    }
  }
  for (const kind of kinds) assert.deepEqual(store.list(kind), sortedFromScratch(truth, kind));
});

test('changesSince lists additions, replacements and removals in order; setting the same instance is no change', () => {
  const store = new ObjectStore();
  const a = obj('Service', 'default', 'a');
  store.set(a);
  const v = store.version;
  store.set(a);
  assert.deepEqual(store.changesSince(v), []);
  const a2 = obj('Service', 'default', 'a', 2);
  store.set(a2);
  store.delete('Service', 'default', 'a');
  store.delete('Service', 'default', 'missing');
  assert.deepEqual(store.changesSince(v), [
    { kind: 'Service', before: a, after: a2 },
    { kind: 'Service', before: a2, after: undefined },
  ]);
  assert.equal(store.changesSince(store.version + 1), null, 'a version the store never had');
});

test('a clone has the same objects and changes apart from the original', () => {
  const store = new ObjectStore();
  store.set(obj('Ingress', 'default', 'a'));
  store.set(obj('Ingress', 'default', 'c'));
  const listed = store.list('Ingress');
  const c = store.clone();
  c.set(obj('Ingress', 'default', 'b'));
  assert.deepEqual(c.list('Ingress').map((o) => o.name), ['a', 'b', 'c']);
  assert.deepEqual(store.list('Ingress').map((o) => o.name), ['a', 'c']);
  assert.equal(store.list('Ingress'), listed);
  assert.deepEqual(c.changesSince(0)!.map((x) => x.after?.name), ['b'], 'a clone\'s history starts with it');
});

test('forgetChangesBefore drops what every reader has read; later changes stay readable', () => {
  const store = new ObjectStore();
  store.set(obj('Service', 'default', 'a'));
  const v = store.version;
  store.forgetChangesBefore(v);
  assert.equal(store.changesSince(0), null, 'forgotten');
  assert.deepEqual(store.changesSince(v), []);
  const b = obj('Service', 'default', 'b');
  store.set(b);
  assert.deepEqual(store.changesSince(v), [{ kind: 'Service', before: undefined, after: b }]);
  store.forgetChangesBefore(v + 10);
  assert.deepEqual(store.changesSince(v + 1), [], 'never past the present');
});

test('a ChangeCursor reads each change once, and says when it cannot know (another store, forgotten changes)', () => {
  const store = new ObjectStore();
  const cursor = new ChangeCursor();
  assert.equal(cursor.read(store), null, 'first read: no history');
  const a = obj('Ingress', 'default', 'a');
  store.set(a);
  assert.deepEqual(cursor.read(store), [{ kind: 'Ingress', before: undefined, after: a }]);
  assert.deepEqual(cursor.read(store), [], 'already read');
  store.set(obj('Ingress', 'default', 'b'));
  store.forgetChangesBefore(store.version);
  assert.equal(cursor.read(store), null, 'the change it missed is forgotten');
  assert.equal(cursor.read(new ObjectStore()), null, 'another store');
});
