// Router.match / matchPath / rewritePath over tables compiled from real Ingress objects
// (INGRESS-SEMANTICS.md "Host matching", "Path matching", "Default backend", "rewrite-target").

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ObjectStore, type JsonObject, type StoredObject } from '../model/objects.ts';
import { build, type BuildOptions } from '../model/build.ts';
import { compile } from './compile.ts';
import { Router, rewritePath } from './router.ts';
import type { RoutingTable } from './table.ts';

const OPTS: BuildOptions = { controllerName: 'archway.dev/ingress-controller', ingressClass: 'archway', watchWithoutClass: true };
const P = 'nginx.ingress.kubernetes.io/';

function ing(name: string, spec: JsonObject, annotations?: Record<string, string>, created?: string): StoredObject {
  const metadata: JsonObject = { name, namespace: 'default' };
  if (annotations) metadata.annotations = annotations;
  if (created) metadata.creationTimestamp = created;
  return { kind: 'Ingress', apiVersion: 'networking.k8s.io/v1', namespace: 'default', name, raw: { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata, spec } };
}
const be = (service: string): JsonObject => ({ service: { name: service, port: { number: 80 } } });
/** Each path routes to a Service named after its label, so assertions read as "which rule matched". */
const p = (path: string, pathType: string, service: string): JsonObject => ({ path, pathType, backend: be(service) });
const rule = (host: string | undefined, ...paths: JsonObject[]): JsonObject => (host === undefined ? { http: { paths } } : { host, http: { paths } });

function tableOf(objs: StoredObject[], opts: BuildOptions = OPTS): RoutingTable {
  const s = new ObjectStore();
  for (const o of objs) s.set(o);
  const m = build(s, opts);
  assert.deepEqual(m.diagnostics.filter((d) => d.severity !== 'warning' || !/SERVICE_NOT_FOUND/.test(d.code)), [], 'fixture must build cleanly');
  return compile(m);
}

function routerOf(...objs: StoredObject[]): Router {
  return new Router(tableOf(objs));
}

/** The Service a request is routed to, or null (Archway's 404). */
function svc(router: Router, host: string, path: string): string | null {
  const m = router.match(host, path);
  return m === null ? null : m.backend.replace(/^default\//, '').replace(/:80$/, '');
}

// ---- hosts ----

test('precise host, then wildcard (exactly one label), then host-less rules', () => {
  const r = routerOf(ing('x', {
    rules: [rule('foo.bar.com', p('/', 'Prefix', 'precise')), rule('*.bar.com', p('/', 'Prefix', 'wild')), rule(undefined, p('/', 'Prefix', 'hostless'))],
  }));
  assert.equal(svc(r, 'foo.bar.com', '/'), 'precise');
  assert.equal(svc(r, 'baz.bar.com', '/'), 'wild');
  assert.equal(svc(r, 'x-1.bar.com', '/a/b'), 'wild');
  assert.equal(svc(r, 'baz.foo.bar.com', '/'), 'hostless', '*.bar.com matches exactly one extra label');
  assert.equal(svc(r, 'bar.com', '/'), 'hostless', '*.bar.com does not match bar.com');
  assert.equal(svc(r, '.bar.com', '/'), 'hostless', 'an empty label is not a label');
  assert.equal(svc(r, 'other.com', '/'), 'hostless');
  assert.equal(svc(r, '10.0.0.1', '/'), 'hostless');
  assert.equal(svc(r, '', '/'), 'hostless');
});

test('wildcards per suffix: *.foo.com and *.bar.foo.com are distinct', () => {
  const r = routerOf(ing('x', { rules: [rule('*.foo.com', p('/', 'Prefix', 'one')), rule('*.bar.foo.com', p('/', 'Prefix', 'two'))] }));
  assert.equal(svc(r, 'bar.foo.com', '/'), 'one');
  assert.equal(svc(r, 'x.bar.foo.com', '/'), 'two');
  assert.equal(svc(r, 'y.x.bar.foo.com', '/'), null);
  assert.equal(svc(r, 'foo.com', '/'), null);
});

test('contract: match() takes the host lowercased and without port (the HTTP layer normalises it)', () => {
  const r = routerOf(ing('x', { rules: [rule('foo.com', p('/', 'Prefix', 'foo')), rule('*.bar.com', p('/', 'Prefix', 'wild'))] }));
  assert.equal(svc(r, 'foo.com', '/'), 'foo');
  assert.equal(svc(r, 'a.bar.com', '/'), 'wild');
  // The router itself does no normalisation: callers must lowercase and strip the port first.
  assert.equal(svc(r, 'FOO.com', '/'), null);
  assert.equal(svc(r, 'foo.com:8080', '/'), null);
  assert.equal(svc(r, 'A.BAR.COM', '/'), null);
});

test('a matched host does not fall through to wildcard or host-less rules when no path matches', () => {
  const r = routerOf(ing('x', {
    rules: [rule('foo.bar.com', p('/only', 'Prefix', 'precise')), rule('*.bar.com', p('/', 'Prefix', 'wild')), rule(undefined, p('/', 'Prefix', 'hostless'))],
  }));
  assert.equal(svc(r, 'foo.bar.com', '/only/x'), 'precise');
  assert.equal(svc(r, 'foo.bar.com', '/else'), null);
});

test('rules for one host from several Ingresses serve together', () => {
  const r = routerOf(
    ing('one', { rules: [rule('foo.com', p('/a', 'Prefix', 'a'))] }),
    ing('two', { rules: [rule('foo.com', p('/b', 'Prefix', 'b'))] }),
  );
  assert.equal(svc(r, 'foo.com', '/a'), 'a');
  assert.equal(svc(r, 'foo.com', '/b/x'), 'b');
});

// ---- paths ----

test('Prefix: element-wise on "/"-separated segments (the Kubernetes docs examples table)', () => {
  const cases: Array<[string, string, boolean]> = [
    ['/', '/anything/at/all', true],
    ['/', '/', true],
    ['/foo', '/foo', true],
    ['/foo', '/foo/', true],
    ['/foo', '/foo/bar', true],
    ['/foo', '/foobar', false],
    ['/foo', '/fo', false],
    ['/foo', '/', false],
    ['/foo', '/FOO', false],
    ['/foo/', '/foo', true],
    ['/foo/', '/foo/', true],
    ['/foo/', '/foo/bar', true],
    ['/foo/', '/foobar', false],
    ['/aaa/bb', '/aaa/bbb', false],
    ['/aaa/bbb', '/aaa/bbb', true],
    ['/aaa/bbb/', '/aaa/bbb', true],
    ['/aaa/bbb', '/aaa/bbb/', true],
    ['/aaa/bbb', '/aaa/bbb/ccc', true],
    ['/aaa/bbb', '/aaa/bbbxyz', false],
    ['/aaa/bbb', '/aaa', false],
  ];
  for (const [rulePath, req, expected] of cases) {
    const r = routerOf(ing('x', { rules: [rule('foo.com', p(rulePath, 'Prefix', 'hit'))] }));
    assert.equal(svc(r, 'foo.com', req), expected ? 'hit' : null, `Prefix ${rulePath} vs ${req}`);
  }
});

test('ImplementationSpecific without regex annotations: Prefix semantics; an empty path is "/"', () => {
  const r = routerOf(ing('x', { rules: [rule('foo.com', p('/foo', 'ImplementationSpecific', 'foo'), p('/v[0-9]', 'ImplementationSpecific', 'literal'))] }));
  assert.equal(svc(r, 'foo.com', '/foo/x'), 'foo');
  assert.equal(svc(r, 'foo.com', '/foobar'), null);
  assert.equal(svc(r, 'foo.com', '/v[0-9]/x'), 'literal', 'no regex: the path is literal');
  assert.equal(svc(r, 'foo.com', '/v1'), null);
  const e = routerOf(ing('x', { rules: [rule('foo.com', p('', 'ImplementationSpecific', 'all'))] }));
  assert.equal(svc(e, 'foo.com', '/'), 'all');
  assert.equal(svc(e, 'foo.com', '/x/y'), 'all');
});

test('Exact: byte-for-byte and case-sensitive; a trailing slash is significant', () => {
  const r = routerOf(ing('x', { rules: [rule('foo.com', p('/foo', 'Exact', 'foo'), p('/bar/', 'Exact', 'bar'))] }));
  assert.equal(svc(r, 'foo.com', '/foo'), 'foo');
  assert.equal(svc(r, 'foo.com', '/foo/'), null);
  assert.equal(svc(r, 'foo.com', '/FOO'), null);
  assert.equal(svc(r, 'foo.com', '/foo/x'), null);
  assert.equal(svc(r, 'foo.com', '/bar/'), 'bar');
  assert.equal(svc(r, 'foo.com', '/bar'), null);
  assert.equal(svc(r, 'foo.com', '/%66oo'), null, 'no decoding: byte-for-byte');
});

test('precedence: longest path first; at equal length Exact beats Prefix beats regex', () => {
  const r = routerOf(
    ing('plain', { rules: [rule('foo.com', p('/', 'Prefix', 'root'), p('/aaa', 'Prefix', 'aaa'), p('/aaa/bbb', 'Prefix', 'aaabbb'), p('/foo', 'Prefix', 'prefix-foo'), p('/foo', 'Exact', 'exact-foo'))] }),
    ing('re', { rules: [rule('foo.com', p('/fo.', 'ImplementationSpecific', 'regex-fo'), p('/zz.*', 'ImplementationSpecific', 'regex-zz'))] }, { [P + 'use-regex']: 'true' }),
    ing('exact', { rules: [rule('foo.com', p('/zz', 'Exact', 'exact-zz'))] }),
  );
  assert.equal(svc(r, 'foo.com', '/aaa/ccc'), 'aaa');
  assert.equal(svc(r, 'foo.com', '/aaa/bbb/ccc'), 'aaabbb');
  assert.equal(svc(r, 'foo.com', '/ccc'), 'root');
  assert.equal(svc(r, 'foo.com', '/foo'), 'exact-foo', 'Exact beats Prefix at equal length');
  assert.equal(svc(r, 'foo.com', '/foo/x'), 'prefix-foo', 'Prefix beats the equally long regex');
  assert.equal(svc(r, 'foo.com', '/fox'), 'regex-fo');
  // Longest path string first, whatever the type: the 5-character regex beats the 3-character Exact.
  assert.equal(svc(r, 'foo.com', '/zz'), 'regex-zz');
});

test('Prefix vs Exact vs regex ties are settled by type even across Ingresses of different age', () => {
  const r = routerOf(
    ing('old', { rules: [rule('foo.com', p('/ab', 'ImplementationSpecific', 'regex'))] }, { [P + 'use-regex']: 'true' }, '2020-01-01T00:00:00Z'),
    ing('mid', { rules: [rule('foo.com', p('/ab', 'Prefix', 'prefix'))] }, undefined, '2021-01-01T00:00:00Z'),
    ing('new', { rules: [rule('foo.com', p('/ab', 'Exact', 'exact'))] }, undefined, '2022-01-01T00:00:00Z'),
  );
  assert.equal(svc(r, 'foo.com', '/ab'), 'exact');
  assert.equal(svc(r, 'foo.com', '/ab/c'), 'prefix');
  assert.equal(svc(r, 'foo.com', '/abc'), 'regex');
});

test('regex paths: anchored at the start, case-insensitive, every alternative anchored', () => {
  const r = routerOf(ing('re', {
    rules: [rule('foo.com', p('/api/v[0-9]+', 'ImplementationSpecific', 'api'), p('/one|/two', 'ImplementationSpecific', 'alt'))],
  }, { [P + 'use-regex']: 'true' }));
  assert.equal(svc(r, 'foo.com', '/api/v1'), 'api');
  assert.equal(svc(r, 'foo.com', '/API/V12/users'), 'api');
  assert.equal(svc(r, 'foo.com', '/api/v1x'), 'api', 'anchored at the start only (a prefix regex)');
  assert.equal(svc(r, 'foo.com', '/x/api/v1'), null);
  assert.equal(svc(r, 'foo.com', '/api/vx'), null);
  assert.equal(svc(r, 'foo.com', '/two'), 'alt');
  assert.equal(svc(r, 'foo.com', '/x/two'), null, '`/one|/two` must not find /two in the middle');
});

// ---- fallbacks ----

test('no path matched on a host: its Ingress defaultBackend, else the controller default, else 404 (null)', () => {
  const objs = [
    ing('withdb', { defaultBackend: be('own-default'), rules: [rule('foo.com', p('/a', 'Prefix', 'a'))] }),
    ing('nodb', { rules: [rule('bar.com', p('/b', 'Prefix', 'b')), rule('*.wild.com', p('/w', 'Prefix', 'w'))] }),
    ing('catch', { defaultBackend: be('catch-all') }),
  ];
  const r = new Router(tableOf(objs));
  assert.equal(svc(r, 'foo.com', '/zzz'), 'own-default');
  assert.equal(svc(r, 'bar.com', '/zzz'), null, 'the catch-all does not serve a matched host');
  assert.equal(svc(r, 'x.wild.com', '/zzz'), null);
  assert.equal(svc(r, 'unknown.com', '/zzz'), 'catch-all');
  assert.equal(svc(r, '192.168.1.1', '/'), 'catch-all');

  const withController = new Router(tableOf(objs, { ...OPTS, defaultBackendService: { namespace: 'default', name: 'controller-default', port: 80 } }));
  assert.equal(svc(withController, 'foo.com', '/zzz'), 'own-default');
  assert.equal(svc(withController, 'bar.com', '/zzz'), 'controller-default');
  assert.equal(svc(withController, 'x.wild.com', '/zzz'), 'controller-default');
  assert.equal(svc(withController, 'unknown.com', '/zzz'), 'catch-all', 'the catch-all comes before the controller default');

  const onlyController = new Router(tableOf(objs.slice(0, 2), { ...OPTS, defaultBackendService: { namespace: 'default', name: 'controller-default', port: 80 } }));
  assert.equal(svc(onlyController, 'unknown.com', '/'), 'controller-default');
  const nothing = new Router(tableOf(objs.slice(0, 2)));
  assert.equal(svc(nothing, 'unknown.com', '/'), null);
});

test('an Ingress defaultBackend does not capture other hosts; host-less rules fall back to the catch-all', () => {
  const r = routerOf(
    ing('tenant', { defaultBackend: be('tenant-default'), rules: [rule('tenant.com', p('/', 'Exact', 'tenant'))] }),
    ing('hostless', { rules: [rule(undefined, p('/h', 'Prefix', 'hostless'))] }),
    ing('catch', { defaultBackend: be('catch-all') }),
  );
  assert.equal(svc(r, 'tenant.com', '/x'), 'tenant-default');
  assert.equal(svc(r, 'other.com', '/h/1'), 'hostless');
  assert.equal(svc(r, 'other.com', '/x'), 'catch-all');
});

test('host-less rules of an Ingress with a defaultBackend: unmatched paths still go to the catch-all', () => {
  const objs = [
    ing('tenant', { defaultBackend: be('tenant-default'), rules: [rule('tenant.com', p('/t', 'Prefix', 'tenant')), rule(undefined, p('/h', 'Prefix', 'hostless'))] }),
    ing('catch', { defaultBackend: be('catch-all') }),
  ];
  const r = new Router(tableOf(objs));
  assert.equal(svc(r, 'tenant.com', '/x'), 'tenant-default');
  assert.equal(svc(r, 'other.com', '/h'), 'hostless');
  assert.equal(svc(r, 'other.com', '/x'), 'catch-all', 'the tenant default must not capture other hosts');
  assert.equal(svc(new Router(tableOf(objs.slice(0, 1))), 'other.com', '/x'), null);
});

test('a rule without paths still claims its host; unmatched requests go to the fallback chain', () => {
  const r = routerOf(ing('x', { defaultBackend: be('own'), rules: [{ host: 'foo.com' }] }), ing('catch', { defaultBackend: be('catch-all') }));
  assert.equal(svc(r, 'foo.com', '/'), 'own');
  assert.equal(svc(r, 'bar.com', '/'), 'catch-all');
});

// ---- rewrite ----

function rewriteVia(router: Router, host: string, path: string): string | null {
  const m = router.match(host, path);
  return m === null ? null : rewritePath(m, path);
}

test('rewrite-target: /testpath + target / -> / (the whole path is replaced)', () => {
  const r = routerOf(ing('rw', { rules: [rule(undefined, p('/testpath', 'Prefix', 'test'))] }, { [P + 'rewrite-target']: '/' }));
  assert.equal(rewriteVia(r, 'any', '/testpath'), '/');
  assert.equal(rewriteVia(r, 'any', '/testpath/x'), '/');
  assert.equal(rewriteVia(r, 'any', '/nope'), null);
});

test('rewrite-target: /something(/|$)(.*) + /$2 (the ingress-nginx doc example)', () => {
  const r = routerOf(ing('rw', { rules: [rule('rewrite.bar.com', p('/something(/|$)(.*)', 'ImplementationSpecific', 'http-svc'))] }, { [P + 'use-regex']: 'true', [P + 'rewrite-target']: '/$2' }));
  assert.equal(rewriteVia(r, 'rewrite.bar.com', '/something'), '/');
  assert.equal(rewriteVia(r, 'rewrite.bar.com', '/something/'), '/');
  assert.equal(rewriteVia(r, 'rewrite.bar.com', '/something/new'), '/new');
  assert.equal(rewriteVia(r, 'rewrite.bar.com', '/SOMETHING/New/Deep'), '/New/Deep', 'case-insensitive match, captured text kept as sent');
  assert.equal(rewriteVia(r, 'rewrite.bar.com', '/somethingelse'), null);
});

test('rewrite-target: unmatched groups and groups beyond the pattern are empty; no $ means a literal target', () => {
  const r = routerOf(ing('rw', { rules: [rule('foo.com', p('/a(x)?(/.*)?', 'ImplementationSpecific', 'a'))] }, { [P + 'rewrite-target']: '/t/$1$2$3' }));
  assert.equal(rewriteVia(r, 'foo.com', '/a/b'), '/t//b');
  assert.equal(rewriteVia(r, 'foo.com', '/ax/b'), '/t/x/b');
  assert.equal(rewriteVia(r, 'foo.com', '/a'), '/t/');
  const lit = routerOf(ing('rw', { rules: [rule('foo.com', p('/old', 'Prefix', 'a'))] }, { [P + 'rewrite-target']: '/new' }));
  assert.equal(rewriteVia(lit, 'foo.com', '/old/deeper'), '/new');
});

test('without rewrite-target the path is passed unchanged', () => {
  const r = routerOf(ing('x', { rules: [rule('foo.com', p('/a', 'Prefix', 'a'))] }));
  assert.equal(rewriteVia(r, 'foo.com', '/a/B%20c'), '/a/B%20c');
  const m = r.match('foo.com', '/a')!;
  assert.equal(m.rewriteRe, undefined);
});

test('route carries the Ingress name and x-forwarded-prefix', () => {
  const r = routerOf(ing('x', { rules: [rule('foo.com', p('/a', 'Prefix', 'a'))] }, { [P + 'x-forwarded-prefix']: '/pre' }));
  const m = r.match('foo.com', '/a')!;
  assert.equal(m.ingress, 'default/x');
  assert.equal(m.forwardedPrefix, '/pre');
  assert.equal(r.hash, tableOf([ing('x', { rules: [rule('foo.com', p('/a', 'Prefix', 'a'))] }, { [P + 'x-forwarded-prefix']: '/pre' })]).hash);
});

test('a table carrying an invalid pattern is refused when the router is built', () => {
  const t = tableOf([ing('re', { rules: [rule('foo.com', p('/ok', 'ImplementationSpecific', 'a'))] }, { [P + 'use-regex']: 'true' })]);
  const corrupted = structuredClone(t);
  corrupted.hosts['foo.com'].ordered[0].value = '^(';
  assert.throws(() => new Router(corrupted), /invalid pattern/);
});
