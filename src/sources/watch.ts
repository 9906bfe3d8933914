// Watches the --manifests paths and calls back once per burst of changes (debounced), so an editor's
// save or a `cp -r` of a hundred files costs one rebuild (issue 4 item 1).

import { watch, type FSWatcher } from 'node:fs';
import { stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';

export interface WatchOptions {
  /** Quiet time after the last event before calling back. */
  debounceMs: number;
  /** Upper bound on the delay from the first event of a burst. */
  maxDelayMs: number;
  /** Safety net: also call back this often (inotify can miss events on some filesystems). 0 = never. */
  pollMs: number;
}

export const DEFAULT_WATCH_OPTIONS: WatchOptions = { debounceMs: 50, maxDelayMs: 250, pollMs: 2000 };

export class ManifestWatcher {
  #watchers: FSWatcher[] = [];
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

  /** Starts watching. Directories recursively; a single file through its directory (renames replace it). */
  async start(paths: readonly string[]): Promise<void> {
    const dirs = new Set<string>();
    for (const p of paths) {
      const abs = resolve(p);
      let isDir = false;
      try {
        isDir = (await stat(abs)).isDirectory();
      } catch {
        // A missing path may appear later: watch its parent.
      }
      dirs.add(isDir ? abs : dirname(abs));
    }
    for (const d of dirs) {
      try {
        const w = watch(d, { recursive: true, persistent: false }, () => this.#event());
        w.on('error', () => this.#event());
        this.#watchers.push(w);
      } catch {
        // Unwatchable (gone, permissions): the poll still notices changes.
      }
    }
    if (this.#opts.pollMs > 0) {
      this.#poll = setInterval(() => this.#fire(), this.#opts.pollMs);
      this.#poll.unref();
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
    if (!this.#closed) this.#onChange();
  }

  close(): void {
    this.#closed = true;
    for (const w of this.#watchers) w.close();
    if (this.#timer) clearTimeout(this.#timer);
    if (this.#poll) clearInterval(this.#poll);
  }
}
