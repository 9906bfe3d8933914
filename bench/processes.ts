// Child processes of the benchmark harness: start (optionally pinned to CPUs), keep a tail of
// their output, stop them as a whole process group, and read /proc for CPU time and memory.
// Every process started here is tracked so that `killAllSync()` can stop everything on
// SIGINT, on errors and on exit.

import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import net from 'node:net';
import http from 'node:http';

const TAIL_BYTES = 8192;

export interface ExitInfo {
  code: number | null;
  signal: string | null;
}

export interface StartOptions {
  /** CPU list for `taskset -c`, e.g. "1". Affinity is inherited by all descendants. */
  cpus?: string;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** A file descriptor (opened by the caller) for stdout instead of a pipe; stdoutTail() is then ''. */
  stdoutFd?: number;
}

class Tail {
  private chunks: Buffer[] = [];
  private size = 0;

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.size += chunk.length;
    while (this.size > TAIL_BYTES && this.chunks.length > 1) {
      this.size -= this.chunks.shift()!.length;
    }
  }

  text(): string {
    const all = Buffer.concat(this.chunks);
    return all.subarray(Math.max(0, all.length - TAIL_BYTES)).toString('utf8');
  }
}

const live = new Set<Proc>();

export class Proc {
  readonly name: string;
  readonly pid: number;
  readonly child: ChildProcess;
  readonly exited: Promise<ExitInfo>;
  exitInfo: ExitInfo | undefined;
  private readonly out = new Tail();
  private readonly err = new Tail();

  constructor(name: string, command: string, args: readonly string[], options: StartOptions = {}) {
    this.name = name;
    const [file, argv] = options.cpus === undefined
      ? [command, [...args]]
      : ['taskset', ['-c', options.cpus, command, ...args]];
    // detached: the child leads its own process group, so stop() reaches its whole tree.
    this.child = spawn(file, argv, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['ignore', options.stdoutFd ?? 'pipe', 'pipe'],
      detached: true,
    });
    this.child.stdout?.on('data', (chunk: Buffer) => this.out.push(chunk));
    this.child.stderr!.on('data', (chunk: Buffer) => this.err.push(chunk));
    this.exited = new Promise<ExitInfo>((resolve) => {
      this.child.on('error', (error) => {
        this.err.push(Buffer.from(`spawn error: ${error.message}\n`));
        this.exitInfo ??= { code: null, signal: null };
        live.delete(this);
        resolve(this.exitInfo);
      });
      this.child.on('exit', (code, signal) => {
        this.exitInfo = { code, signal };
        live.delete(this);
        resolve(this.exitInfo);
      });
    });
    // `pid` is undefined only when spawning failed; -1 keeps /proc reads harmless.
    this.pid = this.child.pid ?? -1;
    if (this.child.pid !== undefined) live.add(this);
  }

  get running(): boolean {
    return this.exitInfo === undefined && this.child.pid !== undefined;
  }

  stdoutTail(): string {
    return this.out.text();
  }

  stderrTail(): string {
    return this.err.text();
  }

  /** Output tail for error reports: stderr, or stdout when stderr is empty. */
  outputTail(maxLines = 20): string {
    const text = this.stderrTail().trim() || this.stdoutTail().trim();
    return text.split('\n').slice(-maxLines).join('\n');
  }

  describeExit(): string {
    if (this.exitInfo === undefined) return 'still running';
    const { code, signal } = this.exitInfo;
    return signal !== null ? `killed by ${signal}` : `exited with code ${code}`;
  }

  /** SIGTERM to the process group, SIGKILL after a grace period. */
  async stop(graceMs = 3000): Promise<void> {
    if (!this.running) return;
    signalGroup(this.pid, 'SIGTERM');
    if (await settlesWithin(this.exited, graceMs)) {
      signalGroup(this.pid, 'SIGKILL'); // leftovers of the group (workers that ignore SIGTERM)
      return;
    }
    signalGroup(this.pid, 'SIGKILL');
    await settlesWithin(this.exited, 2000);
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([promise.then(() => true as const), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Last resort, synchronous: SIGKILL every process group still running. */
export function killAllSync(): void {
  for (const proc of live) signalGroup(proc.pid, 'SIGKILL');
  live.clear();
}

export async function stopAll(): Promise<void> {
  await Promise.all([...live].map((proc) => proc.stop(1000)));
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A port that was free a moment ago on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.setTimeout(1000);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(false));
  });
}

export interface HttpResult {
  status: number;
  body: Buffer;
}

/** One GET on a fresh connection; rejects on socket errors and after `timeoutMs`. */
export function httpGet(port: number, path: string, timeoutMs = 5000): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const request = http.get({ host: '127.0.0.1', port, path, agent: false, timeout: timeoutMs }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks) }));
      response.on('error', reject);
    });
    request.on('timeout', () => request.destroy(new Error(`GET ${path} timed out after ${timeoutMs} ms`)));
    request.on('error', reject);
  });
}

export class StartError extends Error {
  readonly tail: string;

  constructor(message: string, tail: string) {
    super(message);
    this.name = 'StartError';
    this.tail = tail;
  }
}

/**
 * Poll `check` until it returns true. Fails fast when `proc` exits, and after `timeoutMs`.
 * Errors carry the tail of the process output.
 */
export async function waitUntil(
  proc: Proc,
  what: string,
  check: () => Promise<boolean>,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!proc.running) {
      throw new StartError(`${proc.name} ${proc.describeExit()} before ${what}`, proc.outputTail());
    }
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) {
      throw new StartError(`${proc.name}: no ${what} after ${timeoutMs / 1000} s`, proc.outputTail());
    }
    await sleep(50);
  }
}

export function waitForPort(proc: Proc, port: number, timeoutMs = 15000): Promise<void> {
  return waitUntil(proc, `listening on 127.0.0.1:${port}`, () => canConnect(port), timeoutMs);
}

export function waitForHttp200(proc: Proc, port: number, path: string, timeoutMs = 30000): Promise<void> {
  return waitUntil(
    proc,
    `200 from http://127.0.0.1:${port}${path}`,
    async () => (await httpGet(port, path, 1000)).status === 200,
    timeoutMs,
  );
}

// ---- /proc readings -------------------------------------------------------------------------

interface ProcStat {
  pid: number;
  ppid: number;
  pgrp: number;
  /** utime + stime, in clock ticks, all threads of the process. */
  cpuTicks: number;
}

function readStat(pid: number | string): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return undefined;
  }
  // "pid (comm) state ppid pgrp ..." - comm may contain spaces and parentheses.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return {
    pid: Number(pid),
    ppid: Number(fields[1]),
    pgrp: Number(fields[2]),
    cpuTicks: Number(fields[11]) + Number(fields[12]),
  };
}

/** The process and all its descendants (by parent pid), including ones that left its group. */
export function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readStat(entry);
    if (stat === undefined) continue;
    const list = children.get(stat.ppid);
    if (list === undefined) children.set(stat.ppid, [stat.pid]);
    else list.push(stat.pid);
  }
  const tree: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    const pid = queue.shift()!;
    tree.push(pid);
    queue.push(...(children.get(pid) ?? []));
  }
  return tree;
}

export const CLOCK_TICKS_PER_SECOND = 100; // getconf CLK_TCK; 100 on every Linux we run on

/** utime + stime of the given processes, in seconds. Vanished processes count 0. */
export function cpuSeconds(pids: readonly number[]): number {
  let ticks = 0;
  for (const pid of pids) ticks += readStat(pid)?.cpuTicks ?? 0;
  return ticks / CLOCK_TICKS_PER_SECOND;
}

/** Sum of VmRSS of the given processes, in KiB. */
export function rssKiB(pids: readonly number[]): number {
  let total = 0;
  for (const pid of pids) {
    try {
      const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'latin1'));
      if (match !== null) total += Number(match[1]);
    } catch {
      // vanished
    }
  }
  return total;
}

/**
 * Sum of proportional set sizes (shared pages split between the processes sharing them), in
 * KiB. Fairer than summed VmRSS for a primary + workers sharing one binary; costlier to read.
 */
export function pssKiB(pids: readonly number[]): number {
  let total = 0;
  for (const pid of pids) {
    try {
      const match = /^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'latin1'));
      if (match !== null) total += Number(match[1]);
    } catch {
      // vanished, or no smaps_rollup (kernel < 4.14)
    }
  }
  return total;
}

export interface CoreTimes {
  busy: number;
  total: number;
}

/** Jiffies of one CPU from /proc/stat (busy = everything except idle and iowait). */
export function coreTimes(cpu: number): CoreTimes | undefined {
  const line = readFileSync('/proc/stat', 'latin1')
    .split('\n')
    .find((l) => l.startsWith(`cpu${cpu} `));
  if (line === undefined) return undefined;
  const values = line.trim().split(/\s+/).slice(1, 9).map(Number);
  const total = values.reduce((a, b) => a + b, 0);
  const idle = (values[3] ?? 0) + (values[4] ?? 0);
  return { busy: total - idle, total };
}

export function busyFraction(from: CoreTimes | undefined, to: CoreTimes | undefined): number | undefined {
  if (from === undefined || to === undefined || to.total <= from.total) return undefined;
  return (to.busy - from.busy) / (to.total - from.total);
}
