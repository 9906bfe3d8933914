// The data plane: listeners, the current routing table (one swap point), backend groups, the upstream
// pool and the sweep timer that enforces timeouts. Never imports Kubernetes types (ARCHITECTURE.md).

import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type Server as TlsServer, type TLSSocket } from 'node:tls';
import { generateCertificate } from '../tls/certificates.ts';
import { TLS_BASE_OPTIONS, TlsContexts, type PemPair } from './tls-contexts.ts';
import { H2Frontend } from './h2.ts';
import { Router } from '../snapshot/router.ts';
import type { BackendTable, LoadBalancePolicy, RoutingTable, UpstreamPolicy } from '../snapshot/table.ts';
import { applyDelta, knownDelta, type TableDelta } from '../snapshot/delta.ts';
import { buildGroups, countEndpointUses, patchGroups, type BackendGroup, type Endpoint, type EndpointEvent } from './backends.ts';
import { compilePolicy, defaultPolicy, type RuntimePolicy } from './route-policy.ts';
import { ClientConn } from './client.ts';
import { clock, tick } from './clock.ts';
import { TrustedProxies } from './trust.ts';
import { localAuthority } from './forward-headers.ts';
import { warmUp } from './warm-up.ts';
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
  /** Certificate for clients without SNI match when the table names no default (self-signed, made at start). */
  fallbackCertificate: PemPair | null;
  /** Shared TLS session ticket keys (48 bytes, base64) so resumption works across workers. */
  ticketKeys: string | null;
  /** `Strict-Transport-Security` value added to HTTPS responses; '' for none. */
  hsts: string;
  /** Port in https redirects (443 is left out of the Location). */
  httpsRedirectPort: number;
  /** --load-balance: the policy of routes without a load-balance annotation. */
  loadBalance: LoadBalancePolicy;
  /** Upstream write inactivity limit while a request body is being sent (proxy-send-timeout). */
  sendTimeoutMs: number;
  /** --proxy-body-size: 413 above this many request body bytes; 0 = unlimited (bodies are streamed). */
  bodySizeLimit: number;
  /** --retry-body-limit: bodies up to this size are held so a failed attempt can be retried elsewhere. */
  retryBodyLimit: number;
}

export const DEFAULT_DATAPLANE_OPTIONS: DataPlaneOptions = {
  maxHeadSize: 16 * 1024,
  connectTimeoutMs: 5_000,
  readTimeoutMs: 60_000,
  keepAliveTimeoutMs: 75_000,
  headerTimeoutMs: 60_000,
  trustedProxies: [],
  fallbackCertificate: null,
  ticketKeys: null,
  hsts: 'max-age=31536000; includeSubDomains',
  httpsRedirectPort: 443,
  loadBalance: 'round_robin',
  sendTimeoutMs: 60_000,
  bodySizeLimit: 0,
  retryBodyLimit: 64 * 1024,
};

export interface DataPlaneStats {
  connections: number;
  requests: number;
  responses: number;
  badRequests: number;
  upstreamErrors: number;
  tlsErrors: number;
  /** Attempts retried on another endpoint (proxy-next-upstream). */
  retries: number;
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
  readonly stats: DataPlaneStats = { connections: 0, requests: 0, responses: 0, badRequests: 0, upstreamErrors: 0, tlsErrors: 0, retries: 0 };
  router: Router;
  backends: Map<string, BackendGroup> = new Map();
  /** The current table without its plain host entries (see withoutHosts); `router` routes. */
  table: RoutingTable | null = null;
  draining = false;
  #servers: Server[] = [];
  /** Live state of every endpoint, shared by all groups that contain it. */
  #endpoints = new Map<string, Endpoint>();
  /** How many groups use each endpoint of #endpoints (patchGroups keeps it current). */
  #endpointUses = new Map<string, number>();
  /** Routes without an upstream-policy annotation all use this one. */
  readonly defaultPolicy: RuntimePolicy;
  #policies = new WeakMap<UpstreamPolicy, RuntimePolicy>();
  /** Passive-health transitions (ejected / returned), for events and logs (issue 6 item 5). */
  onEndpointEvent: ((e: EndpointEvent) => void) | null = null;
  #tlsServers: TlsServer[] = [];
  #tls: TlsContexts | null = null;
  #tlsDefaultId: string | null = null;
  #tlsDefaultSet = false;
  #h2: H2Frontend | null = null;
  #conns = new Set<ClientConn>();
  #timer: NodeJS.Timeout;
  #sweepCount = 0;

  constructor(options: Partial<DataPlaneOptions> = {}) {
    this.options = { ...DEFAULT_DATAPLANE_OPTIONS, ...options };
    this.trusted = new TrustedProxies(this.options.trustedProxies);
    this.defaultPolicy = defaultPolicy(this.options);
    warmUp();
    this.router = new Router(EMPTY_TABLE);
    this.#timer = setInterval(this.#sweep, SWEEP_MS);
    this.#timer.unref();
  }

  /**
   * Installs a new routing table in one step; requests in flight keep the route they already resolved.
   * A table hashed against the current one (the controller's, in its own process) is applied as its
   * delta: unchanged hosts and backend groups are kept, not rebuilt.
   */
  setTable(table: RoutingTable): void {
    const delta = this.table === null ? null : knownDelta(this.table, table);
    if (delta !== null && this.applyDelta(delta)) return;
    const router = new Router(table);
    this.router = router;
    this.table = withoutHosts(table);
    if (this.#tls) this.#installTls(table);
    this.#installBackends(table.backends);
  }

  /**
   * Applies a table delta to the current table; false (nothing changed) when the delta was computed
   * from another table than ours, and the sender must send the whole table.
   */
  applyDelta(delta: TableDelta): boolean {
    const base = this.table;
    if (base === null || base.hash !== delta.baseHash) return false;
    const table = applyDelta(base, delta);
    this.router = new Router(table, { router: this.router, delta });
    this.table = withoutHosts(table);
    if (this.#tls) this.#installTls(table);
    // Only the backends the delta names (buildGroups would keep every other group as it is anyway).
    if (patchGroups(this.backends, delta.backends, this.#endpoints, this.#endpointUses)) this.pool.retain(this.#endpoints);
    return true;
  }

  #installTls(table: RoutingTable): void {
    const tls = this.#tls!;
    const previousDefault = this.#tlsDefaultId;
    tls.update(table.tls);
    this.#tlsDefaultId = table.tls.defaultCertificate;
    if (previousDefault === this.#tlsDefaultId && this.#tlsDefaultSet) return;
    this.#tlsDefaultSet = true;
    // Clients without SNI get the server's own context: keep it on the current default certificate.
    for (const s of this.#tlsServers) {
      try {
        s.setSecureContext({ ...TLS_BASE_OPTIONS, ...this.#tlsDefaultPem(table) });
      } catch {
        s.setSecureContext({ ...TLS_BASE_OPTIONS, ...tls.defaultOptions() });
      }
    }
  }

  #tlsDefaultPem(table: RoutingTable): PemPair {
    const id = table.tls.defaultCertificate;
    return (id !== null ? table.tls.certificates[id] : undefined) ?? this.#tls!.defaultOptions();
  }

  #installBackends(backends: Record<string, BackendTable>): void {
    const groups = buildGroups(backends, this.backends, this.#endpoints);
    this.backends = groups;
    this.#endpointUses = countEndpointUses(groups);
    // Pools of endpoints that still exist survive the swap; requests running on a removed endpoint
    // finish on their connection (it is destroyed, not pooled, when they release it). The registry
    // holds exactly the endpoints the groups use.
    this.pool.retain(this.#endpoints);
  }

  /**
   * Listens for plain HTTP on host:port (port 0: ephemeral). Resolves with the bound port.
   * `reusePort`: several worker processes bind the same port and the kernel spreads connections.
   */
  listenHttp(host: string, port: number, reusePort = false): Promise<number> {
    const server = createServer({ allowHalfOpen: true, noDelay: true }, (socket) => this.#accept(socket, 'http'));
    return this.#listen(server, host, port, reusePort);
  }

  #listen(server: Server, host: string, port: number, reusePort: boolean): Promise<number> {
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

  /**
   * Listens for HTTPS: certificates by SNI from the table, TLS 1.2+ with the intermediate profile, ALPN
   * h2 and http/1.1 (issue 5). HTTP/1.1 over TLS runs through the same strict connection code as plain HTTP.
   */
  listenHttps(host: string, port: number, reusePort = false): Promise<number> {
    const fallback = this.options.fallbackCertificate ?? generateCertificate({ commonName: 'Archway default certificate', dnsNames: ['archway.invalid'] });
    const contexts = (this.#tls ??= new TlsContexts(fallback));
    if (this.table) contexts.update(this.table.tls);
    const server = createTlsServer({
      ...TLS_BASE_OPTIONS,
      ...(this.table ? this.#tlsDefaultPem(this.table) : contexts.defaultOptions()),
      ALPNProtocols: ['h2', 'http/1.1'],
      // Not half-open during the handshake: a client that gives up (e.g. rejects our certificate under
      // TLS 1.3) must free its socket at once, not after handshakeTimeout. HTTP/1.1 connections turn
      // half-open support on once established (RFC 9112 §9.6 handling in ClientConn).
      handshakeTimeout: 10_000,
      ticketKeys: this.options.ticketKeys ? Buffer.from(this.options.ticketKeys, 'base64') : undefined,
      SNICallback: (servername, cb) => cb(null, contexts.contextFor(servername)),
    });
    this.#tlsServers.push(server);
    server.once('listening', () => {
      // --https-redirect-port unset with an ephemeral --https-port: redirect to the port actually bound.
      const a = server.address();
      if (this.options.httpsRedirectPort === 0 && typeof a === 'object' && a !== null) this.options.httpsRedirectPort = a.port;
    });
    server.on('secureConnection', (socket: TLSSocket) => {
      if (socket.alpnProtocol === 'h2') this.#acceptH2(socket);
      else {
        socket.allowHalfOpen = true;
        this.#accept(socket, 'https');
      }
    });
    server.on('tlsClientError', (_e: Error, socket: TLSSocket) => {
      this.stats.tlsErrors++;
      socket.destroy();
    });
    return this.#listen(server, host, port, reusePort);
  }

  #acceptH2(socket: TLSSocket): void {
    if (this.draining) {
      socket.destroy();
      return;
    }
    (this.#h2 ??= new H2Frontend(this)).accept(socket);
  }

  /** The run-time policy of a route (compiled once per table object). */
  policyFor(p: UpstreamPolicy | undefined): RuntimePolicy {
    if (p === undefined) return this.defaultPolicy;
    let r = this.#policies.get(p);
    if (r === undefined) this.#policies.set(p, (r = compilePolicy(p, this.options)));
    return r;
  }

  endpointEvent(e: EndpointEvent): void {
    this.onEndpointEvent?.(e);
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
      local: localAuthority(socket),
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
    this.#h2?.sweep(now);
    if (++this.#sweepCount % 10 === 0) this.pool.sweep(now);
  };

  /** Stops accepting; idle connections close now, busy ones after their current response. */
  async drain(): Promise<void> {
    this.draining = true;
    // Stop accepting now; close()'s callback waits for every connection, so do not wait for it here.
    for (const s of this.#servers) s.close();
    for (const c of this.#conns) c.drain();
    this.#h2?.drain();
  }

  /** Waits until every client connection has closed, or the deadline passes. */
  async waitIdle(timeoutMs: number): Promise<boolean> {
    const until = Date.now() + timeoutMs;
    while ((this.#conns.size > 0 || (this.#h2?.activeStreams ?? 0) > 0) && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    return this.#conns.size === 0;
  }

  /** Immediate stop: for tests and the end of a grace period. */
  close(): void {
    this.draining = true;
    clearInterval(this.#timer);
    for (const s of this.#servers) s.close();
    for (const c of this.#conns) c.socket.destroy();
    this.#conns.clear();
    this.#h2?.close();
    this.pool.closeAll();
  }
}

function normalizeIp(ip: string): string {
  return ip.startsWith('::ffff:') && ip.includes('.') ? ip.slice(7) : ip;
}

const NO_HOSTS: Record<string, never> = Object.freeze({});

/**
 * The table as the data plane keeps it: the router holds the hosts in compiled form and deltas patch
 * the router, so the plain host entries are never read again (10 MB per worker at 10,000 Ingresses,
 * issue 4 item 10). Hash, backends, TLS and the host-less rules stay.
 */
function withoutHosts(t: RoutingTable): RoutingTable {
  return { ...t, hosts: NO_HOSTS, wildcards: NO_HOSTS };
}
