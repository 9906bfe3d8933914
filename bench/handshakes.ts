// New TLS connections per second (scenario f): `openssl s_time -new`, several in parallel.
//
// Why not wrk: wrk reconnects after `Connection: close`, but it keeps the OpenSSL session in the
// connection's SSL object (SSL_shutdown + SSL_clear), so about half of its reconnections are
// resumed (PSK) handshakes, a mix that depends on each server's ticket policy. `s_time -new`
// makes a fresh SSL object per connection and never offers a session: every connection is a full
// handshake. Each s_time is sequential (connect, handshake, one request, read until the server
// closes, close), so several run at once to keep the server busy.

import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Proc, sleep } from './processes.ts';

export interface HandshakeResult {
  /** Completed connections (handshake + request + response), all clients. */
  connections: number;
  /** Connections s_time reported as resumed ('r'); 0 expected. */
  resumed: number;
  /** Sum over clients of connections / that client's wall time. */
  perSec: number;
  /** Longest client wall time, seconds. */
  seconds: number;
  /** Mean time per connection seen by a client (clients / perSec), milliseconds. */
  meanMs: number;
  /** Response bytes per connection as s_time counts them (integer division), from the first client. */
  bytesPerConnection: number | undefined;
  clients: number;
}

export interface HandshakeOptions {
  opensslBin: string;
  port: number;
  /** Host header of the request (no SNI is sent either way). */
  host: string;
  clients: number;
  durationSec: number;
  /** Directory for the clients' stdout (one progress character per connection). */
  outDir: string;
  cpus?: string;
  /** Called every `sampleMs` while all clients run, with their pids. */
  onSample?: (pids: readonly number[]) => void;
  sampleMs?: number;
}

let runs = 0;

/**
 * s_time sends `GET <www> HTTP/1.0\r\n\r\n`. A bare HTTP/1.0 request has no Host header, which
 * real clients always send (and Archway forwards it upstream with an empty Host, which nginx as
 * backend answers with 400); so the -www argument (argv, no shell) carries the request line's end
 * and two headers, and s_time's own " HTTP/1.0" ends up as the value of a third.
 */
export function sTimeWww(host: string): string {
  return `/ HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\nX-Bench-Client: s_time`;
}

/** The exact request s_time sends with `-www sTimeWww(host)`. */
export function sTimeRequest(host: string): string {
  return `GET ${sTimeWww(host)} HTTP/1.0\r\n\r\n`;
}

/**
 * `openssl s_time -connect 127.0.0.1:PORT -new -tls1_3 -time S -www <request>` x clients,
 * started together; bounded to the duration plus 15 s (s_time reads each response until the
 * server closes, so a proxy that ignored `Connection: close` would otherwise hang it).
 */
export async function runHandshakes(options: HandshakeOptions): Promise<HandshakeResult> {
  const run = ++runs;
  const args = ['s_time', '-connect', `127.0.0.1:${options.port}`, '-new', '-tls1_3', '-time', String(options.durationSec), '-www', sTimeWww(options.host)];
  const clients: Array<{ proc: Proc; file: string; startedAt: number; endedAt?: number }> = [];
  try {
    for (let i = 0; i < options.clients; i++) {
      // stdout to a file: s_time writes (and flushes) one character per connection, and reading
      // thousands of tiny pipe writes per second would load the harness on the load core.
      const file = join(options.outDir, `s_time-${run}-${i}.out`);
      const fd = openSync(file, 'w', 0o644);
      let proc: Proc;
      try {
        proc = new Proc('s_time', options.opensslBin, args, { cpus: options.cpus, stdoutFd: fd });
      } finally {
        closeSync(fd);
      }
      const client: (typeof clients)[number] = { proc, file, startedAt: performance.now() };
      void proc.exited.then(() => {
        client.endedAt = performance.now();
      });
      clients.push(client);
    }
    const deadline = Date.now() + (options.durationSec + 15) * 1000;
    const sampleMs = options.sampleMs ?? 250;
    const allExited = Promise.all(clients.map((c) => c.proc.exited));
    for (;;) {
      const running = clients.filter((c) => c.proc.running).length;
      if (running === 0) break;
      if (clients.some((c) => c.proc.exitInfo !== undefined && c.proc.exitInfo.code !== 0)) break; // fail fast, below
      if (Date.now() > deadline) {
        throw new Error(`openssl s_time did not finish within ${options.durationSec + 15} s (${running} of ${clients.length} still running)`);
      }
      await Promise.race([sleep(sampleMs), allExited]);
      if (clients.every((c) => c.proc.running) && options.onSample !== undefined) {
        options.onSample(clients.map((c) => c.proc.pid));
      }
    }
    let connections = 0;
    let resumed = 0;
    let perSec = 0;
    let seconds = 0;
    let bytesPerConnection: number | undefined;
    // A failed client first (its message explains), then any other.
    const ordered = [...clients].sort((x, y) => Number(x.proc.exitInfo?.code === 0) - Number(y.proc.exitInfo?.code === 0));
    for (const c of ordered) {
      const out = readFileSync(c.file, 'latin1');
      const summary = /(\d+) connections in \d+ real seconds, (\d+) bytes read per connection/.exec(out);
      if (c.proc.exitInfo === undefined || c.proc.exitInfo.code !== 0 || summary === null) {
        const progress = out.replace(/[*r]{20,}/g, (run) => `[${run.length} progress characters]`).trim();
        throw new Error(
          `openssl s_time ${c.proc.describeExit()}: ${c.proc.outputTail(8) || progress.split('\n').slice(-4).join(' | ') || 'no output'}`,
        );
      }
      const count = Number(summary[1]);
      const wall = ((c.endedAt ?? performance.now()) - c.startedAt) / 1000;
      connections += count;
      perSec += wall > 0 ? count / wall : 0;
      seconds = Math.max(seconds, wall);
      bytesPerConnection ??= Number(summary[2]);
      // Progress: one character per connection, 'r' when the session was resumed.
      for (const line of out.split('\n')) {
        if (/^[*rt3]+$/.test(line)) resumed += line.length - line.replaceAll('r', '').length;
      }
    }
    return {
      connections,
      resumed,
      perSec,
      seconds,
      meanMs: perSec > 0 ? (options.clients / perSec) * 1000 : 0,
      bytesPerConnection,
      clients: options.clients,
    };
  } finally {
    await Promise.all(clients.map((c) => c.proc.stop(500)));
  }
}
