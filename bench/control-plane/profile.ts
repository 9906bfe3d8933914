// Summarises V8 CPU profiles (`node --cpu-prof`): the functions with the most self time and the most
// total (inclusive) time, in ms and percent of the samples.
//
//   node bench/control-plane/profile.ts FILE.cpuprofile [--top 25] [--include REGEX]

import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface ProfileRow {
  fn: string;
  ms: number;
  pct: number;
}

export interface ProfileSummary {
  file: string;
  totalMs: number;
  self: ProfileRow[];
  total: ProfileRow[];
}

function label(f: CallFrame): string {
  const where = f.url ? `${f.url.replace(/^file:\/\//, '').split('/').slice(-2).join('/')}:${f.lineNumber + 1}` : '';
  return `${f.functionName || '(anonymous)'}${where ? ` ${where}` : ''}`;
}

/** Self and inclusive time per function (recursion counted once per sample). */
export function summarize(file: string, top = 25): ProfileSummary {
  const p = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const n of p.nodes) {
    byId.set(n.id, n);
    for (const c of n.children ?? []) parent.set(c, n.id);
  }
  const selfUs = new Map<number, number>();
  for (let i = 0; i < p.samples.length; i++) selfUs.set(p.samples[i], (selfUs.get(p.samples[i]) ?? 0) + (p.timeDeltas[i] ?? 0));
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  let all = 0;
  for (const [id, us] of selfUs) {
    all += us;
    const k = label(byId.get(id)!.callFrame);
    self.set(k, (self.get(k) ?? 0) + us);
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const key = label(byId.get(cur)!.callFrame);
      if (seen.has(key)) continue;
      seen.add(key);
      total.set(key, (total.get(key) ?? 0) + us);
    }
  }
  const rows = (m: Map<string, number>): ProfileRow[] =>
    [...m].filter(([k]) => k !== '(root)').sort((a, b) => b[1] - a[1]).slice(0, top)
      .map(([fn, us]) => ({ fn, ms: us / 1000, pct: all > 0 ? (100 * us) / all : 0 }));
  return { file, totalMs: all / 1000, self: rows(self), total: rows(total) };
}

export function formatSummary(s: ProfileSummary): string {
  const fmt = (r: ProfileRow) => `${r.ms.toFixed(0).padStart(8)} ms ${r.pct.toFixed(1).padStart(5)}%  ${r.fn}`;
  return [`${s.file}: ${s.totalMs.toFixed(0)} ms sampled`, '  self:', ...s.self.map((r) => `  ${fmt(r)}`), '  total:', ...s.total.map((r) => `  ${fmt(r)}`)].join('\n');
}

if (import.meta.main) {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '25' } } });
  if (positionals.length === 0) {
    process.stderr.write('Usage: node bench/control-plane/profile.ts FILE.cpuprofile... [--top N]\n');
    process.exitCode = 2;
  }
  for (const f of positionals) process.stdout.write(`${formatSummary(summarize(f, Number(values.top)))}\n\n`);
}
