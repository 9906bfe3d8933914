// The demo echo backends that examples/backends.yaml points the example Services at.

import { startEchoServer } from './echo-server.ts';
import type { EchoServer } from './echo-server.ts';

export interface DemoBackend {
  name: string;
  port: number;
}

/** Service name -> echo port on 127.0.0.1 (keep in sync with examples/backends.yaml; a test checks). */
export const DEMO_BACKENDS: readonly DemoBackend[] = [
  { name: 'test', port: 9101 },
  { name: 'service1', port: 9102 },
  { name: 'service2', port: 9103 },
  { name: 'service3', port: 9104 },
];

export interface RunningBackends {
  close(): Promise<void>;
}

/**
 * Starts one echo server per backend on 127.0.0.1. All or nothing: if one port cannot be bound,
 * the ones already started are closed and the error names the backend and the port.
 */
export async function startDemoBackends(backends: readonly DemoBackend[]): Promise<RunningBackends> {
  const started: EchoServer[] = [];
  const close = async (): Promise<void> => {
    await Promise.all(started.map((s) => s.close()));
  };
  for (const b of backends) {
    try {
      started.push(await startEchoServer({ name: b.name, port: b.port }));
    } catch (err) {
      await close();
      const e = err as NodeJS.ErrnoException;
      const why = e.code === 'EADDRINUSE' ? 'the port is already in use (another demo still running?)' : e.message;
      throw new Error(`cannot start echo backend "${b.name}" on 127.0.0.1:${b.port}: ${why}`, { cause: err });
    }
  }
  return { close };
}
