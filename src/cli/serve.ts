// `archway serve`: wires source -> controller -> data plane, plus the admin listener.

import { startAdminServer } from '../admin/admin-server.ts';
import { Controller, stderrLog } from '../controller/controller.ts';
import { ManifestSource } from '../controller/manifest-source.ts';
import { DataPlane } from '../dataplane/dataplane.ts';
import type { ServeConfig } from './serve-options.ts';

export interface RunningServer {
  httpPort: number;
  adminPort: number;
  controller: Controller;
  plane: DataPlane;
  stop(): Promise<void>;
}

export async function startServe(config: ServeConfig): Promise<RunningServer> {
  const plane = new DataPlane({
    maxHeadSize: config.maxHeaderSize,
    connectTimeoutMs: config.connectTimeoutMs,
    readTimeoutMs: config.readTimeoutMs,
    keepAliveTimeoutMs: config.keepAliveTimeoutMs,
    trustedProxies: config.trustedProxies,
  });
  const source = new ManifestSource(config.manifests);
  const controller = new Controller(source, {
    controllerName: config.controllerName,
    ingressClass: config.ingressClass,
    watchWithoutClass: config.watchWithoutClass,
    defaultBackendService: config.defaultBackendService,
  }, plane, stderrLog);

  const admin = await startAdminServer({
    ready: () => controller.ready && !plane.draining,
    documents: {
      diagnostics: () => controller.diagnostics,
      routes: () => controller.table,
      stats: () => ({ ...plane.stats, openConnections: plane.openConnections, idleUpstreamConnections: plane.pool.idleCount() }),
    },
  }, config.adminBind, config.adminPort);

  await source.loadAll();
  controller.sync();
  const httpPort = await plane.listenHttp(config.bind, config.httpPort);
  stderrLog.info(`listening on http://${config.bind}:${httpPort}, admin on http://${config.adminBind}:${admin.port}`);

  return {
    httpPort,
    adminPort: admin.port,
    controller,
    plane,
    async stop() {
      plane.close();
      await new Promise<void>((r) => admin.server.close(() => r()));
      admin.server.closeAllConnections();
    },
  };
}
