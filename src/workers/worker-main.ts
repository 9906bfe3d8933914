// Entry point of a data-plane worker process: one DataPlane, its own SO_REUSEPORT listener, tables
// received from the primary over IPC. Knows nothing of Kubernetes (ARCHITECTURE.md rule 6).

import { DataPlane } from '../dataplane/dataplane.ts';
import { MemoryReleaser } from '../util/memory-release.ts';
import type { FromWorker, ListenSpec, ToWorker } from './protocol.ts';

let plane: DataPlane | null = null;
/**
 * A full table replaces a lot of objects: give the freed pages back once it settles. Not after deltas
 * or endpoint updates: they make little garbage and can come every few seconds, and a release pauses
 * this worker's traffic for a few full collections. Made at the first table, so the growth it weighs
 * is the table's, not the start-up's (a small table is not worth a pause).
 */
let releaser: MemoryReleaser | null = null;

function send(m: FromWorker): void {
  process.send?.(m);
}

process.on('message', (raw: unknown) => {
  const m = raw as ToWorker;
  switch (m.type) {
    case 'init':
      plane = new DataPlane(m.options);
      plane.onEndpointEvent = (event) => send({ type: 'endpoint', event });
      void listen(plane, m.http, m.https);
      break;
    case 'table':
      releaser ??= new MemoryReleaser();
      plane?.setTable(m.table);
      send({ type: 'applied', hash: m.table.hash });
      releaser.afterBurst();
      break;
    case 'delta':
      if (plane?.applyDelta(m.delta)) send({ type: 'applied', hash: m.delta.hash });
      else send({ type: 'resync', hash: m.delta.hash });
      break;
    case 'backends':
      plane?.setBackends(m.hash, m.backends);
      send({ type: 'applied', hash: m.hash });
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

// The primary going away means this worker must too (no orphans holding the port).
process.on('disconnect', () => process.exit(0));
// The primary coordinates shutdown: a terminal's Ctrl-C, or a SIGTERM sent to the whole process group
// (systemd's default kill mode, `kill -- -PGID`), must not drop this worker's in-flight requests.
process.on('SIGINT', () => {});
process.on('SIGTERM', () => {});
