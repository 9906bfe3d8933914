// The command line and the admin port as an outside tool drives them (issue 2 item 2: "these flags and
// endpoints are a contract"): real processes, exit codes, stdout/stderr, /healthz, /readyz.

import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { EchoServer } from '../src/demo/echo-server.ts';
import { main } from '../src/main.ts';
import {
  BIN, MAIN, adminJson, backend, closeAll, echoes, ingress, manifestDir, request, rule, runNode, service, spawnArchway, who, yamlDocs,
  type ArchwayProcess,
} from './harness.ts';

const T = { timeout: 15_000 };

/** Every flag issue 2 item 2 lists, with the default the help must show (null: no default). */
const CONTRACT: Array<[flag: string, defaultValue: string | null]> = [
  ['--manifests', null],
  ['--http-port', '8080'],
  ['--https-port', '8443'],
  ['--admin-port', '10254'],
  ['--bind', '0.0.0.0'],
  ['--admin-bind', '127.0.0.1'],
  ['--ingress-class', 'archway'],
  ['--controller-name', 'archway.dev/ingress-controller'],
  ['--watch-ingress-without-class', 'true'],
  ['--default-backend-service', null],
  ['--trusted-proxies', null],
  ['--proxy-connect-timeout', '5s'],
  ['--proxy-read-timeout', '60s'],
];

let dir: string;
before(async () => {
  dir = await manifestDir({ 'empty.yaml': '' });
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('help', () => {
  test('archway --help and archway serve --help document every flag of the contract with its default', T, async () => {
    const [top, serve] = await Promise.all([runNode([BIN, '--help']), runNode([BIN, 'serve', '--help'])]);
    assert.equal(top.code, 0, top.stderr);
    assert.match(top.stdout, /serve/);
    const inProcess = await runMain(['serve', '--help']);
    assert.equal(inProcess.code, 0);
    assert.equal(inProcess.stdout, serve.stdout);
    assert.equal(serve.code, 0, serve.stderr);
    assert.match(serve.stdout, /Usage: archway serve/);
    const lines = serve.stdout.split('\n');
    for (const [flag, def] of CONTRACT) {
      const line = lines.find((l) => new RegExp(`^\\s+${flag}(\\s|$)`).test(l));
      assert.ok(line, `${flag} is not documented:\n${serve.stdout}`);
      if (def !== null) assert.ok(line.includes(`(default ${def})`), `${flag}: expected "(default ${def})" in ${JSON.stringify(line)}`);
    }
    assert.match(lines.find((l) => /^\s+--manifests/.test(l)) ?? '', /repeatable/);
  });

  test('archway without a command prints the usage and exits 2', T, async () => {
    const r = await runMain([]);
    assert.equal(r.code, 2);
    assert.match(r.stdout + r.stderr, /Usage: archway/);
  });
});

/** Runs main() in this process (usage errors never start anything), capturing stdout and stderr. */
async function runMain(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const out = process.stdout.write;
  const err = process.stderr.write;
  process.stdout.write = ((c: string | Uint8Array) => ((stdout += String(c)), true)) as typeof process.stdout.write;
  process.stderr.write = ((c: string | Uint8Array) => ((stderr += String(c)), true)) as typeof process.stderr.write;
  try {
    const code = await main(argv);
    return { code, stdout, stderr };
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
  }
}

describe('usage errors exit 2 with the usage on stderr', () => {
  const cases: Array<[args: string[], message: RegExp]> = [
    [['bogus'], /unknown command "bogus"/],
    [['serve', '--manifests', 'DIR', '--nope'], /unknown flag --nope/],
    [['serve', '--manifests', 'DIR', '-x'], /unknown flag -x/],
    [['serve'], /--manifests is required/],
    [['serve', '--manifests', 'DIR', '--http-port', 'abc'], /--http-port/],
    [['serve', '--manifests', 'DIR', '--http-port', '70000'], /--http-port/],
    [['serve', '--manifests', 'DIR', '--https-port', '-1'], /--https-port/],
    [['serve', '--manifests', 'DIR', '--admin-port'], /--admin-port needs a value/],
    [['serve', '--manifests', 'DIR', '--proxy-read-timeout', '5x'], /--proxy-read-timeout/],
    [['serve', '--manifests', 'DIR', '--proxy-connect-timeout', '-1s'], /--proxy-connect-timeout/],
    [['serve', '--manifests', 'DIR', '--trusted-proxies', '10.0.0.0/40'], /--trusted-proxies/],
    [['serve', '--manifests', 'DIR', '--trusted-proxies', 'not-a-cidr'], /--trusted-proxies/],
    [['serve', '--manifests', 'DIR', '--default-backend-service', 'no-slash'], /--default-backend-service/],
    [['serve', '--manifests', 'DIR', '--default-backend-service', 'ns/name:99999'], /--default-backend-service/],
    [['serve', '--manifests', 'DIR', '--bind', 'not-an-ip'], /--bind/],
    [['serve', '--manifests', 'DIR', '--admin-bind', '300.1.1.1'], /--admin-bind/],
    [['serve', '--manifests', 'DIR', '--ingress-class', ''], /--ingress-class/],
    [['serve', '--manifests', 'DIR', '--watch-ingress-without-class=maybe'], /--watch-ingress-without-class/],
    [['serve', '--manifests', 'DIR', '--http-port', '1', '--http-port', '2'], /more than once/],
    [['serve', '--manifests', 'DIR', 'stray'], /unexpected argument "stray"/],
  ];

  for (const [args, message] of cases) {
    test(`archway ${args.join(' ')}`, T, async () => {
      const r = await runMain(args.map((a) => (a === 'DIR' ? dir : a)));
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, message);
      assert.match(r.stderr, /Usage: archway/, 'no usage on stderr');
      assert.equal(r.stdout, '', 'wrote to stdout');
    });
  }

  test('the same through bin/archway.js: exit code 2, usage on stderr', T, async () => {
    const r = await runNode([BIN, 'serve', '--manifests', dir, '--nope']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unknown flag --nope/);
    assert.match(r.stderr, /Usage: archway serve/);
  });
});

describe('a running archway serve process', () => {
  let be: Record<string, EchoServer>;
  let proc: ArchwayProcess;
  let mdir: string;

  before(async () => {
    be = await echoes('cli');
    mdir = await manifestDir({
      'all.yaml': yamlDocs(service('cli', be.cli.port), ingress('cli', { rules: [rule('cli.test', [['/', 'Prefix', backend('cli')]])] })),
    });
    // Default worker mode: the data plane runs in worker processes.
    proc = await spawnArchway(mdir);
  });
  after(async () => {
    await proc?.stop();
    await closeAll(be);
    await rm(mdir, { recursive: true, force: true });
  });

  test('/healthz and /readyz answer 200 once serving; requests are routed', T, async () => {
    const health = await request(proc.adminPort, '/healthz');
    assert.equal(health.status, 200);
    const ready = await request(proc.adminPort, '/readyz');
    assert.equal(ready.status, 200);
    assert.equal(await who(proc.port, 'cli.test', '/x'), 'cli');
    assert.equal(await who(proc.port, 'other.test', '/x'), 'HTTP 404');
  });

  test('/diagnostics and /routes are JSON', T, async () => {
    assert.deepEqual(await adminJson(proc.adminPort, '/diagnostics'), []);
    const routes = await adminJson<{ hosts: Record<string, unknown> }>(proc.adminPort, '/routes');
    assert.ok(routes.hosts['cli.test']);
  });

  test('the admin port listens on 127.0.0.1 only by default', T, async () => {
    assert.match(proc.stderr(), /admin on http:\/\/127\.0\.0\.1:\d+/);
  });

  test('SIGTERM stops it with exit code 0', T, async () => {
    const t0 = Date.now();
    const code = await proc.stop();
    assert.equal(code, 0, proc.stderr());
    assert.ok(Date.now() - t0 < 5000);
    await assert.rejects(request(proc.port, '/', { host: 'cli.test', timeoutMs: 1000 }));
  });
});

describe('start-up failures', () => {
  let blocker: Server;
  let busyPort: number;
  before(async () => {
    blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    busyPort = (blocker.address() as { port: number }).port;
  });
  after(async () => {
    await new Promise<void>((r) => blocker.close(() => r()));
  });

  for (const workers of ['0', '1']) {
    test(`an HTTP port already in use: exit 1 with a message, promptly (--workers ${workers})`, T, async () => {
      const r = await runNode([MAIN, 'serve', '--manifests', dir, '--bind', '127.0.0.1', '--http-port', String(busyPort), '--https-port', '0', '--admin-port', '0', '--workers', workers], 10_000);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /EADDRINUSE|in use/i);
    });
  }

  test('an admin port already in use: exit 1 with a message', T, async () => {
    const r = await runNode([MAIN, 'serve', '--manifests', dir, '--bind', '127.0.0.1', '--http-port', '0', '--https-port', '0', '--admin-port', String(busyPort), '--workers', '0'], 10_000);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /EADDRINUSE|in use/i);
  });

  test('a second Archway on the same HTTP port fails instead of sharing it', T, async () => {
    const first = await spawnArchway(dir, ['--workers', '1']);
    try {
      // Either it fails to start (expected), or it reports listening on the port the first one holds.
      const second = await spawnArchway(dir, ['--workers', '1', '--http-port', String(first.port)]).catch((e: Error) => e);
      if (!(second instanceof Error)) {
        await second.stop();
        assert.fail(`a second instance started on port ${first.port}, which the first one serves:\n${second.stderr()}`);
      }
      assert.match(second.message, /EADDRINUSE|in use/i);
    } finally {
      await first.stop();
    }
  });
});
