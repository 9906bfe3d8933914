// Issue 4 item 2 (zero-drop swaps): 20 clients, half on keep-alive connections and half opening a new
// connection per request, send continuously while 100 configuration changes are written to disk. No
// request may fail; keep-alive connections, a WebSocket tunnel, a slow streaming download and the
// upstream connection pools all survive the swaps.

import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { after, before, describe, test } from 'node:test';
import type { EchoServer } from '../src/demo/echo-server.ts';
import { webSocketAccept } from '../src/demo/echo-server.ts';
import { backend, closeAll, echoes, ingress, manifestDir, RawConn, rule, service, sleep, spawnArchway, yamlDocs, type ArchwayProcess } from './harness.ts';
import { get, Load, namedBackend, waitFor, writeInPlace, writeRename, type NamedBackend } from './live-harness.ts';

const CHANGES = 100;
const STREAM_CHUNKS = 60; // x 50 ms = 3 s

let main: NamedBackend;
let stream: NamedBackend;
let ws: Record<string, EchoServer>;

before(async () => {
  main = await namedBackend('main');
  stream = await namedBackend('stream');
  ws = await echoes('ws');
});
after(async () => {
  await Promise.all([main.close(), stream.close(), closeAll(ws)]);
});

const created = { creationTimestamp: '2024-01-01T00:00:00Z' };

/** app.test: the routes under load, plus an unrelated /extra path (to another backend) on every other version. */
function appIngress(withExtra: boolean): string {
  const paths: Array<[string, string, Record<string, unknown>]> = [
    ['/', 'Prefix', backend('main')],
    ['/stream', 'Prefix', backend('stream')],
    ['/ws', 'Prefix', backend('ws')],
  ];
  if (withExtra) paths.push(['/extra', 'Prefix', backend('ws')]);
  return yamlDocs(ingress('app', { rules: [rule('app.test', paths)] }, created));
}

/** Another Ingress whose host comes and goes. */
function otherIngress(host: string): string {
  return yamlDocs(ingress('other', { rules: [rule(host, [['/', 'Prefix', backend('main')]])] }, created));
}

// Archway runs as a child process, so that the 20 clients of this process do not share its event loop.
for (const workers of [0, 2]) {
  describe(`zero-drop configuration swaps (--workers ${workers})`, () => {
    let aw: ArchwayProcess;
    let dir: string;

    before(async () => {
      dir = await manifestDir({
        'svc.yaml': yamlDocs(service('main', main.port), service('stream', stream.port), service('ws', ws.ws.port)),
        'a.yaml': appIngress(false),
        'b.yaml': otherIngress('other.test'),
      });
      aw = await spawnArchway(dir, ['--workers', String(workers)]);
    });
    after(async () => {
      await aw.stop();
      await rm(dir, { recursive: true, force: true });
    });

    /** Configurations swapped in so far (the controller logs each swap). */
    const swapsLogged = () => (aw.stderr().match(/serving configuration /g) ?? []).length;

    /** Probes on fresh connections until `host``path` is answered by `backendName`. */
    async function served(host: string, path: string, backendName: string, what: string): Promise<void> {
      await waitFor(what, async () => {
        const r = await get(aw.port, host, path, false);
        return r.status === 200 && r.backend === backendName;
      }, 3000, 2);
    }

    test(`${CHANGES} changes under load from 20 clients: zero failed requests, connections and pools kept`, { timeout: 28_000 }, async () => {
      const swapsAtStart = swapsLogged();
      const load = new Load({
        port: aw.port,
        keepAliveClients: 10,
        freshClients: 10,
        // A short think time per client: the load stays continuous without starving Archway of CPU on 2 cores.
        pauseMs: 3,
        targets: [
          { host: 'app.test', path: '/', backend: 'main' },
          { host: 'app.test', path: '/api/items?page=2', backend: 'main' },
          { host: 'app.test', path: '/ws/plain', backend: 'ws' },
        ],
      }).start();

      // A WebSocket tunnel through the ws route.
      const tunnel = await RawConn.open(aw.port);
      const key = Buffer.from('live-swaps-key!!').toString('base64');
      tunnel.write(`GET /ws/socket HTTP/1.1\r\nHost: app.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
      const up = await tunnel.response();
      assert.equal(up.status, 101);
      assert.equal(up.headers['sec-websocket-accept'], webSocketAccept(key));

      try {
        await sleep(300); // warm-up: every client has its connection, the upstream pools are filled
        const warm = { ok: load.ok, upstream: main.connections };
        assert.ok(warm.ok > 20, `only ${warm.ok} requests during the warm-up`);

        let download: Promise<{ status: number; body: string; swapsDuring: number }> | null = null;
        let echoed = 0;
        const t0 = performance.now();
        for (let i = 0; i < CHANGES; i++) {
          // Each change is swapped in before the next one is written; every tenth is checked over HTTP.
          // a.yaml is rewritten in place, b.yaml saved editor-style (write-then-rename).
          const swaps = swapsLogged();
          const extra = i % 4 === 0;
          const host = i % 4 === 1 ? 'other-alt.test' : 'other.test';
          if (i % 2 === 0) await writeInPlace(dir, 'a.yaml', appIngress(extra));
          else await writeRename(dir, 'b.yaml', otherIngress(host));
          await waitFor(`change #${i} to be swapped in`, () => swapsLogged() > swaps, 3000, 2);
          if (i % 10 === 0) await served('app.test', '/extra/x', extra ? 'ws' : 'main', `change #${i} (/extra ${extra ? 'added' : 'removed'})`);
          if (i % 10 === 1) await served(host, '/', 'main', `change #${i} (host ${host})`);
          if (i === 3) {
            const before = swapsLogged();
            download = get(aw.port, 'app.test', `/stream?chunks=${STREAM_CHUNKS}&every=50`, false).then((r) => ({ ...r, swapsDuring: swapsLogged() - before }));
          }
          if (i % 5 === 0) {
            const msg = `message-${i}-${'x'.repeat(i * 10)}`;
            tunnel.write(msg);
            assert.equal((await tunnel.read(msg.length, 2000)).toString(), msg, `the tunnel echoes after change #${i}`);
            echoed++;
          }
          assert.ok(performance.now() - t0 < 24_000, `the ${CHANGES} changes take too long (${i} done)`);
        }
        const changesMs = performance.now() - t0;
        const res = await download!;
        await sleep(100);
        await load.stop();

        const reused = load.keepAliveSockets.map((s) => s.size);
        console.log(
          `--workers ${workers}: ${CHANGES} changes in ${changesMs.toFixed(0)} ms (${swapsLogged() - swapsAtStart} swaps); ` +
            `${load.total} requests, ${load.failureCount} failed; keep-alive sockets per client ${reused.join(',')}; ` +
            `upstream connections to main: ${warm.upstream} after warm-up, ${main.connections} at the end; tunnel echoed ${echoed} messages; ` +
            `${res.swapsDuring} swaps during the download`,
        );
        assert.deepEqual(load.failures, [], `${load.failureCount} of ${load.total} requests failed`);
        assert.ok(swapsLogged() - swapsAtStart >= CHANGES, `${swapsLogged() - swapsAtStart} swaps for ${CHANGES} changes`);
        assert.equal(aw.child.exitCode, null);
        assert.ok(load.ok > CHANGES * 20, `the load kept going through the changes (${load.ok} requests)`);
        // Keep-alive connections stayed open across every change: one socket per client for the whole run.
        assert.deepEqual(reused, reused.map(() => 1), 'keep-alive clients had to reconnect');
        // The slow download started before dozens of changes and finished on the configuration it started with.
        assert.equal(res.status, 200);
        assert.equal(res.body, Array.from({ length: STREAM_CHUNKS }, (_, i) => `chunk-${i}\n`).join(''));
        assert.ok(res.swapsDuring >= 10, `only ${res.swapsDuring} swaps happened during the download`);
        // The tunnel is still open and working.
        assert.equal(tunnel.closed, false);
        tunnel.write('last');
        assert.equal((await tunnel.read(4, 2000)).toString(), 'last');
        // Upstream pools were kept: a dropped pool would cost new backend connections on every change.
        const grew = main.connections - warm.upstream;
        assert.ok(grew < 20, `backend connections grew by ${grew} over ${CHANGES} changes (${warm.upstream} -> ${main.connections})`);
      } finally {
        await load.stop();
        tunnel.destroy();
      }
    });
  });
}
