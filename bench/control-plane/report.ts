// Statistics and the Markdown report of the control-plane benchmark.

import type { LookupResult, MicroOutput, PhaseResult } from './micro.ts';

export interface Distribution {
  n: number;
  /** Trials that never saw the new configuration within the timeout. */
  timeouts: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  min: number;
}

/** Percentile with linear interpolation between closest ranks (R type 7); NaN for no samples. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const h = (sorted.length - 1) * p;
  const lo = Math.floor(h);
  const hi = Math.ceil(h);
  return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
}

export function distribution(samples: ReadonlyArray<number | null>): Distribution {
  const ok = samples.filter((x): x is number => x !== null).sort((a, b) => a - b);
  const timeouts = samples.length - ok.length;
  // A timeout counts as +Infinity for the percentiles: a p99 that hides failures would lie.
  const all = [...ok, ...Array<number>(timeouts).fill(Infinity)];
  return {
    n: samples.length,
    timeouts,
    p50: percentile(all, 0.5),
    p90: percentile(all, 0.9),
    p99: percentile(all, 0.99),
    max: all.length ? all[all.length - 1] : NaN,
    min: all.length ? all[0] : NaN,
  };
}

export interface ChangeTrial {
  app: number;
  file: string;
  bytes: number;
  /** ms from the write to the first reply from the new configuration; null: timeout. */
  firstMs: number | null;
  /** ms from the write to the first reply of the final streak of `streak` consecutive new-config replies. */
  allMs: number | null;
  /** Old-configuration replies after the first new one (a worker not switched yet). */
  flaps: number;
  polls: number;
  /** Replies that were neither old nor new (errors, wrong backend). */
  bad: number;
  /** "serving configuration" log lines seen during the trial (full rebuilds that swapped a table). */
  fullSyncLogs: number;
  /** /proc/loadavg (1 min) when the trial ended. */
  load1: number;
}

export interface MemorySample {
  /** Sum of VmRSS over the process tree, MB (counts the node binary's shared pages once per process). */
  rssMb: number;
  /**
   * What the instance alone keeps resident, MB: every process's private pages plus the pages they
   * share (the node binary) counted once. Sharing is among Archway's own processes, so this is the
   * most of the shared part any one of them maps.
   */
  instanceMb: number;
  /** Sum of VmHWM (each process's peak RSS), MB. */
  peakMb: number;
  perProcessMb: number[];
}

export interface ScenarioResult {
  size: number;
  workers: number;
  files: number;
  manifestMb: number;
  generateMs: number;
  mix: Record<string, number>;
  /** ms from spawn to: /readyz 200; first 200 for a generated host; the 'listening on' log line. */
  readyMs: number | null;
  serveMs: number | null;
  listeningLogMs: number | null;
  verified: { ok: number; total: number; failures: string[] };
  diagnostics: Record<string, number>;
  memoryAfterStart: MemorySample;
  memoryAfterChanges: MemorySample | null;
  /** CPU of the whole tree while idle (no requests, no changes), percent of one core. */
  idleCpuPct: number;
  ingress: ChangeTrial[];
  endpoints: ChangeTrial[];
  ingressFirst: Distribution;
  ingressAll: Distribution;
  endpointsFirst: Distribution;
  endpointsAll: Distribution;
  exit: string;
  error?: string;
  profiles?: string[];
  /** Busy fraction of all CPUs (from /proc/stat) during the scenario; others' load shows here. */
  machineBusyPct: number;
}

export interface Meta {
  date: string;
  commit: string;
  dirty: boolean;
  archwayDir: string;
  node: string;
  cpus: number;
  options: Record<string, unknown>;
  loadavgStart: string;
}

export interface Report {
  meta: Meta;
  micro: MicroOutput | null;
  scenarios: ScenarioResult[];
  warnings: string[];
}

const ms = (x: number | null | undefined): string => (x === null || x === undefined || Number.isNaN(x) ? '-' : !Number.isFinite(x) ? 'timeout' : x >= 10_000 ? `${(x / 1000).toFixed(1)} s` : `${Math.round(x)}`);
const sec = (x: number | null): string => (x === null ? 'no' : (x / 1000).toFixed(1));
const mb = (x: number): string => x.toFixed(0);
const mark = (ok: boolean): string => (ok ? 'yes' : '**NO**');

function dist(d: Distribution): string {
  return `${ms(d.p50)} / ${ms(d.p99)} / ${ms(d.max)}${d.timeouts ? ` (${d.timeouts} timeouts)` : ''}`;
}

export function markdown(r: Report): string {
  const out: string[] = [];
  const m = r.meta;
  out.push(`# Archway control-plane benchmark, ${m.date}`);
  out.push('');
  out.push(`Commit ${m.commit.slice(0, 12)}${m.dirty ? ' + uncommitted changes' : ''} (${m.archwayDir}), Node ${m.node}, ${m.cpus} CPUs, load average at start ${m.loadavgStart}.`);
  out.push('');
  if (r.scenarios.length > 0) {
    out.push('## Start and memory');
    out.push('');
    out.push('| Ingresses | workers | files / MB | start to ready (s) | start to first 200 (s) | verified | RSS sum (instance) after start (MB) | RSS sum (instance) after changes (MB) | peak RSS sum (MB) | idle CPU | machine busy |');
    out.push('|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|');
    for (const s of r.scenarios) {
      out.push(`| ${s.size.toLocaleString('en')} | ${s.workers} | ${s.files} / ${s.manifestMb.toFixed(1)} | ${sec(s.readyMs)} | ${sec(s.serveMs)} | ${s.verified.ok}/${s.verified.total} | ${mb(s.memoryAfterStart.rssMb)} = ${s.memoryAfterStart.perProcessMb.map(mb).join(' + ')} (${instance(s.memoryAfterStart)}) | ${s.memoryAfterChanges ? `${mb(s.memoryAfterChanges.rssMb)} (${instance(s.memoryAfterChanges)})` : '-'} | ${s.memoryAfterChanges ? mb(s.memoryAfterChanges.peakMb) : mb(s.memoryAfterStart.peakMb)} | ${s.idleCpuPct.toFixed(0)}% | ${s.machineBusyPct.toFixed(0)}% |`);
    }
    out.push('');
    out.push('## Change to serving (ms from the file write; p50 / p99 / max)');
    out.push('');
    out.push('| Ingresses | workers | Ingress change: first new reply | Ingress change: all of 20 fresh connections | Endpoints change (fast lane): first | Endpoints: all | full rebuilds during fast-lane trials |');
    out.push('|---:|---:|---:|---:|---:|---:|---:|');
    for (const s of r.scenarios) {
      const fastFull = s.endpoints.reduce((a, t) => a + t.fullSyncLogs, 0);
      out.push(`| ${s.size.toLocaleString('en')} | ${s.workers} | ${dist(s.ingressFirst)} (n=${s.ingressFirst.n}) | ${dist(s.ingressAll)} | ${dist(s.endpointsFirst)} (n=${s.endpointsFirst.n}) | ${dist(s.endpointsAll)} | ${fastFull} |`);
    }
    out.push('');
    const errs = r.scenarios.filter((s) => s.error);
    for (const s of errs) out.push(`- ${s.size} Ingresses, ${s.workers} worker(s): **${s.error}**`);
    if (errs.length) out.push('');
  }
  if (r.micro?.lookup) out.push(...lookupSection(r.micro.lookup));
  if (r.micro && r.micro.phases.length > 0) out.push(...phaseSection(r.micro.phases));
  out.push(...targets(r));
  if (r.warnings.length > 0) {
    out.push('## Warnings');
    out.push('');
    for (const w of r.warnings) out.push(`- ${w}`);
    out.push('');
  }
  return out.join('\n');
}

function lookupSection(l: LookupResult): string[] {
  const out = ['## Routing lookup (`Router.match`, in-process)', ''];
  out.push(`Fixed mix of ${l.mix} requests (every host and path of the first 10 apps, a miss per host, unknown hosts); median of ${l.rounds[0].length} alternating rounds.`);
  out.push('');
  out.push('| Ingresses | hosts in table | ns per lookup | `new Router(table)` (ms) |');
  out.push('|---:|---:|---:|---:|');
  l.sizes.forEach((n, i) => out.push(`| ${n.toLocaleString('en')} | ${l.hosts[i].toLocaleString('en')} | ${l.nsPerLookup[i].toFixed(1)} | ${l.routerBuildMs[i].toFixed(2)} |`));
  out.push('');
  out.push(`Ratio largest/smallest (median of per-round ratios, quartiles ${l.ratioQ1.toFixed(3)}-${l.ratioQ3.toFixed(3)}): **${l.ratio.toFixed(3)}**${l.sameAnswers ? '' : ' (**the routers answered the mix differently**)'}. For information, the largest table with the requests spread over all its apps (cold caches): ${l.spreadNsPerLookup.toFixed(1)} ns per lookup.`);
  out.push('');
  return out;
}

function phaseSection(ps: PhaseResult[]): string[] {
  const out = ['## Where the control-plane time goes (in-process, one core, ms)', ''];
  out.push('Cold = the first load, as at process start. Change = median of warm Ingress changes, step by step as `Controller.sync` does them (with its BuildMemo and previous table: "compile" includes the delta to the workers; "delta serialize / deserialize" and "Router update" are a worker\'s side); "Controller" = the real `Controller.refresh()` (first table whole, then deltas serialized, as the worker pool sends them).');
  out.push('');
  const cols = ['Ingresses', 'manifests MB', 'cold load (read+parse)', 'cold build', 'cold compile', 'change: source refresh', 'change: build', 'change: compile', 'change: delta serialize (per worker)', 'change: delta deserialize (worker)', 'change: Router update (worker)', 'Controller: Ingress change', 'Controller: Endpoints change', 'Controller: idle poll', 'table MB (IPC)'];
  out.push(`| ${cols.join(' | ')} |`);
  out.push(`|${cols.map(() => '---:').join('|')}|`);
  for (const p of ps) {
    const c = p.cold;
    const w = p.ingressChange;
    out.push(`| ${p.size.toLocaleString('en')} | ${p.manifestMb.toFixed(1)} | ${ms(c.load)} | ${ms(c.build)} | ${ms(c.compile)} | ${ms(w.sourceRefresh)} | ${ms(w.build)} | ${ms(w.compile)} | ${ms(w.ipcSerialize)} | ${ms(w.ipcDeserialize)} | ${ms(w.router)} | ${ms(p.controllerIngressMs)} | ${ms(p.controllerEndpointsMs)} | ${ms(p.controllerIdleMs)} | ${p.tableIpcMb.toFixed(1)} |`);
  }
  out.push('');
  out.push('| Ingresses | heap: loaded source (MB) | heap: synced Controller on top (MB) | heap: one worker\'s table + Router (MB) |');
  out.push('|---:|---:|---:|---:|');
  for (const p of ps) out.push(`| ${p.size.toLocaleString('en')} | ${p.heapMb.source.toFixed(0)} | ${p.heapMb.controller.toFixed(0)} | ${p.heapMb.workerTable.toFixed(0)} |`);
  out.push('');
  return out;
}

function instance(m: MemorySample): string {
  return m.instanceMb > 0 ? `instance ${mb(m.instanceMb)}` : 'instance -';
}

function targets(r: Report): string[] {
  const out = ['## Targets (issue 4 item 10)', ''];
  out.push('| target | measured | met |');
  out.push('|---|---|---|');
  const largest = Math.max(...r.scenarios.map((s) => s.size), 0);
  for (const s of r.scenarios.filter((x) => x.size === largest && largest >= 10_000)) {
    out.push(`| Ingress change p99 < 1 s at ${largest.toLocaleString('en')}, ${s.workers} worker(s), all workers | ${ms(s.ingressAll.p99)} ms | ${mark(s.ingressAll.p99 < 1000)} |`);
    out.push(`| Endpoints change p99 < 1 s at ${largest.toLocaleString('en')}, ${s.workers} worker(s), all workers | ${ms(s.endpointsAll.p99)} ms | ${mark(s.endpointsAll.p99 < 1000)} |`);
    const rss = Math.max(s.memoryAfterChanges?.rssMb ?? 0, s.memoryAfterStart.rssMb);
    const own = Math.max(s.memoryAfterChanges?.instanceMb ?? 0, s.memoryAfterStart.instanceMb);
    if (rss === 0) {
      out.push(`| resident memory < 300 MB at ${largest.toLocaleString('en')}, ${s.workers} worker(s), at rest | not measured${s.error ? ` (${s.error})` : ''} | **NO** |`);
      continue;
    }
    out.push(`| resident memory < 300 MB at ${largest.toLocaleString('en')}, ${s.workers} worker(s), at rest | RSS sum ${mb(rss)} MB, instance ${mb(own)} MB | RSS sum ${mark(rss < 300)}, instance ${mark(own < 300)} |`);
  }
  const l = r.micro?.lookup;
  if (l) out.push(`| lookup cost ${l.sizes[0]} vs ${l.sizes[l.sizes.length - 1].toLocaleString('en')} Ingresses within 10% | ratio ${l.ratio.toFixed(3)} | ${mark(l.ratio <= 1.1)} |`);
  out.push('');
  return out;
}
