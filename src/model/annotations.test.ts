// readSettings: the ingress-nginx annotations Archway understands. An invalid value is a warning and
// that annotation alone is ignored; the Ingress is still served (INGRESS-SEMANTICS.md "rewrite-target").

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Diagnostic } from './diagnostics.ts';
import { ObjectStore, type StoredObject } from './objects.ts';
import { normalizeIngress, type Ingress } from './ingress.ts';
import { readSettings } from './annotations.ts';
import { build } from './build.ts';

const P = 'nginx.ingress.kubernetes.io/';

function stored(annotations: Record<string, string>): StoredObject {
  return {
    kind: 'Ingress', apiVersion: 'networking.k8s.io/v1', namespace: 'default', name: 'web', origin: { file: 'a.yaml', line: 7 },
    raw: {
      apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: 'web', annotations },
      spec: { rules: [{ host: 'a.com', http: { paths: [{ path: '/app', pathType: 'ImplementationSpecific', backend: { service: { name: 'web', port: { number: 80 } } } }] } }] },
    },
  };
}

function ingress(annotations: Record<string, string>): Ingress {
  const d: Diagnostic[] = [];
  const ing = normalizeIngress(stored(annotations), d);
  assert.deepEqual(d, []);
  return ing!;
}

function settings(annotations: Record<string, string>) {
  const diags: Diagnostic[] = [];
  return { s: readSettings(ingress(annotations), diags), diags };
}

/** The annotation is rejected: one ANNOTATION_INVALID warning naming it, and the setting stays unset. */
function invalid(key: string, value: string) {
  const { s, diags } = settings({ [P + key]: value });
  assert.equal(diags.length, 1, `${key}=${JSON.stringify(value)} must be rejected`);
  assert.equal(diags[0].code, 'ANNOTATION_INVALID');
  assert.equal(diags[0].severity, 'warning');
  assert.equal(diags[0].field, `metadata.annotations[${JSON.stringify(P + key)}]`);
  assert.equal(diags[0].object, 'Ingress default/web');
  assert.equal(diags[0].file, 'a.yaml');
  assert.equal(diags[0].line, 7);
  assert.match(diags[0].message, /ignored/);
  return s;
}

test('no annotations: defaults', () => {
  const { s, diags } = settings({});
  assert.deepEqual(s, { useRegex: false, rewriteTarget: undefined, appRoot: undefined, xForwardedPrefix: undefined, sslRedirect: true, forceSslRedirect: false });
  assert.deepEqual(diags, []);
});

test('rewrite-target: A-Z a-z 0-9 - . _ ~ / : $ accepted', () => {
  for (const t of ['/', '/$2', '/api/$1', '/a-b.c_d~e', 'https://x', '/$1/$2', 'ABC/xyz09']) {
    const { s, diags } = settings({ [P + 'rewrite-target']: t });
    assert.deepEqual(diags, [], t);
    assert.equal(s.rewriteTarget, t);
  }
});

test('rewrite-target: any other character rejected and the annotation ignored', () => {
  for (const t of ['/a b', '/a;b', '/${1}', '/a?b=1', '/a#b', '/a%20', "/a'", '/a"', '/a\nb', '/a{b}', '/a\\b', '/é', '/a,b']) {
    assert.equal(invalid('rewrite-target', t).rewriteTarget, undefined, JSON.stringify(t));
  }
});

test('rewrite-target: an empty value is rejected (ingress-nginx treats empty annotation values as invalid)', () => {
  assert.equal(invalid('rewrite-target', '').rewriteTarget, undefined);
});

test('use-regex: "true" / "false"; anything else warns and stays false', () => {
  assert.equal(settings({ [P + 'use-regex']: 'true' }).s.useRegex, true);
  assert.equal(settings({ [P + 'use-regex']: 'false' }).s.useRegex, false);
  for (const v of ['yes', '', 'on', 'truex']) assert.equal(invalid('use-regex', v).useRegex, false, v);
});

test('app-root: an absolute path', () => {
  assert.equal(settings({ [P + 'app-root']: '/app1' }).s.appRoot, '/app1');
  assert.equal(settings({ [P + 'app-root']: '/a/b-c.d_e~' }).s.appRoot, '/a/b-c.d_e~');
  for (const v of ['app1', '', '/a b', 'http://evil.com/', '/a?b', '/a;b', '/$1']) assert.equal(invalid('app-root', v).appRoot, undefined, v);
});

test('x-forwarded-prefix: a plain string value', () => {
  assert.equal(settings({ [P + 'x-forwarded-prefix']: '/api' }).s.xForwardedPrefix, '/api');
  assert.equal(settings({ [P + 'x-forwarded-prefix']: 'v1' }).s.xForwardedPrefix, 'v1');
  for (const v of ['', '/a b', '/a\r\nX-Injected: 1', '/a;b']) assert.equal(invalid('x-forwarded-prefix', v).xForwardedPrefix, undefined, JSON.stringify(v));
});

test('one bad annotation does not disturb the others', () => {
  const { s, diags } = settings({ [P + 'rewrite-target']: '/a b', [P + 'use-regex']: 'true', [P + 'app-root']: '/home', [P + 'x-forwarded-prefix']: '/p' });
  assert.equal(diags.length, 1);
  assert.deepEqual(s, { useRegex: true, rewriteTarget: undefined, appRoot: '/home', xForwardedPrefix: '/p', sslRedirect: true, forceSslRedirect: false });
});

test('ssl-redirect and force-ssl-redirect: "true"/"false", anything else warned and defaulted', () => {
  assert.deepEqual(settings({ [P + 'ssl-redirect']: 'false', [P + 'force-ssl-redirect']: 'true' }).s.sslRedirect, false);
  assert.equal(settings({ [P + 'force-ssl-redirect']: 'true' }).s.forceSslRedirect, true);
  const { s, diags } = settings({ [P + 'ssl-redirect']: 'no' });
  assert.equal(s.sslRedirect, true);
  assert.equal(diags.length, 1);
  assert.match(diags[0].field!, /ssl-redirect/);
});

test('annotations of other prefixes are not read', () => {
  const { s, diags } = settings({ 'example.com/rewrite-target': '/ x', 'nginx.org/rewrite-target': '/' });
  assert.deepEqual(diags, []);
  assert.equal(s.rewriteTarget, undefined);
});

test('an Ingress with an invalid annotation is still served, without that setting', () => {
  const store = new ObjectStore();
  store.set(stored({ [P + 'rewrite-target']: '/a b', [P + 'app-root']: 'relative' }));
  const m = build(store, { controllerName: 'archway.dev/ingress-controller', ingressClass: 'archway', watchWithoutClass: true });
  assert.equal(m.served.length, 1);
  assert.deepEqual(m.diagnostics.filter((d) => d.code === 'ANNOTATION_INVALID').map((d) => d.field), [
    `metadata.annotations["${P}app-root"]`,
    `metadata.annotations["${P}rewrite-target"]`,
  ]);
  const host = m.hosts.find((h) => h.host === 'a.com')!;
  assert.equal(host.appRoot, undefined);
  assert.equal(host.routes.length, 1);
  // The ignored rewrite-target neither rewrites nor switches the ImplementationSpecific path to regex mode.
  assert.equal(host.routes[0].match, 'prefix');
  assert.equal(host.routes[0].target.rewrite, undefined);
});
