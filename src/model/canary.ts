// Canary Ingresses, with ingress-nginx's semantics (issue 6 item 4). An Ingress annotated
// `canary: "true"` creates no routes of its own and never conflicts: each of its paths attaches to the
// route with the same host, path and pathType of a non-canary Ingress, as the alternative backend the
// data plane picks by header, then cookie, then weight. One canary per route: the older one wins.

import type { Diagnostic } from './diagnostics.ts';
import { describeObject } from './objects.ts';
import type { BackendRef, Ingress } from './ingress.ts';
import type { HostModel } from './build.ts';
import { annotationWarner, NGINX_PREFIX } from './annotations.ts';
import { compileUserRegex } from './regex.ts';
import { annotationReader, canaryPolicy, defaultCookiePath, parseToken, type Parsed, type PolicySettings, type RoutePolicy } from './upstream-policy.ts';

export interface CanarySettings {
  /** canary-by-header: the header name; its value `always` / `never` unless byHeaderValue or byHeaderPattern is set. */
  byHeader?: string;
  byHeaderValue?: string;
  /** RE2 pattern (checked with compileUserRegex) matched against the header value. */
  byHeaderPattern?: string;
  /** canary-by-cookie: the cookie name; its value `always` / `never`. */
  byCookie?: string;
  /** canary-weight out of weightTotal; 0: never by weight. */
  weight: number;
  weightTotal: number;
}

/** The canary of a route, as the routing table carries it. */
export interface CanaryTarget extends CanarySettings {
  backend: string;
  ingress: string;
  /** The canary's effective policy (see canaryPolicy); absent: controller defaults. */
  policy?: RoutePolicy;
}

export const DEFAULT_WEIGHT_TOTAL = 100;
export const MAX_WEIGHT_TOTAL = 0x7fffffff;

const ok = <T>(value: T): Parsed<T> => ({ value });
const bad = <T>(problem: string): Parsed<T> => ({ problem });

/** canary-weight-total: a whole number from 1. */
export function parseWeightTotal(v: string): Parsed<number> {
  if (!/^\d+$/.test(v)) return bad('must be a whole number');
  const n = Number(v);
  return n >= 1 && n <= MAX_WEIGHT_TOTAL ? ok(n) : bad(`must be between 1 and ${MAX_WEIGHT_TOTAL}`);
}

/** canary-weight: a whole number from 0 to the weight total. */
export function parseWeight(v: string, total: number): Parsed<number> {
  if (!/^\d+$/.test(v)) return bad(`must be a whole number from 0 to ${total}`);
  const n = Number(v);
  return n <= total ? ok(n) : bad(`must be at most the canary-weight-total, ${total}`);
}

/** canary-by-header-value: a header value (visible ASCII, inner spaces; optional whitespace around it would never match). */
export function parseHeaderValue(v: string): Parsed<string> {
  return /^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$/.test(v) && v.length <= 1024
    ? ok(v)
    : bad('must be a non-empty header value of visible ASCII characters, without leading or trailing spaces');
}

/** canary-by-header-pattern: a regular expression Archway can run safely (RE2 syntax). */
export function parseHeaderPattern(v: string): Parsed<string> {
  if (v === '') return bad('must not be empty');
  const re = compileUserRegex(v);
  return typeof re === 'string' ? bad(re) : ok(v);
}

/**
 * The canary settings of an Ingress; undefined when it is not a canary (`canary` absent, "false", or
 * invalid). Canary annotations on a non-canary Ingress are ignored silently, as ingress-nginx does.
 */
export function readCanary(ing: Ingress, diags: Diagnostic[]): CanarySettings | undefined {
  const a = ing.annotations;
  const report = annotationWarner(ing, diags);
  const flagKey = NGINX_PREFIX + 'canary';
  const flag = a[flagKey];
  if (flag === undefined || flag === 'false') return undefined;
  if (flag !== 'true') {
    report(flagKey, `${JSON.stringify(flag)}: must be "true" or "false"; annotation ignored (this Ingress is not a canary)`);
    return undefined;
  }

  const read = annotationReader(a, report);

  const weightTotal = read('canary-weight-total', parseWeightTotal) ?? DEFAULT_WEIGHT_TOTAL;
  const out: CanarySettings = { weight: read('canary-weight', (v) => parseWeight(v, weightTotal)) ?? 0, weightTotal };
  const byHeader = read('canary-by-header', parseToken);
  let byHeaderValue = read('canary-by-header-value', parseHeaderValue);
  let byHeaderPattern = read('canary-by-header-pattern', parseHeaderPattern);
  if (byHeader === undefined) {
    // ingress-nginx: value and pattern only refine canary-by-header.
    for (const [name, v] of [['canary-by-header-value', byHeaderValue], ['canary-by-header-pattern', byHeaderPattern]] as const) {
      if (v !== undefined) report(NGINX_PREFIX + name, 'has no effect without a valid canary-by-header; annotation ignored');
    }
    byHeaderValue = byHeaderPattern = undefined;
  } else if (byHeaderValue !== undefined && byHeaderPattern !== undefined) {
    report(NGINX_PREFIX + 'canary-by-header-pattern', 'has no effect when canary-by-header-value is set (as in ingress-nginx); annotation ignored');
    byHeaderPattern = undefined;
  }
  const byCookie = read('canary-by-cookie', parseToken);
  return {
    ...(byHeader !== undefined ? { byHeader } : {}),
    ...(byHeaderValue !== undefined ? { byHeaderValue } : {}),
    ...(byHeaderPattern !== undefined ? { byHeaderPattern } : {}),
    ...(byCookie !== undefined ? { byCookie } : {}),
    ...out,
  };
}

export interface CanaryIngress {
  ingress: Ingress;
  canary: CanarySettings;
  policy: PolicySettings;
}

/** Resolves a backend reference of an Ingress to a backend id (and reports its problems). */
export type ResolveBackend = (ing: Ingress, ref: BackendRef, serviceUpstream: boolean) => string;

/**
 * Attaches each canary path to the main route with the same host, path and pathType. `canaries` in
 * age order (oldest first): the first canary of a route wins, later ones are reported and skipped.
 */
export function attachCanaries(hosts: ReadonlyMap<string, HostModel>, canaries: readonly CanaryIngress[], resolve: ResolveBackend, diags: Diagnostic[]): void {
  for (const { ingress: ing, canary, policy } of canaries) {
    const ingName = `${ing.namespace}/${ing.name}`;
    const where = { file: ing.source.origin?.file, line: ing.source.origin?.line, object: describeObject(ing.source) };
    if (ing.defaultBackend) {
      diags.push({
        code: 'DEFAULT_BACKEND_UNUSED', severity: 'warning',
        message: 'the defaultBackend of a canary Ingress is not used (as in ingress-nginx: a canary only adds alternative backends to existing paths)',
        ...where, field: ing.defaultBackend.field,
      });
    }
    for (const rule of ing.rules) {
      for (const p of rule.paths) {
        const what = `host ${JSON.stringify(rule.host || '*')} path ${JSON.stringify(p.path)} (${p.pathType})`;
        const main = hosts.get(rule.host)?.routes.find((r) => r.path === p.path && r.pathType === p.pathType);
        if (!main) {
          diags.push({
            code: 'CANARY_WITHOUT_MAIN', severity: 'warning',
            message: `${what}: no non-canary Ingress serves this host, path and pathType; this canary path is ignored`,
            ...where, field: `${p.field}.path`,
          });
          continue;
        }
        const taken = main.target.canary;
        if (taken) {
          diags.push({
            code: 'CANARY_CONFLICT', severity: 'warning',
            message: `${what} already has a canary ${taken.ingress === ingName ? 'defined earlier in this Ingress' : `from the older Ingress ${taken.ingress}`} (one canary per path, as in ingress-nginx); this canary path is ignored`,
            ...where, field: `${p.field}.path`,
          });
          continue;
        }
        const backend = resolve(ing, p.backend, policy.serviceUpstream);
        const t: CanaryTarget = { backend, ingress: ingName, ...canary };
        const pol = canaryPolicy(policy, main.target.policy, defaultCookiePath(main.path, main.match));
        if (pol) t.policy = pol;
        // A new target, not a change to the old one: targets are shared between routes (build.ts).
        main.target = { ...main.target, canary: t };
      }
    }
  }
}
