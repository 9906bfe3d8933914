// decideClass: the three rules of INGRESS-SEMANTICS.md "Ingress class".

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Diagnostic } from './diagnostics.ts';
import { ObjectStore, type JsonObject } from './objects.ts';
import { normalizeIngress, type Ingress } from './ingress.ts';
import { decideClass, type ClassOptions } from './ingress-class.ts';

const OPTS: ClassOptions = { controllerName: 'archway.dev/ingress-controller', ingressClass: 'archway', watchWithoutClass: false };

function ingress(opts: { className?: string; annotation?: string }): Ingress {
  const spec: JsonObject = { defaultBackend: { service: { name: 'web', port: { number: 80 } } } };
  if (opts.className !== undefined) spec.ingressClassName = opts.className;
  const metadata: JsonObject = { name: 'web' };
  if (opts.annotation !== undefined) metadata.annotations = { 'kubernetes.io/ingress.class': opts.annotation };
  const diags: Diagnostic[] = [];
  const ing = normalizeIngress({ kind: 'Ingress', apiVersion: 'networking.k8s.io/v1', namespace: 'default', name: 'web', raw: { metadata, spec } }, diags);
  assert.deepEqual(diags, []);
  return ing!;
}

function store(...classes: Array<{ name: string; controller: string; isDefault?: string; apiVersion?: string }>): ObjectStore {
  const s = new ObjectStore();
  for (const c of classes) {
    const metadata: JsonObject = { name: c.name };
    if (c.isDefault !== undefined) metadata.annotations = { 'ingressclass.kubernetes.io/is-default-class': c.isDefault };
    const apiVersion = c.apiVersion ?? 'networking.k8s.io/v1';
    s.set({ kind: 'IngressClass', apiVersion, namespace: '', name: c.name, raw: { apiVersion, kind: 'IngressClass', metadata, spec: { controller: c.controller } } });
  }
  return s;
}

const OURS = 'archway.dev/ingress-controller';
const NGINX = 'k8s.io/ingress-nginx';

test('rule 1: ingressClassName served iff the IngressClass exists and its controller is ours', () => {
  const s = store({ name: 'mine', controller: OURS }, { name: 'nginx', controller: NGINX }, { name: 'beta', controller: OURS, apiVersion: 'networking.k8s.io/v1beta1' });
  assert.deepEqual(decideClass(ingress({ className: 'mine' }), s, OPTS), { served: true, className: 'mine' });
  assert.deepEqual(decideClass(ingress({ className: 'beta' }), s, OPTS), { served: true, className: 'beta' });

  const other = decideClass(ingress({ className: 'nginx' }), s, OPTS);
  assert.equal(other.served, false);
  assert.match((other as { reason: string }).reason, /k8s\.io\/ingress-nginx/);

  const missing = decideClass(ingress({ className: 'nope' }), s, OPTS);
  assert.equal(missing.served, false);
  assert.match((missing as { reason: string }).reason, /does not exist/);
});

test('rule 1 wins over the annotation and over --watch-ingress-without-class', () => {
  const s = store({ name: 'nginx', controller: NGINX });
  const opts = { ...OPTS, watchWithoutClass: true };
  assert.equal(decideClass(ingress({ className: 'nginx', annotation: 'archway' }), s, opts).served, false);
  assert.equal(decideClass(ingress({ className: 'missing' }), s, opts).served, false);
  const s2 = store({ name: 'mine', controller: OURS });
  assert.deepEqual(decideClass(ingress({ className: 'mine', annotation: 'nginx' }), s2, OPTS), { served: true, className: 'mine' });
});

test('the controller name is configurable', () => {
  const s = store({ name: 'c', controller: 'example.com/other' });
  assert.equal(decideClass(ingress({ className: 'c' }), s, OPTS).served, false);
  assert.equal(decideClass(ingress({ className: 'c' }), s, { ...OPTS, controllerName: 'example.com/other' }).served, true);
});

test('rule 2: the kubernetes.io/ingress.class annotation is served iff it equals our class name', () => {
  const s = store();
  assert.deepEqual(decideClass(ingress({ annotation: 'archway' }), s, OPTS), { served: true, className: 'archway' });
  assert.equal(decideClass(ingress({ annotation: 'nginx' }), s, OPTS).served, false);
  assert.equal(decideClass(ingress({ annotation: 'nginx' }), s, { ...OPTS, watchWithoutClass: true }).served, false);
  assert.equal(decideClass(ingress({ annotation: 'Archway' }), s, OPTS).served, false);
  assert.equal(decideClass(ingress({ annotation: 'custom' }), s, { ...OPTS, ingressClass: 'custom' }).served, true);
  // An annotation naming another class is not overridden by one of our default classes.
  const withDefault = store({ name: 'mine', controller: OURS, isDefault: 'true' });
  assert.equal(decideClass(ingress({ annotation: 'nginx' }), withDefault, OPTS).served, false);
});

test('rule 3: no class at all is served iff one of our IngressClasses is the default', () => {
  assert.equal(decideClass(ingress({}), store(), OPTS).served, false);
  assert.equal(decideClass(ingress({}), store({ name: 'mine', controller: OURS }), OPTS).served, false);
  assert.equal(decideClass(ingress({}), store({ name: 'mine', controller: OURS, isDefault: 'false' }), OPTS).served, false);
  // The default class of another controller does not make the Ingress ours.
  assert.equal(decideClass(ingress({}), store({ name: 'nginx', controller: NGINX, isDefault: 'true' }), OPTS).served, false);
  assert.deepEqual(
    decideClass(ingress({}), store({ name: 'nginx', controller: NGINX, isDefault: 'true' }, { name: 'mine', controller: OURS, isDefault: 'true' }), OPTS),
    { served: true, className: 'mine' },
  );
});

test('rule 3: --watch-ingress-without-class serves Ingresses without any class', () => {
  assert.deepEqual(decideClass(ingress({}), store(), { ...OPTS, watchWithoutClass: true }), { served: true, className: '' });
  const off = decideClass(ingress({}), store(), OPTS);
  assert.equal(off.served, false);
  assert.match((off as { reason: string }).reason, /watch-ingress-without-class/);
});
