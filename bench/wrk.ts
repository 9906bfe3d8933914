// Running wrk and parsing its report.

import { Proc, sleep } from './processes.ts';

export interface WrkResult {
  requests: number;
  seconds: number;
  requestsPerSec: number;
  bytesPerSec: number;
  /** Latency percentiles in milliseconds (present with --latency). */
  latencyMs: { p50?: number; p75?: number; p90?: number; p99?: number };
  socketErrors: { connect: number; read: number; write: number; timeout: number };
  non2xx: number;
}

const TIME_UNITS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const SIZE_UNITS: Record<string, number> = { B: 1, KB: 2 ** 10, MB: 2 ** 20, GB: 2 ** 30, TB: 2 ** 40 };

function time(value: string, unit: string): number {
  const factor = TIME_UNITS[unit];
  if (factor === undefined) throw new Error(`wrk: unknown time unit ${unit}`);
  return Number(value) * factor;
}

function size(value: string, unit: string): number {
  const factor = SIZE_UNITS[unit || 'B'];
  if (factor === undefined) throw new Error(`wrk: unknown size unit ${unit}`);
  return Number(value) * factor;
}

export function parseWrk(text: string): WrkResult {
  const requestsLine = /(\d+) requests in ([\d.]+)(us|ms|s|m|h),/.exec(text);
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(text);
  const transfer = /Transfer\/sec:\s+([\d.]+)([KMGT]?B)?/.exec(text);
  if (requestsLine === null || rps === null || transfer === null) {
    throw new Error(`cannot parse wrk output:\n${text.trim()}`);
  }
  const latencyMs: WrkResult['latencyMs'] = {};
  for (const match of text.matchAll(/^\s+(50|75|90|99)%\s+([\d.]+)(us|ms|s|m|h)\s*$/gm)) {
    latencyMs[`p${match[1]}` as keyof WrkResult['latencyMs']] = time(match[2]!, match[3]!);
  }
  const errors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(text);
  return {
    requests: Number(requestsLine[1]),
    seconds: time(requestsLine[2]!, requestsLine[3]!) / 1000,
    requestsPerSec: Number(rps[1]),
    bytesPerSec: size(transfer[1]!, transfer[2] ?? 'B'),
    latencyMs,
    socketErrors: {
      connect: Number(errors?.[1] ?? 0),
      read: Number(errors?.[2] ?? 0),
      write: Number(errors?.[3] ?? 0),
      timeout: Number(errors?.[4] ?? 0),
    },
    non2xx: Number(non2xx?.[1] ?? 0),
  };
}

export interface WrkOptions {
  bin: string;
  url: string;
  connections: number;
  durationSec: number;
  latency: boolean;
  /** Lua script (-s), e.g. the loopback resolver of the HTTPS scenario. */
  script?: string;
  cpus?: string;
  /** Called every `sampleMs` while wrk runs, with wrk's pid. */
  onSample?: (wrkPid: number) => void;
  sampleMs?: number;
}

/** Run `wrk -t1 -cN -dS [--latency] [-s SCRIPT] URL`; bounded to the duration plus 15 s. */
export async function runWrk(options: WrkOptions): Promise<WrkResult> {
  const args = ['-t1', `-c${options.connections}`, `-d${options.durationSec}s`];
  if (options.latency) args.push('--latency');
  if (options.script !== undefined) args.push('-s', options.script);
  args.push(options.url);
  const proc = new Proc('wrk', options.bin, args, { cpus: options.cpus });
  const deadline = Date.now() + (options.durationSec + 15) * 1000;
  const sampleMs = options.sampleMs ?? 250;
  let finished = false;
  void proc.exited.then(() => {
    finished = true;
  });
  while (!finished) {
    if (Date.now() > deadline) {
      await proc.stop(500);
      throw new Error(`wrk did not finish within ${options.durationSec + 15} s`);
    }
    await Promise.race([sleep(sampleMs), proc.exited]);
    if (!finished && options.onSample !== undefined) options.onSample(proc.pid);
  }
  const exit = await proc.exited;
  if (exit.code !== 0) {
    throw new Error(`wrk ${proc.describeExit()}: ${proc.outputTail()}`);
  }
  return parseWrk(proc.stdoutTail());
}
