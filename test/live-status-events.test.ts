// Issue 4 items 6 and 7: Ingress status (status.loadBalancer.ingress) and Kubernetes-style Events, read
// from the admin API of a running Archway while its manifests change on disk.

import assert from 'node:assert/strict';
import { networkInterfaces } from 'node:os';
import { after, before, describe, test } from 'node:test';
import type { EchoServer } from '../src/demo/echo-server.ts';
import type { ArchwayEvent } from '../src/controller/events.ts';
import { statusAddresses } from '../src/controller/status-address.ts';
import { adminJson, backend, closeAll, echoes, ingress, ingressClass, rule, service, startArchway, yamlDocs, type Archway } from './harness.ts';
import { dumpOnError, muteStderr, removeFile, waitFor, writeInPlace } from './live-harness.ts';

const stderr = muteStderr();

let be: Record<string, EchoServer>;

before(async () => {
  be = await echoes('web');
});
after(async () => {
  await closeAll(be);
  stderr.restore();
});

interface IngressItem {
  metadata: { name: string; namespace: string };
  status?: { loadBalancer?: { ingress?: Array<Record<string, string>> } };
}

async function ingresses(arch: Archway): Promise<Map<string, IngressItem>> {
  const list = await adminJson<{ kind: string; items: IngressItem[] }>(arch.adminPort, '/api/ingresses');
  assert.equal(list.kind, 'List');
  return new Map(list.items.map((i) => [i.metadata.name, i]));
}

async function events(arch: Archway, query = ''): Promise<ArchwayEvent[]> {
  const list = await adminJson<{ kind: string; items: ArchwayEvent[] }>(arch.adminPort, `/api/events${query}`);
  assert.equal(list.kind, 'EventList');
  return list.items;
}

function ing(name: string, host: string, opts: { className?: string; svc?: string; port?: number; created?: string; path?: string } = {}): string {
  return yamlDocs(ingress(name, { rules: [rule(host, [[opts.path ?? '/', 'Prefix', backend(opts.svc ?? 'web', opts.port ?? 80)]])] }, {
    className: opts.className,
    creationTimestamp: opts.created ?? '2024-01-01T00:00:00Z',
  }));
}

describe('status.loadBalancer.ingress', () => {
  let arch: Archway;

  before(async () => {
    arch = await dumpOnError(stderr, () =>
      startArchway({
        'svc.yaml': yamlDocs(service('web', be.web.port), ingressClass('other', 'example.com/other-controller')),
        'mine.yaml': ing('mine', 'mine.test'),
        'theirs.yaml': ing('theirs', 'theirs.test', { className: 'other' }),
      }),
    );
  });
  after(() => arch.stop());

  test('a served Ingress gets the bind address; an Ingress of another class gets no status; both follow edits', { timeout: 10_000 }, async () => {
    let items = await ingresses(arch);
    assert.deepEqual(items.get('mine')?.status, { loadBalancer: { ingress: [{ ip: '127.0.0.1' }] } });
    assert.ok(items.has('theirs'));
    assert.equal(items.get('theirs')?.status, undefined);

    // Swap the classes: status follows within a second.
    await writeInPlace(arch.dir, 'theirs.yaml', ing('theirs', 'theirs.test'));
    await writeInPlace(arch.dir, 'mine.yaml', ing('mine', 'mine.test', { className: 'other' }));
    items = await waitFor('the status to follow the class change', async () => {
      const m = await ingresses(arch);
      return m.get('mine')?.status === undefined && m.get('theirs')?.status !== undefined ? m : false;
    }, 1000);
    assert.deepEqual(items.get('theirs')?.status, { loadBalancer: { ingress: [{ ip: '127.0.0.1' }] } });
  });
});

test('--publish-status-address: IPs become ip, names become hostname, in the order given', { timeout: 10_000 }, async () => {
  const arch = await startArchway({ 'app.yaml': yamlDocs(service('web', be.web.port)) + '---\n' + ing('app', 'app.test') }, [
    '--publish-status-address', '10.0.0.7,lb.example.com,2001:db8::1',
  ]);
  try {
    const items = await ingresses(arch);
    assert.deepEqual(items.get('app')?.status?.loadBalancer?.ingress, [{ ip: '10.0.0.7' }, { hostname: 'lb.example.com' }, { ip: '2001:db8::1' }]);
  } finally {
    await arch.stop();
  }
});

test('a wildcard bind publishes the primary non-loopback address, else 127.0.0.1', () => {
  let expected = '127.0.0.1';
  const ifaces = networkInterfaces();
  search: for (const family of ['IPv4', 'IPv6']) {
    for (const name of Object.keys(ifaces).sort()) {
      for (const a of ifaces[name] ?? []) {
        if (!a.internal && a.family === family) {
          expected = a.address;
          break search;
        }
      }
    }
  }
  assert.deepEqual(statusAddresses([], '0.0.0.0'), [{ ip: expected }]);
  assert.deepEqual(statusAddresses([], '127.0.0.1'), [{ ip: '127.0.0.1' }]);
});

describe('events', () => {
  let arch: Archway;

  before(async () => {
    arch = await dumpOnError(stderr, () =>
      startArchway({
        'svc.yaml': yamlDocs(service('web', be.web.port)),
        'web.yaml': ing('web', 'web.test'),
        'older.yaml': ing('older', 'conflict.test', { created: '2020-01-01T00:00:00Z' }),
      }),
    );
  });
  after(() => arch.stop());

  const find = (list: ArchwayEvent[], name: string, reason: string, message?: RegExp) =>
    list.filter((e) => e.involvedObject.kind === 'Ingress' && e.involvedObject.name === name && e.reason === reason && (message === undefined || message.test(e.message)));

  test('Sync events when an Ingress is added, updated and removed', { timeout: 10_000 }, async () => {
    let list = await events(arch);
    const [added] = find(list, 'web', 'Sync', /Scheduled for sync/);
    assert.ok(added, `no Sync event for the initial Ingress: ${JSON.stringify(list)}`);
    assert.equal(added.type, 'Normal');
    assert.equal(added.count, 1);
    assert.deepEqual(added.involvedObject, { kind: 'Ingress', namespace: 'default', name: 'web' });
    assert.deepEqual(added.source, { component: 'archway' });
    assert.ok(!Number.isNaN(Date.parse(added.firstTimestamp)) && added.lastTimestamp >= added.firstTimestamp);

    // A Secret appearing rebuilds every served entry (BuildMemo): no Ingress changed, so no event.
    const builds = arch.running.controller.counters.fullSyncs;
    await writeInPlace(arch.dir, 'secret.yaml', yamlDocs({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'unrelated', namespace: 'default' }, stringData: { a: 'b' } }));
    await waitFor('the rebuild for the Secret', async () => arch.running.controller.counters.fullSyncs > builds, 2000);
    assert.deepEqual(find(await events(arch), 'web', 'Sync').map((e) => e.message), ['Scheduled for sync']);

    await writeInPlace(arch.dir, 'web.yaml', ing('web', 'web.test', { path: '/v2' }));
    list = await waitFor('an update event', async () => {
      const l = await events(arch);
      return find(l, 'web', 'Sync', /updated/i).length > 0 ? l : false;
    }, 1000);
    assert.equal(find(list, 'web', 'Sync', /updated/i)[0].type, 'Normal');

    await removeFile(arch.dir, 'web.yaml');
    list = await waitFor('a removal event', async () => {
      const l = await events(arch);
      return find(l, 'web', 'Sync', /removed/i).length > 0 ? l : false;
    }, 1000);
    // The object's history stays readable after it is gone.
    assert.equal((await events(arch, '?namespace=default&kind=Ingress&name=web')).length, 3);
  });

  test('warnings: a path conflict names the winner; missing Service, port and Secret, an invalid Ingress, an unusable annotation; repeats bump count', { timeout: 10_000 }, async () => {
    const conflict = ing('newer', 'conflict.test', { created: '2021-01-01T00:00:00Z' });
    await writeInPlace(arch.dir, 'newer.yaml', conflict);
    await writeInPlace(arch.dir, 'ghost.yaml', ing('ghost', 'ghost.test', { svc: 'no-such-service' }));
    await writeInPlace(arch.dir, 'port.yaml', ing('badport', 'port.test', { port: 81 }));
    await writeInPlace(arch.dir, 'invalid.yaml', ing('invalid', 'Invalid.test'));
    const secure = ingress('secure', { rules: [rule('secure.test', [['/', 'Prefix', backend('web')]])] }, { creationTimestamp: '2024-01-01T00:00:00Z' });
    (secure.spec as Record<string, unknown>).tls = [{ hosts: ['secure.test'], secretName: 'no-such-secret' }];
    await writeInPlace(arch.dir, 'secure.yaml', yamlDocs(secure));
    await writeInPlace(arch.dir, 'annotated.yaml', yamlDocs(ingress('annotated', { rules: [rule('annotated.test', [['/', 'Prefix', backend('web')]])] }, {
      creationTimestamp: '2024-01-01T00:00:00Z',
      annotations: { 'nginx.ingress.kubernetes.io/rewrite-target': '/$1 && rm -rf /' },
    })));
    const expected: Array<[string, string]> = [
      ['newer', 'PathConflict'], ['ghost', 'ServiceNotFound'], ['badport', 'ServicePortNotFound'], ['invalid', 'IngressInvalidHost'],
      ['secure', 'SecretNotFound'], ['annotated', 'AnnotationInvalid'],
    ];
    let list = await waitFor('the warnings', async () => {
      const l = await events(arch);
      return expected.every(([name, reason]) => find(l, name, reason).length > 0) ? l : false;
    }, 1000).catch(async (e: Error) => assert.fail(`${e.message}; events: ${JSON.stringify((await events(arch)).map((x) => `${x.involvedObject.name} ${x.reason}`))}`));
    for (const [name, reason] of expected) {
      const [e] = find(list, name, reason);
      assert.equal(e.type, 'Warning', `${reason} is a Warning`);
      assert.deepEqual(e.source, { component: 'archway' });
    }
    const [pc] = find(list, 'newer', 'PathConflict');
    assert.equal(pc.type, 'Warning');
    assert.match(pc.message, /default\/older/, 'the conflict names the winning Ingress');
    assert.equal(pc.count, 1);
    const [missing] = find(list, 'ghost', 'ServiceNotFound');
    assert.equal(missing.type, 'Warning');
    assert.match(missing.message, /no-such-service/);
    assert.equal(find(list, 'older', 'PathConflict').length, 0, 'the winner gets no warning');

    // The conflict goes away and comes back twice: one entry whose count grows.
    for (let round = 2; round <= 3; round++) {
      await removeFile(arch.dir, 'newer.yaml');
      await waitFor('the loser to leave', async () => find(await events(arch), 'newer', 'Sync', /removed/i)[0]?.count === round - 1, 1000);
      await writeInPlace(arch.dir, 'newer.yaml', conflict);
      list = await waitFor(`the conflict to be reported again (round ${round})`, async () => {
        const l = await events(arch);
        return find(l, 'newer', 'PathConflict')[0]?.count === round ? l : false;
      }, 1000);
    }
    const entries = find(list, 'newer', 'PathConflict');
    assert.equal(entries.length, 1, 'identical warnings are one entry');
    assert.equal(entries[0].count, 3);
    assert.ok(entries[0].lastTimestamp > entries[0].firstTimestamp);
    const syncs = find(list, 'newer', 'Sync', /Scheduled for sync/);
    assert.equal(syncs.length, 1);
    assert.equal(syncs[0].count, 3);
    // A persisting problem is not re-counted by unrelated rebuilds.
    const ghostCount = find(list, 'ghost', 'ServiceNotFound')[0].count;
    assert.equal(ghostCount, 1);
  });
});
