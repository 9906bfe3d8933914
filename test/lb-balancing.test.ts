// Issue 6 items 1-3 end to end: balancing policies over 10 real endpoints (evenness per policy), least_request
// and ewma steering away from a slow endpoint, consistent hashing (upstream-hash-by) and its stability when an
// endpoint is removed, sticky sessions across two Archway instances and a restart, cookie attributes, a new
// cookie when the endpoint is gone. Everything through ingress-nginx annotations on manifests, one in-process
// Archway per scenario, backends on 127.0.0.1 ephemeral ports. Measured numbers: console.log "[measure] ...".

import assert from 'node:assert/strict';
import { Agent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { backend, httpBackend, ingress, rule, sleep, startArchway, yamlDocs, type Archway, type TestServer } from './harness.ts';

// ---------------------------------------------------------------------------------------------
// Helpers (kept in this file: test/harness.ts belongs to the cross-layer suite)

interface Tagged extends TestServer {
  name: string;
  /** Requests this backend answered. */
  hits: number;
}

/** A backend that names itself in `x-backend` and answers after `delayMs`. */
async function tagged(name: string, delayMs = 0): Promise<Tagged> {
  const out = { name, hits: 0 } as Tagged;
  const srv = await httpBackend((req, res) => {
    out.hits++;
    req.resume();
    req.on('end', () => {
      const send = () => res.writeHead(200, { 'x-backend': name, 'content-type': 'text/plain' }).end(name);
      if (delayMs > 0) setTimeout(send, delayMs);
      else send();
    });
  });
  return Object.assign(out, { port: srv.port, close: () => srv.close(), get connections() { return srv.connections; } });
}

type Obj = Record<string, unknown>;

/** Service `name` (port 80 -> the endpoints' port named http) and its Endpoints: 127.0.0.1 at each port. */
function svc(name: string, ports: number[]): Obj[] {
  return [
    { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default' }, spec: { ports: [{ name: 'http', port: 80, targetPort: 'http' }] } },
    endpointsOf(name, ports),
  ];
}

function endpointsOf(name: string, ports: number[]): Obj {
  return {
    apiVersion: 'v1', kind: 'Endpoints', metadata: { name, namespace: 'default' },
    subsets: ports.map((port) => ({ addresses: [{ ip: '127.0.0.1' }], ports: [{ name: 'http', port }] })),
  };
}

/** An Ingress for `host` -> Service `service`, with annotations (prefix added). */
function ing(name: string, host: string, service: string, annotations: Record<string, string> = {}, path = '/'): Obj {
  const a: Record<string, string> = {};
  for (const [k, v] of Object.entries(annotations)) a[`nginx.ingress.kubernetes.io/${k}`] = v;
  return ingress(name, { rules: [rule(host, [[path, 'Prefix', backend(service)]])] }, { annotations: a, creationTimestamp: '2024-01-01T00:00:00Z' });
}

interface Answer {
  status: number;
  backend: string;
  headers: IncomingHttpHeaders;
}

function get(agent: Agent | false, port: number, host: string, path: string, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, headers: { host, ...headers }, agent, timeout: 5000 }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, backend: String(res.headers['x-backend'] ?? `HTTP ${res.statusCode}`), headers: res.headers }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer for ${host}${path} within 5 s`)));
    req.on('error', reject);
    req.end();
  });
}

/** `n` requests with `concurrency` keep-alive clients; returns the answers in request order. */
async function load(port: number, host: string, n: number, concurrency: number, path: (i: number) => string = () => '/'): Promise<Answer[]> {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const out: Answer[] = new Array(n);
  let next = 0;
  try {
    await Promise.all(Array.from({ length: concurrency }, async () => {
      while (next < n) {
        const i = next++;
        out[i] = await get(agent, port, host, path(i));
      }
    }));
  } finally {
    agent.destroy();
  }
  return out;
}

function countBy(answers: Answer[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const a of answers) m.set(a.backend, (m.get(a.backend) ?? 0) + 1);
  return m;
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

/** Waits until the controller swapped in a new table (a manifest edit was applied). */
async function applied(arch: Archway, swapsBefore: number): Promise<void> {
  const until = Date.now() + 5000;
  while (arch.running.controller.counters.tableSwaps <= swapsBefore) {
    if (Date.now() > until) throw new Error('manifest edit not applied within 5 s');
    await sleep(10);
  }
}

// ---------------------------------------------------------------------------------------------

describe('balancing policies over 10 endpoints', () => {
  let ten: Tagged[];
  let five: Tagged[];
  let arch: Archway;

  before(async () => {
    ten = await Promise.all(Array.from({ length: 10 }, (_, i) => tagged(`t${i}`)));
    // Five more; s2 answers after 100 ms.
    five = await Promise.all(Array.from({ length: 5 }, (_, i) => tagged(`s${i}`, i === 2 ? 100 : 0)));
    arch = await startArchway({
      'svc.yaml': yamlDocs(svc('ten', ten.map((b) => b.port)), svc('five', five.map((b) => b.port))),
      'hash-svc.yaml': yamlDocs(svc('hashed', ten.map((b) => b.port))),
      'ing.yaml': yamlDocs(
        ing('rr', 'rr.test', 'ten', { 'load-balance': 'round_robin' }),
        ing('random', 'random.test', 'ten', { 'load-balance': 'random' }),
        ing('lr', 'least-request.test', 'ten', { 'load-balance': 'least_request' }),
        ing('ewma', 'ewma.test', 'ten', { 'load-balance': 'ewma' }),
        ing('default', 'default.test', 'ten'),
        ing('slow-rr', 'slow-rr.test', 'five', { 'load-balance': 'round_robin' }),
        ing('slow-lr', 'slow-lr.test', 'five', { 'load-balance': 'least_request' }),
        ing('slow-ewma', 'slow-ewma.test', 'five', { 'load-balance': 'ewma' }),
        ing('hash', 'hash.test', 'hashed', { 'upstream-hash-by': '$request_uri' }),
      ),
    }, ['--load-balance', 'random']);
    assert.deepEqual(arch.diagnostics.filter((d) => d.severity !== 'info'), []);
  });
  after(async () => {
    await arch?.stop();
    await Promise.all([...(ten ?? []), ...(five ?? [])].map((b) => b.close()));
  });

  test('each policy spreads 1000 requests (10 keep-alive clients) evenly over 10 endpoints', { timeout: 30_000 }, async () => {
    for (const [policy, host] of [['round_robin', 'rr.test'], ['random', 'random.test'], ['least_request', 'least-request.test'], ['ewma', 'ewma.test'], ['random (--load-balance default)', 'default.test']]) {
      const answers = await load(arch.port, host, 1000, 10);
      assert.deepEqual(answers.filter((a) => a.status !== 200), [], `${policy}: every request answered 200`);
      const counts = countBy(answers);
      const shares = [...counts.values()].map((c) => c / 1000);
      const max = Math.max(...shares);
      const min = counts.size < 10 ? 0 : Math.min(...shares);
      console.log(`[measure] e2e distribution ${policy}: 10 endpoints, 1000 requests, max share ${pct(max)}, min share ${pct(min)}, counts ${[...counts.entries()].sort().map(([k, v]) => `${k}=${v}`).join(' ')}`);
      if (policy === 'round_robin') {
        assert.deepEqual([...counts.values()], Array(10).fill(100), 'round robin is exact');
      } else if (policy === 'ewma') {
        // Identical endpoints: peak EWMA follows real latency noise (a GC pause makes an endpoint look slow,
        // and its score decays over 10 s), so its split is not uniform by design; no herding, though.
        assert.ok(counts.size >= 8 && max <= 0.35, `${policy}: ${counts.size} endpoints used, shares up to ${pct(max)}`);
      } else {
        assert.equal(counts.size, 10, `${policy}: every endpoint served`);
        // Fair share 100 of 1000, binomial sd 9.5: 50..150 is more than 5 sd.
        assert.ok(min >= 0.05 && max <= 0.15, `${policy}: shares ${pct(min)}..${pct(max)}`);
      }
    }
  });

  test('least_request and ewma send little to an endpoint that answers after 100 ms (1 of 5); round robin gives it 20 %', { timeout: 30_000 }, async () => {
    const slow = five[2];
    for (const [policy, host] of [['least_request', 'slow-lr.test'], ['ewma', 'slow-ewma.test'], ['round_robin', 'slow-rr.test']]) {
      const before = slow.hits;
      const t0 = performance.now();
      const answers = await load(arch.port, host, 400, 10);
      const ms = performance.now() - t0;
      assert.deepEqual(answers.filter((a) => a.status !== 200), []);
      const share = (slow.hits - before) / answers.length;
      console.log(`[measure] e2e slow endpoint (100 ms, 1 of 5, 400 requests, 10 clients) ${policy}: slow share ${pct(share)} (fair 20%), ${(400 / (ms / 1000)).toFixed(0)} req/s`);
      if (policy === 'round_robin') assert.ok(Math.abs(share - 0.2) < 0.01, `round robin: ${pct(share)}`);
      else assert.ok(share < 0.1, `${policy} sent ${pct(share)} of requests to the slow endpoint`);
    }
  });

  test('upstream-hash-by $request_uri: a URI always reaches the same endpoint; removing 1 of 10 endpoints moves ~1/10 of URIs, only the removed endpoint\'s', { timeout: 30_000 }, async () => {
    const uris = Array.from({ length: 300 }, (_, i) => `/catalog/${i}?page=${i % 7}`);
    const first = await load(arch.port, 'hash.test', uris.length, 10, (i) => uris[i]);
    const again = await load(arch.port, 'hash.test', uris.length, 10, (i) => uris[i]);
    const owner = new Map(uris.map((u, i) => [u, first[i].backend]));
    for (let i = 0; i < uris.length; i++) assert.equal(again[i].backend, first[i].backend, `${uris[i]} moved without any change`);
    const counts = countBy(first);
    const shares = [...counts.values()].map((c) => c / uris.length);
    console.log(`[measure] e2e hash ring: 300 URIs over 10 endpoints, max share ${pct(Math.max(...shares))}, min share ${pct(Math.min(...shares))}`);
    assert.equal(counts.size, 10, 'URIs spread over all endpoints');

    // Remove t3 from the Service's endpoints (the endpoint fast lane).
    const removed = ten[3];
    const swaps = arch.running.controller.counters.tableSwaps;
    await writeFile(join(arch.dir, 'hash-svc.yaml'), yamlDocs(svc('hashed', ten.filter((b) => b !== removed).map((b) => b.port))));
    await applied(arch, swaps);
    const after = await load(arch.port, 'hash.test', uris.length, 10, (i) => uris[i]);
    let moved = 0;
    for (let i = 0; i < uris.length; i++) {
      assert.equal(after[i].status, 200);
      assert.notEqual(after[i].backend, removed.name);
      if (after[i].backend !== owner.get(uris[i])) {
        moved++;
        assert.equal(owner.get(uris[i]), removed.name, `${uris[i]} moved from ${owner.get(uris[i])}, which is still there, to ${after[i].backend}`);
      }
    }
    const removedShare = (counts.get(removed.name) ?? 0) / uris.length;
    console.log(`[measure] e2e hash stability N=10, one endpoint removed: ${moved} of ${uris.length} URIs moved = ${pct(moved / uris.length)} (ideal 10%; the removed endpoint had ${pct(removedShare)}); URIs of remaining endpoints moved: 0`);
    assert.equal(moved, counts.get(removed.name), 'exactly the removed endpoint\'s URIs moved');
    assert.ok(moved / uris.length < 0.2);
  });
});

// ---------------------------------------------------------------------------------------------

describe('sticky sessions (affinity: cookie)', () => {
  let five: Tagged[];
  let crashy: Tagged[];
  let files: Record<string, string>;
  const started: Archway[] = [];

  function manifests(ports: number[]): Record<string, string> {
    return {
      'svc.yaml': yamlDocs(svc('app', ports)),
      'crashy.yaml': yamlDocs(svc('crashy', crashy.map((b) => b.port))),
      'ing.yaml': yamlDocs(
        ing('persistent', 'persistent.test', 'app', {
          affinity: 'cookie', 'affinity-mode': 'persistent', 'session-cookie-name': 'SRV', 'session-cookie-path': '/shop',
          'session-cookie-max-age': '3600', 'session-cookie-expires': '7200', 'session-cookie-samesite': 'Strict', 'session-cookie-secure': 'true',
        }, '/shop'),
        ing('balanced', 'balanced.test', 'app', { affinity: 'cookie' }),
        ing('balanced-path', 'balanced-path.test', 'app', { affinity: 'cookie', 'affinity-mode': 'balanced', 'session-cookie-samesite': 'None' }, '/app'),
        ing('crash', 'crash.test', 'crashy', { affinity: 'cookie', 'affinity-mode': 'persistent' }),
      ),
    };
  }

  async function start(f: Record<string, string>): Promise<Archway> {
    const a = await startArchway(f);
    started.push(a);
    assert.deepEqual(a.diagnostics.filter((d) => d.severity !== 'info'), []);
    return a;
  }

  before(async () => {
    five = await Promise.all(Array.from({ length: 5 }, (_, i) => tagged(`a${i}`)));
    crashy = await Promise.all(Array.from({ length: 2 }, (_, i) => tagged(`c${i}`)));
    files = manifests(five.map((b) => b.port));
  });
  after(async () => {
    for (const a of started) await a.stop();
    await Promise.all([...(five ?? []), ...(crashy ?? [])].map((b) => b.close()));
  });

  function cookieOf(a: Answer, name: string): { value: string; line: string } {
    const lines = a.headers['set-cookie'] ?? [];
    assert.equal(lines.length, 1, `one Set-Cookie, got ${JSON.stringify(lines)}`);
    const m = new RegExp(`^${name}=([^;]*)`).exec(lines[0]);
    assert.ok(m, lines[0]);
    return { value: m[1], line: lines[0] };
  }

  test('cookie attributes: name, Path (default: the rule path), Max-Age, Expires, SameSite, Secure, HttpOnly', async () => {
    const a = await start(files);
    const p = await get(false, a.port, 'persistent.test', '/shop/cart');
    assert.equal(p.status, 200);
    const { line } = cookieOf(p, 'SRV');
    const m = /^SRV=[0-9a-f]{16}; Path=\/shop; Max-Age=3600; SameSite=Strict; Secure; HttpOnly; Expires=(.+ GMT)$/.exec(line);
    assert.ok(m, line);
    const expiresIn = (Date.parse(m[1]) - Date.now()) / 1000;
    assert.ok(expiresIn > 7190 && expiresIn <= 7201, `Expires ${m[1]} is ${expiresIn.toFixed(0)} s from now`);
    const b = await get(false, a.port, 'balanced.test', '/');
    assert.match(cookieOf(b, 'INGRESSCOOKIE').line, /^INGRESSCOOKIE=[0-9a-f]{16}; Path=\/; HttpOnly$/);
    const c = await get(false, a.port, 'balanced-path.test', '/app/x');
    assert.match(cookieOf(c, 'INGRESSCOOKIE').line, /^INGRESSCOOKIE=[0-9a-f]{16}; Path=\/app; SameSite=None; Secure; HttpOnly$/);
    console.log(`[measure] e2e affinity cookie (persistent, all attributes): ${line}`);
  });

  test('the same cookie reaches the same endpoint on a second Archway instance and after a restart (persistent and balanced)', { timeout: 20_000 }, async () => {
    const a = started[0] ?? (await start(files));
    const b = await start(files);
    const sessions: Array<{ host: string; path: string; name: string; value: string; backend: string }> = [];
    for (let i = 0; i < 20; i++) {
      for (const [host, path, name] of [['persistent.test', '/shop', 'SRV'], ['balanced.test', '/', 'INGRESSCOOKIE']]) {
        const r = await get(false, a.port, host, path);
        assert.equal(r.status, 200);
        sessions.push({ host, path, name, value: cookieOf(r, name).value, backend: r.backend });
      }
    }
    assert.ok(new Set(sessions.filter((s) => s.name === 'SRV').map((s) => s.backend)).size >= 4, 'new persistent sessions are spread');
    assert.ok(new Set(sessions.filter((s) => s.name === 'INGRESSCOOKIE').map((s) => s.backend)).size >= 2, 'new balanced sessions are spread');
    const check = async (arch: Archway, label: string) => {
      let same = 0;
      for (const s of sessions) {
        const r = await get(false, arch.port, s.host, s.path, { cookie: `${s.name}=${s.value}` });
        assert.equal(r.backend, s.backend, `${label}: ${s.host} cookie ${s.value}`);
        assert.equal(r.headers['set-cookie'], undefined, `${label}: no new cookie while the endpoint exists`);
        same++;
      }
      return same;
    };
    const onA = await check(a, 'same instance');
    const onB = await check(b, 'second instance');
    // Restart: stop both, start a fresh one from the same manifests.
    await a.stop();
    await b.stop();
    const c = await start(files);
    const onC = await check(c, 'after a restart');
    console.log(`[measure] e2e affinity determinism: ${sessions.length} sessions (20 persistent, 20 balanced) -> same endpoint on the same instance ${onA}/${sessions.length}, on a second instance ${onB}/${sessions.length}, after a restart ${onC}/${sessions.length}`);
  });

  test('persistent: when the cookie\'s endpoint is gone, another one serves and the cookie is updated; the new cookie sticks', { timeout: 20_000 }, async () => {
    const arch = await start(files);
    const first = await get(false, arch.port, 'persistent.test', '/shop');
    const old = cookieOf(first, 'SRV').value;
    const gone = five.find((b) => b.name === first.backend)!;
    const swaps = arch.running.controller.counters.tableSwaps;
    await writeFile(join(arch.dir, 'svc.yaml'), yamlDocs(svc('app', five.filter((b) => b !== gone).map((b) => b.port))));
    await applied(arch, swaps);
    const moved = await get(false, arch.port, 'persistent.test', '/shop', { cookie: `SRV=${old}` });
    assert.equal(moved.status, 200);
    assert.notEqual(moved.backend, gone.name);
    const fresh = cookieOf(moved, 'SRV').value;
    assert.notEqual(fresh, old);
    for (let i = 0; i < 10; i++) {
      const r = await get(false, arch.port, 'persistent.test', '/shop', { cookie: `SRV=${fresh}` });
      assert.equal(r.backend, moved.backend);
      assert.equal(r.headers['set-cookie'], undefined);
    }
    console.log(`[measure] e2e affinity endpoint gone: cookie ${old} (${gone.name}) -> new cookie ${fresh} (${moved.backend}), sticks for 10/10 requests`);
  });

  test('persistent: the sticky endpoint crashed (still listed): the retried request is served elsewhere and re-pinned with a new cookie', {
    timeout: 20_000,
  }, async () => {
    const arch = await start(files);
    const first = await get(false, arch.port, 'crash.test', '/');
    const cookie = cookieOf(first, 'INGRESSCOOKIE').value;
    const victim = crashy.find((b) => b.name === first.backend)!;
    await victim.close(); // the pod died; its endpoint is still in the Endpoints object
    const answers: Answer[] = [];
    let updatedAt = 0;
    for (let i = 1; i <= 5 && updatedAt === 0; i++) {
      const r = await get(false, arch.port, 'crash.test', '/', { cookie: `INGRESSCOOKIE=${cookie}` });
      answers.push(r);
      assert.equal(r.status, 200, 'retried on the other endpoint');
      assert.notEqual(r.backend, victim.name);
      if (r.headers['set-cookie'] !== undefined) updatedAt = i;
    }
    console.log(`[measure] e2e affinity, sticky endpoint crashed but still listed: all ${answers.length} requests 200 (retried); new cookie on request ${updatedAt === 0 ? 'never (5 tried)' : `#${updatedAt}`} (ingress-nginx: #1)`);
    assert.equal(updatedAt, 1, 'the first response served elsewhere re-pins the session');
  });
});
