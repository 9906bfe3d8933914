// `archway serve`: wires source -> controller -> data plane (in worker processes, or in-process with
// --workers 0), the manifest watcher, and the admin listener that speaks for the whole instance.

import type { Server } from 'node:http';
import { startAdminServer } from '../admin/admin-server.ts';
import { apiDocuments } from '../admin/api.ts';
import { Controller, stderrLog } from '../controller/controller.ts';
import { statusAddresses } from '../controller/status-address.ts';
import { DataPlane, DEFAULT_DATAPLANE_OPTIONS, type DataPlaneOptions } from '../dataplane/dataplane.ts';
import { ManifestSource } from '../sources/manifest-source.ts';
import { ManifestWatcher } from '../sources/watch.ts';
import { WorkerPool } from '../workers/worker-pool.ts';
import type { ServeConfig } from './serve-options.ts';

export interface RunningServer {
  httpPort: number;
  adminPort: number;
  controller: Controller;
  /** The in-process data plane (--workers 0), else null. */
  plane: DataPlane | null;
  workers: WorkerPool | null;
  /** Graceful: not ready at once, stop accepting, let in-flight requests finish within the grace period. */
  shutdown(): Promise<void>;
  /** Immediate stop (tests). */
  stop(): Promise<void>;
}

export async function startServe(config: ServeConfig): Promise<RunningServer> {
  const options: DataPlaneOptions = {
    ...DEFAULT_DATAPLANE_OPTIONS,
    maxHeadSize: config.maxHeaderSize,
    connectTimeoutMs: config.connectTimeoutMs,
    readTimeoutMs: config.readTimeoutMs,
    keepAliveTimeoutMs: config.keepAliveTimeoutMs,
    trustedProxies: config.trustedProxies,
  };
  const plane = config.workers === 0 ? new DataPlane(options) : null;
  const workers = config.workers === 0 ? null : new WorkerPool(config.workers, options, { host: config.bind, port: config.httpPort }, stderrLog);
  const source = new ManifestSource(config.manifests);
  const controller = new Controller(source, {
    controllerName: config.controllerName,
    ingressClass: config.ingressClass,
    watchWithoutClass: config.watchWithoutClass,
    defaultBackendService: config.defaultBackendService,
    statusAddresses: statusAddresses(config.publishStatusAddresses, config.bind),
  }, (plane ?? workers)!, stderrLog);
  let shuttingDown = false;

  const admin = await startAdminServer({
    ready: () => !shuttingDown && controller.ready && (plane ? !plane.draining : workers!.applied),
    documents: {
      diagnostics: () => controller.diagnostics,
      routes: () => controller.table,
      stats: () => (plane ? { ...plane.stats, openConnections: plane.openConnections, idleUpstreamConnections: plane.pool.idleCount(), workers: 0 } : workers!.stats()),
      ...apiDocuments(controller),
    },
  }, config.adminBind, config.adminPort);

  const watcher = new ManifestWatcher(() => void controller.refresh());
  let httpPort: number;
  try {
    await source.loadAll();
    controller.sync();
    httpPort = plane ? await plane.listenHttp(config.bind, config.httpPort) : await workers!.start();
    if (workers) await workers.waitApplied();
    await watcher.start(config.manifests);
  } catch (e) {
    watcher.close();
    plane?.close();
    await workers?.stop(0);
    await closeServer(admin.server);
    throw e;
  }
  if (workers) stderrLog.info(`data plane: ${workers.count} worker process(es), pids ${workers.pids.join(', ')}`);
  stderrLog.info(`listening on http://${config.bind}:${httpPort}, admin on http://${config.adminBind}:${admin.port}`);

  return {
    httpPort,
    adminPort: admin.port,
    controller,
    plane,
    workers,
    async shutdown() {
      shuttingDown = true;
      watcher.close();
      stderrLog.info(`shutting down: finishing in-flight requests (grace period ${config.shutdownGraceMs} ms)`);
      if (plane) {
        await plane.drain();
        await plane.waitIdle(config.shutdownGraceMs);
        plane.close();
      }
      await workers?.stop(config.shutdownGraceMs);
      await closeServer(admin.server);
    },
    async stop() {
      shuttingDown = true;
      watcher.close();
      plane?.close();
      await workers?.stop(0);
      await closeServer(admin.server);
    },
  };
}

async function closeServer(server: Server): Promise<void> {
  const closed = new Promise<void>((r) => server.close(() => r()));
  server.closeAllConnections();
  await closed;
}
