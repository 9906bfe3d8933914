// Per-route upstream policy at run time: the table's plain UpstreamPolicy (ingress-nginx annotations)
// compiled once per route, merged with the controller defaults, plus endpoint selection, affinity
// cookies and canary decisions (issue 6). Routes without annotations share one default policy.

import { randomBytes } from 'node:crypto';
import { compileUserRegex, type UserRegex } from '../model/regex.ts';
import type { CanaryAction, LoadBalancePolicy, UpstreamPolicy } from '../snapshot/table.ts';
import type { BackendGroup, Endpoint } from './backends.ts';
import type { ForwardContext } from './forward-headers.ts';
import type { RequestHead } from './http1/request-head.ts';

export interface PolicyDefaults {
  loadBalance: LoadBalancePolicy;
  connectTimeoutMs: number;
  readTimeoutMs: number;
  sendTimeoutMs: number;
  /** --proxy-body-size; 0 = unlimited. */
  bodySizeLimit: number;
  /** --retry-body-limit: request bodies up to this size are held so a failed attempt can be retried. */
  retryBodyLimit: number;
}

export interface UpstreamTls {
  servername: string;
  rejectUnauthorized: boolean;
  ca: string | undefined;
  /** Pool key suffix: connections with different TLS settings are never shared. */
  poolKey: string;
}

export interface RuntimePolicy {
  lb: LoadBalancePolicy;
  hashKey: ((req: RequestHead, ctx: ForwardContext) => string) | null;
  affinity: { name: string; mode: 'balanced' | 'persistent'; attributes: string } | null;
  connectTimeoutMs: number;
  readTimeoutMs: number;
  sendTimeoutMs: number;
  bodySizeLimit: number;
  upstreamVhost: string | null;
  tls: UpstreamTls | null;
  retryOnError: boolean;
  retryOnTimeout: boolean;
  retryStatuses: readonly number[];
  retryNonIdempotent: boolean;
  /** Total attempts allowed (proxy-next-upstream-tries). */
  tries: number;
}

const DEFAULT_TRIES = 3;

export function defaultPolicy(d: PolicyDefaults): RuntimePolicy {
  return {
    lb: d.loadBalance, hashKey: null, affinity: null,
    connectTimeoutMs: d.connectTimeoutMs, readTimeoutMs: d.readTimeoutMs, sendTimeoutMs: d.sendTimeoutMs,
    bodySizeLimit: d.bodySizeLimit, upstreamVhost: null, tls: null,
    retryOnError: true, retryOnTimeout: true, retryStatuses: [], retryNonIdempotent: false, tries: DEFAULT_TRIES,
  };
}

export function compilePolicy(p: UpstreamPolicy, d: PolicyDefaults): RuntimePolicy {
  const out = defaultPolicy(d);
  if (p.loadBalance) out.lb = p.loadBalance;
  if (p.hashBy) out.hashKey = compileHashKey(p.hashBy);
  if (p.affinity) {
    const a = p.affinity;
    let attrs = `; Path=${a.path}`;
    if (a.maxAge !== undefined) attrs += `; Max-Age=${a.maxAge}`;
    if (a.sameSite) attrs += `; SameSite=${a.sameSite}`;
    if (a.secure || a.sameSite === 'None') attrs += '; Secure';
    attrs += '; HttpOnly';
    out.affinity = { name: a.name, mode: a.mode, attributes: attrs };
    if (a.expires !== undefined) out.affinity.attributes += `; Expires=__EXPIRES_${a.expires}__`;
  }
  if (p.connectTimeoutMs !== undefined) out.connectTimeoutMs = p.connectTimeoutMs;
  if (p.readTimeoutMs !== undefined) out.readTimeoutMs = p.readTimeoutMs;
  if (p.sendTimeoutMs !== undefined) out.sendTimeoutMs = p.sendTimeoutMs;
  if (p.bodySizeLimit !== undefined) out.bodySizeLimit = p.bodySizeLimit;
  if (p.upstreamVhost) out.upstreamVhost = p.upstreamVhost;
  if (p.backendProtocol === 'HTTPS') {
    const verify = p.sslVerify === true;
    out.tls = { servername: p.sslName ?? '', rejectUnauthorized: verify, ca: p.sslCa, poolKey: `tls:${p.sslName ?? ''}:${verify ? 1 : 0}:${p.sslCa ? p.sslCa.length : 0}` };
  }
  if (p.nextUpstream) {
    const c = p.nextUpstream.conditions;
    out.retryOnError = c.includes('error');
    out.retryOnTimeout = c.includes('timeout');
    out.retryStatuses = [502, 503, 504].filter((s) => c.includes(`http_${s}` as 'http_502'));
    out.retryNonIdempotent = c.includes('non_idempotent');
    out.tries = Math.max(1, p.nextUpstream.tries);
  }
  return out;
}

/**
 * `${request_uri}`, `${remote_addr}`, `${host}`, `${http_<name>}`, `${cookie_<name>}` and literal text: the
 * model stores upstream-hash-by in this braced form (a bare `$name` is accepted too).
 */
export function compileHashKey(template: string): (req: RequestHead, ctx: ForwardContext) => string {
  const parts: Array<string | ((req: RequestHead, ctx: ForwardContext) => string)> = [];
  const re = /\$(?:\{(request_uri|remote_addr|host|http_[a-z0-9_]+|cookie_[A-Za-z0-9_\-.]+)\}|(request_uri|remote_addr|host|http_[a-z0-9_]+|cookie_[A-Za-z0-9_\-.]+))/g;
  let last = 0;
  for (let m = re.exec(template); m !== null; m = re.exec(template)) {
    if (m.index > last) parts.push(template.slice(last, m.index));
    const v = m[1] ?? m[2];
    if (v === 'request_uri') parts.push((r) => r.path + r.query);
    else if (v === 'remote_addr') parts.push((_r, c) => c.clientIp);
    else if (v === 'host') parts.push((r) => r.host);
    else if (v.startsWith('http_')) {
      const name = v.slice(5).replace(/_/g, '-');
      parts.push((r) => headerValue(r, name) ?? '');
    } else {
      const name = v.slice(7);
      parts.push((r) => cookieValue(r, name) ?? '');
    }
    last = m.index + m[0].length;
  }
  if (last < template.length) parts.push(template.slice(last));
  return (req, ctx) => {
    let s = '';
    for (const p of parts) s += typeof p === 'string' ? p : p(req, ctx);
    return s;
  };
}

/** First value of a request header (name lowercase). */
export function headerValue(req: RequestHead, name: string): string | undefined {
  const h = req.headers;
  for (let i = 0; i < h.length; i += 2) if (h[i].length === name.length && h[i].toLowerCase() === name) return h[i + 1];
  return undefined;
}

/** A cookie's value from the request's Cookie headers (RFC 6265 §5.4 syntax). */
export function cookieValue(req: RequestHead, name: string): string | undefined {
  const h = req.headers;
  for (let i = 0; i < h.length; i += 2) {
    if (h[i].length !== 6 || h[i].toLowerCase() !== 'cookie') continue;
    for (const pair of h[i + 1].split(';')) {
      const eq = pair.indexOf('=');
      if (eq > 0 && pair.slice(0, eq).trim() === name) return pair.slice(eq + 1).trim();
    }
  }
  return undefined;
}

export interface Selection {
  endpoint: Endpoint;
  /** A Set-Cookie header line ('' for none) when affinity assigned a new endpoint. */
  setCookie: string;
}

/** Picks the endpoint for an attempt: affinity cookie, then hash key, then the balancing policy. */
export function selectEndpoint(group: BackendGroup, policy: RuntimePolicy, req: RequestHead, ctx: ForwardContext, now: number, exclude: Endpoint | null): Selection | null {
  const aff = policy.affinity;
  if (aff !== null && exclude !== null) {
    // A retry after the pinned endpoint failed: pin the client to where it goes now (sticky.lua does).
    const e = group.pick(policy.lb, now, exclude);
    if (e === null) return null;
    if (aff.mode === 'persistent') return { endpoint: e, setCookie: setCookie(aff, e.cookie, now) };
    for (let i = 0; i < 16; i++) {
      const session = randomBytes(8).toString('hex');
      const h = group.pickByHash(session, now);
      if (h !== null && h !== exclude) return { endpoint: h, setCookie: setCookie(aff, session, now) };
    }
    return { endpoint: e, setCookie: '' };
  }
  if (aff !== null) {
    const v = cookieValue(req, aff.name);
    if (aff.mode === 'persistent') {
      const e = v === undefined ? undefined : group.byCookie(v);
      if (e !== undefined && e.ejectedUntil <= now) return { endpoint: e, setCookie: '' };
      const chosen = policy.hashKey ? group.pickByHash(policy.hashKey(req, ctx), now) : group.pick(policy.lb, now);
      return chosen === null ? null : { endpoint: chosen, setCookie: setCookie(aff, chosen.cookie, now) };
    }
    // balanced: the cookie is a session key, consistently hashed over the current endpoints.
    if (v !== undefined && /^[0-9a-f]{16,64}$/.test(v)) {
      const e = group.pickByHash(v, now);
      return e === null ? null : { endpoint: e, setCookie: '' };
    }
    const session = randomBytes(8).toString('hex');
    const e = group.pickByHash(session, now);
    return e === null ? null : { endpoint: e, setCookie: setCookie(aff, session, now) };
  }
  const e = policy.hashKey !== null && exclude === null ? group.pickByHash(policy.hashKey(req, ctx), now) : group.pick(policy.lb, now, exclude);
  return e === null ? null : { endpoint: e, setCookie: '' };
}

function setCookie(aff: NonNullable<RuntimePolicy['affinity']>, value: string, now: number): string {
  const attrs = aff.attributes.replace(/__EXPIRES_(\d+)__/, (_m, s: string) => new Date(now + Number(s) * 1000).toUTCString());
  return `Set-Cookie: ${aff.name}=${value}${attrs}\r\n`;
}

const canaryPatterns = new WeakMap<CanaryAction, UserRegex | null>();

/** ingress-nginx's precedence: header (always/never/value/pattern), then cookie (always/never), then weight. */
export function useCanary(c: CanaryAction, req: RequestHead): boolean {
  if (c.byHeader !== undefined) {
    const v = headerValue(req, c.byHeader.toLowerCase());
    if (v !== undefined) {
      if (c.byHeaderValue !== undefined) {
        if (v === c.byHeaderValue) return true;
      } else if (c.byHeaderPattern !== undefined) {
        let re = canaryPatterns.get(c);
        if (re === undefined) {
          // ingress-nginx matches canary-by-header-pattern case-sensitively.
          const compiled = compileUserRegex(c.byHeaderPattern, false);
          re = typeof compiled === 'string' ? null : compiled;
          canaryPatterns.set(c, re);
        }
        if (re !== null && re.test(v)) return true;
      } else if (v === 'always') return true;
      else if (v === 'never') return false;
    }
  }
  if (c.byCookie !== undefined) {
    const v = cookieValue(req, c.byCookie);
    if (v === 'always') return true;
    if (v === 'never') return false;
  }
  return c.weight > 0 && Math.random() * c.weightTotal < c.weight;
}

/** Methods that may be sent again after a failure (RFC 9110 §9.2.2). */
export function isIdempotent(method: string): boolean {
  return method === 'GET' || method === 'HEAD' || method === 'OPTIONS' || method === 'TRACE' || method === 'PUT' || method === 'DELETE';
}
