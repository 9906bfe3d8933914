// build(store, opts): age order, merging, conflicts, default backends, regex mode, rewrite
// (INGRESS-SEMANTICS.md "Host matching", "Path matching", "Default backend", "rewrite-target").

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ObjectStore, type JsonObject, type StoredObject } from './objects.ts';
import { build, compareAge, comparePrecedence, type BuildOptions, type Model, type PathRoute } from './build.ts';
import type { Ingress } from './ingress.ts';
import { compile } from '../snapshot/compile.ts';

const OPTS: BuildOptions = { controllerName: 'archway.dev/ingress-controller', ingressClass: 'archway', watchWithoutClass: true };
const P = 'nginx.ingress.kubernetes.io/';

interface IngOpts { ns?: string; created?: string; annotations?: Record<string, string>; file?: string }

function ing(name: string, spec: JsonObject, o: IngOpts = {}): StoredObject {
  const namespace = o.ns ?? 'default';
  const metadata: JsonObject = { name, namespace };
  if (o.created) metadata.creationTimestamp = o.created;
  if (o.annotations) metadata.annotations = o.annotations;
  return {
    kind: 'Ingress', apiVersion: 'networking.k8s.io/v1', namespace, name, origin: { file: o.file ?? `${name}.yaml`, line: 1 },
    raw: { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata, spec },
  };
}

const be = (service: string, port = 80): JsonObject => ({ service: { name: service, port: { number: port } } });
const p = (path: string, pathType: string, service = 'web'): JsonObject => ({ path, pathType, backend: be(service) });
const r = (host: string | undefined, ...paths: JsonObject[]): JsonObject => (host === undefined ? { http: { paths } } : { host, http: { paths } });

/** A Service with one ready endpoint, so backends resolve without problems. */
function svc(name: string, ns = 'default'): StoredObject[] {
  const meta = { name, namespace: ns };
  return [
    { kind: 'Service', apiVersion: 'v1', namespace: ns, name, raw: { apiVersion: 'v1', kind: 'Service', metadata: meta, spec: { ports: [{ name: 'http', port: 80, targetPort: 8080 }] } } },
    { kind: 'Endpoints', apiVersion: 'v1', namespace: ns, name, raw: { apiVersion: 'v1', kind: 'Endpoints', metadata: meta, subsets: [{ addresses: [{ ip: '10.0.0.1' }], ports: [{ name: 'http', port: 8080 }] }] } },
  ];
}

function storeOf(...objs: Array<StoredObject | StoredObject[]>): ObjectStore {
  const s = new ObjectStore();
  for (const o of objs.flat()) s.set(o);
  for (const name of ['web', 'a', 'b', 'c', 'd', 'fallback', 'catch1', 'catch2', 'dflt']) if (!s.get('Service', 'default', name)) for (const o of svc(name)) s.set(o);
  return s;
}

const host = (m: Model, h: string) => m.hosts.find((x) => x.host === h);
const routes = (m: Model, h: string) => host(m, h)!.routes.map((x) => `${x.match} ${x.path} -> ${x.target.backend} (${x.target.ingress})`);
const codes = (m: Model) => m.diagnostics.map((d) => `${d.severity} ${d.code} ${d.object ?? ''} ${d.field ?? ''}`.trim());

test('rules for the same host from several Ingresses are merged into one host', () => {
  const m = build(storeOf(
    ing('one', { rules: [r('foo.com', p('/a', 'Prefix', 'a'))] }),
    ing('two', { rules: [r('foo.com', p('/b', 'Exact', 'b')), r('bar.com', p('/', 'Prefix', 'c'))] }),
  ), OPTS);
  assert.deepEqual(codes(m), []);
  assert.deepEqual(m.hosts.map((h) => h.host), ['bar.com', 'foo.com']);
  // Equal length: Exact before Prefix.
  assert.deepEqual(routes(m, 'foo.com'), ['exact /b -> default/b:80 (default/two)', 'prefix /a -> default/a:80 (default/one)']);
  assert.deepEqual(m.served.map((s) => s.ingress.name), ['one', 'two']);
});

test('routes are ordered longest path first; at equal length Exact, Prefix, regex', () => {
  const m = build(storeOf(
    ing('plain', { rules: [r('foo.com', p('/abc', 'Prefix'), p('/', 'Prefix'), p('/abcd', 'ImplementationSpecific'), p('/ab', 'Exact'))] }),
    ing('re', { rules: [r('foo.com', p('/ab.', 'ImplementationSpecific'), p('/abcde', 'ImplementationSpecific'))] }, { annotations: { [P + 'use-regex']: 'true' } }),
    ing('exact', { rules: [r('foo.com', p('/abc', 'Exact'))] }),
  ), OPTS);
  assert.deepEqual(host(m, 'foo.com')!.routes.map((x) => `${x.match} ${x.path}`), [
    'regex /abcde', 'prefix /abcd', 'exact /abc', 'prefix /abc', 'regex /ab.', 'exact /ab', 'prefix /',
  ]);
});

test('comparePrecedence: length, then exact < prefix < regex, then path, then age', () => {
  const route = (path: string, match: PathRoute['match'], age: number): PathRoute =>
    ({ path, pathType: 'Prefix', match, age, target: { backend: 'x', ingress: 'x' } });
  const sorted = [route('/a', 'prefix', 1), route('/b', 'prefix', 0), route('/a', 'prefix', 0), route('/a', 'regex', 0), route('/a', 'exact', 2), route('/aa', 'regex', 3)]
    .sort(comparePrecedence).map((x) => `${x.match} ${x.path} ${x.age}`);
  assert.deepEqual(sorted, ['regex /aa 3', 'exact /a 2', 'prefix /a 0', 'prefix /a 1', 'prefix /b 0', 'regex /a 0']);
});

test('conflict: same host, path and type: the older Ingress by creationTimestamp wins, the loser is warned', () => {
  const m = build(storeOf(
    ing('aaa-new', { rules: [r('foo.com', p('/x', 'Prefix', 'a'))] }, { created: '2024-06-01T00:00:00Z' }),
    ing('zzz-old', { rules: [r('foo.com', p('/x', 'Prefix', 'b'))] }, { created: '2024-01-01T00:00:00Z' }),
  ), OPTS);
  assert.deepEqual(routes(m, 'foo.com'), ['prefix /x -> default/b:80 (default/zzz-old)']);
  assert.deepEqual(codes(m), ['warning PATH_CONFLICT Ingress default/aaa-new spec.rules[0].http.paths[0].path']);
  assert.match(m.diagnostics[0].message, /default\/zzz-old/, 'the loser diagnostic names the winner');
  assert.equal(m.diagnostics[0].file, 'aaa-new.yaml');
});

test('conflict: equal or missing timestamps fall back to namespace/name; no timestamp counts as newest', () => {
  const same = '2024-01-01T00:00:00Z';
  const m = build(storeOf(
    ing('b', { rules: [r('foo.com', p('/x', 'Prefix', 'b'))] }, { ns: 'aaa', created: same }),
    ing('a', { rules: [r('foo.com', p('/x', 'Prefix', 'a'))] }, { ns: 'bbb', created: same }),
    ing('a', { rules: [r('foo.com', p('/x', 'Prefix', 'a'))] }, { ns: 'aaa' }),
  ), OPTS);
  assert.deepEqual(routes(m, 'foo.com'), ['prefix /x -> aaa/b:80 (aaa/b)']);
  assert.deepEqual(codes(m).filter((c) => c.includes('PATH_CONFLICT')), [
    'warning PATH_CONFLICT Ingress aaa/a spec.rules[0].http.paths[0].path',
    'warning PATH_CONFLICT Ingress bbb/a spec.rules[0].http.paths[0].path',
  ]);
  for (const d of m.diagnostics.filter((x) => x.code === 'PATH_CONFLICT')) assert.match(d.message, /aaa\/b/);

  const m2 = build(storeOf(
    ing('b', { rules: [r('foo.com', p('/x', 'Prefix', 'b'))] }),
    ing('a', { rules: [r('foo.com', p('/x', 'Prefix', 'a'))] }),
  ), OPTS);
  assert.deepEqual(routes(m2, 'foo.com'), ['prefix /x -> default/a:80 (default/a)']);
});

test('compareAge compares creationTimestamps as instants, not strings', () => {
  const i = (name: string, created: string) => ({ namespace: 'default', name, created }) as Ingress;
  // 01:00+02:00 is 23:00Z the day before: older than midnight Z, though it sorts later as a string.
  assert.ok(compareAge(i('a', '2024-01-01T01:00:00+02:00'), i('b', '2024-01-01T00:00:00Z')) < 0);
  assert.ok(compareAge(i('b', '2024-01-01T00:00:00Z'), i('a', '2024-01-01T01:00:00+02:00')) > 0);
  // The same instant written two ways is a tie, broken by namespace/name.
  assert.ok(compareAge(i('b', '2024-01-01T00:00:00Z'), i('a', '2024-01-01T02:00:00+02:00')) > 0);
  assert.ok(compareAge(i('a', '2024-01-01T00:00:00Z'), i('b', '')) < 0);
  assert.ok(compareAge(i('b', ''), i('a', '')) > 0);
  // Unparsable or zone-less timestamps (local time: machine dependent) count as absent.
  assert.ok(compareAge(i('b', '2024-01-01T00:00:00Z'), i('a', 'yesterday')) < 0);
  assert.ok(compareAge(i('b', '2024-01-01T00:00:00Z'), i('a', '2023-01-01T00:00:00')) < 0);
  assert.ok(compareAge(i('b', 'yesterday'), i('a', '')) > 0);
  assert.ok(compareAge(i('a', '2024-01-01T00:00:00.5Z'), i('b', '2024-01-01T00:00:00.25Z')) > 0);
});

test('the same host, path and type twice in one Ingress: the first wins, the message does not invent an older Ingress', () => {
  const m = build(storeOf(ing('dup', { rules: [r('foo.com', p('/x', 'Prefix', 'a')), r('foo.com', p('/x', 'Prefix', 'b'))] })), OPTS);
  assert.deepEqual(routes(m, 'foo.com'), ['prefix /x -> default/a:80 (default/dup)']);
  assert.deepEqual(codes(m), ['warning PATH_CONFLICT Ingress default/dup spec.rules[1].http.paths[0].path']);
  assert.match(m.diagnostics[0].message, /earlier in this Ingress/);
  assert.doesNotMatch(m.diagnostics[0].message, /older Ingress/);
});

test('same host and path with a different pathType is not a conflict', () => {
  const m = build(storeOf(
    ing('a', { rules: [r('foo.com', p('/x', 'Prefix', 'a'))] }),
    ing('b', { rules: [r('foo.com', p('/x', 'Exact', 'b'))] }),
  ), OPTS);
  assert.deepEqual(codes(m), []);
  assert.deepEqual(routes(m, 'foo.com'), ['exact /x -> default/b:80 (default/b)', 'prefix /x -> default/a:80 (default/a)']);
});

test('the same path on different hosts is not a conflict; host-less and wildcard hosts are hosts of their own', () => {
  const m = build(storeOf(
    ing('a', { rules: [r('foo.com', p('/x', 'Prefix', 'a')), r(undefined, p('/x', 'Prefix', 'a'))] }),
    ing('b', { rules: [r('bar.com', p('/x', 'Prefix', 'b')), r('*.foo.com', p('/x', 'Prefix', 'b'))] }),
  ), OPTS);
  assert.deepEqual(codes(m), []);
  assert.deepEqual(m.hosts.map((h) => h.host), ['', '*.foo.com', 'bar.com', 'foo.com']);
});

test('defaultBackend of an Ingress with rules serves only its own hosts; the oldest contributor wins', () => {
  const m = build(storeOf(
    ing('old', { rules: [r('foo.com', p('/a', 'Prefix', 'a'))] }, { created: '2024-01-01T00:00:00Z' }),
    ing('mid', { defaultBackend: be('b'), rules: [r('foo.com', p('/b', 'Prefix', 'b')), r('bar.com', p('/b', 'Prefix', 'b'))] }, { created: '2024-02-01T00:00:00Z' }),
    ing('new', { defaultBackend: be('c'), rules: [r('foo.com', p('/c', 'Prefix', 'c')), r('baz.com', p('/c', 'Prefix', 'c'))] }, { created: '2024-03-01T00:00:00Z' }),
  ), OPTS);
  assert.deepEqual(codes(m), []);
  // `old` has no defaultBackend: the oldest contributor that has one is `mid`.
  assert.deepEqual(host(m, 'foo.com')!.fallback, { backend: 'default/b:80', ingress: 'default/mid' });
  assert.deepEqual(host(m, 'bar.com')!.fallback, { backend: 'default/b:80', ingress: 'default/mid' });
  assert.deepEqual(host(m, 'baz.com')!.fallback, { backend: 'default/c:80', ingress: 'default/new' });
  assert.equal(m.catchAll, undefined, 'an Ingress with rules never sets the catch-all');
});

test('defaultBackend of an Ingress with host-less rules is not a fallback for the host-less rules', () => {
  const m = build(storeOf(
    ing('mixed', { defaultBackend: be('b'), rules: [r('foo.com', p('/a', 'Prefix', 'a')), r(undefined, p('/h', 'Prefix', 'a'))] }),
    ing('hostless-only', { defaultBackend: be('c'), rules: [r(undefined, p('/x', 'Prefix', 'a'))] }),
  ), OPTS);
  assert.deepEqual(host(m, 'foo.com')!.fallback, { backend: 'default/b:80', ingress: 'default/mixed' });
  assert.equal(host(m, '')!.fallback, undefined, 'unmatched requests of host-less rules go to the catch-all');
  assert.equal(m.catchAll, undefined);
  assert.deepEqual(codes(m), ['warning DEFAULT_BACKEND_UNUSED Ingress default/hostless-only spec.defaultBackend']);
  assert.ok(!m.backends.has('default/c:80'), 'an unused default backend is not resolved');
});

test('defaultBackend of a rule-less Ingress is the catch-all; the oldest wins, the others are warned', () => {
  const m = build(storeOf(
    ing('first', { defaultBackend: be('catch2') }, { created: '2024-05-01T00:00:00Z' }),
    ing('second', { defaultBackend: be('catch1') }, { created: '2024-01-01T00:00:00Z' }),
    ing('third', { defaultBackend: be('a') }),
    ing('rules', { rules: [r('foo.com', p('/', 'Prefix'))] }),
  ), OPTS);
  assert.deepEqual(m.catchAll, { backend: 'default/catch1:80', ingress: 'default/second' });
  assert.deepEqual(codes(m), [
    'warning DEFAULT_BACKEND_CONFLICT Ingress default/first spec.defaultBackend',
    'warning DEFAULT_BACKEND_CONFLICT Ingress default/third spec.defaultBackend',
  ]);
  for (const d of m.diagnostics) assert.match(d.message, /default\/second/);
  assert.equal(host(m, 'foo.com')!.fallback, undefined, 'the catch-all is not a host fallback in the model');
});

test('controller default backend (--default-backend-service): by port, by name, first port, problems', () => {
  const base = [ing('rules', { rules: [r('foo.com', p('/', 'Prefix'))] })];
  const m = build(storeOf(...base), { ...OPTS, defaultBackendService: { namespace: 'default', name: 'dflt' } });
  assert.deepEqual(m.controllerDefault, { backend: 'default/dflt:80', ingress: '' });
  assert.deepEqual(m.backends.get('default/dflt:80')?.endpoints, [{ address: '10.0.0.1', port: 8080 }]);
  assert.deepEqual(codes(m), []);

  const named = build(storeOf(...base), { ...OPTS, defaultBackendService: { namespace: 'default', name: 'dflt', port: 'http' } });
  assert.equal(named.controllerDefault?.backend, 'default/dflt:http');
  assert.equal(named.backends.get('default/dflt:http')?.problem, undefined);

  const missing = build(storeOf(...base), { ...OPTS, defaultBackendService: { namespace: 'sys', name: 'nope' } });
  assert.equal(missing.controllerDefault?.backend, 'sys/nope:80');
  assert.deepEqual(missing.diagnostics.map((d) => [d.severity, d.code]), [['warning', 'SERVICE_NOT_FOUND']]);
  assert.match(missing.diagnostics[0].message, /--default-backend-service/);

  assert.equal(build(storeOf(...base), OPTS).controllerDefault, undefined);
});

test('regex mode only for ImplementationSpecific paths of an Ingress with use-regex or rewrite-target', () => {
  const paths = [p('/e', 'Exact'), p('/p', 'Prefix'), p('/i', 'ImplementationSpecific')];
  const m = build(storeOf(
    ing('plain', { rules: [r('plain.com', ...paths)] }),
    ing('regex', { rules: [r('regex.com', ...paths)] }, { annotations: { [P + 'use-regex']: 'true' } }),
    ing('noregex', { rules: [r('noregex.com', ...paths)] }, { annotations: { [P + 'use-regex']: 'false' } }),
    ing('rewrite', { rules: [r('rewrite.com', ...paths)] }, { annotations: { [P + 'rewrite-target']: '/' } }),
  ), OPTS);
  const kinds = (h: string) => host(m, h)!.routes.map((x) => `${x.pathType}:${x.match}`).sort();
  assert.deepEqual(kinds('plain.com'), ['Exact:exact', 'ImplementationSpecific:prefix', 'Prefix:prefix']);
  assert.deepEqual(kinds('noregex.com'), ['Exact:exact', 'ImplementationSpecific:prefix', 'Prefix:prefix']);
  assert.deepEqual(kinds('regex.com'), ['Exact:exact', 'ImplementationSpecific:regex', 'Prefix:prefix']);
  assert.deepEqual(kinds('rewrite.com'), ['Exact:exact', 'ImplementationSpecific:regex', 'Prefix:prefix']);
});

test('rewrite-target applies to every path of the Ingress whose path differs from the target', () => {
  const m = build(storeOf(
    ing('rw', { rules: [r('foo.com', p('/testpath', 'Prefix'), p('/', 'Prefix'), p('/something(/|$)(.*)', 'ImplementationSpecific'))] }, { annotations: { [P + 'rewrite-target']: '/' } }),
    ing('other', { rules: [r('foo.com', p('/other', 'Prefix'))] }),
  ), OPTS);
  const byPath = new Map(host(m, 'foo.com')!.routes.map((x) => [x.path, x.target]));
  assert.deepEqual(byPath.get('/testpath')!.rewrite, { pattern: '^(?:/testpath)', target: '/' });
  assert.deepEqual(byPath.get('/something(/|$)(.*)')!.rewrite, { pattern: '^(?:/something(/|$)(.*))', target: '/' });
  assert.equal(byPath.get('/')!.rewrite, undefined, 'the target equals the path: nothing to rewrite');
  assert.equal(byPath.get('/other')!.rewrite, undefined, 'annotations apply to their own Ingress only');
});

test('a rewrite on a Prefix path that is not a usable regex is dropped with a warning; the path is still served', () => {
  const m = build(storeOf(
    ing('rw', { rules: [r('foo.com', p('/a(b', 'Prefix'), p('/ok', 'Prefix'))] }, { annotations: { [P + 'rewrite-target']: '/x' } }),
  ), OPTS);
  assert.deepEqual(codes(m), ['warning REWRITE_REGEX_INVALID Ingress default/rw spec.rules[0].http.paths[0].path']);
  const byPath = new Map(host(m, 'foo.com')!.routes.map((x) => [x.path, x]));
  assert.equal(byPath.get('/a(b')!.match, 'prefix');
  assert.equal(byPath.get('/a(b')!.target.rewrite, undefined);
  assert.ok(byPath.get('/ok')!.target.rewrite);
});

test('unsupported or unsafe regex paths are rejected with a diagnostic; the rest of the Ingress is served', () => {
  const bad = ['/(a)\\1', '/(?=x)', '/(?<!x)y', '/a(b', '/[z-a]', '/a{1001}', '/' + 'a{1000}'.repeat(20), '/' + 'x'.repeat(1100)];
  const m = build(storeOf(
    ing('re', { rules: [r('foo.com', p('/fine(/|$)(.*)', 'ImplementationSpecific'), ...bad.map((b) => p(b, 'ImplementationSpecific')))] }, { annotations: { [P + 'use-regex']: 'true' } }),
  ), OPTS);
  assert.deepEqual(m.diagnostics.map((d) => [d.severity, d.code, d.field]), bad.map((_b, i) => ['warning', 'PATH_REGEX_INVALID', `spec.rules[0].http.paths[${i + 1}].path`]));
  assert.deepEqual(host(m, 'foo.com')!.routes.map((x) => x.path), ['/fine(/|$)(.*)']);
  assert.equal(m.served.length, 1);
  // A rejected path does not claim its slot: a younger Ingress with the same path is not a loser.
  const m2 = build(storeOf(
    ing('a-re', { rules: [r('foo.com', p('/(a)\\1', 'ImplementationSpecific'))] }, { annotations: { [P + 'use-regex']: 'true' } }),
    ing('b-plain', { rules: [r('foo.com', p('/(a)\\1', 'ImplementationSpecific'))] }),
  ), OPTS);
  assert.deepEqual(codes(m2), ['warning PATH_REGEX_INVALID Ingress default/a-re spec.rules[0].http.paths[0].path']);
  assert.deepEqual(routes(m2, 'foo.com'), ['prefix /(a)\\1 -> default/web:80 (default/b-plain)']);
});

test('app-root and x-forwarded-prefix are carried to hosts and route targets', () => {
  const m = build(storeOf(
    ing('a', { rules: [r('foo.com', p('/a', 'Prefix'))] }, { annotations: { [P + 'app-root']: '/app', [P + 'x-forwarded-prefix']: '/pre' } }),
    ing('b', { rules: [r('foo.com', p('/b', 'Prefix'))] }, { annotations: { [P + 'app-root']: '/other' } }),
  ), OPTS);
  assert.equal(host(m, 'foo.com')!.appRoot, '/app', 'the oldest Ingress sets app-root');
  const byPath = new Map(host(m, 'foo.com')!.routes.map((x) => [x.path, x.target]));
  assert.equal(byPath.get('/a')!.forwardedPrefix, '/pre');
  assert.equal(byPath.get('/b')!.forwardedPrefix, undefined);
});

test('invalid and foreign Ingresses are left out with diagnostics; everything else is served', () => {
  const classes: StoredObject = {
    kind: 'IngressClass', apiVersion: 'networking.k8s.io/v1', namespace: '', name: 'nginx',
    raw: { apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', metadata: { name: 'nginx' }, spec: { controller: 'k8s.io/ingress-nginx' } },
  };
  const m = build(storeOf(
    classes,
    ing('bad', { rules: [r('Foo.com', p('/', 'Prefix'))] }),
    ing('foreign', { ingressClassName: 'nginx', rules: [r('foo.com', p('/f', 'Prefix'))] }),
    ing('good', { rules: [r('foo.com', p('/', 'Prefix'))] }),
  ), OPTS);
  assert.deepEqual(codes(m), ['error INGRESS_INVALID_HOST Ingress default/bad spec.rules[0].host', 'info INGRESS_NOT_SERVED Ingress default/foreign']);
  assert.deepEqual(m.served.map((s) => s.ingress.name), ['good']);
  assert.deepEqual(routes(m, 'foo.com'), ['prefix / -> default/web:80 (default/good)']);

  const off = build(storeOf(ing('good', { rules: [r('foo.com', p('/', 'Prefix'))] })), { ...OPTS, watchWithoutClass: false });
  assert.deepEqual(off.served, []);
  assert.deepEqual(off.hosts, []);
  assert.deepEqual(codes(off), ['info INGRESS_NOT_SERVED Ingress default/good']);
});

test('backend problems are warnings at the referring field; the route stays (answered 503)', () => {
  const m = build(storeOf(
    ing('x', {
      defaultBackend: { resource: { apiGroup: 'k8s.example.com', kind: 'StorageBucket', name: 'static' } },
      rules: [r('foo.com', p('/missing', 'Prefix', 'missing'), { path: '/port', pathType: 'Prefix', backend: be('web', 81) }, p('/ok', 'Prefix'))],
    }),
  ), OPTS);
  assert.deepEqual(m.diagnostics.map((d) => [d.severity, d.code, d.field]), [
    ['warning', 'RESOURCE_BACKEND', 'spec.defaultBackend'],
    ['warning', 'SERVICE_NOT_FOUND', 'spec.rules[0].http.paths[0].backend'],
    ['warning', 'SERVICE_PORT_NOT_FOUND', 'spec.rules[0].http.paths[1].backend'],
  ]);
  assert.equal(host(m, 'foo.com')!.routes.length, 3);
  assert.deepEqual([...m.backends.keys()].sort(), ['default/missing:80', 'default/resource:StorageBucket/static', 'default/web:80', 'default/web:81']);
  assert.equal(m.backends.get('default/web:80')!.problem, undefined);
});

test('determinism: the same objects inserted in a different order give the same model and table hash', () => {
  const objs = [
    ing('a', { rules: [r('foo.com', p('/x', 'Prefix', 'a')), r('*.foo.com', p('/', 'Prefix', 'a'))] }),
    ing('b', { rules: [r('foo.com', p('/x', 'Prefix', 'b')), r(undefined, p('/y', 'Exact', 'b'))], defaultBackend: be('fallback') }, { ns: 'other' }),
    ing('c', { defaultBackend: be('catch1') }),
    ing('d', { defaultBackend: be('catch2') }),
    ing('e', { rules: [r('foo.com', p('/re(.*)', 'ImplementationSpecific', 'c'))] }, { annotations: { [P + 'rewrite-target']: '/$1' } }),
    ...svc('fallback', 'other'),
  ];
  const fwd = storeOf(...objs);
  const rev = storeOf(...[...objs].reverse());
  const m1 = build(fwd, OPTS);
  const m2 = build(rev, OPTS);
  assert.deepEqual(m1.diagnostics, m2.diagnostics);
  const t1 = compile(m1);
  assert.deepEqual(t1, compile(m2));
  assert.equal(t1.hash, compile(build(rev, OPTS)).hash);
  // And the hash does change with the content.
  const changed = storeOf(...objs, ing('f', { rules: [r('new.com', p('/', 'Prefix'))] }));
  assert.notEqual(compile(build(changed, OPTS)).hash, t1.hash);
});

// --- issue 6: upstream policies and service-upstream ------------------------------------------------

test('policy: on every route and the Ingress default backend; the affinity cookie path follows each path', () => {
  const m = build(storeOf(ing('shop', {
    defaultBackend: be('dflt'),
    rules: [r('a.com', p('/cart/', 'Prefix', 'a'), p('/exact/', 'Exact', 'b'), p('/re(/|$)(.*)', 'ImplementationSpecific', 'c'), p('', 'ImplementationSpecific', 'd'))],
  }, { annotations: { [P + 'affinity']: 'cookie', [P + 'use-regex']: 'true', [P + 'proxy-body-size']: '1m' } })), OPTS);
  assert.deepEqual(codes(m), []);
  const cookiePaths = Object.fromEntries(host(m, 'a.com')!.routes.map((x) => [x.path, x.target.policy?.affinity?.path]));
  assert.deepEqual(cookiePaths, { '/cart/': '/cart', '/exact/': '/exact/', '/re(/|$)(.*)': '/', '': '/' });
  for (const x of host(m, 'a.com')!.routes) assert.equal(x.target.policy?.bodySizeLimit, 1024 * 1024);
  assert.deepEqual(host(m, 'a.com')!.fallback!.policy, { affinity: { name: 'INGRESSCOOKIE', path: '/', secure: false, mode: 'balanced' }, bodySizeLimit: 1024 * 1024 });
});

test('policy: absent on Ingresses without upstream annotations, and per Ingress on a shared host', () => {
  const m = build(storeOf(
    ing('one', { rules: [r('a.com', p('/one', 'Prefix', 'a'))] }, { annotations: { [P + 'rewrite-target']: '/' } }),
    ing('two', { rules: [r('a.com', p('/two', 'Prefix', 'b'))] }, { annotations: { [P + 'load-balance']: 'least_request' } }),
    ing('catch', { defaultBackend: be('catch1') }, { annotations: { [P + 'proxy-connect-timeout']: '3' } }),
  ), OPTS);
  assert.equal(host(m, 'a.com')!.routes.find((x) => x.path === '/one')!.target.policy, undefined);
  assert.deepEqual(host(m, 'a.com')!.routes.find((x) => x.path === '/two')!.target.policy, { loadBalance: 'least_request' });
  assert.deepEqual(m.catchAll!.policy, { connectTimeoutMs: 3000 });
  const table = compile(m);
  assert.equal('policy' in table.hosts['a.com'].ordered.find((e) => e.value === '/one')!.action, false);
});

test('service-upstream: a cluster-IP backend next to the endpoint backend of the same Service port', () => {
  const s = storeOf(
    ing('direct', { rules: [r('a.com', p('/', 'Prefix', 'web'))] }),
    ing('viaip', { rules: [r('b.com', p('/', 'Prefix', 'web'))] }, { annotations: { [P + 'service-upstream']: 'true' } }),
  );
  const web = s.get('Service', 'default', 'web')!;
  s.set({ ...web, raw: { ...web.raw, spec: { clusterIP: '10.96.0.7', ports: [{ name: 'http', port: 80, targetPort: 8080 }] } } });
  const m = build(s, OPTS);
  assert.deepEqual(codes(m), []);
  assert.equal(host(m, 'a.com')!.routes[0].target.backend, 'default/web:80');
  assert.equal(host(m, 'b.com')!.routes[0].target.backend, 'default/web:80#cluster-ip');
  const t = compile(m);
  assert.deepEqual(t.backends['default/web:80#cluster-ip'], { service: 'default/web', port: '80', endpoints: [{ address: '10.96.0.7', port: 80 }], problem: null });
  assert.deepEqual(t.backends['default/web:80'].endpoints, [{ address: '10.0.0.1', port: 8080 }]);
});

test('service-upstream without a usable cluster IP: warning at the backend, endpoints used; a missing Service is reported once as usual', () => {
  const m = build(storeOf(
    ing('viaip', { rules: [r('a.com', p('/', 'Prefix', 'web'), p('/gone', 'Prefix', 'nope'))] }, { annotations: { [P + 'service-upstream']: 'true' } }),
  ), OPTS);
  assert.deepEqual(codes(m), [
    'warning SERVICE_UPSTREAM_UNUSABLE Ingress default/viaip spec.rules[0].http.paths[0].backend',
    'warning SERVICE_NOT_FOUND Ingress default/viaip spec.rules[0].http.paths[1].backend',
  ]);
  assert.match(m.diagnostics[0].message, /ignored for this backend: Service default\/web has no spec.clusterIP; proxying as without the annotation/);
  assert.deepEqual(host(m, 'a.com')!.routes.map((x) => x.target.backend), ['default/nope:80', 'default/web:80']);
});
