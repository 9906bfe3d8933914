// The object store's view of Kubernetes objects: plain JSON as read from a source, plus where it came from.
// Nothing downstream knows (or cares) whether an object came from a file or the API server (ARCHITECTURE.md).

import type { Origin } from './diagnostics.ts';

/** Kinds the model understands. Anything else is reported as ignored by the source. */
export const KNOWN_KINDS = ['Ingress', 'IngressClass', 'Service', 'Endpoints', 'EndpointSlice', 'Secret', 'Namespace'] as const;
export type Kind = (typeof KNOWN_KINDS)[number];

/** apiVersions accepted per kind (INGRESS-SEMANTICS.md, "Objects and versions"). */
export const API_VERSIONS: Record<Kind, readonly string[]> = {
  Ingress: ['networking.k8s.io/v1', 'networking.k8s.io/v1beta1', 'extensions/v1beta1'],
  IngressClass: ['networking.k8s.io/v1', 'networking.k8s.io/v1beta1'],
  Service: ['v1'],
  Endpoints: ['v1'],
  EndpointSlice: ['discovery.k8s.io/v1'],
  Secret: ['v1'],
  Namespace: ['v1'],
};

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export interface StoredObject {
  kind: Kind;
  apiVersion: string;
  /** '' for cluster-scoped kinds (IngressClass, Namespace); 'default' when a namespaced object omits it. */
  namespace: string;
  name: string;
  /** The object as read (never mutated). */
  raw: JsonObject;
  origin?: Origin;
}

export const CLUSTER_SCOPED: ReadonlySet<Kind> = new Set<Kind>(['IngressClass', 'Namespace']);

export function objectKey(kind: string, namespace: string, name: string): string {
  return `${kind}/${namespace}/${name}`;
}

export function describeObject(o: { kind: string; namespace: string; name: string }): string {
  return o.namespace ? `${o.kind} ${o.namespace}/${o.name}` : `${o.kind} ${o.name}`;
}

/** Read-only view of the object store that the model is built from. */
export interface ObjectView {
  get(kind: Kind, namespace: string, name: string): StoredObject | undefined;
  list(kind: Kind): readonly StoredObject[];
}

/** One object added (before undefined), replaced, or removed (after undefined). */
export interface ObjectChange {
  kind: Kind;
  before: StoredObject | undefined;
  after: StoredObject | undefined;
}

/**
 * A store that can say what changed since an earlier moment of its own: incremental consumers (the
 * BuildMemo) look at those objects instead of scanning all of them (issue 4 item 10).
 */
export interface ChangeLog {
  /** Versions are comparable only within one store. */
  readonly version: number;
  /** The changes after `version`, oldest first; null when they are no longer known (too old). */
  changesSince(version: number): readonly ObjectChange[] | null;
}

export function isChangeLog(v: object): v is ChangeLog & object {
  return typeof (v as Partial<ChangeLog>).changesSince === 'function';
}

/**
 * One reader's place in a store's change log (the BuildMemo, the controller's last-good tracking and
 * its endpoint fast lane each keep one).
 */
export class ChangeCursor {
  #store: ObjectView | null = null;
  #version = -1;

  /**
   * The changes since this cursor last read `store`, oldest first; null when it cannot say (another
   * store than last time, one without a log, or changes no longer kept): then look at everything.
   * Either way the cursor is now at `store`'s present.
   */
  read(store: ObjectView): readonly ObjectChange[] | null {
    const changes = store === this.#store && isChangeLog(store) ? store.changesSince(this.#version) : null;
    this.#store = store;
    this.#version = isChangeLog(store) ? store.version : -1;
    return changes;
  }
}

/** How many changes a store remembers: a consumer further behind scans instead. */
const LOG_LIMIT = 50_000;

const byNamespaceAndName = (a: StoredObject, b: { namespace: string; name: string }): number =>
  a.namespace < b.namespace ? -1 : a.namespace > b.namespace ? 1 : a.name < b.name ? -1 : a.name > b.name ? 1 : 0;

/**
 * An in-memory store keyed by kind/namespace/name; lists are sorted for deterministic builds. A source
 * keeps one store for its whole life and updates it object by object: each kind's sorted list is then
 * patched in place of being sorted again (10,000 Ingresses, Services and Endpoints each), and the
 * change log tells consumers what moved.
 */
export class ObjectStore implements ObjectView, ChangeLog {
  #byKey = new Map<string, StoredObject>();
  #sorted = new Map<Kind, StoredObject[] | null>();
  /** Kinds whose sorted list was handed out: the next change patches a copy (lists stay immutable). */
  #handedOut = new Set<Kind>();
  #log: ObjectChange[] = [];
  /** Version of #log[0]. */
  #logStart = 0;

  get version(): number {
    return this.#logStart + this.#log.length;
  }

  changesSince(version: number): readonly ObjectChange[] | null {
    if (version < this.#logStart || version > this.version) return null;
    return this.#log.slice(version - this.#logStart);
  }

  /** Drops the log up to `version`: the caller knows every reader has read that far. */
  forgetChangesBefore(version: number): void {
    const drop = Math.min(version, this.version) - this.#logStart;
    if (drop <= 0) return;
    this.#log.splice(0, drop);
    this.#logStart += drop;
  }

  set(o: StoredObject): void {
    const key = objectKey(o.kind, o.namespace, o.name);
    const before = this.#byKey.get(key);
    if (before === o) return;
    this.#byKey.set(key, o);
    this.#changed(o.kind, before, o);
  }

  delete(kind: Kind, namespace: string, name: string): boolean {
    const key = objectKey(kind, namespace, name);
    const before = this.#byKey.get(key);
    if (before === undefined) return false;
    this.#byKey.delete(key);
    this.#changed(kind, before, undefined);
    return true;
  }

  get(kind: Kind, namespace: string, name: string): StoredObject | undefined {
    return this.#byKey.get(objectKey(kind, namespace, name));
  }

  list(kind: Kind): readonly StoredObject[] {
    let l = this.#sorted.get(kind);
    if (!l) {
      l = [...this.#byKey.values()].filter((o) => o.kind === kind).sort(byNamespaceAndName);
      this.#sorted.set(kind, l);
    }
    this.#handedOut.add(kind);
    return l;
  }

  get size(): number {
    return this.#byKey.size;
  }

  /** A separate store with the same objects (and no history): for a caller that must change some. */
  clone(): ObjectStore {
    const c = new ObjectStore();
    c.#byKey = new Map(this.#byKey);
    for (const [kind, l] of this.#sorted) {
      c.#sorted.set(kind, l);
      if (l) c.#handedOut.add(kind), this.#handedOut.add(kind);
    }
    return c;
  }

  #changed(kind: Kind, before: StoredObject | undefined, after: StoredObject | undefined): void {
    this.#log.push({ kind, before, after });
    if (this.#log.length > LOG_LIMIT) {
      const drop = this.#log.length - LOG_LIMIT / 2;
      this.#log.splice(0, drop);
      this.#logStart += drop;
    }
    let l = this.#sorted.get(kind);
    if (!l) return; // sorted when next listed
    if (this.#handedOut.delete(kind)) this.#sorted.set(kind, (l = l.slice()));
    const o = (after ?? before)!;
    // Binary search for the object's place by namespace and name.
    let lo = 0;
    let hi = l.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (byNamespaceAndName(l[mid], o) < 0) lo = mid + 1;
      else hi = mid;
    }
    const present = lo < l.length && byNamespaceAndName(l[lo], o) === 0;
    if (after === undefined) {
      if (present) l.splice(lo, 1);
    } else if (present) l[lo] = after;
    else l.splice(lo, 0, after);
  }
}

// Small, total accessors over untyped JSON: the model never trusts the shape of user input.
export function asObject(v: unknown): JsonObject | undefined {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as JsonObject) : undefined;
}
export function asArray(v: unknown): Json[] | undefined {
  return Array.isArray(v) ? (v as Json[]) : undefined;
}
export function asString(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}
