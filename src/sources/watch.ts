// Watches the --manifests paths and calls back once per burst of changes (debounced), so an editor's
// save or a `cp -r` of a hundred files costs one rebuild (issue 4 item 1).
//
// Every directory is watched on its own (inotify on the directory reports creates, writes, renames and
// deletes of its entries by name). Node's `recursive: true` on Linux watches each file's inode instead,
// which goes deaf to a file after an editor replaces it by rename. New subdirectories are picked up.

import { watch, type FSWatcher } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';

export interface WatchOptions {
  /** Quiet time after the last event before calling back. */
  debounceMs: number;
  /** Upper bound on the delay from the first event of a burst. */
  maxDelayMs: number;
  /** Safety net: also call back this often (inotify can miss events on some filesystems). 0 = never. */
  pollMs: number;
}

export const DEFAULT_WATCH_OPTIONS: WatchOptions = { debounceMs: 50, maxDelayMs: 250, pollMs: 2000 };

/** Directory depth and count bounds: a manifest tree is small; a mistaken `--manifests /` must not hog the process. */
const MAX_DEPTH = 32;
const MAX_DIRS = 10_000;

export class ManifestWatcher {
  #watchers = new Map<string, FSWatcher>();
  #paths: readonly string[] = [];
  #timer: NodeJS.Timeout | null = null;
  #poll: NodeJS.Timeout | null = null;
  #firstEventAt = 0;
  #onChange: () => void;
  #opts: WatchOptions;
  #closed = false;

  constructor(onChange: () => void, opts: WatchOptions = DEFAULT_WATCH_OPTIONS) {
    this.#onChange = onChange;
    this.#opts = opts;
  }

  async start(paths: readonly string[]): Promise<void> {
    this.#paths = paths.map((p) => resolve(p));
    await this.#syncDirectories();
    if (this.#opts.pollMs > 0) {
      this.#poll = setInterval(() => this.#fire(), this.#opts.pollMs);
      this.#poll.unref();
    }
  }

  /** Watches every directory under the paths (a file's own directory for a file path), and no others. */
  async #syncDirectories(): Promise<void> {
    const dirs = new Set<string>();
    for (const p of this.#paths) {
      let isDir = false;
      try {
        isDir = (await stat(p)).isDirectory();
      } catch {
        // A missing path may appear later: its parent is watched.
      }
      if (isDir) await collectDirs(p, dirs, 0);
      else dirs.add(dirname(p));
    }
    if (this.#closed) return;
    for (const [d, w] of this.#watchers) {
      if (!dirs.has(d)) {
        w.close();
        this.#watchers.delete(d);
      }
    }
    for (const d of dirs) {
      if (this.#watchers.has(d)) continue;
      try {
        const w = watch(d, { persistent: false }, () => this.#event());
        w.on('error', () => {
          w.close();
          this.#watchers.delete(d);
          this.#event();
        });
        this.#watchers.set(d, w);
      } catch {
        // Unwatchable (gone, permissions): the poll still notices changes.
      }
    }
  }

  #event(): void {
    if (this.#closed) return;
    const now = Date.now();
    if (this.#timer === null) this.#firstEventAt = now;
    else clearTimeout(this.#timer);
    const wait = Math.max(0, Math.min(this.#opts.debounceMs, this.#firstEventAt + this.#opts.maxDelayMs - now));
    this.#timer = setTimeout(() => this.#fire(), wait);
  }

  #fire(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    if (this.#closed) return;
    this.#onChange();
    void this.#syncDirectories(); // new or removed subdirectories
  }

  close(): void {
    this.#closed = true;
    for (const w of this.#watchers.values()) w.close();
    this.#watchers.clear();
    if (this.#timer) clearTimeout(this.#timer);
    if (this.#poll) clearInterval(this.#poll);
  }
}

async function collectDirs(dir: string, out: Set<string>, depth: number): Promise<void> {
  if (out.size >= MAX_DIRS || depth > MAX_DEPTH) return;
  out.add(dir);
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) if (e.isDirectory() && !e.name.startsWith('.')) await collectDirs(join(dir, e.name), out, depth + 1);
}
