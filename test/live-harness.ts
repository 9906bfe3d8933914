// Helpers of the live-configuration feature tests (issue 4): manifest edits the way people and editors
// make them, bounded waiting, a continuous multi-client load generator, a slow streaming backend and
// small statistics. Everything binds 127.0.0.1 on ephemeral ports and is stopped by its owner.

import { readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { Agent, request as httpRequest, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { captureStderr, httpBackend, sleep, type TestServer } from './harness.ts';
import { mulberry32 } from '../src/util/prng.ts';

// ---------------------------------------------------------------------------------------------
// Editing manifests

/** Edit in place: open with O_TRUNC and write (what `echo > file` and most programs do). */
export function writeInPlace(dir: string, name: string, text: string): Promise<void> {
  return writeFile(join(dir, name), text);
}

let tmpSeq = 0;

/** An editor's save: write a temporary file next to the target, then rename it over the target. */
export async function writeRename(dir: string, name: string, text: string): Promise<void> {
  // Not a manifest name (no .yaml ending), like vim's 4913 / `.swp` or an atomic-write helper's temp file.
  const tmp = join(dir, `${name}.tmp-${process.pid}-${++tmpSeq}`);
  await writeFile(tmp, text);
  await rename(tmp, join(dir, name));
}

export function removeFile(dir: string, name: string): Promise<void> {
  return rm(join(dir, name), { force: true });
}

/** The manifest files of a directory (top level), name -> text: to load the same state in a fresh instance. */
export async function readManifests(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const name of (await readdir(dir)).sort()) if (/\.(ya?ml|json)$/.test(name)) out[name] = await readFile(join(dir, name), 'utf8');
  return out;
}

// ---------------------------------------------------------------------------------------------
// Waiting

/** Polls `probe` until it returns a value other than undefined/false, at most `timeoutMs`; throws with `what` otherwise. */
export async function waitFor<T>(what: string, probe: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 3000, everyMs = 10): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined && v !== false) return v;
      last = v;
    } catch (e) {
      last = e;
    }
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${last instanceof Error ? last.message : String(last)})`);
    await sleep(everyMs);
  }
}

// ---------------------------------------------------------------------------------------------
// Statistics

/** Nearest-rank percentile (p in 0..100) of the samples. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

/** Deterministic PRNG so a random edit sequence can be replayed from its seed. */
export const prng = mulberry32;

// ---------------------------------------------------------------------------------------------
// One request with a chosen agent

export interface LoadTarget {
  host: string;
  path: string;
  /** Expected `x-backend` / `x-echo-backend` of the answer (one of them, for a list). */
  backend: string | string[];
}

export interface SimpleRes {
  status: number;
  backend: string | undefined;
  body: string;
}

/** A GET through `agent` (false: a fresh connection, closed after the answer); `onSocket` sees the socket used. */
export function get(port: number, host: string, path: string, agent: Agent | false, onSocket?: (s: Socket) => void, timeoutMs = 5000): Promise<SimpleRes> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, headers: { host }, agent, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const b = res.headers['x-backend'] ?? res.headers['x-echo-backend'];
        resolve({ status: res.statusCode ?? 0, backend: typeof b === 'string' ? b : undefined, body: Buffer.concat(chunks).toString() });
      });
    });
    if (onSocket) req.on('socket', onSocket);
    req.on('timeout', () => req.destroy(new Error(`no answer for ${host}${path} within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

// ---------------------------------------------------------------------------------------------
// Continuous load

export interface LoadOptions {
  port: number;
  /** Clients that keep one connection open (keep-alive, one socket each). */
  keepAliveClients: number;
  /** Clients that open a new connection for every request. */
  freshClients: number;
  /** Requests rotate over these; every answer must be 200 from the named backend. */
  targets: LoadTarget[];
  /** Think time of each client between requests (default 0: back to back). */
  pauseMs?: number;
}

/**
 * Clients sending requests back to back until stop(). Counts successes and records every failure
 * (transport error, unexpected status, wrong backend); counts the sockets each keep-alive client used.
 */
export class Load {
  readonly opts: LoadOptions;
  ok = 0;
  failures: string[] = [];
  failureCount = 0;
  /** Per keep-alive client: distinct sockets it used. */
  readonly keepAliveSockets: Array<Set<Socket>> = [];
  #agents: Agent[] = [];
  #running = true;
  #loops: Promise<void>[] = [];

  constructor(opts: LoadOptions) {
    this.opts = opts;
  }

  start(): this {
    const { keepAliveClients, freshClients } = this.opts;
    for (let i = 0; i < keepAliveClients; i++) {
      const agent = new Agent({ keepAlive: true, maxSockets: 1, keepAliveMsecs: 1000 });
      this.#agents.push(agent);
      const sockets = new Set<Socket>();
      this.keepAliveSockets.push(sockets);
      this.#loops.push(this.#loop(i, agent, (s) => sockets.add(s)));
    }
    for (let i = 0; i < freshClients; i++) this.#loops.push(this.#loop(keepAliveClients + i, false));
    return this;
  }

  async #loop(client: number, agent: Agent | false, onSocket?: (s: Socket) => void): Promise<void> {
    const { targets, port } = this.opts;
    let n = client;
    while (this.#running) {
      const t = targets[n++ % targets.length];
      try {
        const res = await get(port, t.host, t.path, agent, onSocket);
        const expected = typeof t.backend === 'string' ? [t.backend] : t.backend;
        if (res.status === 200 && res.backend !== undefined && expected.includes(res.backend)) this.ok++;
        else this.#fail(`client ${client} ${t.host}${t.path}: ${res.status} from ${res.backend ?? 'archway'} (expected ${expected.join(' or ')}) ${res.body.slice(0, 100)}`);
      } catch (e) {
        this.#fail(`client ${client} ${t.host}${t.path}: ${(e as Error).message}`);
        await sleep(5); // do not spin on a refused port
      }
      if (this.opts.pauseMs) await sleep(this.opts.pauseMs);
    }
  }

  #fail(msg: string): void {
    this.failureCount++;
    if (this.failures.length < 20) this.failures.push(msg);
  }

  get total(): number {
    return this.ok + this.failureCount;
  }

  async stop(): Promise<void> {
    this.#running = false;
    await Promise.all(this.#loops);
    for (const a of this.#agents) a.destroy();
  }
}

// ---------------------------------------------------------------------------------------------
// Backends

/** A node:http backend that names itself in `x-backend`, counts requests, logs arrival times and open sockets. */
export interface NamedBackend extends TestServer {
  server: HttpServer;
  name: string;
  requests: number;
  /** performance.now() of each request's arrival (the test process's clock). */
  arrivals: number[];
  /** Requests waiting in `/hold`. */
  held: number;
  /** Sockets currently open. */
  readonly open: number;
  /** Answers every request waiting in `/hold`. */
  releaseHeld(): void;
}

/**
 * Answers `{backend: name, path}` for every request, except:
 * - `/stream?chunks=N&every=MS`: a chunked response writing `chunk-i\n` every MS ms (default 60 x 50 ms);
 * - `/hold`: waits until releaseHeld() (or 10 s), then answers.
 */
export async function namedBackend(name: string): Promise<NamedBackend> {
  const sockets = new Set<Socket>();
  let waiters: Array<() => void> = [];
  let self: NamedBackend | null = null;
  const base = await httpBackend((req: IncomingMessage, res: ServerResponse) => {
    const me = self!;
    me.requests++;
    me.arrivals.push(performance.now());
    const url = new URL(req.url ?? '/', 'http://x');
    req.resume();
    req.on('end', () => {
      if (url.pathname === '/stream') {
        const chunks = Number(url.searchParams.get('chunks') ?? 60);
        const every = Number(url.searchParams.get('every') ?? 50);
        res.writeHead(200, { 'content-type': 'text/plain', 'x-backend': name });
        let i = 0;
        const timer = setInterval(() => {
          if (res.destroyed) return clearInterval(timer);
          res.write(`chunk-${i}\n`);
          if (++i === chunks) {
            clearInterval(timer);
            res.end();
          }
        }, every);
        res.on('close', () => clearInterval(timer));
        return;
      }
      const answer = () => {
        if (res.destroyed) return;
        const body = JSON.stringify({ backend: name, path: url.pathname });
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'x-backend': name });
        res.end(body);
      };
      if (url.pathname === '/hold') {
        me.held++;
        const timer = setTimeout(answer, 10_000);
        waiters.push(() => {
          clearTimeout(timer);
          answer();
        });
        return;
      }
      answer();
    });
  });
  base.server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  const out: NamedBackend = {
    server: base.server,
    name,
    requests: 0,
    arrivals: [],
    held: 0,
    get port() {
      return base.port;
    },
    get connections() {
      return base.connections;
    },
    get open() {
      return sockets.size;
    },
    releaseHeld() {
      for (const w of waiters.splice(0)) w();
    },
    close: async () => {
      waiters = [];
      await base.close();
    },
  };
  self = out;
  return out;
}

// ---------------------------------------------------------------------------------------------
// Output

/**
 * Keeps what this process writes to stderr (the in-process controller logs every swap and diagnostic)
 * out of the test output; returns it on demand. Worker processes write to the inherited fd directly.
 * LIVE_VERBOSE=1 in the environment lets everything through.
 */
export function muteStderr(): { text(): string; restore(): void } {
  if (process.env.LIVE_VERBOSE) return { text: () => '', restore() {} };
  return captureStderr();
}

/** Runs `f`; when it throws, prints what `mute` kept (the controller's log explains most start failures). */
export async function dumpOnError<T>(mute: { text(): string }, f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    console.log(`stderr so far:\n${mute.text().slice(-5000)}`);
    throw e;
  }
}
