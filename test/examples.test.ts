// The bundled examples/ (issue 2 item 8), served for real: a copy of the directory with the demo echo
// ports (127.0.0.1:9101-9104) rewritten to echo backends on ephemeral ports. Every curl line the demo
// prints is run as printed (with curl when it is installed) and must answer from the backend it names;
// every example file is also served on its own.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { DEMO_BACKENDS } from '../src/demo/backends.ts';
import type { EchoReply, EchoServer } from '../src/demo/echo-server.ts';
import { checkRoute, curlLines, DEMO_ROUTES } from '../src/demo/routes.ts';
import { closeAll, echoes, REPO, request, startArchway, who, type Archway } from './harness.ts';

const T = { timeout: 10_000 };
const EXAMPLES = join(REPO, 'examples');

let be: Record<string, EchoServer>;
/** examples/*.yaml by file name, with the echo ports rewritten. */
const files: Record<string, string> = {};
const running: Archway[] = [];

before(async () => {
  be = await echoes(...DEMO_BACKENDS.map((b) => b.name));
  for (const name of (await readdir(EXAMPLES)).filter((n) => n.endsWith('.yaml')).sort()) {
    let text = await readFile(join(EXAMPLES, name), 'utf8');
    for (const b of DEMO_BACKENDS) text = text.replaceAll(String(b.port), String(be[b.name].port));
    files[name] = text;
  }
  // The rewrite must have touched every demo port, or the examples changed under this test.
  for (const b of DEMO_BACKENDS) assert.ok(files['backends.yaml'].includes(String(be[b.name].port)), `examples/backends.yaml does not use port ${b.port}`);
});

after(async () => {
  for (const a of running) await a.stop();
  await closeAll(be);
});

async function serve(names: string[]): Promise<Archway> {
  const a = await startArchway(Object.fromEntries(names.map((n) => [n, files[n]])));
  running.push(a);
  return a;
}

describe('all examples together, as npm start serves them', () => {
  let arch: Archway;
  before(async () => {
    arch = await serve(Object.keys(files));
  });

  test('every demo route answers from the backend it names (checkRoute)', T, async () => {
    const problems = await Promise.all(DEMO_ROUTES.map((r) => checkRoute(r, arch.port)));
    const wrong = DEMO_ROUTES.map((r, i) => [r.host ?? '(no host)', r.target, String(r.expect), problems[i]]).filter((w) => w[3] !== '');
    assert.deepEqual(wrong, []);
  });

  test('every printed curl line, run as printed, answers from the backend in its comment', { ...T, skip: hasCurl() ? false : 'curl is not installed' }, async () => {
    const lines = curlLines(DEMO_ROUTES, arch.port);
    assert.equal(lines.length, DEMO_ROUTES.length);
    for (const [i, line] of lines.entries()) {
      const [cmd, comment] = line.split(/\s+# → /);
      const expect = /^(\S+)/.exec(comment)![1];
      assert.match(cmd, new RegExp(`^curl -si? .*http://127\\.0\\.0\\.1:${arch.port}/`));
      const { stdout } = await promisify(execFile)('sh', ['-c', `${cmd} --max-time 5`]);
      if (/^\d{3}$/.test(expect)) {
        assert.match(stdout, new RegExp(`^HTTP/1\\.1 ${expect} `), line);
      } else {
        const reply = JSON.parse(stdout) as EchoReply;
        assert.equal(reply.backend, expect, line);
        const route = DEMO_ROUTES[i];
        if (route.expectUrl !== undefined) assert.equal(reply.url, route.expectUrl, line);
      }
    }
  });

  test('the only diagnostic is the documented /bar conflict', T, async () => {
    const notable = arch.diagnostics.filter((d) => d.severity !== 'info');
    const conflicts = notable.filter((d) => d.code === 'PATH_CONFLICT');
    assert.equal(conflicts.length, 1, JSON.stringify(notable, null, 1));
    assert.equal(conflicts[0].object, 'Ingress default/simple-fanout-example');
    assert.ok(conflicts[0].file?.endsWith('simple-fanout-example.yaml'));
    const others = notable.filter((d) => d.code !== 'PATH_CONFLICT');
    assert.deepEqual(others, []);
  });
});

describe('each example on its own, with backends.yaml', () => {
  test('minimal-ingress.yaml (with its IngressClass): /testpath rewritten to /', T, async () => {
    const arch = await serve(['backends.yaml', 'ingress-class.yaml', 'minimal-ingress.yaml']);
    const res = await request(arch.port, '/testpath/x?y=1', { host: 'anything.example' });
    assert.equal(res.headers['x-echo-backend'], 'test');
    assert.equal((JSON.parse(res.text) as EchoReply).url, '/?y=1');
    assert.equal(await who(arch.port, 'anything.example', '/other'), 'HTTP 404');
  });

  test('minimal-ingress.yaml without ingress-class.yaml is not served (class does not exist)', T, async () => {
    const arch = await serve(['backends.yaml', 'minimal-ingress.yaml']);
    assert.equal(await who(arch.port, 'anything.example', '/testpath'), 'HTTP 404');
    assert.ok(arch.diagnostics.some((d) => d.code === 'INGRESS_NOT_SERVED' && d.object === 'Ingress default/minimal-ingress'));
  });

  test('test-ingress.yaml: the single-service defaultBackend takes every request', T, async () => {
    const arch = await serve(['backends.yaml', 'test-ingress.yaml']);
    for (const [host, path] of [['foo.bar.com', '/'], ['127.0.0.1', '/anything'], ['x.y', '/a/b?c']]) {
      assert.equal(await who(arch.port, host, path), 'test', `${host} ${path}`);
    }
  });

  test('simple-fanout-example.yaml: /foo -> service1:4200, /bar -> service2:8080', T, async () => {
    const arch = await serve(['backends.yaml', 'simple-fanout-example.yaml']);
    assert.equal(await who(arch.port, 'foo.bar.com', '/foo'), 'service1');
    assert.equal(await who(arch.port, 'foo.bar.com', '/bar/x'), 'service2');
    assert.equal(await who(arch.port, 'foo.bar.com', '/'), 'HTTP 404');
    assert.equal(await who(arch.port, 'other.com', '/foo'), 'HTTP 404');
  });

  test('name-virtual-host-ingress.yaml: one Service per host', T, async () => {
    const arch = await serve(['backends.yaml', 'name-virtual-host-ingress.yaml']);
    assert.equal(await who(arch.port, 'foo.bar.com', '/x'), 'service1');
    assert.equal(await who(arch.port, 'bar.foo.com', '/x'), 'service2');
    assert.equal(await who(arch.port, 'baz.com', '/x'), 'HTTP 404');
  });

  test('name-virtual-host-ingress-no-third-host.yaml: two hosts and a host-less rule for the rest', T, async () => {
    const arch = await serve(['backends.yaml', 'name-virtual-host-ingress-no-third-host.yaml']);
    assert.equal(await who(arch.port, 'first.bar.com', '/'), 'service1');
    assert.equal(await who(arch.port, 'second.bar.com', '/'), 'service2');
    assert.equal(await who(arch.port, 'third.bar.com', '/'), 'service3');
    assert.equal(await who(arch.port, '127.0.0.1', '/'), 'service3');
  });

  test('ingress-wildcard-host.yaml: precise host and *.foo.com (one label)', T, async () => {
    const arch = await serve(['backends.yaml', 'ingress-wildcard-host.yaml']);
    assert.equal(await who(arch.port, 'foo.bar.com', '/bar'), 'service1');
    assert.equal(await who(arch.port, 'baz.foo.com', '/foo'), 'service2');
    assert.equal(await who(arch.port, 'a.baz.foo.com', '/foo'), 'HTTP 404');
    assert.equal(await who(arch.port, 'foo.com', '/foo'), 'HTTP 404');
  });

  test('every example file is covered by a test above', T, () => {
    const covered = ['backends.yaml', 'ingress-class.yaml', 'minimal-ingress.yaml', 'test-ingress.yaml', 'simple-fanout-example.yaml',
      'name-virtual-host-ingress.yaml', 'name-virtual-host-ingress-no-third-host.yaml', 'ingress-wildcard-host.yaml'];
    assert.deepEqual(Object.keys(files).sort(), covered.sort());
  });
});

function hasCurl(): boolean {
  return (process.env.PATH ?? '').split(':').some((dir) => dir !== '' && existsSync(join(dir, 'curl')));
}
