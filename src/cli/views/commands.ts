// `archway get` and `archway describe`: kubectl-style views of a running instance, read from its admin
// API (issue 4 item 8). Flags follow kubectl: -n/--namespace, -A/--all-namespaces, -o/--output.

import { stringify } from 'yaml';
import type { IngressDescription } from '../../admin/api.ts';
import { formatFlagHelp, parseFlags, UsageError, type FlagSpec, type FlagValues } from '../flags.ts';
import { apiUrl, CliError, DEFAULT_SERVER, displayServer, getJson, parseServer } from './client.ts';
import { formatDescribe } from './describe.ts';
import { formatEventTable } from './events.ts';
import { formatIngressTable, ingressName } from './get-ingress.ts';

export interface Io {
  out(text: string): void;
  err(text: string): void;
}

export const processIo: Io = {
  out: (t) => void process.stdout.write(t),
  err: (t) => void process.stderr.write(t),
};

const SERVER_FLAG: FlagSpec = { name: 'server', kind: 'string', default: DEFAULT_SERVER, metavar: 'URL', help: 'admin API of the running Archway (its --admin-bind and --admin-port)' };
const NAMESPACE_FLAG: FlagSpec = { name: 'namespace', kind: 'string', default: 'default', metavar: 'NS', help: 'the namespace' };

export const GET_FLAGS: FlagSpec[] = [
  NAMESPACE_FLAG,
  { name: 'all-namespaces', kind: 'bool', help: 'every namespace (a NAMESPACE column first)' },
  { name: 'output', kind: 'string', metavar: 'FORMAT', help: 'wide, json or yaml (default: a table)' },
  SERVER_FLAG,
];

export const DESCRIBE_FLAGS: FlagSpec[] = [NAMESPACE_FLAG, SERVER_FLAG];

const SHORT: Record<string, string> = { '-n': 'namespace', '-o': 'output', '-A': 'all-namespaces' };

/** formatFlagHelp with kubectl's short forms in front: `-n, --namespace NS`. */
function flagHelp(specs: readonly FlagSpec[]): string {
  const shortOf = new Map(Object.entries(SHORT).map(([k, v]) => [v, k]));
  return formatFlagHelp(specs)
    .split('\n')
    .map((line) => {
      const m = /^  --([a-z-]+)/.exec(line);
      const short = m ? shortOf.get(m[1]) : undefined;
      return short ? `  ${short}, ${line.slice(2)}` : `      ${line.slice(2)}`;
    })
    .join('\n');
}

/** kubectl's short flags (`-n NS`, `-nNS`, `-n=NS`, `-A`, `-oyaml`) in the long form parseFlags reads. */
export function expandShortFlags(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      out.push(...argv.slice(i));
      break;
    }
    const m = /^(-[noA])(.*)$/.exec(a);
    if (!m) {
      out.push(a);
      continue;
    }
    const long = SHORT[m[1]];
    if (long === 'all-namespaces') {
      if (m[2] !== '') throw new UsageError(`unknown flag ${a}`);
      out.push('--all-namespaces');
    } else if (m[2] === '') {
      out.push(`--${long}`);
    } else {
      out.push(`--${long}=${m[2].startsWith('=') ? m[2].slice(1) : m[2]}`);
    }
  }
  return out;
}

const INGRESS_NAMES = new Set(['ingress', 'ingresses', 'ing', 'ingress.networking.k8s.io', 'ingresses.networking.k8s.io']);
const EVENT_NAMES = new Set(['event', 'events', 'ev']);

type Resource = 'ingresses' | 'events';

function resourceOf(word: string): Resource | undefined {
  const w = word.toLowerCase();
  return INGRESS_NAMES.has(w) ? 'ingresses' : EVENT_NAMES.has(w) ? 'events' : undefined;
}

/** `ingress web` or `ingress/web`: the resource type and the names after it. */
function splitResource(positionals: string[], command: string): { resource: Resource; names: string[] } {
  if (positionals.length === 0) throw new UsageError(`${command} needs a resource type: ingress${command === 'get' ? ' or events' : ''}`);
  const [first, ...rest] = positionals;
  const slash = first.indexOf('/');
  const type = slash < 0 ? first : first.slice(0, slash);
  const resource = resourceOf(type);
  if (!resource) throw new UsageError(`unknown resource type ${JSON.stringify(type)}: use ingress${command === 'get' ? ' or events' : ''}`);
  const names = slash < 0 ? rest : [first.slice(slash + 1), ...rest];
  for (const n of names) if (n === '' || n.includes('/')) throw new UsageError(`${JSON.stringify(n)} is not a resource name`);
  return { resource, names };
}

interface Common {
  server: URL;
  namespace: string;
  allNamespaces: boolean;
}

function common(v: FlagValues): Common {
  const server = parseServer(v.server as string);
  if (!server) throw new UsageError(`--server: ${JSON.stringify(v.server)} is not an http:// or https:// URL`);
  return { server, namespace: v.namespace as string, allNamespaces: v['all-namespaces'] === true };
}

export function getUsage(): string {
  return `Usage: archway get ingress [NAME...] [-n NS | -A] [-o wide|json|yaml] [--server URL]
       archway get events [-n NS | -A] [-o wide|json|yaml] [--server URL]

List the Ingresses (with their status) or the Events of a running Archway, as kubectl does.
Resource types: ingress (ingresses, ing), events (event, ev).

Flags:
${flagHelp(GET_FLAGS)}
`;
}

export function describeUsage(): string {
  return `Usage: archway describe ingress [NAME...] [-n NS] [--server URL]

Show an Ingress of a running Archway as kubectl describe does: its rules with the resolved backends
and endpoints, TLS, annotations and Events. Without NAME, every Ingress of the namespace.

Flags:
${flagHelp(DESCRIBE_FLAGS)}
`;
}

function notFound(names: string[]): string {
  return names.map((n) => `Error from server (NotFound): ingresses ${JSON.stringify(n)} not found\n`).join('');
}

function noResources(c: Common): string {
  return c.allNamespaces ? 'No resources found\n' : `No resources found in ${c.namespace} namespace.\n`;
}

/** kubectl's -o json / -o yaml: four-space JSON; YAML with sorted keys and unindented sequences. */
export function formatDocument(doc: unknown, format: 'json' | 'yaml'): string {
  return format === 'json' ? `${JSON.stringify(doc, null, 4)}\n` : stringify(doc, { sortMapEntries: true, indentSeq: false, lineWidth: 0 });
}

function asList(v: unknown, path: string, server: URL): unknown[] {
  const items = (v as { items?: unknown } | undefined)?.items;
  if (!Array.isArray(items)) throw new CliError(`the answer of ${apiUrl(server, path).href} has no items: is ${displayServer(server)} an Archway admin listener?`);
  return items;
}

async function fetchList(c: Common, path: string): Promise<unknown[]> {
  const res = await getJson(c.server, path, { namespace: c.allNamespaces ? undefined : c.namespace });
  if (res.status === 404) throw new CliError(`${displayServer(c.server)} does not serve /${path}: is it the admin listener of an Archway with the CLI views?`);
  return asList(res.json, path, c.server);
}

/** Runs a command body; usage errors exit 2, the CLI's own errors exit 1. */
async function run(io: Io, command: string, usage: () => string, body: () => Promise<number>): Promise<number> {
  try {
    return await body();
  } catch (e) {
    if (e instanceof UsageError) {
      io.err(`archway ${command}: ${e.message}\n\n${usage()}`);
      return 2;
    }
    if (e instanceof CliError) {
      io.err(`archway ${command}: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
}

export function runGet(argv: readonly string[], io: Io = processIo, now: () => number = Date.now): Promise<number> {
  return run(io, 'get', getUsage, async () => {
    if (argv.includes('--help') || argv.includes('-h')) {
      io.out(getUsage());
      return 0;
    }
    const { values, positionals } = parseFlags(expandShortFlags(argv), GET_FLAGS);
    const c = common(values);
    const output = values.output as string | undefined;
    if (output !== undefined && !['wide', 'json', 'yaml'].includes(output)) throw new UsageError(`--output: ${JSON.stringify(output)} is not one of wide, json, yaml`);
    const { resource, names } = splitResource(positionals, 'get');
    if (resource === 'events' && names.length > 0) throw new UsageError('get events takes no names; use -n to choose the namespace');

    let items = await fetchList(c, resource === 'ingresses' ? 'api/ingresses' : 'api/events');
    let missing: string[] = [];
    if (names.length > 0) {
      const byName = new Map(items.map((i) => [ingressName(i).name, i]));
      missing = names.filter((n) => !byName.has(n));
      items = [...new Set(names)].filter((n) => byName.has(n)).map((n) => byName.get(n)!);
    }
    if (output === 'json' || output === 'yaml') {
      // One named object prints as itself; anything else as a List (kubectl).
      const doc = names.length === 1 && items.length === 1 ? items[0] : { apiVersion: 'v1', items, kind: 'List', metadata: { resourceVersion: '' } };
      if (names.length === 0 || items.length > 0) io.out(formatDocument(doc, output));
    } else {
      const opts = { allNamespaces: c.allNamespaces, wide: output === 'wide', now: now() };
      const table = resource === 'ingresses' ? formatIngressTable(items, opts) : formatEventTable(items, opts);
      if (table !== '') io.out(table);
      else if (names.length === 0) io.err(noResources(c));
    }
    io.err(notFound(missing));
    return missing.length > 0 ? 1 : 0;
  });
}

function isDescription(v: unknown): v is IngressDescription {
  const d = v as Partial<IngressDescription> | undefined;
  return typeof d === 'object' && d !== null && typeof d.name === 'string' && Array.isArray(d.rules) && Array.isArray(d.tls) && Array.isArray(d.events) && Array.isArray(d.address);
}

export function runDescribe(argv: readonly string[], io: Io = processIo, now: () => number = Date.now): Promise<number> {
  return run(io, 'describe', describeUsage, async () => {
    if (argv.includes('--help') || argv.includes('-h')) {
      io.out(describeUsage());
      return 0;
    }
    const { values, positionals } = parseFlags(expandShortFlags(argv), DESCRIBE_FLAGS);
    const c = common(values);
    const { resource, names } = splitResource(positionals, 'describe');
    if (resource !== 'ingresses') throw new UsageError('describe supports ingress only; use `archway get events` for Events');

    // The description has no labels: they come from the Ingress object itself.
    const objects = await fetchList(c, 'api/ingresses');
    const labelsOf = new Map(objects.map((o) => [ingressName(o).name, labelMap(o)]));
    const wanted = names.length > 0 ? [...new Set(names)] : [...labelsOf.keys()].sort();
    if (wanted.length === 0) {
      io.err(noResources(c));
      return 0;
    }
    const texts: string[] = [];
    const missing: string[] = [];
    for (const name of wanted) {
      const res = await getJson(c.server, 'api/describe/ingress', { namespace: c.namespace, name });
      if (res.status === 404) {
        missing.push(name);
        continue;
      }
      if (!isDescription(res.json)) throw new CliError(`the answer of ${apiUrl(c.server, 'api/describe/ingress').href} is not an Ingress description`);
      texts.push(formatDescribe({ description: res.json, labels: labelsOf.get(name) ?? {}, now: now() }));
    }
    if (texts.length > 0) io.out(texts.join('\n\n'));
    io.err(notFound(missing));
    return missing.length > 0 ? 1 : 0;
  });
}

function labelMap(o: unknown): Record<string, string> {
  const labels = ((o as { metadata?: { labels?: unknown } } | undefined)?.metadata?.labels ?? {}) as Record<string, unknown>;
  const out: Record<string, string> = {};
  if (typeof labels === 'object' && labels !== null) for (const [k, v] of Object.entries(labels)) out[k] = String(v);
  return out;
}
