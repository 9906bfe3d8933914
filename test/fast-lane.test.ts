// Issue 4 item 3 (endpoint fast lane) at scale: an Endpoints change re-resolves only the backends of
// the Services whose endpoints changed. Whatever it skips must be what a full rebuild gives.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Controller } from '../src/controller/controller.ts';
import { ManifestSource } from '../src/sources/manifest-source.ts';
import type { RoutingTable } from '../src/snapshot/table.ts';
import { backend, ingress, rule, service, writeTicked, yamlDocs } from './harness.ts';

const OPTIONS = { controllerName: 'archway.dev/ingress-controller', ingressClass: 'archway', watchWithoutClass: true, statusAddresses: [] };
const quiet = { diagnostic() {}, info() {} };
const sink = { setTable() {} };

async function freshTable(dir: string): Promise<RoutingTable> {
  const source = new ManifestSource([dir]);
  await source.loadAll();
  return new Controller(source, OPTIONS, sink, quiet).sync();
}

test('endpoint-only edits: the fast lane gives the backends a full rebuild gives, change after change', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'archway-fast-lane-'));
  try {
    const names = ['s0', 's1', 's2', 's3', 's4'];
    const write = (file: string, text: string, tick: number) => writeTicked(join(dir, file), text, tick);
    write('ingresses.yaml', yamlDocs(...names.map((n) => ingress(n, { rules: [rule(`${n}.example`, [['/', 'Prefix', backend(n)]])] }))), 1);
    // Services in one file (never edited); each Service's Endpoints in a file of its own.
    const endpoints = (n: string, port: number) => yamlDocs(service(n, port, { targetPort: 'http' })[1]);
    write('services.yaml', yamlDocs(...names.map((n) => service(n, 8000, { targetPort: 'http' })[0])), 1);
    for (const n of names) write(`${n}.yaml`, endpoints(n, 8000), 1);
    const source = new ManifestSource([dir]);
    await source.loadAll();
    const controller = new Controller(source, OPTIONS, sink, quiet);
    controller.sync();
    let seed = 3;
    const int = (k: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % k);
    for (let step = 0; step < 25; step++) {
      // One or two Services get another endpoint port (their Endpoints object changes).
      for (let k = 1 + int(2); k > 0; k--) {
        const n = names[int(names.length)];
        write(`${n}.yaml`, endpoints(n, 8000 + int(50)), step + 2);
      }
      const lanes = controller.counters.fastLaneSyncs;
      const fulls = controller.counters.fullSyncs;
      await controller.refresh();
      assert.equal(controller.counters.fullSyncs, fulls, 'Endpoints-only edits never rebuild the routes');
      const expected = await freshTable(dir);
      assert.deepEqual(controller.table!.backends, expected.backends, `step ${step}`);
      assert.equal(controller.table!.hash, expected.hash, `step ${step}`);
      assert.ok(controller.counters.fastLaneSyncs >= lanes);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
