import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { routeSummaries, runValidate, validatePaths } from './validate.ts';
import type { Io } from './views/commands.ts';

const OPTIONS = { ingressClass: 'archway', controllerName: 'archway.dev/ingress-controller', watchWithoutClass: true };

const SERVICES = `
apiVersion: v1
kind: Service
metadata: { name: service1, namespace: default }
spec: { ports: [{ name: http, port: 4200, targetPort: 8080 }] }
---
apiVersion: v1
kind: Endpoints
metadata: { name: service1, namespace: default }
subsets: [{ addresses: [{ ip: 10.0.0.1 }], ports: [{ name: http, port: 8080 }] }]
---
apiVersion: v1
kind: Service
metadata: { name: service2, namespace: default }
spec: { ports: [{ name: http, port: 8080 }] }
---
apiVersion: v1
kind: Endpoints
metadata: { name: service2, namespace: default }
subsets: [{ addresses: [{ ip: 10.0.0.2 }], ports: [{ name: http, port: 8080 }] }]
`;

const FANOUT = `
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: { name: web, namespace: default }
spec:
  rules:
  - host: foo.bar.com
    http:
      paths:
      - { path: /foo, pathType: Prefix, backend: { service: { name: service1, port: { number: 4200 } } } }
      - { path: /bar, pathType: Exact, backend: { service: { name: service2, port: { number: 8080 } } } }
  - http:
      paths:
      - { path: /, pathType: Prefix, backend: { service: { name: gone, port: { number: 80 } } } }
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: { name: catch, namespace: default }
spec:
  defaultBackend: { service: { name: service2, port: { number: 8080 } } }
`;

const INVALID = `
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: { name: bad, namespace: default }
spec:
  rules:
  - host: Foo.Example.com
    http:
      paths:
      - { path: /, pathType: Prefix, backend: { service: { name: service1, port: { number: 4200 } } } }
`;

async function dir(files: Record<string, string>): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'archway-validate-'));
  for (const [name, text] of Object.entries(files)) await writeFile(join(d, name), text);
  return d;
}

function capture(): Io & { stdout: string; stderr: string } {
  const io = { stdout: '', stderr: '', out: (t: string) => void (io.stdout += t), err: (t: string) => void (io.stderr += t) };
  return io;
}

test('one line per served Ingress: its routes in declared order, problems, catch-all', async (t) => {
  const d = await dir({ 'services.yaml': SERVICES, 'web.yaml': FANOUT });
  t.after(() => rm(d, { recursive: true, force: true }));
  const r = await validatePaths([d], OPTIONS);
  assert.deepEqual(routeSummaries(r.model), [
    'default/catch: any other request (catch-all default backend) -> service2:8080',
    'default/web: foo.bar.com/foo -> service1:4200, foo.bar.com/bar (exact) -> service2:8080, */ -> gone:80 (answers 503: Service default/gone not found)',
  ]);
  assert.equal(r.files.length, 2);
  assert.deepEqual(r.diagnostics.map((d) => d.code), ['SERVICE_NOT_FOUND']);
});

test('exit 0 with warnings only; exit 1 with an error, printed with file:line, object and field', async (t) => {
  const d = await dir({ 'services.yaml': SERVICES, 'web.yaml': FANOUT, 'bad.yaml': INVALID });
  t.after(() => rm(d, { recursive: true, force: true }));
  let io = capture();
  assert.equal(await runValidate([join(d, 'services.yaml'), join(d, 'web.yaml')], io), 0);
  assert.match(io.stdout, /web\.yaml:\d+: warning SERVICE_NOT_FOUND: Ingress default\/web: spec\.rules\[1\]\.http\.paths\[0\]\.backend: /);
  assert.match(io.stdout, /\n2 files, 2 Ingresses served \(configuration [0-9a-f]{16}\): 0 errors, 1 warning\n$/);

  io = capture();
  assert.equal(await runValidate([d], io), 1);
  assert.match(io.stdout, new RegExp(`^${join(d, 'bad.yaml').replace(/[.]/g, '\\.')}:2: error INGRESS_INVALID_HOST: Ingress default/bad: spec\\.rules\\[0\\]\\.host: `, 'm'));
  assert.doesNotMatch(io.stdout, /^default\/bad:/m, 'an invalid Ingress routes nothing');
  assert.match(io.stdout, /3 files, 2 Ingresses served .*: 1 error, 1 warning\n$/);
});

test('class flags change what is served, as for serve', async (t) => {
  const d = await dir({ 'services.yaml': SERVICES, 'web.yaml': FANOUT });
  t.after(() => rm(d, { recursive: true, force: true }));
  const io = capture();
  assert.equal(await runValidate([d, '--watch-ingress-without-class=false'], io), 0);
  assert.match(io.stdout, /info INGRESS_NOT_SERVED: Ingress default\/web: not served by this controller/);
  assert.match(io.stdout, /0 Ingresses served/);
});

test('usage errors exit 2; a missing path or no manifest at all exits 1', async (t) => {
  const empty = await dir({});
  t.after(() => rm(empty, { recursive: true, force: true }));
  let io = capture();
  assert.equal(await runValidate([], io), 2);
  assert.match(io.stderr, /^archway validate: give at least one manifest file or directory\n\nUsage: archway validate/);
  io = capture();
  assert.equal(await runValidate(['--nope', empty], io), 2);
  io = capture();
  assert.equal(await runValidate([join(empty, 'missing.yaml')], io), 1);
  assert.match(io.stdout, /error MANIFEST_PATH_UNREADABLE/);
  io = capture();
  assert.equal(await runValidate([empty], io), 1);
  assert.match(io.stderr, /no manifest files \(\.yaml, \.yml, \.json\) found/);
  io = capture();
  assert.equal(await runValidate(['--help'], io), 0);
  assert.match(io.stdout, /--ingress-class NAME/);
});
