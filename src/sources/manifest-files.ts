// Discover and read manifest files: files or directories (recursively), `.yaml`, `.yml`, `.json`.
// A file that cannot be read or parsed is reported; the other files still load.

import { readdir, readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Diagnostic } from '../model/diagnostics.ts';
import { parseManifestText, type ParsedFile } from './manifest-parse.ts';

export const MANIFEST_EXTENSIONS = ['.yaml', '.yml', '.json'];
/** A manifest larger than this is refused rather than parsed (Kubernetes objects are at most ~1.5 MiB). */
export const MAX_MANIFEST_BYTES = 16 * 1024 * 1024;

export function isManifestFile(name: string): boolean {
  return MANIFEST_EXTENSIONS.some((ext) => name.endsWith(ext)) && !name.startsWith('.');
}

/** Lists manifest files under the given paths, sorted, de-duplicated. Missing paths become diagnostics. */
export async function listManifestFiles(paths: readonly string[], diagnostics: Diagnostic[]): Promise<string[]> {
  const found = new Set<string>();
  const walk = async (p: string, explicit: boolean, depth: number): Promise<void> => {
    let st;
    try {
      st = await stat(p);
    } catch (e) {
      if (explicit) diagnostics.push({ code: 'MANIFEST_PATH_UNREADABLE', severity: 'error', message: (e as Error).message, file: p });
      return;
    }
    if (st.isDirectory()) {
      if (depth > 32) return;
      let entries: string[];
      try {
        entries = await readdir(p);
      } catch (e) {
        diagnostics.push({ code: 'MANIFEST_PATH_UNREADABLE', severity: 'error', message: (e as Error).message, file: p });
        return;
      }
      for (const name of entries.sort()) if (!name.startsWith('.')) await walk(join(p, name), false, depth + 1);
    } else if (st.isFile() && (explicit || isManifestFile(p.slice(p.lastIndexOf('/') + 1)))) {
      found.add(p);
    }
  };
  for (const p of paths) await walk(resolve(p), true, 0);
  return [...found].sort();
}

export async function readManifestFile(file: string): Promise<ParsedFile> {
  try {
    const st = await stat(file);
    if (st.size > MAX_MANIFEST_BYTES) {
      return { objects: [], diagnostics: [{ code: 'MANIFEST_TOO_LARGE', severity: 'error', message: `file is ${st.size} bytes, larger than ${MAX_MANIFEST_BYTES}; skipped`, file }] };
    }
    return parseManifestText(await readFile(file, 'utf8'), file);
  } catch (e) {
    return { objects: [], diagnostics: [{ code: 'MANIFEST_READ_ERROR', severity: 'error', message: (e as Error).message, file }] };
  }
}
