// Upstream connections and the keep-alive pool. One UpstreamConn wraps one socket for its whole
// life; its listeners are attached once and dispatch to the exchange currently using it, so a
// request costs no new closures or listeners (issue 3 item 2).

import { connect, isIP, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { UpstreamTls } from './route-policy.ts';
import { clock, tick } from './clock.ts';
import type { Endpoint } from './backends.ts';
import { nextReadBuffer } from './read-buffer.ts';

/** What an upstream connection reports to the exchange that holds it. */
export interface UpstreamOwner {
  onUpstreamConnect(up: UpstreamConn): void;
  /** `chunk` lives in the shared read buffer: copy or lendReadBuffer() to keep it past the call. */
  onUpstreamData(up: UpstreamConn, chunk: Buffer): void;
  onUpstreamDrain(up: UpstreamConn): void;
  /** The socket closed or failed; `err` is set for errors. */
  onUpstreamClose(up: UpstreamConn, err: Error | undefined): void;
}

export class UpstreamConn {
  readonly socket: Socket;
  readonly endpoint: Endpoint;
  readonly pool: UpstreamPool;
  owner: UpstreamOwner | null = null;
  connected = false;
  /** Served at least one response before (a pooled connection may have been closed by the peer meanwhile). */
  reused = false;
  closed = false;
  /** Coarse-clock deadline for connect / read inactivity while owned; idle expiry while pooled. */
  deadline = 0;
  /** Cause of the first error seen, kept for the status code decision. */
  error: Error | undefined;

  /** Idle-pool key: the endpoint, plus the TLS settings for HTTPS backends (never mixed). */
  readonly poolKey: string;

  constructor(pool: UpstreamPool, endpoint: Endpoint, tls: UpstreamTls | null) {
    this.pool = pool;
    this.endpoint = endpoint;
    this.poolKey = tls === null ? endpoint.key : `${endpoint.key}|${tls.poolKey}`;
    let s: Socket;
    if (tls === null) {
      s = connect({ host: endpoint.host, port: endpoint.port, noDelay: true, onread: { buffer: nextReadBuffer, callback: this.#onRead } });
      s.on('connect', this.#onConnect);
    } else {
      // backend-protocol: HTTPS (issue 6 item 6): TLS to the backend, verified when proxy-ssl-verify is on.
      const servername = tls.servername !== '' ? tls.servername : isIP(endpoint.host) === 0 ? endpoint.host : undefined;
      s = tlsConnect({
        host: endpoint.host, port: endpoint.port, servername, rejectUnauthorized: tls.rejectUnauthorized, ca: tls.ca,
        ALPNProtocols: ['http/1.1'],
      });
      s.setNoDelay(true);
      s.on('secureConnect', this.#onConnect);
      s.on('data', (chunk: Buffer) => this.#onRead(chunk.length, chunk));
    }
    this.socket = s;
    s.on('drain', this.#onDrain);
    s.on('error', this.#onError);
    s.on('close', this.#onClose);
  }

  #onConnect = (): void => {
    this.connected = true;
    this.owner?.onUpstreamConnect(this);
  };

  /** `buf` is the shared read buffer (read-buffer.ts): valid only during this call unless lent. */
  #onRead = (nread: number, buf: Buffer): boolean => {
    tick();
    const o = this.owner;
    if (o !== null) o.onUpstreamData(this, buf.subarray(0, nread));
    else this.destroy(); // unsolicited bytes on an idle connection: it cannot be trusted any more
    return true;
  };

  #onDrain = (): void => {
    this.owner?.onUpstreamDrain(this);
  };

  #onError = (err: Error): void => {
    this.error ??= err;
  };

  #onClose = (): void => {
    this.closed = true;
    this.pool.forget(this);
    const o = this.owner;
    this.owner = null;
    o?.onUpstreamClose(this, this.error);
  };

  destroy(): void {
    this.owner = null;
    if (!this.closed) this.socket.destroy();
  }
}

/** Idle keep-alive connections per endpoint, most recently used first (LIFO keeps few sockets hot). */
export class UpstreamPool {
  #idle = new Map<string, UpstreamConn[]>();
  /** Endpoints of the current configuration, by key (null: not known yet). */
  #live: { has(key: string): boolean } | null = null;
  readonly maxIdlePerEndpoint: number;
  readonly idleTimeoutMs: number;

  constructor(maxIdlePerEndpoint = 1024, idleTimeoutMs = 60_000) {
    this.maxIdlePerEndpoint = maxIdlePerEndpoint;
    this.idleTimeoutMs = idleTimeoutMs;
  }

  /** A pooled connection for the endpoint, or a new one (connecting). `owner` receives its events. */
  acquire(endpoint: Endpoint, owner: UpstreamOwner, tls: UpstreamTls | null): UpstreamConn {
    const list = this.#idle.get(tls === null ? endpoint.key : `${endpoint.key}|${tls.poolKey}`);
    if (list !== undefined) {
      while (list.length > 0) {
        const up = list.pop()!;
        if (up.closed || up.socket.destroyed) continue;
        up.owner = owner;
        up.socket.resume();
        return up;
      }
    }
    return this.connectNew(endpoint, owner, tls);
  }

  /** Always a new connection (after a pooled one turned out stale). */
  connectNew(endpoint: Endpoint, owner: UpstreamOwner, tls: UpstreamTls | null): UpstreamConn {
    const up = new UpstreamConn(this, endpoint, tls);
    up.owner = owner;
    return up;
  }

  release(up: UpstreamConn): void {
    up.owner = null;
    if (up.closed) return;
    if (this.#live !== null && !this.#live.has(up.endpoint.key)) {
      up.destroy(); // its endpoint left the configuration while it was busy
      return;
    }
    let list = this.#idle.get(up.poolKey);
    if (list === undefined) this.#idle.set(up.poolKey, (list = []));
    if (list.length >= this.maxIdlePerEndpoint) {
      up.destroy();
      return;
    }
    up.reused = true;
    up.deadline = clock.now + this.idleTimeoutMs;
    list.push(up);
  }

  forget(up: UpstreamConn): void {
    const list = this.#idle.get(up.poolKey);
    if (list === undefined) return;
    const i = list.lastIndexOf(up);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.#idle.delete(up.poolKey);
  }

  /** Closes idle connections past their idle deadline (called from the data plane's sweep timer). */
  sweep(now: number): void {
    for (const list of this.#idle.values()) {
      for (let i = 0; i < list.length; i++) if (list[i].deadline <= now) list[i].destroy();
    }
  }

  /**
   * Keep only endpoints still referenced by the current configuration (issue 4: pools survive swaps).
   * `keys` is consulted again whenever a connection is released, so it may be a live view.
   */
  retain(keys: { has(key: string): boolean }): void {
    this.#live = keys;
    for (const list of [...this.#idle.values()]) for (const up of [...list]) if (!keys.has(up.endpoint.key)) up.destroy();
  }

  idleCount(): number {
    let n = 0;
    for (const l of this.#idle.values()) n += l.length;
    return n;
  }

  closeAll(): void {
    for (const list of [...this.#idle.values()]) for (const up of [...list]) up.destroy();
  }
}
