#!/usr/bin/env node
// Entry point for `npx archway`: Node 24 runs the TypeScript sources directly (type stripping).
import { main } from '../src/main.ts';

process.exitCode = await main(process.argv.slice(2));
