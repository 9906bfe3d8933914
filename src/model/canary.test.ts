// Canary Ingresses (issue 6 item 4, ingress-nginx semantics): the annotations, and how build() attaches
// a canary to the main route with the same host, path and pathType.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Diagnostic } from './diagnostics.ts';
import { ObjectStore, type JsonObject, type StoredObject } from './objects.ts';
import { normalizeIngress } from './ingress.ts';
import { build, type BuildOptions, type Model } from './build.ts';
import { compile } from '../snapshot/compile.ts';
import { parseHeaderPattern, parseHeaderValue, parseWeight, parseWeightTotal, readCanary } from './canary.ts';

const P = 'nginx.ingress.kubernetes.io/';
const OPTS: BuildOptions = { controllerName: 'archway.dev/ingress-controller', ingressClass: 'archway', watchWithoutClass: true };

test('canary-weight-total: a whole number from 1; canary-weight: 0..total', () => {
  assert.deepEqual(parseWeightTotal('100'), { value: 100 });
  assert.deepEqual(parseWeightTotal('1'), { value: 1 });
  assert.deepEqual(parseWeightTotal('10000'), { value: 10000 });
  for (const v of ['0', '', '-1', '1.5', 'all', '99999999999']) assert.ok('problem' in parseWeightTotal(v), v);
  assert.deepEqual(parseWeight('0', 100), { value: 0 });
  assert.deepEqual(parseWeight('100', 100), { value: 100 });
  assert.deepEqual(parseWeight('250', 1000), { value: 250 });
  for (const v of ['101', '', '-1', '10%', '2.5']) assert.ok('problem' in parseWeight(v, 100), v);
});

test('canary-by-header-value: visible ASCII, no surrounding spaces; pattern: RE2 within limits', () => {
  assert.deepEqual(parseHeaderValue('beta users'), { value: 'beta users' });
  assert.deepEqual(parseHeaderValue('v=2;x'), { value: 'v=2;x' });
  for (const v of ['', ' a', 'a ', 'a\r\nX: 1', 'é']) assert.ok('problem' in parseHeaderValue(v), JSON.stringify(v));
  assert.deepEqual(parseHeaderPattern('^(alpha|beta)$'), { value: '^(alpha|beta)$' });
  assert.match((parseHeaderPattern('(a)\\1') as { problem: string }).problem, /backreferences/);
  assert.match((parseHeaderPattern('(?=a)') as { problem: string }).problem, /RE2/);
  assert.match((parseHeaderPattern('a{1000}{1000}') as { problem: string }).problem, /too large|RE2/);
  assert.ok('problem' in parseHeaderPattern(''));
});

function stored(name: string, spec: JsonObject, annotations: Record<string, string> = {}, created?: string, ns = 'default'): StoredObject {
  const metadata: JsonObject = { name, namespace: ns, annotations };
  if (created) metadata.creationTimestamp = created;
  return { kind: 'Ingress', apiVersion: 'networking.k8s.io/v1', namespace: ns, name, origin: { file: `${name}.yaml`, line: 1 }, raw: { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata, spec } };
}

function canaryOf(annotations: Record<string, string>) {
  const d: Diagnostic[] = [];
  const ing = normalizeIngress(stored('c', { defaultBackend: { service: { name: 'x', port: { number: 80 } } } }, annotations), d)!;
  const c = readCanary(ing, d);
  return { c, d };
}

test('readCanary: not a canary unless canary is "true"; canary annotations alone are ignored silently', () => {
  assert.deepEqual(canaryOf({}), { c: undefined, d: [] });
  assert.deepEqual(canaryOf({ [P + 'canary']: 'false', [P + 'canary-weight']: '50', [P + 'canary-by-header']: 'bad header' }), { c: undefined, d: [] });
  const { c, d } = canaryOf({ [P + 'canary']: 'yes' });
  assert.equal(c, undefined);
  assert.deepEqual(d.map((x) => `${x.code} ${x.field}`), [`ANNOTATION_INVALID metadata.annotations["${P}canary"]`]);
});

test('readCanary: defaults, every field, and each invalid form warned and ignored', () => {
  assert.deepEqual(canaryOf({ [P + 'canary']: 'true' }), { c: { weight: 0, weightTotal: 100 }, d: [] });
  assert.deepEqual(canaryOf({
    [P + 'canary']: 'true', [P + 'canary-by-header']: 'X-Canary', [P + 'canary-by-header-value']: 'yes', [P + 'canary-by-cookie']: 'canary',
    [P + 'canary-weight']: '250', [P + 'canary-weight-total']: '1000',
  }), { c: { byHeader: 'X-Canary', byHeaderValue: 'yes', byCookie: 'canary', weight: 250, weightTotal: 1000 }, d: [] });
  assert.deepEqual(canaryOf({ [P + 'canary']: 'true', [P + 'canary-by-header']: 'X-Canary', [P + 'canary-by-header-pattern']: '^b' }).c,
    { byHeader: 'X-Canary', byHeaderPattern: '^b', weight: 0, weightTotal: 100 });

  const cases: Array<[Record<string, string>, string[], object]> = [
    [{ [P + 'canary-weight']: '101' }, ['canary-weight'], { weight: 0, weightTotal: 100 }],
    [{ [P + 'canary-weight']: '150', [P + 'canary-weight-total']: '0' }, ['canary-weight', 'canary-weight-total'], { weight: 0, weightTotal: 100 }],
    [{ [P + 'canary-by-header']: 'X Canary' }, ['canary-by-header'], { weight: 0, weightTotal: 100 }],
    [{ [P + 'canary-by-header']: 'X Canary', [P + 'canary-by-header-value']: 'v' }, ['canary-by-header', 'canary-by-header-value'], { weight: 0, weightTotal: 100 }],
    [{ [P + 'canary-by-header-value']: 'v' }, ['canary-by-header-value'], { weight: 0, weightTotal: 100 }],
    [{ [P + 'canary-by-header']: 'X', [P + 'canary-by-header-pattern']: '(a)\\1' }, ['canary-by-header-pattern'], { byHeader: 'X', weight: 0, weightTotal: 100 }],
    [{ [P + 'canary-by-header']: 'X', [P + 'canary-by-header-value']: 'a', [P + 'canary-by-header-pattern']: 'b' }, ['canary-by-header-pattern'],
      { byHeader: 'X', byHeaderValue: 'a', weight: 0, weightTotal: 100 }],
    [{ [P + 'canary-by-cookie']: 'a=b' }, ['canary-by-cookie'], { weight: 0, weightTotal: 100 }],
  ];
  for (const [annotations, bad, want] of cases) {
    const { c, d } = canaryOf({ [P + 'canary']: 'true', ...annotations });
    assert.deepEqual(c, want, JSON.stringify(annotations));
    assert.deepEqual(d.map((x) => `${x.severity} ${x.code} ${x.field}`).sort(), bad.map((n) => `warning ANNOTATION_INVALID metadata.annotations["${P}${n}"]`).sort(), JSON.stringify(annotations));
  }
});

// --- build(): attaching canaries ------------------------------------------------------------------

const be = (service: string): JsonObject => ({ service: { name: service, port: { number: 80 } } });
const path = (p: string, pathType: string, service: string): JsonObject => ({ path: p, pathType, backend: be(service) });
const rule = (host: string, ...paths: JsonObject[]): JsonObject => ({ host, http: { paths } });
const CANARY = { [P + 'canary']: 'true' };

function svc(name: string): StoredObject[] {
  const meta = { name, namespace: 'default' };
  return [
    { kind: 'Service', apiVersion: 'v1', namespace: 'default', name, raw: { apiVersion: 'v1', kind: 'Service', metadata: meta, spec: { clusterIP: '10.96.0.10', ports: [{ port: 80, targetPort: 8080 }] } } },
    { kind: 'Endpoints', apiVersion: 'v1', namespace: 'default', name, raw: { apiVersion: 'v1', kind: 'Endpoints', metadata: meta, subsets: [{ addresses: [{ ip: '10.0.0.1' }], ports: [{ port: 8080 }] }] } },
  ];
}

function model(...ings: StoredObject[]): Model {
  const s = new ObjectStore();
  for (const o of [...ings, ...['main', 'canary', 'canary2', 'other'].flatMap(svc)]) s.set(o);
  return build(s, OPTS);
}

const codes = (m: Model) => m.diagnostics.map((d) => `${d.severity} ${d.code} ${d.object} ${d.field ?? ''}`.trim());

test('a canary attaches to the main route of the same host, path and pathType; it adds no route and no conflict', () => {
  const m = model(
    stored('main', { rules: [rule('a.com', path('/', 'Prefix', 'main'), path('/api', 'Exact', 'main'))] }),
    stored('canary', { rules: [rule('a.com', path('/', 'Prefix', 'canary'))] }, { ...CANARY, [P + 'canary-weight']: '10' }, '2020-01-01T00:00:00Z'),
  );
  assert.deepEqual(codes(m), []);
  const routes = m.hosts[0].routes;
  assert.equal(routes.length, 2);
  const root = routes.find((r) => r.path === '/')!;
  assert.equal(root.target.backend, 'default/main:80');
  assert.equal(root.target.ingress, 'default/main');
  assert.deepEqual(root.target.canary, { backend: 'default/canary:80', ingress: 'default/canary', weight: 10, weightTotal: 100 });
  assert.equal(routes.find((r) => r.path === '/api')!.target.canary, undefined);
  assert.ok(m.backends.has('default/canary:80'));
  // The table carries it on the main route's action.
  const t = compile(m);
  assert.deepEqual(t.hosts['a.com'].ordered[0].action.canary, { backend: 'default/canary:80', ingress: 'default/canary', weight: 10, weightTotal: 100 });
});

test('a canary path without main route: CANARY_WITHOUT_MAIN, skipped (pathType and host must match too)', () => {
  const m = model(
    stored('main', { rules: [rule('a.com', path('/', 'Prefix', 'main'))] }),
    stored('canary', { rules: [rule('a.com', path('/', 'Exact', 'canary'), path('/x', 'Prefix', 'canary')), rule('b.com', path('/', 'Prefix', 'canary'))] }, CANARY),
  );
  assert.deepEqual(codes(m), [
    'warning CANARY_WITHOUT_MAIN Ingress default/canary spec.rules[0].http.paths[0].path',
    'warning CANARY_WITHOUT_MAIN Ingress default/canary spec.rules[0].http.paths[1].path',
    'warning CANARY_WITHOUT_MAIN Ingress default/canary spec.rules[1].http.paths[0].path',
  ]);
  assert.equal(m.hosts.length, 1, 'no host for b.com');
  assert.equal(m.hosts[0].routes[0].target.canary, undefined);
  assert.equal(m.backends.has('default/canary:80'), false, 'the backend of an unattached canary is not resolved');
});

test('two canaries for one route: the older wins, the other is warned', () => {
  for (const [older, newer] of [['canary', 'canary2'], ['canary2', 'canary']]) {
    const m = model(
      stored('main', { rules: [rule('a.com', path('/', 'Prefix', 'main'))] }),
      stored(older, { rules: [rule('a.com', path('/', 'Prefix', older))] }, CANARY, '2021-01-01T00:00:00Z'),
      stored(newer, { rules: [rule('a.com', path('/', 'Prefix', newer))] }, CANARY, '2022-01-01T00:00:00Z'),
    );
    assert.equal(m.hosts[0].routes[0].target.canary!.ingress, `default/${older}`);
    assert.deepEqual(codes(m), [`warning CANARY_CONFLICT Ingress default/${newer} spec.rules[0].http.paths[0].path`]);
    assert.match(m.diagnostics[0].message, new RegExp(`older Ingress default/${older}`));
  }
});

test('a canary older than its main Ingress still attaches; the same path twice in one canary is reported', () => {
  const m = model(
    stored('canary', { rules: [rule('a.com', path('/', 'Prefix', 'canary'), path('/', 'Prefix', 'canary2'))] }, CANARY, '2019-01-01T00:00:00Z'),
    stored('main', { rules: [rule('a.com', path('/', 'Prefix', 'main'))] }, {}, '2024-01-01T00:00:00Z'),
  );
  assert.equal(m.hosts[0].routes[0].target.canary!.backend, 'default/canary:80');
  assert.deepEqual(codes(m), ['warning CANARY_CONFLICT Ingress default/canary spec.rules[0].http.paths[1].path']);
  assert.match(m.diagnostics[0].message, /earlier in this Ingress/);
});

test('a canary\'s defaultBackend is ignored (reported); a rule-less canary does not become the catch-all', () => {
  const m = model(
    stored('main', { rules: [rule('a.com', path('/', 'Prefix', 'main'))] }),
    stored('canary', { defaultBackend: be('canary') }, CANARY),
    stored('canary2', { defaultBackend: be('canary2'), rules: [rule('a.com', path('/', 'Prefix', 'canary2'))] }, CANARY),
  );
  assert.equal(m.catchAll, undefined);
  assert.equal(m.hosts[0].fallback, undefined);
  assert.deepEqual(codes(m), ['warning DEFAULT_BACKEND_UNUSED Ingress default/canary spec.defaultBackend', 'warning DEFAULT_BACKEND_UNUSED Ingress default/canary2 spec.defaultBackend']);
});

test('an Ingress with canary "false" or canary annotations only is a normal Ingress (and conflicts as one)', () => {
  const m = model(
    stored('main', { rules: [rule('a.com', path('/', 'Prefix', 'main'))] }, {}, '2020-01-01T00:00:00Z'),
    stored('other', { rules: [rule('a.com', path('/', 'Prefix', 'other'))] }, { [P + 'canary-weight']: '50' }, '2021-01-01T00:00:00Z'),
  );
  assert.deepEqual(codes(m), ['warning PATH_CONFLICT Ingress default/other spec.rules[0].http.paths[0].path']);
  assert.equal(m.hosts[0].routes[0].target.canary, undefined);
});

test('the canary\'s policy: its own balancing and affinity, the main route\'s timeouts and limits', () => {
  const m = model(
    stored('main', { rules: [rule('a.com', path('/shop/', 'Prefix', 'main'))] }, { [P + 'proxy-read-timeout']: '7', [P + 'load-balance']: 'ewma' }),
    stored('canary', { rules: [rule('a.com', path('/shop/', 'Prefix', 'canary'))] }, {
      ...CANARY, [P + 'affinity']: 'cookie', [P + 'proxy-read-timeout']: '99', [P + 'canary-by-header']: 'X-Canary',
    }),
  );
  assert.deepEqual(codes(m), [`info CANARY_ANNOTATION_INHERITED Ingress default/canary metadata.annotations["${P}proxy-read-timeout"]`]);
  const t = m.hosts[0].routes[0].target;
  assert.deepEqual(t.policy, { loadBalance: 'ewma', readTimeoutMs: 7000 });
  assert.deepEqual(t.canary!.policy, { affinity: { name: 'INGRESSCOOKIE', path: '/shop', secure: false, mode: 'balanced' }, readTimeoutMs: 7000 });
  assert.equal(t.canary!.byHeader, 'X-Canary');
});

test('a canary with service-upstream gets the cluster-IP backend', () => {
  const m = model(
    stored('main', { rules: [rule('a.com', path('/', 'Prefix', 'main'))] }),
    stored('canary', { rules: [rule('a.com', path('/', 'Prefix', 'canary'))] }, { ...CANARY, [P + 'service-upstream']: 'true' }),
  );
  assert.deepEqual(codes(m), []);
  assert.equal(m.hosts[0].routes[0].target.canary!.backend, 'default/canary:80#cluster-ip');
  assert.equal(m.hosts[0].routes[0].target.backend, 'default/main:80');
});
