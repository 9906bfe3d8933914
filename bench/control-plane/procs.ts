// Processes, sockets and /proc for the control-plane benchmark: Archway started as its own process
// group (stopped as a whole, also on errors and signals), local echo backends, a minimal raw HTTP/1.1
// client on fresh connections, and resident memory / CPU time of a process tree.

import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { connect } from 'node:net';

// ---- clock --------------------------------------------------------------------------------------

export const now = (): number => performance.now();

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// ---- child processes ----------------------------------------------------------------------------

const live = new Set<ChildProcess>();

function signalGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

/** SIGKILL every process group this module started (synchronous: usable from 'exit' handlers). */
export function killAllSync(): void {
  for (const c of live) signalGroup(c.pid, 'SIGKILL');
  live.clear();
}

export interface LogLine {
  /** performance.now() when the line arrived. */
  at: number;
  text: string;
}

/** A running Archway instance (`node bin/archway.js serve ...`, as `npx archway` runs it), leader of its own process group. */
export class ArchwayProcess {
  readonly child: ChildProcess;
  readonly startedAt: number;
  readonly lines: LogLine[] = [];
  readonly exited: Promise<{ code: number | null; signal: string | null }>;
  exitInfo: { code: number | null; signal: string | null } | undefined;
  #partial = '';
  #lineWaiters: Array<() => void> = [];

  constructor(nodeArgs: string[], archwayDir: string, args: string[]) {
    this.startedAt = now();
    // bin/archway.js, the command users run: it turns Node's compile cache on before any TypeScript loads.
    this.child = spawn(process.execPath, [...nodeArgs, 'bin/archway.js', ...args], {
      cwd: archwayDir,
      stdio: ['ignore', 'ignore', 'pipe'],
      detached: true,
      env: { ...process.env, NODE_OPTIONS: '' },
    });
    live.add(this.child);
    this.child.stderr!.setEncoding('utf8');
    this.child.stderr!.on('data', (chunk: string) => {
      const at = now();
      const parts = (this.#partial + chunk).split('\n');
      this.#partial = parts.pop() ?? '';
      // Keep a bounded log: the first lines (start-up) and the most recent ones.
      for (const text of parts) {
        this.lines.push({ at, text });
        if (this.lines.length > 20_000) this.lines.splice(200, 10_000);
      }
      for (const f of this.#lineWaiters.splice(0)) f();
    });
    this.exited = new Promise((resolve) => {
      this.child.on('error', () => {
        live.delete(this.child);
        this.exitInfo ??= { code: null, signal: null };
        resolve(this.exitInfo);
      });
      this.child.on('exit', (code, signal) => {
        live.delete(this.child);
        this.exitInfo = { code, signal };
        resolve(this.exitInfo);
      });
    });
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get running(): boolean {
    return this.exitInfo === undefined && this.child.pid !== undefined;
  }

  /** Lines matching `re` that arrived at or after `since`. */
  linesSince(since: number, re: RegExp): LogLine[] {
    return this.lines.filter((l) => l.at >= since && re.test(l.text));
  }

  tail(n = 15): string {
    return this.lines.slice(-n).map((l) => l.text).join('\n');
  }

  /**
   * Graceful stop: SIGTERM to the primary only (it drains and stops its workers, as under Kubernetes,
   * where only PID 1 is signalled), SIGKILL to the whole group after `graceMs`. Resolves once the
   * primary exited.
   */
  async stop(graceMs = 10_000): Promise<{ code: number | null; signal: string | null }> {
    if (this.running) {
      try {
        process.kill(this.pid, 'SIGTERM');
      } catch {
        // already gone
      }
      const timer = setTimeout(() => signalGroup(this.pid, 'SIGKILL'), graceMs);
      await this.exited;
      clearTimeout(timer);
    }
    // Leftovers of the group (a worker that outlived its primary).
    signalGroup(this.pid, 'SIGKILL');
    return this.exitInfo!;
  }
}

// ---- backends -----------------------------------------------------------------------------------

export interface Backend {
  port: number;
  server: Server;
  requests: number;
}

/** An HTTP backend on 127.0.0.1 answering 200 `{"backend":PORT,"host":...,"path":...}`. */
export async function startBackend(): Promise<Backend> {
  const b: Backend = { port: 0, server: createServer(), requests: 0 };
  b.server.keepAliveTimeout = 120_000;
  b.server.on('request', (req, res) => {
    b.requests++;
    const body = JSON.stringify({ backend: b.port, host: req.headers.host ?? '', path: req.url ?? '' });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
  await new Promise<void>((resolve, reject) => {
    b.server.once('error', reject);
    b.server.listen(0, '127.0.0.1', () => resolve());
  });
  const a = b.server.address();
  b.port = typeof a === 'object' && a ? a.port : 0;
  return b;
}

export function stopBackend(b: Backend): Promise<void> {
  return new Promise((resolve) => {
    b.server.close(() => resolve());
    b.server.closeAllConnections();
  });
}

// ---- raw HTTP client ----------------------------------------------------------------------------

export interface Reply {
  /** 0 when the request failed (refused, reset, timeout). */
  status: number;
  /** Status line and header lines (raw). */
  head: string;
  body: string;
  error?: string;
  /** performance.now() when the request was sent / the reply was complete. */
  sentAt: number;
  doneAt: number;
}

/**
 * One GET on a fresh connection with `Connection: close` (so with several workers each request can land
 * on any of them): reads to EOF, never throws.
 */
export function get(port: number, host: string, path: string, timeoutMs = 3000): Promise<Reply> {
  return new Promise((resolve) => {
    const sentAt = now();
    const chunks: Buffer[] = [];
    let done = false;
    const sock = connect({ host: '127.0.0.1', port, noDelay: true });
    const finish = (error?: string) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      const raw = Buffer.concat(chunks).toString('latin1');
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(raw);
      const sep = raw.indexOf('\r\n\r\n');
      resolve({
        status: m && !error ? Number(m[1]) : 0,
        head: sep >= 0 ? raw.slice(0, sep) : raw,
        body: sep >= 0 ? raw.slice(sep + 4) : '',
        error: error ?? (m ? undefined : 'no status line'),
        sentAt,
        doneAt: now(),
      });
    };
    const timer = setTimeout(() => finish('timeout'), timeoutMs);
    sock.on('connect', () => sock.write(`GET ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\nUser-Agent: archway-bench\r\n\r\n`));
    sock.on('data', (c: Buffer) => chunks.push(c));
    sock.on('end', () => finish());
    sock.on('error', (e) => finish((e as NodeJS.ErrnoException).code ?? e.message));
  });
}

/** The JSON body of one of our backends, or undefined. */
export function backendReply(r: Reply): { backend: number; host: string; path: string } | undefined {
  if (r.status !== 200) return undefined;
  try {
    return JSON.parse(r.body) as { backend: number; host: string; path: string };
  } catch {
    return undefined;
  }
}

/** A redirect to https for `host` (ssl-redirect on a TLS host, as ingress-nginx does by default). */
export function isHttpsRedirect(r: Reply, host: string): boolean {
  if (r.status !== 308 && r.status !== 301) return false;
  const m = /\r\nlocation:\s*(\S+)/i.exec(r.head);
  return m !== null && m[1].startsWith(`https://${host}`);
}

/** GET http://127.0.0.1:port/path with a short timeout (admin API). */
export async function adminGet(port: number, path: string, timeoutMs = 10_000): Promise<Reply> {
  return get(port, '127.0.0.1', path, timeoutMs);
}

// ---- /proc --------------------------------------------------------------------------------------

/** pid and its descendants (from the ppid field of /proc/PID/stat). */
export function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      let l = children.get(ppid);
      if (!l) children.set(ppid, (l = []));
      l.push(Number(name));
    } catch {
      // exited meanwhile
    }
  }
  const out: number[] = [];
  const stack = [root];
  while (stack.length > 0) {
    const p = stack.pop()!;
    out.push(p);
    stack.push(...(children.get(p) ?? []));
  }
  return out;
}

export interface ProcMemory {
  pid: number;
  rssKb: number;
  hwmKb: number;
  /** Resident pages only this process maps (smaps_rollup Private_Clean + Private_Dirty). */
  privateKb: number;
  /** Resident pages it shares with other processes (the node binary, mostly). */
  sharedKb: number;
}

function statusField(text: string, field: string): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text);
  return m ? Number(m[1]) : 0;
}

/** VmRSS, VmHWM (peak RSS), private and shared resident memory of every process of the tree. */
export function treeMemory(root: number): ProcMemory[] {
  const out: ProcMemory[] = [];
  for (const pid of processTree(root)) {
    try {
      const s = readFileSync(`/proc/${pid}/status`, 'utf8');
      let privateKb = 0;
      let sharedKb = 0;
      try {
        const r = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
        privateKb = statusField(r, 'Private_Clean') + statusField(r, 'Private_Dirty');
        sharedKb = statusField(r, 'Shared_Clean') + statusField(r, 'Shared_Dirty');
      } catch {
        // no smaps_rollup (old kernel): the report shows '-'
      }
      out.push({ pid, rssKb: statusField(s, 'VmRSS'), hwmKb: statusField(s, 'VmHWM'), privateKb, sharedKb });
    } catch {
      // exited meanwhile
    }
  }
  return out;
}

const CLK_TCK = 100;

/** utime + stime of the tree in ms (live processes only). */
export function treeCpuMs(root: number): number {
  let ticks = 0;
  for (const pid of processTree(root)) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(f[11]) + Number(f[12]);
    } catch {
      // exited meanwhile
    }
  }
  return (ticks * 1000) / CLK_TCK;
}
