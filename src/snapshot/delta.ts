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
 * Content hashes of a table's entries, kept by the sender to diff the next table against, and per
 * section the digest of each of BUCKETS buckets of entries (by key). The table hash is made from the
 * bucket digests, so a change to one entry of 20,000 rehashes one bucket of about 80, and the next
 * table's fingerprints are the previous ones patched where entries differ (issue 4 item 10: hashing
 * and diffing every entry cost about 50 ms per change at 10,000 Ingresses).
 */
export interface TableFingerprints {
  hosts: SectionPrints;
  wildcards: SectionPrints;
  backends: SectionPrints;
}

export interface SectionPrints {
  /**
   * Per bucket, entry key -> content hash of the entry. A bucket's map is shared with the previous
   * table's until that bucket changes (no copy of 20,000 entries per change).
   */
  buckets: ReadonlyArray<ReadonlyMap<string, string>>;
  /** Digest per bucket, '' for an empty one. */
  digests: readonly string[];
  /** Number of entries. */
  size: number;
}

type Section = 'hosts' | 'wildcards' | 'backends';
export const SECTIONS: readonly Section[] = ['hosts', 'wildcards', 'backends'];

const BUCKETS = 256;

/** FNV-1a: a bucket that depends on the key alone. */
function bucketOf(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return (h >>> 0) % BUCKETS;
}

function digestOf(bucket: ReadonlyMap<string, string>): string {
  if (bucket.size === 0) return '';
  let text = '';
  for (const k of [...bucket.keys()].sort()) text += `${k}\u0000${bucket.get(k)}\n`;
  return hash('sha1', text, 'base64');
}

/** Entries are immutable and reused from table to table (compile.ts), so each is hashed once. */
const printOfEntry = new WeakMap<object, string>();

function printOf(v: object): string {
  let p = printOfEntry.get(v);
  if (p === undefined) printOfEntry.set(v, (p = hash('sha1', JSON.stringify(v), 'base64')));
  return p;
}

/** Keys set (added or changed) and deleted in a section, relative to the table it was hashed against. */
interface SectionChanges {
  set: string[];
  del: string[];
}

/** A section's fingerprints from scratch, or patched from the previous table's (by entry identity). */
export function sectionPrints(record: Record<string, object>, previous?: { record: Record<string, object>; prints: SectionPrints }): { prints: SectionPrints; changes: SectionChanges | null } {
  if (previous === undefined) {
    const buckets = Array.from({ length: BUCKETS }, () => new Map<string, string>());
    let size = 0;
    for (const k in record) {
      buckets[bucketOf(k)].set(k, printOf(record[k]));
      size++;
    }
    return { prints: { buckets, digests: buckets.map(digestOf), size }, changes: null };
  }
  const changes: SectionChanges = { set: [], del: [] };
  if (previous.record === record) return { prints: previous.prints, changes };
  const buckets = previous.prints.buckets.slice() as Map<string, string>[];
  const digests = previous.prints.digests.slice();
  const dirty = new Set<number>();
  /** The bucket's own copy of its map (copied at its first change). */
  const own = (b: number): Map<string, string> => {
    if (!dirty.has(b)) {
      dirty.add(b);
      buckets[b] = new Map(buckets[b]);
    }
    return buckets[b];
  };
  const before = previous.record;
  let size = 0;
  let kept = 0;
  for (const k in record) {
    size++;
    const v = record[k];
    if (!Object.hasOwn(before, k)) {
      own(bucketOf(k)).set(k, printOf(v));
      changes.set.push(k);
      continue;
    }
    kept++;
    if (before[k] === v) continue;
    const b = bucketOf(k);
    const p = printOf(v);
    if (buckets[b].get(k) === p) continue;
    own(b).set(k, p);
    changes.set.push(k);
  }
  // Keys of the previous table that are gone: only when fewer of them were kept than it had.
  if (kept < previous.prints.size) {
    for (const k in before) {
      if (Object.hasOwn(record, k)) continue;
      own(bucketOf(k)).delete(k);
      changes.del.push(k);
    }
  }
  for (const b of dirty) digests[b] = digestOf(buckets[b]);
  return { prints: { buckets, digests, size }, changes };
}

const printsByTable = new WeakMap<RoutingTable, TableFingerprints>();
/** What changed from the table each table was hashed against (withHash's `previous`), by hash. */
const changesByTable = new WeakMap<RoutingTable, { baseHash: string } & Record<Section, SectionChanges>>();

/** Fingerprints computed while hashing the table (compile's withHash) are kept for the delta. */
export function rememberPrints(t: RoutingTable, p: TableFingerprints, changes?: { baseHash: string } & Record<Section, SectionChanges>): void {
  printsByTable.set(t, p);
  if (changes) changesByTable.set(t, changes);
}

export function tablePrints(t: RoutingTable): TableFingerprints | undefined {
  return printsByTable.get(t);
}

export function fingerprintTable(t: RoutingTable): TableFingerprints {
  return printsByTable.get(t) ?? { hosts: sectionPrints(t.hosts).prints, wildcards: sectionPrints(t.wildcards).prints, backends: sectionPrints(t.backends).prints };
}

/** The delta from `prev` (with its fingerprints) to `next`, and `next`'s fingerprints. */
export function diffTables(prev: RoutingTable, prevPrints: TableFingerprints, next: RoutingTable): { delta: TableDelta; prints: TableFingerprints } {
  const prints = fingerprintTable(next);
  return { prints, delta: knownDelta(prev, next) ?? deltaOf(prev, next, (name, values) => recordDelta(prevPrints[name], prints[name], values)) };
}

/**
 * The delta from `prev` to `next` when `next` was hashed against `prev` (compile's and the fast lane's
 * withHash): its changes are known, nothing is compared. Null for any other pair of tables.
 */
export function knownDelta(prev: RoutingTable, next: RoutingTable): TableDelta | null {
  const known = changesByTable.get(next);
  if (known === undefined || known.baseHash !== prev.hash) return null;
  return deltaOf(prev, next, (name, values) => {
    const d: RecordDelta<(typeof values)[string]> = { set: {}, del: known[name].del };
    for (const k of known[name].set) d.set[k] = values[k];
    return d;
  });
}

function deltaOf(prev: RoutingTable, next: RoutingTable, section: <T>(name: Section, values: Record<string, T>) => RecordDelta<T>): TableDelta {
  const certificates: RecordDelta<TlsTable['certificates'][string]> = { set: {}, del: [] };
  // Certificate ids are content-addressed: a present id is an unchanged certificate.
  for (const id in next.tls.certificates) if (!(id in prev.tls.certificates)) certificates.set[id] = next.tls.certificates[id];
  for (const id in prev.tls.certificates) if (!(id in next.tls.certificates)) certificates.del.push(id);
  return {
    baseHash: prev.hash,
    hash: next.hash,
    hosts: section('hosts', next.hosts),
    wildcards: section('wildcards', next.wildcards),
    backends: section('backends', next.backends),
    certificates,
    hostless: next.hostless,
    defaultAction: next.defaultAction,
    tlsHosts: next.tls.hosts,
    tlsWildcards: next.tls.wildcards,
    defaultCertificate: next.tls.defaultCertificate,
  };
}

function recordDelta<T>(prev: SectionPrints, next: SectionPrints, values: Record<string, T>): RecordDelta<T> {
  const d: RecordDelta<T> = { set: {}, del: [] };
  for (let b = 0; b < BUCKETS; b++) {
    const before = prev.buckets[b];
    const after = next.buckets[b];
    if (before === after) continue; // a bucket shared by both tables: unchanged
    for (const [k, fp] of after) if (before.get(k) !== fp) d.set[k] = values[k];
    for (const k of before.keys()) if (!after.has(k)) d.del.push(k);
  }
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
