// glibc malloc settings for the Archway process, applied by bin/archway.js re-executing itself once.
//
// Why (issue 4 item 10, resident memory under 300 MB at 10,000 Ingresses): glibc raises its mmap
// threshold each time a large mmapped block is freed (up to 32 MB). Node frees such blocks all the
// time while loading manifests (file buffers) and shipping tables to workers (serialisation buffers
// of several MB), so from then on blocks of that size come from malloc's arenas instead, where freed
// memory stays resident unless it happens to sit at the top; each thread (every worker thread) gets
// its own arena too. Measured with 10,000 Ingresses and two worker threads, at rest after start: 311
// -> 279-285 MB resident. A fixed threshold keeps large blocks mmapped (given back when freed), and
// two arenas bound what the threads can strand. Nothing on the request path allocates blocks that
// large (socket reads go to one shared buffer, dataplane/read-buffer.ts).
//
// Only when glibc is the C library and the environment says nothing about these settings already:
// whatever a deployment sets (GLIBC_TUNABLES, or the older MALLOC_*_ variables) wins.

export const MALLOC_TUNABLES = 'glibc.malloc.mmap_threshold=131072:glibc.malloc.trim_threshold=131072:glibc.malloc.arena_max=2';

const OLD_STYLE = ['MALLOC_MMAP_THRESHOLD_', 'MALLOC_TRIM_THRESHOLD_', 'MALLOC_ARENA_MAX'];

/**
 * The environment to re-execute with, or null when there is nothing to do: not glibc, tunables
 * already chosen by the user, or already re-executed (the variable is then set).
 */
export function tunedEnvironment(env: NodeJS.ProcessEnv, glibc: boolean): NodeJS.ProcessEnv | null {
  if (!glibc) return null;
  if (OLD_STYLE.some((v) => env[v] !== undefined)) return null;
  const current = env.GLIBC_TUNABLES ?? '';
  if (/(^|:)glibc\.malloc\./.test(current)) return null;
  return { ...env, GLIBC_TUNABLES: current === '' ? MALLOC_TUNABLES : `${current}:${MALLOC_TUNABLES}` };
}

/** glibc is the C library of this process (Linux; not musl). */
export function runsOnGlibc(): boolean {
  if (process.platform !== 'linux') return false;
  const report = process.report as unknown as { excludeNetwork: boolean; getReport(): { header?: { glibcVersionRuntime?: string } } };
  report.excludeNetwork = true; // the report's network section is slow and not needed here
  return typeof report.getReport().header?.glibcVersionRuntime === 'string';
}

/**
 * Re-executes this process (same pid, arguments and node options) with the tuned environment when
 * it needs one; returns only when it does not (or when the platform cannot re-execute).
 */
export function applyMallocTuning(): void {
  const env = tunedEnvironment(process.env, runsOnGlibc());
  if (env === null || typeof process.execve !== 'function') return;
  try {
    process.execve(process.execPath, [process.execPath, ...process.execArgv, ...process.argv.slice(1)], env as Record<string, string>);
  } catch {
    // Not allowed here (a sandbox, a seccomp policy): run as we are, with glibc's defaults.
  }
}
