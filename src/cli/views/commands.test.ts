// The get/describe commands against a stand-in admin API on a loopback ephemeral port: argument
// handling, the requests they make, output routing (stdout/stderr) and exit codes.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expandShortFlags, runDescribe, runGet, type Io } from './commands.ts';
import { UsageError } from '../flags.ts';

const NOW = Date.parse('2024-05-01T12:00:00Z');

function capture(): Io & { stdout: string; stderr: string } {
  const io = { stdout: '', stderr: '', out: (t: string) => void (io.stdout += t), err: (t: string) => void (io.stderr += t) };
  return io;
}

const web = {
  apiVersion: 'networking.k8s.io/v1', kind: 'Ingress',
  metadata: { name: 'web', namespace: 'default', labels: { app: 'shop' }, creationTimestamp: '2024-05-01T11:59:00Z' },
  spec: { ingressClassName: 'archway', rules: [{ host: 'foo.bar.com', http: { paths: [] } }] },
  status: { loadBalancer: { ingress: [{ ip: '127.0.0.1' }] } },
};

const description = {
  namespace: 'default', name: 'web', served: true, className: 'archway', address: ['127.0.0.1'], defaultBackend: null, tls: [],
  rules: [{ host: 'foo.bar.com', paths: [{ path: '/', pathType: 'Prefix', backend: { service: 'web', port: '80', endpoints: ['127.0.0.1:9000'] } }] }],
  annotations: {}, events: [],
};

/** A stand-in admin API; records the URLs asked for. */
async function fakeAdmin(): Promise<{ server: Server; url: string; requests: string[]; close(): Promise<void> }> {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    requests.push(req.url ?? '');
    const u = new URL(req.url ?? '/', 'http://x');
    const json = (v: unknown) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(v));
    const ns = u.searchParams.get('namespace');
    if (u.pathname === '/api/ingresses') return json({ apiVersion: 'v1', kind: 'List', items: ns === null || ns === 'default' ? [web] : [] });
    if (u.pathname === '/api/events') return json({ apiVersion: 'v1', kind: 'EventList', items: [] });
    if (u.pathname === '/api/describe/ingress' && ns === 'default' && u.searchParams.get('name') === 'web') return json(description);
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { server, url, requests, close: () => new Promise((r) => server.close(() => r())) };
}

test('kubectl short flags become long ones', () => {
  assert.deepEqual(expandShortFlags(['-n', 'a', '-nb', '-n=c', '-A', '-o', 'wide', '-oyaml', 'ing']), [
    '--namespace', 'a', '--namespace=b', '--namespace=c', '--all-namespaces', '--output', 'wide', '--output=yaml', 'ing',
  ]);
  assert.deepEqual(expandShortFlags(['--', '-n']), ['--', '-n']);
  assert.throws(() => expandShortFlags(['-Ax']), UsageError);
});

test('get ingress: table on stdout, the namespace asked for, -A asks for all', async (t) => {
  const admin = await fakeAdmin();
  t.after(() => admin.close());
  let io = capture();
  assert.equal(await runGet(['ingress', '--server', admin.url], io, () => NOW), 0);
  assert.equal(io.stdout, 'NAME   CLASS     HOSTS         ADDRESS     PORTS   AGE\nweb    archway   foo.bar.com   127.0.0.1   80      60s\n');
  assert.equal(io.stderr, '');
  assert.equal(admin.requests.at(-1), '/api/ingresses?namespace=default');

  io = capture();
  assert.equal(await runGet(['ing', '-A', `--server=${admin.url}/`], io, () => NOW), 0);
  assert.equal(admin.requests.at(-1), '/api/ingresses');
  assert.match(io.stdout, /^NAMESPACE   NAME   CLASS/);

  io = capture();
  assert.equal(await runGet(['ingresses', '-n', 'empty', '--server', admin.url], io, () => NOW), 0);
  assert.equal(io.stdout, '');
  assert.equal(io.stderr, 'No resources found in empty namespace.\n');

  io = capture();
  assert.equal(await runGet(['events', '-A', '--server', admin.url], io, () => NOW), 0);
  assert.equal(io.stderr, 'No resources found\n');
});

test('get ingress NAME: -o json prints the object itself; a missing name is NotFound, exit 1', async (t) => {
  const admin = await fakeAdmin();
  t.after(() => admin.close());
  let io = capture();
  assert.equal(await runGet(['ingress/web', '-o', 'json', '--server', admin.url], io, () => NOW), 0);
  assert.deepEqual(JSON.parse(io.stdout), web);
  assert.match(io.stdout, /^\{\n    "apiVersion"/, 'four-space indent, like kubectl');

  io = capture();
  assert.equal(await runGet(['ingress', '-o', 'yaml', '--server', admin.url], io, () => NOW), 0);
  assert.match(io.stdout, /^apiVersion: v1\nitems:\n- apiVersion: networking.k8s.io\/v1\n/);

  io = capture();
  assert.equal(await runGet(['ingress', 'web', 'nope', '--server', admin.url], io, () => NOW), 1);
  assert.match(io.stdout, /^NAME   CLASS .*\nweb /);
  assert.equal(io.stderr, 'Error from server (NotFound): ingresses "nope" not found\n');
});

test('describe: layout on stdout with labels from the object; unknown name is NotFound, exit 1', async (t) => {
  const admin = await fakeAdmin();
  t.after(() => admin.close());
  let io = capture();
  assert.equal(await runDescribe(['ingress', 'web', '--server', admin.url], io, () => NOW), 0);
  assert.match(io.stdout, /^Name:             web\nLabels:           app=shop\nNamespace:        default\nAddress:          127\.0\.0\.1\n/);
  assert.match(io.stdout, /\n  foo\.bar\.com  \n               \/   web:80 \(127\.0\.0\.1:9000\)\n/);

  io = capture();
  assert.equal(await runDescribe(['ing', 'nope', '--server', admin.url], io, () => NOW), 1);
  assert.equal(io.stdout, '');
  assert.equal(io.stderr, 'Error from server (NotFound): ingresses "nope" not found\n');
});

test('usage errors exit 2; an unreachable server exits 1 naming the URL', async (t) => {
  const admin = await fakeAdmin();
  const deadUrl = admin.url;
  await admin.close(); // nothing listens there any more
  const cases: string[][] = [
    [],
    ['pods'],
    ['ingress', '-o', 'table'],
    ['ingress', '--server', 'ftp://x'],
    ['ingress', '--bogus'],
    ['events', 'name'],
  ];
  for (const argv of cases) {
    const io = capture();
    assert.equal(await runGet(argv, io), 2, argv.join(' '));
    assert.match(io.stderr, /^archway get: .*\n\nUsage: archway get/);
  }
  let io = capture();
  assert.equal(await runDescribe(['events', 'x'], io), 2);
  io = capture();
  assert.equal(await runGet(['ingress', '--server', deadUrl], io), 1);
  assert.equal(io.stderr, `archway get: cannot reach the Archway admin API at ${deadUrl}: connection refused - is 'archway serve' running, and is --server right? (the admin listener defaults to http://127.0.0.1:10254)\n`);
  io = capture();
  assert.equal(await runGet(['--help'], io), 0);
  assert.match(io.stdout, /^Usage: archway get ingress/);
});
