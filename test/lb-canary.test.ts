// Issue 6 item 4 end to end: canary Ingresses with ingress-nginx's semantics, through the annotations:
// canary-by-header (always / never), canary-by-header-value, canary-by-header-pattern, canary-by-cookie,
// canary-weight and canary-weight-total, in ingress-nginx's precedence (header, then cookie, then weight),
// and the weighted split over a few hundred real requests. Measured numbers: console.log "[measure] ...".

import assert from 'node:assert/strict';
import { Agent, request as httpRequest } from 'node:http';
import { after, before, test } from 'node:test';
import { backend, httpBackend, ingress, rule, service, startArchway, yamlDocs, type Archway, type TestServer } from './harness.ts';

type Obj = Record<string, unknown>;

let stable: TestServer;
let canary: TestServer;
let arch: Archway;
const seen = { stable: 0, canary: 0 };

/** Main Ingress `name` for `host` -> Service stable, and its canary -> Service canary with these canary-* annotations. */
function pair(name: string, host: string, canaryAnnotations: Record<string, string>): Obj[] {
  const a: Record<string, string> = { 'nginx.ingress.kubernetes.io/canary': 'true' };
  for (const [k, v] of Object.entries(canaryAnnotations)) a[`nginx.ingress.kubernetes.io/${k}`] = v;
  return [
    ingress(name, { rules: [rule(host, [['/', 'Prefix', backend('stable')]])] }, { creationTimestamp: '2024-01-01T00:00:00Z' }),
    ingress(`${name}-canary`, { rules: [rule(host, [['/', 'Prefix', backend('canary')]])] }, { annotations: a, creationTimestamp: '2024-02-01T00:00:00Z' }),
  ];
}

before(async () => {
  const named = (name: 'stable' | 'canary') => httpBackend((req, res) => {
    seen[name]++;
    req.resume();
    res.writeHead(200, { 'x-backend': name }).end(name);
  });
  stable = await named('stable');
  canary = await named('canary');
  arch = await startArchway({
    'svc.yaml': yamlDocs(service('stable', stable.port), service('canary', canary.port)),
    'ing.yaml': yamlDocs(
      pair('all', 'all.test', { 'canary-by-header': 'X-Canary', 'canary-by-cookie': 'canary', 'canary-weight': '20' }),
      pair('value', 'value.test', { 'canary-by-header': 'X-Canary', 'canary-by-header-value': 'beta', 'canary-by-cookie': 'canary' }),
      pair('pattern', 'pattern.test', { 'canary-by-header': 'X-Canary', 'canary-by-header-pattern': '^(beta|internal)-', 'canary-by-cookie': 'canary' }),
      pair('total', 'total.test', { 'canary-weight': '300', 'canary-weight-total': '1000' }),
      pair('full', 'full.test', { 'canary-weight': '100' }),
      pair('zero', 'zero.test', { 'canary-by-header': 'X-Canary', 'canary-weight': '0' }),
    ),
  });
  assert.deepEqual(arch.diagnostics.filter((d) => d.severity !== 'info'), []);
});
after(async () => {
  await arch?.stop();
  await stable?.close();
  await canary?.close();
});

const agent = new Agent({ keepAlive: true, maxSockets: 8 });
after(() => agent.destroy());

function via(host: string, headers: Record<string, string> = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port: arch.port, path: '/', headers: { host, ...headers }, agent, timeout: 5000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode === 200 ? String(res.headers['x-backend']) : `HTTP ${res.statusCode}`));
    });
    req.on('timeout', () => req.destroy(new Error('no answer within 5 s')));
    req.on('error', reject);
    req.end();
  });
}

test('precedence: header always/never beats cookie, cookie always/never beats weight; other values fall through', async () => {
  const cases: Array<[string, string, Record<string, string>, string]> = [
    ['header always', 'all.test', { 'x-canary': 'always' }, 'canary'],
    ['header always beats cookie never', 'all.test', { 'x-canary': 'always', cookie: 'canary=never' }, 'canary'],
    ['header never beats cookie always', 'all.test', { 'x-canary': 'never', cookie: 'canary=always' }, 'stable'],
    ['header never beats weight', 'all.test', { 'x-canary': 'never' }, 'stable'],
    ['header value is case-sensitive (ALWAYS falls through to the cookie)', 'all.test', { 'x-canary': 'ALWAYS', cookie: 'canary=never' }, 'stable'],
    ['other header value falls through to cookie always', 'all.test', { 'x-canary': 'maybe', cookie: 'canary=always' }, 'canary'],
    ['cookie always', 'all.test', { cookie: 'a=b; canary=always' }, 'canary'],
    ['cookie never beats weight', 'all.test', { cookie: 'canary=never' }, 'stable'],
    ['header-value: exact value', 'value.test', { 'x-canary': 'beta' }, 'canary'],
    ['header-value: another value falls through (weight 0)', 'value.test', { 'x-canary': 'beta2' }, 'stable'],
    ['header-value: always is just another value', 'value.test', { 'x-canary': 'always' }, 'stable'],
    ['header-value: no match, then cookie always', 'value.test', { 'x-canary': 'gamma', cookie: 'canary=always' }, 'canary'],
    ['header-value: match beats cookie never', 'value.test', { 'x-canary': 'beta', cookie: 'canary=never' }, 'canary'],
    ['header-pattern: matches beta-7', 'pattern.test', { 'x-canary': 'beta-7' }, 'canary'],
    ['header-pattern: matches internal-x', 'pattern.test', { 'x-canary': 'internal-x' }, 'canary'],
    ['header-pattern: no match for gamma-1', 'pattern.test', { 'x-canary': 'gamma-1' }, 'stable'],
    ['header-pattern: no match, then cookie always', 'pattern.test', { 'x-canary': 'gamma-1', cookie: 'canary=always' }, 'canary'],
    ['header-pattern: case-sensitive, as ngx.re.match (BETA-1 does not match)', 'pattern.test', { 'x-canary': 'BETA-1' }, 'stable'],
    ['header-pattern: match beats cookie never', 'pattern.test', { 'x-canary': 'beta-1', cookie: 'canary=never' }, 'canary'],
    ['weight 0 with header always', 'zero.test', { 'x-canary': 'always' }, 'canary'],
    ['weight 0 without header', 'zero.test', {}, 'stable'],
    ['weight 100', 'full.test', {}, 'canary'],
    ['weight 100: a header is not configured here', 'full.test', { 'x-canary': 'never' }, 'canary'],
  ];
  for (const [name, host, headers, expected] of cases) {
    // Each deterministic case several times: a weighted coin must not be what decides it.
    for (let i = 0; i < 10; i++) assert.equal(await via(host, headers), expected, name);
  }
  console.log(`[measure] e2e canary precedence: ${cases.length} cases x 10 requests, all as ingress-nginx decides`);
});

test('weighted split over 500 requests each: canary-weight 20 (of 100) and 300 of canary-weight-total 1000', { timeout: 20_000 }, async () => {
  for (const [host, expected, label] of [['all.test', 0.2, 'canary-weight 20/100'], ['total.test', 0.3, 'canary-weight 300/1000']] as const) {
    const n = 500;
    const before = { ...seen };
    const results = await Promise.all(Array.from({ length: 8 }, async (_, w) => {
      const out: string[] = [];
      for (let i = w; i < n; i += 8) out.push(await via(host));
      return out;
    }));
    const all = results.flat();
    assert.equal(all.length, n);
    assert.deepEqual(all.filter((b) => b !== 'stable' && b !== 'canary'), []);
    const toCanary = all.filter((b) => b === 'canary').length;
    assert.equal(seen.canary - before.canary, toCanary, 'the canary backend saw exactly those requests');
    const share = toCanary / n;
    console.log(`[measure] e2e canary ${label}: ${toCanary} of ${n} requests to the canary = ${(share * 100).toFixed(1)}% (expected ${expected * 100}%)`);
    // Binomial sd at most 2.05 points for n = 500: 10 points is nearly 5 sd.
    assert.ok(Math.abs(share - expected) < 0.1, `${label}: ${(share * 100).toFixed(1)}%`);
  }
});
