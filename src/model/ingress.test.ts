// normalizeIngress: every validation rule of INGRESS-SEMANTICS.md ("Validation") with its field path,
// and the v1beta1 / extensions/v1beta1 -> v1 conversion ("Objects and versions").

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Diagnostic } from './diagnostics.ts';
import type { JsonObject, StoredObject } from './objects.ts';
import { normalizeIngress, type Ingress } from './ingress.ts';

const V1 = 'networking.k8s.io/v1';

function stored(raw: JsonObject, origin = { file: 'ing.yaml', line: 3 }): StoredObject {
  const meta = (raw.metadata ?? {}) as JsonObject;
  return {
    kind: 'Ingress',
    apiVersion: raw.apiVersion as string,
    namespace: (meta.namespace as string | undefined) ?? 'default',
    name: meta.name as string,
    raw,
    origin,
  };
}

function v1(spec: JsonObject, metadata: JsonObject = { name: 'web' }): StoredObject {
  return stored({ apiVersion: V1, kind: 'Ingress', metadata, spec });
}

const svc = (name = 'web', port: JsonObject = { number: 80 }): JsonObject => ({ service: { name, port } });
const path = (p: string, pathType: string | undefined, backend: JsonObject = svc()): JsonObject =>
  pathType === undefined ? { path: p, backend } : { path: p, pathType, backend };
const rule = (host: string | undefined, ...paths: JsonObject[]): JsonObject =>
  host === undefined ? { http: { paths } } : { host, http: { paths } };

function ok(o: StoredObject): Ingress {
  const diags: Diagnostic[] = [];
  const ing = normalizeIngress(o, diags);
  assert.deepEqual(diags, []);
  assert.ok(ing);
  return ing;
}

/** The object is rejected whole, with (at least) one error of `code` at `field`. */
function rejected(o: StoredObject, code: string, field: string): Diagnostic[] {
  const diags: Diagnostic[] = [];
  const ing = normalizeIngress(o, diags);
  assert.equal(ing, undefined, `${code} ${field}: the Ingress must be skipped`);
  assert.ok(diags.length > 0);
  for (const d of diags) assert.equal(d.severity, 'error');
  assert.ok(
    diags.some((d) => d.code === code && d.field === field),
    `expected ${code} at ${field}, got ${JSON.stringify(diags.map((d) => [d.code, d.field]))}`,
  );
  return diags;
}

test('a valid v1 Ingress is normalised as written', () => {
  const ing = ok(v1(
    {
      ingressClassName: 'archway',
      defaultBackend: svc('fallback', { name: 'http' }),
      rules: [rule('foo.bar.com', path('/a', 'Prefix'), path('/b', 'Exact', svc('b', { number: 8080 }))), rule(undefined, path('', 'ImplementationSpecific'))],
      tls: [{ hosts: ['foo.bar.com', '*.bar.com'], secretName: 'cert' }, {}],
    },
    { name: 'web', namespace: 'shop', annotations: { 'a/b': 'c' }, creationTimestamp: '2024-01-01T00:00:00Z' },
  ));
  assert.equal(ing.namespace, 'shop');
  assert.equal(ing.name, 'web');
  assert.equal(ing.className, 'archway');
  assert.deepEqual(ing.annotations, { 'a/b': 'c' });
  assert.equal(ing.created, '2024-01-01T00:00:00Z');
  assert.deepEqual(ing.defaultBackend, { service: { service: 'fallback', portName: 'http' }, field: 'spec.defaultBackend' });
  assert.deepEqual(ing.rules, [
    {
      host: 'foo.bar.com', field: 'spec.rules[0]',
      paths: [
        { path: '/a', pathType: 'Prefix', field: 'spec.rules[0].http.paths[0]', backend: { service: { service: 'web', portNumber: 80 }, field: 'spec.rules[0].http.paths[0].backend' } },
        { path: '/b', pathType: 'Exact', field: 'spec.rules[0].http.paths[1]', backend: { service: { service: 'b', portNumber: 8080 }, field: 'spec.rules[0].http.paths[1].backend' } },
      ],
    },
    {
      host: '', field: 'spec.rules[1]',
      paths: [{ path: '', pathType: 'ImplementationSpecific', field: 'spec.rules[1].http.paths[0]', backend: { service: { service: 'web', portNumber: 80 }, field: 'spec.rules[1].http.paths[0].backend' } }],
    },
  ]);
  assert.deepEqual(ing.tls, [
    { hosts: ['foo.bar.com', '*.bar.com'], secretName: 'cert', field: 'spec.tls[0]' },
    { hosts: [], secretName: '', field: 'spec.tls[1]' },
  ]);
});

test('a rule may have a host and no http (no paths), and a resource backend is valid API', () => {
  const ing = ok(v1({ rules: [{ host: 'a.com' }], defaultBackend: { resource: { apiGroup: 'k8s.example.com', kind: 'StorageBucket', name: 'static' } } }));
  assert.deepEqual(ing.rules, [{ host: 'a.com', paths: [], field: 'spec.rules[0]' }]);
  assert.deepEqual(ing.defaultBackend, { resource: { kind: 'StorageBucket', name: 'static' }, field: 'spec.defaultBackend' });
  assert.equal(ing.created, '');
  assert.equal(ing.className, undefined);
});

test('diagnostics carry file, line, object and a message saying the Ingress is skipped', () => {
  const diags = rejected(v1({ rules: [rule('Foo.com', path('/', 'Prefix'))] }, { name: 'web', namespace: 'shop' }), 'INGRESS_INVALID_HOST', 'spec.rules[0].host');
  assert.equal(diags.length, 1);
  assert.equal(diags[0].file, 'ing.yaml');
  assert.equal(diags[0].line, 3);
  assert.equal(diags[0].object, 'Ingress shop/web');
  assert.match(diags[0].message, /Foo\.com/);
  assert.match(diags[0].message, /skipped/);
});

test('all problems of one Ingress are reported, not just the first', () => {
  const diags = rejected(
    v1({ rules: [rule('1.2.3.4', path('foo', 'Prefix')), rule('a.com', path('/x', 'Bogus'))] }, { name: 'Web' }),
    'INGRESS_INVALID_NAME', 'metadata.name',
  );
  assert.deepEqual(diags.map((d) => [d.code, d.field]), [
    ['INGRESS_INVALID_NAME', 'metadata.name'],
    ['INGRESS_INVALID_HOST', 'spec.rules[0].host'],
    ['INGRESS_INVALID_PATH', 'spec.rules[0].http.paths[0].path'],
    ['INGRESS_INVALID_PATH_TYPE', 'spec.rules[1].http.paths[0].pathType'],
  ]);
});

test('metadata.name must be a DNS-1123 subdomain', () => {
  for (const name of ['web', 'a.b-c', 'x'.repeat(253)]) ok(v1({ defaultBackend: svc() }, { name }));
  for (const name of ['Web', '-web', 'web-', 'we_b', 'x'.repeat(254), 'a..b']) {
    rejected(v1({ defaultBackend: svc() }, { name }), 'INGRESS_INVALID_NAME', 'metadata.name');
  }
});

test('spec is required and needs rules or a defaultBackend', () => {
  rejected(stored({ apiVersion: V1, kind: 'Ingress', metadata: { name: 'web' } }), 'INGRESS_NO_SPEC', 'spec');
  rejected(v1({}), 'INGRESS_EMPTY_SPEC', 'spec');
  rejected(v1({ rules: [] }), 'INGRESS_EMPTY_SPEC', 'spec');
  rejected(v1({ rules: 'nope' }), 'INGRESS_INVALID_RULES', 'spec.rules');
  ok(v1({ rules: [], defaultBackend: svc() }));
  ok(v1({ rules: [rule('a.com', path('/', 'Prefix'))] }));
});

test('rules[].host: not an IP, DNS-1123 subdomain or *.subdomain, no port, no uppercase', () => {
  for (const host of ['foo.bar.com', '*.foo.com', 'localhost', 'a-1.example']) ok(v1({ rules: [rule(host, path('/', 'Prefix'))] }));
  for (const host of ['1.2.3.4', '::1', '*', '*foo.com', 'foo.*.com', 'foo.com:80', 'Foo.com', 'foo_bar.com', 'foo.com.', '*.*.foo.com']) {
    rejected(v1({ rules: [rule('a.com', path('/', 'Prefix')), rule(host, path('/', 'Prefix'))] }), 'INGRESS_INVALID_HOST', 'spec.rules[1].host');
  }
  rejected(v1({ rules: [{ host: 42 }] }), 'INGRESS_INVALID_HOST', 'spec.rules[0].host');
  const diags = rejected(v1({ rules: [rule('10.0.0.1', path('/', 'Prefix'))] }), 'INGRESS_INVALID_HOST', 'spec.rules[0].host');
  assert.match(diags[0].message, /not an IP/);
});

test('rules[].http.paths must not be empty', () => {
  rejected(v1({ rules: [{ host: 'a.com', http: { paths: [] } }] }), 'INGRESS_NO_PATHS', 'spec.rules[0].http.paths');
  rejected(v1({ rules: [{ host: 'a.com', http: {} }] }), 'INGRESS_NO_PATHS', 'spec.rules[0].http.paths');
});

test('Exact and Prefix paths: absolute, no //, /./, /../, %2f, no trailing /. or /..', () => {
  for (const t of ['Exact', 'Prefix']) {
    for (const p of ['/', '/foo', '/foo/', '/a..b', '/a.b/c']) ok(v1({ rules: [rule('a.com', path(p, t))] }));
    for (const p of ['', 'foo', '/a//b', '/a/./b', '/a/../b', '/a%2fb', '/a%2Fb', '/a/.', '/a/..']) {
      const diags = rejected(v1({ rules: [rule('a.com', path('/ok', 'Prefix'), path(p, t))] }), 'INGRESS_INVALID_PATH', 'spec.rules[0].http.paths[1].path');
      assert.equal(diags.length, 1, `${t} ${JSON.stringify(p)}`);
    }
  }
  // A missing path is the empty path: invalid for Exact/Prefix.
  rejected(v1({ rules: [rule('a.com', { pathType: 'Prefix', backend: svc() })] }), 'INGRESS_INVALID_PATH', 'spec.rules[0].http.paths[0].path');
  rejected(v1({ rules: [rule('a.com', path(7 as unknown as string, 'Prefix'))] }), 'INGRESS_INVALID_PATH', 'spec.rules[0].http.paths[0].path');
});

test('ImplementationSpecific paths: empty or absolute; regex syntax is not the API server\'s business', () => {
  for (const p of ['', '/', '/a//b(.*)', '/something(/|$)(.*)', '/%2f']) ok(v1({ rules: [rule('a.com', path(p, 'ImplementationSpecific'))] }));
  rejected(v1({ rules: [rule('a.com', path('foo', 'ImplementationSpecific'))] }), 'INGRESS_INVALID_PATH', 'spec.rules[0].http.paths[0].path');
});

test('pathType is required in v1 and must be one of the three values', () => {
  rejected(v1({ rules: [rule('a.com', path('/', undefined))] }), 'INGRESS_MISSING_PATH_TYPE', 'spec.rules[0].http.paths[0].pathType');
  rejected(v1({ rules: [rule('a.com', path('/', ''))] }), 'INGRESS_MISSING_PATH_TYPE', 'spec.rules[0].http.paths[0].pathType');
  for (const t of ['prefix', 'Regex', 'exact']) {
    rejected(v1({ rules: [rule('a.com', path('/', t))] }), 'INGRESS_INVALID_PATH_TYPE', 'spec.rules[0].http.paths[0].pathType');
  }
});

test('backend: required, exactly one of service / resource', () => {
  const f = 'spec.rules[0].http.paths[0].backend';
  rejected(v1({ rules: [rule('a.com', { path: '/', pathType: 'Prefix' })] }), 'INGRESS_INVALID_BACKEND', f);
  rejected(v1({ rules: [rule('a.com', path('/', 'Prefix', {}))] }), 'INGRESS_INVALID_BACKEND', f);
  rejected(v1({ rules: [rule('a.com', path('/', 'Prefix', { ...svc(), resource: { kind: 'K', name: 'n' } }))] }), 'INGRESS_INVALID_BACKEND', f);
  rejected(v1({ rules: [rule('a.com', path('/', 'Prefix', { resource: { kind: 'K' } }))] }), 'INGRESS_INVALID_BACKEND', `${f}.resource`);
  rejected(v1({ rules: [rule('a.com', path('/', 'Prefix', { service: 'web' }))] }), 'INGRESS_INVALID_BACKEND', `${f}.service`);
  rejected(v1({ defaultBackend: {} }), 'INGRESS_INVALID_BACKEND', 'spec.defaultBackend');
  rejected(v1({ defaultBackend: 'web' }), 'INGRESS_INVALID_BACKEND', 'spec.defaultBackend');
});

test('service backend: a valid name, and exactly one of port.number (1-65535) or port.name (IANA, <= 15)', () => {
  const f = 'spec.defaultBackend.service';
  for (const port of [{ number: 1 }, { number: 65535 }, { name: 'http' }, { name: 'web-ui' }, { name: 'abcdefghijklmno' }] as JsonObject[]) ok(v1({ defaultBackend: svc('web', port) }));
  rejected(v1({ defaultBackend: svc('Web') }), 'INGRESS_INVALID_SERVICE_NAME', `${f}.name`);
  rejected(v1({ defaultBackend: { service: { port: { number: 80 } } } }), 'INGRESS_INVALID_SERVICE_NAME', `${f}.name`);
  rejected(v1({ defaultBackend: { service: { name: 'web' } } }), 'INGRESS_INVALID_SERVICE_PORT', `${f}.port`);
  rejected(v1({ defaultBackend: svc('web', {}) }), 'INGRESS_INVALID_SERVICE_PORT', `${f}.port`);
  rejected(v1({ defaultBackend: svc('web', { number: 80, name: 'http' }) }), 'INGRESS_INVALID_SERVICE_PORT', `${f}.port`);
  for (const number of [0, 65536, -1, 80.5]) rejected(v1({ defaultBackend: svc('web', { number }) }), 'INGRESS_INVALID_SERVICE_PORT', `${f}.port.number`);
  rejected(v1({ defaultBackend: svc('web', { number: '80' }) }), 'INGRESS_INVALID_SERVICE_PORT', `${f}.port.number`);
  for (const name of ['HTTP', '80', 'a--b', '-http', 'http-', 'abcdefghijklmnop', 'a_b', '']) {
    rejected(v1({ defaultBackend: svc('web', { name }) }), 'INGRESS_INVALID_SERVICE_PORT', `${f}.port.name`);
  }
  rejected(v1({ defaultBackend: svc('web', { name: 80 }) }), 'INGRESS_INVALID_SERVICE_PORT', `${f}.port.name`);
});

test('tls[].hosts[]: DNS-1123 subdomain or wildcard; tls[].secretName optional but a valid name when set', () => {
  const base = { rules: [rule('a.com', path('/', 'Prefix'))] };
  ok(v1({ ...base, tls: [{ hosts: ['a.com', '*.a.com'] }, { secretName: 'x.y' }, { hosts: [], secretName: '' }] }));
  for (const h of ['A.com', 'a b', '*', 'foo.*.com', 'a.com:443']) {
    rejected(v1({ ...base, tls: [{ hosts: ['ok.com', h], secretName: 'c' }] }), 'INGRESS_INVALID_TLS_HOST', 'spec.tls[0].hosts[1]');
  }
  rejected(v1({ ...base, tls: [{ hosts: [7] }] }), 'INGRESS_INVALID_TLS_HOST', 'spec.tls[0].hosts[0]');
  rejected(v1({ ...base, tls: [{}, { secretName: 'Bad_Name' }] }), 'INGRESS_INVALID_TLS_SECRET', 'spec.tls[1].secretName');
  rejected(v1({ ...base, tls: 'x' }), 'INGRESS_INVALID_TLS', 'spec.tls');
  rejected(v1({ ...base, tls: ['x'] }), 'INGRESS_INVALID_TLS', 'spec.tls[0]');
});

test('spec.ingressClassName must be a DNS-1123 subdomain', () => {
  rejected(v1({ ingressClassName: 'Archway', defaultBackend: svc() }), 'INGRESS_INVALID_CLASS_NAME', 'spec.ingressClassName');
  rejected(v1({ ingressClassName: 3, defaultBackend: svc() }), 'INGRESS_INVALID_CLASS_NAME', 'spec.ingressClassName');
  assert.equal(ok(v1({ ingressClassName: null, defaultBackend: svc() })).className, undefined);
});

test('annotations must be a map of strings', () => {
  rejected(v1({ defaultBackend: svc() }, { name: 'web', annotations: { 'nginx.ingress.kubernetes.io/use-regex': true } }), 'INVALID_ANNOTATIONS', 'metadata.annotations["nginx.ingress.kubernetes.io/use-regex"]');
  rejected(v1({ defaultBackend: svc() }, { name: 'web', annotations: ['a'] }), 'INVALID_ANNOTATIONS', 'metadata.annotations');
});

// ---- v1beta1 -> v1 ----

for (const apiVersion of ['networking.k8s.io/v1beta1', 'extensions/v1beta1']) {
  const beta = (spec: JsonObject) => stored({ apiVersion, kind: 'Ingress', metadata: { name: 'old' }, spec });

  test(`${apiVersion}: spec.backend -> defaultBackend; serviceName/servicePort int and string`, () => {
    const ing = ok(beta({
      backend: { serviceName: 'fallback', servicePort: 8080 },
      rules: [{ host: 'a.com', http: { paths: [{ path: '/x', backend: { serviceName: 'web', servicePort: 'http' } }, { path: '/y', pathType: 'Exact', backend: { serviceName: 'web', servicePort: 80 } }] } }],
    }));
    assert.equal(ing.apiVersion, apiVersion);
    assert.deepEqual(ing.defaultBackend, { service: { service: 'fallback', portNumber: 8080 }, field: 'spec.backend' });
    assert.deepEqual(ing.rules[0].paths, [
      // missing pathType -> ImplementationSpecific
      { path: '/x', pathType: 'ImplementationSpecific', field: 'spec.rules[0].http.paths[0]', backend: { service: { service: 'web', portName: 'http' }, field: 'spec.rules[0].http.paths[0].backend' } },
      { path: '/y', pathType: 'Exact', field: 'spec.rules[0].http.paths[1]', backend: { service: { service: 'web', portNumber: 80 }, field: 'spec.rules[0].http.paths[1].backend' } },
    ]);
  });

  test(`${apiVersion}: a rule-less Ingress with spec.backend is valid; without it the spec is empty`, () => {
    assert.ok(ok(beta({ backend: { serviceName: 'web', servicePort: 80 } })).defaultBackend);
    const diags = rejected(beta({}), 'INGRESS_EMPTY_SPEC', 'spec');
    assert.match(diags[0].message, /spec\.backend/);
    // spec.defaultBackend is not a v1beta1 field.
    rejected(beta({ defaultBackend: svc() }), 'INGRESS_EMPTY_SPEC', 'spec');
  });

  test(`${apiVersion}: invalid serviceName / servicePort reported at the v1beta1 field path`, () => {
    rejected(beta({ backend: { servicePort: 80 } }), 'INGRESS_INVALID_SERVICE_NAME', 'spec.backend.serviceName');
    rejected(beta({ backend: { serviceName: 'web' } }), 'INGRESS_INVALID_SERVICE_PORT', 'spec.backend.servicePort');
    rejected(beta({ backend: { serviceName: 'web', servicePort: 0 } }), 'INGRESS_INVALID_SERVICE_PORT', 'spec.backend.servicePort');
    rejected(beta({ backend: { serviceName: 'web', servicePort: 'HTTP' } }), 'INGRESS_INVALID_SERVICE_PORT', 'spec.backend.servicePort');
    rejected(beta({ backend: { serviceName: 'web', servicePort: 80, resource: { kind: 'K', name: 'n' } } }), 'INGRESS_INVALID_BACKEND', 'spec.backend');
    // The v1 shape is not understood in v1beta1.
    rejected(beta({ backend: svc() }), 'INGRESS_INVALID_BACKEND', 'spec.backend');
    rejected(beta({ rules: [{ host: 'a.com', http: { paths: [{ path: 'x', backend: { serviceName: 'web', servicePort: 80 } }] } }] }), 'INGRESS_INVALID_PATH', 'spec.rules[0].http.paths[0].path');
  });
}
