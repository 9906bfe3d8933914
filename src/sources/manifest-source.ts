// The manifest-directory source (the embedded default): reads every manifest file into plain objects
// and keeps them current. A refresh re-reads only files whose stat changed and reports which kinds of
// object changed, so endpoint-only edits can take the fast lane (issue 4 item 3). A file that stops
// parsing keeps its last good objects (issue 4 item 4). The store the model reads is one store for the
// source's whole life, updated with the objects that changed (issue 4 item 10: at 10,000 Ingresses,
// rebuilding it and sorting its lists cost about 30 ms and 5 MB of garbage per change).

import { stat } from 'node:fs/promises';
import type { Diagnostic } from '../model/diagnostics.ts';
import { describeObject, objectKey, ObjectStore, type Kind, type StoredObject } from '../model/objects.ts';
import { fingerprint } from '../model/fingerprint.ts';
import { listManifestFiles, readManifestFile } from './manifest-files.ts';

export interface SourceSnapshot {
  /** The source's own store: read it, never change it (clone it to make changes). */
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
  #store = new ObjectStore();
  /**
   * Every definition of each key, in file-then-line order (the array only when there are several): the
   * first one is the object in the store, the others are reported as duplicates.
   */
  #definitions = new Map<string, StoredObject | StoredObject[]>();

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
    /** Kept instances whose line changed: where several definitions compete, their order may have too. */
    const moved: StoredObject[] = [];
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
      let objects = parsed.objects;
      if (prev) {
        const kept = keepUnchanged(prev.objects, parsed.objects);
        objects = kept.objects;
        for (const o of kept.moved) moved.push(o);
      }
      const state: FileState = { signature, objects, diagnostics: parsed.diagnostics };
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
    const previous = this.#files;
    this.#files = next;
    this.#updateStore(previous, next, moved);
    return { kinds: changedKinds(previous, next), reread };
  }

  /** Applies the objects of the files that changed to the store (unchanged files are not looked at). */
  #updateStore(previous: ReadonlyMap<string, FileState>, next: ReadonlyMap<string, FileState>, moved: readonly StoredObject[]): void {
    const affected = new Map<string, StoredObject>();
    for (const o of moved) {
      const key = objectKey(o.kind, o.namespace, o.name);
      const defs = this.#definitions.get(key);
      if (Array.isArray(defs)) {
        defs.sort(byDefinitionOrder);
        affected.set(key, o);
      }
    }
    const apply = (before: readonly StoredObject[], after: readonly StoredObject[]) => {
      const kept = new Set(after);
      for (const o of before) if (!kept.has(o)) affected.set(this.#undefine(o), o);
      const had = new Set(before);
      for (const o of after) if (!had.has(o)) affected.set(this.#define(o), o);
    };
    for (const [file, st] of next) {
      const prev = previous.get(file);
      if (prev !== st) apply(prev?.objects ?? [], st.objects);
    }
    for (const [file, st] of previous) if (!next.has(file)) apply(st.objects, []);
    for (const [key, o] of affected) {
      const defs = this.#definitions.get(key);
      const first = defs === undefined ? undefined : Array.isArray(defs) ? defs[0] : defs;
      if (first) this.#store.set(first);
      else this.#store.delete(o.kind, o.namespace, o.name);
    }
  }

  #define(o: StoredObject): string {
    const key = objectKey(o.kind, o.namespace, o.name);
    const defs = this.#definitions.get(key);
    if (defs === undefined) this.#definitions.set(key, o);
    else {
      const list = Array.isArray(defs) ? defs : [defs];
      list.push(o);
      list.sort(byDefinitionOrder);
      this.#definitions.set(key, list);
    }
    return key;
  }

  #undefine(o: StoredObject): string {
    const key = objectKey(o.kind, o.namespace, o.name);
    const defs = this.#definitions.get(key);
    if (defs === o) this.#definitions.delete(key);
    else if (Array.isArray(defs)) {
      const rest = defs.filter((d) => d !== o);
      this.#definitions.set(key, rest.length === 1 ? rest[0] : rest);
    }
    return key;
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
    const diagnostics: Diagnostic[] = [...this.#pathDiagnostics];
    for (const file of [...this.#files.keys()].sort()) diagnostics.push(...this.#files.get(file)!.diagnostics);
    for (const defs of this.#definitions.values()) {
      if (!Array.isArray(defs)) continue;
      const [first, ...later] = defs;
      for (const o of later) {
        diagnostics.push({
          code: 'MANIFEST_DUPLICATE_OBJECT', severity: 'warning',
          message: `already defined at ${first.origin?.file}:${first.origin?.line}; this definition is ignored`,
          file: o.origin?.file, line: o.origin?.line, object: describeObject(o),
        });
      }
    }
    return { store: this.#store, diagnostics };
  }
}

/** Files in path order, then lines: the first definition of an object is the one served. */
function byDefinitionOrder(a: StoredObject, b: StoredObject): number {
  const fa = a.origin?.file ?? '';
  const fb = b.origin?.file ?? '';
  if (fa !== fb) return fa < fb ? -1 : 1;
  return (a.origin?.line ?? 0) - (b.origin?.line ?? 0);
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

/**
 * Kinds with an object added, changed (by content fingerprint: a rewrite of the same content is no
 * change) or removed between two file sets. Only files whose state object changed are compared, so a
 * change to one of 100 files costs one file's objects (issue 4 item 10). An object defined in two files
 * may be reported as changed when only its ignored duplicate changed: a full rebuild instead of the
 * fast lane, never a missed change.
 */
function changedKinds(previous: ReadonlyMap<string, FileState>, next: ReadonlyMap<string, FileState>): Set<Kind> {
  const kinds = new Set<Kind>();
  const compare = (before: readonly StoredObject[], after: readonly StoredObject[]) => {
    const old = new Map<string, string>();
    for (const o of before) old.set(objectKey(o.kind, o.namespace, o.name), fingerprint(o));
    for (const o of after) {
      const key = objectKey(o.kind, o.namespace, o.name);
      if (old.get(key) !== fingerprint(o)) kinds.add(o.kind);
      old.delete(key);
    }
    for (const key of old.keys()) kinds.add(key.slice(0, key.indexOf('/')) as Kind);
  };
  for (const [file, st] of next) {
    const prev = previous.get(file);
    if (prev !== st) compare(prev?.objects ?? [], st.objects);
  }
  for (const [file, st] of previous) if (!next.has(file)) compare(st.objects, []);
  return kinds;
}

/**
 * The objects of a file read again, with each one that did not change (same key and content) replaced
 * by its previous instance. Everything downstream memoises per stored object (normalised Ingresses,
 * settings, resolved backends, built hosts), so an edit to one object of a 100-object file costs that
 * object, not the file. An object that only moved (a line added above it) keeps its instance too, with
 * its origin set to where it is now: one added line must not make every object below it new (issue 4
 * item 10); the controller gives diagnostics made before the move the current line. Returns the
 * objects, and the kept instances whose line changed.
 */
function keepUnchanged(before: readonly StoredObject[], after: StoredObject[]): { objects: StoredObject[]; moved: StoredObject[] } {
  const old = new Map<string, StoredObject>();
  for (const o of before) old.set(objectKey(o.kind, o.namespace, o.name), o);
  const moved: StoredObject[] = [];
  /** An object defined twice in the file, both times alike, must not become one instance twice. */
  const used = new Set<StoredObject>();
  const objects = after.map((o) => {
    const p = old.get(objectKey(o.kind, o.namespace, o.name));
    if (p === undefined || used.has(p) || p.origin?.file !== o.origin?.file || fingerprint(p) !== fingerprint(o)) return o;
    used.add(p);
    if (p.origin?.line !== o.origin?.line) {
      p.origin = o.origin;
      moved.push(p);
    }
    return p;
  });
  return { objects, moved };
}
