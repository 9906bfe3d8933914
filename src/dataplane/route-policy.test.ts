// Per-route upstream policy at run time (issue 6 items 2, 3, 4, 5): compiled annotations, hash-key
// templates, endpoint selection with affinity cookies, canary decisions, idempotency. Pure: requests are
// parsed heads, `now` is passed in. Measured numbers are printed with console.log ("[measure] ...").

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CanaryAction, EndpointAddress, UpstreamPolicy } from '../snapshot/table.ts';
import { BackendGroup, type Endpoint } from './backends.ts';
import type { ForwardContext } from './forward-headers.ts';
import { parseRequestHead, type RequestHead } from './http1/request-head.ts';
import { compileHashKey, compilePolicy, cookieValue, defaultPolicy, headerValue, isIdempotent, selectEndpoint, useCanary, type PolicyDefaults, type RuntimePolicy } from './route-policy.ts';

const DEFAULTS: PolicyDefaults = { loadBalance: 'round_robin', connectTimeoutMs: 5000, readTimeoutMs: 60_000, sendTimeoutMs: 60_000, bodySizeLimit: 0, retryBodyLimit: 65_536 };
const CTX: ForwardContext = { clientIp: '192.0.2.7', trusted: false, proto: 'http', local: '127.0.0.1:80', port: '80' };
const NOW = Date.UTC(2030, 0, 1, 12, 0, 0);

function req(target: string, headers: Array<[string, string]> = [], method = 'GET'): RequestHead {
  const text = `${method} ${target} HTTP/1.1\r\nHost: app.example.com\r\n${headers.map(([n, v]) => `${n}: ${v}\r\n`).join('')}\r\n`;
  const b = Buffer.from(text, 'latin1');
  return parseRequestHead(b, 0, b.length);
}

function addrs(n: number, from = 1): EndpointAddress[] {
  return Array.from({ length: n }, (_, i) => ({ address: `10.1.0.${from + i}`, port: 8080 }));
}

/** A backend group as a separate Archway instance would build it (its own live-state registry). */
function instance(endpoints: EndpointAddress[]): BackendGroup {
  return new BackendGroup('ns/app:80', { service: 'ns/app', port: '80', endpoints, problem: null }, new Map<string, Endpoint>());
}

const pct = (x: number) => `${(x * 100).toFixed(2)}%`;

// ---- compiled policies ----

test('defaultPolicy: controller defaults, retries on error and timeout, 3 tries, no affinity or hashing', () => {
  const p = defaultPolicy({ ...DEFAULTS, loadBalance: 'ewma' });
  assert.deepEqual(p, {
    lb: 'ewma', hashKey: null, affinity: null, connectTimeoutMs: 5000, readTimeoutMs: 60_000, sendTimeoutMs: 60_000, bodySizeLimit: 0,
    upstreamVhost: null, tls: null, retryOnError: true, retryOnTimeout: true, retryStatuses: [], retryNonIdempotent: false, tries: 3,
  });
});

test('compilePolicy: annotation values override the controller defaults; absent ones keep them', () => {
  const p = compilePolicy({ loadBalance: 'least_request', connectTimeoutMs: 1000, readTimeoutMs: 2000, sendTimeoutMs: 3000, bodySizeLimit: 1024, upstreamVhost: 'internal.svc' }, DEFAULTS);
  assert.equal(p.lb, 'least_request');
  assert.deepEqual([p.connectTimeoutMs, p.readTimeoutMs, p.sendTimeoutMs, p.bodySizeLimit, p.upstreamVhost], [1000, 2000, 3000, 1024, 'internal.svc']);
  const q = compilePolicy({ readTimeoutMs: 7000 }, DEFAULTS);
  assert.deepEqual([q.lb, q.connectTimeoutMs, q.readTimeoutMs, q.bodySizeLimit], ['round_robin', 5000, 7000, 0]);
  assert.equal(compilePolicy({ bodySizeLimit: 0 }, { ...DEFAULTS, bodySizeLimit: 10 }).bodySizeLimit, 0, 'proxy-body-size: 0 = unlimited overrides the flag');
});

test('compilePolicy: proxy-next-upstream conditions and tries', () => {
  const p = compilePolicy({ nextUpstream: { conditions: ['error', 'http_502', 'http_504', 'non_idempotent'], tries: 5 } }, DEFAULTS);
  assert.deepEqual([p.retryOnError, p.retryOnTimeout, p.retryStatuses, p.retryNonIdempotent, p.tries], [true, false, [502, 504], true, 5]);
  const off = compilePolicy({ nextUpstream: { conditions: [], tries: 0 } }, DEFAULTS);
  assert.deepEqual([off.retryOnError, off.retryOnTimeout, off.retryStatuses, off.tries], [false, false, [], 1], 'off: one attempt only');
  const t = compilePolicy({ nextUpstream: { conditions: ['timeout', 'http_503'], tries: 2 } }, DEFAULTS);
  assert.deepEqual([t.retryOnError, t.retryOnTimeout, t.retryStatuses, t.tries], [false, true, [503], 2]);
});

test('compilePolicy: HTTPS backends get TLS settings; verification only with proxy-ssl-verify; pool keys differ', () => {
  const a = compilePolicy({ backendProtocol: 'HTTPS' }, DEFAULTS).tls;
  const b = compilePolicy({ backendProtocol: 'HTTPS', sslVerify: true, sslCa: 'PEM', sslName: 'api.internal' }, DEFAULTS).tls;
  assert.deepEqual(a && { ...a, poolKey: '' }, { servername: '', rejectUnauthorized: false, ca: undefined, poolKey: '' });
  assert.deepEqual(b && { ...b, poolKey: '' }, { servername: 'api.internal', rejectUnauthorized: true, ca: 'PEM', poolKey: '' });
  assert.notEqual(a!.poolKey, b!.poolKey);
  assert.equal(compilePolicy({ backendProtocol: 'HTTP' }, DEFAULTS).tls, null);
});

// ---- hash keys ----

test('compileHashKey: $request_uri, $remote_addr, $host, $http_<name>, $cookie_<name> and literal text', () => {
  const r = req('/cart/items?id=42', [['X-User-Id', 'u-17'], ['Cookie', 'a=1; SessionID=s-99; b=2']]);
  assert.equal(compileHashKey('$request_uri')(r, CTX), '/cart/items?id=42');
  assert.equal(compileHashKey('$remote_addr')(r, CTX), '192.0.2.7');
  assert.equal(compileHashKey('$host')(r, CTX), 'app.example.com');
  assert.equal(compileHashKey('$http_x_user_id')(r, CTX), 'u-17');
  assert.equal(compileHashKey('$cookie_SessionID')(r, CTX), 's-99');
  assert.equal(compileHashKey('tenant:$http_x_user_id/$cookie_SessionID!')(r, CTX), 'tenant:u-17/s-99!');
  assert.equal(compileHashKey('$http_x_missing|$cookie_none')(r, CTX), '|', 'missing values are empty');
  assert.equal(compileHashKey('constant')(r, CTX), 'constant');
});

// Found by this test while the model started writing `${name}` (every request hashed to one endpoint); fixed in a66cce3.
test('compileHashKey: nginx\'s braced form ${name} (what the annotation model writes into the table)', () => {
  const r = req('/cart?id=1', [['X-Tenant', 'acme'], ['Cookie', 'SessionID=s-1']]);
  assert.equal(compileHashKey('${request_uri}')(r, CTX), '/cart?id=1');
  assert.equal(compileHashKey('${http_x_tenant}-${cookie_SessionID}')(r, CTX), 'acme-s-1');
  // The consequence: with a braced key, 1000 different URIs must not all land on one endpoint.
  const g = instance(addrs(10));
  const p = compilePolicy({ hashBy: '${request_uri}' }, DEFAULTS);
  const seen = new Set<string>();
  for (let i = 0; i < 1000; i++) seen.add(selectEndpoint(g, p, req(`/item/${i}`), CTX, NOW, null)!.endpoint.key);
  assert.equal(seen.size, 10, `1000 URIs went to ${seen.size} endpoint(s)`);
});

test('headerValue / cookieValue: case-insensitive names, first value, several Cookie headers, spaces', () => {
  const r = req('/', [['x-canary', 'always'], ['X-Canary', 'never'], ['Cookie', 'a=1'], ['cookie', ' b = 2 ;c=3=3']]);
  assert.equal(headerValue(r, 'x-canary'), 'always');
  assert.equal(headerValue(r, 'x-none'), undefined);
  assert.equal(cookieValue(r, 'a'), '1');
  assert.equal(cookieValue(r, 'b'), '2');
  assert.equal(cookieValue(r, 'c'), '3=3');
  assert.equal(cookieValue(r, 'd'), undefined);
});

// ---- endpoint selection: hashing ----

test('selectEndpoint with upstream-hash-by: same key, same endpoint (on every instance); retries leave the ring', () => {
  const p = compilePolicy({ hashBy: '$request_uri' }, DEFAULTS);
  const a = instance(addrs(10));
  const b = instance(addrs(10).reverse());
  const used = new Set<string>();
  for (let i = 0; i < 500; i++) {
    const r = req(`/doc/${i}`);
    const ea = selectEndpoint(a, p, r, CTX, NOW, null)!;
    assert.equal(ea.setCookie, '');
    assert.equal(selectEndpoint(a, p, r, CTX, NOW, null)!.endpoint, ea.endpoint);
    assert.equal(selectEndpoint(b, p, r, CTX, NOW, null)!.endpoint.key, ea.endpoint.key);
    used.add(ea.endpoint.key);
    // A retry (the first endpoint failed) goes to another endpoint.
    assert.notEqual(selectEndpoint(a, p, r, CTX, NOW, ea.endpoint)!.endpoint, ea.endpoint);
  }
  assert.equal(used.size, 10);
});

// ---- endpoint selection: affinity cookies ----

function affinityPolicy(mode: 'balanced' | 'persistent', extra: Partial<NonNullable<UpstreamPolicy['affinity']>> = {}): RuntimePolicy {
  return compilePolicy({ affinity: { name: 'INGRESSCOOKIE', path: '/', secure: false, mode, ...extra } }, DEFAULTS);
}

function setCookieValue(line: string): string {
  const m = /^Set-Cookie: INGRESSCOOKIE=([^;]*);/.exec(line);
  assert.ok(m, `Set-Cookie line: ${JSON.stringify(line)}`);
  return m[1];
}

test('affinity cookie attributes: Path, Max-Age, SameSite, Secure, HttpOnly, Expires from now', () => {
  const g = instance(addrs(3));
  const line = (extra: Partial<NonNullable<UpstreamPolicy['affinity']>>) => selectEndpoint(g, affinityPolicy('persistent', extra), req('/'), CTX, NOW, null)!.setCookie;
  const e = g.endpoints;
  assert.match(line({}), new RegExp(`^Set-Cookie: INGRESSCOOKIE=(${e.map((x) => x.cookie).join('|')}); Path=/; HttpOnly\\r\\n$`));
  const full = line({ path: '/shop', maxAge: 3600, expires: 7200, sameSite: 'Strict', secure: true });
  assert.match(full, /^Set-Cookie: INGRESSCOOKIE=[0-9a-f]{16}; Path=\/shop; Max-Age=3600; SameSite=Strict; Secure; HttpOnly; Expires=Tue, 01 Jan 2030 14:00:00 GMT\r\n$/);
  assert.match(line({ sameSite: 'None' }), /; SameSite=None; Secure; HttpOnly\r\n$/, 'SameSite=None requires Secure');
  assert.match(line({ sameSite: 'Lax' }), /; SameSite=Lax; HttpOnly\r\n$/);
  const named = compilePolicy({ affinity: { name: 'route', path: '/', secure: false, mode: 'balanced' } }, DEFAULTS);
  assert.match(selectEndpoint(g, named, req('/'), CTX, NOW, null)!.setCookie, /^Set-Cookie: route=[0-9a-f]{16}; Path=\/; HttpOnly\r\n$/);
});

test('persistent affinity: the cookie names the endpoint; every instance honours it; no new cookie while it is valid', () => {
  const p = affinityPolicy('persistent');
  const a = instance(addrs(10));
  const b = instance(addrs(10).reverse());
  const chosen = new Set<string>();
  for (let i = 0; i < 50; i++) {
    const first = selectEndpoint(a, p, req('/'), CTX, NOW, null)!;
    const value = setCookieValue(first.setCookie);
    assert.equal(value, first.endpoint.cookie);
    chosen.add(first.endpoint.key);
    const withCookie = req('/', [['Cookie', `other=x; INGRESSCOOKIE=${value}`]]);
    for (const g of [a, b]) {
      const again = selectEndpoint(g, p, withCookie, CTX, NOW, null)!;
      assert.equal(again.endpoint.key, first.endpoint.key);
      assert.equal(again.setCookie, '');
    }
  }
  assert.ok(chosen.size >= 9, 'new sessions are balanced (round robin)');
});

test('persistent affinity: endpoint gone or ejected: another one and an updated cookie; unknown value: a new cookie', () => {
  const p = affinityPolicy('persistent');
  const all = addrs(5);
  const a = instance(all);
  const target = a.endpoints[2];
  const withCookie = req('/', [['Cookie', `INGRESSCOOKIE=${target.cookie}`]]);
  // Endpoint removed (a new table on any instance).
  const without = instance(all.filter((_, i) => i !== 2));
  const moved = selectEndpoint(without, p, withCookie, CTX, NOW, null)!;
  assert.notEqual(moved.endpoint.key, target.key);
  assert.equal(setCookieValue(moved.setCookie), moved.endpoint.cookie);
  // Endpoint ejected by passive health.
  target.ejectedUntil = NOW + 1000;
  const away = selectEndpoint(a, p, withCookie, CTX, NOW, null)!;
  assert.notEqual(away.endpoint, target);
  assert.equal(setCookieValue(away.setCookie), away.endpoint.cookie);
  target.ejectedUntil = 0;
  assert.equal(selectEndpoint(a, p, withCookie, CTX, NOW, null)!.endpoint, target, 'back after the ejection');
  // Garbage / forged values.
  for (const v of ['', 'zzzz', '0123456789abcdef', target.cookie.toUpperCase()]) {
    const s = selectEndpoint(a, p, req('/', [['Cookie', `INGRESSCOOKIE=${v}`]]), CTX, NOW, null)!;
    assert.equal(setCookieValue(s.setCookie), s.endpoint.cookie, `value ${JSON.stringify(v)}`);
  }
});

test('persistent affinity with upstream-hash-by: new sessions are placed by the hash key', () => {
  const p = compilePolicy({ hashBy: '$http_x_user', affinity: { name: 'INGRESSCOOKIE', path: '/', secure: false, mode: 'persistent' } }, DEFAULTS);
  const g = instance(addrs(10));
  const r = req('/', [['X-User', 'alice']]);
  const e = selectEndpoint(g, p, r, CTX, NOW, null)!.endpoint;
  for (let i = 0; i < 20; i++) assert.equal(selectEndpoint(g, p, r, CTX, NOW, null)!.endpoint, e);
  assert.equal(e, g.pickByHash('alice', NOW));
});

test('balanced affinity: a random session key, consistently hashed: the same cookie maps to the same endpoint on every instance', () => {
  const p = affinityPolicy('balanced');
  const a = instance(addrs(10));
  const b = instance(addrs(10).reverse());
  const counts = new Map<string, number>();
  const sessions = new Set<string>();
  for (let i = 0; i < 10_000; i++) {
    const s = selectEndpoint(a, p, req('/'), CTX, NOW, null)!;
    const v = setCookieValue(s.setCookie);
    assert.match(v, /^[0-9a-f]{16}$/);
    sessions.add(v);
    counts.set(s.endpoint.key, (counts.get(s.endpoint.key) ?? 0) + 1);
    if (i < 300) {
      const withCookie = req('/', [['Cookie', `INGRESSCOOKIE=${v}`]]);
      for (const g of [a, b]) {
        const again = selectEndpoint(g, p, withCookie, CTX, NOW, null)!;
        assert.equal(again.endpoint.key, s.endpoint.key);
        assert.equal(again.setCookie, '');
      }
    }
  }
  assert.equal(sessions.size, 10_000, 'session keys are unique');
  const v = [...counts.values()].map((c) => c / 10_000);
  console.log(`[measure] unit balanced affinity: 10,000 new sessions over 10 endpoints, max share ${pct(Math.max(...v))}, min share ${pct(Math.min(...v))}`);
  assert.equal(counts.size, 10);
  assert.ok(Math.min(...v) > 0.06 && Math.max(...v) < 0.14);
  // A malformed value gets a fresh session.
  const bad = selectEndpoint(a, p, req('/', [['Cookie', 'INGRESSCOOKIE=not-hex!']]), CTX, NOW, null)!;
  assert.match(setCookieValue(bad.setCookie), /^[0-9a-f]{16}$/);
});

test('affinity and retries: a retry (failed endpoint excluded) goes to another endpoint', () => {
  for (const mode of ['balanced', 'persistent'] as const) {
    const p = affinityPolicy(mode);
    const g = instance(addrs(4));
    const first = selectEndpoint(g, p, req('/'), CTX, NOW, null)!;
    const retry = selectEndpoint(g, p, req('/', [['Cookie', `INGRESSCOOKIE=${setCookieValue(first.setCookie)}`]]), CTX, NOW, first.endpoint)!;
    assert.notEqual(retry.endpoint, first.endpoint, mode);
  }
});


test('affinity and retries: the endpoint that serves a retried request gets the session (a new cookie, as ingress-nginx)', () => {
  for (const mode of ['balanced', 'persistent'] as const) {
    const p = affinityPolicy(mode);
    const g = instance(addrs(4));
    const first = selectEndpoint(g, p, req('/'), CTX, NOW, null)!;
    const retry = selectEndpoint(g, p, req('/', [['Cookie', `INGRESSCOOKIE=${setCookieValue(first.setCookie)}`]]), CTX, NOW, first.endpoint)!;
    assert.notEqual(retry.setCookie, '', `${mode}: a new cookie for the endpoint that serves`);
    const v = setCookieValue(retry.setCookie);
    const again = selectEndpoint(g, p, req('/', [['Cookie', `INGRESSCOOKIE=${v}`]]), CTX, NOW, null)!;
    assert.equal(again.endpoint, retry.endpoint, `${mode}: the new cookie leads to the endpoint that served`);
  }
});

test('no endpoints: selection is null (503) for every mode', () => {
  const g = instance([]);
  for (const p of [defaultPolicy(DEFAULTS), affinityPolicy('balanced'), affinityPolicy('persistent'), compilePolicy({ hashBy: '$host' }, DEFAULTS)]) {
    assert.equal(selectEndpoint(g, p, req('/'), CTX, NOW, null), null);
  }
});

// ---- canaries ----

function canary(c: Partial<CanaryAction>): CanaryAction {
  return { backend: 'ns/canary:80', ingress: 'ns/canary', weight: 0, weightTotal: 100, ...c };
}

test('canary precedence (ingress-nginx): header always/never, then cookie always/never, then weight', () => {
  const all = canary({ byHeader: 'X-Canary', byCookie: 'canary', weight: 100 });
  const none = canary({ byHeader: 'X-Canary', byCookie: 'canary', weight: 0 });
  const cases: Array<[string, CanaryAction, Array<[string, string]>, boolean]> = [
    ['header always beats cookie never', none, [['X-Canary', 'always'], ['Cookie', 'canary=never']], true],
    ['header never beats cookie always', all, [['X-Canary', 'never'], ['Cookie', 'canary=always']], false],
    ['header never beats weight 100', all, [['X-Canary', 'never']], false],
    ['header name is case-insensitive', none, [['x-canary', 'always']], true],
    ['header value is case-sensitive: ALWAYS is not always', none, [['X-Canary', 'ALWAYS']], false],
    ['other header value: falls through to cookie always', none, [['X-Canary', 'maybe'], ['Cookie', 'canary=always']], true],
    ['other header value: falls through to cookie never', all, [['X-Canary', 'maybe'], ['Cookie', 'canary=never']], false],
    ['cookie always beats weight 0', none, [['Cookie', 'x=1; canary=always']], true],
    ['cookie never beats weight 100', all, [['Cookie', 'canary=never']], false],
    ['other cookie value: falls through to weight 100', all, [['Cookie', 'canary=yes']], true],
    ['other cookie value: falls through to weight 0', none, [['Cookie', 'canary=yes']], false],
    ['nothing: weight 100', all, [], true],
    ['nothing: weight 0', none, [], false],
    ['header without canary-by-header configured is ignored', canary({ byCookie: 'canary' }), [['X-Canary', 'always']], false],
    ['cookie without canary-by-cookie configured is ignored', canary({ byHeader: 'X-Canary' }), [['Cookie', 'canary=always']], false],
  ];
  for (const [name, c, headers, expected] of cases) {
    for (let i = 0; i < 20; i++) assert.equal(useCanary(c, req('/', headers)), expected, name);
  }
});

test('canary-by-header-value: only that exact value routes to the canary; anything else falls through to cookie and weight', () => {
  const c = canary({ byHeader: 'X-Canary', byHeaderValue: 'beta', byCookie: 'canary', weight: 0 });
  const cases: Array<[Array<[string, string]>, boolean]> = [
    [[['X-Canary', 'beta']], true],
    [[['X-Canary', 'Beta']], false],
    [[['X-Canary', 'beta2']], false],
    [[['X-Canary', 'always']], false], // with a value configured, always/never mean nothing
    [[['X-Canary', 'never'], ['Cookie', 'canary=always']], true],
    [[['X-Canary', 'alpha'], ['Cookie', 'canary=always']], true],
    [[['X-Canary', 'beta'], ['Cookie', 'canary=never']], true],
  ];
  for (const [headers, expected] of cases) assert.equal(useCanary(c, req('/', headers)), expected, JSON.stringify(headers));
});

test('canary-by-header-pattern: a regex match routes to the canary (unanchored, as ngx.re.match); no match falls through', () => {
  const c = canary({ byHeader: 'X-Canary', byHeaderPattern: '^(beta|internal)-.*$', byCookie: 'canary', weight: 0 });
  assert.equal(useCanary(c, req('/', [['X-Canary', 'beta-7']])), true);
  assert.equal(useCanary(c, req('/', [['X-Canary', 'internal-x']])), true);
  assert.equal(useCanary(c, req('/', [['X-Canary', 'xbeta-7']])), false);
  assert.equal(useCanary(c, req('/', [['X-Canary', 'always']])), false);
  assert.equal(useCanary(c, req('/', [['X-Canary', 'gamma'], ['Cookie', 'canary=always']])), true);
  const loose = canary({ byHeader: 'X-Canary', byHeaderPattern: 'beta' });
  assert.equal(useCanary(loose, req('/', [['X-Canary', 'pre-beta-post']])), true, 'unanchored search');
  const broken = canary({ byHeader: 'X-Canary', byHeaderPattern: '(a', byCookie: 'canary' });
  assert.equal(useCanary(broken, req('/', [['X-Canary', 'a']])), false, 'an invalid pattern never matches');
  assert.equal(useCanary(broken, req('/', [['X-Canary', 'a'], ['Cookie', 'canary=always']])), true);
});

// ingress-nginx: ngx.re.match(header, pattern) without the "i" flag (was case-insensitive until a66cce3).
test('canary-by-header-pattern is case-sensitive, as in ingress-nginx', () => {
  const c = canary({ byHeader: 'X-Canary', byHeaderPattern: '^beta$' });
  assert.equal(useCanary(c, req('/', [['X-Canary', 'beta']])), true);
  assert.equal(useCanary(c, req('/', [['X-Canary', 'BETA']])), false);
});

test('canary weight accuracy over 10,000 decisions', () => {
  const cases: Array<[number, number]> = [[10, 100], [50, 100], [1, 100], [25, 1000], [333, 1000], [0, 100], [100, 100]];
  for (const [weight, weightTotal] of cases) {
    const c = canary({ weight, weightTotal });
    const r = req('/');
    let n = 0;
    for (let i = 0; i < 10_000; i++) if (useCanary(c, r)) n++;
    const expected = weight / weightTotal;
    const got = n / 10_000;
    console.log(`[measure] unit canary weight ${weight}/${weightTotal}: ${n} of 10,000 to the canary = ${pct(got)} (expected ${pct(expected)}, error ${((got - expected) * 100).toFixed(2)} points)`);
    // Binomial sd at most 0.5 %: 2 points is more than 4 sd.
    assert.ok(Math.abs(got - expected) < 0.02, `weight ${weight}/${weightTotal}: ${pct(got)}`);
    if (weight === 0) assert.equal(n, 0);
    if (weight === weightTotal) assert.equal(n, 10_000);
  }
});

// ---- retries ----

test('isIdempotent: GET HEAD OPTIONS TRACE PUT DELETE may be retried after being sent; POST PATCH CONNECT may not', () => {
  for (const m of ['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']) assert.equal(isIdempotent(m), true, m);
  for (const m of ['POST', 'PATCH', 'CONNECT', 'get', 'PROPFIND']) assert.equal(isIdempotent(m), false, m);
});
