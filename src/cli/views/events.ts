// `archway get events` and the Events block of `archway describe`: kubectl's columns and formats for
// core/v1-shaped Events as the admin API returns them.

import { age } from './age.ts';
import { formatTable, printable } from './tabwriter.ts';

type Json = Record<string, unknown>;

const obj = (v: unknown): Json => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {});
const str = (v: unknown): string => (typeof v === 'string' ? v : '');

export interface EventTableOptions {
  allNamespaces: boolean;
  /** -o wide: kubectl's extra columns (SUBOBJECT, SOURCE, FIRST SEEN, COUNT, NAME). */
  wide: boolean;
  now: number;
}

function instant(ts: unknown): number {
  const t = typeof ts === 'string' ? Date.parse(ts) : NaN;
  return Number.isNaN(t) ? 0 : t;
}

/** Oldest last-seen first, as kubectl's SortableEvents; ties by first-seen, then name. */
export function compareEvents(a: unknown, b: unknown): number {
  const x = obj(a);
  const y = obj(b);
  const xn = str(obj(x.metadata).name);
  const yn = str(obj(y.metadata).name);
  return instant(x.lastTimestamp) - instant(y.lastTimestamp) || instant(x.firstTimestamp) - instant(y.firstTimestamp) || (xn < yn ? -1 : xn > yn ? 1 : 0);
}

export function eventCount(e: Json): number {
  return typeof e.count === 'number' && e.count > 0 ? e.count : 1;
}

/** `ingress/web`: the involved object's kind in lower case, then its name. */
export function eventObject(e: Json): string {
  const io = obj(e.involvedObject);
  const kind = str(io.kind).toLowerCase();
  return str(io.name) === '' ? kind : `${kind}/${str(io.name)}`;
}

export function eventSource(e: Json): string {
  const src = obj(e.source);
  const component = str(src.component) || str(e.reportingController);
  const host = str(src.host) || str(e.reportingInstance);
  return host === '' ? component : `${component}, ${host}`;
}

/** The Age column of describe's Events: `5m`, or `30s (x3 over 5m)` for a repeated event. */
export function eventInterval(e: Json, now: number): string {
  const first = age(e.firstTimestamp, now);
  const count = eventCount(e);
  return count > 1 ? `${age(e.lastTimestamp || e.firstTimestamp, now)} (x${count} over ${first})` : first;
}

export function eventRow(ev: unknown, opts: EventTableOptions): string[] {
  const e = obj(ev);
  const first = age(e.firstTimestamp, opts.now);
  const last = str(e.lastTimestamp) === '' ? first : age(e.lastTimestamp, opts.now);
  const message = str(e.message).trim();
  const row = opts.wide
    ? [last, str(e.type), str(e.reason), eventObject(e), str(obj(e.involvedObject).fieldPath), eventSource(e), message, first, String(eventCount(e)), str(obj(e.metadata).name)]
    : [last, str(e.type), str(e.reason), eventObject(e), message];
  if (opts.allNamespaces) row.unshift(str(obj(e.metadata).namespace) || str(obj(e.involvedObject).namespace));
  return row.map(printable);
}

/** The table `kubectl get events` prints; '' when there are none. */
export function formatEventTable(items: readonly unknown[], opts: EventTableOptions): string {
  if (items.length === 0) return '';
  const header = opts.wide
    ? ['LAST SEEN', 'TYPE', 'REASON', 'OBJECT', 'SUBOBJECT', 'SOURCE', 'MESSAGE', 'FIRST SEEN', 'COUNT', 'NAME']
    : ['LAST SEEN', 'TYPE', 'REASON', 'OBJECT', 'MESSAGE'];
  if (opts.allNamespaces) header.unshift('NAMESPACE');
  return formatTable(header, [...items].sort(compareEvents).map((e) => eventRow(e, opts)));
}
