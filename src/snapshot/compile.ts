// compile(model) -> routing table: plain, sorted, hashed data (ARCHITECTURE.md "snapshot/").

import { createHash } from 'node:crypto';
import type { HostModel, Model, RouteTarget } from '../model/build.ts';
import { pathPatternSource } from '../model/regex.ts';
import type { ResolvedBackend } from '../model/services.ts';
import type { BackendTable, HostTable, PathEntry, RouteAction, RoutingTable, TlsTable } from './table.ts';

export function compile(model: Model): RoutingTable {
  const controllerDefault = model.controllerDefault ? action(model.controllerDefault) : null;
  const catchAll = model.catchAll ? action(model.catchAll) : null;
  const defaultAction = catchAll ?? controllerDefault;

  const hosts: Record<string, HostTable> = {};
  const wildcards: Record<string, HostTable> = {};
  let hostless: HostTable | null = null;
  for (const h of model.hosts) {
    if (h.host === '') hostless = hostTable(h, defaultAction);
    else if (h.host.startsWith('*.')) wildcards[h.host.slice(2)] = hostTable(h, controllerDefault);
    else hosts[h.host] = hostTable(h, controllerDefault);
  }

  const backends: Record<string, BackendTable> = {};
  for (const id of [...model.backends.keys()].sort()) backends[id] = toBackendTable(model.backends.get(id)!);

  return withHash({ hosts, wildcards, hostless, defaultAction, backends, tls: tlsTable(model) });
}

/** The table with its content hash, fields in one canonical order (so the endpoint fast lane hashes alike). */
export function withHash(t: Omit<RoutingTable, 'hash'>): RoutingTable {
  const body = { hosts: t.hosts, wildcards: t.wildcards, hostless: t.hostless, defaultAction: t.defaultAction, backends: t.backends, tls: t.tls };
  return { hash: hashOf(body), ...body };
}

/** Hash of a canonical JSON form; the compile step inserts keys in sorted order, so JSON.stringify is canonical. */
export function hashOf(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('hex').slice(0, 16);
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

export function toBackendTable(b: ResolvedBackend): BackendTable {
  return { service: b.service, port: b.port, endpoints: b.endpoints.map((e) => ({ address: e.address, port: e.port })), problem: b.problem?.code ?? null };
}

function hostTable(h: HostModel, outerFallback: RouteAction | null): HostTable {
  const exact: Record<string, RouteAction> = {};
  const ordered: PathEntry[] = [];
  for (const r of h.routes) {
    if (r.match === 'exact') {
      exact[r.path] ??= action(r.target);
    } else if (r.match === 'prefix') {
      // ImplementationSpecific without regex uses Prefix semantics; an empty path means '/'.
      const path = r.path === '' ? '/' : r.path;
      const value = path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
      ordered.push({ match: 'prefix', value, length: r.path.length, action: action(r.target) });
    } else {
      ordered.push({ match: 'regex', value: pathPatternSource(r.path), length: r.path.length, action: action(r.target) });
    }
  }
  return { exact: sortedRecord(exact), ordered, fallback: h.fallback ? action(h.fallback) : outerFallback, appRoot: h.appRoot ?? null };
}

function action(t: RouteTarget): RouteAction {
  const a: RouteAction = { backend: t.backend, ingress: t.ingress };
  if (t.rewrite) a.rewrite = { pattern: t.rewrite.pattern, target: t.rewrite.target };
  if (t.forwardedPrefix) a.forwardedPrefix = t.forwardedPrefix;
  if (t.redirectHttps) a.redirectHttps = true;
  return a;
}

function sortedRecord<T>(r: Record<string, T>): Record<string, T> {
  const out: Record<string, T> = {};
  for (const k of Object.keys(r).sort()) out[k] = r[k];
  return out;
}
