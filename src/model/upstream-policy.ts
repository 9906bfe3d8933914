// Per-Ingress upstream settings from ingress-nginx annotations (issue 6): load balancing, consistent
// hashing, cookie affinity, timeouts, body size, upstream Host, HTTPS to the backend, retries and
// service-upstream. Every value becomes a typed setting (ARCHITECTURE.md rule 1); an invalid value is
// a warning and that annotation alone is ignored, never the Ingress. Names, formats and defaults are
// ingress-nginx's (its annotations page and annotation parsers).

import { isIP } from 'node:net';
import type { Diagnostic } from './diagnostics.ts';
import type { Ingress } from './ingress.ts';
import type { ObjectView } from './objects.ts';
import { annotationWarner, NGINX_PREFIX } from './annotations.ts';
import { readCaSecret } from './tls.ts';
import { isDns1123Label, isDns1123Subdomain } from './validation.ts';

export type LoadBalance = 'round_robin' | 'least_request' | 'ewma' | 'random';
export type NextUpstreamCondition = 'error' | 'timeout' | 'http_502' | 'http_503' | 'http_504' | 'non_idempotent';

/** The affinity cookie of a route (same shape as the routing table's AffinityCookie). */
export interface AffinityCookie {
  name: string;
  path: string;
  maxAge?: number;
  expires?: number;
  sameSite?: 'Strict' | 'Lax' | 'None';
  secure: boolean;
  mode: 'balanced' | 'persistent';
}

/** The upstream policy of one route (same shape as the routing table's UpstreamPolicy); only set fields. */
export interface RoutePolicy {
  loadBalance?: LoadBalance;
  /** Canonical template: literal text and `${request_uri}`, `${remote_addr}`, `${host}`, `${http_<name>}`, `${cookie_<Name>}`. */
  hashBy?: string;
  affinity?: AffinityCookie;
  connectTimeoutMs?: number;
  readTimeoutMs?: number;
  sendTimeoutMs?: number;
  bodySizeLimit?: number;
  upstreamVhost?: string;
  backendProtocol?: 'HTTP' | 'HTTPS';
  sslVerify?: boolean;
  sslCa?: string;
  sslName?: string;
  nextUpstream?: { conditions: NextUpstreamCondition[]; tries: number };
}

/** An Ingress's upstream settings before they meet a path (the cookie path defaults to the rule path). */
export interface PolicySettings extends Omit<RoutePolicy, 'affinity'> {
  affinity?: Omit<AffinityCookie, 'path'> & { path?: string };
  /** service-upstream: "true": proxy to the Service's cluster IP instead of its endpoints. */
  serviceUpstream: boolean;
}

/** A parser's answer: the typed value, or why the text is not acceptable. */
export type Parsed<T> = { value: T } | { problem: string };

const ok = <T>(value: T): Parsed<T> => ({ value });
const bad = <T>(problem: string): Parsed<T> => ({ problem });

// --- parsers (pure; exported for the unit tests) ---------------------------------------------------

const LOAD_BALANCE: readonly LoadBalance[] = ['round_robin', 'least_request', 'ewma', 'random'];

export function parseLoadBalance(v: string): Parsed<LoadBalance> {
  if ((LOAD_BALANCE as readonly string[]).includes(v)) return ok(v as LoadBalance);
  const hint = v === 'least_conn' ? ' ("least_conn" is not an ingress-nginx policy either; "least_request" is the closest)' : '';
  return bad(`must be one of ${LOAD_BALANCE.join(', ')}${hint}`);
}

export const MAX_HASH_TEMPLATE = 256;

/**
 * upstream-hash-by: nginx variables (`$name` or `${name}`) and literal text. Variables: `request_uri`,
 * `remote_addr`, `host`, `http_<header>` (header name with `_` for `-`) and `cookie_<name>`. Returns the
 * canonical template: every variable braced, built-in and header names lowercase (nginx variable names
 * are case-insensitive), cookie names as written; `$` appears nowhere else.
 */
export function parseHashBy(v: string): Parsed<string> {
  if (v === '') return bad('must not be empty');
  if (v.length > MAX_HASH_TEMPLATE) return bad(`must be at most ${MAX_HASH_TEMPLATE} characters`);
  if (!/^[\x20-\x7e]*$/.test(v)) return bad('may only contain printable ASCII characters');
  let out = '';
  let vars = 0;
  const re = /\$(?:\{([A-Za-z0-9_]*)\}|([A-Za-z0-9_]*))/y;
  for (let i = 0; i < v.length; ) {
    const c = v[i];
    if (c !== '$') {
      out += c;
      i++;
      continue;
    }
    re.lastIndex = i;
    const m = re.exec(v);
    const name = m?.[1] ?? m?.[2] ?? '';
    if (!m || name === '') return bad(`"$" at position ${i + 1} does not start a variable name ($name or \${name})`);
    const canonical = canonicalVariable(name);
    if (canonical === undefined) {
      return bad(`unknown variable $${name} (Archway supports $request_uri, $remote_addr, $host, $http_<header> and $cookie_<name>)`);
    }
    out += `\${${canonical}}`;
    vars++;
    i = re.lastIndex;
  }
  if (vars === 0) return bad('contains no variable: every request would hash to the same endpoint');
  return ok(out);
}

function canonicalVariable(name: string): string | undefined {
  const lower = name.toLowerCase();
  if (lower === 'request_uri' || lower === 'remote_addr' || lower === 'host') return lower;
  if (/^http_[a-z0-9_]+$/.test(lower)) return lower;
  if (/^cookie_[a-z0-9_]+$/.test(lower)) return `cookie_${name.slice(7)}`;
  return undefined;
}

/** Longest timeout: Node timers hold at most 2^31-1 ms (longer ones fire after 1 ms). */
export const MAX_TIMEOUT_SECONDS = Math.floor(0x7fffffff / 1000);

/** proxy-*-timeout: whole seconds, as ingress-nginx reads them (no unit); returned in milliseconds. */
export function parseTimeoutSeconds(v: string): Parsed<number> {
  if (!/^\d+$/.test(v)) return bad(`must be a whole number of seconds without unit (e.g. "60")${/^\d+s$/.test(v) ? ` — write ${JSON.stringify(v.slice(0, -1))}` : ''}`);
  const n = Number(v);
  if (n < 1 || n > MAX_TIMEOUT_SECONDS) return bad(`must be between 1 and ${MAX_TIMEOUT_SECONDS} seconds`);
  return ok(n * 1000);
}

const SIZE_UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

/** proxy-body-size: nginx size syntax (bytes, or k / m / g suffix in either case); 0 = unlimited. */
export function parseSize(v: string): Parsed<number> {
  const m = /^(\d+)([kKmMgG]?)$/.exec(v);
  if (!m) return bad('must be a size in nginx syntax: bytes, or a number with k, m or g (e.g. "8m"); "0" for unlimited');
  const n = Number(m[1]) * SIZE_UNITS[m[2].toLowerCase()];
  if (!Number.isSafeInteger(n)) return bad('is too large');
  return ok(n);
}

/** upstream-vhost: a host name or IP address, optionally with a port: the Host header sent upstream. */
export function parseHostPort(v: string): Parsed<string> {
  const m = /^(\[[0-9A-Fa-f:.]+\]|[^:[\]]+)(?::(\d{1,5}))?$/.exec(v);
  const problem = 'must be a host name or IP address with an optional port (e.g. "api.internal" or "10.0.0.1:8080")';
  if (!m) return bad(problem);
  const host = m[1].toLowerCase();
  const hostOk = host.startsWith('[') ? isIP(host.slice(1, -1)) === 6 : isIP(host) === 4 || isDns1123Subdomain(host);
  if (!hostOk) return bad(problem);
  if (m[2] !== undefined) {
    const port = Number(m[2]);
    if (port < 1 || port > 65535) return bad('port must be between 1 and 65535');
    return ok(`${host}:${port}`);
  }
  return ok(host);
}

/** proxy-ssl-name: the DNS name sent as SNI and verified in the backend's certificate. */
export function parseServerName(v: string): Parsed<string> {
  const name = v.toLowerCase();
  return isDns1123Subdomain(name) ? ok(name) : bad('must be a DNS name (e.g. "backend.internal")');
}

/** "true" / "false", as ingress-nginx's boolean annotations. */
export function parseBool(v: string): Parsed<boolean> {
  return v === 'true' || v === 'false' ? ok(v === 'true') : bad('must be "true" or "false"');
}

/** proxy-ssl-verify: "on" / "off" as in ingress-nginx; "true" / "false" accepted too. */
export function parseOnOff(v: string): Parsed<boolean> {
  if (v === 'on' || v === 'true') return ok(true);
  if (v === 'off' || v === 'false') return ok(false);
  return bad('must be "on" or "off"');
}

const UNSUPPORTED_PROTOCOLS = ['GRPC', 'GRPCS', 'AJP', 'FCGI', 'AUTO_HTTP'];

/** backend-protocol: HTTP or HTTPS (case-insensitive, as ingress-nginx); its other protocols are not supported. */
export function parseBackendProtocol(v: string): Parsed<'HTTP' | 'HTTPS'> {
  const u = v.toUpperCase();
  if (u === 'HTTP' || u === 'HTTPS') return ok(u);
  if (UNSUPPORTED_PROTOCOLS.includes(u)) return bad(`${u} backends are not supported (Archway speaks HTTP and HTTPS to backends)`);
  return bad('must be HTTP or HTTPS');
}

// RFC 9110 token: header and cookie names.
const TOKEN_RE = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

export function parseToken(v: string): Parsed<string> {
  return TOKEN_RE.test(v) && v.length <= 256 ? ok(v) : bad('must be a token (letters, digits and !#$%&\'*+-.^_`|~, no spaces or separators)');
}

// Characters a cookie Path attribute may carry here: an absolute path without ';', spaces or controls.
const COOKIE_PATH_RE = /^\/[A-Za-z0-9\-._~/%!$&'()*+,=:@]*$/;

export function parseCookiePath(v: string): Parsed<string> {
  return COOKIE_PATH_RE.test(v) && v.length <= 1024 ? ok(v) : bad('must be an absolute path of A-Z a-z 0-9 - . _ ~ / % ! $ & \' ( ) * + , = : @');
}

/** Largest cookie lifetime accepted (int32, about 68 years). */
export const MAX_COOKIE_SECONDS = 0x7fffffff;

/** session-cookie-max-age / -expires: whole seconds. */
export function parseCookieSeconds(v: string): Parsed<number> {
  if (!/^\d+$/.test(v)) return bad('must be a whole number of seconds');
  const n = Number(v);
  return n <= MAX_COOKIE_SECONDS ? ok(n) : bad(`must be at most ${MAX_COOKIE_SECONDS} seconds`);
}

/** session-cookie-samesite: Strict, Lax or None (case-insensitive, written canonically). */
export function parseSameSite(v: string): Parsed<'Strict' | 'Lax' | 'None'> {
  const c = v.charAt(0).toUpperCase() + v.slice(1).toLowerCase();
  return c === 'Strict' || c === 'Lax' || c === 'None' ? ok(c) : bad('must be Strict, Lax or None');
}

export function parseAffinityMode(v: string): Parsed<'balanced' | 'persistent'> {
  return v === 'balanced' || v === 'persistent' ? ok(v) : bad('must be "balanced" or "persistent"');
}

const NEXT_UPSTREAM: readonly NextUpstreamCondition[] = ['error', 'timeout', 'http_502', 'http_503', 'http_504', 'non_idempotent'];
/** ingress-nginx accepts these; Archway does not retry on them. */
const NEXT_UPSTREAM_UNSUPPORTED = ['invalid_header', 'http_500', 'http_403', 'http_404', 'http_429'];
/** ingress-nginx's default proxy-next-upstream (ConfigMap), used when only the tries are given. */
export const DEFAULT_NEXT_UPSTREAM: readonly NextUpstreamCondition[] = ['error', 'timeout'];

/**
 * proxy-next-upstream: space-separated conditions. `off` alone: no retries. Conditions ingress-nginx
 * knows but Archway does not retry on are listed in `unsupported` (the rest applies).
 */
export function parseNextUpstream(v: string): Parsed<{ conditions: NextUpstreamCondition[]; unsupported: string[] }> {
  const words = v.split(/\s+/).filter((w) => w !== '');
  if (words.length === 0) return bad(`must list conditions among ${[...NEXT_UPSTREAM, 'off'].join(' ')}`);
  const unknown = words.filter((w) => w !== 'off' && !(NEXT_UPSTREAM as readonly string[]).includes(w) && !NEXT_UPSTREAM_UNSUPPORTED.includes(w));
  if (unknown.length > 0) return bad(`unknown condition ${JSON.stringify(unknown[0])} (known: ${[...NEXT_UPSTREAM, 'off'].join(' ')})`);
  if (words.includes('off')) {
    return words.every((w) => w === 'off') ? ok({ conditions: [], unsupported: [] }) : bad('"off" cannot be combined with other conditions');
  }
  const conditions = NEXT_UPSTREAM.filter((c) => words.includes(c));
  const unsupported = NEXT_UPSTREAM_UNSUPPORTED.filter((c) => words.includes(c));
  return ok({ conditions, unsupported });
}

/** proxy-next-upstream-tries 0 (nginx: unlimited) becomes this; the data plane stops at the endpoints anyway. */
export const UNLIMITED_TRIES = 1000;
export const DEFAULT_TRIES = 3;

/** proxy-next-upstream-tries: total attempts, a whole number; 0 = unlimited. */
export function parseTries(v: string): Parsed<number> {
  if (!/^\d+$/.test(v)) return bad('must be a whole number (0 = unlimited)');
  const n = Number(v);
  if (n > UNLIMITED_TRIES) return bad(`must be at most ${UNLIMITED_TRIES} (0 = unlimited)`);
  return ok(n === 0 ? UNLIMITED_TRIES : n);
}

/** proxy-ssl-secret: `namespace/name`, in the Ingress's own namespace (ingress-nginx refuses others). */
export function parseSecretRef(v: string, ingressNamespace: string): Parsed<{ namespace: string; name: string }> {
  const m = /^([^/]+)\/([^/]+)$/.exec(v);
  if (!m || !isDns1123Label(m[1]) || !isDns1123Subdomain(m[2])) return bad('must be "namespace/secretName"');
  if (m[1] !== ingressNamespace) return bad(`Secrets of other namespaces cannot be used (the Ingress is in ${JSON.stringify(ingressNamespace)})`);
  return ok({ namespace: m[1], name: m[2] });
}

// --- reading an Ingress -----------------------------------------------------------------------

/** Annotations a canary Ingress takes from itself (ingress-nginx: the upstream ones); the rest comes from the main Ingress. */
const CANARY_OWN = new Set(['load-balance', 'upstream-hash-by', 'affinity', 'affinity-mode', 'session-cookie-name', 'session-cookie-path',
  'session-cookie-max-age', 'session-cookie-expires', 'session-cookie-samesite', 'session-cookie-secure', 'service-upstream']);

/** Route annotations that have no effect on a canary Ingress (the main Ingress's values apply). */
const CANARY_INHERITED = ['proxy-connect-timeout', 'proxy-read-timeout', 'proxy-send-timeout', 'proxy-body-size', 'upstream-vhost',
  'backend-protocol', 'proxy-ssl-verify', 'proxy-ssl-secret', 'proxy-ssl-name', 'proxy-next-upstream', 'proxy-next-upstream-tries',
  'rewrite-target', 'use-regex', 'app-root', 'x-forwarded-prefix', 'ssl-redirect', 'force-ssl-redirect'];

/** A reader of `nginx.ingress.kubernetes.io/<name>`: the parsed value, or undefined when absent or invalid (then reported). */
export function annotationReader(a: Record<string, string>, report: (key: string, message: string) => void) {
  return <T>(name: string, parse: (v: string) => Parsed<T>): T | undefined => {
    const key = NGINX_PREFIX + name;
    const v = a[key];
    if (v === undefined) return undefined;
    const r = parse(v);
    if ('problem' in r) {
      report(key, `${JSON.stringify(v)}: ${r.problem}; annotation ignored`);
      return undefined;
    }
    return r.value;
  };
}

/**
 * Reads the upstream annotations of an Ingress. For a canary Ingress only the upstream ones
 * (load-balance, upstream-hash-by, affinity, service-upstream) are read, as in ingress-nginx; the
 * others are reported as having no effect.
 */
export function readPolicy(ing: Ingress, store: ObjectView, diags: Diagnostic[], canary = false): PolicySettings {
  // Pure in the Ingress (memoised per stored object) unless it names a Secret, which lives in the store:
  // read once per Ingress version, so unchanged Ingresses keep the same policy object from build to
  // build (the per-host reuse in build.ts compares them by identity).
  if (ing.annotations[NGINX_PREFIX + 'proxy-ssl-secret'] !== undefined) return readPolicyUncached(ing, store, diags, canary);
  let memo = policyMemo.get(ing);
  if (memo === undefined || memo.canary !== canary) {
    const own: Diagnostic[] = [];
    memo = { canary, policy: readPolicyUncached(ing, store, own, canary), diags: own };
    policyMemo.set(ing, memo);
  }
  for (const d of memo.diags) diags.push(d);
  return memo.policy;
}

const policyMemo = new WeakMap<Ingress, { canary: boolean; policy: PolicySettings; diags: Diagnostic[] }>();

function readPolicyUncached(ing: Ingress, store: ObjectView, diags: Diagnostic[], canary: boolean): PolicySettings {
  const a = ing.annotations;
  const report = annotationWarner(ing, diags);
  const out: PolicySettings = { serviceUpstream: false };

  const readAny = annotationReader(a, report);
  /** The parsed value of annotation `name`, undefined when absent or invalid (then reported). */
  const read = <T>(name: string, parse: (v: string) => Parsed<T>): T | undefined =>
    canary && !CANARY_OWN.has(name) ? undefined : readAny(name, parse);

  if (canary) {
    for (const name of CANARY_INHERITED) {
      const key = NGINX_PREFIX + name;
      if (a[key] !== undefined) report(key, 'has no effect on a canary Ingress: the main Ingress\'s setting applies (as in ingress-nginx)', 'CANARY_ANNOTATION_INHERITED', 'info');
    }
  }

  out.loadBalance = read('load-balance', parseLoadBalance);
  out.hashBy = read('upstream-hash-by', parseHashBy);
  const affinity = read('affinity', (v) => (v === 'cookie' ? ok(v) : bad('only "cookie" affinity exists')));
  if (affinity) {
    // ingress-nginx: an invalid cookie setting falls back to its default; here it is also reported.
    out.affinity = {
      name: read('session-cookie-name', parseToken) ?? 'INGRESSCOOKIE',
      path: read('session-cookie-path', parseCookiePath),
      maxAge: read('session-cookie-max-age', parseCookieSeconds),
      expires: read('session-cookie-expires', parseCookieSeconds),
      sameSite: read('session-cookie-samesite', parseSameSite),
      secure: read('session-cookie-secure', parseBool) ?? false,
      mode: read('affinity-mode', parseAffinityMode) ?? 'balanced',
    };
  }
  out.connectTimeoutMs = read('proxy-connect-timeout', parseTimeoutSeconds);
  out.readTimeoutMs = read('proxy-read-timeout', parseTimeoutSeconds);
  out.sendTimeoutMs = read('proxy-send-timeout', parseTimeoutSeconds);
  out.bodySizeLimit = read('proxy-body-size', parseSize);
  out.upstreamVhost = read('upstream-vhost', parseHostPort);
  out.backendProtocol = read('backend-protocol', parseBackendProtocol);
  out.sslVerify = read('proxy-ssl-verify', parseOnOff);
  out.sslName = read('proxy-ssl-name', parseServerName);
  const secret = read('proxy-ssl-secret', (v) => parseSecretRef(v, ing.namespace));
  if (secret) {
    const ca = readCaSecret(store, secret.namespace, secret.name);
    if ('problem' in ca) report(NGINX_PREFIX + 'proxy-ssl-secret', `${ca.problem}; no CA bundle for the backend (annotation ignored)`);
    else out.sslCa = ca.pem;
  }
  const next = read('proxy-next-upstream', parseNextUpstream);
  if (next && next.unsupported.length > 0) {
    report(NGINX_PREFIX + 'proxy-next-upstream', `${next.unsupported.join(', ')}: not supported by Archway and ignored; the other conditions apply`);
  }
  const tries = read('proxy-next-upstream-tries', parseTries);
  if (next || tries !== undefined) {
    out.nextUpstream = { conditions: next ? next.conditions : [...DEFAULT_NEXT_UPSTREAM], tries: tries ?? DEFAULT_TRIES };
  }
  out.serviceUpstream = read('service-upstream', parseBool) ?? false;
  if (out.affinity) out.affinity = withoutUndefined(out.affinity);
  return withoutUndefined(out);
}

/** The object without its undefined-valued keys (settings compare and print cleanly). */
function withoutUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

// --- per route ----------------------------------------------------------------------------------

/**
 * The affinity cookie's default path for a rule path: the path itself for Exact and Prefix (a
 * Prefix's trailing slash dropped, so `/foo/` covers `/foo` too), `/` for regex paths and fallbacks.
 */
export function defaultCookiePath(path: string | undefined, match: 'exact' | 'prefix' | 'regex' | undefined): string {
  if (path === undefined || match === undefined || match === 'regex' || path === '') return '/';
  const p = match === 'prefix' && path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
  return COOKIE_PATH_RE.test(p) ? p : '/';
}

/**
 * The policy of one route, fields in the routing table's order; undefined when nothing is set (the
 * table of an Ingress without these annotations stays as it was).
 */
export function routePolicy(s: PolicySettings, cookiePath: string): RoutePolicy | undefined {
  const p: RoutePolicy = {};
  if (s.loadBalance !== undefined) p.loadBalance = s.loadBalance;
  if (s.hashBy !== undefined) p.hashBy = s.hashBy;
  if (s.affinity) p.affinity = affinityFor(s.affinity, cookiePath);
  copyRouteFields(s, p);
  return Object.keys(p).length > 0 ? p : undefined;
}

/**
 * A canary's effective policy: load balancing, hashing and affinity from the canary Ingress, every
 * other field from the main route (ingress-nginx: a canary inherits the main Ingress's location
 * settings). The data plane uses it as is when it picks the canary.
 */
export function canaryPolicy(own: PolicySettings, main: RoutePolicy | undefined, cookiePath: string): RoutePolicy | undefined {
  const p: RoutePolicy = {};
  if (own.loadBalance !== undefined) p.loadBalance = own.loadBalance;
  if (own.hashBy !== undefined) p.hashBy = own.hashBy;
  if (own.affinity) p.affinity = affinityFor(own.affinity, cookiePath);
  if (main) copyRouteFields(main, p);
  return Object.keys(p).length > 0 ? p : undefined;
}

/** A copy of a route policy with its fields in the table's order (the table's hash is over JSON text). */
export function orderedRoutePolicy(p: RoutePolicy): RoutePolicy {
  const out: RoutePolicy = {};
  if (p.loadBalance !== undefined) out.loadBalance = p.loadBalance;
  if (p.hashBy !== undefined) out.hashBy = p.hashBy;
  if (p.affinity) out.affinity = affinityFor(p.affinity, p.affinity.path);
  copyRouteFields(p, out);
  return out;
}

function affinityFor(a: NonNullable<PolicySettings['affinity']>, cookiePath: string): AffinityCookie {
  return {
    name: a.name,
    path: a.path ?? cookiePath,
    ...(a.maxAge !== undefined ? { maxAge: a.maxAge } : {}),
    ...(a.expires !== undefined ? { expires: a.expires } : {}),
    ...(a.sameSite !== undefined ? { sameSite: a.sameSite } : {}),
    secure: a.secure,
    mode: a.mode,
  };
}

/** Every field but loadBalance, hashBy and affinity, in table order. */
function copyRouteFields(from: Omit<RoutePolicy, 'affinity'>, to: RoutePolicy): void {
  if (from.connectTimeoutMs !== undefined) to.connectTimeoutMs = from.connectTimeoutMs;
  if (from.readTimeoutMs !== undefined) to.readTimeoutMs = from.readTimeoutMs;
  if (from.sendTimeoutMs !== undefined) to.sendTimeoutMs = from.sendTimeoutMs;
  if (from.bodySizeLimit !== undefined) to.bodySizeLimit = from.bodySizeLimit;
  if (from.upstreamVhost !== undefined) to.upstreamVhost = from.upstreamVhost;
  if (from.backendProtocol !== undefined) to.backendProtocol = from.backendProtocol;
  if (from.sslVerify !== undefined) to.sslVerify = from.sslVerify;
  if (from.sslCa !== undefined) to.sslCa = from.sslCa;
  if (from.sslName !== undefined) to.sslName = from.sslName;
  if (from.nextUpstream !== undefined) to.nextUpstream = { conditions: [...from.nextUpstream.conditions], tries: from.nextUpstream.tries };
}
