// `archway get` / `archway describe` as a user runs them: the real CLI in a child process, reading the
// admin API of a real Archway (in-process, loopback ephemeral ports) serving real manifests with a real
// backend (issue 4 items 8 and 11).

import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parse } from 'yaml';
import type { EchoServer } from '../src/demo/echo-server.ts';
import {
  MAIN, backend, closeAll, echoes, ingress, refusedPort, rule, runNode, service, sleep, startArchway, yamlDocs, type Archway,
} from './harness.ts';

const T = { timeout: 20_000 };

type Obj = Record<string, unknown>;

let backends: Record<string, EchoServer>;
let archway: Archway;
let server: string;

function manifests(extra: Obj[] = []): string {
  const web = ingress('web', {
    rules: [rule('foo.bar.com', [['/foo', 'Prefix', backend('web')], ['/gone', 'Prefix', backend('gone')]])],
  }, { annotations: { 'nginx.ingress.kubernetes.io/rewrite-target': '/' } });
  (web.metadata as Obj).labels = { app: 'shop' };
  (web.spec as Obj).tls = [{ hosts: ['foo.bar.com'], secretName: 'web-tls' }];
  return yamlDocs(
    service('web', backends.web.port),
    service('api', backends.web.port, { namespace: 'team-a' }),
    web,
    ingress('api', { rules: [rule(undefined, [['/', 'Prefix', backend('api')]])] }, { namespace: 'team-a' }),
    ingress('theirs', { rules: [rule('x.example.com', [['/', 'Prefix', backend('web')]])] }, { annotations: { 'kubernetes.io/ingress.class': 'nginx' } }),
    ...extra,
  );
}

/** `node src/main.ts ...args --server URL`, bounded. */
function cli(...args: string[]) {
  return runNode([MAIN, ...args, '--server', server], 15_000);
}

before(async () => {
  backends = await echoes('web');
  archway = await startArchway({ 'app.yaml': manifests() }, ['--https-port', '0']);
  server = `http://127.0.0.1:${archway.adminPort}`;
});

after(async () => {
  await archway?.stop();
  await closeAll(backends ?? {});
});

describe('archway get ingress', () => {
  test('kubectl columns; ADDRESS for served Ingresses only; PORTS 80, 443 with tls', T, async () => {
    const r = await cli('get', 'ingress');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
    const lines = r.stdout.trimEnd().split('\n');
    assert.equal(lines.length, 3, r.stdout);
    assert.match(lines[0], /^NAME     CLASS    HOSTS           ADDRESS     PORTS     AGE$/);
    assert.match(lines[1], /^theirs   <none>   x\.example\.com               80        \d+s$/);
    assert.match(lines[2], /^web      <none>   foo\.bar\.com     127\.0\.0\.1   80, 443   \d+s$/);
  });

  test('-A adds NAMESPACE first; -n picks a namespace; an empty one says so like kubectl', T, async () => {
    const [all, teamA, empty] = await Promise.all([cli('get', 'ing', '-A'), cli('get', 'ingresses', '-n', 'team-a'), cli('get', 'ingress', '-n', 'nobody')]);
    assert.equal(all.code, 0, all.stderr);
    assert.deepEqual(all.stdout.trimEnd().split('\n').map((l) => l.split(/\s{2,}/).slice(0, 3)), [
      ['NAMESPACE', 'NAME', 'CLASS'], ['default', 'theirs', '<none>'], ['default', 'web', '<none>'], ['team-a', 'api', '<none>'],
    ]);
    assert.match(teamA.stdout, /^NAME   CLASS    HOSTS   ADDRESS     PORTS   AGE\napi    <none>   \*       127\.0\.0\.1   80      \d+s\n$/);
    assert.equal(empty.code, 0);
    assert.equal(empty.stdout, '');
    assert.equal(empty.stderr, 'No resources found in nobody namespace.\n');
  });

  test('-o json prints a List of Ingress objects with status; -o yaml the same document', T, async () => {
    const [json, yaml] = await Promise.all([cli('get', 'ingress', '-o', 'json'), cli('get', 'ingress', '-oyaml')]);
    assert.equal(json.code, 0, json.stderr);
    const list = JSON.parse(json.stdout) as { kind: string; apiVersion: string; items: Obj[] };
    assert.equal(list.kind, 'List');
    assert.equal(list.apiVersion, 'v1');
    const byName = new Map(list.items.map((i) => [(i.metadata as Obj).name, i]));
    assert.deepEqual([...byName.keys()].sort(), ['theirs', 'web']);
    assert.deepEqual(byName.get('web')!.status, { loadBalancer: { ingress: [{ ip: '127.0.0.1' }] } });
    assert.equal(byName.get('theirs')!.status, undefined, 'an Ingress Archway does not serve gets no status');
    assert.deepEqual(((byName.get('web')!.metadata as Obj).labels), { app: 'shop' });
    assert.equal(yaml.code, 0, yaml.stderr);
    assert.deepEqual(parse(yaml.stdout), list);
  });

  test('a name that does not exist: kubectl\'s NotFound error, exit 1', T, async () => {
    const r = await cli('get', 'ingress', 'nope');
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr, 'Error from server (NotFound): ingresses "nope" not found\n');
  });
});

describe('archway describe ingress', () => {
  test('kubectl layout with resolved endpoints, errors, TLS, annotations and Events', T, async () => {
    const r = await cli('describe', 'ingress', 'web');
    assert.equal(r.code, 0, r.stderr);
    const ep = `127.0.0.1:${backends.web.port}`;
    const head = [
      'Name:             web',
      'Labels:           app=shop',
      'Namespace:        default',
      'Address:          127.0.0.1',
      'Ingress Class:    <none>',
      'Default backend:  <default>',
      'TLS:',
      '  web-tls terminates foo.bar.com',
      '    <error: Secret default/web-tls not found; the default certificate is served>',
      'Rules:',
      '  Host         Path  Backends',
      '  ----         ----  --------',
      '  foo.bar.com  ',
      `               /foo    web:80 (${ep})`,
      '               /gone   gone:80 (<error: service "gone" not found>)',
      'Annotations:   nginx.ingress.kubernetes.io/rewrite-target: /',
      'Events:',
      '  Type     Reason ',
    ].join('\n');
    assert.equal(r.stdout.slice(0, head.length), head, r.stdout);
    const events = r.stdout.slice(r.stdout.indexOf('\nEvents:\n') + 1).trimEnd().split('\n').slice(3);
    assert.ok(events.some((l) => /^  Normal   Sync +\d+s +archway +Scheduled for sync$/.test(l)), r.stdout);
    assert.ok(events.some((l) => /^  Warning  ServiceNotFound +\d+s +archway +.*Service default\/gone not found/.test(l)), r.stdout);
  });

  test('an unknown Ingress: NotFound, exit 1; -n looks in another namespace', T, async () => {
    const [missing, other] = await Promise.all([cli('describe', 'ingress', 'nope'), cli('describe', 'ing', 'api', '-n', 'team-a')]);
    assert.equal(missing.code, 1);
    assert.equal(missing.stderr, 'Error from server (NotFound): ingresses "nope" not found\n');
    assert.equal(other.code, 0, other.stderr);
    assert.match(other.stdout, /^Name:             api\nLabels:           <none>\nNamespace:        team-a\n/);
    // The Host column block runs down to "Annotations:", which sets its width (as in kubectl).
    assert.match(other.stdout, /\n  \*           \n              \/   api:80 \(127\.0\.0\.1:\d+\)\nAnnotations:  <none>\n/);
  });
});

describe('archway get events', () => {
  test('LAST SEEN, TYPE, REASON, OBJECT, MESSAGE for the namespace', T, async () => {
    const r = await cli('get', 'events');
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    assert.match(lines[0], /^LAST SEEN   TYPE +REASON +OBJECT +MESSAGE$/);
    assert.ok(lines.some((l) => /^\d+s +Normal +Sync +ingress\/web +Scheduled for sync$/.test(l)), r.stdout);
    assert.ok(lines.some((l) => /^\d+s +Warning +SecretNotFound +ingress\/web +.*Secret default\/web-tls not found/.test(l)), r.stdout);
    assert.ok(!lines.some((l) => l.includes('ingress/api')), 'team-a events are not in default');
    const all = await cli('get', 'events', '-A');
    assert.match(all.stdout, /^NAMESPACE   LAST SEEN/);
    assert.ok(all.stdout.split('\n').some((l) => /^team-a +\d+s +Normal +Sync +ingress\/api /.test(l)), all.stdout);
  });
});

describe('a running instance that changes', () => {
  test('get ingress shows an Ingress added to the manifests once Archway applied it', T, async () => {
    await writeFile(join(archway.dir, 'app.yaml'), manifests([ingress('added', { rules: [rule('new.example.com', [['/', 'Prefix', backend('web')]])] })]));
    const deadline = Date.now() + 10_000;
    let r = await cli('get', 'ingress', 'added');
    while (r.code !== 0 && Date.now() < deadline) {
      await sleep(200);
      r = await cli('get', 'ingress', 'added');
    }
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /\nadded   <none>   new\.example\.com   127\.0\.0\.1   80      \d+s\n$/);
  });
});

describe('errors', () => {
  test('no Archway at --server: a clear message naming the URL, exit 1', T, async () => {
    const url = `http://127.0.0.1:${await refusedPort()}`;
    for (const args of [['get', 'ingress'], ['describe', 'ingress', 'web'], ['get', 'events']]) {
      const r = await runNode([MAIN, ...args, '--server', url], 15_000);
      assert.equal(r.code, 1, args.join(' '));
      assert.equal(r.stdout, '');
      assert.match(r.stderr, new RegExp(`^archway ${args[0]}: cannot reach the Archway admin API at ${url.replace(/\./g, '\\.')}: connection refused`));
    }
  });

  test('usage errors exit 2 with the usage; --help exits 0', T, async () => {
    const [bad, help, dhelp] = await Promise.all([
      runNode([MAIN, 'get', 'ingress', '-o', 'table']),
      runNode([MAIN, 'get', '--help']),
      runNode([MAIN, 'describe', '--help']),
    ]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--output: "table" is not one of wide, json, yaml\n\nUsage: archway get/);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /-n, --namespace NS/);
    assert.match(help.stdout, /--server URL .*\(default http:\/\/127\.0\.0\.1:10254\)/);
    assert.equal(dhelp.code, 0);
    assert.match(dhelp.stdout, /^Usage: archway describe ingress/);
  });
});
