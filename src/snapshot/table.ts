// The routing table: immutable, plain data (JSON-serialisable), built once per configuration and
// shipped as-is to every data-plane worker (ARCHITECTURE.md "snapshot/"). No Kubernetes types here.

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

export type LoadBalancePolicy = 'round_robin' | 'least_request' | 'ewma' | 'random';

export interface AffinityCookie {
  /** session-cookie-name (default INGRESSCOOKIE). */
  name: string;
  /** session-cookie-path (default: the rule path, or '/' for regex paths). */
  path: string;
  /** session-cookie-max-age, seconds. */
  maxAge?: number;
  /** session-cookie-expires, seconds from now. */
  expires?: number;
  sameSite?: 'Strict' | 'Lax' | 'None';
  secure: boolean;
  /** balanced: a session key consistently hashed to an endpoint; persistent: the cookie names the endpoint. */
  mode: 'balanced' | 'persistent';
}

export type NextUpstreamCondition = 'error' | 'timeout' | 'http_502' | 'http_503' | 'http_504' | 'non_idempotent';

export interface UpstreamPolicy {
  /** load-balance (overrides --load-balance). */
  loadBalance?: LoadBalancePolicy;
  /** upstream-hash-by: a template of `$request_uri`, `$remote_addr`, `$host`, `$http_<name>`, `$cookie_<name>` and text. */
  hashBy?: string;
  /** affinity: cookie. */
  affinity?: AffinityCookie;
  connectTimeoutMs?: number;
  readTimeoutMs?: number;
  sendTimeoutMs?: number;
  /** proxy-body-size in bytes; 0 = unlimited. */
  bodySizeLimit?: number;
  /** upstream-vhost: the Host header sent upstream. */
  upstreamVhost?: string;
  /** backend-protocol. */
  backendProtocol?: 'HTTP' | 'HTTPS';
  /** proxy-ssl-verify (HTTPS backends). */
  sslVerify?: boolean;
  /** CA bundle (PEM) from proxy-ssl-secret's ca.crt, for verifying HTTPS backends. */
  sslCa?: string;
  /** proxy-ssl-name / the SNI and name to verify; default the Service's DNS name or the Host. */
  sslName?: string;
  /** proxy-next-upstream and proxy-next-upstream-tries. */
  nextUpstream?: { conditions: NextUpstreamCondition[]; tries: number };
}

export interface CanaryAction {
  backend: string;
  ingress: string;
  policy?: UpstreamPolicy;
  /** canary-by-header: the header name ("always" / "never" unless byHeaderValue/Pattern is set). */
  byHeader?: string;
  byHeaderValue?: string;
  /** RE2 pattern matched against the header value. */
  byHeaderPattern?: string;
  /** canary-by-cookie: the cookie name ("always" / "never"). */
  byCookie?: string;
  /** canary-weight of canary-weight-total (default 100); 0 = never by weight. */
  weight: number;
  weightTotal: number;
}

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
