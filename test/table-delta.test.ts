// Table deltas (src/snapshot/delta.ts) from manifests to a serving data plane: what the primary ships to workers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { build } from '../src/model/build.ts';
import { ObjectStore } from '../src/model/objects.ts';
import { parseManifestText } from '../src/sources/manifest-parse.ts';
import { compile, withHash } from '../src/snapshot/compile.ts';
import type { BackendTable, HostTable, RoutingTable } from '../src/snapshot/table.ts';
import { applyDelta, diffTables, fingerprintTable } from '../src/snapshot/delta.ts';
import { Router } from '../src/snapshot/router.ts';

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

test('a worker applies a delta only onto its base table, and then serves the new routes over a socket', async () => {
  const { DataPlane } = await import('../src/dataplane/dataplane.ts');
  const { createServer, request } = await import('node:http');
  const backend = createServer((_req, res) => res.end('ok'));
  await new Promise<void>((r) => backend.listen(0, '127.0.0.1', () => r()));
  const port = (backend.address() as { port: number }).port;
  const a = table(svc('one', port) + ing('i1', 'a.example', '/', 'one'));
  const b = table(svc('one', port) + ing('i1', 'a.example', '/', 'one') + ing('i2', 'b.example', '/', 'one'));
  const c = table(svc('one', port) + ing('i2', 'b.example', '/', 'one'));
  const plane = new DataPlane();
  try {
    plane.setTable(a);
    const listen = await plane.listenHttp('127.0.0.1', 0);
    const status = (host: string) => new Promise<number>((resolve, reject) => {
      const r = request({ host: '127.0.0.1', port: listen, path: '/', headers: { host } }, (res) => { res.resume(); resolve(res.statusCode!); });
      r.on('error', reject);
      r.end();
    });
    // A delta computed from another table than the one held is refused (the sender then ships the whole table).
    assert.equal(plane.applyDelta(diffTables(b, fingerprintTable(b), c).delta), false);
    assert.equal(plane.table?.hash, a.hash);
    assert.equal(await status('b.example'), 404);
    assert.equal(plane.applyDelta(diffTables(a, fingerprintTable(a), b).delta), true);
    assert.equal(plane.table?.hash, b.hash);
    assert.equal(await status('b.example'), 200);
    assert.equal(await status('a.example'), 200);
  } finally {
    plane.close();
    backend.close();
  }
});

test('hashing a table against the one it replaces: same hash as from scratch, and the known changes make the same delta', () => {
  let seed = 5;
  const int = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
  const action = (backend: string) => ({ backend, ingress: 'default/x' });
  const hostTable = (backend: string): HostTable => ({ exact: {}, ordered: [{ match: 'prefix', value: '/', length: 1, action: action(backend) }], fallback: null, appRoot: null });
  const backendTable = (port: number): BackendTable => ({ service: 'default/s', port: 'http', endpoints: [{ address: '127.0.0.1', port }], problem: null });
  const tls: RoutingTable['tls'] = { certificates: {}, hosts: {}, wildcards: {}, defaultCertificate: null };
  let hosts: Record<string, HostTable> = {};
  let backends: Record<string, BackendTable> = {};
  for (let i = 0; i < 300; i++) hosts[`h${i}.example`] = hostTable(`b${i % 7}`);
  for (let i = 0; i < 50; i++) backends[`b${i}`] = backendTable(1000 + i);
  let prev = withHash({ hosts, wildcards: {}, hostless: null, defaultAction: null, backends, tls });
  for (let step = 0; step < 200; step++) {
    hosts = { ...hosts };
    backends = { ...backends };
    for (let n = int(4); n >= 0; n--) {
      const h = `h${int(320)}.example`;
      const r = int(4);
      if (r === 0) delete hosts[h];
      else if (r === 1 && hosts[h]) hosts[h] = { ...hosts[h] }; // an equal copy: not a change
      else hosts[h] = hostTable(`b${int(9)}`);
      if (int(3) === 0) backends[`b${int(60)}`] = backendTable(1000 + int(3));
    }
    const body = { hosts, wildcards: {}, hostless: null, defaultAction: null, backends, tls };
    const next = withHash(body, prev);
    const scratch = withHash(body);
    assert.equal(next.hash, scratch.hash, `step ${step}`);
    const known = diffTables(prev, fingerprintTable(prev), next);
    const compared = diffTables(prev, fingerprintTable(prev), scratch);
    assert.deepEqual({ ...known.delta, hash: '' }, { ...compared.delta, hash: '' }, `step ${step}`);
    assert.deepEqual(applyDelta(prev, known.delta), next);
    prev = next;
  }
});

test('a data plane given a table hashed against its own applies it as a delta, and serves it', async () => {
  const { DataPlane } = await import('../src/dataplane/dataplane.ts');
  const { createServer, request } = await import('node:http');
  const backends = [createServer((_req, res) => res.end('one')), createServer((_req, res) => res.end('two'))];
  for (const b of backends) await new Promise<void>((r) => b.listen(0, '127.0.0.1', () => r()));
  const [p1, p2] = backends.map((b) => (b.address() as { port: number }).port);
  const a = table(svc('one', p1) + svc('two', p2) + ing('i1', 'a.example', '/', 'one') + ing('i2', 'b.example', '/', 'two'));
  // The endpoint fast lane's shape: the same routes, one backend's endpoints moved.
  const moved = { ...a.backends, 'default/one:80': { ...a.backends['default/one:80'], endpoints: [{ address: '127.0.0.1', port: p2 }] } };
  const b = withHash({ ...a, backends: moved }, a);
  const plane = new DataPlane();
  try {
    plane.setTable(a);
    const listen = await plane.listenHttp('127.0.0.1', 0);
    const body = (host: string) => new Promise<string>((resolve, reject) => {
      const r = request({ host: '127.0.0.1', port: listen, path: '/', headers: { host } }, (res) => {
        let s = '';
        res.on('data', (c: Buffer) => (s += c)).on('end', () => resolve(s));
      });
      r.on('error', reject);
      r.end();
    });
    assert.equal(await body('a.example'), 'one');
    const compiled = plane.router.findHost('b.example');
    plane.setTable(b);
    assert.equal(plane.table?.hash, b.hash);
    // A rebuild would compile every host again; the delta keeps the compiled ones.
    assert.equal(plane.router.findHost('b.example'), compiled, 'applied as a delta, not rebuilt');
    assert.equal(await body('a.example'), 'two');
    assert.equal(await body('b.example'), 'two');
  } finally {
    plane.close();
    for (const s of backends) s.close();
  }
});
