// `archway serve` flags: the stable contract of issue 2 item 2, and their typed form.

import { isIP } from 'node:net';
import { availableParallelism } from 'node:os';
import { formatFlagHelp, parseFlags, UsageError, type FlagSpec } from './flags.ts';
import type { DefaultBackendService } from '../model/build.ts';
import { TrustedProxies } from '../dataplane/trust.ts';
import type { LoadBalancePolicy } from '../snapshot/table.ts';
import { WORKER_ISOLATIONS, type WorkerIsolation } from '../workers/worker-link.ts';

export const SERVE_FLAGS: FlagSpec[] = [
  { name: 'manifests', kind: 'string', repeatable: true, metavar: 'PATH', help: 'manifest file or directory (read recursively: .yaml, .yml, .json)' },
  { name: 'http-port', kind: 'port', default: 8080, help: 'plain HTTP listener port' },
  { name: 'https-port', kind: 'port', default: 8443, help: 'HTTPS listener port' },
  { name: 'admin-port', kind: 'port', default: 10254, help: 'admin listener port (/healthz, /readyz, state as JSON)' },
  { name: 'bind', kind: 'string', default: '0.0.0.0', metavar: 'ADDRESS', help: 'address of the HTTP and HTTPS listeners' },
  { name: 'admin-bind', kind: 'string', default: '127.0.0.1', metavar: 'ADDRESS', help: 'address of the admin listener' },
  { name: 'ingress-class', kind: 'string', default: 'archway', metavar: 'NAME', help: 'value of the kubernetes.io/ingress.class annotation served' },
  { name: 'controller-name', kind: 'string', default: 'archway.dev/ingress-controller', metavar: 'NAME', help: 'spec.controller of the IngressClasses served' },
  { name: 'watch-ingress-without-class', kind: 'bool', default: true, help: 'serve Ingresses that name no class' },
  { name: 'default-backend-service', kind: 'string', metavar: 'NS/NAME[:PORT]', help: 'Service answering requests no rule matches (instead of 404)' },
  { name: 'trusted-proxies', kind: 'list', default: [], metavar: 'CIDR,...', help: 'peers whose X-Forwarded-* and X-Real-IP headers are trusted' },
  { name: 'proxy-connect-timeout', kind: 'duration', default: 5000, help: 'upstream connect timeout (504 when exceeded)' },
  { name: 'proxy-read-timeout', kind: 'duration', default: 60_000, help: 'upstream inactivity timeout while a request is in flight (504)' },
  { name: 'proxy-send-timeout', kind: 'duration', default: 60_000, help: 'upstream write inactivity timeout while sending a request body' },
  { name: 'load-balance', kind: 'string', default: 'round_robin', metavar: 'POLICY', help: 'round_robin, least_request, ewma or random (per Ingress: nginx.ingress.kubernetes.io/load-balance)' },
  { name: 'proxy-body-size', kind: 'size', default: 0, help: 'largest request body (413 beyond); 0 = unlimited, since bodies are streamed, not buffered' },
  { name: 'retry-body-limit', kind: 'size', default: 65536, help: 'request bodies up to this size are held so a failed attempt can be retried on another endpoint' },
  { name: 'max-header-size', kind: 'size', default: 16384, help: 'largest request head accepted (431 beyond)' },
  { name: 'keepalive-timeout', kind: 'duration', default: 75_000, help: 'idle client keep-alive connections are closed after this' },
  { name: 'default-ssl-certificate', kind: 'string', metavar: 'NS/NAME', help: 'kubernetes.io/tls Secret served when no spec.tls entry matches the SNI name (default: a self-signed certificate made at start)' },
  { name: 'https-redirect-port', kind: 'port', metavar: 'PORT', help: 'port in https:// redirect locations (default: --https-port; 443 is left out)' },
  { name: 'hsts', kind: 'bool', default: true, help: 'add Strict-Transport-Security to HTTPS responses' },
  { name: 'hsts-max-age', kind: 'int', default: 31536000, help: 'max-age of Strict-Transport-Security, seconds' },
  { name: 'hsts-include-subdomains', kind: 'bool', default: true, help: 'includeSubDomains in Strict-Transport-Security' },
  { name: 'publish-status-address', kind: 'list', default: [], metavar: 'ADDR,...', help: 'IPs or hostnames published in status.loadBalancer.ingress (default: the bind address; for a wildcard bind the primary non-loopback address)' },
  { name: 'shutdown-grace-period', kind: 'duration', default: 30_000, help: 'on SIGTERM/SIGINT, time in-flight requests get to finish' },
  { name: 'workers', kind: 'string', default: 'auto', metavar: 'N|auto', help: 'data-plane workers sharing the listeners (auto: one per CPU; 0: serve from the controller thread itself)' },
  { name: 'worker-isolation', kind: 'string', default: 'thread', metavar: 'thread|process', help: 'workers as threads of one process (less memory), or as processes (a native crash takes one worker, not the instance)' },
];

export interface ServeConfig {
  manifests: string[];
  httpPort: number;
  httpsPort: number;
  adminPort: number;
  bind: string;
  adminBind: string;
  ingressClass: string;
  controllerName: string;
  watchWithoutClass: boolean;
  defaultBackendService: DefaultBackendService | undefined;
  trustedProxies: string[];
  connectTimeoutMs: number;
  readTimeoutMs: number;
  sendTimeoutMs: number;
  loadBalance: LoadBalancePolicy;
  bodySizeLimit: number;
  retryBodyLimit: number;
  maxHeaderSize: number;
  keepAliveTimeoutMs: number;
  publishStatusAddresses: string[];
  defaultSslCertificate: { namespace: string; name: string } | undefined;
  httpsRedirectPort: number;
  /** Strict-Transport-Security value, '' when off. */
  hsts: string;
  shutdownGraceMs: number;
  /** Data-plane workers; 0 runs the data plane on the controller's own thread. */
  workers: number;
  workerIsolation: WorkerIsolation;
}

export function serveUsage(): string {
  return `Usage: archway serve --manifests PATH [flags]

Serve the Ingresses found in Kubernetes manifest files.

Flags:
${formatFlagHelp(SERVE_FLAGS)}
`;
}

export function parseServeArgs(argv: readonly string[]): ServeConfig {
  const { values: v, positionals } = parseFlags(argv, SERVE_FLAGS);
  if (positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`);
  const manifests = (v.manifests as string[] | undefined) ?? [];
  if (manifests.length === 0) throw new UsageError('--manifests is required: a file or directory of Kubernetes manifests');
  for (const flag of ['bind', 'admin-bind']) {
    if (isIP(v[flag] as string) === 0 && v[flag] !== 'localhost') throw new UsageError(`--${flag}: ${JSON.stringify(v[flag])} is not an IP address`);
  }
  const trustedProxies = v['trusted-proxies'] as string[];
  try {
    new TrustedProxies(trustedProxies);
  } catch (e) {
    throw new UsageError(`--trusted-proxies: ${(e as Error).message}`);
  }
  const maxHeaderSize = v['max-header-size'] as number;
  if (maxHeaderSize < 1024 || maxHeaderSize > 1024 * 1024) throw new UsageError('--max-header-size must be between 1k and 1m');
  return {
    manifests,
    httpPort: v['http-port'] as number,
    httpsPort: v['https-port'] as number,
    adminPort: v['admin-port'] as number,
    bind: v.bind as string,
    adminBind: v['admin-bind'] as string,
    ingressClass: v['ingress-class'] as string,
    controllerName: v['controller-name'] as string,
    watchWithoutClass: v['watch-ingress-without-class'] as boolean,
    defaultBackendService: parseServiceRef(v['default-backend-service'] as string | undefined),
    trustedProxies,
    connectTimeoutMs: v['proxy-connect-timeout'] as number,
    readTimeoutMs: v['proxy-read-timeout'] as number,
    sendTimeoutMs: v['proxy-send-timeout'] as number,
    loadBalance: parseLoadBalance(v['load-balance'] as string),
    bodySizeLimit: v['proxy-body-size'] as number,
    retryBodyLimit: v['retry-body-limit'] as number,
    maxHeaderSize,
    keepAliveTimeoutMs: v['keepalive-timeout'] as number,
    workers: parseWorkers(v.workers as string),
    workerIsolation: parseIsolation(v['worker-isolation'] as string),
    publishStatusAddresses: publishAddresses(v['publish-status-address'] as string[]),
    shutdownGraceMs: v['shutdown-grace-period'] as number,
    defaultSslCertificate: parseSecretRef(v['default-ssl-certificate'] as string | undefined),
    // 0: the port the HTTPS listener actually bound (the data plane fills it in).
    httpsRedirectPort: (v['https-redirect-port'] as number | undefined) ?? (v['https-port'] as number),
    hsts: v.hsts ? `max-age=${v['hsts-max-age'] as number}${v['hsts-include-subdomains'] ? '; includeSubDomains' : ''}` : '',
  };
}

/** `NAMESPACE/NAME[:PORT]`, PORT a number or a port name. */
export function parseServiceRef(s: string | undefined): DefaultBackendService | undefined {
  if (s === undefined) return undefined;
  const m = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?)\/([a-z0-9]([-a-z0-9.]*[a-z0-9])?)(?::([a-z0-9-]+))?$/.exec(s);
  if (!m) throw new UsageError(`--default-backend-service: ${JSON.stringify(s)} is not NAMESPACE/NAME[:PORT]`);
  const port = m[5];
  if (port !== undefined && /^\d+$/.test(port) && (Number(port) < 1 || Number(port) > 65535)) {
    throw new UsageError(`--default-backend-service: port ${port} is not 1-65535`);
  }
  return { namespace: m[1], name: m[3], port: port === undefined ? undefined : /^\d+$/.test(port) ? Number(port) : port };
}

export function parseWorkers(s: string): number {
  if (s === 'auto') return availableParallelism();
  if (!/^\d+$/.test(s) || Number(s) > 256) throw new UsageError(`--workers: ${JSON.stringify(s)} is not a number of workers (0-256) or auto`);
  return Number(s);
}

function parseIsolation(s: string): WorkerIsolation {
  const found = WORKER_ISOLATIONS.find((i) => i === s);
  if (!found) throw new UsageError(`--worker-isolation: ${JSON.stringify(s)} is not one of ${WORKER_ISOLATIONS.join(', ')}`);
  return found;
}

function publishAddresses(list: string[]): string[] {
  for (const a of list) {
    if (isIP(a) === 0 && !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/.test(a)) {
      throw new UsageError(`--publish-status-address: ${JSON.stringify(a)} is neither an IP address nor a DNS name`);
    }
  }
  return list;
}

function parseSecretRef(s: string | undefined): { namespace: string; name: string } | undefined {
  if (s === undefined) return undefined;
  const m = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?)\/([a-z0-9]([-a-z0-9.]*[a-z0-9])?)$/.exec(s);
  if (!m) throw new UsageError(`--default-ssl-certificate: ${JSON.stringify(s)} is not NAMESPACE/NAME`);
  return { namespace: m[1], name: m[3] };
}

const POLICIES: readonly LoadBalancePolicy[] = ['round_robin', 'least_request', 'ewma', 'random'];

function parseLoadBalance(s: string): LoadBalancePolicy {
  if (!(POLICIES as readonly string[]).includes(s)) throw new UsageError(`--load-balance: ${JSON.stringify(s)} is not one of ${POLICIES.join(', ')}`);
  return s as LoadBalancePolicy;
}
