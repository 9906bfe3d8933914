import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IngressDescription } from '../../admin/api.ts';
import { formatBackend, formatDescribe, formatEndpoints } from './describe.ts';

const NOW = Date.parse('2024-05-01T12:00:00Z');

function fanout(over: Partial<IngressDescription> = {}): IngressDescription {
  return {
    namespace: 'default',
    name: 'simple-fanout-example',
    served: true,
    className: 'archway',
    address: ['127.0.0.1'],
    defaultBackend: null,
    tls: [],
    rules: [{
      host: 'foo.bar.com',
      paths: [
        { path: '/foo', pathType: 'Prefix', backend: { service: 'service1', port: '4200', endpoints: ['10.8.0.90:4200'] } },
        { path: '/bar', pathType: 'Prefix', backend: { service: 'service2', port: '8080', endpoints: ['10.8.0.91:8080', '10.8.0.92:8080'] } },
      ],
    }],
    annotations: {},
    events: [],
    ...over,
  };
}

const syncEvent = {
  apiVersion: 'v1', kind: 'Event', metadata: { name: 'simple-fanout-example.00000001', namespace: 'default' },
  involvedObject: { kind: 'Ingress', namespace: 'default', name: 'simple-fanout-example' },
  type: 'Normal', reason: 'Sync', message: 'Scheduled for sync', count: 1,
  firstTimestamp: '2024-05-01T11:59:38Z', lastTimestamp: '2024-05-01T11:59:38Z', source: { component: 'archway' },
};

test('describe: kubectl layout, columns aligned as kubectl aligns them', () => {
  assert.equal(
    formatDescribe({ description: fanout({ events: [syncEvent] }), labels: {}, now: NOW }),
    [
      'Name:             simple-fanout-example',
      'Labels:           <none>',
      'Namespace:        default',
      'Address:          127.0.0.1',
      'Ingress Class:    archway',
      'Default backend:  <default>',
      'Rules:',
      '  Host         Path  Backends',
      '  ----         ----  --------',
      '  foo.bar.com  ',
      '               /foo   service1:4200 (10.8.0.90:4200)',
      '               /bar   service2:8080 (10.8.0.91:8080,10.8.0.92:8080)',
      // Annotations share the Host column's block (no line without a tab in between), as in kubectl.
      'Annotations:   <none>',
      'Events:',
      '  Type    Reason  Age   From     Message',
      '  ----    ------  ----  ----     -------',
      '  Normal  Sync    22s   archway  Scheduled for sync',
      '',
    ].join('\n'),
  );
});

test('describe: TLS, labels, annotations, errors, a default backend, a host-less rule, no events', () => {
  const d = fanout({
    name: 'web',
    address: [],
    className: '',
    defaultBackend: { service: 'fallback', port: 'http', endpoints: [], error: 'service "fallback" not found' },
    tls: [
      {
        hosts: ['foo.bar.com', 'www.bar.com'], secretName: 'foo-tls',
        certificate: { subject: 'CN=foo.bar.com', dnsNames: ['foo.bar.com', 'www.bar.com'], issuer: 'CN=Test CA', notBefore: '2026-01-01T00:00:00.000Z', notAfter: '2027-01-01T00:00:00.000Z', fingerprint256: 'AA' },
      },
      { hosts: ['sni.example.com'], secretName: '' },
      { hosts: ['gone.example.com'], secretName: 'gone-tls', problem: 'Secret default/gone-tls not found' },
    ],
    rules: [
      { host: '', paths: [{ path: '/', pathType: 'Prefix', backend: { service: 'gone', port: '80', endpoints: [], error: 'service "gone" not found' } }] },
    ],
    annotations: {
      'nginx.ingress.kubernetes.io/rewrite-target': '/',
      'kubectl.kubernetes.io/last-applied-configuration': '{"huge":true}\n',
      'example.com/multi': 'line one\nline two\n',
    },
  });
  assert.equal(
    formatDescribe({ description: d, labels: { tier: 'web', app: 'shop' }, now: NOW }),
    [
      'Name:             web',
      'Labels:           app=shop',
      '                  tier=web',
      'Namespace:        default',
      'Address:          ',
      'Ingress Class:    <none>',
      'Default backend:  fallback:http (<error: service "fallback" not found>)',
      'TLS:',
      '  foo-tls terminates foo.bar.com,www.bar.com',
      '    Subject: CN=foo.bar.com',
      '    DNS names: foo.bar.com, www.bar.com',
      '    Issuer: CN=Test CA',
      '    Valid: 2026-01-01T00:00:00.000Z to 2027-01-01T00:00:00.000Z',
      '  SNI routes sni.example.com',
      '  gone-tls terminates gone.example.com',
      '    <error: Secret default/gone-tls not found; the default certificate is served>',
      'Rules:',
      '  Host        Path  Backends',
      '  ----        ----  --------',
      '  *           ',
      '              /   gone:80 (<error: service "gone" not found>)',
      'Annotations:  example.com/multi:',
      '                line one',
      '                line two',
      '              nginx.ingress.kubernetes.io/rewrite-target: /',
      'Events:       <none>',
      '',
    ].join('\n'),
  );
});

test('describe: an Ingress without rules shows its default backend as the * * rule', () => {
  const d = fanout({ rules: [], defaultBackend: { service: 'test', port: '80', endpoints: ['127.0.0.1:9000'] } });
  const text = formatDescribe({ description: d, labels: {}, now: NOW });
  assert.match(text, /\nDefault backend:  test:80 \(127\.0\.0\.1:9000\)\nRules:\n  Host        Path  Backends\n  ----        ----  --------\n  \*           \*     test:80 \(127\.0\.0\.1:9000\)\nAnnotations:  <none>\nEvents:       <none>\n$/);
});

test('endpoints: at most three, then "+ N more..."; <none> when empty', () => {
  assert.equal(formatEndpoints([]), '<none>');
  assert.equal(formatEndpoints(['a:1', 'b:1', 'c:1']), 'a:1,b:1,c:1');
  assert.equal(formatEndpoints(['a:1', 'b:1', 'c:1', 'd:1', 'e:1']), 'a:1,b:1,c:1 + 2 more...');
  assert.equal(formatBackend({ service: 'svc', port: '80', endpoints: ['[::1]:8080'] }), 'svc:80 ([::1]:8080)');
});
