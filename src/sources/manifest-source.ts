// The manifest-directory source (the embedded default): reads every manifest file into plain objects
// and keeps them current. A refresh re-reads only files whose stat changed and reports which kinds of
// object changed, so endpoint-only edits can take the fast lane (issue 4 item 3). A file that stops
// parsing keeps its last good objects (issue 4 item 4).

import { stat } from 'node:fs/promises';
import type { Diagnostic } from '../model/diagnostics.ts';
import { describeObject, objectKey, ObjectStore, type Kind, type StoredObject } from '../model/objects.ts';
import { fingerprint } from './fingerprint.ts';
import { listManifestFiles, readManifestFile } from './manifest-files.ts';

export interface SourceSnapshot {
  store: ObjectStore;
  diagnostics: Diagnostic[];
}

export interface SourceChange {
  /** Kinds with at least one object added, changed or removed. */
  kinds: Set<Kind>;
  /** Some file was read again (its diagnostics may have changed even when its objects did not). */
  reread: boolean;
}

/** How long a file that turned empty keeps its objects (a rewrite in progress). */
const EMPTY_GRACE_MS = 1500;

interface FileState {
  /** Stat signature: a change means the file must be read again ('' = always read again). */
  signature: string;
  /** When the file was first seen empty while its objects were kept. */
  emptySince?: number;
  objects: StoredObject[];
  diagnostics: Diagnostic[];
}

export class ManifestSource {
  readonly paths: readonly string[];
  #files = new Map<string, FileState>();
  #pathDiagnostics: Diagnostic[] = [];
  /** Serialised form per object key, to tell real changes from rewrites of the same content. */
  #fingerprints = new Map<string, string>();

  constructor(paths: readonly string[]) {
    this.paths = paths;
  }

  /** Reads every file under the configured paths (the first load). */
  async loadAll(): Promise<SourceChange> {
    return this.refresh();
  }

  /** Re-lists the paths, re-reads changed files, forgets deleted ones; returns what changed. */
  async refresh(): Promise<SourceChange> {
    const pathDiagnostics: Diagnostic[] = [];
    const files = await listManifestFiles(this.paths, pathDiagnostics);
    this.#pathDiagnostics = pathDiagnostics;
    const next = new Map<string, FileState>();
    let reread = files.length !== this.#files.size;
    for (const f of files) {
      const signature = await statSignature(f);
      const prev = this.#files.get(f);
      if (prev && prev.signature === signature && signature !== '') {
        next.set(f, prev);
        continue;
      }
      reread = true;
      const parsed = await readManifestFile(f);
      const state: FileState = { signature, objects: parsed.objects, diagnostics: parsed.diagnostics };
      // A file that just became empty is most likely being rewritten (`cmd > file` truncates first):
      // keep its objects for a moment; the watcher's poll applies the emptiness if it lasts.
      if (prev && prev.objects.length > 0 && parsed.objects.length === 0 && parsed.diagnostics.length === 0 && signature.split(':')[2] === '0') {
        const since = prev.emptySince ?? Date.now();
        if (Date.now() - since < EMPTY_GRACE_MS) {
          next.set(f, { ...prev, signature: '', emptySince: since });
          continue;
        }
      }
      if (prev && parsed.diagnostics.some((d) => d.severity === 'error')) {
        // The file no longer parses completely: objects it defined before and that are now missing keep
        // serving in their last good version (a half-saved edit must not take routes down).
        const present = new Set(parsed.objects.map((o) => objectKey(o.kind, o.namespace, o.name)));
        for (const o of prev.objects) {
          if (present.has(objectKey(o.kind, o.namespace, o.name))) continue;
          state.objects.push(o);
          state.diagnostics.push({
            code: 'LAST_GOOD_KEPT', severity: 'warning', file: f, line: o.origin?.line, object: describeObject(o),
            message: 'the file has errors; the last good version of this object keeps serving until it is fixed',
          });
        }
      }
      next.set(f, state);
    }
    this.#files = next;
    return { kinds: this.#diffFingerprints(), reread };
  }

  #diffFingerprints(): Set<Kind> {
    const kinds = new Set<Kind>();
    const next = new Map<string, string>();
    for (const st of this.#files.values()) {
      for (const o of st.objects) {
        const key = objectKey(o.kind, o.namespace, o.name);
        if (next.has(key)) continue; // duplicates: the first definition counts (see snapshot())
        next.set(key, fingerprint(o));
      }
    }
    for (const [key, fp] of next) if (this.#fingerprints.get(key) !== fp) kinds.add(key.slice(0, key.indexOf('/')) as Kind);
    for (const key of this.#fingerprints.keys()) if (!next.has(key)) kinds.add(key.slice(0, key.indexOf('/')) as Kind);
    this.#fingerprints = next;
    return kinds;
  }

  /** When a file kept through its empty-file grace should be looked at again (ms epoch), or null. */
  recheckAt(): number | null {
    let at: number | null = null;
    for (const st of this.#files.values()) {
      if (st.emptySince !== undefined) at = Math.min(at ?? Infinity, st.emptySince + EMPTY_GRACE_MS);
    }
    return at;
  }

  /** The store as the model sees it; an object defined twice is kept from the first file and reported. */
  snapshot(): SourceSnapshot {
    const store = new ObjectStore();
    const diagnostics: Diagnostic[] = [...this.#pathDiagnostics];
    const seen = new Map<string, StoredObject>();
    for (const file of [...this.#files.keys()].sort()) {
      const st = this.#files.get(file)!;
      diagnostics.push(...st.diagnostics);
      for (const o of st.objects) {
        const key = objectKey(o.kind, o.namespace, o.name);
        const first = seen.get(key);
        if (first) {
          diagnostics.push({
            code: 'MANIFEST_DUPLICATE_OBJECT', severity: 'warning',
            message: `already defined at ${first.origin?.file}:${first.origin?.line}; this definition is ignored`,
            file: o.origin?.file, line: o.origin?.line, object: describeObject(o),
          });
          continue;
        }
        seen.set(key, o);
        store.set(o);
      }
    }
    return { store, diagnostics };
  }
}

/** mtime, ctime, size and inode: an editor's write-then-rename changes the inode even within one mtime tick. */
async function statSignature(file: string): Promise<string> {
  try {
    const s = await stat(file, { bigint: true });
    return `${s.mtimeNs}:${s.ctimeNs}:${s.size}:${s.ino}`;
  } catch {
    return '';
  }
}
