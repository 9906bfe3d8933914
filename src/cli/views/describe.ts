// `archway describe ingress`: kubectl's describe layout (Name, Labels, Namespace, Address, Ingress
// Class, Default backend, TLS, Rules, Annotations, Events), built with the same tab-separated lines
// kubectl writes and aligned by the same tabwriter rules, so the output reads like kubectl's.

import type { BackendView, IngressDescription } from '../../admin/api.ts';
import { compareEvents, eventInterval, eventSource } from './events.ts';
import { DESCRIBE_TABS, printable, tabwrite } from './tabwriter.ts';

type Json = Record<string, unknown>;

const obj = (v: unknown): Json => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {});
const str = (v: unknown): string => (typeof v === 'string' ? v : '');

/** kubectl leaves this annotation out of describe (it repeats the whole object). */
const SKIPPED_ANNOTATIONS = new Set(['kubectl.kubernetes.io/last-applied-configuration']);
const MAX_ANNOTATION_LEN = 200;
const MAX_ENDPOINTS = 3;

/** What describe shows: the admin API's description, plus the labels of the Ingress object. */
export interface DescribeInput {
  description: IngressDescription;
  labels: Record<string, string>;
  now: number;
}

/** `ip:port,ip:port` (at most three, then `+ N more...`), `<none>` when there are none. */
export function formatEndpoints(endpoints: readonly string[]): string {
  if (endpoints.length === 0) return '<none>';
  const shown = endpoints.slice(0, MAX_ENDPOINTS).join(',');
  return endpoints.length > MAX_ENDPOINTS ? `${shown} + ${endpoints.length - MAX_ENDPOINTS} more...` : shown;
}

/** `service:port (ip:port,...)` or `service:port (<error: ...>)`. */
export function formatBackend(b: BackendView): string {
  const name = b.port === '' ? b.service : `${b.service}:${b.port}`;
  return printable(`${name} (${b.error !== undefined ? `<error: ${b.error}>` : formatEndpoints(b.endpoints)})`);
}

function multilineMap(title: string, entries: Array<[string, string]>, line: (k: string, v: string) => string[]): string[] {
  if (entries.length === 0) return [`${title}:\t<none>`];
  const out: string[] = [];
  entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).forEach(([k, v], i) => {
    const lines = line(k, v);
    out.push(`${i === 0 ? `${title}:` : ''}\t${lines[0]}`, ...lines.slice(1));
  });
  return out;
}

function labelLines(labels: Record<string, string>): string[] {
  return multilineMap('Labels', Object.entries(labels), (k, v) => [printable(`${k}=${v}`)]);
}

function annotationLines(annotations: Record<string, string>): string[] {
  const entries = Object.entries(annotations).filter(([k]) => !SKIPPED_ANNOTATIONS.has(k));
  return multilineMap('Annotations', entries, (k, raw) => {
    const value = raw.endsWith('\n') ? raw.slice(0, -1) : raw;
    if (value.length + k.length + 2 > MAX_ANNOTATION_LEN || value.includes('\n')) {
      const shorten = (s: string) => (s.length > MAX_ANNOTATION_LEN - 2 ? `${s.slice(0, MAX_ANNOTATION_LEN - 2)}...` : s);
      return [`${printable(k)}:`, ...value.split('\n').map((s) => `\t  ${printable(shorten(s))}`)];
    }
    return [`${printable(k)}: ${printable(value)}`];
  });
}

/** The whole `describe ingress` text. */
export function formatDescribe(input: DescribeInput): string {
  const d = input.description;
  const defaultBackend = d.defaultBackend ? formatBackend(d.defaultBackend) : '<default>';
  const address = [...new Set(d.address.filter((a) => a !== ''))].sort().join(',');
  const lines: string[] = [
    `Name:\t${printable(d.name)}`,
    ...labelLines(input.labels),
    `Namespace:\t${printable(d.namespace)}`,
    `Address:\t${printable(address)}`,
    `Ingress Class:\t${d.className === '' ? '<none>' : printable(d.className)}`,
    `Default backend:\t${defaultBackend}`,
  ];
  if (d.tls.length > 0) {
    lines.push('TLS:');
    for (const t of d.tls) {
      const hosts = printable(t.hosts.join(','));
      lines.push(t.secretName === '' ? `  SNI routes ${hosts}` : `  ${printable(t.secretName)} terminates ${hosts}`);
      // Archway's addition to kubectl's layout (issue 5 item 5): what the certificate is, or why none is served.
      const c = t.certificate;
      if (c) {
        lines.push(`    Subject: ${printable(c.subject)}`, `    DNS names: ${printable(c.dnsNames.join(', ') || '<none>')}`);
        lines.push(`    Issuer: ${printable(c.issuer)}`, `    Valid: ${c.notBefore} to ${c.notAfter}`);
      } else if (t.problem) {
        lines.push(`    <error: ${printable(t.problem)}; the default certificate is served>`);
      }
    }
  }
  lines.push('Rules:', '  Host\tPath\tBackends', '  ----\t----\t--------');
  for (const r of d.rules) {
    lines.push(`  ${r.host === '' ? '*' : printable(r.host)}\t`);
    for (const p of r.paths) lines.push(`    \t${printable(p.path)} \t${formatBackend(p.backend)}`);
  }
  if (d.rules.length === 0) lines.push(`  *\t*\t${defaultBackend}`);
  lines.push(...annotationLines(d.annotations));
  if (d.events.length === 0) {
    lines.push('Events:\t<none>');
    return tabwrite(`${lines.join('\n')}\n`, DESCRIBE_TABS);
  }
  // kubectl flushes its tabwriter before the Events table: it is aligned on its own.
  const events = [...d.events].sort(compareEvents).map((ev) => {
    const e = obj(ev);
    return `  ${[str(e.type), str(e.reason), eventInterval(e, input.now), eventSource(e), str(e.message).trim()].map(printable).join('\t')}`;
  });
  const table = ['Events:', '  Type\tReason\tAge\tFrom\tMessage', '  ----\t------\t----\t----\t-------', ...events];
  return tabwrite(`${lines.join('\n')}\n`, DESCRIBE_TABS) + tabwrite(`${table.join('\n')}\n`, DESCRIBE_TABS);
}
