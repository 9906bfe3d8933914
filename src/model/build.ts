// build(objects) -> validated model: class filtering, normalisation, validation, backend resolution,
// host merging, precedence and conflict resolution (ARCHITECTURE.md "model/"; INGRESS-SEMANTICS.md).
// Pure: no I/O, no clock. A bad object yields diagnostics and is left out; everything else is kept.

import { compareDiagnostics, type Diagnostic } from './diagnostics.ts';
import { asObject, asString, ChangeCursor, describeObject, type ObjectChange, type ObjectView, type StoredObject } from './objects.ts';
import { normalizeIngress, type BackendRef, type Ingress, type IngressRule } from './ingress.ts';
import { decideClass, type ClassOptions } from './ingress-class.ts';
import { readSettings, type IngressSettings } from './annotations.ts';
import { backendId, CLUSTER_IP_SUFFIX, serviceOf, ServiceResolver, type ResolvedBackend } from './services.ts';
import { defaultCookiePath, readPolicy, routePolicy, type PolicySettings, type RoutePolicy } from './upstream-policy.ts';
import { attachCanaries, readCanary, type CanaryIngress, type CanarySettings, type CanaryTarget } from './canary.ts';
import { compileUserRegex, pathPatternSource } from './regex.ts';
import type { PathType } from './validation.ts';
import { bindTls, type TlsModel, type TlsOptions } from './tls-bindings.ts';
import { exactArray } from '../util/exact-array.ts';

export interface DefaultBackendService {
  namespace: string;
  name: string;
  /** Port number or name; the Service's first port when omitted. */
  port?: number | string;
}

export interface BuildOptions extends ClassOptions, TlsOptions {
  defaultBackendService?: DefaultBackendService;
}

export type MatchKind = 'exact' | 'prefix' | 'regex';

/** What a matched route does. */
export interface RouteTarget {
  backend: string;
  /** `namespace/name` of the Ingress the route came from. */
  ingress: string;
  rewrite?: { pattern: string; target: string };
  forwardedPrefix?: string;
  /** Plain HTTP answers 308 to https (ssl-redirect on a TLS host, or force-ssl-redirect). */
  redirectHttps?: boolean;
  /** Upstream settings from the Ingress's annotations; absent: controller defaults. */
  policy?: RoutePolicy;
  /** The canary Ingress attached to this route. */
  canary?: CanaryTarget;
}

export interface PathRoute {
  path: string;
  pathType: PathType;
  match: MatchKind;
  target: RouteTarget;
  /** Position of the owning Ingress in age order (oldest first); breaks remaining ties. */
  age: number;
}

export interface HostModel {
  /** '' for host-less rules, `*.example.com` for a wildcard. */
  host: string;
  routes: PathRoute[];
  /** defaultBackend of the oldest Ingress contributing rules to this host (never set for host-less rules). */
  fallback?: RouteTarget;
  appRoot?: string;
}

export interface ServedIngress {
  ingress: Ingress;
  className: string;
  settings: IngressSettings;
  /** Upstream annotations (load balancing, affinity, timeouts, limits, retries, service-upstream). */
  policy: PolicySettings;
  /** Set for a canary Ingress (`canary: "true"`): it adds alternatives to other Ingresses' routes. */
  canary?: CanarySettings;
}

export interface Model {
  hosts: HostModel[];
  /** defaultBackend of the oldest Ingress without rules: the catch-all. */
  catchAll?: RouteTarget;
  /** --default-backend-service. */
  controllerDefault?: RouteTarget;
  backends: Map<string, ResolvedBackend>;
  served: ServedIngress[];
  tls: TlsModel;
  diagnostics: Diagnostic[];
}

export function build(store: ObjectView, opts: BuildOptions, memo?: BuildMemo): Model {
  const diagnostics: Diagnostic[] = [];
  const resolver = new ServiceResolver(store);
  const backends = new Map<string, ResolvedBackend>();
  const served: ServedIngress[] = [];

  const pass = memo?.begin(store, opts);
  for (const o of store.list('Ingress')) {
    const r = pass ? pass.ingress(o) : readIngress(o, store, opts);
    for (const d of r.diagnostics) diagnostics.push(d);
    if (r.entry) served.push(r.entry);
  }
  served.sort((a, b) => compareAge(a.ingress, b.ingress));
  const tls = bindTls(served, store, opts, diagnostics);

  let catchAll: RouteTarget | undefined;
  let catchAllOwner = '';
  const canaries: CanaryIngress[] = [];
  /** Per host, the rules that contribute to it, oldest Ingress first. */
  const contributions = new Map<string, Contribution[]>();

  // Per Ingress: the catch-all, canaries, and which rules go to which host.
  served.forEach((entry, age) => {
    const { ingress: ing, policy, canary } = entry;
    const ingName = `${ing.namespace}/${ing.name}`;
    if (canary) {
      // A canary creates no routes, fallbacks or catch-all of its own (attached below, once every main route is known).
      canaries.push({ ingress: ing, canary, policy });
      return;
    }
    if (ing.rules.length === 0) {
      if (!ing.defaultBackend) return;
      if (!catchAll) {
        catchAll = targetFor(ing, ing.defaultBackend, policy, '/', resolver, backends, diagnostics);
        catchAllOwner = ingName;
      } else {
        diagnostics.push({
          code: 'DEFAULT_BACKEND_CONFLICT', severity: 'warning',
          message: `the catch-all default backend is already set by the older Ingress ${catchAllOwner}; this one is ignored`,
          ...where(ing), field: fieldOf(ing.defaultBackend),
        });
      }
      return;
    }
    // The defaultBackend of an Ingress with rules serves its own hosts only. Host-less rules are not a
    // host of its own: their unmatched requests go to the catch-all, as in ingress-nginx (only a
    // rule-less Ingress configures the catch-all server), so one tenant cannot capture every host.
    const ownsHost = ing.rules.some((rule) => rule.host !== '');
    const ingressDefault = ing.defaultBackend && ownsHost ? targetFor(ing, ing.defaultBackend, policy, '/', resolver, backends, diagnostics) : undefined;
    if (ing.defaultBackend && !ownsHost) {
      diagnostics.push({
        code: 'DEFAULT_BACKEND_UNUSED', severity: 'warning',
        message: 'the defaultBackend of an Ingress whose rules all lack a host is not used (it would capture every host); remove the rules to make it the catch-all, or give the rules a host',
        ...where(ing), field: fieldOf(ing.defaultBackend),
      });
    }
    for (const rule of ing.rules) {
      let list = contributions.get(rule.host);
      if (!list) contributions.set(rule.host, (list = []));
      list.push({ entry, age, rule, ingressDefault });
    }
  });

  // Per host: routes, precedence, conflicts. Hosts a canary attaches to are always built afresh
  // (attachCanaries sets their targets' canary); the others may come from the previous build.
  const canaryHosts = new Set<string>();
  for (const c of canaries) for (const rule of c.ingress.rules) canaryHosts.add(rule.host);
  const internTarget = targetInterner();
  const hosts = new Map<string, HostModel>();
  for (const [host, list] of contributions) {
    const tlsHost = isTlsHost(tls, host);
    const reusable = pass !== undefined && !canaryHosts.has(host);
    let built = reusable ? pass.get(host, tlsHost, list) : undefined;
    if (built === undefined) {
      built = buildHost(host, list, tlsHost, resolver, internTarget);
      if (reusable) pass.set(host, tlsHost, list, built);
      else pass?.fresh(host);
    }
    hosts.set(host, built.model);
    for (const d of built.diagnostics) diagnostics.push(d);
    for (const b of built.backends) backends.set(b.id, b);
  }
  pass?.end();

  const resolve = (ing: Ingress, ref: BackendRef, serviceUpstream: boolean) => resolveRef(ing, ref, resolver, backends, diagnostics, serviceUpstream);
  attachCanaries(hosts, canaries, resolve, diagnostics);

  let controllerDefault: RouteTarget | undefined;
  const dbs = opts.defaultBackendService;
  if (dbs) controllerDefault = resolveControllerDefault(store, dbs, resolver, backends, diagnostics);

  const hostList = pass ? pass.ordered(hosts) : orderedHosts(hosts);
  diagnostics.sort(compareDiagnostics);
  return { hosts: hostList, catchAll, controllerDefault, backends, served, tls, diagnostics };
}

/** An Ingress as the build sees it: served (with its settings), or not, and what was wrong with it. */
interface ReadIngress {
  entry: ServedIngress | undefined;
  diagnostics: Diagnostic[];
}

/** Validation, class, canary, settings and upstream policy of one Ingress object. */
function readIngress(o: StoredObject, store: ObjectView, opts: BuildOptions): ReadIngress {
  const diagnostics: Diagnostic[] = [];
  const ing = normalizeIngress(o, diagnostics);
  if (!ing) return { entry: undefined, diagnostics };
  const decision = decideClass(ing, store, opts);
  if (!decision.served) {
    diagnostics.push({ code: 'INGRESS_NOT_SERVED', severity: 'info', message: `not served by this controller: ${decision.reason}`, ...where(ing) });
    return { entry: undefined, diagnostics };
  }
  const canary = readCanary(ing, diagnostics);
  const entry: ServedIngress = { ingress: ing, className: decision.className, settings: readSettings(ing, diagnostics), policy: readPolicy(ing, store, diagnostics, canary !== undefined) };
  if (canary) entry.canary = canary;
  return { entry, diagnostics };
}

/** The hosts sorted by name. */
function orderedHosts(hosts: ReadonlyMap<string, HostModel>): HostModel[] {
  return sortedNames(hosts).map((h) => hosts.get(h)!);
}

function sortedNames(hosts: ReadonlyMap<string, HostModel>): string[] {
  return [...hosts.keys()].sort();
}

/** One rule of a served Ingress that contributes to a host. */
interface Contribution {
  entry: ServedIngress;
  /** Position of the Ingress in age order. */
  age: number;
  rule: IngressRule;
  /** The Ingress's defaultBackend for its own hosts, if any. */
  ingressDefault: RouteTarget | undefined;
}

/** A host as built from its contributions: what build() merges into the model. */
interface BuiltHost {
  model: HostModel;
  diagnostics: Diagnostic[];
  /** Backends its routes use. */
  backends: ResolvedBackend[];
  /**
   * The Services (`namespace/name`) its routes resolve against: the host is still valid while none of
   * them, their Endpoints or their EndpointSlices changed. Null: never reuse it (service-upstream).
   */
  services: Set<string> | null;
}

/** A host's routes from its rules, oldest Ingress first: first fallback and app-root win, conflicts by age. */
function buildHost(host: string, list: readonly Contribution[], tlsHost: boolean, resolver: ServiceResolver, intern: (t: RouteTarget) => RouteTarget): BuiltHost {
  const diagnostics: Diagnostic[] = [];
  const used = new Map<string, ResolvedBackend>();
  let services: BuiltHost['services'] = new Set();
  const hm: HostModel = { host, routes: [] };
  const seenPaths = new Map<string, string>(); // path\ntype -> winning ingress
  for (const { entry: { ingress: ing, settings, policy }, age, rule, ingressDefault } of list) {
    const ingName = `${ing.namespace}/${ing.name}`;
    if (ingressDefault && host !== '' && !hm.fallback) hm.fallback = withRedirect(ingressDefault, settings, tlsHost);
    if (settings.appRoot && !hm.appRoot) hm.appRoot = settings.appRoot;
    for (const p of rule.paths) {
      const key = `${p.path}\n${p.pathType}`;
      const winner = seenPaths.get(key);
      if (winner) {
        diagnostics.push({
          code: 'PATH_CONFLICT', severity: 'warning',
          message: `host ${JSON.stringify(host || '*')} path ${JSON.stringify(p.path)} (${p.pathType}) is already ${winner === ingName ? 'defined earlier in this Ingress' : `served by the older Ingress ${winner}`}; this path is ignored`,
          ...where(ing), field: `${p.field}.path`,
        });
        continue;
      }
      const regexMode = p.pathType === 'ImplementationSpecific' && (settings.useRegex || settings.rewriteTarget !== undefined);
      const match: MatchKind = p.pathType === 'Exact' ? 'exact' : regexMode ? 'regex' : 'prefix';
      if (match === 'regex') {
        const re = compileUserRegex(pathPatternSource(p.path));
        if (typeof re === 'string') {
          diagnostics.push({ code: 'PATH_REGEX_INVALID', severity: 'warning', message: `${JSON.stringify(p.path)}: ${re}; this path is ignored`, ...where(ing), field: `${p.field}.path` });
          continue;
        }
      }
      seenPaths.set(key, ingName);
      const target = targetFor(ing, p.backend, policy, defaultCookiePath(p.path, match), resolver, used, diagnostics, ingName);
      if (redirects(settings, tlsHost)) target.redirectHttps = true;
      if (policy.serviceUpstream) services = null;
      else if (services !== null && p.backend.service) services.add(`${ing.namespace}/${p.backend.service.service}`);
      if (settings.rewriteTarget !== undefined && settings.rewriteTarget !== p.path) {
        // ingress-nginx: the rule path, as an anchored case-insensitive regex, is replaced whole by the target.
        const pattern = pathPatternSource(p.path);
        if (typeof compileUserRegex(pattern) === 'string') {
          diagnostics.push({ code: 'REWRITE_REGEX_INVALID', severity: 'warning', message: `${JSON.stringify(p.path)} is not a usable regular expression; rewrite-target ignored for this path`, ...where(ing), field: `${p.field}.path` });
        } else {
          target.rewrite = { pattern, target: settings.rewriteTarget };
        }
      }
      if (settings.xForwardedPrefix) target.forwardedPrefix = settings.xForwardedPrefix;
      hm.routes.push({ path: p.path, pathType: p.pathType, match, target: intern(target), age });
    }
  }
  hm.routes = exactArray(hm.routes.sort(comparePrecedence));
  return { model: hm, diagnostics: exactArray(diagnostics), backends: exactArray([...used.values()]), services };
}

/** The target of a backend of `ing`; cookiePath: the affinity cookie's default path. */
function targetFor(ing: Ingress, ref: BackendRef, policy: PolicySettings, cookiePath: string, resolver: ServiceResolver, backends: Map<string, ResolvedBackend>, diags: Diagnostic[], ingName = `${ing.namespace}/${ing.name}`): RouteTarget {
  const t: RouteTarget = { backend: resolveRef(ing, ref, resolver, backends, diags, policy.serviceUpstream), ingress: ingName };
  const p = routePolicy(policy, cookiePath);
  if (p) t.policy = p;
  return t;
}

/** Equal keys, equal targets (also for the table's actions, which have a subset of the fields). */
export function targetKey(t: Pick<RouteTarget, 'backend' | 'ingress' | 'redirectHttps' | 'rewrite' | 'forwardedPrefix' | 'policy' | 'canary'>): string {
  // The common target names a backend and an Ingress only: no need to serialise it.
  return t.rewrite || t.forwardedPrefix || t.policy || t.canary ? JSON.stringify(t) : `${t.backend}\n${t.ingress}\n${t.redirectHttps === true}`;
}

/**
 * Route targets are plain immutable data once built (attachCanaries replaces a target rather than
 * changing it): routes with equal targets share one object. Most paths of an Ingress go to one
 * backend, so 50,000 paths of 10,000 Ingresses need far fewer targets (the hosts a BuildMemo keeps
 * held 28 MB, mostly per-path copies).
 */
function targetInterner(): (t: RouteTarget) => RouteTarget {
  const seen = new Map<string, RouteTarget>();
  return (t) => {
    const key = targetKey(t);
    const kept = seen.get(key);
    if (kept !== undefined) return kept;
    seen.set(key, t);
    return t;
  };
}

/**
 * What a build hands to the next one, so that a change to one of 10,000 Ingresses does not rebuild
 * every host (issue 4 item 10). A host is reused when the same Ingress versions (the very normalised
 * objects, settings and policies: all memoised per stored object) contribute to it in the same order,
 * its TLS status is the same, and none of the Services its routes use, their Endpoints or their
 * EndpointSlices changed (so a change to one Service or its endpoints rebuilds the hosts using it, not
 * all of them; a per-build set of changed Services, not a resolution per host). Each Ingress object's
 * validation, class, canary, settings and policy are kept too (readIngress). A change to a Secret or
 * an IngressClass (added, replaced or removed) empties the memo. Which objects changed comes from the
 * store's change log when the build runs over the same store as the last one (a source keeps one),
 * else from comparing every Service, Endpoints, EndpointSlice, Secret and IngressClass by instance.
 * The checks are the inputs, so reuse can never change a result; only the last build's hosts are kept.
 */
export class BuildMemo {
  #hosts = new Map<string, MemoHost>();
  /** The Service, Endpoints and EndpointSlice objects of the last build, with the Service they belong to. */
  #serviceObjects = new Map<StoredObject, string>();
  /** The objects of RESET_KINDS in the last build. */
  #resetObjects = new Set<StoredObject>();
  /** Host names of the last build, sorted: the next build's order when it has the same hosts. */
  #order: string[] = [];
  #orderSet = new Set<string>();
  /**
   * readIngress per Ingress object. Its inputs besides the object: IngressClasses and Secrets (a
   * change to either empties the memo, as for hosts) and the class options.
   */
  #ingresses = new WeakMap<StoredObject, ReadIngress>();
  #classOptions = '';
  /** Where the last build left the store's change log: the next build over it reads from there. */
  #cursor = new ChangeCursor();
  /** For tests: hosts reused and built in the last build, and whether it read the store's change log. */
  readonly last = { reused: 0, built: 0, changeLog: false };

  /** Starts a build over `store`; forgets everything when an object routes depend on changed. */
  begin(store: ObjectView, opts: BuildOptions): MemoPass {
    // The same store as last time, and it knows what changed since: look at those objects only (a
    // source's store, issue 4 item 10); any other store is compared object by object.
    const changes = this.#cursor.read(store);
    const { same, dirty } = changes !== null
      ? this.#fromChanges(changes)
      : { same: this.#sameResetObjects(store), dirty: this.#changedServices(store) };
    const resolvesAsBefore = (b: BuiltHost): boolean => {
      if (b.services === null) return false;
      for (const svc of b.services) if (dirty.has(svc)) return false;
      return true;
    };
    const previous = same ? this.#hosts : new Map<string, MemoHost>();
    const next = new Map<string, MemoHost>();
    const classOptions = JSON.stringify([opts.controllerName, opts.ingressClass, opts.watchWithoutClass]);
    if (!same || classOptions !== this.#classOptions) this.#ingresses = new WeakMap();
    this.#classOptions = classOptions;
    const ingresses = this.#ingresses;
    /** Hosts this build made afresh (the others are the very models of the last build). */
    const freshHosts: string[] = [];
    this.last.reused = 0;
    this.last.built = 0;
    this.last.changeLog = changes !== null;
    return {
      ingress: (o) => {
        let r = ingresses.get(o);
        if (r === undefined) ingresses.set(o, (r = readIngress(o, store, opts)));
        return r;
      },
      get: (host, tlsHost, list) => {
        const hit = previous.get(host);
        if (hit === undefined || hit.tlsHost !== tlsHost || !sameInputs(hit.inputs, list) || !resolvesAsBefore(hit.built)) return undefined;
        next.set(host, hit);
        this.last.reused++;
        return hit.built;
      },
      set: (host, tlsHost, list, built) => {
        next.set(host, { tlsHost, inputs: inputsOf(list), built });
        freshHosts.push(host);
        this.last.built++;
      },
      fresh: (host) => {
        freshHosts.push(host);
      },
      ordered: (hosts) => {
        // Most changes keep the set of hosts, and cheaper than sorting 20,000 names is checking that:
        // a host reused from the last build was in it, so the sets are equal when the sizes are and
        // every host made afresh was in it too.
        const same = this.#order.length === hosts.size && freshHosts.every((h) => this.#orderSet.has(h));
        if (!same) {
          this.#order = sortedNames(hosts);
          this.#orderSet = new Set(this.#order);
        }
        return this.#order.map((h) => hosts.get(h)!);
      },
      end: () => {
        this.#hosts = next;
      },
    };
  }

  /**
   * `namespace/name` of every Service whose Service, Endpoints or EndpointSlice objects were added,
   * replaced or removed since the last build (stored objects are immutable, and the source keeps the
   * instance of an unchanged object, so instance identity is the test).
   */
  #changedServices(store: ObjectView): Set<string> {
    const dirty = new Set<string>();
    const current = new Map<StoredObject, string>();
    for (const kind of SERVICE_KINDS) {
      for (const o of store.list(kind)) {
        const svc = serviceOf(o);
        if (svc === undefined) continue;
        current.set(o, svc);
        if (!this.#serviceObjects.has(o)) dirty.add(svc);
      }
    }
    for (const [o, svc] of this.#serviceObjects) if (!current.has(o)) dirty.add(svc);
    this.#serviceObjects = current;
    return dirty;
  }

  /** #changedServices and #sameResetObjects from a change log, keeping their sets current. */
  #fromChanges(changes: readonly ObjectChange[]): { same: boolean; dirty: Set<string> } {
    const dirty = new Set<string>();
    let same = true;
    for (const { kind, before, after } of changes) {
      if ((RESET_KINDS as readonly string[]).includes(kind)) {
        same = false;
        if (before) this.#resetObjects.delete(before);
        if (after) this.#resetObjects.add(after);
      } else if ((SERVICE_KINDS as readonly string[]).includes(kind)) {
        if (before) {
          const svc = this.#serviceObjects.get(before);
          if (svc !== undefined) dirty.add(svc);
          this.#serviceObjects.delete(before);
        }
        const svc = after ? serviceOf(after) : undefined;
        if (svc !== undefined) {
          dirty.add(svc);
          this.#serviceObjects.set(after!, svc);
        }
      }
    }
    return { same, dirty };
  }

  /** Whether RESET_KINDS hold the very objects of the last build (by instance, as in #changedServices). */
  #sameResetObjects(store: ObjectView): boolean {
    const current = new Set<StoredObject>();
    for (const kind of RESET_KINDS) for (const o of store.list(kind)) current.add(o);
    let same = current.size === this.#resetObjects.size;
    if (same) for (const o of current) if (!this.#resetObjects.has(o)) { same = false; break; }
    this.#resetObjects = current;
    return same;
  }
}

interface MemoPass {
  /** readIngress(o), from the last build when o and everything it depends on are the same. */
  ingress(o: StoredObject): ReadIngress;
  /** The host as built before, if its inputs are the same and its Services did not change. */
  get(host: string, tlsHost: boolean, list: readonly Contribution[]): BuiltHost | undefined;
  set(host: string, tlsHost: boolean, list: readonly Contribution[], built: BuiltHost): void;
  /** A host built afresh that is not memoised (a canary's). */
  fresh(host: string): void;
  /** The hosts sorted by name (as orderedHosts does). */
  ordered(hosts: ReadonlyMap<string, HostModel>): HostModel[];
  end(): void;
}

interface MemoHost {
  tlsHost: boolean;
  /** Per contribution: the normalised Ingress, its settings, its policy, the rule, its default backend's id. */
  inputs: unknown[];
  built: BuiltHost;
}

const INPUTS = 5;

function inputsOf(list: readonly Contribution[]): unknown[] {
  const out: unknown[] = [];
  for (const c of list) out.push(c.entry.ingress, c.entry.settings, c.entry.policy, c.rule, c.ingressDefault?.backend);
  return exactArray(out);
}

function sameInputs(inputs: readonly unknown[], list: readonly Contribution[]): boolean {
  if (inputs.length !== list.length * INPUTS) return false;
  for (let i = 0; i < list.length; i++) {
    const c = list[i];
    const at = INPUTS * i;
    if (inputs[at] !== c.entry.ingress || inputs[at + 1] !== c.entry.settings || inputs[at + 2] !== c.entry.policy || inputs[at + 3] !== c.rule || inputs[at + 4] !== c.ingressDefault?.backend) return false;
  }
  return true;
}

/**
 * Kinds whose change forgets every host: Secrets and IngressClasses are few, rarely change and feed
 * TLS and class decisions. Services, Endpoints and EndpointSlices, which change all the time in a
 * cluster, are checked per host instead (BuiltHost.services).
 */
const RESET_KINDS = ['Secret', 'IngressClass'] as const;

const SERVICE_KINDS = ['Service', 'Endpoints', 'EndpointSlice'] as const;

/** The Service an object belongs to: itself, its Endpoints (same name), or its slices' label. */
/** ssl-redirect (on a TLS host) or force-ssl-redirect: plain HTTP answers 308 to https. */
function redirects(settings: IngressSettings, tlsHost: boolean): boolean {
  return settings.forceSslRedirect || (settings.sslRedirect && tlsHost);
}

function withRedirect(t: RouteTarget, settings: IngressSettings, tlsHost: boolean): RouteTarget {
  return redirects(settings, tlsHost) ? { ...t, redirectHttps: true } : t;
}

/** A host served over TLS: listed itself, or covered by a `*.` entry one label up (ingress-nginx does the same). */
function isTlsHost(tls: TlsModel, host: string): boolean {
  if (tls.hosts.has(host)) return true;
  const dot = host.indexOf('.');
  return dot > 0 && !host.startsWith('*.') && tls.hosts.has(`*${host.slice(dot)}`);
}

const MATCH_RANK: Record<MatchKind, number> = { exact: 0, prefix: 1, regex: 2 };

/** Longest path string first; at equal length Exact beats Prefix beats regex; then the older Ingress. */
export function comparePrecedence(a: PathRoute, b: PathRoute): number {
  return b.path.length - a.path.length || MATCH_RANK[a.match] - MATCH_RANK[b.match] || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0) || a.age - b.age;
}

/**
 * Older first: creationTimestamp when present (objects without one, or with an unparsable one, count as
 * newest), compared as instants (RFC 3339 offsets differ as strings), then namespace/name.
 */
export function compareAge(a: Ingress, b: Ingress): number {
  const ta = instant(a.created);
  const tb = instant(b.created);
  if (ta !== tb) return ta - tb;
  return a.namespace < b.namespace ? -1 : a.namespace > b.namespace ? 1 : a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

// RFC 3339 date-time with a zone: Date.parse would read a zone-less time as local time (machine dependent).
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

function instant(created: string): number {
  const t = RFC3339.test(created) ? Date.parse(created) : NaN;
  return Number.isNaN(t) ? Number.MAX_VALUE : t;
}

function resolveRef(ing: Ingress, ref: BackendRef, resolver: ServiceResolver, backends: Map<string, ResolvedBackend>, diags: Diagnostic[], serviceUpstream = false): string {
  if (serviceUpstream && ref.service) {
    // service-upstream: the Service's cluster IP, a backend of its own; else (with a warning) the endpoints.
    const id = backendId(ing.namespace, ref.service) + CLUSTER_IP_SUFFIX;
    if (backends.has(id)) return id;
    const r = resolver.resolveClusterIp(ing.namespace, ref.service);
    if ('backend' in r) {
      backends.set(id, r.backend);
      return id;
    }
    if (r.fallback) {
      diags.push({ code: 'SERVICE_UPSTREAM_UNUSABLE', severity: 'warning', message: `service-upstream is ignored for this backend: ${r.fallback}; proxying as without the annotation`, ...where(ing), field: ref.field });
    }
  }
  let b: ResolvedBackend;
  if (ref.resource) {
    const id = `${ing.namespace}/resource:${ref.resource.kind}/${ref.resource.name}`;
    b = backends.get(id) ?? {
      id, service: '', port: '', endpoints: [],
      problem: { code: 'RESOURCE_BACKEND', message: `resource backend ${ref.resource.kind}/${ref.resource.name} cannot be proxied (only Service backends are)` },
    };
  } else {
    const sref = ref.service!;
    const id = `${ing.namespace}/${sref.service}:${sref.portNumber ?? sref.portName}`;
    b = backends.get(id) ?? resolver.resolve(ing.namespace, sref);
  }
  backends.set(b.id, b);
  if (b.problem) {
    diags.push({ code: b.problem.code, severity: 'warning', message: `${b.problem.message}; requests to it are answered 503`, ...where(ing), field: ref.field });
  }
  return b.id;
}

function resolveControllerDefault(store: ObjectView, dbs: DefaultBackendService, resolver: ServiceResolver, backends: Map<string, ResolvedBackend>, diags: Diagnostic[]): RouteTarget {
  let port = dbs.port;
  if (port === undefined) {
    // No port given: the Service's first port.
    const svc = store.get('Service', dbs.namespace, dbs.name);
    const ports = svc?.raw.spec && typeof svc.raw.spec === 'object' && !Array.isArray(svc.raw.spec) ? svc.raw.spec.ports : undefined;
    const first = Array.isArray(ports) ? ports[0] : undefined;
    port = first && typeof first === 'object' && !Array.isArray(first) && typeof first.port === 'number' ? first.port : 80;
  }
  const ref = typeof port === 'number' ? { service: dbs.name, portNumber: port } : { service: dbs.name, portName: port };
  const b = backends.get(`${dbs.namespace}/${dbs.name}:${port}`) ?? resolver.resolve(dbs.namespace, ref);
  backends.set(b.id, b);
  if (b.problem) diags.push({ code: b.problem.code, severity: 'warning', message: `--default-backend-service: ${b.problem.message}` });
  return { backend: b.id, ingress: '' };
}

function where(ing: Ingress): Pick<Diagnostic, 'file' | 'line' | 'object'> {
  return { file: ing.source.origin?.file, line: ing.source.origin?.line, object: describeObject(ing.source) };
}

function fieldOf(ref: BackendRef): string {
  return ref.field;
}
