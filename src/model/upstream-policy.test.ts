// Upstream annotations (issue 6): every parser's valid values, each invalid form, the defaults, and
// readPolicy's reporting (one ANNOTATION_INVALID warning per bad annotation, which alone is ignored).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import type { Diagnostic } from './diagnostics.ts';
import { ObjectStore, type JsonObject, type StoredObject } from './objects.ts';
import { normalizeIngress, type Ingress } from './ingress.ts';
import { generateCertificate } from '../tls/certificates.ts';
import {
  canaryPolicy, defaultCookiePath, parseAffinityMode, parseBackendProtocol, parseBool, parseCookiePath, parseCookieSeconds, parseHashBy,
  parseHostPort, parseLoadBalance, parseNextUpstream, parseOnOff, parseSameSite, parseSecretRef, parseServerName, parseSize,
  parseTimeoutSeconds, parseToken, parseTries, readPolicy, routePolicy, MAX_TIMEOUT_SECONDS, UNLIMITED_TRIES, type Parsed,
} from './upstream-policy.ts';

const P = 'nginx.ingress.kubernetes.io/';

function value<T>(r: Parsed<T>, label = ''): T {
  assert.ok('value' in r, `${label}: expected a value, got ${JSON.stringify(r)}`);
  return r.value;
}

function problem<T>(r: Parsed<T>, label = ''): string {
  assert.ok('problem' in r, `${label}: expected a problem, got ${JSON.stringify(r)}`);
  return r.problem;
}

test('load-balance: the four policies; least_conn and anything else rejected', () => {
  for (const v of ['round_robin', 'least_request', 'ewma', 'random']) assert.equal(value(parseLoadBalance(v), v), v);
  assert.match(problem(parseLoadBalance('least_conn')), /least_request/);
  for (const v of ['', 'RoundRobin', 'round-robin', 'ROUND_ROBIN', 'chash', 'ewma ']) problem(parseLoadBalance(v), v);
});

test('upstream-hash-by: variables braced in the canonical form, literal text kept', () => {
  const cases: Array<[string, string]> = [
    ['$request_uri', '${request_uri}'],
    ['${request_uri}', '${request_uri}'],
    ['$request_uri$host', '${request_uri}${host}'],
    ['${request_uri}-text-value', '${request_uri}-text-value'],
    ['$remote_addr', '${remote_addr}'],
    ['$http_x_api_key', '${http_x_api_key}'],
    ['$HTTP_X_Api_Key', '${http_x_api_key}'],
    ['$Host', '${host}'],
    ['$cookie_SessionID', '${cookie_SessionID}'],
    ['user:${cookie_sid}/${http_x_tenant}', 'user:${cookie_sid}/${http_x_tenant}'],
    ['${host}abc', '${host}abc'],
    ['{$host}', '{${host}}'],
  ];
  for (const [v, want] of cases) assert.equal(value(parseHashBy(v), v), want);
});

test('upstream-hash-by: unknown variables, bare $, no variable, bad characters rejected', () => {
  assert.match(problem(parseHashBy('$uri')), /unknown variable \$uri/);
  assert.match(problem(parseHashBy('$request_uri_x')), /unknown variable \$request_uri_x/);
  assert.match(problem(parseHashBy('$http_')), /unknown variable/);
  assert.match(problem(parseHashBy('$cookie_')), /unknown variable/);
  assert.match(problem(parseHashBy('$binary_remote_addr')), /unknown variable/);
  assert.match(problem(parseHashBy('a$')), /position 2/);
  assert.match(problem(parseHashBy('${host')), /position 1/);
  assert.match(problem(parseHashBy('${}')), /does not start a variable/);
  assert.match(problem(parseHashBy('$ host')), /does not start a variable/);
  assert.match(problem(parseHashBy('constant')), /no variable/);
  assert.match(problem(parseHashBy('')), /empty/);
  assert.match(problem(parseHashBy('$host\n')), /printable/);
  assert.match(problem(parseHashBy('$host' + 'x'.repeat(300))), /at most/);
});

test('proxy-*-timeout: whole seconds to milliseconds', () => {
  assert.equal(value(parseTimeoutSeconds('60')), 60_000);
  assert.equal(value(parseTimeoutSeconds('1')), 1000);
  assert.equal(value(parseTimeoutSeconds(String(MAX_TIMEOUT_SECONDS))), MAX_TIMEOUT_SECONDS * 1000);
  assert.ok(MAX_TIMEOUT_SECONDS * 1000 <= 0x7fffffff, 'fits a Node timer');
  assert.match(problem(parseTimeoutSeconds('60s')), /write "60"/);
  for (const v of ['0', '', '-5', '1.5', '1m', ' 60', String(MAX_TIMEOUT_SECONDS + 1), '1e3']) problem(parseTimeoutSeconds(v), v);
});

test('proxy-body-size: nginx sizes in bytes; 0 means unlimited', () => {
  const cases: Array<[string, number]> = [['0', 0], ['1024', 1024], ['512k', 512 * 1024], ['512K', 512 * 1024], ['8m', 8 * 1024 ** 2], ['8M', 8 * 1024 ** 2], ['1g', 1024 ** 3], ['2G', 2 * 1024 ** 3]];
  for (const [v, n] of cases) assert.equal(value(parseSize(v), v), n);
  for (const v of ['', '8mb', '8 m', '-1', '1.5m', 'm', '8t', '99999999999999999999g']) problem(parseSize(v), v);
});

test('upstream-vhost: host, IPv4 or [IPv6], optional port; lowercased', () => {
  const cases: Array<[string, string]> = [['api.internal', 'api.internal'], ['API.Internal', 'api.internal'], ['api.internal:8080', 'api.internal:8080'],
    ['10.0.0.1', '10.0.0.1'], ['10.0.0.1:80', '10.0.0.1:80'], ['[fd00::1]', '[fd00::1]'], ['[FD00::1]:8443', '[fd00::1]:8443'], ['localhost', 'localhost']];
  for (const [v, want] of cases) assert.equal(value(parseHostPort(v), v), want);
  for (const v of ['', 'a b', 'api.internal:0', 'api.internal:65536', 'api.internal:', 'http://api', 'api/x', '$host', 'a\r\nX-Evil: 1', 'fd00::1', '[zz::1]', '-bad.com', 'a_b.com', 'a:1:2']) {
    problem(parseHostPort(v), JSON.stringify(v));
  }
});

test('proxy-ssl-name: a DNS name, lowercased', () => {
  assert.equal(value(parseServerName('Backend.Internal')), 'backend.internal');
  for (const v of ['', 'a b', '*.x.com', 'x.com:443', '10.0.0.1.', 'a..b']) problem(parseServerName(v), v);
});

test('booleans: "true"/"false"; proxy-ssl-verify also "on"/"off"', () => {
  assert.equal(value(parseBool('true')), true);
  assert.equal(value(parseBool('false')), false);
  for (const v of ['', 'True', 'yes', 'on', '1']) problem(parseBool(v), v);
  assert.equal(value(parseOnOff('on')), true);
  assert.equal(value(parseOnOff('true')), true);
  assert.equal(value(parseOnOff('off')), false);
  assert.equal(value(parseOnOff('false')), false);
  for (const v of ['', 'ON', 'yes', '1', 'optional']) problem(parseOnOff(v), v);
});

test('backend-protocol: HTTP / HTTPS in any case; ingress-nginx\'s other protocols are "not supported"', () => {
  assert.equal(value(parseBackendProtocol('HTTPS')), 'HTTPS');
  assert.equal(value(parseBackendProtocol('https')), 'HTTPS');
  assert.equal(value(parseBackendProtocol('HTTP')), 'HTTP');
  for (const v of ['GRPC', 'grpcs', 'AJP', 'FCGI', 'AUTO_HTTP']) assert.match(problem(parseBackendProtocol(v)), /not supported/, v);
  for (const v of ['', 'H2C', 'TCP', 'HTTPS ']) assert.match(problem(parseBackendProtocol(v)), /must be HTTP or HTTPS/, v);
});

test('cookie names and header names are tokens', () => {
  for (const v of ['INGRESSCOOKIE', 'route', 'X-Canary', 'a.b_c~d!']) assert.equal(value(parseToken(v), v), v);
  for (const v of ['', 'a b', 'a;b', 'a=b', 'a,b', '"a"', 'é', 'a\tb', 'x'.repeat(257)]) problem(parseToken(v), JSON.stringify(v));
});

test('session-cookie-path: an absolute path without ; or spaces', () => {
  for (const v of ['/', '/app', '/a/b-c.d_e~', '/a%20b']) assert.equal(value(parseCookiePath(v), v), v);
  for (const v of ['', 'app', '/a b', '/a;Domain=evil.com', '/a\nb', '/é']) problem(parseCookiePath(v), JSON.stringify(v));
});

test('session-cookie-max-age / -expires: whole seconds', () => {
  assert.equal(value(parseCookieSeconds('0')), 0);
  assert.equal(value(parseCookieSeconds('172800')), 172800);
  for (const v of ['', '-1', '1.5', '1h', '99999999999']) problem(parseCookieSeconds(v), v);
});

test('session-cookie-samesite: Strict, Lax, None in any case, written canonically', () => {
  assert.equal(value(parseSameSite('strict')), 'Strict');
  assert.equal(value(parseSameSite('LAX')), 'Lax');
  assert.equal(value(parseSameSite('None')), 'None');
  for (const v of ['', 'none ', 'Sometimes', 'true']) problem(parseSameSite(v), v);
});

test('affinity-mode: balanced or persistent', () => {
  assert.equal(value(parseAffinityMode('balanced')), 'balanced');
  assert.equal(value(parseAffinityMode('persistent')), 'persistent');
  for (const v of ['', 'Balanced', 'sticky']) problem(parseAffinityMode(v), v);
});

test('proxy-next-upstream: the supported conditions in canonical order; ingress-nginx-only ones listed; off alone', () => {
  assert.deepEqual(value(parseNextUpstream('error timeout')), { conditions: ['error', 'timeout'], unsupported: [] });
  assert.deepEqual(value(parseNextUpstream('http_504  non_idempotent error http_502 http_503 timeout error')), {
    conditions: ['error', 'timeout', 'http_502', 'http_503', 'http_504', 'non_idempotent'], unsupported: [],
  });
  assert.deepEqual(value(parseNextUpstream('error http_500 invalid_header http_429 http_403 http_404')), {
    conditions: ['error'], unsupported: ['invalid_header', 'http_500', 'http_403', 'http_404', 'http_429'],
  });
  assert.deepEqual(value(parseNextUpstream('off')), { conditions: [], unsupported: [] });
  assert.match(problem(parseNextUpstream('off error')), /cannot be combined/);
  assert.match(problem(parseNextUpstream('error http_418')), /"http_418"/);
  for (const v of ['', '   ', 'error,timeout', 'ERROR']) problem(parseNextUpstream(v), JSON.stringify(v));
});

test('proxy-next-upstream-tries: whole number, 0 = unlimited', () => {
  assert.equal(value(parseTries('3')), 3);
  assert.equal(value(parseTries('1')), 1);
  assert.equal(value(parseTries('0')), UNLIMITED_TRIES);
  assert.equal(value(parseTries(String(UNLIMITED_TRIES))), UNLIMITED_TRIES);
  for (const v of ['', '-1', '2.5', 'three', String(UNLIMITED_TRIES + 1)]) problem(parseTries(v), v);
});

test('proxy-ssl-secret: namespace/name in the Ingress namespace', () => {
  assert.deepEqual(value(parseSecretRef('apps/backend-ca', 'apps')), { namespace: 'apps', name: 'backend-ca' });
  assert.match(problem(parseSecretRef('other/backend-ca', 'apps')), /other namespaces/);
  for (const v of ['', 'backend-ca', 'apps/', '/x', 'apps/a/b', 'Apps/x', 'apps/X']) problem(parseSecretRef(v, 'apps'), v);
});

// --- readPolicy over an Ingress -------------------------------------------------------------------

function ingress(annotations: Record<string, string>): Ingress {
  const o: StoredObject = {
    kind: 'Ingress', apiVersion: 'networking.k8s.io/v1', namespace: 'apps', name: 'web', origin: { file: 'w.yaml', line: 3 },
    raw: {
      apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: 'web', namespace: 'apps', annotations },
      spec: { rules: [{ host: 'a.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port: { number: 80 } } } }] } }] },
    },
  };
  const d: Diagnostic[] = [];
  const ing = normalizeIngress(o, d);
  assert.deepEqual(d, []);
  return ing!;
}

function read(annotations: Record<string, string>, store = new ObjectStore(), canary = false) {
  const diags: Diagnostic[] = [];
  const s = readPolicy(ingress(annotations), store, diags, canary);
  return { s, diags };
}

/** One ANNOTATION_INVALID warning at the annotation, and that setting is not in the result. */
function rejected(name: string, v: string, extra: Record<string, string> = {}) {
  const { s, diags } = read({ [P + name]: v, ...extra });
  assert.equal(diags.length, 1, `${name}=${JSON.stringify(v)}: ${JSON.stringify(diags)}`);
  assert.deepEqual({ ...diags[0], message: '' }, {
    code: 'ANNOTATION_INVALID', severity: 'warning', message: '', file: 'w.yaml', line: 3, object: 'Ingress apps/web', field: `metadata.annotations["${P}${name}"]`,
  });
  assert.match(diags[0].message, /ignored/);
  return s;
}

test('no annotations: nothing set, and no policy on the route', () => {
  const { s, diags } = read({});
  assert.deepEqual(s, { serviceUpstream: false });
  assert.deepEqual(diags, []);
  assert.equal(routePolicy(s, '/'), undefined);
});

test('every annotation read into its field', () => {
  const { s, diags } = read({
    [P + 'load-balance']: 'ewma', [P + 'upstream-hash-by']: '$remote_addr', [P + 'proxy-connect-timeout']: '5', [P + 'proxy-read-timeout']: '120',
    [P + 'proxy-send-timeout']: '30', [P + 'proxy-body-size']: '8m', [P + 'upstream-vhost']: 'internal.example.com', [P + 'backend-protocol']: 'HTTPS',
    [P + 'proxy-ssl-verify']: 'on', [P + 'proxy-ssl-name']: 'web.apps.svc', [P + 'proxy-next-upstream']: 'error timeout http_503',
    [P + 'proxy-next-upstream-tries']: '2', [P + 'service-upstream']: 'true', 'other.io/load-balance': 'nonsense',
  });
  assert.deepEqual(diags, []);
  assert.deepEqual(s, {
    serviceUpstream: true, loadBalance: 'ewma', hashBy: '${remote_addr}', connectTimeoutMs: 5000, readTimeoutMs: 120_000, sendTimeoutMs: 30_000,
    bodySizeLimit: 8 * 1024 * 1024, upstreamVhost: 'internal.example.com', backendProtocol: 'HTTPS', sslVerify: true, sslName: 'web.apps.svc',
    nextUpstream: { conditions: ['error', 'timeout', 'http_503'], tries: 2 },
  });
});

test('each invalid annotation is reported alone and ignored', () => {
  const cases: Array<[string, string]> = [
    ['load-balance', 'least_conn'], ['upstream-hash-by', '$uri'], ['proxy-connect-timeout', '5s'], ['proxy-read-timeout', '0'], ['proxy-send-timeout', 'x'],
    ['proxy-body-size', '8mb'], ['upstream-vhost', 'a b'], ['backend-protocol', 'GRPC'], ['proxy-ssl-verify', 'yes'], ['proxy-ssl-name', '*.x'],
    ['proxy-ssl-secret', 'other/ca'], ['proxy-next-upstream', 'sometimes'], ['proxy-next-upstream-tries', '-1'], ['service-upstream', 'yes'], ['affinity', 'ip'],
  ];
  for (const [name, v] of cases) assert.deepEqual(rejected(name, v), { serviceUpstream: false }, name);
});

test('one bad annotation does not disturb the others', () => {
  const { s, diags } = read({ [P + 'proxy-read-timeout']: '60s', [P + 'proxy-send-timeout']: '10', [P + 'load-balance']: 'magic', [P + 'proxy-body-size']: '1k' });
  assert.deepEqual(diags.map((d) => d.field), [`metadata.annotations["${P}load-balance"]`, `metadata.annotations["${P}proxy-read-timeout"]`]);
  assert.deepEqual(s, { serviceUpstream: false, sendTimeoutMs: 10_000, bodySizeLimit: 1024 });
});

test('affinity: cookie with ingress-nginx defaults; cookie settings without affinity are ignored silently', () => {
  assert.deepEqual(read({ [P + 'affinity']: 'cookie' }).s.affinity, { name: 'INGRESSCOOKIE', secure: false, mode: 'balanced' });
  const all = read({
    [P + 'affinity']: 'cookie', [P + 'session-cookie-name']: 'route', [P + 'session-cookie-path']: '/shop', [P + 'session-cookie-max-age']: '3600',
    [P + 'session-cookie-expires']: '7200', [P + 'session-cookie-samesite']: 'lax', [P + 'session-cookie-secure']: 'true', [P + 'affinity-mode']: 'persistent',
  });
  assert.deepEqual(all.diags, []);
  assert.deepEqual(all.s.affinity, { name: 'route', path: '/shop', maxAge: 3600, expires: 7200, sameSite: 'Lax', secure: true, mode: 'persistent' });
  const none = read({ [P + 'session-cookie-name']: 'bad name', [P + 'affinity-mode']: 'nope' });
  assert.deepEqual(none, { s: { serviceUpstream: false }, diags: [] });
});

test('affinity: each invalid cookie setting is reported and falls back to its default', () => {
  const cases: Array<[string, string]> = [['session-cookie-name', 'a;b'], ['session-cookie-path', 'shop'], ['session-cookie-max-age', '1h'],
    ['session-cookie-expires', '-5'], ['session-cookie-samesite', 'Sometimes'], ['session-cookie-secure', 'yes'], ['affinity-mode', 'sticky']];
  for (const [name, v] of cases) {
    const s = rejected(name, v, { [P + 'affinity']: 'cookie' });
    assert.deepEqual(s.affinity, { name: 'INGRESSCOOKIE', secure: false, mode: 'balanced' }, name);
  }
});

test('proxy-next-upstream: defaults filled when only one of the pair is set; unsupported conditions warned', () => {
  assert.deepEqual(read({ [P + 'proxy-next-upstream-tries']: '5' }).s.nextUpstream, { conditions: ['error', 'timeout'], tries: 5 });
  assert.deepEqual(read({ [P + 'proxy-next-upstream-tries']: '0' }).s.nextUpstream, { conditions: ['error', 'timeout'], tries: UNLIMITED_TRIES });
  assert.deepEqual(read({ [P + 'proxy-next-upstream']: 'off' }).s.nextUpstream, { conditions: [], tries: 3 });
  const { s, diags } = read({ [P + 'proxy-next-upstream']: 'error http_500' });
  assert.deepEqual(s.nextUpstream, { conditions: ['error'], tries: 3 });
  assert.equal(diags.length, 1);
  assert.match(diags[0].message, /http_500: not supported/);
  // Both invalid: no nextUpstream at all.
  assert.equal(read({ [P + 'proxy-next-upstream']: 'x', [P + 'proxy-next-upstream-tries']: 'y' }).s.nextUpstream, undefined);
});

function caSecret(store: ObjectStore, name: string, data: JsonObject, stringData?: JsonObject, ns = 'apps') {
  const raw: JsonObject = { apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: ns }, data };
  if (stringData) raw.stringData = stringData;
  store.set({ kind: 'Secret', apiVersion: 'v1', namespace: ns, name, raw });
}

test('proxy-ssl-secret: the CA bundle from ca.crt (base64 data or stringData); problems reported', () => {
  const pem = generateCertificate({ commonName: 'backend-ca', isCA: true }).cert;
  assert.ok(new X509Certificate(pem));
  const store = new ObjectStore();
  caSecret(store, 'b64', { 'ca.crt': Buffer.from(pem).toString('base64') });
  caSecret(store, 'plain', {}, { 'ca.crt': `# comment\n${pem}` });
  caSecret(store, 'nokey', { 'tls.crt': 'eA==' });
  caSecret(store, 'garbage', { 'ca.crt': Buffer.from('not a certificate').toString('base64') });
  caSecret(store, 'broken', {}, { 'ca.crt': '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----' });
  caSecret(store, 'notb64', { 'ca.crt': '%%%' });

  for (const name of ['b64', 'plain']) {
    const { s, diags } = read({ [P + 'proxy-ssl-secret']: `apps/${name}` }, store);
    assert.deepEqual(diags, [], name);
    assert.equal(s.sslCa, pem.trim() + '\n', name);
  }
  const cases: Array<[string, RegExp]> = [['missing', /not found/], ['nokey', /no "ca.crt"/], ['garbage', /no PEM CERTIFICATE/], ['broken', /does not parse/], ['notb64', /base64/]];
  for (const [name, re] of cases) {
    const { s, diags } = read({ [P + 'proxy-ssl-secret']: `apps/${name}` }, store);
    assert.equal(s.sslCa, undefined, name);
    assert.equal(diags.length, 1, name);
    assert.equal(diags[0].code, 'ANNOTATION_INVALID');
    assert.match(diags[0].message, re, name);
  }
});

test('a canary Ingress reads only the upstream annotations; the others are reported as inherited (info)', () => {
  const { s, diags } = read({
    [P + 'load-balance']: 'random', [P + 'affinity']: 'cookie', [P + 'service-upstream']: 'true', [P + 'proxy-read-timeout']: '5',
    [P + 'rewrite-target']: '/', [P + 'proxy-body-size']: 'garbage',
  }, new ObjectStore(), true);
  assert.deepEqual(s, { serviceUpstream: true, loadBalance: 'random', affinity: { name: 'INGRESSCOOKIE', secure: false, mode: 'balanced' } });
  assert.deepEqual(diags.map((d) => `${d.severity} ${d.code} ${d.field}`), [
    `info CANARY_ANNOTATION_INHERITED metadata.annotations["${P}proxy-read-timeout"]`,
    `info CANARY_ANNOTATION_INHERITED metadata.annotations["${P}proxy-body-size"]`,
    `info CANARY_ANNOTATION_INHERITED metadata.annotations["${P}rewrite-target"]`,
  ]);
});

test('default cookie path: the rule path (Prefix without trailing slash), / for regex, empty and unsafe paths', () => {
  assert.equal(defaultCookiePath('/shop', 'prefix'), '/shop');
  assert.equal(defaultCookiePath('/shop/', 'prefix'), '/shop');
  assert.equal(defaultCookiePath('/', 'prefix'), '/');
  assert.equal(defaultCookiePath('', 'prefix'), '/');
  assert.equal(defaultCookiePath('/shop/', 'exact'), '/shop/');
  assert.equal(defaultCookiePath('/shop(/|$)(.*)', 'regex'), '/');
  assert.equal(defaultCookiePath('/a;b', 'prefix'), '/');
  assert.equal(defaultCookiePath(undefined, undefined), '/');
});

test('routePolicy: the cookie path filled in; explicit session-cookie-path wins', () => {
  const s = read({ [P + 'affinity']: 'cookie', [P + 'proxy-read-timeout']: '9' }).s;
  assert.deepEqual(routePolicy(s, '/shop'), { affinity: { name: 'INGRESSCOOKIE', path: '/shop', secure: false, mode: 'balanced' }, readTimeoutMs: 9000 });
  const explicit = read({ [P + 'affinity']: 'cookie', [P + 'session-cookie-path']: '/' }).s;
  assert.equal(routePolicy(explicit, '/shop')!.affinity!.path, '/');
});

test('canaryPolicy: balancing and affinity from the canary, everything else from the main route', () => {
  const main = routePolicy(read({ [P + 'load-balance']: 'ewma', [P + 'affinity']: 'cookie', [P + 'proxy-read-timeout']: '9', [P + 'proxy-next-upstream-tries']: '1' }).s, '/a')!;
  const own = read({ [P + 'upstream-hash-by']: '$host' }, new ObjectStore(), true).s;
  assert.deepEqual(canaryPolicy(own, main, '/a'), { hashBy: '${host}', readTimeoutMs: 9000, nextUpstream: { conditions: ['error', 'timeout'], tries: 1 } });
  assert.equal(canaryPolicy({ serviceUpstream: false }, undefined, '/'), undefined);
  assert.deepEqual(canaryPolicy(read({ [P + 'affinity']: 'cookie' }, new ObjectStore(), true).s, undefined, '/a'), {
    affinity: { name: 'INGRESSCOOKIE', path: '/a', secure: false, mode: 'balanced' },
  });
});
