// Turning measurements into medians, paired per-round ratios and Markdown tables.

import { SCENARIOS, WARNING_TEXT, type Contender, type Measurement, type ScenarioId, type WarningKind } from './measure.ts';
import { TLS_HOST, TLS_SECRET } from './tls.ts';

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
  if (unit === 'req/s' || unit === 'handshakes/s') return value >= 10_000 ? `${(value / 1000).toFixed(1)}k` : group(value);
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

/** For (f): measured CPU per new connection of the s_time clients and of each proxy. */
function clientCost(ms: readonly Measurement[], A: string, N: string): string {
  const client = median(
    ms
      .filter((m) => m.ok && m.scenario === 'f' && m.wrkCpu !== undefined && (m.value ?? 0) > 0)
      .map((m) => (m.wrkCpu! / m.value!) * 1e6),
  );
  if (client === undefined) return '';
  const proxy = (id: string): string => `${id} ${formatValue(medianOf(ms, id, ['f'], (m) => m.cpuUsPerRequest), 'µs')}`;
  return ` (measured here, µs: clients ${formatValue(client, 'µs')}; ${proxy(A)}, ${proxy(N)})`;
}

/** For (f): rounds in which both contenders were capped by the load core, and what to read instead. */
function loadBound(ms: readonly Measurement[], A: string, N: string): string {
  const saturated = (m: Measurement | undefined): boolean =>
    m !== undefined && m.ok && m.warnings.some((w) => w.kind === 'load-core-saturated');
  const rounds = [...new Set(ms.filter((m) => m.scenario === 'f').map((m) => m.round))];
  const find = (id: string, round: number): Measurement | undefined =>
    ms.find((m) => m.scenario === 'f' && m.contender === id && m.round === round);
  const paired = rounds.filter((r) => find(A, r)?.ok && find(N, r)?.ok);
  const both = paired.filter((r) => saturated(find(A, r)) && saturated(find(N, r)));
  if (both.length === 0) return '';
  const cpu = pairedRatio(ms, A, N, ['f'], (m) => m.cpuUsPerRequest);
  return (
    ` **In ${both.length} of ${paired.length} round(s) both were load-bound** (load core at 95% or more): the rate ratio then ` +
    `says little; compare CPU per new connection instead (${A} / ${N}: ${cpu === undefined ? '—' : formatRatio(cpu)}).`
  );
}

/** How the TLS rows were measured, what was negotiated, and the issue 5 target for (e). */
function tlsNotes(input: ReportInput): string[] {
  const { measurements: ms, archway: A, nginx: N } = input;
  const negotiated = (s: ScenarioId): string => {
    const seen = new Map<string, Set<string>>();
    for (const m of ms) {
      if (m.scenario !== s || m.tls === undefined) continue;
      const set = seen.get(m.contender) ?? new Set<string>();
      set.add(`${m.tls.protocol} ${m.tls.cipher}`);
      seen.set(m.contender, set);
    }
    return [...seen].map(([id, set]) => `${id} ${[...set].join(', ')}`).join('; ') || 'nothing verified';
  };
  const notes: string[] = [];
  if (input.scenarios.includes('e')) {
    const ratio = pairedRatio(ms, A, N, ['e'], (m) => m.value);
    const verdict = ratio === undefined ? 'no ratio' : `${ratio.median.toFixed(2)}, ${ratio.median >= 0.6 ? 'met' : 'NOT met'}`;
    notes.push(
      `- (e) HTTPS keep-alive: \`wrk -t1 -c${SCENARIOS.e.connections}\` to \`https://${TLS_HOST}:PORT/\`, HTTP/1.1 (wrk sends no ALPN), ` +
        `SNI and Host ${TLS_HOST}: a wrk Lua script overrides \`wrk.resolve\` to connect to 127.0.0.1 (no /etc/hosts change). ` +
        'Both proxies serve the same ECDSA P-256 certificate generated for this run, TLS 1.2-1.3, Mozilla intermediate suites. ' +
        `Negotiated by a default client before each measurement: ${negotiated('e')}. ` +
        `Target (issue 5): ${A} at least 0.6x ${N}: ${verdict}.`,
    );
  }
  if (input.scenarios.includes('f')) {
    const total = ms.reduce((n, m) => n + (m.scenario === 'f' ? (m.handshakes?.connections ?? 0) : 0), 0);
    const resumed = ms.reduce((n, m) => n + (m.scenario === 'f' ? (m.handshakes?.resumed ?? 0) : 0), 0);
    notes.push(
      `- (f) new TLS connections: ${SCENARIOS.f.connections} concurrent \`openssl s_time -new -tls1_3\` clients, each in a loop: ` +
        'connect, full TLS 1.3 handshake (s_time never offers a session; wrk was not used because it resumes about half of its reconnections), ' +
        `\`GET / HTTP/1.1\` with Host ${TLS_HOST} and \`Connection: close\` (written through s_time's -www argument), ` +
        `read until the proxy closes (${total} connections, ${resumed} resumed). ` +
        `No SNI (s_time sends none): both serve their default certificate, set to the same ${TLS_HOST} certificate ` +
        `(nginx: its only TLS server; Archway: \`--default-ssl-certificate ${TLS_SECRET.namespace}/${TLS_SECRET.name}\`). ` +
        `Negotiated by a default client: ${negotiated('f')}. ` +
        'Rate = sum over clients of connections / client wall time; latency = mean time per connection. ' +
        'A client spends at least as much CPU per new connection as a server' +
        `${clientCost(ms, A, N)}, so one load core may saturate before the proxy does.` +
        loadBound(ms, A, N),
    );
  }
  return notes;
}

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
  const meanMs: Getter = (m) => m.handshakes?.meanMs;
  // Scenario f has no percentiles (s_time measures none): the mean time per connection instead.
  const latency = (id: string, s: readonly ScenarioId[]): string =>
    s.every((x) => SCENARIOS[x].load === 'handshakes')
      ? `mean ${formatMs(medianOf(ms, id, s, meanMs))}`
      : `${formatMs(medianOf(ms, id, s, p50))} / ${formatMs(medianOf(ms, id, s, p99))}`;
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
  for (const s of input.scenarios.filter((id) => SCENARIOS[id].unit !== 'MiB/s')) {
    const per = SCENARIOS[s].unit === 'handshakes/s' ? 'new connection (handshake + request)' : 'request';
    addResource(`CPU per ${per}, (${s}) (µs)`, [s], (m) => m.cpuUsPerRequest, 'µs');
  }
  out.push('### Resources', '', table(resHeader, resRows), '');

  // Failures and warnings.
  const failed = input.contenders.filter((c) => c.failure !== undefined);
  const httpsFailed = input.contenders.filter((c) => c.httpsFailure !== undefined);
  const skippedBy = (m: Measurement): boolean =>
    failed.some((c) => c.id === m.contender) || (SCENARIOS[m.scenario].tls && httpsFailed.some((c) => c.id === m.contender));
  const otherErrors = ms.filter((m) => !m.ok && !skippedBy(m));
  if (failed.length > 0 || httpsFailed.length > 0 || otherErrors.length > 0) {
    out.push('### Failures', '');
    const failure = (c: Contender, what: string, f: { message: string; tail: string }): void => {
      out.push(`- **${c.id}** ${what}: ${f.message}`);
      out.push(`  - command: \`${c.describe}\``);
      if (f.tail.trim() !== '') out.push('', '  ```', ...f.tail.split('\n').map((l) => `  ${l}`), '  ```', '');
    };
    for (const c of failed) failure(c, 'did not start or serve correctly', c.failure!);
    for (const c of httpsFailed) failure(c, 'did not serve HTTPS correctly (TLS scenarios skipped)', c.httpsFailure!);
    for (const m of otherErrors) out.push(`- round ${m.round}, (${m.scenario}) ${m.contender}: ${m.error}`);
    out.push('');
  }
  out.push('### Notes', '');
  out.push('- wrk is closed-loop: p99 at saturation under-estimates the tail a real client population would see.');
  out.push(...tlsNotes(input));
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
      m.handshakes !== undefined
        ? `mean ${formatMs(m.handshakes.meanMs)}`
        : `${formatMs(m.wrk?.latencyMs.p50)} / ${formatMs(m.wrk?.latencyMs.p99)}`,
      pct(m.proxyCpu),
      pct(m.proxyCoreBusy),
      pct(m.loadCoreBusy),
      pct(m.wrkCpu),
      `${pct(m.backgroundBusy?.load)} / ${pct(m.backgroundBusy?.proxy)}`,
    ]);
    out.push(
      table(
        [
          'Round',
          'Scenario',
          'Contender',
          'Value',
          'p50 / p99 ms',
          'proxy CPU',
          'proxy core busy',
          'load core busy',
          'load generator CPU',
          'idle-time busy CPU 0 / 1',
        ],
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
