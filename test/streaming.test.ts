// Bodies are streamed, never buffered whole (issue 2 item 6: "a 1 GiB upload must not be buffered in
// memory"). Archway runs as a child process with one data-plane worker, whose resident set size is read
// from /proc while a 128 MiB body goes through it each way; the backend (or the client) stalls for a
// while so that a proxy without back-pressure would have to hold most of the body.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { after, before, test } from 'node:test';
import { backend, httpBackend, ingress, manifestDir, rule, service, sleep, spawnArchway, yamlDocs, type ArchwayProcess, type TestServer } from './harness.ts';
import { rm } from 'node:fs/promises';

const MiB = 1024 * 1024;
const BODY = 128 * MiB;
/**
 * Bytes the sender may push while the receiver reads nothing: the loopback socket buffers of both hops
 * (autotuned up to a few MiB each) plus stream high-water marks. A buffering proxy takes the whole body.
 */
const MAX_IN_FLIGHT = 40 * MiB;
/** V8 collects external (Buffer) memory lazily, in steps of about 64 MiB: growth below this is not buffering. */
const MAX_GROWTH = 96 * MiB;

let sink: TestServer;
let arch: ArchwayProcess;
let dir: string;

/** Bytes the client has handed to the kernel (upload), or the backend has (download). */
let senderFlushed = 0;
let senderDone = false;
/** Bytes the sender pushed while the receiver was stalled. */
let pushedWhileStalled = -1;

/** Deterministic 1 MiB blocks of the generated body. */
function block(i: number): Buffer {
  const b = Buffer.allocUnsafe(MiB);
  let x = (i + 1) * 2654435761;
  for (let j = 0; j < MiB; j += 4) {
    x = (x ^ (x << 13)) >>> 0;
    x = (x ^ (x >>> 17)) >>> 0;
    x = (x ^ (x << 5)) >>> 0;
    b.writeUInt32LE(x, j);
  }
  return b;
}
const BLOCKS = Array.from({ length: 8 }, (_, i) => block(i));
const expectedSha = (() => {
  const h = createHash('sha256');
  for (let i = 0; i < BODY / MiB; i++) h.update(BLOCKS[i % BLOCKS.length]);
  return h.digest('hex');
})();

/**
 * The receiver's stall: waits until the sender has made no progress for 300 ms (it is blocked by
 * back-pressure) or has sent everything, at most 5 s; records how much the sender pushed meanwhile.
 */
async function stall(): Promise<void> {
  const at = senderFlushed;
  let last = senderFlushed;
  let lastChange = Date.now();
  const until = Date.now() + 5000;
  while (!senderDone && Date.now() - lastChange < 300 && Date.now() < until) {
    await sleep(20);
    if (senderFlushed !== last) {
      last = senderFlushed;
      lastChange = Date.now();
    }
  }
  pushedWhileStalled = senderFlushed - at;
}

/** Writes BODY from the generated blocks to a writable, respecting back-pressure, counting flushed bytes. */
function pump(w: import('node:stream').Writable, end: () => void): void {
  let i = 0;
  const go = () => {
    while (i < BODY / MiB) {
      const b = BLOCKS[i++ % BLOCKS.length];
      if (!w.write(b, () => (senderFlushed += b.length))) return void w.once('drain', go);
    }
    end();
  };
  go();
}

function resetSender(): void {
  senderFlushed = 0;
  senderDone = false;
  pushedWhileStalled = -1;
}

before(async () => {
  sink = await httpBackend((req, res) => {
    if (req.url === '/upload') {
      const hash = createHash('sha256');
      let bytes = 0;
      let stalled = false;
      req.on('data', (c: Buffer) => {
        bytes += c.length;
        hash.update(c);
        if (!stalled && bytes > MiB) {
          stalled = true;
          req.pause();
          void stall().then(() => req.resume());
        }
      });
      req.on('end', () => {
        const body = JSON.stringify({ bytes, sha: hash.digest('hex') });
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
        res.end(body);
      });
      return;
    }
    if (req.url === '/download') {
      res.writeHead(200, { 'content-length': String(BODY) });
      pump(res, () => {
        res.end(() => (senderDone = true));
      });
      return;
    }
    res.writeHead(200, { 'content-length': '2' });
    res.end('ok');
  });
  dir = await manifestDir({
    'all.yaml': yamlDocs(service('sink', sink.port), ingress('sink', { rules: [rule(undefined, [['/', 'Prefix', backend('sink')]])] })),
  });
  arch = await spawnArchway(dir, ['--workers', '1']);
});

after(async () => {
  await arch?.stop();
  await sink?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** The process the data plane runs in: with worker threads (the default), Archway's own process. */
function dataPlanePid(): number {
  assert.ok(arch.workerPids.length <= 1, arch.stderr());
  return arch.workerPids[0] ?? arch.child.pid!;
}

/** Samples the data plane's RSS every 20 ms until stopped; returns the peak. */
function sampleRss(pid: number): { stop(): number } {
  let peak = arch.rss(pid);
  const t = setInterval(() => {
    try {
      peak = Math.max(peak, arch.rss(pid));
    } catch {
      // process gone: the test fails elsewhere
    }
  }, 20);
  return {
    stop() {
      clearInterval(t);
      return peak;
    },
  };
}

async function warmUp(): Promise<void> {
  // A few requests so that the worker's steady-state memory (JIT, pools) is in the baseline.
  for (let i = 0; i < 20; i++) {
    await new Promise<void>((resolve, reject) => {
      httpRequest({ host: '127.0.0.1', port: arch.port, path: '/warm', agent: false }, (r) => r.resume().on('end', resolve)).on('error', reject).end();
    });
  }
  await sleep(100);
}

const mib = (n: number) => `${(n / MiB).toFixed(1)} MiB`;

test('a 128 MiB upload to a stalling backend: back-pressure reaches the client, memory stays flat', { timeout: 30_000 }, async () => {
  const pid = dataPlanePid();
  await warmUp();
  resetSender();
  const baseline = arch.rss(pid);
  const sampler = sampleRss(pid);
  const result = await new Promise<{ bytes: number; sha: string }>((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port: arch.port, path: '/upload', method: 'POST', agent: false, headers: { 'content-length': String(BODY) } }, (res) => {
      let s = '';
      res.setEncoding('utf8').on('data', (c: string) => (s += c)).on('end', () => {
        try {
          resolve(JSON.parse(s) as { bytes: number; sha: string });
        } catch (e) {
          reject(new Error(`${res.statusCode}: ${s}: ${e}`));
        }
      });
    });
    req.on('error', reject);
    pump(req, () => req.end(() => (senderDone = true)));
  });
  const peak = sampler.stop();
  assert.equal(result.bytes, BODY);
  assert.equal(result.sha, expectedSha);
  assert.ok(pushedWhileStalled >= 0 && pushedWhileStalled < MAX_IN_FLIGHT, `the client pushed ${mib(pushedWhileStalled)} while the backend read nothing`);
  const growth = peak - baseline;
  assert.ok(growth < MAX_GROWTH, `data plane RSS grew by ${mib(growth)} (baseline ${mib(baseline)}) for a ${BODY / MiB} MiB upload`);
});

test('a 128 MiB download to a stalling client: back-pressure reaches the backend, memory stays flat', { timeout: 30_000 }, async () => {
  const pid = dataPlanePid();
  await warmUp();
  resetSender();
  const baseline = arch.rss(pid);
  const sampler = sampleRss(pid);
  const { bytes, sha } = await new Promise<{ bytes: number; sha: string }>((resolve, reject) => {
    httpRequest({ host: '127.0.0.1', port: arch.port, path: '/download', agent: false }, (res) => {
      const hash = createHash('sha256');
      let n = 0;
      let stalled = false;
      res.on('data', (c: Buffer) => {
        n += c.length;
        hash.update(c);
        if (!stalled && n > MiB) {
          stalled = true;
          res.pause();
          void stall().then(() => res.resume());
        }
      });
      res.on('end', () => resolve({ bytes: n, sha: hash.digest('hex') }));
      res.on('error', reject);
    }).on('error', reject).end();
  });
  const peak = sampler.stop();
  assert.equal(bytes, BODY);
  assert.equal(sha, expectedSha);
  assert.ok(pushedWhileStalled >= 0 && pushedWhileStalled < MAX_IN_FLIGHT, `the backend pushed ${mib(pushedWhileStalled)} while the client read nothing`);
  const growth = peak - baseline;
  assert.ok(growth < MAX_GROWTH, `data plane RSS grew by ${mib(growth)} (baseline ${mib(baseline)}) for a ${BODY / MiB} MiB download`);
});
