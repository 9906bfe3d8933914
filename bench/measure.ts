// Scenarios, contenders and one measurement: fresh start, verify, warm up, measure, stop.

import { LARGE_PATH, LARGE_SIZE, SMALL_BODY } from './nginx.ts';
import {
  busyFraction,
  coreTimes,
  cpuSeconds,
  httpGet,
  processTree,
  pssKiB,
  rssKiB,
  sleep,
  StartError,
  type CoreTimes,
  type Proc,
} from './processes.ts';
import { runWrk, type WrkResult } from './wrk.ts';

export type ScenarioId = 'a' | 'b' | 'c';

export interface Scenario {
  id: ScenarioId;
  title: string;
  path: string;
  connections: number;
  unit: 'req/s' | 'MiB/s';
}

export const SCENARIOS: Record<ScenarioId, Scenario> = {
  a: { id: 'a', title: '100 B, 50 conns', path: '/', connections: 50, unit: 'req/s' },
  b: { id: 'b', title: '100 B, 500 conns', path: '/', connections: 500, unit: 'req/s' },
  c: { id: 'c', title: '1 MiB, 10 conns', path: LARGE_PATH, connections: 10, unit: 'MiB/s' },
};

export interface Instance {
  proc: Proc;
  port: number;
}

export interface Contender {
  id: string;
  /** What runs, for the report. */
  describe: string;
  /** Scenarios this contender takes part in; undefined means all. */
  only?: readonly ScenarioId[];
  /** Start a fresh instance and wait until it is ready; throws (StartError) otherwise. */
  start(): Promise<Instance>;
  /** Set after the first failed start or verification; the contender is skipped afterwards. */
  failure?: { message: string; tail: string };
}

export interface Measurement {
  round: number;
  scenario: ScenarioId;
  contender: string;
  ok: boolean;
  error?: string;
  tail?: string;
  /** req/s or MiB/s, per the scenario's unit. */
  value?: number;
  wrk?: WrkResult;
  rssIdleKiB?: number;
  pssIdleKiB?: number;
  rssPeakKiB?: number;
  /** CPU time of the contender's process tree per request, microseconds. */
  cpuUsPerRequest?: number;
  /** CPU time of the contender's tree over wall time (1.0 = one core). */
  proxyCpu?: number;
  proxyCoreBusy?: number;
  loadCoreBusy?: number;
  wrkCpu?: number;
  /** CPU busy on the load and proxy cores while everything of ours was idle (other tenants). */
  backgroundBusy?: { load?: number; proxy?: number };
  warnings: Warning[];
}

export type WarningKind = 'load-core-saturated' | 'background-load' | 'socket-errors' | 'non-2xx';

export interface Warning {
  kind: WarningKind;
  /** Short, per measurement: "97%", "timeout 230". */
  detail: string;
}

export const WARNING_TEXT: Record<WarningKind, string> = {
  'load-core-saturated':
    'load core (CPU 0: wrk + backend) at 95% or more: the figure may be capped by the load side, not the proxy (read it as a lower bound)',
  'background-load':
    'CPU 0 or 1 still more than 10% busy after waiting 5 s with our processes idle: another workload shares this machine, figures are noisy',
  'socket-errors': 'wrk socket errors (timeouts are requests slower than 2 s)',
  'non-2xx': 'non-2xx/3xx responses under load',
};

export interface MeasureOptions {
  wrkBin: string;
  durationSec: number;
  warmupSec: number;
  loadCpu: number;
  proxyCpu: number;
  largeBody: Buffer;
}

function describeBody(body: Buffer): string {
  const text = body.subarray(0, 120).toString('utf8').replace(/\s+/g, ' ');
  return `${body.length} bytes${body.length > 0 ? `: ${JSON.stringify(text)}` : ''}`;
}

/** Status 200 and the exact bodies through the proxy; retried for up to 5 s. */
async function verify(port: number, largeBody: Buffer): Promise<void> {
  const deadline = Date.now() + 5000;
  let problem = '';
  for (;;) {
    try {
      const small = await httpGet(port, '/');
      if (small.status !== 200 || small.body.toString('latin1') !== SMALL_BODY) {
        problem = `GET / -> ${small.status}, ${describeBody(small.body)} (want 200 + the 100-byte body)`;
      } else {
        const large = await httpGet(port, LARGE_PATH);
        if (large.status !== 200 || large.body.length !== LARGE_SIZE || !large.body.equals(largeBody)) {
          problem = `GET ${LARGE_PATH} -> ${large.status}, ${large.body.length} bytes (want 200 + the 1 MiB file)`;
        } else return;
      }
    } catch (error) {
      problem = `request failed: ${(error as Error).message}`;
    }
    if (Date.now() > deadline) throw new Error(`body verification failed: ${problem}`);
    await sleep(200);
  }
}

const QUIET = 0.1;

/**
 * With our processes idle, both cores should be too. Sample 0.5 s windows, for up to 5 s, until
 * neither core is more than 10% busy (another tenant's burst passing); return the last window.
 */
async function waitForQuietCores(loadCpu: number, proxyCpu: number): Promise<{ load?: number; proxy?: number }> {
  let busy: { load?: number; proxy?: number } = {};
  for (let attempt = 0; attempt < 10; attempt++) {
    const loadBefore = coreTimes(loadCpu);
    const proxyBefore = coreTimes(proxyCpu);
    await sleep(500);
    busy = { load: busyFraction(loadBefore, coreTimes(loadCpu)), proxy: busyFraction(proxyBefore, coreTimes(proxyCpu)) };
    if ((busy.load ?? 0) <= QUIET && (busy.proxy ?? 0) <= QUIET) break;
  }
  return busy;
}

interface Sample {
  at: number;
  proxyCpuSec: number;
  wrkCpuSec: number;
  rssKiB: number;
  loadCore: CoreTimes | undefined;
  proxyCore: CoreTimes | undefined;
}

export async function measureOnce(
  contender: Contender,
  scenario: Scenario,
  round: number,
  options: MeasureOptions,
): Promise<Measurement> {
  const result: Measurement = { round, scenario: scenario.id, contender: contender.id, ok: false, warnings: [] };
  let instance: Instance;
  try {
    instance = await contender.start();
  } catch (error) {
    result.error = (error as Error).message;
    result.tail = error instanceof StartError ? error.tail : '';
    contender.failure = { message: result.error, tail: result.tail };
    return result;
  }
  const { proc, port } = instance;
  try {
    try {
      await verify(port, options.largeBody);
    } catch (error) {
      result.error = (error as Error).message;
      result.tail = proc.outputTail();
      contender.failure = { message: result.error, tail: result.tail };
      return result;
    }
    result.backgroundBusy = await waitForQuietCores(options.loadCpu, options.proxyCpu);
    const idleTree = processTree(proc.pid);
    result.rssIdleKiB = rssKiB(idleTree);
    result.pssIdleKiB = pssKiB(idleTree) || undefined;

    const url = `http://127.0.0.1:${port}${scenario.path}`;
    const wrkBase = { bin: options.wrkBin, url, connections: scenario.connections, cpus: String(options.loadCpu) };
    if (options.warmupSec > 0) await runWrk({ ...wrkBase, durationSec: options.warmupSec, latency: false });

    const samples: Sample[] = [];
    const wrk = await runWrk({
      ...wrkBase,
      durationSec: options.durationSec,
      latency: true,
      onSample: (wrkPid) => {
        const tree = processTree(proc.pid);
        samples.push({
          at: performance.now(),
          proxyCpuSec: cpuSeconds(tree),
          wrkCpuSec: cpuSeconds([wrkPid]),
          rssKiB: rssKiB(tree),
          loadCore: coreTimes(options.loadCpu),
          proxyCore: coreTimes(options.proxyCpu),
        });
      },
    });
    if (!proc.running) {
      result.error = `${contender.id} ${proc.describeExit()} during the load`;
      result.tail = proc.outputTail();
      return result;
    }
    result.wrk = wrk;
    result.value = scenario.unit === 'req/s' ? wrk.requestsPerSec : wrk.bytesPerSec / 2 ** 20;
    if (wrk.requests === 0) {
      result.error = 'wrk completed no request';
      return result;
    }
    result.ok = true;

    result.rssPeakKiB = Math.max(0, ...samples.map((s) => s.rssKiB));
    const first = samples[0];
    const last = samples.at(-1);
    if (first !== undefined && last !== undefined && last.at - first.at > 200) {
      const wall = (last.at - first.at) / 1000;
      result.proxyCpu = (last.proxyCpuSec - first.proxyCpuSec) / wall;
      result.wrkCpu = (last.wrkCpuSec - first.wrkCpuSec) / wall;
      result.cpuUsPerRequest = (result.proxyCpu / wrk.requestsPerSec) * 1e6;
      result.loadCoreBusy = busyFraction(first.loadCore, last.loadCore);
      result.proxyCoreBusy = busyFraction(first.proxyCore, last.proxyCore);
    }
    const percent = (x: number): string => `${Math.round(x * 100)}%`;
    if (result.loadCoreBusy !== undefined && result.loadCoreBusy >= 0.95) {
      result.warnings.push({ kind: 'load-core-saturated', detail: percent(result.loadCoreBusy) });
    }
    const background = result.backgroundBusy;
    if (Math.max(background.load ?? 0, background.proxy ?? 0) > QUIET) {
      const detail = `CPU 0 ${percent(background.load ?? 0)}, CPU 1 ${percent(background.proxy ?? 0)}`;
      result.warnings.push({ kind: 'background-load', detail });
    }
    const errors = Object.entries(wrk.socketErrors).filter(([, count]) => count > 0);
    if (errors.length > 0) {
      result.warnings.push({ kind: 'socket-errors', detail: errors.map(([name, count]) => `${name} ${count}`).join(', ') });
    }
    if (wrk.non2xx > 0) result.warnings.push({ kind: 'non-2xx', detail: String(wrk.non2xx) });
    return result;
  } catch (error) {
    result.ok = false;
    result.error = (error as Error).message;
    result.tail = proc.outputTail();
    return result;
  } finally {
    await proc.stop();
  }
}
