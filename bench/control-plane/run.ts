// Archway control-plane scale benchmark (issue 4 item 10): `npm run bench:control-plane [-- flags]`.
//
// For each size (default 1,000 and 10,000 Ingresses) and worker count it generates manifests
// (generate.ts), starts `node bin/archway.js serve` on loopback ports, and measures: start to serving,
// file change to serving (an Ingress change and an Endpoints-only change, p50/p99/max, every worker),
// resident memory of the whole process tree and idle CPU. In a separate process it measures the
// routing lookup cost for a small and a large table, and where the control-plane time and memory go
// (micro.ts). Prints Markdown; raw JSON and the Markdown go to bench/out/.

import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { addWorktree, gitInfo, resolveRevision, type Worktree } from '../archway.ts';
import { Fleet, probeOf, selfSignedCert, type App, type Cert } from './generate.ts';
import type { MicroOutput } from './micro.ts';
import { formatSummary, summarize } from './profile.ts';
import {
  adminGet, ArchwayProcess, backendReply, get, isHttpsRedirect, killAllSync, now, sleep, startBackend, stopBackend, treeCpuMs, treeMemory,
  type Backend, type Reply,
} from './procs.ts';
import { distribution, markdown, type ChangeTrial, type MemorySample, type Report, type ScenarioResult } from './report.ts';

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO = resolve(HERE, '..', '..');

const USAGE = `Usage: npm run bench:control-plane -- [flags]

  --quick                 10 Ingress changes and 5 Endpoints changes per scenario, 1 worker (about 5 min)
  --sizes LIST            Ingress counts (default 1000,10000)
  --workers LIST          data-plane worker counts, one scenario each (default 1,2; --quick: 1)
  --changes N             Ingress changes per scenario (default 40)
  --endpoint-changes N    Endpoints-only changes per scenario (default 20)
  --streak N              consecutive fresh-connection replies that must all see the new configuration (default 20)
  --poll-ms N             interval between polls after a write (default 5)
  --change-timeout S      give up on one change after S seconds (default 20)
  --lookup-sizes LIST     table sizes of the routing micro-benchmark (default 10,10000)
  --skip-micro            no in-process micro-benchmark / breakdown
  --skip-serve            only the in-process micro-benchmark / breakdown
  --cpu-prof              run Archway under --cpu-prof; profiles and their summaries go to bench/out/
  --node-args="ARGS"      extra node options for Archway (inherited by its workers), e.g. --node-args=--max-old-space-size=256
  --rev REV               benchmark Archway at git revision REV (a temporary worktree) instead of the working tree
  --archway-dir DIR       benchmark the Archway checkout in DIR (default: this repository's working tree)
  --keep                  keep the generated manifests (printed at the end)
  --max-minutes N         watchdog for the whole run (default 60; --quick 15)
  --help
`;

interface Options {
  quick: boolean;
  sizes: number[];
  workers: number[];
  changes: number;
  endpointChanges: number;
  streak: number;
  pollMs: number;
  changeTimeoutMs: number;
  lookupSizes: number[];
  skipMicro: boolean;
  skipServe: boolean;
  cpuProf: boolean;
  nodeArgs: string[];
  rev: string | undefined;
  archwayDir: string | undefined;
  keep: boolean;
  maxMinutes: number;
}

function numberList(s: string, flag: string, min: number): number[] {
  const xs = s.split(',').map((x) => Number(x.trim()));
  if (xs.length === 0 || xs.some((x) => !Number.isInteger(x) || x < min)) throw new Error(`${flag}: ${JSON.stringify(s)} is not a list of integers >= ${min}`);
  return xs;
}

function parseOptions(argv: string[]): Options | null {
  const { values: v } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      sizes: { type: 'string', default: '1000,10000' },
      workers: { type: 'string' },
      changes: { type: 'string' },
      'endpoint-changes': { type: 'string' },
      streak: { type: 'string', default: '20' },
      'poll-ms': { type: 'string', default: '5' },
      'change-timeout': { type: 'string', default: '20' },
      'lookup-sizes': { type: 'string', default: '10,10000' },
      'skip-micro': { type: 'boolean', default: false },
      'skip-serve': { type: 'boolean', default: false },
      'cpu-prof': { type: 'boolean', default: false },
      'node-args': { type: 'string', default: '' },
      rev: { type: 'string' },
      'archway-dir': { type: 'string' },
      keep: { type: 'boolean', default: false },
      'max-minutes': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (v.help) return null;
  const quick = v.quick!;
  const opts: Options = {
    quick,
    sizes: numberList(v.sizes!, '--sizes', 1),
    workers: numberList(v.workers ?? (quick ? '1' : '1,2'), '--workers', 0),
    changes: numberList(v.changes ?? (quick ? '10' : '40'), '--changes', 1)[0],
    endpointChanges: numberList(v['endpoint-changes'] ?? (quick ? '5' : '20'), '--endpoint-changes', 0)[0],
    streak: numberList(v.streak!, '--streak', 1)[0],
    pollMs: numberList(v['poll-ms']!, '--poll-ms', 1)[0],
    changeTimeoutMs: numberList(v['change-timeout']!, '--change-timeout', 1)[0] * 1000,
    lookupSizes: numberList(v['lookup-sizes']!, '--lookup-sizes', 1),
    skipMicro: v['skip-micro']!,
    skipServe: v['skip-serve']!,
    cpuProf: v['cpu-prof']!,
    nodeArgs: v['node-args']!.split(/\s+/).filter(Boolean),
    rev: v.rev,
    archwayDir: v['archway-dir'],
    keep: v.keep!,
    maxMinutes: numberList(v['max-minutes'] ?? (quick ? '15' : '60'), '--max-minutes', 1)[0],
  };
  if (opts.rev && opts.archwayDir) throw new Error('--rev and --archway-dir exclude each other');
  return opts;
}

// ---- machine ------------------------------------------------------------------------------------

/**
 * A port free now, below the kernel's ephemeral range: Archway binds it seconds later (after loading
 * 10,000 Ingresses), and meanwhile the bench's own client connections take ephemeral ports, one of
 * which once was the port picked (EADDRINUSE at start). Ports outside that range are never handed out
 * to outgoing connections.
 */
async function freePort(): Promise<number> {
  let low = 32768;
  try {
    low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]) || low;
  } catch {
    // not Linux: keep the usual default
  }
  const bindable = (port: number) => new Promise<boolean>((resolveBind) => {
    const s = createServer();
    s.once('error', () => resolveBind(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolveBind(true)));
  });
  for (let i = 0; i < 200; i++) {
    const port = 10_000 + Math.floor(Math.random() * Math.max(1, low - 10_000));
    if (!usedPorts.has(port) && (await bindable(port))) {
      usedPorts.add(port);
      return port;
    }
  }
  throw new Error('no free port below the ephemeral range');
}

const usedPorts = new Set<number>();

function load1(): number {
  return Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);
}

/** Busy and total CPU time of the machine (all CPUs), ms, from /proc/stat. */
function machineCpu(): { busy: number; total: number } {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const total = f.reduce((a, b) => a + b, 0);
  const idle = f[3] + (f[4] ?? 0);
  return { busy: (total - idle) * 10, total: total * 10 };
}

/** Memory is sampled this long after the last change: resident memory at rest, not mid-rebuild (the peak is VmHWM). */
const SETTLE_MS = 4000;

function memorySample(pid: number): MemorySample {
  const m = treeMemory(pid);
  return {
    rssMb: m.reduce((a, p) => a + p.rssKb, 0) / 1024,
    // The processes share the node binary's pages: counted once. (PSS would split them with every
    // other node process on the machine, the bench's own included, and so depend on what else runs.)
    instanceMb: (m.reduce((a, p) => a + p.privateKb, 0) + Math.max(0, ...m.map((p) => p.sharedKb))) / 1024,
    peakMb: m.reduce((a, p) => a + p.hwmKb, 0) / 1024,
    perProcessMb: m.map((p) => p.rssKb / 1024),
  };
}

// ---- one scenario -------------------------------------------------------------------------------

type Verdict = 'new' | 'old' | 'bad';

interface Context {
  opts: Options;
  archwayDir: string;
  backends: Backend[];
  cert: Cert;
  tmpRoot: string;
  outDir: string;
  stamp: string;
  warnings: string[];
}

/**
 * Polls `host`+`path` on fresh connections from `t0` (just before the write) until `streak` consecutive
 * replies are from the new configuration: the first such reply and the start of the final streak.
 */
async function pollChange(ctx: Context, port: number, host: string, path: string, classify: (r: Reply) => Verdict, t0: number): Promise<Omit<ChangeTrial, 'app' | 'file' | 'bytes' | 'fullSyncLogs' | 'load1'>> {
  const { streak, pollMs, changeTimeoutMs } = ctx.opts;
  let firstMs: number | null = null;
  let streakStart: number | null = null;
  let run = 0;
  let flaps = 0;
  let polls = 0;
  let bad = 0;
  while (now() - t0 < changeTimeoutMs) {
    const r = await get(port, host, path, 2000);
    polls++;
    const v = classify(r);
    if (v === 'new') {
      firstMs ??= r.doneAt - t0;
      streakStart ??= r.doneAt - t0;
      if (++run >= streak) return { firstMs, allMs: streakStart, flaps, polls, bad };
    } else {
      if (v === 'bad') bad++;
      if (firstMs !== null) flaps++;
      run = 0;
      streakStart = null;
    }
    const wait = pollMs - (now() - r.sentAt);
    if (wait > 0) await sleep(wait);
  }
  return { firstMs, allMs: null, flaps, polls, bad };
}

/** Deterministic spread of apps over the fleet for trial k (different files, different namespaces). */
function trialApp(fleet: Fleet, k: number, salt: number, pred: (a: App) => boolean = () => true): number {
  for (let j = 0; ; j++) {
    const i = ((k + j) * 7919 + salt * 104729 + 17) % fleet.count;
    if (pred(fleet.apps[i]) || j > fleet.count) return i;
  }
}

async function runScenario(ctx: Context, size: number, workers: number): Promise<ScenarioResult> {
  const { opts } = ctx;
  const dir = mkdtempSync(join(ctx.tmpRoot, `manifests-${size}-w${workers}-`));
  const tGen = now();
  const fleet = new Fleet({ count: size, dir, backendPorts: ctx.backends.map((b) => b.port), cert: ctx.cert });
  const bytes = fleet.writeAll();
  const generateMs = now() - tGen;
  const [httpPort, httpsPort, adminPort] = [await freePort(), await freePort(), await freePort()];
  const nodeArgs: string[] = [...opts.nodeArgs];
  let profDir: string | undefined;
  if (opts.cpuProf) {
    profDir = join(ctx.outDir, `control-plane-${ctx.stamp}-profiles`, `${size}-w${workers}`);
    mkdirSync(profDir, { recursive: true });
    nodeArgs.push('--cpu-prof', `--cpu-prof-dir=${profDir}`);
  }
  const args = ['serve', '--manifests', dir, '--http-port', String(httpPort), '--https-port', String(httpsPort), '--admin-port', String(adminPort), '--bind', '127.0.0.1', '--admin-bind', '127.0.0.1', '--workers', String(workers)];
  // Probes go to apps without spec.tls: a TLS host answers plain HTTP with a redirect to https.
  const probe = probeOf(fleet.apps.find((a) => !a.tls)!);
  const expectPort = (a: App) => ctx.backends[a.backend].port;
  const cpu0 = machineCpu();
  const bench0 = process.cpuUsage();
  const result: ScenarioResult = {
    size, workers, files: fleet.fileCount + 1, manifestMb: bytes / 2 ** 20, generateMs, mix: fleet.summary(),
    readyMs: null, serveMs: null, listeningLogMs: null, verified: { ok: 0, total: 0, failures: [] }, diagnostics: {},
    memoryAfterStart: { rssMb: 0, instanceMb: 0, peakMb: 0, perProcessMb: [] }, memoryAfterChanges: null, idleCpuPct: 0,
    ingress: [], endpoints: [],
    ingressFirst: distribution([]), ingressAll: distribution([]), endpointsFirst: distribution([]), endpointsAll: distribution([]),
    exit: '', machineBusyPct: 0,
  };
  log(`${size} Ingresses, ${workers} worker(s): ${result.files} files, ${result.manifestMb.toFixed(1)} MB generated in ${(generateMs / 1000).toFixed(1)} s; starting Archway`);
  const archway = new ArchwayProcess(nodeArgs, ctx.archwayDir, args);
  let archwayCpu = 0;
  try {
    // Start: poll readiness and a generated host side by side until both answer (or the process dies).
    const startDeadline = archway.startedAt + 10 * 60_000;
    const exited = () => !archway.running;
    const readyLoop = (async () => {
      while (now() < startDeadline && !exited()) {
        const r = await adminGet(adminPort, '/readyz', 2000);
        if (r.status === 200) return r.doneAt - archway.startedAt;
        await sleep(20);
      }
      return null;
    })();
    let lastProbe = '';
    let readyAt: number | null = null;
    const serveLoop = (async () => {
      // Also gives up 60 s after /readyz said ready: the probe route is not being served.
      while (now() < startDeadline && !exited() && (readyAt === null || now() - readyAt < 60_000)) {
        const r = await get(httpPort, probe.host, probe.path, 2000);
        if (backendReply(r)?.host === probe.host) return r.doneAt - archway.startedAt;
        lastProbe = `${r.status} ${r.error ?? r.head.split('\r\n')[0]}`;
        await sleep(10);
      }
      return null;
    })();
    [result.readyMs, result.serveMs] = await Promise.all([readyLoop.then((x) => (readyAt = x === null ? null : now(), x)), serveLoop]);
    const listening = archway.lines.find((l) => /listening on/.test(l.text));
    result.listeningLogMs = listening ? listening.at - archway.startedAt : null;
    if (result.readyMs === null || result.serveMs === null) {
      const why = !archway.running ? `exited ${JSON.stringify(archway.exitInfo)}` : result.readyMs === null ? 'never ready' : `ready, but ${probe.host}${probe.path} answered ${lastProbe}`;
      throw new Error(`Archway did not start serving (${why}):\n${archway.tail()}`);
    }
    log(`  ready after ${sec(result.readyMs)} s, first 200 after ${sec(result.serveMs)} s`);

    // Every app checked on small fleets, a spread sample on large ones: status, host and backend.
    const sample = fleet.apps.filter((_, i) => size <= 200 || i % Math.ceil(size / 200) === 0);
    for (const a of sample) {
      const p = probeOf(a);
      const r = await get(httpPort, p.host, p.path, 5000);
      const b = backendReply(r);
      result.verified.total++;
      if ((b && b.host === p.host && b.backend === expectPort(a)) || (a.tls && isHttpsRedirect(r, p.host))) result.verified.ok++;
      else if (result.verified.failures.length < 5) result.verified.failures.push(`${p.host}${p.path}: ${r.status} ${r.error ?? r.body.slice(0, 120)}`);
    }
    // Wildcard hosts too.
    for (const a of fleet.apps.filter((x) => x.rules.some((r) => r.host.startsWith('*.'))).slice(0, 20)) {
      const rule = a.rules.find((r) => r.host.startsWith('*.'))!;
      const host = `any${rule.host.slice(1)}`;
      const p = rule.paths[0];
      const path = p.pathType === 'Exact' ? p.path : p.path === '/' ? '/w' : `${p.path}/w`;
      const b = backendReply(await get(httpPort, host, path, 5000));
      result.verified.total++;
      if (b && b.host === host && b.backend === expectPort(a)) result.verified.ok++; // wildcard hosts are never in spec.tls here
      else if (result.verified.failures.length < 5) result.verified.failures.push(`${host}${path}: wrong or no reply`);
    }
    const d = await adminGet(adminPort, '/diagnostics', 30_000);
    try {
      for (const x of JSON.parse(d.body) as Array<{ code: string }>) result.diagnostics[x.code] = (result.diagnostics[x.code] ?? 0) + 1;
    } catch {
      result.diagnostics['(unreadable /diagnostics)'] = 1;
    }
    if (result.verified.ok !== result.verified.total) ctx.warnings.push(`${size}/${workers}w: ${result.verified.total - result.verified.ok} of ${result.verified.total} generated routes did not answer as expected: ${result.verified.failures.join('; ')}`);

    // Memory once the start has settled (Archway gives freed heap pages back 1 s after its last rebuild
    // or table load: src/util/memory-release.ts), then idle CPU over a window covering several of the
    // watcher's safety-net polls.
    await sleep(SETTLE_MS);
    result.memoryAfterStart = memorySample(archway.pid);
    const idle0 = treeCpuMs(archway.pid);
    const idleT0 = now();
    await sleep(6000);
    result.idleCpuPct = (100 * (treeCpuMs(archway.pid) - idle0)) / (now() - idleT0);
    log(`  RSS ${result.memoryAfterStart.rssMb.toFixed(0)} MB (${result.memoryAfterStart.perProcessMb.map((x) => x.toFixed(0)).join(' + ')}), idle CPU ${result.idleCpuPct.toFixed(0)}%`);

    // Ingress changes: one new host (rule, Prefix /) on one Ingress; poll the new host.
    const tag = Math.random().toString(36).slice(2, 7);
    for (let k = 0; k < opts.changes; k++) {
      const app = trialApp(fleet, k, 1, (a) => !a.tls);
      const host = `chg-${tag}-${k}.bench.test`;
      const pending = fleet.addHost(app, host);
      const before = await get(httpPort, host, '/chg', 2000);
      if (before.status !== 404) ctx.warnings.push(`${size}/${workers}w: ${host} answered ${before.status} before the change`);
      const t0 = now();
      pending.write();
      const port = expectPort(fleet.apps[app]);
      const res = await pollChange(ctx, httpPort, host, '/chg', (r) => {
        if (r.status === 404) return 'old';
        const b = backendReply(r);
        return (b && b.host === host && b.backend === port) || isHttpsRedirect(r, host) ? 'new' : 'bad';
      }, t0);
      const trial: ChangeTrial = { app, file: pending.file, bytes: pending.bytes, ...res, fullSyncLogs: archway.linesSince(t0, /serving configuration/).length, load1: load1() };
      result.ingress.push(trial);
      log(`  Ingress change ${k + 1}/${opts.changes}: first ${ms(trial.firstMs)} ms, all ${ms(trial.allMs)} ms${trial.flaps ? `, ${trial.flaps} old replies after the first new one` : ''}${trial.bad ? `, ${trial.bad} bad replies` : ''}`);
      if (!archway.running) throw new Error(`Archway exited during the Ingress changes:\n${archway.tail()}`);
      await sleep(250 + ((k * 37) % 200));
    }

    // Endpoints-only changes (the fast lane): move one app's endpoints to another backend.
    for (let k = 0; k < opts.endpointChanges; k++) {
      const app = trialApp(fleet, k, 2, (a) => !a.tls);
      const a = fleet.apps[app];
      const oldPort = expectPort(a);
      const next = (a.backend + 1) % ctx.backends.length;
      const newPort = ctx.backends[next].port;
      const pending = fleet.moveEndpoints(app, next);
      const p = probeOf(a);
      const t0 = now();
      pending.write();
      const res = await pollChange(ctx, httpPort, p.host, p.path, (r) => {
        const b = backendReply(r);
        return b?.backend === newPort ? 'new' : b?.backend === oldPort ? 'old' : 'bad';
      }, t0);
      await sleep(100); // a full rebuild, if any, logs after the swap
      const trial: ChangeTrial = { app, file: pending.file, bytes: pending.bytes, ...res, fullSyncLogs: archway.linesSince(t0, /serving configuration/).length, load1: load1() };
      result.endpoints.push(trial);
      log(`  Endpoints change ${k + 1}/${opts.endpointChanges} (${a.endpointKind}): first ${ms(trial.firstMs)} ms, all ${ms(trial.allMs)} ms${trial.fullSyncLogs ? ', with a full rebuild' : ''}`);
      if (!archway.running) throw new Error(`Archway exited during the Endpoints changes:\n${archway.tail()}`);
      await sleep(250 + ((k * 37) % 200));
    }
    await sleep(SETTLE_MS);
    result.memoryAfterChanges = memorySample(archway.pid);
  } catch (e) {
    result.error = (e as Error).message.split('\n')[0];
    ctx.warnings.push(`${size}/${workers}w: ${(e as Error).message}`);
    log(`  error: ${(e as Error).message}`);
  } finally {
    if (archway.running) archwayCpu = treeCpuMs(archway.pid);
    const exit = await archway.stop(opts.cpuProf ? 60_000 : 15_000);
    result.exit = exit.signal ? `signal ${exit.signal}` : `code ${exit.code}`;
    if (!opts.keep) rmSync(dir, { recursive: true, force: true });
    else log(`  manifests kept in ${dir}`);
  }
  const cpu1 = machineCpu();
  const bench1 = process.cpuUsage(bench0);
  const wall = cpu1.total - cpu0.total;
  result.machineBusyPct = wall > 0 ? (100 * (cpu1.busy - cpu0.busy)) / wall : 0;
  const others = cpu1.busy - cpu0.busy - archwayCpu - (bench1.user + bench1.system) / 1000;
  if (wall > 0 && others / wall > 0.15) {
    ctx.warnings.push(`${size}/${workers}w: other processes used about ${((100 * others) / wall).toFixed(0)}% of the machine's CPU during this scenario: latencies are inflated; re-run on a quiet machine`);
  }
  result.ingressFirst = distribution(result.ingress.map((t) => t.firstMs));
  result.ingressAll = distribution(result.ingress.map((t) => t.allMs));
  result.endpointsFirst = distribution(result.endpoints.map((t) => t.firstMs));
  result.endpointsAll = distribution(result.endpoints.map((t) => t.allMs));
  const fastFull = result.endpoints.filter((t) => t.fullSyncLogs > 0).length;
  if (fastFull > 0) ctx.warnings.push(`${size}/${workers}w: ${fastFull} of ${result.endpoints.length} Endpoints-only changes logged a full rebuild ("serving configuration"), not the fast lane`);
  if (profDir) {
    result.profiles = [];
    const summaries: string[] = [];
    for (const f of existsSync(profDir) ? readdirSync(profDir).filter((x) => x.endsWith('.cpuprofile')).sort() : []) {
      result.profiles.push(join(profDir, f));
      summaries.push(formatSummary(summarize(join(profDir, f), 30)));
    }
    writeFileSync(join(profDir, 'summary.txt'), `${summaries.join('\n\n')}\n`);
    log(`  CPU profiles: ${profDir} (summary.txt)`);
  }
  return result;
}

// ---- micro-benchmark (child process) ------------------------------------------------------------

function runMicro(ctx: Context): Promise<MicroOutput | null> {
  const args = ['--expose-gc', join(HERE, 'micro.ts'), '--archway-dir', ctx.archwayDir, '--lookup-sizes', ctx.opts.lookupSizes.join(','), '--phase-sizes', ctx.opts.sizes.join(','), '--changes', ctx.opts.quick ? '3' : '5', '--rounds', ctx.opts.quick ? '15' : '41'];
  return new Promise((resolveMicro) => {
    const child = spawn(process.execPath, args, { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (err += c));
    const timer = setTimeout(() => {
      ctx.warnings.push('micro-benchmark: timed out after 20 min');
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // gone
      }
    }, 20 * 60_000);
    activeMicro = child.pid;
    child.on('exit', (code) => {
      clearTimeout(timer);
      activeMicro = undefined;
      if (code !== 0) {
        ctx.warnings.push(`micro-benchmark failed (exit ${code}): ${err.trim().split('\n').slice(-5).join(' | ')}`);
        return resolveMicro(null);
      }
      try {
        resolveMicro(JSON.parse(out) as MicroOutput);
      } catch {
        ctx.warnings.push('micro-benchmark: unreadable output');
        resolveMicro(null);
      }
    });
  });
}

let activeMicro: number | undefined;

// ---- main ---------------------------------------------------------------------------------------

const log = (msg: string): void => void process.stderr.write(`${msg}\n`);
const ms = (x: number | null): string => (x === null ? 'timeout' : x.toFixed(0));
const sec = (x: number | null): string => (x === null ? '-' : (x / 1000).toFixed(1));

async function main(argv: string[]): Promise<number> {
  let opts: Options | null;
  try {
    opts = parseOptions(argv);
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (!opts) {
    process.stdout.write(USAGE);
    return 0;
  }
  const outDir = join(REPO, 'bench', 'out');
  mkdirSync(outDir, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19);
  const tmpRoot = mkdtempSync(join(tmpdir(), 'archway-cp-bench-'));
  let worktree: Worktree | undefined;
  let backends: Backend[] = [];
  const cleanup = () => {
    killAllSync();
    if (activeMicro !== undefined) {
      try {
        process.kill(-activeMicro, 'SIGKILL');
      } catch {
        // gone
      }
    }
    worktree?.remove();
    if (!opts.keep) rmSync(tmpRoot, { recursive: true, force: true });
  };
  const onSignal = (sig: NodeJS.Signals) => {
    log(`\n${sig}: stopping everything`);
    cleanup();
    process.exit(130);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  process.once('exit', () => killAllSync());
  const watchdog = setTimeout(() => {
    log(`watchdog: the run exceeded ${opts.maxMinutes} minutes; stopping everything`);
    cleanup();
    process.exit(1);
  }, opts.maxMinutes * 60_000);
  watchdog.unref();

  try {
    let archwayDir = resolve(opts.archwayDir ?? REPO);
    if (opts.rev) {
      worktree = addWorktree(REPO, resolveRevision(REPO, opts.rev), join(tmpRoot, 'worktree'));
      archwayDir = worktree.path;
    }
    if (!existsSync(join(archwayDir, 'bin', 'archway.js'))) throw new Error(`${archwayDir} is not an Archway checkout (no bin/archway.js)`);
    const git = gitInfo(archwayDir);
    const warnings: string[] = [];
    const report: Report = {
      meta: {
        // A --rev worktree is clean by construction (its node_modules symlink is untracked).
        date: new Date().toISOString(), commit: git.commit, dirty: opts.rev ? false : git.dirty, archwayDir, node: process.version, cpus: availableParallelism(),
        options: { ...opts }, loadavgStart: readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' '),
      },
      micro: null,
      scenarios: [],
      warnings,
    };
    if (availableParallelism() < 2) warnings.push('fewer than 2 CPUs: the benchmark process and Archway share one core');
    const cert = selfSignedCert();
    const ctx: Context = { opts, archwayDir, backends, cert, tmpRoot, outDir, stamp, warnings };
    if (!opts.skipMicro) {
      log(`micro-benchmark: routing lookup at ${opts.lookupSizes.join(', ')} Ingresses, in-process breakdown at ${opts.sizes.join(', ')}`);
      report.micro = await runMicro(ctx);
    }
    if (!opts.skipServe) {
      backends = await Promise.all([startBackend(), startBackend(), startBackend()]);
      ctx.backends = backends;
      for (const size of opts.sizes) {
        for (const workers of opts.workers) report.scenarios.push(await runScenario(ctx, size, workers));
      }
    }
    const md = markdown(report);
    const base = join(outDir, `control-plane-${stamp}`);
    writeFileSync(`${base}.json`, `${JSON.stringify(report, null, 2)}\n`);
    writeFileSync(`${base}.md`, `${md}\n`);
    process.stdout.write(`${md}\nRaw results: ${base}.json\n`);
    return report.scenarios.some((s) => s.error) ? 1 : 0;
  } catch (e) {
    log(`bench:control-plane: ${(e as Error).stack ?? String(e)}`);
    return 1;
  } finally {
    await Promise.all(backends.map(stopBackend));
    cleanup();
    clearTimeout(watchdog);
  }
}

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
}, (e: unknown) => {
  log(String(e));
  killAllSync();
  process.exitCode = 1;
});
