// `archway validate PATH...`: loads manifests exactly as `serve` does (ManifestSource, build, compile),
// prints every diagnostic and, per served Ingress, one line of what it would route. Exit 1 when any
// diagnostic is an error, 2 on a usage error, else 0: a check to run in CI before deploying (issue 4 item 9).

import { build, type BuildOptions, type Model, type RouteTarget } from '../model/build.ts';
import { compareDiagnostics, formatDiagnostic, type Diagnostic } from '../model/diagnostics.ts';
import { compile } from '../snapshot/compile.ts';
import { listManifestFiles } from '../sources/manifest-files.ts';
import { ManifestSource } from '../sources/manifest-source.ts';
import { formatFlagHelp, parseFlags, UsageError, type FlagSpec } from './flags.ts';
import { parseServiceRef, SERVE_FLAGS } from './serve-options.ts';
import { processIo, type Io } from './views/commands.ts';

/** serve's own specs, so names, defaults and help can never drift apart. */
const FROM_SERVE = ['manifests', 'ingress-class', 'controller-name', 'watch-ingress-without-class', 'default-backend-service'];
export const VALIDATE_FLAGS: FlagSpec[] = FROM_SERVE.map((n) => SERVE_FLAGS.find((s) => s.name === n)!);

export function validateUsage(): string {
  return `Usage: archway validate PATH... [flags]

Load the manifest files or directories exactly as 'archway serve --manifests' would, print every
problem (file:line, object, field path) and one line per served Ingress of what it would route.
Exit status: 0 when nothing is an error, 1 when something is (or no manifest file is found), 2 on a
usage error.

Flags (the serve flags that change what is served):
${formatFlagHelp(VALIDATE_FLAGS)}
`;
}

export interface ValidateResult {
  diagnostics: Diagnostic[];
  model: Model;
  hash: string;
  files: string[];
}

/** Same steps as serve's first sync: read every file, snapshot the store, build, compile. */
export async function validatePaths(paths: readonly string[], options: BuildOptions): Promise<ValidateResult> {
  const files = await listManifestFiles(paths, []);
  const source = new ManifestSource(paths);
  await source.loadAll();
  const snap = source.snapshot();
  const model = build(snap.store, options);
  const table = compile(model);
  const diagnostics = [...snap.diagnostics, ...model.diagnostics].sort(compareDiagnostics);
  return { diagnostics, model, hash: table.hash, files };
}

function backendLabel(model: Model, t: RouteTarget): string {
  const b = model.backends.get(t.backend);
  let s = !b ? t.backend : b.service !== '' ? `${b.service.slice(b.service.indexOf('/') + 1)}:${b.port}` : t.backend.slice(t.backend.indexOf('/') + 1);
  if (b?.problem) s += ` (answers 503: ${b.problem.message})`;
  if (t.rewrite) s += ` (rewrite to ${t.rewrite.target})`;
  return s;
}

/**
 * One line per served Ingress, in namespace/name order: the routes it contributes to the table in the
 * order it declares them (paths lost to a conflict or an invalid regex are left out: a diagnostic says
 * why), then the hosts it is the default backend of, then whether it is the catch-all.
 */
export function routeSummaries(model: Model): string[] {
  const served = [...model.served].sort((a, b) => {
    const x = `${a.ingress.namespace}/${a.ingress.name}`;
    const y = `${b.ingress.namespace}/${b.ingress.name}`;
    return x < y ? -1 : x > y ? 1 : 0;
  });
  const hosts = new Map(model.hosts.map((h) => [h.host, h]));
  return served.map(({ ingress: ing }) => {
    const key = `${ing.namespace}/${ing.name}`;
    const parts: string[] = [];
    for (const rule of ing.rules) {
      const hm = hosts.get(rule.host);
      for (const p of rule.paths) {
        const route = hm?.routes.find((r) => r.path === p.path && r.pathType === p.pathType && r.target.ingress === key);
        if (!route) continue;
        const kind = route.match === 'exact' ? ' (exact)' : route.match === 'regex' ? ' (regex)' : '';
        parts.push(`${rule.host || '*'}${p.path || '/'}${kind} -> ${backendLabel(model, route.target)}`);
      }
    }
    for (const h of model.hosts) {
      if (h.fallback?.ingress === key) parts.push(`${h.host} (default backend) -> ${backendLabel(model, h.fallback)}`);
    }
    if (model.catchAll?.ingress === key) parts.push(`any other request (catch-all default backend) -> ${backendLabel(model, model.catchAll)}`);
    return `${key}: ${parts.length > 0 ? parts.join(', ') : 'routes nothing (see the diagnostics above)'}`;
  });
}

const plural = (n: number, word: string, many = `${word}s`) => `${n} ${n === 1 ? word : many}`;

export async function runValidate(argv: readonly string[], io: Io = processIo): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    io.out(validateUsage());
    return 0;
  }
  let paths: string[];
  let options: BuildOptions;
  try {
    const { values: v, positionals } = parseFlags(argv, VALIDATE_FLAGS);
    paths = [...positionals, ...((v.manifests as string[] | undefined) ?? [])];
    if (paths.length === 0) throw new UsageError('give at least one manifest file or directory');
    options = {
      ingressClass: v['ingress-class'] as string,
      controllerName: v['controller-name'] as string,
      watchWithoutClass: v['watch-ingress-without-class'] as boolean,
      defaultBackendService: parseServiceRef(v['default-backend-service'] as string | undefined),
    };
  } catch (e) {
    if (e instanceof UsageError) {
      io.err(`archway validate: ${e.message}\n\n${validateUsage()}`);
      return 2;
    }
    throw e;
  }

  const r = await validatePaths(paths, options);
  for (const d of r.diagnostics) io.out(`${formatDiagnostic(d)}\n`);
  const summaries = routeSummaries(r.model);
  if (r.diagnostics.length > 0 && summaries.length > 0) io.out('\n');
  for (const s of summaries) io.out(`${s}\n`);
  const errors = r.diagnostics.filter((d) => d.severity === 'error').length;
  const warnings = r.diagnostics.filter((d) => d.severity === 'warning').length;
  if (r.files.length === 0 && errors === 0) {
    io.err(`archway validate: no manifest files (.yaml, .yml, .json) found under ${paths.join(', ')}\n`);
    return 1;
  }
  io.out(`\n${plural(r.files.length, 'file')}, ${plural(r.model.served.length, 'Ingress', 'Ingresses')} served (configuration ${r.hash}): ${plural(errors, 'error')}, ${plural(warnings, 'warning')}\n`);
  return errors > 0 ? 1 : 0;
}
