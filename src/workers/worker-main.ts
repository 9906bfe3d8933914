// Entry point of a data-plane worker, a thread or a process (worker-link.ts): one DataPlane, its own
// SO_REUSEPORT listener, tables received from the primary as messages. Knows nothing of Kubernetes
// (ARCHITECTURE.md rule 6). In a worker thread process.exit ends the thread, not the instance.

import { isMainThread, parentPort } from 'node:worker_threads';
import { DataPlane } from '../dataplane/dataplane.ts';
import { MemoryReleaser } from '../util/memory-release.ts';
import type { FromWorker, ListenSpec, ToWorker } from './protocol.ts';

let plane: DataPlane | null = null;
/**
 * Tables and deltas leave garbage whose pages V8 keeps: give them back once things settle, but only
 * when the worker's heap grew by 32 MB since the last release (MemoryReleaser), because a release
 * pauses this worker's traffic for about 50 ms. So a small configuration never pauses (when workers
 * were processes, at 10,000 Ingresses they stayed at 103-114 MB through 60 changes this way, 144-187
 * MB when only full tables released). Made at 'init', before the data plane, so the first table's
 * growth counts (a table arrives already deserialized).
 */
let releaser: MemoryReleaser | null = null;

/**
 * Traffic grows a worker's young generation (up to its cap, worker-link.ts) and no table arrives to
 * trigger a release afterwards: when a worker served no request for a whole second, it gives back
 * what grew by 8 MB or more (at 10,000 Ingresses the instance kept 303 MB at rest after a burst of
 * polling traffic instead of 280). Idle, so the release's pause costs nobody anything.
 */
const IDLE_CHECK_MS = 1000;
const IDLE_GROWTH_BYTES = 8 * 2 ** 20;

function send(m: FromWorker): void {
  if (parentPort) parentPort.postMessage(m);
  else process.send?.(m);
}

(parentPort ?? process).on('message', (raw: unknown) => {
  const m = raw as ToWorker;
  switch (m.type) {
    case 'init': {
      releaser ??= new MemoryReleaser();
      const p = new DataPlane(m.options);
      plane = p;
      p.onEndpointEvent = (event) => send({ type: 'endpoint', event });
      releaser.releaseWhenIdle(() => p.stats.requests, IDLE_CHECK_MS, IDLE_GROWTH_BYTES);
      void listen(p, m.http, m.https);
      break;
    }
    case 'table':
      plane?.setTable(m.table);
      send({ type: 'applied', hash: m.table.hash });
      releaser?.afterBurst();
      break;
    case 'delta':
      if (plane?.applyDelta(m.delta)) send({ type: 'applied', hash: m.delta.hash });
      else send({ type: 'resync', hash: m.delta.hash });
      releaser?.afterBurst();
      break;
    case 'stats':
      if (plane) send({ type: 'stats', id: m.id, stats: { ...plane.stats, openConnections: plane.openConnections, idleUpstreamConnections: plane.pool.idleCount() } });
      break;
    case 'drain':
      if (!plane) process.exit(0);
      void drainAndExit(plane, m.graceMs);
      break;
  }
});

async function listen(p: DataPlane, http: ListenSpec, https: ListenSpec | null): Promise<void> {
  let spec = http;
  try {
    const port = await p.listenHttp(http.host, http.port, true);
    let httpsPort = 0;
    if (https) {
      spec = https;
      httpsPort = await p.listenHttps(https.host, https.port, true);
    }
    send({ type: 'listening', port, httpsPort });
  } catch (e) {
    send({ type: 'error', message: `cannot listen on ${spec.host}:${spec.port}: ${(e as Error).message}` });
    process.exit(1);
  }
}

async function drainAndExit(p: DataPlane, graceMs: number): Promise<void> {
  await p.drain();
  await p.waitIdle(graceMs);
  p.close();
  send({ type: 'drained' });
  process.exit(0);
}

if (isMainThread) {
  // A worker process. The primary going away means this worker must too (no orphans holding the port).
  process.on('disconnect', () => process.exit(0));
  // The primary coordinates shutdown: a terminal's Ctrl-C, or a SIGTERM sent to the whole process
  // group (systemd's default kill mode, `kill -- -PGID`), must not drop this worker's in-flight requests.
  process.on('SIGINT', () => {});
  process.on('SIGTERM', () => {});
}
