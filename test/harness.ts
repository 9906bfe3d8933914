// Shared pieces of the cross-layer feature tests: Archway started for real (in-process via startServe,
// or as a child process), real backends on loopback ephemeral ports, manifests written to a fresh temp
// directory, and clients at two levels: node:http for ordinary requests, raw sockets for exact bytes.

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type Server as HttpServer, type ServerResponse, type OutgoingHttpHeaders } from 'node:http';
import { connect, createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { startServe, type RunningServer } from '../src/cli/serve.ts';
import { parseServeArgs } from '../src/cli/serve-options.ts';
import type { Diagnostic } from '../src/model/diagnostics.ts';
import { startEchoServer, type EchoReply, type EchoServer } from '../src/demo/echo-server.ts';

export const REPO = fileURLToPath(new URL('..', import.meta.url));
export const MAIN = join(REPO, 'src', 'main.ts');
export const BIN = join(REPO, 'bin', 'archway.js');

// ---------------------------------------------------------------------------------------------
// Manifests

type Obj = Record<string, unknown>;

/** Multi-document YAML from plain objects. */
export function yamlDocs(...objs: Array<Obj | Obj[]>): string {
  return objs.flat().map((o) => stringify(o)).join('---\n');
}

/**
 * Writes a file and moves its mtime `tick` seconds ahead, so a source sees a new stat signature even
 * when two writes fall in one clock tick (tests that drive ManifestSource or Controller.refresh directly).
 */
export function writeTicked(file: string, text: string, tick: number): void {
  writeFileSync(file, text);
  const t = new Date(Date.now() + tick * 1000);
  utimesSync(file, t, t);
}

export interface ServiceOptions {
  namespace?: string;
  /** Service port (default 80). */
  port?: number;
  /** Service port name (default 'http'). */
  portName?: string;
  targetPort?: number | string;
}

/** A Service with one named port and an Endpoints object pointing at 127.0.0.1:endpointPort. */
export function service(name: string, endpointPort: number, opts: ServiceOptions = {}): Obj[] {
  const namespace = opts.namespace ?? 'default';
  const portName = opts.portName ?? 'http';
  return [
    { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace }, spec: { ports: [{ name: portName, port: opts.port ?? 80, targetPort: opts.targetPort ?? endpointPort }] } },
    { apiVersion: 'v1', kind: 'Endpoints', metadata: { name, namespace }, subsets: [{ addresses: [{ ip: '127.0.0.1' }], ports: [{ name: portName, port: endpointPort }] }] },
  ];
}

/** A v1 Ingress backend: `{ service: { name, port: { number | name } } }`. */
export function backend(svc: string, port: number | string = 80): Obj {
  return { service: { name: svc, port: typeof port === 'number' ? { number: port } : { name: port } } };
}

export type PathSpec = [path: string, pathType: string, backend: Obj];

/** A v1 rule; host undefined means a host-less rule. */
export function rule(host: string | undefined, paths: PathSpec[]): Obj {
  const r: Obj = { http: { paths: paths.map(([path, pathType, b]) => ({ path, pathType, backend: b })) } };
  if (host !== undefined) r.host = host;
  return r;
}

export interface IngressMeta {
  namespace?: string;
  annotations?: Record<string, string>;
  creationTimestamp?: string;
  className?: string;
}

/** A networking.k8s.io/v1 Ingress. */
export function ingress(name: string, spec: { rules?: Obj[]; defaultBackend?: Obj }, meta: IngressMeta = {}): Obj {
  const metadata: Obj = { name, namespace: meta.namespace ?? 'default' };
  if (meta.annotations) metadata.annotations = meta.annotations;
  if (meta.creationTimestamp) metadata.creationTimestamp = meta.creationTimestamp;
  const s: Obj = { ...spec };
  if (meta.className) s.ingressClassName = meta.className;
  return { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata, spec: s };
}

export function ingressClass(name: string, controller: string, isDefault = false): Obj {
  const metadata: Obj = { name };
  if (isDefault) metadata.annotations = { 'ingressclass.kubernetes.io/is-default-class': 'true' };
  return { apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', metadata, spec: { controller } };
}

/** Writes files (relative name -> text) into a fresh temp directory. */
export async function manifestDir(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'archway-test-'));
  for (const [name, text] of Object.entries(files)) {
    const p = join(dir, name);
    await mkdir(dirname(p), { recursive: true });
    await writeFile(p, text);
  }
  return dir;
}

// ---------------------------------------------------------------------------------------------
// Archway in-process

/** Every listener on 127.0.0.1 and an ephemeral port, unless `extraArgs` sets the flag itself. */
function ephemeral(extraArgs: string[]): string[] {
  const defaults: Array<[string, string]> = [['--http-port', '0'], ['--https-port', '0'], ['--admin-port', '0'], ['--bind', '127.0.0.1']];
  const given = (flag: string) => extraArgs.some((a) => a === flag || a.startsWith(`${flag}=`));
  return defaults.filter(([f]) => !given(f)).flat();
}

export interface Archway {
  port: number;
  adminPort: number;
  dir: string;
  running: RunningServer;
  /** Everything the controller printed on stderr while starting. */
  stderr: string;
  diagnostics: Diagnostic[];
  stop(): Promise<void>;
}

/**
 * Starts Archway in this process on 127.0.0.1 ephemeral ports, serving `files` written to a fresh temp
 * directory. Its stderr output during start (diagnostics, "listening on") is captured, not printed.
 */
/**
 * Captures what this process writes on stderr (the in-process controller's log lines and
 * diagnostics) until restored; keeps the last MiB. Worker processes write to the inherited fd directly.
 */
export function captureStderr(): { text(): string; restore(): void } {
  const original = process.stderr.write;
  let buf = '';
  process.stderr.write = ((chunk: string | Uint8Array): boolean => {
    buf += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString();
    if (buf.length > 1 << 20) buf = buf.slice(-(1 << 19));
    return true;
  }) as typeof process.stderr.write;
  return {
    text: () => buf,
    restore: () => {
      process.stderr.write = original;
    },
  };
}

export async function startArchway(files: Record<string, string>, extraArgs: string[] = []): Promise<Archway> {
  const dir = await manifestDir(files);
  // The data plane runs in this process (--workers 0) unless a test asks for workers.
  const workers = extraArgs.some((a) => a === '--workers' || a.startsWith('--workers=')) ? [] : ['--workers', '0'];
  const config = parseServeArgs([...ephemeral(extraArgs), '--manifests', dir, ...workers, ...extraArgs]);
  const capture = captureStderr();
  let running: RunningServer;
  try {
    running = await startServe(config);
  } finally {
    capture.restore();
  }
  const captured = capture.text();
  let stopped = false;
  return {
    port: running.httpPort,
    adminPort: running.adminPort,
    dir,
    running,
    stderr: captured,
    diagnostics: running.controller.diagnostics,
    async stop() {
      if (stopped) return;
      stopped = true;
      await running.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Archway as a child process

export interface ArchwayProcess {
  child: ChildProcess;
  port: number;
  adminPort: number;
  /** Data-plane worker pids (empty with --workers 0). */
  workerPids: number[];
  stderr(): string;
  /** Resident set size in bytes (Linux /proc) of the main process, or of the given pid. */
  rss(pid?: number): number;
  stop(): Promise<number | null>;
}

/** Waits until the child's stderr matches `re` (or it exits / the timeout passes). */
function waitForOutput(child: ChildProcess, text: () => string, re: RegExp, timeoutMs: number): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    const check = (): boolean => {
      const m = re.exec(text());
      if (m) {
        cleanup();
        resolve(m);
        return true;
      }
      return false;
    };
    const onExit = () => {
      cleanup();
      reject(new Error(`archway exited (${child.exitCode ?? child.signalCode}) before ${re}; stderr:\n${text()}`));
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`no ${re} within ${timeoutMs} ms; stderr:\n${text()}`));
    }, timeoutMs);
    const onData = () => void check();
    const cleanup = () => {
      clearTimeout(timer);
      child.stderr?.off('data', onData);
      child.off('exit', onExit);
    };
    child.stderr?.on('data', onData);
    child.once('exit', onExit);
    check();
  });
}

/**
 * Runs `node [nodeArgs] src/main.ts serve --manifests dir ...` with ephemeral ports and waits until it
 * listens. Worker processes inherit nodeArgs (fork's default execArgv).
 */
export async function spawnArchway(dir: string, extraArgs: string[] = [], nodeArgs: string[] = []): Promise<ArchwayProcess> {
  const child = spawn(process.execPath, [...nodeArgs, MAIN, 'serve', ...ephemeral(extraArgs), '--manifests', dir, ...extraArgs], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (d: string) => (err += d));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  let m: RegExpExecArray;
  try {
    await waitForOutput(child, () => err, /listening on .*\n/, 10_000);
    m = /listening on http:\/\/127\.0\.0\.1:(\d+).*admin on http:\/\/127\.0\.0\.1:(\d+)/.exec(err) ?? (() => {
      throw new Error(`unexpected 'listening on' line: ${err}`);
    })();
  } catch (e) {
    child.kill('SIGKILL');
    throw e;
  }
  const pids = /data plane: \d+ worker process\(es\), pids ([\d, ]+)/.exec(err);
  return {
    child,
    port: Number(m[1]),
    adminPort: Number(m[2]),
    workerPids: pids ? pids[1].split(',').map((p) => Number(p.trim())) : [],
    stderr: () => err,
    rss(pid = child.pid) {
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      const kb = /VmRSS:\s+(\d+) kB/.exec(status);
      if (!kb) throw new Error('no VmRSS in /proc/<pid>/status');
      return Number(kb[1]) * 1024;
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

/** Runs a command to completion with a timeout; returns exit code and output. */
export function runNode(args: string[], timeoutMs = 10_000): Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`node ${args.join(' ')} did not exit within ${timeoutMs} ms\nstdout:\n${stdout}\nstderr:\n${stderr}`));
    }, timeoutMs);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      // 'exit' can precede the last 'data' events of the pipes; 'close' follows them.
      child.once('close', () => resolve({ code, signal, stdout, stderr }));
      if (child.stdout.closed && child.stderr.closed) resolve({ code, signal, stdout, stderr });
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Backends

/** Starts echo backends named as given; returns them by name. */
export async function echoes(...names: string[]): Promise<Record<string, EchoServer>> {
  const out: Record<string, EchoServer> = {};
  for (const n of names) out[n] = await startEchoServer({ name: n, port: 0 });
  return out;
}

export async function closeAll(servers: Record<string, { close(): Promise<void> }> | Array<{ close(): Promise<void> }>): Promise<void> {
  await Promise.all(Object.values(servers).map((s) => s.close()));
}

export interface TestServer {
  port: number;
  /** TCP connections accepted so far. */
  connections: number;
  close(): Promise<void>;
}

/** A node:http backend with a custom handler; counts TCP connections. */
export function httpBackend(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<TestServer & { server: HttpServer }> {
  const server = createHttpServer({ keepAliveTimeout: 30_000 }, handler);
  const out = { port: 0, connections: 0, server, close: () => new Promise<void>((r) => { server.close(() => r()); server.closeAllConnections(); }) };
  server.on('connection', () => out.connections++);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      out.port = (server.address() as { port: number }).port;
      resolve(out);
    });
  });
}

/** A raw TCP backend: `onSocket` gets every accepted socket. */
export function tcpBackend(onSocket: (s: Socket) => void): Promise<TestServer & { server: NetServer }> {
  const sockets = new Set<Socket>();
  const server = createNetServer((s) => {
    out.connections++;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
    onSocket(s);
  });
  const out = {
    port: 0,
    connections: 0,
    server,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      out.port = (server.address() as { port: number }).port;
      resolve(out);
    });
  });
}

/** Calls `onHead(head, socket)` once a request head has arrived on a raw backend socket. */
export function onRequestHead(s: Socket, onHead: (head: string, rest: Buffer) => void): void {
  let buf = Buffer.alloc(0);
  let done = false;
  s.on('data', (d: Buffer) => {
    if (done) return;
    buf = Buffer.concat([buf, d]);
    const i = buf.indexOf('\r\n\r\n');
    if (i >= 0) {
      done = true;
      onHead(buf.subarray(0, i + 4).toString('latin1'), buf.subarray(i + 4));
    }
  });
}

/** A port on which connecting is refused (nothing listens there). */
export async function refusedPort(): Promise<number> {
  // Below Linux's ephemeral range (32768-60999): a port freed there could be handed to another test
  // file's listen(0) running at the same time, and the "refused" endpoint would answer (seen once in
  // CI). Nothing in the tests listens on a fixed port, so a port here that refuses now keeps refusing.
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    const refused = await new Promise<boolean>((resolve) => {
      const c = connect({ host: '127.0.0.1', port });
      c.once('connect', () => (c.destroy(), resolve(false)));
      c.once('error', (e: NodeJS.ErrnoException) => resolve(e.code === 'ECONNREFUSED'));
    });
    if (refused) return port;
  }
  throw new Error('no refusing port found below the ephemeral range');
}

// ---------------------------------------------------------------------------------------------
// Clients

export interface Res {
  status: number;
  headers: IncomingHttpHeaders;
  rawHeaders: string[];
  body: Buffer;
  text: string;
}

export interface ReqOptions {
  method?: string;
  /** Host header; undefined sends `127.0.0.1:<port>` (node's default). null sends none. */
  host?: string | null;
  headers?: OutgoingHttpHeaders;
  body?: string | Buffer;
  timeoutMs?: number;
}

/** One request on a fresh connection. */
export function request(port: number, path: string, opts: ReqOptions = {}): Promise<Res> {
  return new Promise((resolve, reject) => {
    const headers: OutgoingHttpHeaders = { ...opts.headers };
    if (typeof opts.host === 'string') headers.host = opts.host;
    const req = httpRequest(
      { host: '127.0.0.1', port, path, method: opts.method ?? 'GET', headers, agent: false, setHost: opts.host !== null, timeout: opts.timeoutMs ?? 5000 },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const body = Buffer.concat(chunks);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, rawHeaders: res.rawHeaders, body, text: body.toString() });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer for ${path} within ${opts.timeoutMs ?? 5000} ms`)));
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** The echo backend's JSON reply, asserting that an echo backend answered. */
export function echoOf(res: Res): EchoReply {
  if (res.status !== 200 || res.headers['x-echo-backend'] === undefined) {
    throw new Error(`expected an echo backend answer, got ${res.status}: ${res.text.slice(0, 200)}`);
  }
  return JSON.parse(res.text) as EchoReply;
}

/** Which echo backend answered a request, or `HTTP <status>` when Archway (or a non-echo backend) did. */
export async function who(port: number, host: string | null | undefined, path: string): Promise<string> {
  const res = await request(port, path, { host });
  const b = res.headers['x-echo-backend'];
  return res.status === 200 && typeof b === 'string' ? b : `HTTP ${res.status}`;
}

/** Admin JSON document. */
export async function adminJson<T = unknown>(adminPort: number, path: string): Promise<T> {
  const res = await request(adminPort, path);
  if (res.status !== 200) throw new Error(`admin ${path}: ${res.status}`);
  return JSON.parse(res.text) as T;
}

export interface RawResponse {
  status: number;
  reason: string;
  version: string;
  /** Lowercased names; repeated fields joined with ', '. */
  headers: Record<string, string>;
  /** Names as received, in order. */
  headerNames: string[];
  body: Buffer;
  /** Interim (1xx) responses that preceded this one. */
  interim: number[];
}

/** A raw client connection with an incremental HTTP/1.x response reader. */
export class RawConn {
  readonly socket: Socket;
  #buf: Buffer = Buffer.alloc(0);
  #closed = false;
  #wake: (() => void) | null = null;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on('data', (d: Buffer) => {
      this.#buf = this.#buf.length === 0 ? d : Buffer.concat([this.#buf, d]);
      this.#notify();
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      this.#closed = true;
      this.#notify();
    });
    socket.on('end', () => {
      this.#closed = true;
      this.#notify();
    });
  }

  static open(port: number): Promise<RawConn> {
    return new Promise((resolve, reject) => {
      const s = connect({ host: '127.0.0.1', port }, () => {
        s.off('error', reject);
        resolve(new RawConn(s));
      });
      s.once('error', reject);
    });
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Bytes received and not yet consumed by response(). */
  get pending(): Buffer {
    return this.#buf;
  }

  #notify(): void {
    const w = this.#wake;
    this.#wake = null;
    w?.();
  }

  write(data: string | Buffer): void {
    this.socket.write(typeof data === 'string' ? Buffer.from(data, 'latin1') : data);
  }

  /** Waits for more bytes or the close, at most until `deadline`. */
  async #more(deadline: number): Promise<void> {
    if (this.#closed) throw new Error(`connection closed; unparsed bytes: ${JSON.stringify(this.#buf.toString('latin1').slice(0, 300))}`);
    const left = deadline - Date.now();
    if (left <= 0) throw new Error(`timed out; bytes so far: ${JSON.stringify(this.#buf.toString('latin1').slice(0, 300))}`);
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        this.#wake = null;
        resolve();
      }, left);
      this.#wake = () => {
        clearTimeout(t);
        resolve();
      };
    });
  }

  /** Reads the next complete response. `head: true` when it answers a HEAD request (no body). */
  async response(opts: { head?: boolean; timeoutMs?: number } = {}): Promise<RawResponse> {
    const deadline = Date.now() + (opts.timeoutMs ?? 5000);
    const interim: number[] = [];
    for (;;) {
      let end: number;
      while ((end = this.#buf.indexOf('\r\n\r\n')) < 0) await this.#more(deadline);
      const headText = this.#buf.subarray(0, end).toString('latin1');
      const lines = headText.split('\r\n');
      const m = /^(HTTP\/\d\.\d) (\d{3})(?: (.*))?$/.exec(lines[0]);
      if (!m) throw new Error(`bad status line ${JSON.stringify(lines[0])}`);
      const status = Number(m[2]);
      const headers: Record<string, string> = {};
      const headerNames: string[] = [];
      for (const l of lines.slice(1)) {
        const c = l.indexOf(':');
        const name = l.slice(0, c);
        const value = l.slice(c + 1).trim();
        headerNames.push(name);
        const k = name.toLowerCase();
        headers[k] = headers[k] === undefined ? value : `${headers[k]}, ${value}`;
      }
      this.#buf = this.#buf.subarray(end + 4);
      if (status >= 100 && status < 200 && status !== 101) {
        interim.push(status);
        continue;
      }
      const base = { status, reason: m[3] ?? '', version: m[1], headers, headerNames, interim };
      if (opts.head || status === 101 || status === 204 || status === 304) return { ...base, body: Buffer.alloc(0) };
      if ((headers['transfer-encoding'] ?? '').toLowerCase() === 'chunked') {
        const parts: Buffer[] = [];
        for (;;) {
          let le: number;
          while ((le = this.#buf.indexOf('\r\n')) < 0) await this.#more(deadline);
          const size = parseInt(this.#buf.subarray(0, le).toString('latin1'), 16);
          if (!Number.isFinite(size)) throw new Error(`bad chunk size line ${JSON.stringify(this.#buf.subarray(0, le).toString('latin1'))}`);
          if (size === 0) {
            // Trailers then CRLF.
            let te: number;
            while ((te = this.#buf.indexOf('\r\n\r\n', le)) < 0) await this.#more(deadline);
            this.#buf = this.#buf.subarray(te + 4);
            return { ...base, body: Buffer.concat(parts) };
          }
          while (this.#buf.length < le + 2 + size + 2) await this.#more(deadline);
          parts.push(this.#buf.subarray(le + 2, le + 2 + size));
          this.#buf = this.#buf.subarray(le + 2 + size + 2);
        }
      }
      if (headers['content-length'] !== undefined) {
        const n = Number(headers['content-length']);
        while (this.#buf.length < n) await this.#more(deadline);
        const body = this.#buf.subarray(0, n);
        this.#buf = this.#buf.subarray(n);
        return { ...base, body };
      }
      // Close-delimited.
      while (!this.#closed) {
        const left = deadline - Date.now();
        if (left <= 0) throw new Error('timed out waiting for a close-delimited body to end');
        await this.#more(deadline).catch(() => {});
      }
      const body = this.#buf;
      this.#buf = Buffer.alloc(0);
      return { ...base, body };
    }
  }

  /** Resolves true when the peer closes within `ms`, false otherwise. */
  async closedWithin(ms: number): Promise<boolean> {
    const deadline = Date.now() + ms;
    while (!this.#closed && Date.now() < deadline) await this.#more(deadline).catch(() => {});
    return this.#closed;
  }

  /** Waits until at least `n` unconsumed bytes arrived (or close/timeout), returns them and consumes them. */
  async read(n: number, timeoutMs = 5000): Promise<Buffer> {
    const deadline = Date.now() + timeoutMs;
    while (this.#buf.length < n) await this.#more(deadline);
    const out = this.#buf.subarray(0, n);
    this.#buf = this.#buf.subarray(n);
    return out;
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** Sends raw bytes on a fresh connection and reads one response; also reports whether the connection then closed. */
export async function rawOnce(port: number, data: string | Buffer, opts: { head?: boolean; timeoutMs?: number } = {}): Promise<{ res: RawResponse; closed: boolean; conn: RawConn }> {
  const conn = await RawConn.open(port);
  try {
    conn.write(data);
    const res = await conn.response(opts);
    const closed = await conn.closedWithin(1000);
    return { res, closed, conn };
  } finally {
    conn.destroy();
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
