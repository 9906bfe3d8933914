// A small, strict command-line flag parser driven by one table, so help text and parsing never
// disagree. Flags and their defaults are a contract (issue 2 item 2): tools drive Archway through them.

export type FlagKind = 'string' | 'int' | 'port' | 'duration' | 'bool' | 'list' | 'size';

export interface FlagSpec {
  name: string;
  kind: FlagKind;
  help: string;
  default?: string | number | boolean | string[];
  /** May be given several times (values accumulate). */
  repeatable?: boolean;
  metavar?: string;
}

export type FlagValues = Record<string, string | number | boolean | string[] | undefined>;

export class UsageError extends Error {
  override name = 'UsageError';
}

/** Parses `--flag value`, `--flag=value`, booleans as `--flag`, `--flag=false`, `--no-flag`. */
export function parseFlags(argv: readonly string[], specs: readonly FlagSpec[]): { values: FlagValues; positionals: string[] } {
  const byName = new Map(specs.map((s) => [s.name, s]));
  const values: FlagValues = {};
  for (const s of specs) values[s.name] = Array.isArray(s.default) ? [...s.default] : s.default;
  const given = new Set<string>();
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith('--') || arg === '--') {
      if (arg.startsWith('-') && arg !== '-') throw new UsageError(`unknown flag ${arg}`);
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    let name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
    let inline: string | undefined = eq < 0 ? undefined : arg.slice(eq + 1);
    let spec = byName.get(name);
    if (!spec && name.startsWith('no-') && byName.get(name.slice(3))?.kind === 'bool' && inline === undefined) {
      name = name.slice(3);
      spec = byName.get(name);
      inline = 'false';
    }
    if (!spec) throw new UsageError(`unknown flag --${name}`);
    const first = !given.has(name);
    if (!first && !spec.repeatable) throw new UsageError(`--${name} given more than once`);
    given.add(name);
    let raw: string;
    if (spec.kind === 'bool') {
      raw = inline ?? 'true';
    } else if (inline !== undefined) {
      raw = inline;
    } else {
      if (i + 1 >= argv.length) throw new UsageError(`--${name} needs a value`);
      raw = argv[++i];
    }
    const v = convert(spec, raw);
    // A repeated flag replaces its default on first use, then accumulates.
    values[name] = spec.repeatable ? [...(first ? [] : (values[name] as string[])), ...(v as string[])] : v;
  }
  return { values, positionals };
}

function convert(spec: FlagSpec, raw: string): string | number | boolean | string[] {
  const bad = (what: string) => new UsageError(`--${spec.name}: ${JSON.stringify(raw)} is not ${what}`);
  switch (spec.kind) {
    case 'string':
      if (raw === '') throw bad('a non-empty value');
      return spec.repeatable ? [raw] : raw;
    case 'int': {
      if (!/^\d+$/.test(raw)) throw bad('a whole number');
      return Number(raw);
    }
    case 'port': {
      const n = Number(raw);
      if (!/^\d+$/.test(raw) || n > 65535) throw bad('a port number (0-65535)');
      return n;
    }
    case 'duration': {
      const ms = parseDuration(raw);
      if (ms === undefined) throw bad('a duration such as 500ms, 5s, 2m or 1h');
      return ms;
    }
    case 'size': {
      const m = /^(\d+)([kKmMgG]?)$/.exec(raw);
      if (!m) throw bad('a size in bytes (e.g. 16384, 16k, 1m, 2g)');
      return Number(m[1]) * { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2].toLowerCase() as '' | 'k' | 'm' | 'g'];
    }
    case 'bool':
      if (raw === 'true') return true;
      if (raw === 'false') return false;
      throw bad('true or false');
    case 'list':
      if (raw.trim() === '') return [];
      return raw.split(',').map((s) => s.trim()).filter((s) => s !== '');
  }
}

/** Milliseconds from `250ms`, `5s`, `2m`, `1h` or a bare number of seconds. */
export function parseDuration(raw: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(raw);
  if (!m) return undefined;
  const n = Number(m[1]);
  const unit = m[2] ?? 's';
  return Math.round(n * (unit === 'ms' ? 1 : unit === 's' ? 1000 : unit === 'm' ? 60_000 : 3_600_000));
}

export function formatFlagHelp(specs: readonly FlagSpec[]): string {
  const rows = specs.map((s) => {
    const meta = s.kind === 'bool' ? '' : ` ${s.metavar ?? s.kind.toUpperCase()}`;
    const def = s.default === undefined || (Array.isArray(s.default) && s.default.length === 0) ? '' : ` (default ${formatDefault(s)})`;
    return [`  --${s.name}${meta}`, `${s.help}${def}${s.repeatable ? ' (repeatable)' : ''}`];
  });
  const width = Math.max(...rows.map((r) => r[0].length)) + 2;
  return rows.map(([a, b]) => a.padEnd(width) + b).join('\n');
}

function formatDefault(s: FlagSpec): string {
  if (s.kind === 'duration' && typeof s.default === 'number') return s.default % 1000 === 0 ? `${s.default / 1000}s` : `${s.default}ms`;
  return Array.isArray(s.default) ? s.default.join(',') : String(s.default);
}
