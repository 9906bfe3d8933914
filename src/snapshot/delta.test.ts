import { test } from 'node:test';
import assert from 'node:assert/strict';
import { build } from '../model/build.ts';
import { ObjectStore } from '../model/objects.ts';
import { parseManifestText } from '../sources/manifest-parse.ts';
import { compile } from './compile.ts';
import { applyDelta, diffTables, fingerprintTable } from './delta.ts';
import { Router } from './router.ts';

function table(yaml: string) {
  const store = new ObjectStore();
  for (const o of parseManifestText(yaml, 'x.yaml').objects) store.set(o);
  return compile(build(store, { controllerName: 'archway.dev/ingress-controller', ingressClass: 'archway', watchWithoutClass: true }));
}

const svc = (name: string, port: number) => `
apiVersion: v1
kind: Service
metadata: {name: ${name}}
spec: {ports: [{port: 80, name: http}]}
---
apiVersion: v1
kind: Endpoints
metadata: {name: ${name}}
subsets: [{addresses: [{ip: 127.0.0.1}], ports: [{port: ${port}, name: http}]}]
---
`;
const ing = (name: string, host: string, path: string, backend: string) => `
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: ${name}}
spec:
  rules:
  - host: "${host}"
    http: {paths: [{path: ${path}, pathType: Prefix, backend: {service: {name: ${backend}, port: {number: 80}}}}]}
---
`;

test('a delta applied to the old table gives exactly the new table; the incremental router answers like a fresh one', () => {
  const a = table(svc('one', 1001) + svc('two', 1002) + ing('i1', 'a.example', '/', 'one') + ing('i2', 'b.example', '/x', 'two') + ing('i3', '*.w.example', '/', 'one'));
  const b = table(svc('one', 1001) + svc('two', 1003) + svc('three', 1004) + ing('i1', 'a.example', '/', 'three') + ing('i3', '*.w.example', '/', 'one') + ing('i4', 'c.example', '/', 'two'));
  const { delta, prints } = diffTables(a, fingerprintTable(a), b);
  assert.deepEqual(applyDelta(a, delta), b);
  assert.deepEqual(prints, fingerprintTable(b));
  // Only what changed travels: a.example (new backend), b.example deleted, c.example added; *.w.example not.
  assert.deepEqual(Object.keys(delta.hosts.set).sort(), ['a.example', 'c.example']);
  assert.deepEqual(delta.hosts.del, ['b.example']);
  assert.deepEqual(Object.keys(delta.wildcards.set), []);
  assert.equal(delta.baseHash, a.hash);
  assert.equal(delta.hash, b.hash);

  const fresh = new Router(b);
  const incremental = new Router(b, { router: new Router(a), delta });
  for (const [host, path] of [['a.example', '/'], ['b.example', '/x'], ['c.example', '/q'], ['x.w.example', '/'], ['none.example', '/']]) {
    assert.equal(incremental.match(host, path)?.backend, fresh.match(host, path)?.backend, `${host}${path}`);
  }
});

test('an unchanged table gives an empty delta', () => {
  const a = table(svc('one', 1001) + ing('i1', 'a.example', '/', 'one'));
  const { delta } = diffTables(a, fingerprintTable(a), a);
  assert.deepEqual([delta.hosts, delta.wildcards, delta.backends, delta.certificates], [{ set: {}, del: [] }, { set: {}, del: [] }, { set: {}, del: [] }, { set: {}, del: [] }]);
});
