// The routing table: immutable, plain data (JSON-serialisable), built once per configuration and
// shipped as-is to every data-plane worker (ARCHITECTURE.md "snapshot/"). No Kubernetes types here.

import type { RoutePolicy as UpstreamPolicy } from '../model/upstream-policy.ts';
import type { CanaryTarget as CanaryAction } from '../model/canary.ts';

export interface RouteAction {
  /** Backend id, key of `RoutingTable.backends`. */
  backend: string;
  /** `namespace/name` of the Ingress that produced the route ('' for the controller default). */
  ingress: string;
  /** rewrite-target: anchored case-insensitive RE2 pattern replaced whole by `target` ($1..$n filled). */
  rewrite?: { pattern: string; target: string };
  /** x-forwarded-prefix annotation. */
  forwardedPrefix?: string;
  /** Plain HTTP requests answer 308 to https. */
  redirectHttps?: boolean;
  /** Per-Ingress upstream settings (ingress-nginx annotations); absent: controller defaults. Issue 6. */
  policy?: UpstreamPolicy;
  /** A canary Ingress for the same host and path (ingress-nginx canary annotations). Issue 6 item 4. */
  canary?: CanaryAction;
}

// The upstream-policy and canary shapes are defined once, where the model builds them; the table
// carries them as they are (plain data).
export type { LoadBalance as LoadBalancePolicy, AffinityCookie, NextUpstreamCondition, RoutePolicy as UpstreamPolicy } from '../model/upstream-policy.ts';
export type { CanaryTarget as CanaryAction } from '../model/canary.ts';

export interface PathEntry {
  match: 'prefix' | 'regex';
  /** For prefix: the rule path without trailing slash ('/' stays '/'). For regex: the pattern source. */
  value: string;
  /** Length of the rule path as written: the precedence key. */
  length: number;
  action: RouteAction;
}

export interface HostTable {
  /** Exact paths (byte-for-byte). */
  exact: Record<string, RouteAction>;
  /** Prefix and regex candidates in precedence order (longest first, prefix before regex). */
  ordered: PathEntry[];
  /** When no path matched: the host's Ingress default backend, else the catch-all / controller default; null: 404. */
  fallback: RouteAction | null;
  /** app-root: `GET /` answers 302 to this path. */
  appRoot: string | null;
}

export interface EndpointAddress {
  address: string;
  port: number;
}

export interface BackendTable {
  /** `namespace/name` of the Service ('' for non-Service backends). */
  service: string;
  port: string;
  /** Ready endpoints; empty means 503. */
  endpoints: EndpointAddress[];
  /** Why the backend cannot serve (stable code), if it cannot. */
  problem: string | null;
}

export interface RoutingTable {
  /** Content hash of everything below: equal hashes mean identical behaviour. */
  hash: string;
  /** Precise hosts, lowercase. */
  hosts: Record<string, HostTable>;
  /** Wildcard hosts by the suffix after `*.` (e.g. `foo.com` for `*.foo.com`). */
  wildcards: Record<string, HostTable>;
  /** Rules without host. */
  hostless: HostTable | null;
  /** No host entry matched: the catch-all default backend, else the controller default; null: 404. */
  defaultAction: RouteAction | null;
  backends: Record<string, BackendTable>;
  tls: TlsTable;
}

export interface TlsTable {
  /** PEM material by id (`namespace/secret@content-hash`). */
  certificates: Record<string, { cert: string; key: string }>;
  /** SNI name -> certificate id ('' = the default certificate). */
  hosts: Record<string, string>;
  /** Wildcard SNI by suffix after `*.` -> certificate id. */
  wildcards: Record<string, string>;
  /** --default-ssl-certificate; null: the self-signed certificate generated at start. */
  defaultCertificate: string | null;
}
