// The manifest-directory source: reads every manifest file into the object store. Keeps per-file
// results so that a file which stops parsing can keep its last good objects (issue 4 builds on this).

import type { Diagnostic } from '../model/diagnostics.ts';
import { describeObject, objectKey, ObjectStore, type StoredObject } from '../model/objects.ts';
import { listManifestFiles, readManifestFile } from '../sources/manifest-files.ts';

export interface SourceSnapshot {
  store: ObjectStore;
  diagnostics: Diagnostic[];
  files: string[];
}

export class ManifestSource {
  readonly paths: readonly string[];
  /** Objects per file, in file order. */
  #files = new Map<string, StoredObject[]>();
  #fileDiagnostics = new Map<string, Diagnostic[]>();
  #pathDiagnostics: Diagnostic[] = [];

  constructor(paths: readonly string[]) {
    this.paths = paths;
  }

  /** Reads every file under the configured paths. */
  async loadAll(): Promise<void> {
    this.#pathDiagnostics = [];
    const files = await listManifestFiles(this.paths, this.#pathDiagnostics);
    const next = new Map<string, StoredObject[]>();
    const nextDiags = new Map<string, Diagnostic[]>();
    for (const f of files) {
      const parsed = await readManifestFile(f);
      next.set(f, parsed.objects);
      nextDiags.set(f, parsed.diagnostics);
    }
    this.#files = next;
    this.#fileDiagnostics = nextDiags;
  }

  /** The store as the model sees it; an object defined twice is kept from the first file and reported. */
  snapshot(): SourceSnapshot {
    const store = new ObjectStore();
    const diagnostics: Diagnostic[] = [...this.#pathDiagnostics];
    const seen = new Map<string, StoredObject>();
    for (const [file, objects] of [...this.#files].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
      diagnostics.push(...(this.#fileDiagnostics.get(file) ?? []));
      for (const o of objects) {
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
    return { store, diagnostics, files: [...this.#files.keys()] };
  }
}
