// Scenarios, contenders and one measurement: fresh start, verify, warm up, measure, stop.

import { runHandshakes, type HandshakeResult } from './handshakes.ts';
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
import { TLS_HOST, verifyTls, type BenchTls, type TlsCheck } from './tls.ts';
import { runWrk, type WrkResult } from './wrk.ts';

export type ScenarioId = 'a' | 'b' | 'c' | 'e' | 'f';

export interface Scenario {
  id: ScenarioId;
  title: string;
  path: string;
  /** wrk connections, or concurrent s_time clients for 'handshakes'. */
  connections: number;
  unit: 'req/s' | 'MiB/s' | 'handshakes/s';
  /** Served over the HTTPS listener (with the run's bench.local certificate). */
  tls: boolean;
  /** 'wrk': keep-alive connections. 'handshakes': a new TLS connection (full handshake) per request. */
  load: 'wrk' | 'handshakes';
}

export const SCENARIOS: Record<ScenarioId, Scenario> = {
  a: { id: 'a', title: '100 B, 50 conns', path: '/', connections: 50, unit: 'req/s', tls: false, load: 'wrk' },
  b: { id: 'b', title: '100 B, 500 conns', path: '/', connections: 500, unit: 'req/s', tls: false, load: 'wrk' },
  c: { id: 'c', title: '1 MiB, 10 conns', path: LARGE_PATH, connections: 10, unit: 'MiB/s', tls: false, load: 'wrk' },
  e: { id: 'e', title: 'HTTPS keep-alive, 100 B, 50 conns', path: '/', connections: 50, unit: 'req/s', tls: true, load: 'wrk' },
  f: {
    id: 'f',
    title: 'new TLS 1.3 connection per request, 16 clients',
    path: '/',
    connections: 16,
    unit: 'handshakes/s',
    tls: true,
    load: 'handshakes',
  },
};

export interface Instance {
  proc: Proc;
  /** Plain HTTP listener (verified before every measurement). */
  port: number;
  /** HTTPS listener, for TLS scenarios. */
  httpsPort?: number;
}

export interface Failure {
  message: string;
  tail: string;
}

export interface Contender {
  id: string;
  /** What runs, for the report. */
  describe: string;
  /** Scenarios this contender takes part in; undefined means all. */
  only?: readonly ScenarioId[];
  /**
   * Start a fresh instance for `scenario` and wait until it is ready (for TLS scenarios, the HTTPS
   * port too); throws (StartError) otherwise.
   */
  start(scenario: Scenario): Promise<Instance>;
  /** Set after the first failed start or verification; the contender is skipped afterwards. */
  failure?: Failure;
  /** The same for the HTTPS side: set by a failure in a TLS scenario; TLS scenarios are skipped afterwards. */
  httpsFailure?: Failure;
}

export interface Measurement {
  round: number;
  scenario: ScenarioId;
  contender: string;
  ok: boolean;
  error?: string;
  tail?: string;
  /** req/s, MiB/s or handshakes/s, per the scenario's unit. */
  value?: number;
  wrk?: WrkResult;
  /** Scenario f: the s_time clients' totals. */
  handshakes?: HandshakeResult;
  /** TLS scenarios: what the check before the load negotiated. */
  tls?: TlsCheck;
  rssIdleKiB?: number;
  pssIdleKiB?: number;
  rssPeakKiB?: number;
  /** CPU time of the contender's process tree per request (per handshake in f), microseconds. */
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

export type WarningKind =
  | 'load-core-saturated'
  | 'background-load'
  | 'socket-errors'
  | 'non-2xx'
  | 'resumed-sessions'
  | 'response-size';

export interface Warning {
  kind: WarningKind;
  /** Short, per measurement: "97%", "timeout 230". */
  detail: string;
}

export const WARNING_TEXT: Record<WarningKind, string> = {
  'load-core-saturated':
    'load core (CPU 0: load generator + backend) at 95% or more: the figure may be capped by the load side, not the proxy (read it as a lower bound)',
  'background-load':
    'CPU 0 or 1 still more than 10% busy after waiting 5 s with our processes idle: another workload shares this machine, figures are noisy',
  'socket-errors': 'wrk socket errors (timeouts are requests slower than 2 s)',
  'non-2xx': 'non-2xx/3xx responses under load',
  'resumed-sessions': 'openssl s_time reported resumed sessions: (f) is meant to count full handshakes only',
  'response-size':
    'openssl s_time read a different number of bytes per connection than the verified 200 response has: some answers under load were not that response',
};

export interface MeasureOptions {
  wrkBin: string;
  /** For scenario f (openssl s_time). */
  opensslBin?: string;
  durationSec: number;
  warmupSec: number;
  loadCpu: number;
  proxyCpu: number;
  largeBody: Buffer;
  /** The run's certificate and wrk script, for TLS scenarios. */
  tls?: BenchTls;
  /** Where s_time output goes. */
  scratchDir: string;
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
  /** CPU time of the load generator (wrk, or all s_time clients). */
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
  // In a TLS scenario, what fails is taken to be the HTTPS side: only TLS scenarios are skipped
  // afterwards (a contender that cannot start at all fails the plain scenarios on its own).
  const fail = (message: string, tail: string): Measurement => {
    result.error = message;
    result.tail = tail;
    if (scenario.tls) contender.httpsFailure = { message, tail };
    else contender.failure = { message, tail };
    return result;
  };
  let instance: Instance;
  try {
    instance = await contender.start(scenario);
  } catch (error) {
    return fail((error as Error).message, error instanceof StartError ? error.tail : '');
  }
  const { proc, port } = instance;
  try {
    try {
      await verify(port, options.largeBody);
    } catch (error) {
      result.error = (error as Error).message;
      result.tail = proc.outputTail();
      contender.failure = { message: result.error, tail: result.tail }; // plain HTTP broken: skip every scenario
      return result;
    }
    if (scenario.tls) {
      try {
        if (options.tls === undefined) throw new Error('no TLS material for a TLS scenario');
        if (instance.httpsPort === undefined) throw new Error('no HTTPS listener');
        result.tls = await verifyTls(instance.httpsPort, options.tls, scenario.load === 'wrk');
      } catch (error) {
        return fail((error as Error).message, proc.outputTail());
      }
    }
    result.backgroundBusy = await waitForQuietCores(options.loadCpu, options.proxyCpu);
    const idleTree = processTree(proc.pid);
    result.rssIdleKiB = rssKiB(idleTree);
    result.pssIdleKiB = pssKiB(idleTree) || undefined;

    const samples: Sample[] = [];
    const sample = (loadPids: readonly number[]): void => {
      const tree = processTree(proc.pid);
      samples.push({
        at: performance.now(),
        proxyCpuSec: cpuSeconds(tree),
        wrkCpuSec: cpuSeconds(loadPids),
        rssKiB: rssKiB(tree),
        loadCore: coreTimes(options.loadCpu),
        proxyCore: coreTimes(options.proxyCpu),
      });
    };
    let served: number;
    if (scenario.load === 'wrk') {
      const url = scenario.tls
        ? `https://${TLS_HOST}:${instance.httpsPort}${scenario.path}` // SNI + Host bench.local; the script connects to 127.0.0.1
        : `http://127.0.0.1:${port}${scenario.path}`;
      const wrkBase = {
        bin: options.wrkBin,
        url,
        connections: scenario.connections,
        cpus: String(options.loadCpu),
        script: scenario.tls ? options.tls?.wrkScript : undefined,
      };
      if (options.warmupSec > 0) await runWrk({ ...wrkBase, durationSec: options.warmupSec, latency: false });
      const wrk = await runWrk({
        ...wrkBase,
        durationSec: options.durationSec,
        latency: true,
        onSample: (wrkPid) => sample([wrkPid]),
      });
      result.wrk = wrk;
      result.value = scenario.unit === 'MiB/s' ? wrk.bytesPerSec / 2 ** 20 : wrk.requestsPerSec;
      served = wrk.requests;
    } else {
      if (options.opensslBin === undefined) throw new Error('openssl not available for scenario f');
      const base = {
        opensslBin: options.opensslBin,
        port: instance.httpsPort!,
        host: TLS_HOST,
        clients: scenario.connections,
        outDir: options.scratchDir,
        cpus: String(options.loadCpu),
      };
      if (options.warmupSec > 0) await runHandshakes({ ...base, durationSec: options.warmupSec });
      const handshakes = await runHandshakes({ ...base, durationSec: options.durationSec, onSample: sample });
      result.handshakes = handshakes;
      result.value = handshakes.perSec;
      served = handshakes.connections;
    }
    if (!proc.running) {
      result.error = `${contender.id} ${proc.describeExit()} during the load`;
      result.tail = proc.outputTail();
      return result;
    }
    if (served === 0) {
      result.error = scenario.load === 'wrk' ? 'wrk completed no request' : 'openssl s_time completed no connection';
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
      if (result.value > 0 && scenario.unit !== 'MiB/s') result.cpuUsPerRequest = (result.proxyCpu / result.value) * 1e6;
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
    if (result.wrk !== undefined) {
      const errors = Object.entries(result.wrk.socketErrors).filter(([, count]) => count > 0);
      if (errors.length > 0) {
        result.warnings.push({ kind: 'socket-errors', detail: errors.map(([name, count]) => `${name} ${count}`).join(', ') });
      }
      if (result.wrk.non2xx > 0) result.warnings.push({ kind: 'non-2xx', detail: String(result.wrk.non2xx) });
    }
    const hs = result.handshakes;
    if (hs !== undefined) {
      if (hs.resumed > 0) result.warnings.push({ kind: 'resumed-sessions', detail: `${hs.resumed} of ${hs.connections}` });
      const want = result.tls?.responseBytes;
      // s_time divides with integers; Date is fixed-width, so one response size is expected.
      if (want !== undefined && hs.bytesPerConnection !== undefined && Math.abs(hs.bytesPerConnection - want) > 1) {
        result.warnings.push({ kind: 'response-size', detail: `${hs.bytesPerConnection} bytes, want ${want}` });
      }
    }
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
