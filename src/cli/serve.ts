// `archway serve`: wires source -> controller -> data plane (in worker threads or processes, or on the
// controller's thread with --workers 0), the manifest watcher, and the admin listener that speaks for
// the whole instance.

import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import { generateCertificate } from '../tls/certificates.ts';
import { startAdminServer } from '../admin/admin-server.ts';
import { apiDocuments } from '../admin/api.ts';
import { Controller, stderrLog } from '../controller/controller.ts';
import { statusAddresses } from '../controller/status-address.ts';
import { DataPlane, DEFAULT_DATAPLANE_OPTIONS, type DataPlaneOptions } from '../dataplane/dataplane.ts';
import type { EndpointEvent } from '../dataplane/backends.ts';
import { ManifestSource } from '../sources/manifest-source.ts';
import { ManifestWatcher } from '../sources/watch.ts';
import { WorkerPool } from '../workers/worker-pool.ts';
import { MemoryReleaser } from '../util/memory-release.ts';
import type { ServeConfig } from './serve-options.ts';

export interface RunningServer {
  httpPort: number;
  httpsPort: number;
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
    sendTimeoutMs: config.sendTimeoutMs,
    loadBalance: config.loadBalance,
    bodySizeLimit: config.bodySizeLimit,
    retryBodyLimit: config.retryBodyLimit,
    keepAliveTimeoutMs: config.keepAliveTimeoutMs,
    trustedProxies: config.trustedProxies,
    // Made once here and shipped to every worker, so all present the same certificate and accept each
    // other's session tickets (resumption across workers).
    fallbackCertificate: generateCertificate({ commonName: 'Archway default certificate', dnsNames: ['archway.invalid'] }),
    ticketKeys: randomBytes(48).toString('base64'),
    hsts: config.hsts,
    httpsRedirectPort: config.httpsRedirectPort,
  };
  const plane = config.workers === 0 ? new DataPlane(options) : null;
  const workers = config.workers === 0 ? null : new WorkerPool(config.workers, config.workerIsolation, options, { host: config.bind, port: config.httpPort }, { host: config.bind, port: config.httpsPort }, stderrLog);
  const source = new ManifestSource(config.manifests);
  const controller = new Controller(source, {
    controllerName: config.controllerName,
    ingressClass: config.ingressClass,
    watchWithoutClass: config.watchWithoutClass,
    defaultBackendService: config.defaultBackendService,
    statusAddresses: statusAddresses(config.publishStatusAddresses, config.bind),
    defaultSslCertificate: config.defaultSslCertificate,
  }, (plane ?? workers)!, stderrLog);
  let shuttingDown = false;
  // Passive health (issue 6 item 5): ejections and returns become log lines and events on the Service.
  const onEndpointEvent = (e: EndpointEvent) => {
    const [namespace, rest] = e.group.split('/');
    const service = (rest ?? '').split(':')[0].split('#')[0];
    const message = e.kind === 'ejected'
      ? `endpoint ${e.endpoint} of ${e.group} ejected for ${e.backoffMs} ms: ${e.reason}`
      : `endpoint ${e.endpoint} of ${e.group} is answering again`;
    stderrLog.info(message);
    controller.events.record({ kind: 'Service', namespace: namespace ?? '', name: service }, e.kind === 'ejected' ? 'Warning' : 'Normal', e.kind === 'ejected' ? 'EndpointEjected' : 'EndpointReturned', message);
  };
  if (plane) plane.onEndpointEvent = onEndpointEvent;
  if (workers) workers.onEndpointEvent = onEndpointEvent;

  const admin = await startAdminServer({
    ready: () => !shuttingDown && controller.ready && (plane ? !plane.draining : workers!.applied),
    documents: {
      diagnostics: () => controller.diagnostics,
      routes: () => controller.table,
      stats: () => (plane ? { ...plane.stats, openConnections: plane.openConnections, idleUpstreamConnections: plane.pool.idleCount(), workers: 0 } : workers!.stats()),
      ...apiDocuments(controller),
    },
  }, config.adminBind, config.adminPort);

  // After a rebuild the pages its garbage occupied stay resident until released (util/memory-release.ts):
  // once things settle, and only when this thread's heap grew by 32 MB since the last release, since a
  // release pauses the thread (the data plane too, with --workers 0) for a few full collections.
  const releaser = new MemoryReleaser();
  const syncCount = () => controller.counters.fullSyncs + controller.counters.fastLaneSyncs;
  const watcher = new ManifestWatcher(() => {
    const before = syncCount();
    void controller.refresh().then(() => {
      if (syncCount() !== before) releaser.afterBurst();
    });
  });
  let httpPort: number;
  let httpsPort: number;
  try {
    await source.loadAll();
    controller.sync();
    if (plane) {
      httpPort = await plane.listenHttp(config.bind, config.httpPort);
      httpsPort = await plane.listenHttps(config.bind, config.httpsPort);
    } else {
      ({ http: httpPort, https: httpsPort } = await workers!.start());
    }
    if (workers) await workers.waitApplied();
    await watcher.start(config.manifests);
    // A second build of the same objects reuses every host (model/build.ts BuildMemo): it runs the code
    // path of every later change once, so the first real change is served with compiled code, not
    // interpreted (at 10,000 Ingresses: 430 ms instead of 210 ms). Same table, so nothing is swapped.
    controller.sync();
    releaser.afterBurst();
  } catch (e) {
    watcher.close();
    plane?.close();
    await workers?.stop(0);
    await closeServer(admin.server);
    throw e;
  }
  if (workers) {
    stderrLog.info(workers.isolation === 'process'
      ? `data plane: ${workers.count} worker process(es), pids ${workers.pids.join(', ')}`
      : `data plane: ${workers.count} worker thread(s)`);
  }
  stderrLog.info(`listening on http://${config.bind}:${httpPort}, admin on http://${config.adminBind}:${admin.port}`);
  stderrLog.info(`listening on https://${config.bind}:${httpsPort}`);

  return {
    httpPort,
    httpsPort,
    adminPort: admin.port,
    controller,
    plane,
    workers,
    async shutdown() {
      shuttingDown = true;
      watcher.close();
      releaser.cancel();
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
      releaser.cancel();
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
