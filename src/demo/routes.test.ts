import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { startEchoServer } from './echo-server.ts';
import type { EchoServer } from './echo-server.ts';
import { checkRoute, curlCommand, curlLines, DEMO_ROUTES } from './routes.ts';

test('curl commands are copy-pasteable', () => {
  assert.equal(curlCommand({ host: 'foo.bar.com', target: '/foo', expect: 'service1', why: '' }, 8080), "curl -s -H 'Host: foo.bar.com' http://127.0.0.1:8080/foo");
  assert.equal(curlCommand({ target: '/testpath/x?y=1', expect: 'test', why: '' }, 9000), "curl -s 'http://127.0.0.1:9000/testpath/x?y=1'");
  assert.equal(curlCommand({ host: 'a.b', target: '/n', expect: 404, why: '' }, 80), "curl -si -H 'Host: a.b' http://127.0.0.1:80/n");
});

test('curl lines align their comments and name the expected backend', () => {
  const lines = curlLines(DEMO_ROUTES, 8080);
  assert.equal(lines.length, DEMO_ROUTES.length);
  const cols = new Set(lines.map((l) => l.indexOf('# →')));
  assert.equal(cols.size, 1);
  assert.ok(lines.some((l) => l.startsWith("curl -s -H 'Host: baz.foo.com' http://127.0.0.1:8080/foo ") && l.includes('# → service2 (')));
});

test('the demo routes cover every example', () => {
  const all = DEMO_ROUTES.map((r) => r.why).join('\n');
  for (const name of ['simple-fanout-example', 'name-virtual-host-ingress', 'name-virtual-host-ingress-no-third-host', 'ingress-wildcard-host', 'minimal-ingress']) {
    assert.ok(all.includes(name), name);
  }
  assert.ok(DEMO_ROUTES.some((r) => r.expect === 404));
  assert.ok(DEMO_ROUTES.some((r) => r.host === undefined && r.expect === 'service3'));
});

describe('checkRoute', () => {
  let echo: EchoServer;
  let notFoundPort = 0;
  const notFound = createServer((_req, res) => res.writeHead(404).end('no route\n'));
  before(async () => {
    echo = await startEchoServer({ name: 'service1', port: 0 });
    await new Promise<void>((resolve) => notFound.listen(0, '127.0.0.1', resolve));
    notFoundPort = (notFound.address() as AddressInfo).port;
  });
  after(async () => {
    await echo.close();
    await new Promise<void>((resolve) => notFound.close(() => resolve()));
  });

  test('accepts the expected backend and reports a different one', { timeout: 5000 }, async () => {
    assert.equal(await checkRoute({ host: 'foo.bar.com', target: '/foo', expect: 'service1', why: '' }, echo.port), '');
    assert.equal(await checkRoute({ host: 'foo.bar.com', target: '/foo', expect: 'service2', why: '' }, echo.port), 'answered by service1');
  });

  test('checks the URL the backend saw', { timeout: 5000 }, async () => {
    assert.equal(await checkRoute({ target: '/?y=1', expect: 'service1', expectUrl: '/?y=1', why: '' }, echo.port), '');
    assert.equal(
      await checkRoute({ target: '/testpath/x?y=1', expect: 'service1', expectUrl: '/?y=1', why: '' }, echo.port),
      'service1 saw "/testpath/x?y=1", expected "/?y=1"',
    );
  });

  test('expects a status code Archway answers itself', { timeout: 5000 }, async () => {
    assert.equal(await checkRoute({ target: '/x', expect: 404, why: '' }, notFoundPort), '');
    assert.match(await checkRoute({ target: '/x', expect: 404, why: '' }, echo.port), /^got HTTP 200 \(backend service1\)/);
    assert.match(await checkRoute({ target: '/x', expect: 'service1', why: '' }, notFoundPort), /^got HTTP 404/);
  });

  test('reports a refused connection', { timeout: 5000 }, async () => {
    const gone = await startEchoServer({ name: 'gone', port: 0 });
    await gone.close();
    assert.match(await checkRoute({ target: '/', expect: 'gone', why: '' }, gone.port), /^request failed/);
  });
});

test('examples/README.md shows the same curl commands as the demo', () => {
  const readme = readFileSync(new URL('../../examples/README.md', import.meta.url), 'utf8');
  for (const route of DEMO_ROUTES) {
    const cmd = curlCommand(route, 8080);
    assert.ok(readme.includes(`${cmd} `), cmd);
  }
});
