// Issue 4 item 10: one line added to a 100-object manifest must not make every object below it new.
// An object that only moved keeps its instance (nothing of it is rebuilt) and its diagnostics follow
// it to its new line.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Controller } from '../src/controller/controller.ts';
import { ManifestSource } from '../src/sources/manifest-source.ts';
import { backend, ingress, rule, service, writeTicked as write, yamlDocs } from './harness.ts';

test('objects that only moved in their file keep their built hosts, and their diagnostics name the new line', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'archway-moved-'));
  try {
    const file = join(dir, 'all.yaml');
    // Ten Ingresses; each names a Service that does not exist, so each has a warning on its own line.
    const ingresses = Array.from({ length: 10 }, (_, i) => ingress(`app${i}`, { rules: [rule(`app${i}.example`, [['/', 'Prefix', backend(`missing${i}`)]])] }));
    const text = (top: string) => `${top}${yamlDocs(service('real', 9999), ...ingresses)}`;
    write(file, text(''), 1);
    const source = new ManifestSource([dir]);
    await source.loadAll();
    const controller = new Controller(source, { controllerName: 'archway.dev/ingress-controller', ingressClass: 'archway', watchWithoutClass: true, statusAddresses: [] }, { setTable() {} }, { diagnostic() {}, info() {} });
    controller.sync();
    const lineOf = (name: string) => controller.diagnostics.find((d) => d.object === `Ingress default/${name}` && d.code === 'SERVICE_NOT_FOUND')?.line;
    const before = Array.from({ length: 10 }, (_, i) => lineOf(`app${i}`)!);
    assert.ok(before.every((l) => typeof l === 'number'), JSON.stringify(controller.diagnostics));

    // Two comment lines on top: every object moves down by two, none changed.
    write(file, text('# one\n# two\n'), 2);
    await controller.refresh();
    assert.deepEqual(Array.from({ length: 10 }, (_, i) => lineOf(`app${i}`)), before.map((l) => l + 2));

    // Then a real change to the first Ingress: only its host is built again, and every diagnostic
    // still names the line where its object is now.
    ingresses[0] = ingress('app0', { rules: [rule('app0.example', [['/v2', 'Prefix', backend('missing0')]])] });
    write(file, text('# one\n# two\n# three\n'), 3);
    await controller.refresh();
    assert.deepEqual(controller.buildMemo.last, { reused: 9, built: 1, changeLog: true });
    assert.deepEqual(Array.from({ length: 10 }, (_, i) => lineOf(`app${i}`)), before.map((l) => l + 3));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
