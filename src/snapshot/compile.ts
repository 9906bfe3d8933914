// compile(model) -> routing table: plain, sorted, hashed data (ARCHITECTURE.md "snapshot/").

import { createHash } from 'node:crypto';
import { targetKey, type HostModel, type Model, type RouteTarget } from '../model/build.ts';
import { pathPatternSource } from '../model/regex.ts';
import { rememberPrints, sectionPrints, SECTIONS, tablePrints, type TableFingerprints } from './delta.ts';
import type { ResolvedBackend } from '../model/services.ts';
import { orderedRoutePolicy } from '../model/upstream-policy.ts';
import { flatString } from '../util/flat-string.ts';
import type { CanaryTarget } from '../model/canary.ts';
import type { BackendTable, CanaryAction, HostTable, PathEntry, RouteAction, RoutingTable, TlsTable } from './table.ts';

/** The routing table of `model`; `previous`, the table it replaces, makes hashing and diffing incremental. */
export function compile(model: Model, previous?: RoutingTable): RoutingTable {
  const action = reuse.interner();
  const controllerDefault = model.controllerDefault ? action(model.controllerDefault) : null;
  const catchAll = model.catchAll ? action(model.catchAll) : null;
  const defaultAction = catchAll ?? controllerDefault;

  const hosts: Record<string, HostTable> = {};
  const wildcards: Record<string, HostTable> = {};
  let hostless: HostTable | null = null;
  const known = reuse.hosts;
  /** The host's table, the very object of an earlier compile when its content is the same. */
  const table = (h: HostModel, outer: RouteAction | null): HostTable => {
    // The very HostModel of an earlier build (build.ts reuses unchanged hosts): its table as it was.
    const same = reuse.byModel.get(h);
    if (same !== undefined && same.outer === outer) return same.table;
    const actions = h.routes.map((r) => action(r.target));
    const fallback = h.fallback ? action(h.fallback) : outer;
    let key = `${h.appRoot ?? ''}\u0001${fallback === null ? '' : reuse.idOf(fallback)}`;
    for (let i = 0; i < actions.length; i++) key += `\u0001${h.routes[i].match}\u0002${h.routes[i].path}\u0002${reuse.idOf(actions[i])}`;
    key = flatString(key);
    let t = known.get(key);
    if (t === undefined) known.set(key, (t = hostTable(h, actions, fallback)));
    reuse.byModel.set(h, { outer, key, table: t });
    return t;
  };
  for (const h of model.hosts) {
    if (h.host === '') hostless = table(h, defaultAction);
    else if (h.host.startsWith('*.')) wildcards[h.host.slice(2)] = table(h, controllerDefault);
    else hosts[h.host] = table(h, controllerDefault);
  }
  // Tables by content key are kept from compile to compile without being copied (a copy of 20,000
  // entries per change cost more than everything else the compile does for an unchanged host); once
  // the cache holds twice what this table uses, it keeps only this table's.
  if (known.size > 2 * model.hosts.length + 64) {
    const live = new Map<string, HostTable>();
    for (const h of model.hosts) {
      const r = reuse.byModel.get(h)!;
      live.set(r.key, r.table);
    }
    reuse.hosts = live;
  }

  const backends: Record<string, BackendTable> = {};
  for (const id of [...model.backends.keys()].sort()) backends[id] = toBackendTable(model.backends.get(id)!);

  return withHash({ hosts, wildcards, hostless, defaultAction, backends, tls: tlsTable(model) }, previous);
}

/**
 * What one compile hands to the next (issue 4 item 10: a change to one of 10,000 Ingresses must not
 * cost a full compile). Equal actions are the same object across compiles, and a host whose routes,
 * actions and fallback are unchanged gets the very HostTable of an earlier compile, so its
 * fingerprint (delta.ts memoises them per entry object) is not computed again and the delta to the
 * workers leaves it out. Keys are content, so this is a cache: it can never change a result.
 */
const reuse = {
  actions: new Map<string, RouteAction>(),
  hosts: new Map<string, HostTable>(),
  /** By model object: build.ts hands over the same HostModel while a host's inputs are unchanged. */
  byModel: new WeakMap<HostModel, { outer: RouteAction | null; key: string; table: HostTable }>(),
  ids: new WeakMap<RouteAction, number>(),
  nextId: 0,
  idOf(a: RouteAction): number {
    let id = this.ids.get(a);
    if (id === undefined) this.ids.set(a, (id = this.nextId++));
    return id;
  },
  /**
   * Routes with equal actions share one action object (most paths of an Ingress go to one backend):
   * with 10,000 Ingresses that is 50,000 paths but far fewer distinct actions. The sharing survives
   * the copy to the workers (v8 serialization keeps object identity) and their routers compile each
   * action once. Only the actions this compile uses are kept for the next one.
   */
  interner(): (t: RouteTarget) => RouteAction {
    const previous = this.actions;
    const next = new Map<string, RouteAction>();
    this.actions = next;
    return (t) => {
      const a = action(t);
      const key = targetKey(a);
      let kept = next.get(key);
      if (kept === undefined) next.set(key, (kept = previous.get(key) ?? a));
      return kept;
    };
  },
};

/**
 * The table with its content hash. The hash is made from per-entry fingerprints grouped in buckets
 * (delta.ts), which the workers' delta shipping needs anyway; against `previous` (the table this one
 * replaces) only the entries that are not the very objects of `previous` are looked at, and the delta
 * to the workers is known without comparing every entry (issue 4 item 10). Certificates count by id,
 * which is content-addressed (model/tls.ts), not by their PEM text.
 */
export function withHash(t: Omit<RoutingTable, 'hash'>, previous?: RoutingTable): RoutingTable {
  const body = { hosts: t.hosts, wildcards: t.wildcards, hostless: t.hostless, defaultAction: t.defaultAction, backends: t.backends, tls: t.tls };
  const before = previous === undefined ? undefined : tablePrints(previous);
  const hosts = sectionPrints(body.hosts, before && { record: previous!.hosts, prints: before.hosts });
  const wildcards = sectionPrints(body.wildcards, before && { record: previous!.wildcards, prints: before.wildcards });
  const backends = sectionPrints(body.backends, before && { record: previous!.backends, prints: before.backends });
  const prints: TableFingerprints = { hosts: hosts.prints, wildcards: wildcards.prints, backends: backends.prints };
  const h = createHash('sha256');
  for (const section of SECTIONS) h.update(`${section}\n${prints[section].digests.join('\n')}\n`);
  const { certificates, ...tlsRest } = body.tls;
  h.update(JSON.stringify({ hostless: body.hostless, defaultAction: body.defaultAction, tls: { ...tlsRest, certificates: Object.keys(certificates) } }));
  const table: RoutingTable = { hash: h.digest('hex').slice(0, 16), ...body };
  const changes = hosts.changes && wildcards.changes && backends.changes;
  rememberPrints(table, prints, changes ? { baseHash: previous!.hash, hosts: hosts.changes!, wildcards: wildcards.changes!, backends: backends.changes! } : undefined);
  return table;
}

function tlsTable(model: Model): TlsTable {
  const certificates: TlsTable['certificates'] = {};
  for (const id of [...model.tls.certificates.keys()].sort()) {
    const m = model.tls.certificates.get(id)!;
    certificates[id] = { cert: m.cert, key: m.key };
  }
  const hosts: Record<string, string> = {};
  const wildcards: Record<string, string> = {};
  for (const h of [...model.tls.hosts.keys()].sort()) {
    if (h.startsWith('*.')) wildcards[h.slice(2)] = model.tls.hosts.get(h)!;
    else hosts[h] = model.tls.hosts.get(h)!;
  }
  return { certificates, hosts, wildcards, defaultCertificate: model.tls.defaultCertificate };
}

/** Resolved backends are kept across builds while unchanged (ServiceResolver), so their table entries are too. */
const backendTables = new WeakMap<ResolvedBackend, BackendTable>();

export function toBackendTable(b: ResolvedBackend): BackendTable {
  let t = backendTables.get(b);
  if (t === undefined) {
    t = { service: b.service, port: b.port, endpoints: b.endpoints.map((e) => ({ address: e.address, port: e.port })), problem: b.problem?.code ?? null };
    backendTables.set(b, t);
  }
  return t;
}

/** `actions[i]` is the action of `h.routes[i]`. */
function hostTable(h: HostModel, actions: RouteAction[], fallback: RouteAction | null): HostTable {
  const exact: Record<string, RouteAction> = {};
  const ordered: PathEntry[] = [];
  h.routes.forEach((r, i) => {
    if (r.match === 'exact') {
      exact[r.path] ??= actions[i];
    } else if (r.match === 'prefix') {
      // ImplementationSpecific without regex uses Prefix semantics; an empty path means '/'.
      const path = r.path === '' ? '/' : r.path;
      const value = path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
      ordered.push({ match: 'prefix', value, length: r.path.length, action: actions[i] });
    } else {
      ordered.push({ match: 'regex', value: pathPatternSource(r.path), length: r.path.length, action: actions[i] });
    }
  });
  return { exact: sortedRecord(exact), ordered, fallback, appRoot: h.appRoot ?? null };
}

function action(t: RouteTarget): RouteAction {
  const a: RouteAction = { backend: t.backend, ingress: t.ingress };
  if (t.rewrite) a.rewrite = { pattern: t.rewrite.pattern, target: t.rewrite.target };
  if (t.forwardedPrefix) a.forwardedPrefix = t.forwardedPrefix;
  if (t.redirectHttps) a.redirectHttps = true;
  if (t.policy) a.policy = orderedRoutePolicy(t.policy);
  if (t.canary) a.canary = canaryTable(t.canary);
  return a;
}

function canaryTable(c: CanaryTarget): CanaryAction {
  return {
    backend: c.backend,
    ingress: c.ingress,
    ...(c.policy ? { policy: orderedRoutePolicy(c.policy) } : {}),
    ...(c.byHeader !== undefined ? { byHeader: c.byHeader } : {}),
    ...(c.byHeaderValue !== undefined ? { byHeaderValue: c.byHeaderValue } : {}),
    ...(c.byHeaderPattern !== undefined ? { byHeaderPattern: c.byHeaderPattern } : {}),
    ...(c.byCookie !== undefined ? { byCookie: c.byCookie } : {}),
    weight: c.weight,
    weightTotal: c.weightTotal,
  };
}

function sortedRecord<T>(r: Record<string, T>): Record<string, T> {
  const out: Record<string, T> = {};
  for (const k of Object.keys(r).sort()) out[k] = r[k];
  return out;
}
