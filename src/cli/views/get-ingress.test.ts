import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatAddress, formatHosts, formatIngressTable, formatPorts, ingressRow } from './get-ingress.ts';

const NOW = Date.parse('2024-05-01T12:00:00Z');

function ing(name: string, spec: Record<string, unknown>, extra: { namespace?: string; created?: string; lb?: unknown[] } = {}): Record<string, unknown> {
  const o: Record<string, unknown> = {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name, namespace: extra.namespace ?? 'default', creationTimestamp: extra.created ?? '2024-05-01T11:59:15Z' },
    spec,
  };
  if (extra.lb) o.status = { loadBalancer: { ingress: extra.lb } };
  return o;
}

test('HOSTS: comma-joined, * when no rule names a host, at most three then "+ N more..."', () => {
  assert.equal(formatHosts([]), '*');
  assert.equal(formatHosts([{ http: {} }]), '*');
  assert.equal(formatHosts([{ host: 'a.com' }, { host: 'b.com' }]), 'a.com,b.com');
  assert.equal(formatHosts([{ host: 'a.com' }, {}]), 'a.com');
  assert.equal(formatHosts([{ host: 'a' }, { host: 'b' }, { host: 'c' }, { host: 'd' }, { host: 'e' }]), 'a,b,c + 2 more...');
});

test('ADDRESS: IPs or hostnames sorted and unique, shortened past 16 characters unless wide', () => {
  assert.equal(formatAddress(undefined, false), '');
  assert.equal(formatAddress({ loadBalancer: { ingress: [{ ip: '10.0.0.2' }, { hostname: 'lb.example.com' }, { ip: '10.0.0.2' }] } }, true), '10.0.0.2,lb.example.com');
  assert.equal(formatAddress({ loadBalancer: { ingress: [{ ip: '10.0.0.2' }, { hostname: 'lb.example.com' }] } }, false), '10.0.0.2,lb.exa...');
});

test('PORTS: 80, or "80, 443" with a tls section', () => {
  assert.equal(formatPorts(undefined), '80');
  assert.equal(formatPorts([]), '80');
  assert.equal(formatPorts([{ hosts: ['a'], secretName: 's' }]), '80, 443');
});

test('CLASS is spec.ingressClassName or <none>; v1beta1 objects read the same', () => {
  const beta = { apiVersion: 'networking.k8s.io/v1beta1', kind: 'Ingress', metadata: { name: 'old', namespace: 'default' }, spec: { backend: { serviceName: 's', servicePort: 80 } } };
  assert.deepEqual(ingressRow(beta, { allNamespaces: false, wide: false, now: NOW }), ['old', '<none>', '*', '', '80', '<unknown>']);
  assert.equal(ingressRow(ing('x', { ingressClassName: 'archway' }), { allNamespaces: false, wide: false, now: NOW })[1], 'archway');
});

test('the table, sorted by name, with kubectl spacing; -A puts NAMESPACE first', () => {
  const items = [
    ing('web', { ingressClassName: 'archway', rules: [{ host: 'foo.bar.com' }, { host: 'bar.foo.com' }], tls: [{ hosts: ['foo.bar.com'], secretName: 't' }] }, { lb: [{ ip: '127.0.0.1' }], created: '2024-05-01T11:56:48Z' }),
    ing('api', { rules: [{ http: { paths: [] } }] }, { lb: [{ ip: '127.0.0.1' }] }),
    ing('other', { defaultBackend: { service: { name: 's', port: { number: 80 } } } }, { namespace: 'team-a', created: '2024-04-29T09:00:00Z' }),
  ];
  assert.equal(
    formatIngressTable(items.slice(0, 2), { allNamespaces: false, wide: false, now: NOW }),
    [
      'NAME   CLASS     HOSTS                     ADDRESS     PORTS     AGE',
      'api    <none>    *                         127.0.0.1   80        45s',
      'web    archway   foo.bar.com,bar.foo.com   127.0.0.1   80, 443   3m12s',
      '',
    ].join('\n'),
  );
  assert.equal(
    formatIngressTable(items, { allNamespaces: true, wide: false, now: NOW }),
    [
      'NAMESPACE   NAME    CLASS     HOSTS                     ADDRESS     PORTS     AGE',
      'default     api     <none>    *                         127.0.0.1   80        45s',
      'default     web     archway   foo.bar.com,bar.foo.com   127.0.0.1   80, 443   3m12s',
      'team-a      other   <none>    *                                     80        2d3h',
      '',
    ].join('\n'),
  );
  assert.equal(formatIngressTable([], { allNamespaces: false, wide: false, now: NOW }), '');
});

test('hostile names cannot break the table', () => {
  const row = ingressRow(ing('x', { rules: [{ host: 'a\tb\x1b[2J' }] }), { allNamespaces: false, wide: false, now: NOW });
  assert.equal(row[2], 'a^Ib^[[2J');
});
