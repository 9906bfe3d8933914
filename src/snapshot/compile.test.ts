// compile(model): the plain, sorted, hashed routing table (ARCHITECTURE.md "snapshot/").

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Model, PathRoute, RouteTarget } from '../model/build.ts';
import type { ResolvedBackend } from '../model/services.ts';
import { compile, withHash } from './compile.ts';

const t = (backend: string, extra: Partial<RouteTarget> = {}): RouteTarget => ({ backend, ingress: 'ns/ing', ...extra });
const route = (path: string, pathType: PathRoute['pathType'], match: PathRoute['match'], backend: string): PathRoute => ({ path, pathType, match, target: t(backend), age: 0 });

function model(over: Partial<Model> = {}): Model {
  return { hosts: [], backends: new Map(), served: [], diagnostics: [], tls: { certificates: new Map(), hosts: new Map(), defaultCertificate: null, entries: new Map() }, ...over };
}

test('an empty model compiles to an empty table that answers 404 everywhere', () => {
  const table = compile(model());
  assert.deepEqual({ ...table, hash: '' }, { hash: '', hosts: {}, wildcards: {}, hostless: null, defaultAction: null, backends: {}, tls: { certificates: {}, hosts: {}, wildcards: {}, defaultCertificate: null } });
  assert.match(table.hash, /^[0-9a-f]{16}$/);
});

test('host tables: exact map, prefix values without trailing slash, regex patterns, precedence order kept', () => {
  const table = compile(model({
    hosts: [{
      host: 'foo.com', appRoot: '/app',
      routes: [
        route('/abc/', 'Prefix', 'prefix', 'b1'),
        route('/re(.*)', 'ImplementationSpecific', 'regex', 'b2'),
        route('/zz', 'Exact', 'exact', 'b3'),
        route('/ab', 'Exact', 'exact', 'b4'),
        route('/', 'Prefix', 'prefix', 'b5'),
        route('', 'ImplementationSpecific', 'prefix', 'b6'),
      ],
    }],
  }));
  const h = table.hosts['foo.com'];
  assert.deepEqual(Object.keys(h.exact), ['/ab', '/zz'], 'exact paths sorted');
  assert.deepEqual(h.exact['/zz'], { backend: 'b3', ingress: 'ns/ing' });
  assert.deepEqual(h.ordered.map((e) => [e.match, e.value, e.length, e.action.backend]), [
    ['prefix', '/abc', 5, 'b1'],
    ['regex', '^(?:/re(.*))', 7, 'b2'],
    ['prefix', '/', 1, 'b5'],
    ['prefix', '/', 0, 'b6'],
  ]);
  assert.equal(h.appRoot, '/app');
  assert.equal(h.fallback, null);
});

test('hosts split into precise, wildcard (by suffix) and host-less; fallbacks per the default-backend rules', () => {
  const catchAll = t('catch');
  const controllerDefault = { backend: 'ctl', ingress: '' };
  const table = compile(model({
    catchAll, controllerDefault,
    hosts: [
      { host: '', routes: [] },
      { host: '*.foo.com', routes: [] },
      { host: 'a.com', routes: [], fallback: t('own') },
      { host: 'b.com', routes: [] },
    ],
  }));
  assert.deepEqual(Object.keys(table.hosts), ['a.com', 'b.com']);
  assert.deepEqual(Object.keys(table.wildcards), ['foo.com']);
  assert.equal(table.hosts['a.com'].fallback?.backend, 'own');
  assert.equal(table.hosts['b.com'].fallback?.backend, 'ctl', 'a matched host falls back to the controller default, not the catch-all');
  assert.equal(table.wildcards['foo.com'].fallback?.backend, 'ctl');
  assert.equal(table.hostless?.fallback?.backend, 'catch', 'host-less rules fall back to the catch-all first');
  assert.equal(table.defaultAction?.backend, 'catch');
  assert.equal(compile(model({ controllerDefault })).defaultAction?.backend, 'ctl');
});

test('actions carry rewrite and x-forwarded-prefix only when set', () => {
  const table = compile(model({
    hosts: [{ host: 'a.com', routes: [
      { path: '/x', pathType: 'Prefix', match: 'prefix', age: 0, target: t('b', { rewrite: { pattern: '^(?:/x)', target: '/' }, forwardedPrefix: '/p' }) },
      route('/y', 'Exact', 'exact', 'c'),
    ] }],
  }));
  assert.deepEqual(table.hosts['a.com'].ordered[0].action, { backend: 'b', ingress: 'ns/ing', rewrite: { pattern: '^(?:/x)', target: '/' }, forwardedPrefix: '/p' });
  assert.deepEqual(table.hosts['a.com'].exact['/y'], { backend: 'c', ingress: 'ns/ing' });
  assert.ok(!('rewrite' in table.hosts['a.com'].exact['/y']));
});

test('backends sorted by id, with endpoints and the problem code', () => {
  const backends = new Map<string, ResolvedBackend>([
    ['ns/z:80', { id: 'ns/z:80', service: 'ns/z', port: '80', endpoints: [{ address: '10.0.0.1', port: 8080 }] }],
    ['ns/a:http', { id: 'ns/a:http', service: 'ns/a', port: 'http', endpoints: [], problem: { code: 'NO_READY_ENDPOINTS', message: 'm' } }],
  ]);
  const table = compile(model({ backends }));
  assert.deepEqual(Object.keys(table.backends), ['ns/a:http', 'ns/z:80']);
  assert.deepEqual(table.backends['ns/a:http'], { service: 'ns/a', port: 'http', endpoints: [], problem: 'NO_READY_ENDPOINTS' });
  assert.deepEqual(table.backends['ns/z:80'], { service: 'ns/z', port: '80', endpoints: [{ address: '10.0.0.1', port: 8080 }], problem: null });
});

test('the table is plain JSON data and its hash covers every field', () => {
  const base = model({ hosts: [{ host: 'a.com', routes: [route('/x', 'Prefix', 'prefix', 'b')] }] });
  const table = compile(base);
  assert.deepEqual(JSON.parse(JSON.stringify(table)), table);
  const { hash, ...body } = table;
  assert.equal(hash, withHash(body).hash);
  assert.equal(compile(base).hash, hash, 'same model, same hash');
  const variants: Model[] = [
    model({ hosts: [{ host: 'b.com', routes: [route('/x', 'Prefix', 'prefix', 'b')] }] }),
    model({ hosts: [{ host: 'a.com', routes: [route('/x', 'Exact', 'exact', 'b')] }] }),
    model({ hosts: [{ host: 'a.com', routes: [route('/x', 'Prefix', 'prefix', 'c')] }] }),
    model({ hosts: [{ host: 'a.com', routes: [route('/x', 'Prefix', 'prefix', 'b')], appRoot: '/r' }] }),
    model({ hosts: [{ host: 'a.com', routes: [route('/x', 'Prefix', 'prefix', 'b')] }], catchAll: t('d') }),
  ];
  for (const v of variants) assert.notEqual(compile(v).hash, hash);
});

test('policy and canary: copied in the table\'s field order, only when set, and covered by the hash', () => {
  // Model objects built in a scrambled key order: the table must not depend on it.
  const policy = {
    nextUpstream: { tries: 2, conditions: ['error' as const, 'http_503' as const] }, sslName: 'x.internal', backendProtocol: 'HTTPS' as const,
    affinity: { mode: 'persistent' as const, secure: true, sameSite: 'Lax' as const, path: '/a', name: 'route', maxAge: 60 },
    readTimeoutMs: 5000, loadBalance: 'ewma' as const, bodySizeLimit: 0,
  };
  const canary = { weightTotal: 100, weight: 5, byCookie: 'c', byHeader: 'X-Canary', ingress: 'ns/canary', backend: 'cb', policy: { hashBy: '${host}' } };
  const table = compile(model({ hosts: [{ host: 'a.com', routes: [{ path: '/a', pathType: 'Prefix', match: 'prefix', age: 0, target: t('b', { policy, canary }) }] }] }));
  const action = table.hosts['a.com'].ordered[0].action;
  assert.equal(JSON.stringify(action), JSON.stringify({
    backend: 'b', ingress: 'ns/ing',
    policy: {
      loadBalance: 'ewma', affinity: { name: 'route', path: '/a', maxAge: 60, sameSite: 'Lax', secure: true, mode: 'persistent' },
      readTimeoutMs: 5000, bodySizeLimit: 0, backendProtocol: 'HTTPS', sslName: 'x.internal', nextUpstream: { conditions: ['error', 'http_503'], tries: 2 },
    },
    canary: { backend: 'cb', ingress: 'ns/canary', policy: { hashBy: '${host}' }, byHeader: 'X-Canary', byCookie: 'c', weight: 5, weightTotal: 100 },
  }));
  const plain = compile(model({ hosts: [{ host: 'a.com', routes: [{ path: '/a', pathType: 'Prefix', match: 'prefix', age: 0, target: t('b') }] }] }));
  assert.deepEqual(plain.hosts['a.com'].ordered[0].action, { backend: 'b', ingress: 'ns/ing' });
  const other = compile(model({ hosts: [{ host: 'a.com', routes: [{ path: '/a', pathType: 'Prefix', match: 'prefix', age: 0, target: t('b', { policy, canary: { ...canary, weight: 6 } }) }] }] }));
  assert.notEqual(other.hash, table.hash);
  assert.notEqual(plain.hash, table.hash);
});

test('a recompile reuses the host tables and actions whose content did not change, and only those', () => {
  const hostsOf = (aBackend: string): Model['hosts'] => [
    { host: 'a.com', routes: [route('/x', 'Prefix', 'prefix', aBackend), route('/y', 'Exact', 'exact', 'shared')] },
    { host: 'b.com', routes: [route('/x', 'Prefix', 'prefix', 'shared'), route('/z', 'Prefix', 'prefix', 'shared')] },
    { host: '*.c.com', routes: [route('/', 'Prefix', 'prefix', 'shared')], appRoot: '/home' },
  ];
  const first = compile(model({ hosts: hostsOf('a1') }));
  const same = compile(model({ hosts: hostsOf('a1') }));
  assert.equal(same.hash, first.hash);
  assert.equal(same.hosts['a.com'], first.hosts['a.com'], 'unchanged host: the very same entry object');
  assert.equal(same.wildcards['c.com'], first.wildcards['c.com']);
  // Equal actions are one object, within a host and across hosts and compiles.
  assert.equal(same.hosts['b.com'].ordered[0].action, same.hosts['b.com'].ordered[1].action);
  assert.equal(same.hosts['b.com'].ordered[0].action, first.hosts['a.com'].exact['/y']);

  const changed = compile(model({ hosts: hostsOf('a2') }));
  assert.notEqual(changed.hash, first.hash);
  assert.notEqual(changed.hosts['a.com'], first.hosts['a.com'], 'a changed host gets a new entry');
  assert.equal(changed.hosts['a.com'].ordered[0].action.backend, 'a2');
  assert.equal(changed.hosts['b.com'], first.hosts['b.com']);
  // Same content as a table compiled from scratch: the reuse is invisible in the result.
  assert.deepEqual(JSON.parse(JSON.stringify(changed)), JSON.parse(JSON.stringify({ ...changed, hosts: { 'a.com': { exact: { '/y': { backend: 'shared', ingress: 'ns/ing' } }, ordered: [{ match: 'prefix', value: '/x', length: 2, action: { backend: 'a2', ingress: 'ns/ing' } }], fallback: null, appRoot: null }, 'b.com': changed.hosts['b.com'] } })));
  // An app-root or fallback difference is a content difference too.
  const rooted = compile(model({ hosts: hostsOf('a1').map((h) => (h.host === '*.c.com' ? { ...h, appRoot: '/other' } : h)) }));
  assert.notEqual(rooted.wildcards['c.com'], first.wildcards['c.com']);
  assert.equal(rooted.wildcards['c.com'].appRoot, '/other');
});
