// Entry of a data-plane worker thread (worker-link.ts). Plain JavaScript so that the compile cache is
// on before the first TypeScript module loads: a thread whose modules are all cached never loads
// Node's type-stripping transpiler (src/util/compile-cache.ts, as bin/archway.js does for the process).
import { enableCompileCache } from 'node:module';

enableCompileCache();
await import('./worker-main.ts');
