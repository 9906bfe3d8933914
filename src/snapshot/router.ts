// Request -> route lookup over a compiled routing table. Host lookup is a map hit; path lookup is a
// map hit or a walk over a short precompiled list (ARCHITECTURE.md rule 4). Built once per table.

import { compileUserRegex, type UserRegex } from '../model/regex.ts';
import type { CanaryAction, HostTable, RouteAction, RoutingTable, UpstreamPolicy } from './table.ts';
import type { RecordDelta, TableDelta } from './delta.ts';

export interface Route {
  backend: string;
  ingress: string;
  forwardedPrefix: string | undefined;
  rewriteRe: UserRegex | undefined;
  rewriteTarget: string;
  /** Plain HTTP is answered 308 to https. */
  redirectHttps: boolean;
  /** Per-Ingress upstream settings, compiled by the data plane on first use. */
  policy: UpstreamPolicy | undefined;
  canary: CanaryAction | undefined;
}

interface Entry {
  regex: UserRegex | undefined;
  /** prefix value (undefined for regex entries) */
  prefix: string;
  length: number;
  route: Route;
}

export interface CompiledHost {
  exact: Map<string, Route>;
  exactLengths: number;
  ordered: Entry[];
  fallback: Route | null;
  appRoot: string | null;
}

export class Router {
  readonly hash: string;
  #hosts = new Map<string, CompiledHost>();
  #wildcards = new Map<string, CompiledHost>();
  #hostless: CompiledHost | null;
  #defaultRoute: Route | null;

  constructor(table: RoutingTable, base?: { router: Router; delta: TableDelta }) {
    this.hash = table.hash;
    if (base === undefined) {
      for (const [h, t] of Object.entries(table.hosts)) this.#hosts.set(h, compileHost(t));
      for (const [h, t] of Object.entries(table.wildcards)) this.#wildcards.set(h, compileHost(t));
    } else {
      // Incremental: unchanged hosts keep their compiled form; only the delta's hosts are compiled.
      // The maps are taken over from the base router and patched in place (a copy of 20,000 hosts
      // per change cost a worker 25 ms): the base router must not be used afterwards. Everything
      // that can fail (compiling) is done before anything is patched.
      const hosts = compiledSet(base.delta.hosts);
      const wildcards = compiledSet(base.delta.wildcards);
      this.#hosts = patch(base.router.#hosts, base.delta.hosts.del, hosts);
      this.#wildcards = patch(base.router.#wildcards, base.delta.wildcards.del, wildcards);
      base.router.#hosts = new Map();
      base.router.#wildcards = new Map();
    }
    this.#hostless = table.hostless ? compileHost(table.hostless) : null;
    this.#defaultRoute = table.defaultAction ? compileAction(table.defaultAction) : null;
  }

  /** Precise host, then wildcard (one label), then host-less rules. `host` is lowercase without port. */
  findHost(host: string): CompiledHost | null {
    // `foo.com.` (fully qualified) is the same DNS name as `foo.com`.
    if (host.charCodeAt(host.length - 1) === 46) host = host.slice(0, -1);
    let h = this.#hosts.get(host);
    if (h !== undefined) return h;
    const dot = host.indexOf('.');
    if (dot > 0) {
      h = this.#wildcards.get(host.slice(dot + 1));
      if (h !== undefined) return h;
    }
    return this.#hostless;
  }

  /** The route for a request, or null for Archway's own 404. */
  match(host: string, path: string): Route | null {
    return this.matchHost(this.findHost(host), path);
  }

  /** The route within a host found by findHost (the data plane looks the host up once per request). */
  matchHost(h: CompiledHost | null, path: string): Route | null {
    if (h === null) return this.#defaultRoute;
    return matchPath(h, path) ?? h.fallback;
  }
}

function compiledSet(d: RecordDelta<HostTable>): Map<string, CompiledHost> {
  const out = new Map<string, CompiledHost>();
  for (const k in d.set) out.set(k, compileHost(d.set[k]));
  return out;
}

function patch(m: Map<string, CompiledHost>, del: readonly string[], set: ReadonlyMap<string, CompiledHost>): Map<string, CompiledHost> {
  for (const k of del) m.delete(k);
  for (const [k, h] of set) m.set(k, h);
  return m;
}

export function matchPath(h: CompiledHost, path: string): Route | null {
  const exact = h.exactLengths > 0 ? h.exact.get(path) : undefined;
  const minLength = exact !== undefined ? path.length : -1;
  const ordered = h.ordered;
  for (let i = 0; i < ordered.length; i++) {
    const e = ordered[i];
    // An Exact hit of length L beats every candidate of length <= L (longest first, Exact wins ties).
    if (e.length <= minLength) break;
    if (e.regex === undefined) {
      const p = e.prefix;
      // Prefix: element-wise on '/'-separated segments; '/' matches everything.
      if (p.length === 1 || (path.startsWith(p) && (path.length === p.length || path.charCodeAt(p.length) === 47))) return e.route;
    } else if (e.regex.test(path)) {
      return e.route;
    }
  }
  return exact ?? null;
}

/** rewrite-target: the whole path is replaced by the target, with $1..$n from the rule's capture groups. */
export function rewritePath(route: Route, path: string): string {
  const re = route.rewriteRe;
  if (re === undefined) return path;
  const m = re.matcher(path);
  if (!m.lookingAt()) return path;
  const target = route.rewriteTarget;
  if (!target.includes('$')) return target;
  return target.replace(/\$(\d)/g, (_s, d: string) => {
    const n = Number(d);
    return n <= m.groupCount() ? (m.group(n) ?? '') : '';
  });
}

/** Hosts without Exact paths (most) share one empty map. */
const NO_EXACT: Map<string, Route> = new Map();

function compileHost(t: HostTable): CompiledHost {
  let exact = NO_EXACT;
  for (const p in t.exact) {
    if (exact === NO_EXACT) exact = new Map();
    exact.set(p, compileAction(t.exact[p]));
  }
  const ordered: Entry[] = t.ordered.map((e) => {
    const route = compileAction(e.action);
    if (e.match === 'prefix') return { regex: undefined, prefix: e.value, length: e.length, route };
    const re = compileUserRegex(e.value);
    // The model only emits patterns that compiled; a failure here means a corrupted table.
    if (typeof re === 'string') throw new Error(`routing table carries an invalid pattern ${JSON.stringify(e.value)}: ${re}`);
    return { regex: re, prefix: '', length: e.length, route };
  });
  return { exact, exactLengths: exact.size, ordered, fallback: t.fallback ? compileAction(t.fallback) : null, appRoot: t.appRoot };
}

/** Shared actions (compile's interning) give shared routes, across tables too while the action lives. */
const compiledActions = new WeakMap<RouteAction, Route>();

function compileAction(a: RouteAction): Route {
  let route = compiledActions.get(a);
  if (route === undefined) compiledActions.set(a, (route = compileActionNow(a)));
  return route;
}

function compileActionNow(a: RouteAction): Route {
  let rewriteRe: UserRegex | undefined;
  if (a.rewrite) {
    const re = compileUserRegex(a.rewrite.pattern);
    if (typeof re === 'string') throw new Error(`routing table carries an invalid rewrite pattern: ${re}`);
    rewriteRe = re;
  }
  return { backend: a.backend, ingress: a.ingress, forwardedPrefix: a.forwardedPrefix, rewriteRe, rewriteTarget: a.rewrite?.target ?? '', redirectHttps: a.redirectHttps === true, policy: a.policy, canary: a.canary };
}
