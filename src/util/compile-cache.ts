// Node runs our TypeScript by stripping the types with a WebAssembly transpiler (amaro) that it loads
// into every process reading a .ts file: about 20 MB resident per process, paid by the primary and by
// every worker (issue 4 item 10, the 300 MB target). Node's compile cache keeps the stripped output
// (and V8's code cache) on disk, keyed by file content, so a process whose modules are all cached never
// loads the transpiler. The cache lives where Node puts it by default (the OS temp directory); when it
// cannot be written, Node just runs without it.

import { constants, enableCompileCache, getCompileCacheDir } from 'node:module';

/** Turns the compile cache on for this process (modules loaded from now on) and returns its directory. */
export function useCompileCache(): string | undefined {
  const r = enableCompileCache();
  return r.status === constants.compileCacheStatus.ENABLED || r.status === constants.compileCacheStatus.ALREADY_ENABLED ? (r.directory ?? getCompileCacheDir()) : undefined;
}

/** The environment for a child Node process: the same cache from its very first module. */
export function envWithCompileCache(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const dir = getCompileCacheDir() ?? useCompileCache();
  return dir === undefined || env.NODE_COMPILE_CACHE !== undefined ? env : { ...env, NODE_COMPILE_CACHE: dir };
}
