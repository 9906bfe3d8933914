// Timeouts (issue 2 items 2 and 5): --proxy-read-timeout answers 504 (or cuts a started response), and
// never punishes a slow but progressing upload or a slowly reading client; --keepalive-timeout closes
// idle client connections only. One in-process Archway here, so that its sweep timer alone drives the
// coarse clock the data plane measures timeouts with.

import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { after, before, test } from 'node:test';
import { clock } from '../src/dataplane/clock.ts';
import { backend, httpBackend, ingress, RawConn, request, rule, service, sleep, startArchway, yamlDocs, type Archway, type TestServer } from './harness.ts';

const T = { timeout: 10_000 };
/**
 * --proxy-read-timeout. Long enough that a 2-core machine running the suite (and other work) does not
 * starve the event loop for that long, short enough to keep the tests quick.
 */
const TIMEOUT = 600;


let slow: TestServer;
let slowArch: Archway;
/** The tests that a timeout must NOT cut use a longer one: the coarse clock bug below, under CPU load, cuts early. */
let patientArch: Archway;
const PATIENT = 1000;
const held = new Set<Socket>();

before(async () => {
  slow = await httpBackend((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/never') {
      held.add(res.socket!);
      return; // never answers
    }
    if (url.pathname === '/stall-body') {
      res.writeHead(200, { 'content-length': '100' });
      res.write('first bytes');
      held.add(res.socket!);
      return;
    }
    if (url.pathname === '/slow-upload') {
      // Reads the whole (slowly sent) body, then answers.
      let n = 0;
      req.on('data', (c: Buffer) => (n += c.length));
      req.on('end', () => res.end(String(n)));
      return;
    }
    if (url.pathname === '/big') {
      const body = Buffer.alloc(8 * 1024 * 1024, 'y');
      res.writeHead(200, { 'content-length': String(body.length) });
      res.end(body);
      return;
    }
    res.end('?');
  });
  slowArch = await startArchway({
    'all.yaml': yamlDocs(service('slow', slow.port), ingress('slow', { rules: [rule(undefined, [['/', 'Prefix', backend('slow')]])] })),
  }, ['--proxy-read-timeout', `${TIMEOUT}ms`, '--keepalive-timeout', '800ms']);
  patientArch = await startArchway({
    'all.yaml': yamlDocs(service('slow', slow.port), ingress('slow', { rules: [rule(undefined, [['/', 'Prefix', backend('slow')]])] })),
  }, ['--proxy-read-timeout', `${PATIENT}ms`]);
});
after(async () => {
  for (const s of held) s.destroy();
  await slowArch?.stop();
  await patientArch?.stop();
  await slow?.close();
});

test('504 when the backend does not answer within --proxy-read-timeout', T, async () => {
  const t0 = performance.now();
  const res = await request(slowArch.port, '/never');
  const ms = performance.now() - t0;
  assert.equal(res.status, 504);
  assert.equal(res.headers.server, 'archway');
  // No lower bound here: see the early-firing test below. Upper bound: timeout + sweep period + slack.
  assert.ok(ms < TIMEOUT + 1500, `504 after ${ms.toFixed(0)} ms for a ${TIMEOUT} ms timeout`);
});

test('--proxy-read-timeout never fires before the configured time', { ...T }, async () => {
  // Send each request just before the data plane's 100 ms clock tick, when clock.now is most stale.
  const times: number[] = [];
  for (let i = 0; i < 2; i++) {
    const seen = clock.now;
    const until = Date.now() + 1000;
    while (clock.now === seen && Date.now() < until) await sleep(1);
    await sleep(90);
    const t0 = performance.now();
    const res = await request(slowArch.port, '/never');
    times.push(performance.now() - t0);
    assert.equal(res.status, 504);
  }
  assert.ok(Math.min(...times) >= TIMEOUT - 5, `504 after ${times.map((t) => t.toFixed(0)).join(', ')} ms for a ${TIMEOUT} ms timeout`);
});

test('a backend stalling mid-body: the client connection is cut, not given a short body', T, async () => {
  const conn = await RawConn.open(slowArch.port);
  try {
    conn.write('GET /stall-body HTTP/1.1\r\nHost: x\r\n\r\n');
    const t0 = performance.now();
    await assert.rejects(conn.response({ timeoutMs: TIMEOUT + 3000 }), /closed/);
    assert.ok(performance.now() - t0 < TIMEOUT + 1500);
  } finally {
    conn.destroy();
  }
});

test('a slow upload that keeps making progress is not an upstream timeout', T, async () => {
  const conn = await RawConn.open(patientArch.port);
  try {
    conn.write('POST /slow-upload HTTP/1.1\r\nHost: x\r\nContent-Length: 8\r\n\r\n');
    // 8 bytes, 200 ms apart: the upload lasts longer than the timeout, no gap comes near it.
    for (let i = 0; i < 8; i++) {
      await sleep(200);
      conn.write('u');
    }
    const res = await conn.response();
    assert.equal(res.status, 200);
    assert.equal(res.body.toString(), '8');
  } finally {
    conn.destroy();
  }
});

test('a client that reads slowly is not an upstream timeout', T, async () => {
  const conn = await RawConn.open(patientArch.port);
  try {
    conn.socket.pause();
    conn.write('GET /big HTTP/1.1\r\nHost: x\r\n\r\n');
    await sleep(PATIENT * 1.5);
    conn.socket.resume();
    const res = await conn.response();
    assert.equal(res.status, 200);
    assert.equal(res.body.length, 8 * 1024 * 1024);
  } finally {
    conn.destroy();
  }
});


test('--keepalive-timeout closes an idle client connection, not a busy one', T, async () => {
  const idle = await RawConn.open(slowArch.port);
  const busy = await RawConn.open(slowArch.port);
  try {
    // A small response: with a large one, most of it can still sit in loopback socket buffers when
    // Archway (rightly) starts the idle timer, so the client would measure from a later instant.
    idle.write('GET /small HTTP/1.1\r\nHost: x\r\n\r\n');
    await idle.response();
    const t0 = performance.now();
    let closedAt = 0;
    idle.socket.once('close', () => (closedAt = performance.now()));
    // busy: one request every 100 ms, never idle for anywhere near 800 ms
    for (let i = 0; i < 12; i++) {
      busy.write('POST /slow-upload HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\nz');
      assert.equal((await busy.response()).body.toString(), '1');
      await sleep(100);
    }
    assert.ok(await idle.closedWithin(2000));
    await new Promise((r) => setImmediate(r));
    const idleFor = closedAt - t0;
    assert.ok(idleFor < 2500, `idle connection closed after ${idleFor.toFixed(0)} ms (--keepalive-timeout 800ms)`);
    assert.equal(busy.closed, false);
  } finally {
    idle.destroy();
    busy.destroy();
  }
});
