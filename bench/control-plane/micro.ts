// In-process measurements for the control-plane benchmark, run in a fresh child process by run.ts
// (`node --expose-gc bench/control-plane/micro.ts --archway-dir DIR ...`, JSON on stdout):
//
// - routing lookup cost: `new Router(table)` and `router.match(host, path)` over a fixed request mix,
//   for a small and a large table built with ManifestSource + build + compile (issue 4 item 10);
// - where the control-plane time and memory go at each size: load, snapshot, build, compile, Router,
//   the IPC copy of the table (v8 serialize/deserialize, as `child.send` with advanced serialization),
//   and a warm Ingress change / Endpoints change through the real Controller.
//
// The Archway modules are imported from --archway-dir, so another checkout (a worktree) can be measured.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { deserialize, serialize } from 'node:v8';
import { Fleet, probeOf, requestHostFor, requestPathFor, selfSignedCert, type Cert } from './generate.ts';

type RouterModule = typeof import('../../src/snapshot/router.ts');
type SourceModule = typeof import('../../src/sources/manifest-source.ts');
type BuildModule = typeof import('../../src/model/build.ts');
type CompileModule = typeof import('../../src/snapshot/compile.ts');
type ControllerModule = typeof import('../../src/controller/controller.ts');
type DeltaModule = typeof import('../../src/snapshot/delta.ts');
type RoutingTable = import('../../src/snapshot/table.ts').RoutingTable;
type Router = import('../../src/snapshot/router.ts').Router;

interface Modules {
  router: RouterModule;
  source: SourceModule;
  build: BuildModule;
  compile: CompileModule;
  controller: ControllerModule;
  delta: DeltaModule;
}

async function load(dir: string): Promise<Modules> {
  const m = async <T>(p: string): Promise<T> => (await import(pathToFileURL(join(dir, p)).href)) as T;
  return {
    router: await m<RouterModule>('src/snapshot/router.ts'),
    source: await m<SourceModule>('src/sources/manifest-source.ts'),
    build: await m<BuildModule>('src/model/build.ts'),
    compile: await m<CompileModule>('src/snapshot/compile.ts'),
    controller: await m<ControllerModule>('src/controller/controller.ts'),
    delta: await m<DeltaModule>('src/snapshot/delta.ts'),
  };
}

const BUILD_OPTIONS = { controllerName: 'archway.dev/ingress-controller', ingressClass: 'archway', watchWithoutClass: true, defaultBackendService: undefined };
const FAKE_PORTS = [18081, 18082, 18083];

const now = (): number => performance.now();
const gc = (): void => (globalThis as { gc?: () => void }).gc?.();
const heapMb = (): number => {
  gc();
  return process.memoryUsage().heapUsed / 2 ** 20;
};
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function tableFor(mods: Modules, dir: string): Promise<RoutingTable> {
  const src = new mods.source.ManifestSource([dir]);
  await src.loadAll();
  const model = mods.build.build(src.snapshot().store, BUILD_OPTIONS);
  return mods.compile.compile(model);
}

// ---- routing lookup -----------------------------------------------------------------------------

export interface LookupResult {
  sizes: number[];
  mix: number;
  /** Per size: median ns per `match()` over the fixed mix. */
  nsPerLookup: number[];
  /** Per size: every round's ns per lookup. */
  rounds: number[][];
  /** Per size: median ms of `new Router(table)`. */
  routerBuildMs: number[];
  hosts: number[];
  /** Median over rounds of (largest table's ns per lookup / smallest table's), measured back to back. */
  ratio: number;
  /** Quartiles of the per-round ratios. */
  ratioQ1: number;
  ratioQ3: number;
  /** Informational: ns per lookup on the largest table with requests spread over all its apps (cache misses). */
  spreadNsPerLookup: number;
  sameAnswers: boolean;
}

/** The fixed request mix: every host and path of the first ten apps, a miss per host, unknown hosts. */
function requestMix(fleet: Fleet, apps: number): Array<[string, string]> {
  const mix: Array<[string, string]> = [];
  for (const a of fleet.apps.slice(0, apps)) {
    for (const r of a.rules) {
      const host = requestHostFor(r.host);
      for (const p of r.paths) mix.push([host, requestPathFor(p)]);
      mix.push([host, '/no/such/path']);
    }
    mix.push([`unknown-${a.index}.example.org`, '/']);
  }
  return mix;
}

function timeLookups(router: Router, mix: Array<[string, string]>, iterations: number): number {
  let sink = 0;
  const t0 = process.hrtime.bigint();
  for (let it = 0; it < iterations; it++) {
    for (let i = 0; i < mix.length; i++) {
      const r = router.match(mix[i][0], mix[i][1]);
      if (r !== null) sink += r.backend.length;
    }
  }
  const ns = Number(process.hrtime.bigint() - t0);
  if (sink === -1) console.log('unreachable');
  return ns / (iterations * mix.length);
}

async function lookupBench(mods: Modules, sizes: number[], rounds: number, cert: Cert): Promise<LookupResult> {
  const root = mkdtempSync(join(tmpdir(), 'archway-lookup-'));
  try {
    const fleets: Fleet[] = [];
    const routers: Router[] = [];
    const tables: RoutingTable[] = [];
    const routerBuildMs: number[] = [];
    for (const n of sizes) {
      const fleet = new Fleet({ count: n, dir: join(root, String(n)), backendPorts: FAKE_PORTS, cert });
      fleet.writeAll();
      const table = await tableFor(mods, fleet.dir);
      const builds: number[] = [];
      let router: Router | undefined;
      for (let i = 0; i < 5; i++) {
        const t0 = now();
        router = new mods.router.Router(table);
        builds.push(now() - t0);
      }
      fleets.push(fleet);
      tables.push(table);
      routers.push(router!);
      routerBuildMs.push(median(builds));
    }
    const mix = requestMix(fleets[0], Math.min(10, sizes[0]));
    const answers = routers.map((r) => mix.map(([h, p]) => r.match(h, p)?.backend ?? null).join(','));
    const sameAnswers = answers.every((a) => a === answers[0]);
    // Calibrate to ~40 ms per measurement, then alternate the routers round after round: the machine's
    // speed drifts (shared cores, frequency), so the ratio is taken per round, from neighbouring runs.
    let iterations = 1000;
    for (;;) {
      const t0 = now();
      timeLookups(routers[0], mix, iterations);
      const ms = now() - t0;
      if (ms > 50) {
        iterations = Math.max(1, Math.round((iterations * 40) / ms));
        break;
      }
      iterations *= 4;
    }
    for (const r of routers) timeLookups(r, mix, iterations); // warm-up
    const perRound: number[][] = sizes.map(() => []);
    for (let round = 0; round < rounds; round++) {
      const order = routers.map((_, i) => i);
      if (round % 2) order.reverse();
      for (const i of order) perRound[i].push(timeLookups(routers[i], mix, iterations));
    }
    const nsPerLookup = perRound.map(median);
    const last = sizes.length - 1;
    const ratios = perRound[last].map((x, r) => x / perRound[0][r]).sort((a, b) => a - b);
    // Spread: the same number of lookups, over apps all across the largest table.
    const big = fleets[fleets.length - 1];
    const spreadMix: Array<[string, string]> = [];
    for (let k = 0; spreadMix.length < mix.length; k++) {
      const p = probeOf(big.apps[(k * 7919) % big.count]);
      spreadMix.push([p.host, p.path]);
    }
    const spread: number[] = [];
    for (let round = 0; round < rounds; round++) spread.push(timeLookups(routers[routers.length - 1], spreadMix, iterations));
    return {
      sizes,
      mix: mix.length,
      nsPerLookup,
      rounds: perRound,
      routerBuildMs,
      hosts: tables.map((t) => Object.keys(t.hosts).length + Object.keys(t.wildcards).length),
      ratio: median(ratios),
      ratioQ1: ratios[Math.floor((ratios.length - 1) / 4)],
      ratioQ3: ratios[Math.ceil((3 * (ratios.length - 1)) / 4)],
      spreadNsPerLookup: median(spread),
      sameAnswers,
    };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

// ---- where the time and memory go ---------------------------------------------------------------

export interface PhaseResult {
  size: number;
  manifestMb: number;
  /** Cold (first load, as at process start), ms. */
  cold: Record<string, number>;
  /** Warm Ingress change, median ms per step over `changes` changes. */
  ingressChange: Record<string, number>;
  /** Warm Controller.refresh() (the primary's work, its delta serialized once) for an Ingress change / an Endpoints change, median ms. */
  controllerIngressMs: number;
  controllerEndpointsMs: number;
  /** Controller.refresh() with no file changed (the watcher's periodic safety-net poll), median ms. */
  controllerIdleMs: number;
  tableJsonMb: number;
  tableIpcMb: number;
  /**
   * Heap growth (MB, after GC): a loaded ManifestSource; a Controller synced on it (model, table, store,
   * fingerprints); a deserialized table + its Router (what a worker holds). `baseline`: heap before.
   */
  heapMb: { baseline: number; source: number; controller: number; workerTable: number };
}

async function phases(mods: Modules, size: number, changes: number, cert: Cert): Promise<PhaseResult> {
  const root = mkdtempSync(join(tmpdir(), 'archway-phases-'));
  try {
    const fleet = new Fleet({ count: size, dir: root, backendPorts: FAKE_PORTS, cert });
    const bytes = fleet.writeAll();
    const cold: Record<string, number> = {};
    let t = now();
    const src = new mods.source.ManifestSource([root]);
    await src.loadAll();
    cold.load = now() - t;
    let ipc: Buffer;
    let tableJsonMb: number;
    {
      t = now();
      const snap = src.snapshot();
      cold.snapshot = now() - t;
      t = now();
      const model = mods.build.build(snap.store, BUILD_OPTIONS);
      cold.build = now() - t;
      t = now();
      const table = mods.compile.compile(model);
      cold.compile = now() - t;
      t = now();
      tableJsonMb = JSON.stringify(table).length / 2 ** 20;
      cold.tableJson = now() - t;
      t = now();
      new mods.router.Router(table);
      cold.router = now() - t;
      t = now();
      ipc = serialize(table);
      cold.ipcSerialize = now() - t;
      t = now();
      deserialize(ipc);
      cold.ipcDeserialize = now() - t;
    }

    // Memory of a primary: a source and a synced Controller, measured as the heap growth after GC. Its
    // sink does what the worker pool does for one worker: the first table whole, then deltas, each
    // serialized as postMessage / child.send do (v8 serialization).
    let sent: { table: RoutingTable; prints: ReturnType<DeltaModule['fingerprintTable']> } | null = null;
    const sink = {
      setTable(tb: RoutingTable) {
        if (sent === null) {
          serialize(tb);
          sent = { table: tb, prints: mods.delta.fingerprintTable(tb) };
          return;
        }
        const d = mods.delta.diffTables(sent.table, sent.prints, tb);
        serialize(d.delta);
        sent = { table: tb, prints: d.prints };
      },
      // Only called by revisions benchmarked with --rev from before the fast lane sent its table to
      // setTable (2026-11-30).
      setBackends(hash: string, backends: RoutingTable['backends']) {
        serialize({ type: 'backends', hash, backends });
        if (sent) sent = { ...sent, table: { ...sent.table, hash, backends } };
      },
    };
    const silent = { diagnostic: () => {}, info: () => {} };
    const heap0 = heapMb();
    const src2 = new mods.source.ManifestSource([root]);
    await src2.loadAll();
    const heapSource = heapMb();
    const controller = new mods.controller.Controller(src2, { ...BUILD_OPTIONS, statusAddresses: [{ ip: '127.0.0.1' }] }, sink, silent);
    controller.sync();
    const heapController = heapMb();
    // A worker's share: a deserialized table and its Router.
    const workerTable = deserialize(ipc) as RoutingTable;
    const workerRouter = new mods.router.Router(workerTable);
    const heapWorker = heapMb() - heapController;
    if (workerRouter.hash !== workerTable.hash) throw new Error('router/table mismatch');

    const steps: Record<string, number[]> = { write: [], sourceRefresh: [], snapshot: [], build: [], compile: [], router: [], ipcSerialize: [], ipcDeserialize: [] };
    const ctlIngress: number[] = [];
    const ctlEndpoints: number[] = [];
    const ctlIdle: number[] = [];
    // The step-by-step replica keeps what the Controller keeps between changes: a BuildMemo, the
    // previous table (compile hashes against it), and a worker's side (its table and Router, which a
    // delta updates).
    const memo = new mods.build.BuildMemo();
    let prevTable = mods.compile.compile(mods.build.build(src.snapshot().store, BUILD_OPTIONS, memo));
    let prevPrints = mods.delta.fingerprintTable(prevTable);
    let updatedRouter = new mods.router.Router(prevTable);
    for (let k = 0; k < changes; k++) {
      const app = (k * 7919 + 13) % size;
      // Step by step on `src` (a replica of what Controller.sync does, for the breakdown)...
      const w = fleet.addHost(app, `phase-${k}.bench.test`);
      let t0 = now();
      w.write();
      steps.write.push(now() - t0);
      t0 = now();
      await src.refresh();
      steps.sourceRefresh.push(now() - t0);
      t0 = now();
      const s = src.snapshot();
      steps.snapshot.push(now() - t0);
      t0 = now();
      const m = mods.build.build(s.store, BUILD_OPTIONS, memo);
      steps.build.push(now() - t0);
      t0 = now();
      const tb = mods.compile.compile(m, prevTable);
      const d = mods.delta.diffTables(prevTable, prevPrints, tb);
      steps.compile.push(now() - t0);
      t0 = now();
      const buf = serialize(d.delta);
      steps.ipcSerialize.push(now() - t0);
      t0 = now();
      const received = deserialize(buf) as typeof d.delta;
      steps.ipcDeserialize.push(now() - t0);
      t0 = now();
      updatedRouter = new mods.router.Router(mods.delta.applyDelta(prevTable, received), { router: updatedRouter, delta: received });
      steps.router.push(now() - t0);
      prevTable = tb;
      prevPrints = d.prints;
      // ... and end to end through the real Controller (its source sees the same file change).
      t0 = now();
      await controller.refresh();
      ctlIngress.push(now() - t0);
      // An Endpoints-only change (the fast lane).
      const e = fleet.moveEndpoints(app, (fleet.apps[app].backend + 1) % FAKE_PORTS.length);
      e.write();
      await src.refresh(); // keep `src` in step
      t0 = now();
      await controller.refresh();
      ctlEndpoints.push(now() - t0);
      t0 = now();
      await controller.refresh();
      ctlIdle.push(now() - t0);
    }
    const ingressChange: Record<string, number> = {};
    for (const [k, v] of Object.entries(steps)) ingressChange[k] = median(v);
    return {
      size,
      manifestMb: bytes / 2 ** 20,
      cold,
      ingressChange,
      controllerIngressMs: median(ctlIngress),
      controllerEndpointsMs: median(ctlEndpoints),
      controllerIdleMs: median(ctlIdle),
      tableJsonMb,
      tableIpcMb: ipc.length / 2 ** 20,
      heapMb: { baseline: heap0, source: heapSource - heap0, controller: heapController - heapSource, workerTable: heapWorker },
    };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

// ---- CLI ----------------------------------------------------------------------------------------

export interface MicroOutput {
  lookup?: LookupResult;
  phases: PhaseResult[];
}

async function main(argv: string[]): Promise<void> {
  const { values: v } = parseArgs({
    args: argv,
    options: {
      'archway-dir': { type: 'string', default: process.cwd() },
      'lookup-sizes': { type: 'string', default: '10,10000' },
      'phase-sizes': { type: 'string', default: '' },
      rounds: { type: 'string', default: '11' },
      changes: { type: 'string', default: '5' },
      'skip-lookup': { type: 'boolean', default: false },
    },
  });
  const mods = await load(v['archway-dir']!);
  const cert = selfSignedCert();
  const out: MicroOutput = { phases: [] };
  if (!v['skip-lookup']) {
    const sizes = v['lookup-sizes']!.split(',').map(Number);
    out.lookup = await lookupBench(mods, sizes, Number(v.rounds), cert);
  }
  for (const s of v['phase-sizes']!.split(',').filter(Boolean).map(Number)) {
    out.phases.push(await phases(mods, s, Number(v.changes), cert));
  }
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

if (import.meta.main) {
  main(process.argv.slice(2)).catch((e: unknown) => {
    process.stderr.write(`micro: ${(e as Error).stack ?? String(e)}\n`);
    process.exitCode = 1;
  });
}
