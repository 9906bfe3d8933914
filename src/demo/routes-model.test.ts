// The demo's expected routing decisions (routes.ts, examples/README.md) checked against the model
// and snapshot layers on the bundled examples, without sockets: if the router and the demo
// disagree, one of them is wrong.

import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { build } from '../model/build.ts';
import { ObjectStore } from '../model/objects.ts';
import { compile } from '../snapshot/compile.ts';
import { Router, rewritePath } from '../snapshot/router.ts';
import { parseManifestText } from '../sources/manifest-parse.ts';
import { DEMO_ROUTES } from './routes.ts';

function loadExamples() {
  const dir = new URL('../../examples/', import.meta.url);
  const store = new ObjectStore();
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.yaml'))) {
    const parsed = parseManifestText(readFileSync(new URL(f, dir), 'utf8'), f);
    assert.deepEqual(parsed.diagnostics, [], f);
    for (const o of parsed.objects) store.set(o);
  }
  const model = build(store, { controllerName: 'archway.dev/ingress-controller', ingressClass: 'archway', watchWithoutClass: true });
  return { model, table: compile(model) };
}

test('the examples build with only the documented /bar conflict', () => {
  const { model } = loadExamples();
  assert.deepEqual(
    model.diagnostics.map((d) => [d.severity, d.code, d.object]),
    [['warning', 'PATH_CONFLICT', 'Ingress default/simple-fanout-example']],
  );
  assert.equal(model.served.length, 6, 'all six Ingresses are served');
  assert.equal(model.catchAll?.ingress, 'default/test-ingress');
});

test('every demo route goes where the demo says', () => {
  const { table } = loadExamples();
  const router = new Router(table);
  for (const route of DEMO_ROUTES) {
    const q = route.target.indexOf('?');
    const path = q === -1 ? route.target : route.target.slice(0, q);
    const m = router.match(route.host ?? '127.0.0.1', path);
    const label = `${route.host ?? '(no Host)'} ${route.target}`;
    if (typeof route.expect === 'number') {
      assert.equal(m, null, label);
      continue;
    }
    assert.ok(m, label);
    const backend = table.backends[m.backend];
    assert.equal(backend.service, `default/${route.expect}`, label);
    assert.equal(backend.problem, null, label);
    assert.equal(backend.endpoints.length, 1, label);
    if (route.expectUrl !== undefined) {
      const eq = route.expectUrl.indexOf('?');
      assert.equal(rewritePath(m, path), eq === -1 ? route.expectUrl : route.expectUrl.slice(0, eq), label);
    }
  }
});
