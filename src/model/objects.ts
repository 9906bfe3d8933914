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

/** A simple in-memory store keyed by kind/namespace/name; lists are sorted for deterministic builds. */
export class ObjectStore implements ObjectView {
  #byKey = new Map<string, StoredObject>();
  #sorted = new Map<Kind, StoredObject[] | null>();

  set(o: StoredObject): void {
    this.#byKey.set(objectKey(o.kind, o.namespace, o.name), o);
    this.#sorted.set(o.kind, null);
  }

  delete(kind: Kind, namespace: string, name: string): boolean {
    this.#sorted.set(kind, null);
    return this.#byKey.delete(objectKey(kind, namespace, name));
  }

  get(kind: Kind, namespace: string, name: string): StoredObject | undefined {
    return this.#byKey.get(objectKey(kind, namespace, name));
  }

  list(kind: Kind): readonly StoredObject[] {
    let l = this.#sorted.get(kind);
    if (!l) {
      l = [...this.#byKey.values()]
        .filter((o) => o.kind === kind)
        .sort((a, b) => (a.namespace < b.namespace ? -1 : a.namespace > b.namespace ? 1 : a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      this.#sorted.set(kind, l);
    }
    return l;
  }

  get size(): number {
    return this.#byKey.size;
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
