// Table deltas: with 10,000 Ingresses the routing table is about 11 MB, and shipping it whole to every
// worker on each change (serialise, copy, deserialise, recompile every host) dominated the time from a
// file write to the first request served (issue 4 item 10). A delta carries only the hosts, backends
// and certificates that changed; the worker applies it to the table it has, when that is the base.

import { hash } from 'node:crypto';
import type { BackendTable, HostTable, RouteAction, RoutingTable, TlsTable } from './table.ts';

export interface RecordDelta<T> {
  set: Record<string, T>;
  del: string[];
}

export interface TableDelta {
  /** The table this delta applies to; a worker holding another one asks for the full table. */
  baseHash: string;
  hash: string;
  hosts: RecordDelta<HostTable>;
  wildcards: RecordDelta<HostTable>;
  backends: RecordDelta<BackendTable>;
  certificates: RecordDelta<TlsTable['certificates'][string]>;
  hostless: HostTable | null;
  defaultAction: RouteAction | null;
  tlsHosts: Record<string, string>;
  tlsWildcards: Record<string, string>;
  defaultCertificate: string | null;
}

/**
 * A content hash per entry of a table, kept by the sender to diff the next table against. Hashes, not
 * the JSON text itself: the text of every host of 10,000 Ingresses held 9 MB (issue 4 item 10).
 */
export interface TableFingerprints {
  hosts: Map<string, string>;
  wildcards: Map<string, string>;
  backends: Map<string, string>;
}

const printsByTable = new WeakMap<RoutingTable, TableFingerprints>();

/** Fingerprints computed while hashing the table (compile's withHash) are kept for the delta. */
export function rememberPrints(t: RoutingTable, p: TableFingerprints): void {
  printsByTable.set(t, p);
}

export function tablePrints(t: RoutingTable): TableFingerprints | undefined {
  return printsByTable.get(t);
}

export function fingerprintTable(t: RoutingTable): TableFingerprints {
  return printsByTable.get(t) ?? { hosts: entryPrints(t.hosts), wildcards: entryPrints(t.wildcards), backends: entryPrints(t.backends) };
}

/** Entries are immutable and reused from table to table (compile.ts), so each is hashed once. */
const printOfEntry = new WeakMap<object, string>();

export function entryPrints(r: Record<string, object>): Map<string, string> {
  const m = new Map<string, string>();
  for (const k in r) {
    const v = r[k];
    let p = printOfEntry.get(v);
    if (p === undefined) printOfEntry.set(v, (p = hash('sha1', JSON.stringify(v), 'base64')));
    m.set(k, p);
  }
  return m;
}

/** The delta from `prev` (with its fingerprints) to `next`, and `next`'s fingerprints. */
export function diffTables(prev: RoutingTable, prevPrints: TableFingerprints, next: RoutingTable): { delta: TableDelta; prints: TableFingerprints } {
  const prints = fingerprintTable(next);
  const certificates: RecordDelta<TlsTable['certificates'][string]> = { set: {}, del: [] };
  // Certificate ids are content-addressed: a present id is an unchanged certificate.
  for (const id in next.tls.certificates) if (!(id in prev.tls.certificates)) certificates.set[id] = next.tls.certificates[id];
  for (const id in prev.tls.certificates) if (!(id in next.tls.certificates)) certificates.del.push(id);
  return {
    prints,
    delta: {
      baseHash: prev.hash,
      hash: next.hash,
      hosts: recordDelta(prevPrints.hosts, prints.hosts, next.hosts),
      wildcards: recordDelta(prevPrints.wildcards, prints.wildcards, next.wildcards),
      backends: recordDelta(prevPrints.backends, prints.backends, next.backends),
      certificates,
      hostless: next.hostless,
      defaultAction: next.defaultAction,
      tlsHosts: next.tls.hosts,
      tlsWildcards: next.tls.wildcards,
      defaultCertificate: next.tls.defaultCertificate,
    },
  };
}

function recordDelta<T>(prev: Map<string, string>, next: Map<string, string>, values: Record<string, T>): RecordDelta<T> {
  const d: RecordDelta<T> = { set: {}, del: [] };
  for (const [k, fp] of next) if (prev.get(k) !== fp) d.set[k] = values[k];
  for (const k of prev.keys()) if (!next.has(k)) d.del.push(k);
  return d;
}

/** The table the delta describes, built from `base` (which is not modified). */
export function applyDelta(base: RoutingTable, d: TableDelta): RoutingTable {
  return {
    hash: d.hash,
    hosts: applyRecord(base.hosts, d.hosts),
    wildcards: applyRecord(base.wildcards, d.wildcards),
    hostless: d.hostless,
    defaultAction: d.defaultAction,
    backends: applyRecord(base.backends, d.backends),
    tls: {
      certificates: applyRecord(base.tls.certificates, d.certificates),
      hosts: d.tlsHosts,
      wildcards: d.tlsWildcards,
      defaultCertificate: d.defaultCertificate,
    },
  };
}

function applyRecord<T>(base: Record<string, T>, d: RecordDelta<T>): Record<string, T> {
  const out = { ...base };
  for (const k of d.del) delete out[k];
  Object.assign(out, d.set);
  return out;
}
