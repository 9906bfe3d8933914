// npm run bench -- [options]
//
// Archway side by side with nginx, proxying the same nginx backend, on this machine, in one
// run (method: docs/BENCHMARKING.md). The proxy under test runs on CPU 1, wrk and the backend
// on CPU 0. Contenders alternate within each round; the report quotes medians and the median
// of per-round ratios. Raw results go to bench/out/.

import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  addWorktree,
  DEFAULT_ARCHWAY_CMD,
  gitInfo,
  repoRoot,
  resolveRevision,
  writeManifests,
  type Worktree,
} from './archway.ts';
import { archwayContender, nginxContender, type ContenderContext } from './contenders.ts';
import {
  measureOnce,
  SCENARIOS,
  type Contender,
  type Measurement,
  type MeasureOptions,
  type ScenarioId,
} from './measure.ts';
import { backendConfig, LARGE_PATH, LARGE_SIZE, SMALL_BODY, startNginx } from './nginx.ts';
import { freePort, httpGet, killAllSync, stopAll } from './processes.ts';
import { formatValue, renderReport } from './report.ts';
import { createBenchTls, TLS_HOST, TLS_SECRET } from './tls.ts';
import { ensureTools } from './tools.ts';

const USAGE = `Benchmark Archway against nginx as reverse proxy (see docs/BENCHMARKING.md).

usage: npm run bench -- [options]      (or: node bench/run.ts [options])

  --quick             1 round, 2 s measurements, 1 s warm-up, scenarios a,c,e,f (about 1-2 min)
  --rounds N          rounds of alternating contenders (default 3)
  --duration S        seconds of each measured run (default 8)
  --warmup S          seconds of warm-up before each measurement (default 3)
  --scenarios LIST    comma-separated subset of a,b,c,e,f (default a,b,c,e,f)
                        a: 100 B body, 50 connections     b: 100 B body, 500 connections
                        c: 1 MiB body, 10 connections     (d: memory, measured alongside)
                        e: HTTPS keep-alive, 100 B body, 50 connections (wrk over TLS, SNI)
                        f: a new TLS 1.3 connection (full handshake) per request, 16 clients
                           (openssl s_time -new)
  --archway-cmd CMD   command to start Archway instead of "${DEFAULT_ARCHWAY_CMD}"; runs in the
                      tree under test; "node" means this Node. Unless CMD contains {httpPort},
                      "serve --manifests M --http-port P --admin-port A --bind 127.0.0.1
                      --admin-bind 127.0.0.1" is appended, then "--https-port H",
                      "--default-ssl-certificate bench/bench-tls" and "--workers 1" where
                      "serve --help" offers them. Placeholders: {tree} {manifests} {httpPort}
                      {httpsPort} {adminPort} {backendPort}. Example (harness test):
                      --archway-cmd "node bench/standin-proxy.ts"
  --against REV       also benchmark Archway at git revision REV (a temporary worktree)
  --no-unbuffered     skip nginx with proxy_buffering off on scenario c
  --keep-tmp          keep the temporary directory (configs, manifests) for inspection
  --help              this text
`;

const PROXY_CPU = 1;
const LOAD_CPU = 0;

interface Options {
  rounds: number;
  durationSec: number;
  warmupSec: number;
  scenarios: ScenarioId[];
  archwayCmd: string;
  against: string | undefined;
  unbuffered: boolean;
  keepTmp: boolean;
}

function positiveNumber(name: string, text: string | undefined, fallback: number, integer: boolean): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0 || (integer && !Number.isInteger(value)) || value > 3600) {
    throw new Error(`${name} wants a positive ${integer ? 'integer' : 'number'}, got ${JSON.stringify(text)}`);
  }
  return value;
}

function parseOptions(argv: readonly string[]): Options | undefined {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      quick: { type: 'boolean', default: false },
      rounds: { type: 'string' },
      duration: { type: 'string' },
      warmup: { type: 'string' },
      scenarios: { type: 'string' },
      'archway-cmd': { type: 'string' },
      against: { type: 'string' },
      'no-unbuffered': { type: 'boolean', default: false },
      'keep-tmp': { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) return undefined;
  const quick = values.quick;
  const scenarioText = values.scenarios ?? (quick ? 'a,c,e,f' : 'a,b,c,e,f');
  const scenarios = scenarioText.split(',').map((s) => s.trim()).filter((s) => s !== '');
  for (const s of scenarios) {
    if (!(s in SCENARIOS)) throw new Error(`--scenarios: unknown scenario ${JSON.stringify(s)} (a, b, c, e, f)`);
  }
  if (scenarios.length === 0) throw new Error('--scenarios: empty');
  const warmupText = values.warmup;
  return {
    rounds: positiveNumber('--rounds', values.rounds, quick ? 1 : 3, true),
    durationSec: positiveNumber('--duration', values.duration, quick ? 2 : 8, true),
    warmupSec: warmupText === '0' ? 0 : positiveNumber('--warmup', warmupText, quick ? 1 : 3, true),
    scenarios: [...new Set(scenarios)] as ScenarioId[],
    archwayCmd: values['archway-cmd'] ?? DEFAULT_ARCHWAY_CMD,
    against: values.against,
    unbuffered: !values['no-unbuffered'],
    keepTmp: values['keep-tmp'],
  };
}

// ---- cleanup: every exit path stops what we started ------------------------------------------

const cleanups: Array<() => void> = [];
let cleanedUp = false;

function cleanupSync(): void {
  if (cleanedUp) return;
  cleanedUp = true;
  killAllSync();
  for (const cleanup of cleanups.reverse()) {
    try {
      cleanup();
    } catch (error) {
      console.error(`# cleanup: ${(error as Error).message}`);
    }
  }
}

function onSignal(signal: NodeJS.Signals, code: number): void {
  process.on(signal, () => {
    console.error(`\n# ${signal}: stopping everything`);
    cleanupSync();
    process.exit(code);
  });
}

/** Pin this harness to the load CPU, so its sampling never steals time from the proxy. */
function pinSelf(): void {
  try {
    execFileSync('taskset', ['-a', '-p', '-c', String(LOAD_CPU), String(process.pid)], { stdio: 'ignore' });
  } catch {
    console.error('# warning: could not pin the harness to CPU 0');
  }
}

function log(line: string): void {
  console.error(line);
}

function progressLine(m: Measurement, total: number, index: number): string {
  const head = `# [${index}/${total}] round ${m.round} (${m.scenario}) ${m.contender}:`;
  if (!m.ok) return `${head} FAILED: ${m.error}`;
  const unit = SCENARIOS[m.scenario].unit;
  const pct = (x: number | undefined): string => (x === undefined ? '?' : `${Math.round(x * 100)}%`);
  const lat = m.wrk?.latencyMs;
  const hs = m.handshakes;
  const latency = hs !== undefined
    ? `mean ${hs.meanMs.toFixed(2)} ms, ${hs.connections} connections (${hs.resumed} resumed)`
    : `p50 ${lat?.p50 ?? '?'} ms, p99 ${lat?.p99 ?? '?'} ms`;
  return (
    `${head} ${formatValue(m.value, unit)} ${unit}, ${latency}, ` +
    `proxy CPU ${pct(m.proxyCpu)}, load core ${pct(m.loadCoreBusy)}` +
    (m.cpuUsPerRequest !== undefined ? `, ${m.cpuUsPerRequest.toFixed(1)} µs/${hs !== undefined ? 'connection' : 'req'}` : '') +
    (m.tls !== undefined ? `, ${m.tls.protocol}` : '') +
    (m.warnings.length > 0 ? `  [${m.warnings.map((w) => `${w.kind}: ${w.detail}`).join('; ')}]` : '')
  );
}

async function main(): Promise<number> {
  let parsed: Options | undefined;
  try {
    parsed = parseOptions(process.argv.slice(2));
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (parsed === undefined) {
    console.log(USAGE);
    return 0;
  }
  const options = parsed;
  const cpuCount = os.availableParallelism(); // before pinSelf() narrows it to one
  if (cpuCount < 2) {
    console.error('need at least 2 CPUs (proxy on CPU 1, load on CPU 0)');
    return 2;
  }
  onSignal('SIGINT', 130);
  onSignal('SIGTERM', 143);
  onSignal('SIGHUP', 129);
  process.on('exit', cleanupSync);
  pinSelf();

  const benchDir = dirname(fileURLToPath(import.meta.url));
  const repo = repoRoot(benchDir);
  const tools = ensureTools(options.scenarios.includes('f'));
  const startedAt = new Date();
  const archwayGit = gitInfo(repo); // now: other commits may land while we measure

  const tmpRoot = mkdtempSync(join(os.tmpdir(), 'archway-bench-'));
  chmodSync(tmpRoot, 0o755); // nginx workers run as nobody when we are root
  cleanups.push(() => {
    if (options.keepTmp) console.error(`# kept ${tmpRoot}`);
    else rmSync(tmpRoot, { recursive: true, force: true });
  });

  // Backend: nginx, one worker, pinned with the load generator.
  const wwwRoot = join(tmpRoot, 'www');
  mkdirSync(wwwRoot);
  const largeBody = randomBytes(LARGE_SIZE);
  writeFileSync(join(wwwRoot, LARGE_PATH.slice(1)), largeBody);
  const backendPort = await freePort();
  const backendPrefix = join(tmpRoot, 'backend');
  await startNginx(
    tools.nginx,
    'backend',
    backendPrefix,
    backendConfig(backendPrefix, backendPort, wwwRoot),
    backendPort,
    String(LOAD_CPU),
  );
  const small = await httpGet(backendPort, '/');
  const large = await httpGet(backendPort, LARGE_PATH);
  if (small.status !== 200 || small.body.toString('latin1') !== SMALL_BODY || !large.body.equals(largeBody)) {
    throw new Error(
      `backend self-check failed: GET / -> ${small.status}, ${small.body.length} bytes; ` +
        `GET ${LARGE_PATH} -> ${large.status}, ${large.body.length} bytes`,
    );
  }
  log(`# backend: nginx on 127.0.0.1:${backendPort} (CPU ${LOAD_CPU})`);

  // TLS scenarios: one ECDSA P-256 certificate for bench.local, PEM files for nginx, a
  // kubernetes.io/tls Secret + spec.tls entry for Archway.
  const withTls = options.scenarios.some((s) => SCENARIOS[s].tls);
  const tls = withTls ? createBenchTls(tmpRoot) : undefined;
  const manifestsDir = join(tmpRoot, 'manifests');
  writeManifests(
    manifestsDir,
    backendPort,
    tls === undefined ? undefined : { cert: tls.certPem, key: tls.keyPem, host: TLS_HOST, secret: TLS_SECRET },
  );
  const context: ContenderContext = {
    nginxBin: tools.nginx,
    tmpRoot,
    backendPort,
    manifestsDir,
    proxyCpus: String(PROXY_CPU),
    tls,
    tlsSecret: tls === undefined ? undefined : `${TLS_SECRET.namespace}/${TLS_SECRET.name}`,
  };
  if (tls !== undefined) log(`# TLS: ECDSA P-256 certificate for ${TLS_HOST} (${tls.fingerprint256.slice(0, 23)}...)`);

  const archwayId = 'archway';
  const contenders: Contender[] = [
    await archwayContender(context, archwayId, options.archwayCmd, repo),
    nginxContender(context, 'nginx', true),
  ];
  const unbufferedId = 'nginx-unbuffered';
  if (options.unbuffered && options.scenarios.includes('c')) {
    contenders.push(nginxContender(context, unbufferedId, false, ['c']));
  }
  let revisionId: string | undefined;
  let worktree: Worktree | undefined;
  if (options.against !== undefined) {
    const commit = resolveRevision(repo, options.against);
    worktree = addWorktree(repo, commit, join(tmpRoot, 'worktree'));
    const tree = worktree;
    cleanups.push(() => tree.remove());
    revisionId = `archway@${options.against}`;
    contenders.push(await archwayContender(context, revisionId, options.archwayCmd, worktree.path));
    log(`# ${revisionId}: worktree of ${commit.slice(0, 12)} at ${worktree.path}`);
  }
  for (const c of contenders) log(`# ${c.id}: ${c.describe}`);

  // The plan: rounds x scenarios x contenders, contenders alternating within each scenario.
  const plan: Array<{ round: number; scenario: ScenarioId; contender: Contender }> = [];
  for (let round = 1; round <= options.rounds; round++) {
    for (const scenario of options.scenarios) {
      for (const contender of contenders) {
        if (contender.only === undefined || contender.only.includes(scenario)) {
          plan.push({ round, scenario, contender });
        }
      }
    }
  }
  // Bound the whole run: every measurement is itself bounded (start 30 s, verify 5 s,
  // wrk duration + 15 s); this is the backstop should anything still hang.
  const perMeasurement = options.warmupSec + options.durationSec + 4;
  const budgetSec = Math.ceil(plan.length * perMeasurement * 2 + 120);
  log(`# ${plan.length} measurements, about ${Math.ceil((plan.length * perMeasurement) / 60)} min (hard limit ${Math.ceil(budgetSec / 60)} min)`);
  const watchdog = setTimeout(() => {
    console.error(`# run exceeded its ${budgetSec} s budget: stopping everything`);
    cleanupSync();
    process.exit(3);
  }, budgetSec * 1000);
  watchdog.unref();

  const measurements: Measurement[] = [];
  const measureOptions: MeasureOptions = {
    wrkBin: tools.wrk,
    opensslBin: tools.openssl,
    tls,
    scratchDir: tmpRoot,
    durationSec: options.durationSec,
    warmupSec: options.warmupSec,
    loadCpu: LOAD_CPU,
    proxyCpu: PROXY_CPU,
    largeBody,
  };
  let index = 0;
  for (const step of plan) {
    index++;
    if (step.contender.failure !== undefined) continue; // reported once, below
    if (SCENARIOS[step.scenario].tls && step.contender.httpsFailure !== undefined) continue;
    const m = await measureOnce(step.contender, SCENARIOS[step.scenario], step.round, measureOptions);
    measurements.push(m);
    log(progressLine(m, plan.length, index));
    if (!m.ok && m.tail) log(m.tail.split('\n').slice(-20).map((l) => `#   | ${l}`).join('\n'));
  }
  clearTimeout(watchdog);
  await stopAll();

  const metaLines = [
    `${startedAt.toISOString()}, ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${cpuCount} CPUs, ${os.release()}`,
    `proxy under test on CPU ${PROXY_CPU}; wrk and backend (nginx, 1 worker) on CPU ${LOAD_CPU}`,
    `${options.rounds} round(s), wrk -t1 -d${options.durationSec}s --latency after ${options.warmupSec} s warm-up, fresh start per measurement`,
    `node ${process.version}, ${tools.nginxVersion}, ${tools.wrkVersion}${tools.opensslVersion === undefined ? '' : `, ${tools.opensslVersion}`}`,
    `archway: ${archwayGit.commit.slice(0, 12)}${archwayGit.dirty ? ' + uncommitted changes' : ''}` +
      (options.archwayCmd !== DEFAULT_ARCHWAY_CMD ? `, command overridden: \`${options.archwayCmd}\`` : ''),
  ];
  if (worktree !== undefined) metaLines.push(`${revisionId}: ${worktree.commit.slice(0, 12)}`);
  if (tls !== undefined) {
    metaLines.push(
      `TLS rows: one ECDSA P-256 certificate for ${TLS_HOST} generated for this run, served by both ` +
        `(Archway: Secret ${TLS_SECRET.namespace}/${TLS_SECRET.name} in spec.tls; nginx: the same PEM files)`,
    );
  }
  const reportInput = {
    title: `Archway vs nginx${options.rounds === 1 ? ' (single round: indicative only)' : ''}`,
    metaLines,
    scenarios: options.scenarios,
    contenders,
    measurements,
    archway: archwayId,
    nginx: 'nginx',
    nginxUnbuffered: contenders.some((c) => c.id === unbufferedId) ? unbufferedId : undefined,
    revision: revisionId,
  };
  console.log(renderReport(reportInput, false));

  const outDir = join(benchDir, 'out');
  mkdirSync(outDir, { recursive: true });
  const stamp = startedAt.toISOString().replace(/[:.]/g, '-');
  const jsonPath = join(outDir, `bench-${stamp}.json`);
  writeFileSync(
    jsonPath,
    `${JSON.stringify(
      {
        startedAt: startedAt.toISOString(),
        finishedAt: new Date().toISOString(),
        machine: { cpu: os.cpus()[0]?.model, cpus: cpuCount, kernel: os.release() },
        versions: { node: process.version, nginx: tools.nginxVersion, wrk: tools.wrkVersion, openssl: tools.opensslVersion },
        git: { ...archwayGit, against: worktree === undefined ? undefined : { rev: options.against, commit: worktree.commit } },
        options,
        pinning: { proxyCpu: PROXY_CPU, loadCpu: LOAD_CPU },
        scenarios: options.scenarios.map((s) => SCENARIOS[s]),
        contenders: contenders.map((c) => ({
          id: c.id,
          command: c.describe,
          only: c.only,
          failure: c.failure,
          httpsFailure: c.httpsFailure,
        })),
        measurements,
      },
      null,
      2,
    )}\n`,
  );
  writeFileSync(join(outDir, `bench-${stamp}.md`), renderReport(reportInput, true));
  log(`# raw results: ${jsonPath} (and .md with per-measurement details)`);
  const anyFailure =
    contenders.some((c) => c.failure !== undefined || c.httpsFailure !== undefined) || measurements.some((m) => !m.ok);
  return anyFailure ? 1 : 0;
}

main().then(
  (code) => {
    cleanupSync();
    process.exit(code);
  },
  (error: unknown) => {
    console.error(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    cleanupSync();
    process.exit(1);
  },
);
