// `archway get ingress`: kubectl's columns and cell formats for Ingress objects as the admin API
// returns them (networking.k8s.io/v1 or v1beta1 shapes; only fields both versions share are read).

import { age } from './age.ts';
import { formatTable, printable } from './tabwriter.ts';

type Json = Record<string, unknown>;

const obj = (v: unknown): Json => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {});
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string => (typeof v === 'string' ? v : '');

export interface IngressTableOptions {
  /** -A: a NAMESPACE column first. */
  allNamespaces: boolean;
  /** -o wide: the ADDRESS column is not shortened. */
  wide: boolean;
  /** Milliseconds since the epoch, for AGE. */
  now: number;
}

export function ingressName(o: unknown): { namespace: string; name: string } {
  const meta = obj(obj(o).metadata);
  return { namespace: str(meta.namespace) || 'default', name: str(meta.name) };
}

/** kubectl's formatHosts: the first three hosts, `+ N more...`, `*` when no rule names a host. */
export function formatHosts(rules: unknown[]): string {
  const list: string[] = [];
  const max = 3;
  let more = false;
  for (const r of rules) {
    if (list.length === max) more = true;
    const host = str(obj(r).host);
    if (!more && host !== '') list.push(host);
  }
  if (list.length === 0) return '*';
  const joined = list.join(',');
  return more ? `${joined} + ${rules.length - max} more...` : joined;
}

/** kubectl's load-balancer stringer: IPs (else hostnames), sorted and unique; cut to 16 characters unless wide. */
export function formatAddress(status: unknown, wide: boolean): string {
  const set = new Set<string>();
  for (const a of arr(obj(obj(status).loadBalancer).ingress)) {
    const e = obj(a);
    const v = str(e.ip) || str(e.hostname);
    if (v !== '') set.add(v);
  }
  const r = [...set].sort().join(',');
  return !wide && r.length > 16 ? `${r.slice(0, 15)}...` : r;
}

/** `80`, or `80, 443` when the Ingress has a tls section. */
export function formatPorts(tls: unknown): string {
  return arr(tls).length > 0 ? '80, 443' : '80';
}

export function ingressRow(o: unknown, opts: IngressTableOptions): string[] {
  const ing = obj(o);
  const spec = obj(ing.spec);
  const { namespace, name } = ingressName(ing);
  const className = str(spec.ingressClassName) || '<none>';
  const row = [name, className, formatHosts(arr(spec.rules)), formatAddress(ing.status, opts.wide), formatPorts(spec.tls), age(obj(ing.metadata).creationTimestamp, opts.now)];
  if (opts.allNamespaces) row.unshift(namespace);
  return row.map(printable);
}

export function compareByNamespaceName(a: unknown, b: unknown): number {
  const x = ingressName(a);
  const y = ingressName(b);
  return x.namespace < y.namespace ? -1 : x.namespace > y.namespace ? 1 : x.name < y.name ? -1 : x.name > y.name ? 1 : 0;
}

/** The table `kubectl get ingress` prints; '' when there are no items (the caller says "No resources found"). */
export function formatIngressTable(items: readonly unknown[], opts: IngressTableOptions): string {
  if (items.length === 0) return '';
  const header = ['NAME', 'CLASS', 'HOSTS', 'ADDRESS', 'PORTS', 'AGE'];
  if (opts.allNamespaces) header.unshift('NAMESPACE');
  return formatTable(header, [...items].sort(compareByNamespaceName).map((i) => ingressRow(i, opts)));
}
