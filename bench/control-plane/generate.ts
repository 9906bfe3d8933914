// Generator for the control-plane scale benchmark (issue 4 item 10): N Ingresses with their Services,
// Endpoints (or EndpointSlices) and, for a tenth of them, kubernetes.io/tls Secrets, spread over many
// files and namespaces. Every Service points at one of a few real local backends, so each route can be
// verified with a request. Deterministic: app i is the same whatever N is (the routing micro-benchmark
// relies on that), and the same seed gives the same files.
//
// As a module: `new Fleet(options)`, `fleet.writeAll()`, then `fleet.addHost(...)` / `fleet.moveEndpoints(...)`
// to change one Ingress or one Endpoints object on disk. As a CLI:
//   node bench/control-plane/generate.ts --count 10000 --out /tmp/manifests --backend-ports 8081,8082

import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import { mulberry32 } from '../../src/util/prng.ts';

export interface Cert {
  crt: string;
  key: string;
}

export interface GenerateOptions {
  /** Number of Ingresses. */
  count: number;
  /** Output directory (created; existing files with the same names are replaced). */
  dir: string;
  /** Backend ports on `backendHost`; app i uses backendPorts[i % length] at first. */
  backendPorts: number[];
  backendHost?: string;
  /** Apps (Ingress + Service + endpoints [+ Secret]) per file. */
  perFile?: number;
  namespaces?: number;
  seed?: number;
  /** Every n-th app gets spec.tls and a Secret (default 10: a tenth). */
  tlsEvery?: number;
  /** Every n-th app publishes its endpoints as an EndpointSlice instead of Endpoints (0: never). */
  sliceEvery?: number;
  /** PEM certificate and key for the TLS Secrets; generated with openssl when absent. */
  cert?: Cert;
}

export type PathType = 'Prefix' | 'Exact';

export interface RulePath {
  path: string;
  pathType: PathType;
}

export interface Rule {
  host: string;
  paths: RulePath[];
}

export interface App {
  index: number;
  namespace: string;
  name: string;
  /** Index of the file the app is written to. */
  file: number;
  className: string | undefined;
  rules: Rule[];
  tls: boolean;
  endpointKind: 'Endpoints' | 'EndpointSlice';
  /** Index into backendPorts the endpoints currently point at. */
  backend: number;
}

/** A request that must reach an app's backend: Host header and path. */
export interface Probe {
  host: string;
  path: string;
}

export interface PendingWrite {
  file: string;
  bytes: number;
  /** Writes the new content (atomically: temporary file + rename). */
  write(): void;
}

export const INGRESS_CLASS = 'archway';
export const CONTROLLER_NAME = 'archway.dev/ingress-controller';

const PREFIX_PATHS = ['/', '/api', '/api/v1', '/static', '/app', '/v2/items', '/login', '/assets/img'];
const EXACT_PATHS = ['/healthz', '/api/status', '/metrics', '/favicon.ico', '/.well-known/openid-configuration'];

/** Deterministic per (seed, app index). */
const rng = mulberry32;

function pick<T>(r: () => number, list: readonly T[]): T {
  return list[Math.floor(r() * list.length)];
}

/** 1-4 distinct paths, about one in four Exact. */
function paths(r: () => number): RulePath[] {
  const n = 1 + Math.floor(r() * 4);
  const out: RulePath[] = [];
  const seen = new Set<string>();
  while (out.length < n) {
    const exact = r() < 0.25;
    const path = exact ? pick(r, EXACT_PATHS) : pick(r, PREFIX_PATHS);
    if (seen.has(path)) continue;
    seen.add(path);
    out.push({ path, pathType: exact ? 'Exact' : 'Prefix' });
  }
  return out;
}

/** The deterministic description of app `i` (independent of the fleet size). */
export function makeApp(i: number, opts: { perFile: number; namespaces: number; seed: number; tlsEvery: number; sliceEvery: number; backends: number }): App {
  const r = rng((opts.seed * 2654435761 + i * 40503) >>> 0);
  const file = Math.floor(i / opts.perFile);
  const namespace = `team-${String(file % opts.namespaces).padStart(2, '0')}`;
  const name = `app-${i}`;
  const hostCount = 1 + Math.floor(r() * 3);
  const rules: Rule[] = [];
  for (let h = 0; h < hostCount; h++) {
    // The first host is always precise (the probe); later ones are wildcards one time in five.
    const wildcard = h > 0 && r() < 0.2;
    const host = wildcard ? `*.${name}.wild.bench.test` : h === 0 ? `${name}.bench.test` : `${name}-h${h}.bench.test`;
    if (rules.some((x) => x.host === host)) continue;
    rules.push({ host, paths: paths(r) });
  }
  return {
    index: i,
    namespace,
    name,
    file,
    className: r() < 0.5 ? INGRESS_CLASS : undefined,
    rules,
    tls: opts.tlsEvery > 0 && i % opts.tlsEvery === 0,
    endpointKind: opts.sliceEvery > 0 && i % opts.sliceEvery === opts.sliceEvery - 1 ? 'EndpointSlice' : 'Endpoints',
    backend: i % opts.backends,
  };
}

/** A request path that one rule path serves (Prefix: a sub-path; Exact: the path itself). */
export function requestPathFor(p: RulePath): string {
  if (p.pathType === 'Exact') return p.path;
  return p.path === '/' ? '/bench' : `${p.path}/bench`;
}

/** A request host for a rule host (a wildcard gets one label in front). */
export function requestHostFor(host: string): string {
  return host.startsWith('*.') ? `x${host.slice(1)}` : host;
}

/** The request that reaches app `a` through its first rule and first path. */
export function probeOf(a: App): Probe {
  const r = a.rules[0];
  return { host: requestHostFor(r.host), path: requestPathFor(r.paths[0]) };
}

/** One self-signed certificate and key (`openssl req -x509`), made once per run and reused by every Secret. */
export function selfSignedCert(): Cert {
  const dir = mkdtempSync(join(tmpdir(), 'archway-cert-'));
  try {
    const key = join(dir, 'tls.key');
    const crt = join(dir, 'tls.crt');
    const res = spawnSync('openssl', [
      'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', crt, '-days', '2',
      '-subj', '/CN=bench.test', '-addext', 'subjectAltName=DNS:*.bench.test',
    ], { encoding: 'utf8', timeout: 30_000 });
    if (res.status !== 0) throw new Error(`openssl req -x509 failed: ${res.error?.message ?? res.stderr}`);
    return { crt: readFileSync(crt, 'utf8'), key: readFileSync(key, 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Writes through a temporary dot-file and a rename, as editors and `kubectl`-style tools do: never a half file. */
export function writeAtomic(file: string, text: string): void {
  const tmp = join(dirname(file), `.${process.pid}.tmp`);
  writeFileSync(tmp, text);
  renameSync(tmp, file);
}

export class Fleet {
  readonly count: number;
  readonly dir: string;
  readonly perFile: number;
  readonly namespaces: number;
  readonly backendPorts: number[];
  readonly backendHost: string;
  readonly apps: App[] = [];
  readonly cert: Cert;
  /** Files written by the last writeAll(), by index. */
  readonly files: string[] = [];
  /** Rendered YAML per app, dropped when the app changes: rewriting one file re-renders one app. */
  #text = new Map<number, string>();

  constructor(o: GenerateOptions) {
    if (!Number.isInteger(o.count) || o.count < 1) throw new Error(`count must be a positive integer, not ${o.count}`);
    if (o.backendPorts.length === 0) throw new Error('at least one backend port is needed');
    this.count = o.count;
    this.dir = o.dir;
    this.perFile = o.perFile ?? 100;
    this.namespaces = o.namespaces ?? 10;
    this.backendPorts = o.backendPorts;
    this.backendHost = o.backendHost ?? '127.0.0.1';
    const shape = { perFile: this.perFile, namespaces: this.namespaces, seed: o.seed ?? 1, tlsEvery: o.tlsEvery ?? 10, sliceEvery: o.sliceEvery ?? 5, backends: o.backendPorts.length };
    for (let i = 0; i < o.count; i++) this.apps.push(makeApp(i, shape));
    this.cert = o.cert ?? (this.apps.some((a) => a.tls) ? selfSignedCert() : { crt: '', key: '' });
  }

  get fileCount(): number {
    return Math.ceil(this.count / this.perFile);
  }

  fileName(k: number): string {
    return join(this.dir, `team-${String(k % this.namespaces).padStart(2, '0')}`, `apps-${String(k).padStart(4, '0')}.yaml`);
  }

  /** Writes every file; returns the number of bytes written. */
  writeAll(): number {
    mkdirSync(this.dir, { recursive: true });
    let bytes = 0;
    const common = this.commonText();
    writeFileSync(join(this.dir, 'cluster.yaml'), common);
    bytes += common.length;
    this.files.length = 0;
    for (let k = 0; k < this.fileCount; k++) {
      const f = this.fileName(k);
      mkdirSync(dirname(f), { recursive: true });
      const text = this.renderFile(k);
      writeFileSync(f, text);
      this.files.push(f);
      bytes += Buffer.byteLength(text);
    }
    return bytes;
  }

  /** Cluster-scoped objects: the IngressClass and the namespaces. */
  commonText(): string {
    const docs: unknown[] = [{
      apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass',
      metadata: { name: INGRESS_CLASS },
      spec: { controller: CONTROLLER_NAME },
    }];
    for (let n = 0; n < Math.min(this.namespaces, this.fileCount); n++) {
      docs.push({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: `team-${String(n).padStart(2, '0')}` } });
    }
    return docs.map((d) => stringify(d)).join('---\n');
  }

  renderFile(k: number): string {
    const docs: unknown[] = [];
    const end = Math.min(this.count, (k + 1) * this.perFile);
    for (let i = k * this.perFile; i < end; i++) {
      let t = this.#text.get(i);
      if (t === undefined) {
        t = this.objectsOf(this.apps[i]).map((d) => stringify(d, { lineWidth: 0, aliasDuplicateObjects: false })).join('---\n');
        this.#text.set(i, t);
      }
      docs.push(t);
    }
    return `# generated by bench/control-plane/generate.ts: apps ${k * this.perFile}..${end - 1}\n${docs.join('---\n')}`;
  }

  /** The Kubernetes objects of one app. */
  objectsOf(a: App): unknown[] {
    const backend = { service: { name: a.name, port: { name: 'http' } } };
    const spec: Record<string, unknown> = {};
    if (a.className) spec.ingressClassName = a.className;
    if (a.tls) {
      // The one certificate of the run covers *.bench.test: the precise hosts (wildcard rule hosts are
      // one label deeper and are left out, as a real certificate for them would be another Secret).
      spec.tls = [{ hosts: a.rules.map((r) => r.host).filter((h) => !h.startsWith('*.')), secretName: `${a.name}-tls` }];
    }
    spec.rules = a.rules.map((r) => ({
      host: r.host,
      http: { paths: r.paths.map((p) => ({ path: p.path, pathType: p.pathType, backend })) },
    }));
    const labels = { app: a.name, 'app.kubernetes.io/part-of': 'archway-bench' };
    const port = this.backendPorts[a.backend];
    const out: unknown[] = [
      { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: a.name, namespace: a.namespace, labels }, spec },
      {
        apiVersion: 'v1', kind: 'Service', metadata: { name: a.name, namespace: a.namespace, labels },
        spec: { selector: { app: a.name }, ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 'http' }] },
      },
    ];
    if (a.endpointKind === 'Endpoints') {
      out.push({
        apiVersion: 'v1', kind: 'Endpoints', metadata: { name: a.name, namespace: a.namespace, labels },
        subsets: [{ addresses: [{ ip: this.backendHost }], ports: [{ name: 'http', port, protocol: 'TCP' }] }],
      });
    } else {
      out.push({
        apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
        metadata: { name: `${a.name}-abcde`, namespace: a.namespace, labels: { ...labels, 'kubernetes.io/service-name': a.name } },
        addressType: 'IPv4',
        endpoints: [{ addresses: [this.backendHost], conditions: { ready: true } }],
        ports: [{ name: 'http', port, protocol: 'TCP' }],
      });
    }
    if (a.tls) {
      out.push({
        apiVersion: 'v1', kind: 'Secret', type: 'kubernetes.io/tls', metadata: { name: `${a.name}-tls`, namespace: a.namespace, labels },
        data: { 'tls.crt': Buffer.from(this.cert.crt).toString('base64'), 'tls.key': Buffer.from(this.cert.key).toString('base64') },
      });
    }
    return out;
  }

  /**
   * Adds a rule (host, one Prefix path) to app i's Ingress; returns the write to perform (the rendering
   * happens here, so a caller timing the change can start its clock just before `write()`).
   */
  addHost(i: number, host: string, path = '/'): PendingWrite {
    const a = this.apps[i];
    a.rules.push({ host, paths: [{ path, pathType: 'Prefix' }] });
    this.#text.delete(i);
    return this.rewrite(a.file);
  }

  /** Points app i's endpoints at another backend (Endpoints/EndpointSlice only: the fast lane). */
  moveEndpoints(i: number, backend: number): PendingWrite {
    this.apps[i].backend = backend;
    this.#text.delete(i);
    return this.rewrite(this.apps[i].file);
  }

  rewrite(k: number): PendingWrite {
    const file = this.fileName(k);
    const text = this.renderFile(k);
    return { file, bytes: Buffer.byteLength(text), write: () => writeAtomic(file, text) };
  }

  /** Mix of what was generated, for the report. */
  summary(): Record<string, number> {
    let hosts = 0, wildcards = 0, paths = 0, exact = 0, tls = 0, slices = 0, classed = 0;
    for (const a of this.apps) {
      hosts += a.rules.length;
      for (const r of a.rules) {
        if (r.host.startsWith('*.')) wildcards++;
        paths += r.paths.length;
        exact += r.paths.filter((p) => p.pathType === 'Exact').length;
      }
      if (a.tls) tls++;
      if (a.endpointKind === 'EndpointSlice') slices++;
      if (a.className) classed++;
    }
    return { ingresses: this.count, files: this.fileCount + 1, namespaces: Math.min(this.namespaces, this.fileCount), hosts, wildcardHosts: wildcards, paths, exactPaths: exact, tlsSecrets: tls, endpointSlices: slices, withIngressClassName: classed };
  }
}

const CLI_USAGE = `Usage: node bench/control-plane/generate.ts --count N --out DIR [flags]

Writes N Ingresses with their Services, Endpoints/EndpointSlices and (one in ten) TLS Secrets.

  --count N              number of Ingresses (required)
  --out DIR              output directory (required)
  --backend-ports LIST   comma-separated backend ports on 127.0.0.1 (default 8081)
  --per-file N           apps per file (default 100)
  --namespaces N         namespaces (default 10)
  --seed N               seed (default 1)
`;

function cli(argv: string[]): number {
  let v;
  try {
    ({ values: v } = parseArgs({
      args: argv,
      options: {
        count: { type: 'string' }, out: { type: 'string' }, 'backend-ports': { type: 'string', default: '8081' },
        'per-file': { type: 'string', default: '100' }, namespaces: { type: 'string', default: '10' }, seed: { type: 'string', default: '1' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n\n${CLI_USAGE}`);
    return 2;
  }
  if (v.help) {
    process.stdout.write(CLI_USAGE);
    return 0;
  }
  const count = Number(v.count);
  const ports = (v['backend-ports'] ?? '').split(',').map(Number);
  if (!v.out || !Number.isInteger(count) || count < 1 || ports.some((p) => !Number.isInteger(p) || p < 1 || p > 65535)) {
    process.stderr.write(CLI_USAGE);
    return 2;
  }
  const t0 = performance.now();
  const fleet = new Fleet({ count, dir: v.out, backendPorts: ports, perFile: Number(v['per-file']), namespaces: Number(v.namespaces), seed: Number(v.seed) });
  const bytes = fleet.writeAll();
  process.stdout.write(`${JSON.stringify({ dir: v.out, bytes, ms: Math.round(performance.now() - t0), ...fleet.summary(), probe: probeOf(fleet.apps[0]) })}\n`);
  return 0;
}

if (import.meta.main) process.exitCode = cli(process.argv.slice(2));
