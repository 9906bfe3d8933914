// BuildMemo: a build that reuses the hosts of the previous one must give exactly what a build from
// scratch gives (issue 4 item 10: only the hosts of a changed Ingress are rebuilt).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ObjectStore, type JsonObject, type StoredObject } from './objects.ts';
import { build, BuildMemo, type BuildOptions, type Model } from './build.ts';
import { compile } from '../snapshot/compile.ts';
import { generateCertificate } from '../tls/certificates.ts';
import { mulberry32 } from '../util/prng.ts';

/** A seeded integer source: int(n) in [0, n). */
class Prng {
  #next: () => number;
  constructor(seed: number) {
    this.#next = mulberry32(seed);
  }
  int(n: number): number {
    return Math.floor(this.#next() * n);
  }
}

const OPTS: BuildOptions = { controllerName: 'archway.dev/ingress-controller', ingressClass: 'archway', watchWithoutClass: true };
const P = 'nginx.ingress.kubernetes.io/';
const HOSTS = ['a.example.com', 'b.example.com', 'c.example.com', '*.example.com', 'x.example.com'];
const SERVICES = ['s1', 's2', 's3', 'missing'];
const PATHS = ['/', '/api', '/api/', '/v1', '/img(/|$)(.*)', ''];
const TYPES = ['Prefix', 'Exact', 'ImplementationSpecific'];
const cert = generateCertificate({ commonName: 'a.example.com', dnsNames: ['*.example.com', 'a.example.com'] });

function stored(kind: StoredObject['kind'], apiVersion: string, name: string, raw: JsonObject): StoredObject {
  return { kind, apiVersion, namespace: 'default', name, origin: { file: `${kind}-${name}.yaml`, line: 1 }, raw: { apiVersion, kind, metadata: { name, namespace: 'default' }, ...raw } };
}

function service(name: string, ready: boolean): StoredObject[] {
  return [
    stored('Service', 'v1', name, { spec: { ports: [{ name: 'http', port: 80, targetPort: 8080 }] } }),
    stored('Endpoints', 'v1', name, { subsets: [{ [ready ? 'addresses' : 'notReadyAddresses']: [{ ip: '10.0.0.1' }], ports: [{ name: 'http', port: 8080 }] }] }),
  ];
}

/** An IngressClass named `other` owned by this controller: Ingresses of class `other` are served while it exists. */
const otherClass = (): StoredObject => ({ ...stored('IngressClass', 'networking.k8s.io/v1', 'other', { spec: { controller: OPTS.controllerName } }), namespace: '' });

const secret = (): StoredObject => stored('Secret', 'v1', 'tls', { type: 'kubernetes.io/tls', stringData: { 'tls.crt': cert.cert, 'tls.key': cert.key } });

/** A random Ingress: 0-2 rules over a few hosts and paths (conflicts likely), random annotations, TLS, canary. */
function randomIngress(rng: Prng, name: string): StoredObject {
  const pick = <T>(a: readonly T[]): T => a[rng.int(a.length)];
  const backend = () => ({ service: { name: pick(SERVICES), port: { number: 80 } } });
  const rules: JsonObject[] = [];
  for (let i = rng.int(3); i > 0; i--) {
    const paths: JsonObject[] = [];
    for (let j = 1 + rng.int(3); j > 0; j--) paths.push({ path: pick(PATHS), pathType: pick(TYPES), backend: backend() });
    rules.push(rng.int(6) === 0 ? { http: { paths } } : { host: pick(HOSTS), http: { paths } });
  }
  const spec: JsonObject = { rules };
  if (rng.int(4) === 0) spec.ingressClassName = pick(['archway', 'other']);
  if (rng.int(4) === 0) spec.defaultBackend = backend();
  if (rng.int(4) === 0) spec.tls = [{ hosts: [pick(HOSTS)], secretName: rng.int(3) === 0 ? 'absent' : 'tls' }];
  const annotations: Record<string, string> = {};
  if (rng.int(3) === 0) annotations[`${P}ssl-redirect`] = rng.int(2) === 0 ? 'true' : 'false';
  if (rng.int(4) === 0) annotations[`${P}use-regex`] = 'true';
  if (rng.int(5) === 0) annotations[`${P}rewrite-target`] = '/$2';
  if (rng.int(5) === 0) annotations[`${P}app-root`] = '/home';
  if (rng.int(5) === 0) annotations[`${P}load-balance`] = pick(['ewma', 'round_robin', 'nonsense']);
  if (rng.int(6) === 0) Object.assign(annotations, { [`${P}canary`]: 'true', [`${P}canary-weight`]: '20' });
  if (rng.int(8) === 0) Object.assign(annotations, { [`${P}backend-protocol`]: 'HTTPS', [`${P}proxy-ssl-secret`]: 'default/tls' });
  const metadata: JsonObject = { name, namespace: 'default', annotations };
  if (rng.int(2) === 0) metadata.creationTimestamp = `2026-01-0${1 + rng.int(9)}T00:00:00Z`;
  return { kind: 'Ingress', apiVersion: 'networking.k8s.io/v1', namespace: 'default', name, origin: { file: `${name}.yaml`, line: 1 }, raw: { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata, spec } };
}

/** Everything a build decides, as plain data: the compiled table and the diagnostics. */
function outcome(m: Model): unknown {
  return JSON.parse(JSON.stringify({ table: compile(m), diagnostics: m.diagnostics, served: m.served.map((s) => `${s.ingress.namespace}/${s.ingress.name}`), backends: [...m.backends.keys()].sort() }));
}

test('builds that reuse hosts equal builds from scratch over 400 random edits (Ingresses, Services and Endpoints changed, removed, added back, Secrets, IngressClasses)', () => {
  const rng = new Prng(20261129);
  const objects = new Map<string, StoredObject[]>();
  for (const s of SERVICES.slice(0, 3)) objects.set(`svc/${s}`, service(s, true));
  objects.set('secret', [secret()]);
  for (let i = 0; i < 10; i++) objects.set(`ing/${i}`, [randomIngress(rng, `ing${i}`)]);
  const memo = new BuildMemo();
  // A second memo over one store kept for the whole run and changed in place, as a source keeps it:
  // that memo reads the store's change log instead of comparing every object.
  const live = new ObjectStore();
  const liveMemo = new BuildMemo();
  let reused = 0;
  let reusedLive = 0;
  for (let step = 0; step < 400; step++) {
    const r = rng.int(21);
    if (r < 14) objects.set(`ing/${rng.int(12)}`, [randomIngress(rng, `ing${rng.int(12)}`)]);
    else if (r < 16) objects.delete(`ing/${rng.int(12)}`);
    else if (r < 17) { const s = SERVICES[rng.int(3)]; objects.set(`svc/${s}`, service(s, rng.int(2) === 0)); }
    else if (r < 18) { const s = SERVICES[rng.int(3)]; if (objects.has(`svc/${s}`)) objects.delete(`svc/${s}`); else objects.set(`svc/${s}`, service(s, true)); }
    else if (r < 19) objects.set('secret', objects.has('secret') && objects.get('secret')!.length > 0 ? [] : [secret()]);
    else if (r === 20) objects.set('class', objects.has('class') && objects.get('class')!.length > 0 ? [] : [otherClass()]);
    // r === 19: nothing changed (a poll that found nothing)
    const store = new ObjectStore();
    for (const l of objects.values()) for (const o of l) store.set(o);
    const incremental = build(store, OPTS, memo);
    reused += memo.last.reused;
    const scratch = outcome(build(store, OPTS));
    assert.deepEqual(outcome(incremental), scratch, `step ${step}`);
    const current = new Set<StoredObject>();
    for (const l of objects.values()) for (const o of l) current.add(o), live.set(o);
    for (const kind of ['Ingress', 'Service', 'Endpoints', 'Secret', 'IngressClass'] as const) {
      for (const o of live.list(kind)) if (!current.has(o)) live.delete(o.kind, o.namespace, o.name);
    }
    assert.deepEqual(outcome(build(live, OPTS, liveMemo)), scratch, `step ${step}, store changed in place`);
    reusedLive += liveMemo.last.reused;
    assert.equal(liveMemo.last.changeLog, step > 0, 'the store changed in place is read through its change log');
  }
  assert.ok(reused > 200, `hosts were reused (${reused} times)`);
  assert.equal(reusedLive, reused, 'the change log finds what comparing every object finds');
});

test('a change to one Ingress rebuilds only its hosts; a Service change rebuilds every host', () => {
  const ingress = (name: string, host: string, service: string): StoredObject =>
    stored('Ingress', 'networking.k8s.io/v1', name, { spec: { rules: [{ host, http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: service, port: { number: 80 } } } }] } }] } });
  const base = [...service('s1', true), ...service('s2', true)];
  const ingresses = Array.from({ length: 50 }, (_, i) => ingress(`i${i}`, `h${i}.example.com`, 's1'));
  const storeWith = (objs: StoredObject[]) => {
    const s = new ObjectStore();
    for (const o of objs) s.set(o);
    return s;
  };
  const memo = new BuildMemo();
  build(storeWith([...base, ...ingresses]), OPTS, memo);
  assert.deepEqual(memo.last, { reused: 0, built: 50, changeLog: false });
  const changed = [...ingresses];
  changed[7] = ingress('i7', 'h7.example.com', 's2');
  const m = build(storeWith([...base, ...changed]), OPTS, memo);
  assert.deepEqual(memo.last, { reused: 49, built: 1, changeLog: false });
  assert.equal(m.hosts.find((h) => h.host === 'h7.example.com')!.routes[0].target.backend, 'default/s2:80');
  // The Endpoints of s2 change: only the host whose routes use s2 is rebuilt.
  const s2Down = service('s2', false);
  build(storeWith([...base.slice(0, 2), ...s2Down, ...changed]), OPTS, memo);
  assert.deepEqual(memo.last, { reused: 49, built: 1, changeLog: false });
  // Those of s1: every other host.
  const s1Down = service('s1', false);
  const m2 = build(storeWith([...s1Down, ...s2Down, ...changed]), OPTS, memo);
  assert.deepEqual(memo.last, { reused: 1, built: 49, changeLog: false });
  assert.equal(m2.diagnostics.filter((d) => d.code === 'NO_READY_ENDPOINTS').length, 50);
  // A Secret appears: everything is built again.
  build(storeWith([...s1Down, ...s2Down, ...changed, secret()]), OPTS, memo);
  assert.deepEqual(memo.last, { reused: 0, built: 50, changeLog: false });
});
