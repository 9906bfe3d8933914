// How the primary reaches one data-plane worker: a thread of this process (the default) or a child
// process (`--worker-isolation process`). The pool (worker-pool.ts) speaks the same messages to both.
//
// Why threads by default (issue 4 item 10, resident memory under 300 MB at 10,000 Ingresses): every
// Node process carries its own runtime, about 75 MB resident of which about 20 MB are its own pages,
// and a container's memory counts each of them; a worker thread shares the runtime and adds only
// its isolate's heap. Threads keep what issue 3 asks of workers: each has its own event loop and its
// own SO_REUSEPORT listener, and an uncaught exception ends that thread alone, which the pool restarts.
// What only processes give: a fault in native code (or the kernel's OOM killer) takes one worker
// instead of the instance; that is the trade `--worker-isolation process` makes, for more memory.

import { fork, type ChildProcess } from 'node:child_process';
import { Worker as Thread } from 'node:worker_threads';
import { envWithCompileCache } from '../util/compile-cache.ts';
import type { FromWorker, ToWorker } from './protocol.ts';

export type WorkerIsolation = 'thread' | 'process';

export const WORKER_ISOLATIONS: readonly WorkerIsolation[] = ['thread', 'process'];

export interface WorkerLink {
  /** "thread 3" or "pid 1234", for logs. */
  readonly label: string;
  /** The child's pid (process isolation), else undefined. */
  readonly pid: number | undefined;
  /** False once the worker can no longer receive messages. */
  send(m: ToWorker): boolean;
  /** Abrupt stop, as a crash would: no draining. */
  kill(): void;
  onMessage(listener: (m: FromWorker) => void): void;
  /** Called once when the worker is gone, with how it ended ("code 1", "SIGKILL", "error: ..."). */
  onExit(listener: (how: string) => void): void;
}

/**
 * A data-plane thread's young generation is capped: by default V8 lets it grow to several times this
 * while tables arrive, and once config changes became deltas a worker no longer allocated enough to
 * trigger its memory release (util/memory-release.ts), so at 10,000 Ingresses two workers each kept
 * about 10 MB of grown young generation at rest (288 vs 270 MB for the instance). Per-request garbage
 * dies young either way: `node bench/run.ts --scenarios a,e --rounds 3` measured 1.01x / 1.06x the
 * throughput and 0.99x / 0.95x the CPU per request of the uncapped thread.
 */
const WORKER_YOUNG_GENERATION_MB = 16;

/** Bootstrap of a worker thread: turns the compile cache on before the TypeScript entry loads. */
const THREAD_ENTRY = new URL('./thread-entry.js', import.meta.url);
const PROCESS_ENTRY = new URL('./worker-main.ts', import.meta.url);

export function startWorker(isolation: WorkerIsolation): WorkerLink {
  return isolation === 'thread' ? startThread() : startProcess();
}

function startThread(): WorkerLink {
  const thread = new Thread(THREAD_ENTRY, { env: envWithCompileCache(), resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB } });
  let alive = true;
  let failure = '';
  // An uncaught exception in the thread: 'error' comes first, then 'exit' (code 1). The stack is
  // what an operator needs (a worker process prints its own on stderr).
  thread.on('error', (e) => (failure = `error: ${e.stack ?? e.message}`));
  return {
    label: `thread ${thread.threadId}`,
    pid: undefined,
    send(m) {
      if (!alive) return false;
      try {
        thread.postMessage(m);
        return true;
      } catch {
        return false;
      }
    },
    kill() {
      failure ||= 'terminated';
      void thread.terminate();
    },
    onMessage(listener) {
      thread.on('message', listener);
    },
    onExit(listener) {
      thread.once('exit', (code) => {
        alive = false;
        listener(failure || `code ${code}`);
      });
    },
  };
}

function startProcess(): WorkerLink {
  const child: ChildProcess = fork(PROCESS_ENTRY, [], { serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'], env: envWithCompileCache() });
  let exitListener: ((how: string) => void) | null = null;
  let ended = false;
  const end = (how: string) => {
    if (ended) return;
    ended = true;
    exitListener?.(how);
  };
  child.once('exit', (code, signal) => end(signal ?? `code ${code}`));
  // A process that could not be started gets 'error' and maybe no 'exit'; later errors (a failed
  // send) show up as send() returning false.
  child.on('error', (e) => {
    if (child.pid === undefined) end(`error: ${e.message}`);
  });
  return {
    label: `pid ${child.pid}`,
    pid: child.pid,
    send(m) {
      if (!child.connected) return false;
      try {
        return child.send(m);
      } catch {
        return false;
      }
    },
    kill() {
      child.kill('SIGKILL');
    },
    onMessage(listener) {
      child.on('message', listener);
    },
    onExit(listener) {
      exitListener = listener;
    },
  };
}
