// `npm start`: the local demo. Starts the four echo backends that examples/backends.yaml points
// at, runs `archway serve` on the bundled examples, waits until it is ready, and prints one curl
// line per routing decision (then checks each one itself). Ctrl-C stops everything.
//
//   npm start [-- --http-port N] [-- --admin-port N]

import { spawn } from 'node:child_process';
import { DEMO_TLS_HOST, writeDemoSecret } from '../demo/demo-secret.ts';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DEMO_BACKENDS, startDemoBackends } from '../demo/backends.ts';
import type { RunningBackends } from '../demo/backends.ts';
import { checkRoute, curlLines, DEMO_ROUTES, TEST_INGRESS_NOTE } from '../demo/routes.ts';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const MAIN = `${REPO}bin/archway.js`;
const EXAMPLES = `${REPO}examples`;
const READY_TIMEOUT_MS = 60_000;

const USAGE = `usage: npm start [-- --http-port N] [-- --https-port N] [-- --admin-port N]

Runs Archway on examples/ with four echo backends (test, service1, service2, service3 on
127.0.0.1:9101-9104), generates the TLS example's certificate into .archway-demo/, and prints
curl lines to try. Ctrl-C stops everything.

  --http-port N    Archway HTTP port (default 8080)
  --https-port N   Archway HTTPS port (default 8443)
  --admin-port N   Archway admin port serving /readyz (default 10254)
`;

function fail(message: string, code: number): never {
  process.stderr.write(`demo: ${message}\n`);
  process.exit(code);
}

function parsePort(flag: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!/^\d{1,5}$/.test(value) || Number(value) < 1 || Number(value) > 65535) {
    fail(`${flag} must be a port number 1-65535, got ${JSON.stringify(value)}\n\n${USAGE}`, 2);
  }
  return Number(value);
}

let values;
try {
  ({ values } = parseArgs({
    args: process.argv.slice(2),
    strict: true,
    allowPositionals: false,
    options: {
      'http-port': { type: 'string' },
      'admin-port': { type: 'string' },
      'https-port': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  }));
} catch (err) {
  fail(`${(err as Error).message}\n\n${USAGE}`, 2);
}
if (values.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}
const httpPort = parsePort('--http-port', values['http-port'], 8080);
const adminPort = parsePort('--admin-port', values['admin-port'], 10254);
const httpsPort = parsePort('--https-port', values['https-port'], 8443);

if (!existsSync(MAIN)) fail(`${MAIN} does not exist yet, so there is no Archway to start`, 1);

/** Whether nothing listens on `port` (any address), checked by binding it for a moment. */
function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen({ port, exclusive: true }, () => probe.close(() => resolve(true)));
  });
}
for (const [flag, port] of [['--http-port', httpPort], ['--https-port', httpsPort], ['--admin-port', adminPort]] as const) {
  if (!(await portFree(port))) fail(`port ${port} is already in use; choose another: npm start -- ${flag} N`, 1);
}

let backends: RunningBackends;
try {
  backends = await startDemoBackends(DEMO_BACKENDS);
} catch (err) {
  fail((err as Error).message, 1);
}
console.log(`demo: echo backends ${DEMO_BACKENDS.map((b) => `${b.name}=127.0.0.1:${b.port}`).join(' ')}`);

const secretDir = writeDemoSecret(`${REPO}.archway-demo`);
const args = [MAIN, 'serve', '--manifests', EXAMPLES, '--manifests', secretDir, '--http-port', String(httpPort), '--https-port', String(httpsPort)];
if (values['admin-port'] !== undefined) args.push('--admin-port', String(adminPort));
console.log(`demo: starting ${['node', ...args.map((a) => a.replace(REPO, ''))].join(' ')}`);
const archway: ChildProcess = spawn(process.execPath, args, { stdio: 'inherit' });
const archwayExit = new Promise<void>((resolve) => archway.once('exit', () => resolve()));

let stopping = false;
async function stop(code: number): Promise<never> {
  stopping = true;
  if (archway.exitCode === null && archway.signalCode === null) {
    archway.kill('SIGTERM');
    const timer = setTimeout(() => archway.kill('SIGKILL'), 5000);
    await archwayExit;
    clearTimeout(timer);
  }
  await backends.close();
  process.exit(code);
}

for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    if (stopping) return;
    console.log(`\ndemo: ${sig}, stopping Archway and the echo backends`);
    void stop(0);
  });
}

archway.once('error', (err) => {
  if (stopping) return;
  process.stderr.write(`demo: cannot start Archway: ${err.message}\n`);
  void stop(1);
});
archway.once('exit', (code, signal) => {
  if (stopping) return;
  // Ctrl-C reaches Archway too (same process group); a clean stop is not a failure.
  const clean = code === 0 || signal === 'SIGINT' || signal === 'SIGTERM' || code === 130 || code === 143;
  process.stderr.write(`demo: Archway exited (${signal ?? `code ${code}`})${clean ? '' : ', stopping the demo'}\n`);
  void stop(clean ? 0 : 1);
});

async function waitReady(): Promise<boolean> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline && !stopping) {
    try {
      const res = await fetch(`http://127.0.0.1:${adminPort}/readyz`, { signal: AbortSignal.timeout(1000) });
      await res.body?.cancel();
      if (res.status === 200) return true;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return false;
}

if (!(await waitReady())) {
  if (!stopping) {
    process.stderr.write(`demo: Archway did not answer 200 on http://127.0.0.1:${adminPort}/readyz within ${READY_TIMEOUT_MS / 1000} s\n`);
    await stop(1);
  }
} else {
  console.log(`\nArchway is ready on http://127.0.0.1:${httpPort}. Try:\n`);
  for (const line of curlLines(DEMO_ROUTES, httpPort)) console.log(line);
  console.log(`curl -sk --resolve ${DEMO_TLS_HOST}:${httpsPort}:127.0.0.1 https://${DEMO_TLS_HOST}:${httpsPort}/   # → service1 over TLS (tls-example-ingress, certificate generated into .archway-demo/)`);
  console.log(`curl -si -H 'Host: ${DEMO_TLS_HOST}' http://127.0.0.1:${httpPort}/   # → 308 to https (ssl-redirect for a TLS host)`);
  console.log(`\n# ${TEST_INGRESS_NOTE}.`);
  console.log('# See examples/README.md for what each file demonstrates.\n');

  const problems: string[] = [];
  for (const route of DEMO_ROUTES) {
    const problem = await checkRoute(route, httpPort);
    if (problem) problems.push(`  ${route.host ?? '(no Host)'} ${route.target}: expected ${route.expect}, ${problem}`);
  }
  if (problems.length === 0) console.log(`demo: self-check passed, all ${DEMO_ROUTES.length} routes answer as listed. Ctrl-C to stop.`);
  else console.log(`demo: self-check: ${problems.length} of ${DEMO_ROUTES.length} routes answered differently:\n${problems.join('\n')}\nCtrl-C to stop.`);
}
