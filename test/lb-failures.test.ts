// Issue 6 items 5 and 6 end to end: retries around a dead endpoint (zero client-visible errors for GET), no
// retry of a POST that reached a backend which then reset the connection, a backend killed mid-response (the
// client sees an error, never a hang or a short "success"), connect and read timeouts firing within 10 % of
// their setting, proxy-body-size (413), passive health ejection and return with events and log lines.
// Everything through ingress-nginx annotations; 127.0.0.1 only; measured numbers: console.log "[measure] ...".

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { Agent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { Worker } from 'node:worker_threads';
import { after, before, describe, test } from 'node:test';
import { adminJson, backend, captureStderr, httpBackend, ingress, onRequestHead, refusedPort, rule, sleep, startArchway, tcpBackend, yamlDocs, type Archway, type TestServer } from './harness.ts';

type Obj = Record<string, unknown>;

// ---------------------------------------------------------------------------------------------
// Helpers (kept in this file: test/harness.ts belongs to the cross-layer suite)

/** Service `name` (port 80 -> endpoint port named http) with Endpoints 127.0.0.1 at each port. */
function svc(name: string, ports: number[]): Obj[] {
  return [
    { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default' }, spec: { ports: [{ name: 'http', port: 80, targetPort: 'http' }] } },
    { apiVersion: 'v1', kind: 'Endpoints', metadata: { name, namespace: 'default' }, subsets: ports.map((port) => ({ addresses: [{ ip: '127.0.0.1' }], ports: [{ name: 'http', port }] })) },
  ];
}

function ing(host: string, service: string, annotations: Record<string, string> = {}): Obj {
  const a: Record<string, string> = {};
  for (const [k, v] of Object.entries(annotations)) a[`nginx.ingress.kubernetes.io/${k}`] = v;
  const name = host.replace(/\./g, '-');
  return ingress(name, { rules: [rule(host, [['/', 'Prefix', backend(service)]])] }, { annotations: a, creationTimestamp: '2024-01-01T00:00:00Z' });
}

interface Tagged extends TestServer {
  name: string;
  hits: number;
  methods: string[];
}

async function tagged(name: string): Promise<Tagged> {
  const out = { name, hits: 0, methods: [] as string[] } as Tagged;
  const srv = await httpBackend((req, res) => {
    out.hits++;
    out.methods.push(req.method ?? '');
    req.resume();
    req.on('end', () => res.writeHead(200, { 'x-backend': name }).end(name));
  });
  return Object.assign(out, { port: srv.port, close: () => srv.close() });
}

interface Answer {
  status: number;
  backend: string;
  headers: IncomingHttpHeaders;
  body: string;
}

function send(port: number, host: string, opts: { method?: string; path?: string; body?: string | Buffer; headers?: Record<string, string>; agent?: Agent | false; timeoutMs?: number } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path: opts.path ?? '/', method: opts.method ?? 'GET', headers: { host, ...opts.headers }, agent: opts.agent ?? false, timeout: opts.timeoutMs ?? 5000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, backend: String(res.headers['x-backend'] ?? `HTTP ${res.statusCode}`), headers: res.headers, body: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${opts.timeoutMs ?? 5000} ms`)));
    req.on('error', reject);
    req.end(opts.body);
  });
}

/**
 * A loopback listener that never accepts, with its accept queue filled: further SYNs are dropped, so a
 * connect to it neither succeeds nor fails (the "non-routable address" of a real network, on 127.0.0.1).
 * The listening socket lives in a worker thread whose event loop is blocked, so nobody calls accept().
 */
async function blackhole(): Promise<{ port: number; close(): Promise<void> }> {
  const flag = new Int32Array(new SharedArrayBuffer(4));
  const worker = new Worker(`
    const { workerData, parentPort } = require('node:worker_threads');
    const net = require('node:net');
    const s = net.createServer(() => {});
    s.listen({ host: '127.0.0.1', port: 0, backlog: 1 }, () => {
      parentPort.postMessage(s.address().port);
      Atomics.wait(new Int32Array(workerData), 0, 0, 60000);
      process.exit(0);
    });
  `, { eval: true, workerData: flag.buffer });
  const port = await new Promise<number>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  // Fill the accept queue (backlog 1 holds two): connect until a connection stays pending.
  const fillers: Socket[] = [];
  for (let i = 0; i < 8; i++) {
    const s = connect({ host: '127.0.0.1', port });
    s.on('error', () => {});
    fillers.push(s);
    const ok = await Promise.race([new Promise<boolean>((r) => s.once('connect', () => r(true))), sleep(200).then(() => false)]);
    if (!ok) break;
  }
  return {
    port,
    async close() {
      for (const s of fillers) s.destroy();
      Atomics.store(flag, 0, 1);
      Atomics.notify(flag, 0);
      await new Promise((r) => worker.once('exit', r));
    },
  };
}


interface EventItem { type: string; reason: string; message: string; count: number; involvedObject: { kind: string; name: string } }

async function serviceEvents(arch: Archway, name: string): Promise<EventItem[]> {
  const list = await adminJson<{ items: EventItem[] }>(arch.adminPort, `/api/events?kind=Service&namespace=default&name=${name}`);
  return list.items;
}

/** Reads a whole request (head + Content-Length body), counts it, then resets the connection without answering. */
function resettingBackend(counts: { posts: number; gets: number; puts?: number }): Promise<TestServer> {
  return tcpBackend((s) => onRequestHead(s, (head, rest) => {
    if (head.startsWith('POST ')) counts.posts++;
    else if (head.startsWith('PUT ')) counts.puts = (counts.puts ?? 0) + 1;
    else counts.gets++;
    const len = Number(/content-length: *(\d+)/i.exec(head)?.[1] ?? 0);
    let got = rest.length;
    const done = () => setTimeout(() => s.resetAndDestroy(), 5);
    if (got >= len) return done();
    s.on('data', (d: Buffer) => {
      got += d.length;
      if (got >= len) done();
    });
  }));
}

const ms = (t: number) => `${t.toFixed(0)} ms`;

// ---------------------------------------------------------------------------------------------

describe('retries, resets, killed backends, body size, passive health', () => {
  let good: Tagged[];
  let dead: number;
  let deadToo: number;
  let flakyPort: number;
  let status502: TestServer;
  let resetter: TestServer;
  let resetterGet: TestServer;
  let resetterBig: TestServer;
  let resetterSmall: TestServer;
  const bigPuts = { posts: 0, gets: 0, puts: 0 };
  const smallPuts = { posts: 0, gets: 0, puts: 0 };
  let reuse: TestServer;
  /** What the resetting backends received. */
  const resets = { posts: 0, gets: 0 };
  const reused = { posts: 0, requests: 0 };
  let arch: Archway;
  const stderr = captureStderr();

  before(async () => {
    good = await Promise.all(Array.from({ length: 4 }, (_, i) => tagged(`g${i}`)));
    dead = await refusedPort();
    deadToo = await refusedPort();
    flakyPort = await refusedPort();
    // Read a whole request (head + Content-Length body), then reset the connection without answering.
    resetter = await resettingBackend(resets);
    resetterGet = await resettingBackend(resets);
    resetterBig = await resettingBackend(bigPuts);
    resetterSmall = await resettingBackend(smallPuts);
    // Keep-alive backend: answers GET /warm (so Archway pools the connection), resets after reading a POST.
    const rc = reused;
    reuse = await tcpBackend((s) => {
      let buf = Buffer.alloc(0);
      s.on('data', (d: Buffer) => {
        buf = Buffer.concat([buf, d]);
        for (;;) {
          const end = buf.indexOf('\r\n\r\n');
          if (end < 0) return;
          const head = buf.subarray(0, end).toString('latin1');
          const len = Number(/content-length: *(\d+)/i.exec(head)?.[1] ?? 0);
          if (buf.length < end + 4 + len) return;
          buf = buf.subarray(end + 4 + len);
          rc.requests++;
          if (head.startsWith('POST')) {
            rc.posts++;
            setTimeout(() => s.resetAndDestroy(), 5);
            return;
          }
          s.write('HTTP/1.1 200 OK\r\nContent-Length: 4\r\nX-Backend: keepalive\r\n\r\nwarm');
        }
      });
    });
    status502 = await httpBackend((req, res) => {
      req.resume();
      res.writeHead(502, { 'x-backend': 'bad-gateway' }).end('upstream of the upstream failed');
    });
    arch = await startArchway({
      'svc.yaml': yamlDocs(
        svc('mixed', [...good.map((g) => g.port), dead]),
        svc('alldead', [dead, deadToo]),
        svc('reset', [resetter.port, good[0].port]),
        svc('reset-only', [resetter.port]),
        svc('reset-get', [resetterGet.port, good[1].port]),
        svc('reset-big', [resetterBig.port, good[1].port]),
        svc('reset-small', [resetterSmall.port, good[1].port]),
        svc('keepalive', [reuse.port]),
        svc('fivehundred', [status502.port, good[1].port]),
        svc('good', [good[2].port]),
        svc('flaky', [good[3].port, flakyPort]),
      ),
      'ing.yaml': yamlDocs(
        ing('retry.test', 'mixed'),
        ing('alldead.test', 'alldead'),
        ing('reset.test', 'reset', { 'load-balance': 'round_robin' }),
        ing('reset-only.test', 'reset-only'),
        ing('reset-get.test', 'reset-get', { 'load-balance': 'round_robin' }),
        ing('put-big.test', 'reset-big', { 'proxy-body-size': '0' }),
        ing('put-small.test', 'reset-small', { 'proxy-body-size': '0' }),
        ing('post-retry.test', 'reset', { 'proxy-next-upstream': 'error timeout non_idempotent' }),
        ing('keepalive.test', 'keepalive'),
        ing('relay502.test', 'fivehundred', { 'load-balance': 'round_robin' }),
        ing('retry502.test', 'fivehundred', { 'proxy-next-upstream': 'error timeout http_502' }),
        ing('small.test', 'good', { 'proxy-body-size': '1k' }),
        ing('unlimited.test', 'good', { 'proxy-body-size': '0' }),
        ing('default-size.test', 'good'),
        ing('health.test', 'flaky'),
      ),
    }, ['--proxy-body-size', '2k', '--load-balance', 'round_robin', '--retry-body-limit', '16k']);
    assert.deepEqual(arch.diagnostics.filter((d) => d.severity !== 'info'), []);
  });
  after(async () => {
    stderr.restore();
    await arch?.stop();
    await Promise.all([...(good ?? []), resetter, resetterGet, resetterBig, resetterSmall, reuse, status502].filter((s) => s !== undefined).map((s) => s.close()));
  });

  test('a refused port among 5 endpoints: 300 GETs and 50 small POSTs, zero client-visible errors', { timeout: 20_000 }, async () => {
    const stats = arch.running.plane!.stats;
    const retriesBefore = stats.retries;
    const agent = new Agent({ keepAlive: true, maxSockets: 6 });
    const statuses = new Map<number, number>();
    try {
      let next = 0;
      await Promise.all(Array.from({ length: 6 }, async () => {
        while (next < 350) {
          const i = next++;
          const r = i < 300 ? await send(arch.port, 'retry.test', { agent }) : await send(arch.port, 'retry.test', { agent, method: 'POST', body: 'x'.repeat(200) });
          statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
        }
      }));
    } finally {
      agent.destroy();
    }
    const retries = stats.retries - retriesBefore;
    const events = await serviceEvents(arch, 'mixed');
    const ejected = events.filter((e) => e.reason === 'EndpointEjected');
    console.log(`[measure] e2e dead endpoint (1 refused of 5, round robin): 350 requests (300 GET, 50 POST), statuses ${JSON.stringify(Object.fromEntries(statuses))}, retries ${retries}, ejection events ${ejected.reduce((n, e) => n + e.count, 0)}`);
    assert.deepEqual(Object.fromEntries(statuses), { 200: 350 }, 'zero client-visible errors');
    assert.ok(retries >= 2, 'the dead endpoint was tried and the requests retried elsewhere');
    assert.ok(retries < 50, `passive health keeps the dead endpoint out most of the time (${retries} retries)`);
    assert.ok(ejected.length >= 1 && ejected[0].message.includes(`127.0.0.1:${dead}`), JSON.stringify(events));
  });

  test('all endpoints refuse: 502', async () => {
    const r = await send(arch.port, 'alldead.test');
    assert.equal(r.status, 502);
  });

  test('a POST that reached a backend which then reset the connection is not retried: the backend sees one POST, the client 502', { timeout: 15_000 }, async () => {
    // reset.test balances over [resetter, g0]: send POSTs until one lands on the resetter.
    const g0 = good[0];
    const before = { posts: resets.posts, good: g0.methods.filter((m) => m === 'POST').length };
    const statuses: number[] = [];
    for (let i = 0; i < 6 && !statuses.includes(502); i++) statuses.push((await send(arch.port, 'reset.test', { method: 'POST', body: 'order=1'.repeat(10) })).status);
    const posts502 = statuses.filter((s) => s === 502).length;
    const posts200 = statuses.filter((s) => s === 200).length;
    assert.equal(posts502, 1, `statuses ${statuses}`);
    assert.equal(resets.posts - before.posts, posts502, 'the resetting backend saw each failed POST exactly once');
    assert.equal(g0.methods.filter((m) => m === 'POST').length - before.good, posts200, 'no failed POST was replayed on the other endpoint');
    // Single endpoint: no retry on the same endpoint either.
    const single = resets.posts;
    assert.equal((await send(arch.port, 'reset-only.test', { method: 'POST', body: 'pay=10' })).status, 502);
    assert.equal(resets.posts - single, 1);
    console.log(`[measure] e2e POST reset after reaching the backend: 2-endpoint route -> client 502, resetting backend saw 1 POST, other endpoint 0 (after ${statuses.length - 1} POST(s) answered 200 by the other); 1-endpoint route -> client 502, backend saw 1 POST`);
  });

  test('the same reset for a GET is retried on the other endpoint (idempotent): 200', async () => {
    // reset-get.test balances over [a resetting backend, g1]: every GET ends as a 200 from g1.
    const gets = resets.gets;
    for (let i = 0; i < 4; i++) {
      const r = await send(arch.port, 'reset-get.test');
      assert.equal(r.status, 200);
      assert.equal(r.backend, 'g1');
    }
    assert.ok(resets.gets - gets >= 1, 'the resetting backend received a GET that was then retried');
  });

  test('proxy-next-upstream "error timeout non_idempotent": the POST is replayed on the other endpoint (held body)', async () => {
    const g0 = good[0];
    const before = g0.methods.length;
    for (let i = 0; i < 4; i++) {
      const r = await send(arch.port, 'post-retry.test', { method: 'POST', body: 'x'.repeat(1000) });
      assert.equal(r.status, 200);
      assert.equal(r.backend, 'g0');
    }
    assert.equal(g0.methods.length - before, 4);
  });

  test('--retry-body-limit 16k: a PUT whose 12 kB body was sent is replayed elsewhere (200); a 40 kB one cannot be (502)', async () => {
    const g1 = good[1];
    const put = (host: string, n: number) => send(arch.port, host, { method: 'PUT', body: Buffer.alloc(n, 'p') });
    // Each host balances over [a resetting backend, g1]: send until the resetting one got the PUT.
    const small: number[] = [];
    const g1Before = g1.methods.filter((m) => m === 'PUT').length;
    for (let i = 0; i < 4 && smallPuts.puts === 0; i++) small.push((await put('put-small.test', 12 * 1024)).status);
    assert.equal(smallPuts.puts, 1);
    assert.deepEqual(small.filter((s) => s !== 200), [], 'the held body was replayed on g1');
    assert.equal(g1.methods.filter((m) => m === 'PUT').length - g1Before, small.length);
    const big: number[] = [];
    const g1Mid = g1.methods.filter((m) => m === 'PUT').length;
    for (let i = 0; i < 4 && bigPuts.puts === 0; i++) big.push((await put('put-big.test', 40 * 1024)).status);
    assert.equal(bigPuts.puts, 1);
    assert.equal(big.at(-1), 502, 'a body larger than the retry limit was streamed and cannot be sent again');
    assert.equal(g1.methods.filter((m) => m === 'PUT').length - g1Mid, big.length - 1, 'the failed PUT never reached g1');
    console.log(`[measure] e2e --retry-body-limit 16k: 12 kB PUT reset by its backend -> replayed, client ${small.at(-1)}; 40 kB PUT -> not replayed, client ${big.at(-1)}`);
  });

  test('a POST on a reused keep-alive connection that the backend reads and then resets is not sent again', {
  }, async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const warm = await send(arch.port, 'keepalive.test', { path: '/warm', agent });
      assert.equal(warm.status, 200);
      assert.equal(arch.running.plane!.pool.idleCount() >= 1, true, 'the upstream connection is pooled');
      const before = reused.posts;
      const r = await send(arch.port, 'keepalive.test', { method: 'POST', body: 'transfer=100', agent });
      console.log(`[measure] e2e POST on a reused upstream connection reset by the backend: client ${r.status}, backend saw ${reused.posts - before} POST(s)`);
      assert.equal(r.status, 502);
      assert.equal(reused.posts - before, 1, `the backend executed the POST ${reused.posts - before} times`);
    } finally {
      agent.destroy();
    }
  });

  test('proxy-next-upstream http_502: a 502 answer is retried elsewhere; without it, the 502 is relayed', async () => {
    const relayed = new Map<number, number>();
    for (let i = 0; i < 10; i++) {
      const r = await send(arch.port, 'relay502.test');
      relayed.set(r.status, (relayed.get(r.status) ?? 0) + 1);
    }
    assert.deepEqual(Object.fromEntries(relayed), { 200: 5, 502: 5 }, 'round robin over [502 backend, good backend]');
    for (let i = 0; i < 10; i++) assert.equal((await send(arch.port, 'retry502.test')).status, 200);
  });

  test('proxy-body-size: 413 above the annotation (1k) or the --proxy-body-size flag (2k); "0" is unlimited; the backend never sees a refused body', async () => {
    const g2 = good[2];
    const hits = g2.hits;
    const post = (host: string, n: number, chunked = false) =>
      send(arch.port, host, { method: 'POST', body: Buffer.alloc(n, 'b'), headers: chunked ? { 'transfer-encoding': 'chunked' } : { 'content-length': String(n) } });
    assert.equal((await post('small.test', 1024)).status, 200);
    assert.equal((await post('small.test', 1025)).status, 413);
    assert.equal((await post('default-size.test', 2048)).status, 200);
    assert.equal((await post('default-size.test', 2049)).status, 413);
    assert.equal((await post('unlimited.test', 100_000)).status, 200);
    assert.equal(g2.hits - hits, 3, 'only the accepted bodies reached the backend');
    const chunked = await post('small.test', 4000, true);
    assert.equal(chunked.status, 413, 'a chunked body is cut at the limit');
    console.log('[measure] e2e proxy-body-size: 1k annotation -> 1024 B 200, 1025 B 413, 4000 B chunked 413; --proxy-body-size 2k -> 2048 B 200, 2049 B 413; "0" -> 100 kB 200');
  });

  test('passive health: a refusing endpoint is ejected (event + log line) and returns once it answers again', { timeout: 20_000 }, async () => {
    // health.test balances over [g3, flakyPort (refused)].
    const t0 = performance.now();
    let ejectedAt = 0;
    let requests = 0;
    while (ejectedAt === 0 && requests < 20) {
      const r = await send(arch.port, 'health.test');
      requests++;
      assert.equal(r.status, 200, 'retries hide the refused endpoint from clients');
      if ((await serviceEvents(arch, 'flaky')).some((e) => e.reason === 'EndpointEjected')) ejectedAt = performance.now();
    }
    assert.ok(ejectedAt > 0, 'ejection event recorded');
    const ev = (await serviceEvents(arch, 'flaky')).find((e) => e.reason === 'EndpointEjected')!;
    assert.equal(ev.type, 'Warning');
    assert.match(ev.message, new RegExp(`endpoint 127\\.0\\.0\\.1:${flakyPort} of default/flaky:80 ejected for 1000 ms`));
    assert.match(stderr.text(), new RegExp(`endpoint 127\\.0\\.0\\.1:${flakyPort} of default/flaky:80 ejected for 1000 ms`));

    // The endpoint comes back (a server listens on its port again).
    const revived: Server = createServer((s) => {
      s.on('error', () => {});
      onRequestHead(s, () => s.end('HTTP/1.1 200 OK\r\nX-Backend: revived\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok'));
    });
    await new Promise<void>((resolve, reject) => {
      revived.once('error', reject);
      revived.listen(flakyPort, '127.0.0.1', () => resolve());
    });
    try {
      let returnedAt = 0;
      const seen = new Set<string>();
      const until = performance.now() + 8000;
      while (returnedAt === 0 && performance.now() < until) {
        const r = await send(arch.port, 'health.test');
        assert.equal(r.status, 200);
        seen.add(r.backend);
        if ((await serviceEvents(arch, 'flaky')).some((e) => e.reason === 'EndpointReturned')) returnedAt = performance.now();
        else await sleep(50);
      }
      assert.ok(returnedAt > 0, 'return event recorded');
      assert.ok(seen.has('revived'), 'the revived endpoint gets traffic again');
      const back = (await serviceEvents(arch, 'flaky')).find((e) => e.reason === 'EndpointReturned')!;
      assert.equal(back.type, 'Normal');
      assert.match(back.message, new RegExp(`endpoint 127\\.0\\.0\\.1:${flakyPort} of default/flaky:80 is answering again`));
      assert.match(stderr.text(), /is answering again/);
      console.log(`[measure] e2e passive health: ejected after ${requests} request(s) (${ms(ejectedAt - t0)}), event "${ev.message}"; returned ${ms(returnedAt - ejectedAt)} after the ejection (back-off 1000 ms), event "${back.message}"`);
      assert.ok(returnedAt - ejectedAt >= 900, 'not before the back-off ended');
    } finally {
      await new Promise<void>((r) => revived.close(() => r()));
    }
  });
});

// ---------------------------------------------------------------------------------------------

describe('a backend killed mid-response', () => {
  let arch: Archway;
  let child: ReturnType<typeof spawn> | null = null;
  let childPort = 0;
  let chunkyDrop: TestServer;

  before(async () => {
    // A backend in its own process: sends a 200 with Content-Length 1 MB, 64 kB of it, then waits (to be SIGKILLed).
    child = spawn(process.execPath, ['-e', `
      const http = require('node:http');
      const s = http.createServer((req, res) => {
        res.writeHead(200, { 'content-length': String(1024 * 1024), 'x-backend': 'doomed' });
        res.write(Buffer.alloc(64 * 1024, 'd'));
      });
      s.listen(0, '127.0.0.1', () => process.stdout.write(String(s.address().port) + '\\n'));
    `], { stdio: ['ignore', 'pipe', 'inherit'] });
    childPort = await new Promise<number>((resolve, reject) => {
      let out = '';
      child!.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('\n')) resolve(Number(out.trim()));
      });
      child!.once('exit', () => reject(new Error('backend exited')));
    });
    // In process: a chunked response, some chunks, then the connection is reset.
    chunkyDrop = await tcpBackend((s) => onRequestHead(s, () => {
      s.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-Backend: chunky\r\n\r\n5\r\nhello\r\n5\r\nworld\r\n');
      setTimeout(() => s.resetAndDestroy(), 50);
    }));
    arch = await startArchway({
      'svc.yaml': yamlDocs(svc('doomed', [childPort]), svc('chunky', [chunkyDrop.port])),
      'ing.yaml': yamlDocs(ing('doomed.test', 'doomed'), ing('chunky.test', 'chunky')),
    });
  });
  after(async () => {
    await arch?.stop();
    await chunkyDrop?.close();
    if (child !== null && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });

  /** Resolves with how the response ended: 'end' (complete), or the error, and the bytes received. */
  function download(host: string, onFirstBytes: () => void): Promise<{ outcome: string; bytes: number; status: number; ms: number; afterKillMs: number }> {
    return new Promise((resolve) => {
      const t0 = performance.now();
      let killedAt = 0;
      let bytes = 0;
      let status = 0;
      let settled = false;
      const done = (outcome: string) => {
        if (settled) return;
        settled = true;
        const now = performance.now();
        resolve({ outcome, bytes, status, ms: now - t0, afterKillMs: killedAt === 0 ? -1 : now - killedAt });
      };
      const req = httpRequest({ host: '127.0.0.1', port: arch.port, path: '/', headers: { host }, agent: false }, (res) => {
        status = res.statusCode ?? 0;
        res.on('data', (c: Buffer) => {
          if (bytes === 0) {
            killedAt = performance.now();
            onFirstBytes();
          }
          bytes += c.length;
        });
        res.on('end', () => done('end'));
        res.on('aborted', () => done('aborted'));
        res.on('error', (e) => done(`error: ${(e as NodeJS.ErrnoException).code ?? e.message}`));
        res.on('close', () => done(res.complete ? 'end' : 'closed incomplete'));
      });
      req.on('error', (e) => done(`request error: ${(e as NodeJS.ErrnoException).code ?? e.message}`));
      req.end();
      // The test's own guard: a hang is a failure, reported as such.
      setTimeout(() => {
        done('hang');
        req.destroy();
      }, 5000).unref();
    });
  }

  test('SIGKILL of the backend process after 64 kB of 1 MB: the client sees an error, within a second, not a short success', { timeout: 10_000 }, async () => {
    const r = await download('doomed.test', () => child!.kill('SIGKILL'));
    console.log(`[measure] e2e backend SIGKILLed mid-response: status ${r.status}, ${r.bytes} of 1048576 bytes, client outcome "${r.outcome}" ${ms(r.afterKillMs)} after the kill`);
    assert.equal(r.status, 200);
    assert.notEqual(r.outcome, 'end', 'never a truncated success');
    assert.notEqual(r.outcome, 'hang');
    assert.ok(r.bytes < 1024 * 1024);
    assert.ok(r.afterKillMs >= 0 && r.afterKillMs < 1000, `error ${ms(r.afterKillMs)} after the kill`);
  });

  test('a chunked response whose connection is reset mid-body: the client sees an error, not a clean end', async () => {
    const r = await download('chunky.test', () => {});
    console.log(`[measure] e2e chunked response reset mid-body: status ${r.status}, ${r.bytes} bytes, client outcome "${r.outcome}" after ${ms(r.ms)}`);
    assert.equal(r.status, 200);
    assert.notEqual(r.outcome, 'end');
    assert.notEqual(r.outcome, 'hang');
  });
});

// ---------------------------------------------------------------------------------------------

describe('timeouts fire within 10 % of their setting', () => {
  let arch: Archway;
  let hole: Awaited<ReturnType<typeof blackhole>>;
  let silent: TestServer;
  let stalled: TestServer;
  const SETTING = 3000;

  before(async () => {
    hole = await blackhole();
    silent = await tcpBackend(() => {}); // accepts, reads nothing, answers nothing
    stalled = await tcpBackend((s) => onRequestHead(s, () => s.write('HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nfirst bytes')));
    arch = await startArchway({
      'svc.yaml': yamlDocs(svc('hole', [hole.port]), svc('silent', [silent.port]), svc('stalled', [stalled.port])),
      'ing.yaml': yamlDocs(
        ing('connect.test', 'hole', { 'proxy-connect-timeout': String(SETTING / 1000), 'proxy-next-upstream-tries': '1' }),
        ing('read.test', 'silent', { 'proxy-read-timeout': String(SETTING / 1000), 'proxy-next-upstream-tries': '1' }),
        ing('midbody.test', 'stalled', { 'proxy-read-timeout': String(SETTING / 1000) }),
        ing('read-default-tries.test', 'silent', { 'proxy-read-timeout': '1' }),
      ),
    }, ['--proxy-connect-timeout', '60s', '--proxy-read-timeout', '60s']);
    assert.deepEqual(arch.diagnostics.filter((d) => d.severity !== 'info'), []);
  });
  after(async () => {
    await arch?.stop();
    await silent?.close();
    await stalled?.close();
    await hole?.close();
  });

  async function timed<T>(f: () => Promise<T>): Promise<[T, number]> {
    const t0 = performance.now();
    const v = await f();
    return [v, performance.now() - t0];
  }

  test('proxy-connect-timeout 3 and proxy-read-timeout 3 (per Ingress; flags 60 s): 504 after 3 s; a stalled body is cut after 3 s', { timeout: 15_000 }, async () => {
    const midBody = async () => {
      const t0 = performance.now();
      const s = connect({ host: '127.0.0.1', port: arch.port });
      s.on('error', () => {});
      let got = '';
      s.on('data', (d: Buffer) => (got += d.toString('latin1')));
      s.write('GET / HTTP/1.1\r\nHost: midbody.test\r\n\r\n');
      await new Promise<void>((r) => s.once('close', () => r()));
      return { got, ms: performance.now() - t0 };
    };
    const [[connectRes, connectMs], [readRes, readMs], mid, [triesRes, triesMs]] = await Promise.all([
      timed(() => send(arch.port, 'connect.test', { timeoutMs: 10_000 })),
      timed(() => send(arch.port, 'read.test', { timeoutMs: 10_000 })),
      midBody(),
      timed(() => send(arch.port, 'read-default-tries.test', { timeoutMs: 10_000 })),
    ]);
    console.log(`[measure] e2e timeouts (setting ${SETTING} ms): connect timeout 504 after ${ms(connectMs)} (${(((connectMs - SETTING) / SETTING) * 100).toFixed(1)}%), read timeout 504 after ${ms(readMs)} (${(((readMs - SETTING) / SETTING) * 100).toFixed(1)}%), stalled body cut after ${ms(mid.ms)} (${(((mid.ms - SETTING) / SETTING) * 100).toFixed(1)}%)`);
    console.log(`[measure] e2e proxy-read-timeout 1 with the default 3 tries and a single endpoint: 504 after ${ms(triesMs)} (each try waits the full timeout on the same endpoint)`);
    assert.equal(connectRes.status, 504);
    assert.equal(readRes.status, 504);
    assert.equal(triesRes.status, 504);
    assert.match(mid.got, /^HTTP\/1\.1 200 OK\r\n/);
    assert.ok(mid.got.endsWith('first bytes'), 'the client got the head and the first bytes, then the connection was cut');
    for (const [what, t] of [['connect', connectMs], ['read', readMs], ['mid-body read', mid.ms]] as const) {
      assert.ok(t >= SETTING * 0.9 && t <= SETTING * 1.1, `${what} timeout fired after ${ms(t)} for a ${SETTING} ms setting`);
    }
  });
});
