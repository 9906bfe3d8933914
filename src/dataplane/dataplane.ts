// The data plane: listeners, the current routing table (one swap point), backend groups, the upstream
// pool and the sweep timer that enforces timeouts. Never imports Kubernetes types (ARCHITECTURE.md).

import { createServer, type Server, type Socket } from 'node:net';
import { Router } from '../snapshot/router.ts';
import type { BackendTable, RoutingTable } from '../snapshot/table.ts';
import { buildGroups, type BackendGroup } from './backends.ts';
import { ClientConn } from './client.ts';
import { clock, tick } from './clock.ts';
import { TrustedProxies } from './trust.ts';
import { UpstreamPool } from './upstream.ts';

export interface DataPlaneOptions {
  /** Largest request head accepted (--max-header-size); larger gets 431. */
  maxHeadSize: number;
  connectTimeoutMs: number;
  readTimeoutMs: number;
  /** Idle keep-alive client connections are closed after this. */
  keepAliveTimeoutMs: number;
  /** A request head must arrive completely within this. */
  headerTimeoutMs: number;
  trustedProxies: readonly string[];
}

export const DEFAULT_DATAPLANE_OPTIONS: DataPlaneOptions = {
  maxHeadSize: 16 * 1024,
  connectTimeoutMs: 5_000,
  readTimeoutMs: 60_000,
  keepAliveTimeoutMs: 75_000,
  headerTimeoutMs: 60_000,
  trustedProxies: [],
};

export interface DataPlaneStats {
  connections: number;
  requests: number;
  responses: number;
  badRequests: number;
  upstreamErrors: number;
}

const EMPTY_TABLE: RoutingTable = {
  hash: '', hosts: {}, wildcards: {}, hostless: null, defaultAction: null, backends: {},
  tls: { certificates: {}, hosts: {}, wildcards: {}, defaultCertificate: null },
};

/** Sweep period: timeouts fire within this much of their setting. */
const SWEEP_MS = 100;

export class DataPlane {
  readonly options: DataPlaneOptions;
  readonly pool = new UpstreamPool();
  readonly trusted: TrustedProxies;
  readonly stats: DataPlaneStats = { connections: 0, requests: 0, responses: 0, badRequests: 0, upstreamErrors: 0 };
  router: Router;
  backends: Map<string, BackendGroup> = new Map();
  table: RoutingTable | null = null;
  draining = false;
  #servers: Server[] = [];
  #conns = new Set<ClientConn>();
  #timer: NodeJS.Timeout;
  #sweepCount = 0;

  constructor(options: Partial<DataPlaneOptions> = {}) {
    this.options = { ...DEFAULT_DATAPLANE_OPTIONS, ...options };
    this.trusted = new TrustedProxies(this.options.trustedProxies);
    this.router = new Router(EMPTY_TABLE);
    this.#timer = setInterval(this.#sweep, SWEEP_MS);
    this.#timer.unref();
  }

  /** Installs a new routing table in one step; requests in flight keep the route they already resolved. */
  setTable(table: RoutingTable): void {
    const router = new Router(table);
    this.router = router;
    this.table = table;
    this.#installBackends(table.backends);
  }

  /** Endpoint fast lane: new address lists, same routes (issue 4 item 3). */
  setBackends(hash: string, backends: Record<string, BackendTable>): void {
    if (this.table) this.table = { ...this.table, hash, backends };
    this.#installBackends(backends);
  }

  #installBackends(backends: Record<string, BackendTable>): void {
    const groups = buildGroups(backends, this.backends);
    this.backends = groups;
    // Pools of endpoints that still exist survive the swap; requests running on a removed endpoint
    // finish on their connection (it is destroyed, not pooled, when they release it).
    const keys = new Set<string>();
    for (const g of groups.values()) for (const e of g.endpoints) keys.add(e.key);
    this.pool.retain(keys);
  }

  /**
   * Listens for plain HTTP on host:port (port 0: ephemeral). Resolves with the bound port.
   * `reusePort`: several worker processes bind the same port and the kernel spreads connections.
   */
  listenHttp(host: string, port: number, reusePort = false): Promise<number> {
    const server = createServer({ allowHalfOpen: true, noDelay: true }, (socket) => this.#accept(socket, 'http'));
    this.#servers.push(server);
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host, port, backlog: 4096, reusePort }, () => {
        server.off('error', reject);
        const addr = server.address();
        resolve(typeof addr === 'object' && addr !== null ? addr.port : port);
      });
    });
  }

  #accept(socket: Socket, proto: 'http' | 'https'): void {
    if (this.draining) {
      socket.destroy();
      return;
    }
    const ip = normalizeIp(socket.remoteAddress ?? '');
    const conn = new ClientConn(this, socket, {
      clientIp: ip,
      trusted: this.trusted.trusts(ip),
      proto,
      port: String(socket.localPort ?? ''),
    });
    this.#conns.add(conn);
    this.stats.connections++;
  }

  forget(conn: ClientConn): void {
    this.#conns.delete(conn);
  }

  get openConnections(): number {
    return this.#conns.size;
  }

  #sweep = (): void => {
    tick();
    const now = clock.now;
    for (const c of this.#conns) c.expire(now);
    if (++this.#sweepCount % 10 === 0) this.pool.sweep(now);
  };

  /** Stops accepting; idle connections close now, busy ones after their current response. */
  async drain(): Promise<void> {
    this.draining = true;
    await Promise.all(this.#servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
    for (const c of this.#conns) c.drain();
  }

  /** Waits until every client connection has closed, or the deadline passes. */
  async waitIdle(timeoutMs: number): Promise<boolean> {
    const until = Date.now() + timeoutMs;
    while (this.#conns.size > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    return this.#conns.size === 0;
  }

  /** Immediate stop: for tests and the end of a grace period. */
  close(): void {
    this.draining = true;
    clearInterval(this.#timer);
    for (const s of this.#servers) s.close();
    for (const c of this.#conns) c.socket.destroy();
    this.#conns.clear();
    this.pool.closeAll();
  }
}

function normalizeIp(ip: string): string {
  return ip.startsWith('::ffff:') && ip.includes('.') ? ip.slice(7) : ip;
}
