// Controller glue: source -> build -> compile -> swap (ARCHITECTURE.md "controller/"). Holds the
// current model, table, diagnostics, events and Ingress status for the admin API and the CLI views.

import { build, BuildMemo, type BuildOptions, type Model, type ServedIngress } from '../model/build.ts';
import { compareDiagnostics, formatDiagnostic, type Diagnostic } from '../model/diagnostics.ts';
import { normalizeIngress } from '../model/ingress.ts';
import { ChangeCursor, objectKey, type JsonObject, type Kind, type ObjectStore, type StoredObject } from '../model/objects.ts';
import { serviceOf, ServiceResolver } from '../model/services.ts';
import { compile, toBackendTable, withHash } from '../snapshot/compile.ts';
import type { BackendTable, RoutingTable } from '../snapshot/table.ts';
import { fingerprint } from '../model/fingerprint.ts';
import type { ManifestSource, SourceChange } from '../sources/manifest-source.ts';
import { EventRecorder, type InvolvedObject } from './events.ts';

export interface TableSink {
  /**
   * A complete new routing table. It was hashed against the previous one (snapshot/compile.ts
   * withHash), so the sink can apply it as a delta: an endpoint fast-lane table differs in backends only.
   */
  setTable(table: RoutingTable): void;
}

export interface ControllerLog {
  diagnostic(d: Diagnostic): void;
  info(msg: string): void;
}

export const stderrLog: ControllerLog = {
  diagnostic: (d) => process.stderr.write(`${formatDiagnostic(d)}\n`),
  info: (msg) => process.stderr.write(`archway: ${msg}\n`),
};

/** One entry of `status.loadBalancer.ingress`. */
export type LoadBalancerIngress = { ip: string } | { hostname: string };

export interface ControllerOptions extends BuildOptions {
  /** Addresses published in the status of every served Ingress. */
  statusAddresses: LoadBalancerIngress[];
}

const ENDPOINT_KINDS: ReadonlySet<Kind> = new Set<Kind>(['Endpoints', 'EndpointSlice']);

export class Controller {
  readonly source: ManifestSource;
  readonly options: ControllerOptions;
  readonly sink: TableSink;
  readonly log: ControllerLog;
  readonly events = new EventRecorder();
  model: Model | null = null;
  table: RoutingTable | null = null;
  store: ObjectStore | null = null;
  diagnostics: Diagnostic[] = [];
  /** True once a first configuration is serving (/readyz). */
  ready = false;
  /** Counters for tests and the admin API. */
  readonly counters = { fullSyncs: 0, fastLaneSyncs: 0, tableSwaps: 0 };
  /** Diagnostics already reported: each problem is reported once (issue 2 item 3). */
  #reported = new Set<string>();
  /** Ingresses whose current version is invalid while a valid one came before: key -> both versions. */
  #refused = new Map<string, { current: StoredObject; good: StoredObject }>();
  /** Where the last table was made in the store's change log: the fast lane reads the changes since. */
  #laneCursor = new ChangeCursor();
  /** Where #keepLastGood last read the store's change log. */
  #lastGoodCursor = new ChangeCursor();
  /** The served entries of the last build, to tell adds, updates and deletes apart (Sync events). */
  #served = new Set<ServedIngress>();
  /** When this controller first saw each Ingress: its age when the manifest carries no creationTimestamp. */
  #firstSeen = new Map<string, string>();
  /** Hosts of the last build, reused by the next one when their inputs are unchanged. */
  readonly buildMemo = new BuildMemo();
  #refreshing: Promise<void> | null = null;
  #refreshAgain = false;

  constructor(source: ManifestSource, options: ControllerOptions, sink: TableSink, log: ControllerLog = stderrLog) {
    this.source = source;
    this.options = options;
    this.sink = sink;
    this.log = log;
  }

  /**
   * Re-reads the source and applies what changed. Calls are serialised; a call during a refresh
   * schedules one more pass, so bursts coalesce and nothing is lost.
   */
  refresh(): Promise<void> {
    if (this.#refreshing) {
      this.#refreshAgain = true;
      return this.#refreshing;
    }
    this.#refreshing = (async () => {
      try {
        do {
          this.#refreshAgain = false;
          const change = await this.source.refresh();
          this.apply(change);
        } while (this.#refreshAgain);
        // A file kept through its empty-file grace: look again when the grace ends, not at the next poll.
        const at = this.source.recheckAt();
        if (at !== null) setTimeout(() => void this.refresh(), Math.max(0, at - Date.now()) + 10).unref();
      } catch (e) {
        // Nothing a source does may take the serving configuration down.
        this.log.info(`refresh failed, keeping the current configuration: ${(e as Error).stack ?? e}`);
      } finally {
        this.#refreshing = null;
      }
    })();
    return this.#refreshing;
  }

  /** Applies a source change: nothing, the endpoint fast lane, or a full rebuild. */
  apply(change: SourceChange): void {
    if (change.kinds.size === 0 && this.table !== null && this.model !== null) {
      // Same objects (e.g. a broken edit whose objects keep their last good version): report what changed.
      if (change.reread) {
        const snap = this.source.snapshot();
        this.diagnostics = [...snap.diagnostics, ...withCurrentLines(this.model.diagnostics, snap.store)].sort(compareDiagnostics);
        this.#report();
      }
      return;
    }
    if (this.table !== null && this.model !== null && [...change.kinds].every((k) => ENDPOINT_KINDS.has(k))) {
      this.#fastLane();
      return;
    }
    this.sync();
  }

  /** Builds and compiles from the source's current objects; swaps the table when it changed. */
  sync(): RoutingTable {
    this.counters.fullSyncs++;
    const snap = this.source.snapshot();
    const extra: Diagnostic[] = [];
    const store = this.#keepLastGood(snap.store, extra);
    const model = build(store, { ...this.options, now: new Date() }, this.buildMemo);
    // Everything that reads the store's change log (#keepLastGood, the BuildMemo) has read it now;
    // the endpoint fast lane reads it from here on.
    snap.store.forgetChangesBefore(snap.store.version);
    this.#laneCursor.read(snap.store);
    const table = compile(model, this.table ?? undefined);
    // The routes live on in the table; the model's copy of them (12 MB at 10,000 Ingresses) is not kept.
    this.model = { ...model, hosts: [] };
    this.store = store;
    this.diagnostics = [...snap.diagnostics, ...withCurrentLines([...extra, ...model.diagnostics], snap.store)].sort(compareDiagnostics);
    this.#report();
    this.#syncEvents(model);
    if (this.table === null || this.table.hash !== table.hash) {
      this.sink.setTable(table);
      this.table = table;
      this.counters.tableSwaps++;
      // Counted from the model: listing the keys of 20,000 hosts for a log line cost 5 ms per change.
      const hosts = model.hosts.length - (table.hostless === null ? 0 : 1);
      this.log.info(`serving configuration ${table.hash}: ${model.served.length} Ingress(es), ${hosts} host(s), ${model.backends.size} backend(s)`);
    }
    this.ready = true;
    return table;
  }

  /**
   * Endpoint-only change: re-resolve the backends the routes use; routes are not rebuilt (issue 4 item
   * 3). Only the backends of the Services whose Endpoints or EndpointSlices changed since the last
   * table, when the store's change log says which (at 10,000 Ingresses, resolving all of them again
   * cost most of an Endpoints change).
   */
  #fastLane(): void {
    this.counters.fastLaneSyncs++;
    const snap = this.source.snapshot();
    const changes = this.#laneCursor.read(snap.store);
    let dirty: Set<string> | null = null;
    if (changes !== null) {
      dirty = new Set<string>();
      for (const { before, after } of changes) {
        for (const o of [before, after]) {
          const svc = o && serviceOf(o);
          if (svc !== undefined) dirty.add(svc);
        }
      }
    }
    const resolver = new ServiceResolver(snap.store);
    const model = this.model!;
    const backends: Record<string, BackendTable> = {};
    for (const id of Object.keys(this.table!.backends)) {
      const prev = model.backends.get(id)!;
      // Not a Service backend (no endpoints to update), or a Service whose endpoints did not change.
      if (prev.service === '' || (dirty !== null && !dirty.has(prev.service))) {
        backends[id] = this.table!.backends[id];
        continue;
      }
      // refresh() keeps the backend's kind (endpoints, or a service-upstream ClusterIP).
      const resolved = resolver.refresh(prev);
      model.backends.set(id, resolved);
      backends[id] = toBackendTable(resolved);
    }
    this.store = snap.store;
    const table = withHash({ ...this.table!, backends }, this.table!);
    if (table.hash === this.table!.hash) return;
    this.table = table;
    this.sink.setTable(table);
    this.counters.tableSwaps++;
  }

  /**
   * An Ingress that fails validation is replaced by its last valid version, when there is one. The
   * source's store is not changed: the replacements go into a copy, which is returned (else the store).
   * Only the Ingresses that changed since the last sync are looked at when the store can say which
   * (its change log): with 10,000 Ingresses, looking at all of them cost about 12 ms per change. The
   * last valid version is the one a change replaced, so only refused Ingresses keep one here.
   */
  #keepLastGood(source: ObjectStore, diags: Diagnostic[]): ObjectStore {
    const changes = this.#lastGoodCursor.read(source);
    if (changes === null) {
      // No history (the first sync): every Ingress as it is; refusals already known stay.
      const seen = new Set<string>();
      for (const o of source.list('Ingress')) seen.add(this.#track(o, undefined));
      for (const key of [...this.#refused.keys()]) if (!seen.has(key)) this.#refused.delete(key);
      for (const key of [...this.#firstSeen.keys()]) if (!seen.has(key)) this.#firstSeen.delete(key);
    } else {
      for (const { kind, before, after } of changes) {
        if (kind !== 'Ingress') continue;
        if (after) this.#track(after, before);
        // Removed, and not back by now: forgotten (removed and added again keeps its first-seen time).
        else if (before && !source.get('Ingress', before.namespace, before.name)) this.#untrack(before);
      }
    }
    let store = source;
    for (const { current: o, good } of this.#refused.values()) {
      // build() validates the last good version only: report why the new one was refused.
      normalizeIngress(o, diags);
      if (store === source) store = source.clone();
      store.set(good);
      diags.push({
        code: 'LAST_GOOD_KEPT', severity: 'warning', file: o.origin?.file, line: o.origin?.line, object: `Ingress ${o.namespace}/${o.name}`,
        message: 'this version is invalid (see the errors above); the last valid version keeps serving until it is fixed',
      });
    }
    return store;
  }

  /** Records the current version of an Ingress (and the one it replaced): first-seen time, refusal. */
  #track(o: StoredObject, replaced: StoredObject | undefined): string {
    const key = objectKey(o.kind, o.namespace, o.name);
    if (!this.#firstSeen.has(key)) this.#firstSeen.set(key, new Date().toISOString());
    if (normalizeIngress(o, [])) this.#refused.delete(key);
    else {
      const refused = this.#refused.get(key);
      if (refused) refused.current = o;
      else if (replaced && normalizeIngress(replaced, [])) this.#refused.set(key, { current: o, good: replaced });
    }
    return key;
  }

  #untrack(o: StoredObject): void {
    const key = objectKey(o.kind, o.namespace, o.name);
    this.#firstSeen.delete(key);
    this.#refused.delete(key);
  }

  /**
   * Sync events for served Ingresses added, updated or removed. Served entries are the same objects
   * from build to build while their Ingress is unchanged (BuildMemo), so only the entries that are
   * new or gone are looked at (by identity), not every served Ingress's key and content hash.
   */
  #syncEvents(model: Model): void {
    const next = new Set(model.served);
    const added = new Map<string, ServedIngress>();
    for (const s of model.served) if (!this.#served.has(s)) added.set(`${s.ingress.namespace}/${s.ingress.name}`, s);
    for (const s of this.#served) {
      if (next.has(s)) continue;
      const key = `${s.ingress.namespace}/${s.ingress.name}`;
      const now = added.get(key);
      if (now === undefined) {
        this.events.record({ kind: 'Ingress', namespace: s.ingress.namespace, name: s.ingress.name }, 'Normal', 'Sync', 'Removed from the routing table');
        continue;
      }
      // A new entry for a served Ingress: an update only when its content changed (a Secret change,
      // for one, makes every entry new).
      added.delete(key);
      if (fingerprint(now.ingress.source) !== fingerprint(s.ingress.source)) {
        this.events.record({ kind: 'Ingress', namespace: now.ingress.namespace, name: now.ingress.name }, 'Normal', 'Sync', 'Configuration updated');
      }
    }
    for (const s of added.values()) this.events.record({ kind: 'Ingress', namespace: s.ingress.namespace, name: s.ingress.name }, 'Normal', 'Sync', 'Scheduled for sync');
    this.#served = next;
  }

  #report(): void {
    const current = new Set<string>();
    for (const d of this.diagnostics) {
      const key = formatDiagnostic(d);
      current.add(key);
      if (this.#reported.has(key)) continue;
      this.log.diagnostic(d);
      const involved = involvedObject(d);
      if (involved && d.severity !== 'info') this.events.record(involved, 'Warning', reasonOf(d.code), d.field ? `${d.field}: ${d.message}` : d.message);
    }
    this.#reported = current;
  }

  /** Served Ingresses as Kubernetes objects with `status.loadBalancer.ingress` filled; others without status. */
  ingressObjects(): JsonObject[] {
    const served = new Set((this.model?.served ?? []).map((s) => `${s.ingress.namespace}/${s.ingress.name}`));
    const out: JsonObject[] = [];
    for (const o of this.store?.list('Ingress') ?? []) {
      const key = `${o.namespace}/${o.name}`;
      const meta: JsonObject = { ...((o.raw.metadata as JsonObject | undefined) ?? {}), namespace: o.namespace };
      if (meta.creationTimestamp === undefined) meta.creationTimestamp = this.#firstSeen.get(objectKey('Ingress', o.namespace, o.name)) ?? null;
      const obj: JsonObject = { ...o.raw, metadata: meta };
      if (served.has(key)) obj.status = { loadBalancer: { ingress: this.options.statusAddresses.map((a) => ({ ...a })) } };
      else delete obj.status;
      out.push(obj);
    }
    return out;
  }
}

/**
 * Diagnostics about an object carry the line where the object is now: the source keeps the instance
 * of an object that only moved in its file (sources/manifest-source.ts), so diagnostics made for it
 * before the move, and kept with it, still name the old line.
 */
function withCurrentLines(diags: readonly Diagnostic[], store: ObjectStore): Diagnostic[] {
  return diags.map((d) => {
    if (d.line === undefined || d.file === undefined) return d;
    const involved = involvedObject(d);
    const origin = involved && store.get(involved.kind as Kind, involved.namespace, involved.name)?.origin;
    return origin && origin.file === d.file && origin.line !== d.line ? { ...d, line: origin.line } : d;
  });
}

/** `Ingress default/web` -> involved object. */
function involvedObject(d: Diagnostic): InvolvedObject | undefined {
  if (!d.object) return undefined;
  const m = /^(\w+) (?:([^/ ]+)\/)?(\S+)$/.exec(d.object);
  return m ? { kind: m[1], namespace: m[2] ?? '', name: m[3] } : undefined;
}

/** `PATH_CONFLICT` -> `PathConflict`: event reasons are CamelCase in Kubernetes. */
export function reasonOf(code: string): string {
  return code.toLowerCase().split('_').map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join('');
}
