// Guards the bundled examples against typos: every Service port an Ingress references exists in
// examples/backends.yaml, and every Service port has a ready endpoint on its demo echo port.

import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { DEMO_BACKENDS } from './backends.ts';

const DIR = new URL('../../examples/', import.meta.url);

// Loosely typed on purpose: this only reads fields the examples are known to have.
type Obj = Record<string, any>;

function load(): Map<string, Obj[]> {
  const byFile = new Map<string, Obj[]>();
  for (const f of readdirSync(DIR).filter((n) => n.endsWith('.yaml')).sort()) {
    const docs = parseAllDocuments(readFileSync(new URL(f, DIR), 'utf8'));
    assert.ok(Array.isArray(docs), f);
    byFile.set(
      f,
      docs.map((d) => {
        assert.deepEqual(d.errors, [], f);
        return d.toJS() as Obj;
      }),
    );
  }
  return byFile;
}

function backendsOf(ing: Obj): Obj[] {
  const out: Obj[] = [];
  if (ing.spec.defaultBackend) out.push(ing.spec.defaultBackend);
  for (const rule of ing.spec.rules ?? []) for (const p of rule.http.paths) out.push(p.backend);
  return out;
}

test('examples parse; Ingress names are unique; each docs example has its own file', () => {
  const files = load();
  const ingresses = [...files.values()].flat().filter((o) => o.kind === 'Ingress');
  const names = ingresses.map((o) => o.metadata.name as string);
  assert.equal(new Set(names).size, names.length);
  for (const ing of ingresses) {
    assert.equal(ing.apiVersion, 'networking.k8s.io/v1');
    assert.ok(files.get(`${ing.metadata.name}.yaml`)?.includes(ing), `${ing.metadata.name}.yaml`);
  }
  assert.deepEqual(names.sort(), [
    'ingress-wildcard-host',
    'minimal-ingress',
    'name-virtual-host-ingress',
    'name-virtual-host-ingress-no-third-host',
    'simple-fanout-example',
    'test-ingress',
    'tls-example-ingress',
  ]);
});

test('ingressClassName nginx-example belongs to Archway', () => {
  const all = [...load().values()].flat();
  const cls = all.find((o) => o.kind === 'IngressClass' && o.metadata.name === 'nginx-example');
  assert.equal(cls?.spec.controller, 'archway.dev/ingress-controller');
  for (const ing of all.filter((o) => o.kind === 'Ingress' && o.spec.ingressClassName !== undefined)) {
    assert.ok(all.some((o) => o.kind === 'IngressClass' && o.metadata.name === ing.spec.ingressClassName), ing.metadata.name);
  }
});

test('every referenced Service port exists and has a ready endpoint on its echo backend', () => {
  const all = [...load().values()].flat();
  const services = new Map(all.filter((o) => o.kind === 'Service').map((o) => [o.metadata.name as string, o]));
  for (const ing of all.filter((o) => o.kind === 'Ingress')) {
    for (const b of backendsOf(ing)) {
      const svc = services.get(b.service.name);
      assert.ok(svc, `${ing.metadata.name}: Service ${b.service.name}`);
      assert.ok(
        svc.spec.ports.some((p: Obj) => p.port === b.service.port.number),
        `${ing.metadata.name}: ${b.service.name} port ${b.service.port.number}`,
      );
    }
  }
  assert.deepEqual([...services.keys()].sort(), DEMO_BACKENDS.map((b) => b.name).sort());
  let slices = 0;
  for (const { name, port } of DEMO_BACKENDS) {
    const svc = services.get(name)!;
    assert.equal(svc.metadata.namespace, 'default');
    const eps = all.find((o) => o.kind === 'Endpoints' && o.metadata.name === name);
    const slice = all.find((o) => o.kind === 'EndpointSlice' && o.metadata.labels?.['kubernetes.io/service-name'] === name);
    assert.ok((eps === undefined) !== (slice === undefined), `${name}: exactly one of Endpoints / EndpointSlice`);
    for (const sp of svc.spec.ports) {
      assert.match(sp.name, /^[a-z0-9]([a-z0-9-]{0,13}[a-z0-9])?$/, `${name} port name`);
      assert.equal(sp.targetPort, port, `${name}/${sp.name} targetPort`);
      if (eps) {
        const subset = eps.subsets.find((s: Obj) => s.ports.some((p: Obj) => p.name === sp.name));
        assert.ok(subset, `${name}: Endpoints port ${sp.name}`);
        assert.equal(subset.ports.find((p: Obj) => p.name === sp.name).port, port);
        assert.deepEqual(subset.addresses.map((a: Obj) => a.ip), ['127.0.0.1']);
      } else {
        assert.ok(slice);
        slices++;
        assert.equal(slice.apiVersion, 'discovery.k8s.io/v1');
        assert.equal(slice.ports.find((p: Obj) => p.name === sp.name)?.port, port, `${name}: EndpointSlice port ${sp.name}`);
        assert.deepEqual(slice.endpoints.map((e: Obj) => [e.addresses, e.conditions?.ready]), [[['127.0.0.1'], true]]);
      }
    }
  }
  assert.ok(slices > 0, 'at least one Service uses an EndpointSlice');
});
