// The primary side of the data-plane workers: starts N workers (threads or processes, worker-link.ts),
// ships every routing table to each, restarts a crashed worker without disturbing the others, and
// answers for the whole instance.

import { createServer, type Server } from 'node:net';
import type { DataPlaneOptions, DataPlaneStats } from '../dataplane/dataplane.ts';
import type { RoutingTable } from '../snapshot/table.ts';
import { diffTables, fingerprintTable, type TableDelta, type TableFingerprints } from '../snapshot/delta.ts';
import type { FromWorker, ListenSpec, ToWorker } from './protocol.ts';
import type { EndpointEvent } from '../dataplane/backends.ts';
import { startWorker, type WorkerIsolation, type WorkerLink } from './worker-link.ts';

export type InstanceStats = DataPlaneStats & { openConnections: number; idleUpstreamConnections: number; workers: number };

interface Worker {
  index: number;
  link: WorkerLink;
  exited: Promise<void>;
  listening: boolean;
  appliedHash: string;
  /** Hash of the last table, delta or backends sent: the base a delta must match. */
  sentHash: string;
  restarts: number;
}

export interface WorkerPoolLog {
  info(msg: string): void;
}

export class WorkerPool {
  readonly count: number;
  readonly isolation: WorkerIsolation;
  readonly options: DataPlaneOptions;
  readonly log: WorkerPoolLog;
  #http: ListenSpec;
  #https: ListenSpec | null;
  #workers: (Worker | null)[] = [];
  #table: RoutingTable | null = null;
  /** Fingerprints of #table's entries, to compute the next delta. */
  #prints: TableFingerprints | null = null;
  #stopping = false;
  #statsId = 0;
  #pendingStats = new Map<number, { left: number; acc: InstanceStats; done: (s: InstanceStats) => void }>();
  /** Port reservations held while workers bind with SO_REUSEPORT (port 0 must mean one port for all). */
  #reservations: Server[] = [];
  #waiters: Array<() => void> = [];
  /** Passive-health transitions reported by any worker. */
  onEndpointEvent: ((e: EndpointEvent) => void) | null = null;
  /** First error a worker reported before every worker listened: start() fails with it. */
  #startError = '';

  constructor(count: number, isolation: WorkerIsolation, options: DataPlaneOptions, http: ListenSpec, https: ListenSpec | null, log: WorkerPoolLog) {
    this.count = count;
    this.isolation = isolation;
    this.options = options;
    this.#http = { ...http };
    this.#https = https ? { ...https } : null;
    this.log = log;
  }

  /** Starts the workers and resolves with the HTTP and HTTPS ports once every worker listens. */
  async start(): Promise<{ http: number; https: number }> {
    for (const spec of [this.#http, this.#https]) {
      if (!spec) continue;
      if (spec.port === 0) spec.port = await this.#reserve(spec.host);
      // SO_REUSEPORT would let a second instance silently share a port another one serves: probe first.
      else await probeExclusive(spec);
    }
    for (let i = 0; i < this.count; i++) this.#spawn(i, 0);
    const ok = await this.#until(() => this.#startError !== '' || this.#workers.every((w) => w !== null && w.listening));
    if (this.#startError !== '' || !ok) {
      await this.stop(0);
      throw new Error(this.#startError || 'data-plane workers did not start listening in time');
    }
    await this.#release();
    return { http: this.#http.port, https: this.#https?.port ?? 0 };
  }

  /** Reserves one ephemeral port in the SO_REUSEPORT group; the workers join it and then we leave. */
  async #reserve(host: string): Promise<number> {
    const r = createServer();
    await new Promise<void>((resolve, reject) => {
      r.once('error', reject);
      r.listen({ host, port: 0, reusePort: true, backlog: 1 }, () => resolve());
    });
    r.on('connection', (s) => s.destroy());
    this.#reservations.push(r);
    const a = r.address();
    return typeof a === 'object' && a ? a.port : 0;
  }

  async #release(): Promise<void> {
    const rs = this.#reservations.splice(0);
    await Promise.all(rs.map((r) => new Promise<void>((resolve) => r.close(() => resolve()))));
  }

  /**
   * TableSink: ship the table to every worker (and to any worker started later). A worker that holds
   * the previous table gets only the delta (issue 4 item 10; for an endpoint fast-lane table, the
   * backends whose entries changed); any other gets the whole table.
   */
  setTable(table: RoutingTable): void {
    const prev = this.#table;
    let delta: TableDelta | null = null;
    if (prev !== null && this.#prints !== null) {
      const r = diffTables(prev, this.#prints, table);
      delta = r.delta;
      this.#prints = r.prints;
    } else {
      this.#prints = fingerprintTable(table);
    }
    this.#table = table;
    for (const w of this.#workers) {
      if (!w) continue;
      if (delta !== null && w.sentHash === delta.baseHash) this.#send(w, { type: 'delta', delta });
      else this.#send(w, { type: 'table', table });
      w.sentHash = table.hash;
    }
  }

  /** Every live worker is serving the current table. */
  get applied(): boolean {
    const hash = this.#table?.hash;
    return hash !== undefined && this.#workers.every((w) => w !== null && w.listening && w.appliedHash === hash);
  }

  /** Resolves once every worker applied the current table (or the timeout passes). */
  waitApplied(timeoutMs = 10_000): Promise<boolean> {
    return this.#until(() => this.applied, timeoutMs);
  }

  /** Process ids of the workers (process isolation; empty with threads). */
  get pids(): number[] {
    return this.#workers.flatMap((w) => (w?.link.pid ? [w.link.pid] : []));
  }

  /** "thread 1, thread 2" or "pid 10, pid 11". */
  get labels(): string[] {
    return this.#workers.flatMap((w) => (w ? [w.link.label] : []));
  }

  /** Stops worker `index` abruptly, as a crash would (for tests): it is restarted like a crashed one. */
  kill(index: number): void {
    this.#workers[index]?.link.kill();
  }

  async stats(timeoutMs = 1000): Promise<InstanceStats> {
    const id = ++this.#statsId;
    const live = this.#workers.filter((w): w is Worker => w !== null && w.listening);
    const acc: InstanceStats = { connections: 0, requests: 0, responses: 0, badRequests: 0, upstreamErrors: 0, tlsErrors: 0, retries: 0, openConnections: 0, idleUpstreamConnections: 0, workers: live.length };
    if (live.length === 0) return acc;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#pendingStats.delete(id);
        resolve(acc);
      }, timeoutMs);
      this.#pendingStats.set(id, { left: live.length, acc, done: (s) => (clearTimeout(timer), resolve(s)) });
      for (const w of live) this.#send(w, { type: 'stats', id });
    });
  }

  /** Graceful stop: workers stop accepting, finish in-flight requests within graceMs, then exit. */
  async stop(graceMs: number): Promise<void> {
    this.#stopping = true;
    const live = this.#workers.filter((w): w is Worker => w !== null);
    await Promise.all(live.map(async (w) => {
      const kill = setTimeout(() => w.link.kill(), graceMs + 2000);
      if (!this.#send(w, { type: 'drain', graceMs })) w.link.kill();
      await w.exited;
      clearTimeout(kill);
    }));
    await this.#release();
  }

  #spawn(index: number, restarts: number): void {
    const link = startWorker(this.isolation);
    let exited!: () => void;
    const w: Worker = { index, link, exited: new Promise((r) => (exited = r)), listening: false, appliedHash: '', sentHash: '', restarts };
    this.#workers[index] = w;
    link.onMessage((m) => this.#onMessage(w, m));
    link.onExit((how) => {
      exited();
      if (this.#workers[index] === w) this.#workers[index] = null;
      for (const f of this.#waiters.splice(0)) f();
      if (this.#stopping) return;
      // Restart with a growing back-off so a crash loop cannot spin; the other workers keep serving.
      const delay = Math.min(5000, 100 * 2 ** Math.min(restarts, 6));
      this.log.info(`worker ${index} (${link.label}) exited (${how}); restarting in ${delay} ms`);
      setTimeout(() => {
        if (!this.#stopping) this.#spawn(index, restarts + 1);
      }, delay).unref();
    });
    this.#send(w, { type: 'init', options: this.options, http: this.#http, https: this.#https });
    if (this.#table) {
      this.#send(w, { type: 'table', table: this.#table });
      w.sentHash = this.#table.hash;
    }
  }

  #onMessage(w: Worker, m: FromWorker): void {
    switch (m.type) {
      case 'listening':
        w.listening = true;
        if (w.restarts > 0) this.log.info(`worker ${w.index} restarted (${w.link.label})`);
        break;
      case 'applied':
        w.appliedHash = m.hash;
        break;
      case 'resync':
        // The delta did not fit what the worker holds: the whole current table.
        if (this.#table) {
          this.#send(w, { type: 'table', table: this.#table });
          w.sentHash = this.#table.hash;
        }
        break;
      case 'stats': {
        const p = this.#pendingStats.get(m.id);
        if (!p) break;
        for (const k of Object.keys(m.stats) as (keyof typeof m.stats)[]) p.acc[k] += m.stats[k];
        if (--p.left === 0) {
          this.#pendingStats.delete(m.id);
          p.done(p.acc);
        }
        break;
      }
      case 'error':
        if (!w.listening && this.#startError === '') this.#startError = m.message;
        this.log.info(`worker ${w.index}: ${m.message}`);
        break;
      case 'drained':
        break;
      case 'endpoint':
        this.onEndpointEvent?.(m.event);
        break;
    }
    for (const f of this.#waiters.splice(0)) f();
  }

  #send(w: Worker, m: ToWorker): boolean {
    return w.link.send(m);
  }

  #until(cond: () => boolean, timeoutMs = 30_000): Promise<boolean> {
    return new Promise((resolve) => {
      const until = Date.now() + timeoutMs;
      const check = () => {
        if (cond()) return resolve(true);
        if (Date.now() > until) return resolve(false);
        this.#waiters.push(check);
        setTimeout(() => {
          const i = this.#waiters.indexOf(check);
          if (i >= 0) this.#waiters.splice(i, 1), check();
        }, 200).unref();
      };
      check();
    });
  }
}

/** Fails with EADDRINUSE when anything (another Archway included) already listens on the port. */
function probeExclusive(spec: ListenSpec): Promise<void> {
  const probe = createServer();
  return new Promise((resolve, reject) => {
    probe.once('error', reject);
    probe.listen({ host: spec.host, port: spec.port, exclusive: true }, () => probe.close(() => resolve()));
  });
}
