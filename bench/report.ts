// Turning measurements into medians, paired per-round ratios and Markdown tables.

import { SCENARIOS, WARNING_TEXT, type Contender, type Measurement, type ScenarioId, type WarningKind } from './measure.ts';

export interface RatioStat {
  median: number;
  min: number;
  max: number;
  n: number;
}

type Getter = (m: Measurement) => number | undefined;

export function median(values: readonly number[]): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

function valuesOf(ms: readonly Measurement[], contender: string, scenarios: readonly ScenarioId[], get: Getter) {
  return ms
    .filter((m) => m.ok && m.contender === contender && scenarios.includes(m.scenario))
    .map(get)
    .filter((v): v is number => v !== undefined && Number.isFinite(v));
}

export function medianOf(
  ms: readonly Measurement[],
  contender: string,
  scenarios: readonly ScenarioId[],
  get: Getter,
): number | undefined {
  return median(valuesOf(ms, contender, scenarios, get));
}

/** Ratios numerator/denominator paired by (round, scenario), summarised by their median. */
export function pairedRatio(
  ms: readonly Measurement[],
  numerator: string,
  denominator: string,
  scenarios: readonly ScenarioId[],
  get: Getter,
): RatioStat | undefined {
  const byKey = (contender: string): Map<string, number> => {
    const map = new Map<string, number>();
    for (const m of ms) {
      const value = m.ok && m.contender === contender && scenarios.includes(m.scenario) ? get(m) : undefined;
      if (value !== undefined && Number.isFinite(value)) map.set(`${m.round}/${m.scenario}`, value);
    }
    return map;
  };
  const top = byKey(numerator);
  const bottom = byKey(denominator);
  const ratios: number[] = [];
  for (const [key, value] of top) {
    const other = bottom.get(key);
    if (other !== undefined && other > 0) ratios.push(value / other);
  }
  const mid = median(ratios);
  if (mid === undefined) return undefined;
  return { median: mid, min: Math.min(...ratios), max: Math.max(...ratios), n: ratios.length };
}

// ---- formatting -----------------------------------------------------------------------------

function group(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

export function formatValue(value: number | undefined, unit: string): string {
  if (value === undefined) return '—';
  if (unit === 'req/s') return value >= 10_000 ? `${(value / 1000).toFixed(1)}k` : group(value);
  if (unit === 'MiB' || unit === 'µs') return value.toFixed(1);
  return group(value);
}

function formatRatio(stat: RatioStat | undefined): string {
  if (stat === undefined) return '—';
  const main = stat.median.toFixed(2);
  return stat.n > 1 ? `${main} (${stat.min.toFixed(2)}–${stat.max.toFixed(2)})` : main;
}

function formatMs(ms: number | undefined): string {
  if (ms === undefined) return '—';
  if (ms >= 100) return ms.toFixed(0);
  if (ms >= 10) return ms.toFixed(1);
  return ms.toFixed(2);
}

function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const align = header.map((_, i) => (i === 0 ? '---' : '---:'));
  return [header, align, ...rows].map((row) => `| ${row.join(' | ')} |`).join('\n');
}

// ---- the report -----------------------------------------------------------------------------

export interface ReportInput {
  title: string;
  metaLines: readonly string[];
  scenarios: readonly ScenarioId[];
  contenders: readonly Contender[];
  measurements: readonly Measurement[];
  /** Contender ids: Archway under test, nginx, and the optional extra ones. */
  archway: string;
  nginx: string;
  nginxUnbuffered?: string;
  revision?: string;
}

export function renderReport(input: ReportInput, withDetails: boolean): string {
  const { measurements: ms, archway: A, nginx: N, nginxUnbuffered: U, revision: R } = input;
  const ran = (id: string | undefined): id is string => id !== undefined && ms.some((m) => m.contender === id);
  const value: Getter = (m) => m.value;
  const p50: Getter = (m) => m.wrk?.latencyMs.p50;
  const p99: Getter = (m) => m.wrk?.latencyMs.p99;
  const out: string[] = [`## ${input.title}`, '', ...input.metaLines.map((l) => `- ${l}`), ''];

  // Throughput.
  const header = ['Scenario', A, N, `${A} / ${N}`, `${A} p50 / p99 ms`, `${N} p50 / p99 ms`];
  if (ran(R)) header.push(R, `${A} / ${R}`);
  const rows: string[][] = [];
  const latency = (id: string, s: readonly ScenarioId[]): string =>
    `${formatMs(medianOf(ms, id, s, p50))} / ${formatMs(medianOf(ms, id, s, p99))}`;
  const addRow = (label: string, s: ScenarioId, reference: string): void => {
    const unit = SCENARIOS[s].unit;
    const row = [
      `${label} (${unit})`,
      formatValue(medianOf(ms, A, [s], value), unit),
      formatValue(medianOf(ms, reference, [s], value), unit),
      formatRatio(pairedRatio(ms, A, reference, [s], value)),
      latency(A, [s]),
      latency(reference, [s]),
    ];
    if (ran(R)) {
      row.push(formatValue(medianOf(ms, R, [s], value), unit), formatRatio(pairedRatio(ms, A, R, [s], value)));
    }
    rows.push(row);
  };
  for (const s of input.scenarios) {
    addRow(`(${s}) ${SCENARIOS[s].title}`, s, N);
    if (s === 'c' && ran(U)) addRow(`(c) ${SCENARIOS.c.title}, vs ${N} proxy_buffering off`, 'c', U);
  }
  out.push('### Throughput (median of rounds; ratio = median of per-round ratios, min–max)', '', table(header, rows), '');

  // Resources.
  const resHeader = ['Measure', A, N, `${A} / ${N}`];
  if (ran(R)) resHeader.push(R, `${A} / ${R}`);
  const resRows: string[][] = [];
  const addResource = (label: string, s: readonly ScenarioId[], get: Getter, unit: string): void => {
    const row = [
      label,
      formatValue(medianOf(ms, A, s, get), unit),
      formatValue(medianOf(ms, N, s, get), unit),
      formatRatio(pairedRatio(ms, A, N, s, get)),
    ];
    if (ran(R)) row.push(formatValue(medianOf(ms, R, s, get), unit), formatRatio(pairedRatio(ms, A, R, s, get)));
    resRows.push(row);
  };
  const mib = (kib: number | undefined): number | undefined => (kib === undefined ? undefined : kib / 1024);
  addResource('(d) RSS idle, process tree, sum of VmRSS (MiB)', input.scenarios, (m) => mib(m.rssIdleKiB), 'MiB');
  addResource('(d) PSS idle, process tree (MiB)', input.scenarios, (m) => mib(m.pssIdleKiB), 'MiB');
  for (const s of input.scenarios) {
    addResource(`(d) RSS peak under (${s}) ${SCENARIOS[s].title}, sum of VmRSS (MiB)`, [s], (m) => mib(m.rssPeakKiB), 'MiB');
  }
  for (const s of input.scenarios.filter((id) => SCENARIOS[id].unit === 'req/s')) {
    addResource(`CPU per request, (${s}) (µs)`, [s], (m) => m.cpuUsPerRequest, 'µs');
  }
  out.push('### Resources', '', table(resHeader, resRows), '');

  // Failures and warnings.
  const failed = input.contenders.filter((c) => c.failure !== undefined);
  const otherErrors = ms.filter((m) => !m.ok && !failed.some((c) => c.id === m.contender));
  if (failed.length > 0 || otherErrors.length > 0) {
    out.push('### Failures', '');
    for (const c of failed) {
      out.push(`- **${c.id}** did not start or serve correctly: ${c.failure!.message}`);
      out.push(`  - command: \`${c.describe}\``);
      if (c.failure!.tail.trim() !== '') {
        out.push('', '  ```', ...c.failure!.tail.split('\n').map((l) => `  ${l}`), '  ```', '');
      }
    }
    for (const m of otherErrors) out.push(`- round ${m.round}, (${m.scenario}) ${m.contender}: ${m.error}`);
    out.push('');
  }
  out.push('### Notes', '');
  out.push('- wrk is closed-loop: p99 at saturation under-estimates the tail a real client population would see.');
  for (const kind of Object.keys(WARNING_TEXT) as WarningKind[]) {
    const hits = ms.flatMap((m) =>
      m.warnings.filter((w) => w.kind === kind).map((w) => `r${m.round} (${m.scenario}) ${m.contender} ${w.detail}`),
    );
    if (hits.length > 0) out.push(`- warning: ${WARNING_TEXT[kind]}: ${hits.join('; ')}`);
  }
  out.push('');

  if (withDetails) {
    out.push('### Per measurement', '');
    const pct = (x: number | undefined): string => (x === undefined ? '—' : `${Math.round(x * 100)}%`);
    const detailRows = ms.map((m) => [
      String(m.round),
      m.scenario,
      m.contender,
      m.ok ? formatValue(m.value, SCENARIOS[m.scenario].unit) : `failed: ${m.error ?? ''}`,
      `${formatMs(m.wrk?.latencyMs.p50)} / ${formatMs(m.wrk?.latencyMs.p99)}`,
      pct(m.proxyCpu),
      pct(m.proxyCoreBusy),
      pct(m.loadCoreBusy),
      pct(m.wrkCpu),
      `${pct(m.backgroundBusy?.load)} / ${pct(m.backgroundBusy?.proxy)}`,
    ]);
    out.push(
      table(
        ['Round', 'Scenario', 'Contender', 'Value', 'p50 / p99 ms', 'proxy CPU', 'proxy core busy', 'load core busy', 'wrk CPU', 'idle-time busy CPU 0 / 1'],
        detailRows,
      ),
      '',
    );
    out.push('### Contenders', '');
    for (const c of input.contenders) out.push(`- **${c.id}**: \`${c.describe}\``);
    out.push('');
  }
  return out.join('\n');
}
