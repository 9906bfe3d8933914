#!/usr/bin/env node
// Entry point for `npx archway`: Node 24 runs the TypeScript sources directly (type stripping). The
// compile cache is turned on before the first .ts module loads, so a warm start never loads Node's
// type-stripping transpiler (src/util/compile-cache.ts says why that matters). Without a writable
// cache directory Node simply runs without it. Then, on glibc, the process re-executes itself once
// with malloc settings that give freed memory back (src/util/malloc-tuning.ts says why).
import { enableCompileCache } from 'node:module';

enableCompileCache();
const { applyMallocTuning } = await import('../src/util/malloc-tuning.ts');
applyMallocTuning();
const { main } = await import('../src/main.ts');
process.exitCode = await main(process.argv.slice(2));
