// Archway as a contender: the manifests it serves, its command line (or an override), and
// git worktrees for benchmarking another revision.

import { execFileSync } from 'node:child_process';
import {
  closeSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { Proc } from './processes.ts';

// ---- manifests ------------------------------------------------------------------------------

export interface ManifestTls {
  cert: string;
  key: string;
  host: string;
  secret: { namespace: string; name: string };
}

/**
 * Service bench/backend (port 80 "http" -> targetPort 8080), Endpoints bench/backend
 * (127.0.0.1:backendPort "http") and a host-less Ingress, path / Prefix -> backend:80.
 * With `tls`: a kubernetes.io/tls Secret and a second Ingress, bench/backend-tls, with a rule for
 * the TLS host (same backend) and a spec.tls entry naming the Secret for that host. The TLS host
 * is an Ingress of its own so the plain scenarios (Host 127.0.0.1:PORT, the host-less rule) are
 * untouched by it (a TLS host answers plain HTTP with a 308). One object per file.
 */
export function writeManifests(dir: string, backendPort: number, tls?: ManifestTls): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'service.yaml'),
    `apiVersion: v1
kind: Service
metadata:
  name: backend
  namespace: bench
spec:
  ports:
    - name: http
      port: 80
      targetPort: 8080
      protocol: TCP
`,
  );
  writeFileSync(
    join(dir, 'endpoints.yaml'),
    `apiVersion: v1
kind: Endpoints
metadata:
  name: backend
  namespace: bench
subsets:
  - addresses:
      - ip: 127.0.0.1
    ports:
      - name: http
        port: ${backendPort}
        protocol: TCP
`,
  );
  writeFileSync(
    join(dir, 'ingress.yaml'),
    `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: backend
  namespace: bench
spec:
  rules:
    - http:
        paths:
          - path: /
            pathType: Prefix
            backend:
              service:
                name: backend
                port:
                  number: 80
`,
  );
  if (tls === undefined) return;
  const b64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64');
  writeFileSync(
    join(dir, 'tls-secret.yaml'),
    `apiVersion: v1
kind: Secret
metadata:
  name: ${tls.secret.name}
  namespace: ${tls.secret.namespace}
type: kubernetes.io/tls
data:
  tls.crt: ${b64(tls.cert)}
  tls.key: ${b64(tls.key)}
`,
    { mode: 0o600 },
  );
  writeFileSync(
    join(dir, 'tls-ingress.yaml'),
    `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: backend-tls
  namespace: ${tls.secret.namespace}
spec:
  tls:
    - hosts:
        - ${tls.host}
      secretName: ${tls.secret.name}
  rules:
    - host: ${tls.host}
      http:
        paths:
          - path: /
            pathType: Prefix
            backend:
              service:
                name: backend
                port:
                  number: 80
`,
  );
}

// ---- command line ---------------------------------------------------------------------------

export const DEFAULT_ARCHWAY_CMD = 'node {tree}/bin/archway.js';

export interface Placeholders {
  tree: string;
  manifests: string;
  httpPort: number | string;
  httpsPort: number | string;
  adminPort: number | string;
  backendPort: number;
}

/** What `serve --help` of the tree under test offers (older revisions may lack some). */
export interface ServeFeatures {
  workers: boolean;
  httpsPort: boolean;
  /** Passed as --default-ssl-certificate NS/NAME when the flag exists. */
  defaultSslCertificate: boolean;
}

export interface ArchwayCommand {
  file: string;
  args: string[];
  /** False when the template places the ports itself: readiness is then the HTTP port only. */
  hasAdmin: boolean;
  /** Whether the HTTPS listener is on `httpsPort` (flag supported, or {httpsPort} in the template). */
  hasHttps: boolean;
}

/** Split a command string on whitespace, honouring '...' and "..." quoting. */
export function splitCommand(text: string): string[] {
  const words: string[] = [];
  const pattern = /"([^"]*)"|'([^']*)'|(\S+)/g;
  let current = '';
  let lastEnd = -1;
  for (const match of text.matchAll(pattern)) {
    const piece = match[1] ?? match[2] ?? match[3] ?? '';
    if (match.index === lastEnd) current += piece; // adjacent pieces form one word: a"b c"
    else {
      if (lastEnd !== -1) words.push(current);
      current = piece;
    }
    lastEnd = match.index + match[0].length;
  }
  if (lastEnd !== -1) words.push(current);
  return words;
}

function substitute(word: string, values: Placeholders): string {
  return word.replace(/\{(tree|manifests|httpPort|httpsPort|adminPort|backendPort)\}/g, (_, key: keyof Placeholders) =>
    String(values[key]),
  );
}

/** Template words; a leading `node` means the Node running this harness (the pinned one). */
function templateWords(template: string): string[] {
  const words = splitCommand(template);
  if (words.length === 0) throw new Error('empty --archway-cmd');
  if (words[0] === 'node') words[0] = process.execPath;
  return words;
}

/**
 * The command for one start. Without {httpPort} in the template, the fixed `serve` contract
 * is appended: serve --manifests M --http-port P --admin-port A --bind 127.0.0.1
 * --admin-bind 127.0.0.1, then, when `serve --help` offers them, --https-port H,
 * --default-ssl-certificate NS/NAME (`defaultCertificate`) and --workers 1.
 */
export function archwayCommand(
  template: string,
  values: Placeholders,
  features: ServeFeatures,
  defaultCertificate: string | undefined,
): ArchwayCommand {
  const words = templateWords(template).map((word) => substitute(word, values));
  const placesPorts = template.includes('{httpPort}');
  if (!placesPorts) {
    words.push(
      'serve',
      '--manifests', values.manifests,
      '--http-port', String(values.httpPort),
      '--admin-port', String(values.adminPort),
      '--bind', '127.0.0.1',
      '--admin-bind', '127.0.0.1',
    );
    // Always a fresh HTTPS port when supported: the default (8443) may be taken on a shared host.
    if (features.httpsPort) words.push('--https-port', String(values.httpsPort));
    if (features.defaultSslCertificate && defaultCertificate !== undefined) {
      words.push('--default-ssl-certificate', defaultCertificate);
    }
    if (features.workers) words.push('--workers', '1');
  }
  return {
    file: words[0]!,
    args: words.slice(1),
    hasAdmin: !placesPorts || template.includes('{adminPort}'),
    hasHttps: placesPorts ? template.includes('{httpsPort}') : features.httpsPort,
  };
}

/**
 * The flags `<cmd> serve --help` mentions (--workers, --https-port, --default-ssl-certificate).
 * Bounded to 15 s; none on any failure. Runs as its own process group, so a command that forks
 * is stopped as a whole. A template that places the ports itself gets nothing appended.
 * `scratchDir` (the run's temporary directory) holds the help text while it is read.
 */
export async function serveFeatures(template: string, tree: string, scratchDir: string): Promise<ServeFeatures> {
  const none: ServeFeatures = { workers: false, httpsPort: false, defaultSslCertificate: false };
  if (template.includes('{httpPort}')) return none;
  const values: Placeholders = { tree, manifests: '', httpPort: 0, httpsPort: 0, adminPort: 0, backendPort: 0 };
  const words = templateWords(template).map((word) => substitute(word, values));
  // stdout to a file, not the 8 KiB output tail: the whole help text, however long it grows.
  const dir = mkdtempSync(join(scratchDir, 'help-'));
  try {
    const file = join(dir, 'help.txt');
    const fd = openSync(file, 'w');
    let proc: Proc;
    try {
      proc = new Proc('help', words[0]!, [...words.slice(1), 'serve', '--help'], { cwd: tree, stdoutFd: fd });
    } finally {
      closeSync(fd);
    }
    const timer = setTimeout(() => void proc.stop(500), 15_000);
    await proc.exited;
    clearTimeout(timer);
    await proc.stop(500); // anything it left behind in its group
    const help = `${readFileSync(file, 'utf8')}${proc.stderrTail()}`;
    return {
      workers: /--workers\b/.test(help),
      httpsPort: /--https-port\b/.test(help),
      defaultSslCertificate: /--default-ssl-certificate\b/.test(help),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---- git ------------------------------------------------------------------------------------

function git(repo: string, args: readonly string[]): string {
  return execFileSync('git', ['-C', repo, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

export function repoRoot(dir: string): string {
  return git(dir, ['rev-parse', '--show-toplevel']);
}

export interface GitInfo {
  commit: string;
  dirty: boolean;
}

export function gitInfo(repo: string): GitInfo {
  try {
    return { commit: git(repo, ['rev-parse', 'HEAD']), dirty: git(repo, ['status', '--porcelain']) !== '' };
  } catch {
    return { commit: 'unknown', dirty: false };
  }
}

export function resolveRevision(repo: string, rev: string): string {
  try {
    return git(repo, ['rev-parse', '--verify', '--end-of-options', `${rev}^{commit}`]);
  } catch {
    throw new Error(`--against: unknown git revision ${JSON.stringify(rev)}`);
  }
}

export interface Worktree {
  path: string;
  commit: string;
  remove(): void;
}

/** `git worktree add --detach` at `path`, with the repo's node_modules symlinked in. */
export function addWorktree(repo: string, commit: string, path: string): Worktree {
  git(repo, ['worktree', 'add', '--detach', path, commit]);
  const modules = join(repo, 'node_modules');
  if (existsSync(modules) && !existsSync(join(path, 'node_modules'))) {
    symlinkSync(modules, join(path, 'node_modules'), 'dir');
  }
  let removed = false;
  return {
    path,
    commit,
    remove(): void {
      if (removed) return;
      removed = true;
      // Drop the symlink first, so nothing below can ever walk into the shared node_modules.
      try {
        if (lstatSync(join(path, 'node_modules')).isSymbolicLink()) unlinkSync(join(path, 'node_modules'));
      } catch {
        // not there
      }
      try {
        git(repo, ['worktree', 'remove', '--force', path]);
      } catch {
        rmSync(path, { recursive: true, force: true });
        try {
          git(repo, ['worktree', 'prune']);
        } catch {
          // nothing more to do
        }
      }
    },
  };
}
