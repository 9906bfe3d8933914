// Gives the memory a burst of work freed back to the operating system.
//
// Why: V8 keeps the pages a garbage collection frees in a pool for reuse, and grows the young
// generation to 2 x 64 MB while a large configuration is parsed and built. An ordinary GC, and V8's
// own memory reducer, shrink the heap but leave those pages mapped and resident: with 10,000
// Ingresses a process held 2-3 times its live heap (issue 4 item 10, the 300 MB target). Only a
// "last resort" collection releases the pool. It costs a few full collections (about 1.5-2 ms per MB
// of live heap), so it runs once, after a quiet period following a rebuild or a table load, never
// per request.

import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

type GcFunction = (options?: { type: 'major'; execution: 'sync'; flavor: 'last-resort' }) => void;

let gcFunction: GcFunction | undefined;

/** V8's gc() without `--expose-gc` on the command line: a context created while the flag is on gets it. */
function lastResortGc(): void {
  if (!gcFunction) {
    const exposed = (globalThis as { gc?: GcFunction }).gc;
    if (exposed) gcFunction = exposed;
    else {
      setFlagsFromString('--expose-gc');
      gcFunction = runInNewContext('gc') as GcFunction;
      setFlagsFromString('--no-expose-gc');
    }
  }
  gcFunction({ type: 'major', execution: 'sync', flavor: 'last-resort' });
}

export interface ReleaseResult {
  rssBefore: number;
  rssAfter: number;
  ms: number;
}

export interface ReleaserOptions {
  /** Quiet period after the last burst before releasing. */
  quietMs?: number;
  /**
   * Release only when this thread's V8 heap grew by this much since the last release (or since this
   * releaser was made): a small configuration leaves little to give back, and a release pauses the
   * thread (a data-plane worker's traffic too: about 50 ms even with a small heap). The heap of this
   * thread, not the process's resident memory: with worker threads (workers/worker-link.ts) the
   * process's memory is every thread's, and only this thread's garbage is this release's to give back.
   */
  minGrowthBytes?: number;
}

/** This thread's heap, young generation included (it grows to 2 x 64 MB while a large table loads). */
const heapSize = () => getHeapStatistics().total_heap_size;

export class MemoryReleaser {
  readonly quietMs: number;
  readonly minGrowthBytes: number;
  /** Called after each release (logs, tests). */
  onRelease: ((r: ReleaseResult) => void) | null = null;
  #timer: NodeJS.Timeout | null = null;
  /** Heap size after the last release. */
  #reference = heapSize();
  /** Largest heap size seen at a burst since then: the pages freed since are in V8's pool. */
  #peak = this.#reference;

  constructor(options: ReleaserOptions = {}) {
    this.quietMs = options.quietMs ?? 2000;
    this.minGrowthBytes = options.minGrowthBytes ?? 32 * 2 ** 20;
  }

  /** After work that allocated a lot: release once no further burst came for `quietMs`, if memory grew. */
  afterBurst(): void {
    this.#peak = Math.max(this.#peak, heapSize());
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.releaseIfGrown(this.minGrowthBytes);
    }, this.quietMs);
    this.#timer.unref();
  }

  /**
   * Releases when this thread's heap grew by `minGrowthBytes` since the last release (at its largest
   * seen at a burst, or now). Also for a caller that knows the thread is idle (a data-plane worker that served no request lately): traffic grows
   * the young generation to its cap and nothing else would give it back, and an idle thread does not
   * mind the pause.
   */
  releaseIfGrown(minGrowthBytes: number): ReleaseResult | null {
    return Math.max(this.#peak, heapSize()) - this.#reference >= minGrowthBytes ? this.releaseNow() : null;
  }

  /**
   * Checks every `intervalMs` whether `activity()` (a request counter) moved since the last check; when
   * it did not, the thread is idle and releases what grew by `minGrowthBytes`. Returns a stop function.
   */
  releaseWhenIdle(activity: () => number, intervalMs: number, minGrowthBytes: number): () => void {
    let last = activity();
    const timer = setInterval(() => {
      const now = activity();
      if (now === last) this.releaseIfGrown(minGrowthBytes);
      last = now;
    }, intervalMs);
    timer.unref();
    return () => clearInterval(timer);
  }

  releaseNow(): ReleaseResult {
    const rssBefore = process.memoryUsage.rss();
    const t0 = performance.now();
    lastResortGc();
    const r = { rssBefore, rssAfter: process.memoryUsage.rss(), ms: performance.now() - t0 };
    this.#reference = this.#peak = heapSize();
    this.onRelease?.(r);
    return r;
  }

  cancel(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
  }
}
