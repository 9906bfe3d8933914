// ServiceResolver: Ingress backend port -> Service port -> targetPort -> endpoint port, ready
// addresses only, Endpoints and EndpointSlices merged, ExternalName (INGRESS-SEMANTICS.md "Backends and ports").

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ObjectStore, type JsonObject, type Kind } from './objects.ts';
import { ServiceResolver, backendId } from './services.ts';

function put(s: ObjectStore, kind: Kind, name: string, body: JsonObject, extraMeta: JsonObject = {}, namespace = 'default'): void {
  const apiVersion = kind === 'EndpointSlice' ? 'discovery.k8s.io/v1' : 'v1';
  s.set({ kind, apiVersion, namespace, name, raw: { apiVersion, kind, metadata: { name, namespace, ...extraMeta }, ...body } });
}

const service = (s: ObjectStore, name: string, ports: JsonObject[], extra: JsonObject = {}, ns = 'default') =>
  put(s, 'Service', name, { spec: { ports, ...extra } }, {}, ns);
const endpoints = (s: ObjectStore, name: string, subsets: JsonObject[], ns = 'default') => put(s, 'Endpoints', name, { subsets }, {}, ns);
const slice = (s: ObjectStore, name: string, svc: string, ports: JsonObject[], eps: JsonObject[], ns = 'default') =>
  put(s, 'EndpointSlice', name, { addressType: 'IPv4', ports, endpoints: eps }, { labels: { 'kubernetes.io/service-name': svc } }, ns);

const addrs = (r: { endpoints: Array<{ address: string; port: number }> }) => r.endpoints.map((e) => `${e.address}:${e.port}`);

test('backend ids are namespace/service:port', () => {
  assert.equal(backendId('ns', { service: 'web', portNumber: 80 }), 'ns/web:80');
  assert.equal(backendId('ns', { service: 'web', portName: 'http' }), 'ns/web:http');
});

test('port by number and by name, through targetPort to the endpoint port of the same name', () => {
  const s = new ObjectStore();
  service(s, 'web', [{ name: 'http', port: 80, targetPort: 8080 }, { name: 'admin', port: 81, targetPort: 'admin-port' }]);
  endpoints(s, 'web', [
    { addresses: [{ ip: '10.0.0.2' }, { ip: '10.0.0.1' }], ports: [{ name: 'admin', port: 9090 }, { name: 'http', port: 8080 }] },
  ]);
  const r = new ServiceResolver(s);
  const byNumber = r.resolve('default', { service: 'web', portNumber: 80 });
  assert.deepEqual(byNumber, {
    id: 'default/web:80', service: 'default/web', port: '80',
    endpoints: [{ address: '10.0.0.1', port: 8080 }, { address: '10.0.0.2', port: 8080 }],
  });
  const byName = r.resolve('default', { service: 'web', portName: 'admin' });
  assert.equal(byName.id, 'default/web:admin');
  assert.equal(byName.problem, undefined);
  // A named targetPort resolves through the endpoint port's name, never the Service port number.
  assert.deepEqual(addrs(byName), ['10.0.0.1:9090', '10.0.0.2:9090']);
  assert.deepEqual(addrs(r.resolve('default', { service: 'web', portNumber: 81 })), ['10.0.0.1:9090', '10.0.0.2:9090']);
});

test('the endpoint port is matched by name, not by position or number', () => {
  const s = new ObjectStore();
  service(s, 'web', [{ name: 'a', port: 80, targetPort: 7000 }, { name: 'b', port: 90, targetPort: 7000 }]);
  endpoints(s, 'web', [{ addresses: [{ ip: '10.0.0.1' }], ports: [{ name: 'b', port: 7002 }, { name: 'a', port: 7001 }] }]);
  const r = new ServiceResolver(s);
  assert.deepEqual(addrs(r.resolve('default', { service: 'web', portNumber: 80 })), ['10.0.0.1:7001']);
  assert.deepEqual(addrs(r.resolve('default', { service: 'web', portNumber: 90 })), ['10.0.0.1:7002']);
});

test('a subset without the Service port name contributes nothing', () => {
  const s = new ObjectStore();
  service(s, 'web', [{ name: 'http', port: 80 }, { name: 'grpc', port: 81 }]);
  endpoints(s, 'web', [
    { addresses: [{ ip: '10.0.0.1' }], ports: [{ name: 'grpc', port: 9000 }] },
    { addresses: [{ ip: '10.0.0.2' }], ports: [{ name: 'http', port: 8000 }] },
  ]);
  const r = new ServiceResolver(s);
  assert.deepEqual(addrs(r.resolve('default', { service: 'web', portName: 'http' })), ['10.0.0.2:8000']);
});

test('a single unnamed Service port matches the single unnamed endpoint port', () => {
  const s = new ObjectStore();
  service(s, 'web', [{ port: 80, targetPort: 8080 }]);
  endpoints(s, 'web', [{ addresses: [{ ip: '10.0.0.1' }], ports: [{ port: 8080, protocol: 'TCP' }] }]);
  const r = new ServiceResolver(s);
  assert.deepEqual(addrs(r.resolve('default', { service: 'web', portNumber: 80 })), ['10.0.0.1:8080']);
});

test('only ready Endpoints addresses: notReadyAddresses are excluded', () => {
  const s = new ObjectStore();
  service(s, 'web', [{ name: 'http', port: 80 }]);
  endpoints(s, 'web', [{ addresses: [{ ip: '10.0.0.1' }], notReadyAddresses: [{ ip: '10.0.0.9' }], ports: [{ name: 'http', port: 8080 }] }]);
  assert.deepEqual(addrs(new ServiceResolver(s).resolve('default', { service: 'web', portNumber: 80 })), ['10.0.0.1:8080']);

  const s2 = new ObjectStore();
  service(s2, 'web', [{ name: 'http', port: 80 }]);
  endpoints(s2, 'web', [{ notReadyAddresses: [{ ip: '10.0.0.9' }], ports: [{ name: 'http', port: 8080 }] }]);
  const r = new ServiceResolver(s2).resolve('default', { service: 'web', portNumber: 80 });
  assert.deepEqual(r.endpoints, []);
  assert.equal(r.problem?.code, 'NO_READY_ENDPOINTS');
});

test('EndpointSlice: ready:false excluded, a missing ready condition counts as ready', () => {
  const s = new ObjectStore();
  service(s, 'web', [{ name: 'http', port: 80, targetPort: 8080 }]);
  slice(s, 'web-abc', 'web', [{ name: 'http', port: 8080 }], [
    { addresses: ['10.0.0.1'], conditions: { ready: true } },
    { addresses: ['10.0.0.2'], conditions: { ready: false } },
    { addresses: ['10.0.0.3'], conditions: {} },
    { addresses: ['10.0.0.4'] },
    { addresses: ['10.0.0.5'], conditions: { ready: false, serving: true } },
  ]);
  assert.deepEqual(addrs(new ServiceResolver(s).resolve('default', { service: 'web', portNumber: 80 })), ['10.0.0.1:8080', '10.0.0.3:8080', '10.0.0.4:8080']);
});

test('EndpointSlices belong to a Service by the kubernetes.io/service-name label, in the same namespace', () => {
  const s = new ObjectStore();
  service(s, 'web', [{ name: 'http', port: 80 }]);
  slice(s, 'web-1', 'web', [{ name: 'http', port: 8080 }], [{ addresses: ['10.0.0.1'] }]);
  slice(s, 'web-2', 'web', [{ name: 'http', port: 8080 }], [{ addresses: ['10.0.0.2'] }]);
  slice(s, 'other', 'other', [{ name: 'http', port: 8080 }], [{ addresses: ['10.0.0.3'] }]);
  slice(s, 'web-elsewhere', 'web', [{ name: 'http', port: 8080 }], [{ addresses: ['10.0.0.4'] }], 'elsewhere');
  put(s, 'EndpointSlice', 'unlabelled', { ports: [{ name: 'http', port: 8080 }], endpoints: [{ addresses: ['10.0.0.5'] }] });
  assert.deepEqual(addrs(new ServiceResolver(s).resolve('default', { service: 'web', portNumber: 80 })), ['10.0.0.1:8080', '10.0.0.2:8080']);
});

test('Endpoints and EndpointSlices are merged, sorted and de-duplicated', () => {
  const s = new ObjectStore();
  service(s, 'web', [{ name: 'http', port: 80 }]);
  endpoints(s, 'web', [{ addresses: [{ ip: '10.0.0.3' }, { ip: '10.0.0.1' }], ports: [{ name: 'http', port: 8080 }] }]);
  slice(s, 'web-1', 'web', [{ name: 'http', port: 8080 }], [{ addresses: ['10.0.0.1'] }, { addresses: ['10.0.0.2'] }]);
  assert.deepEqual(addrs(new ServiceResolver(s).resolve('default', { service: 'web', portNumber: 80 })), ['10.0.0.1:8080', '10.0.0.2:8080', '10.0.0.3:8080']);
});

test('ExternalName proxies to the DNS name', () => {
  const s = new ObjectStore();
  service(s, 'ext', [{ name: 'https', port: 443 }, { name: 'http', port: 80, targetPort: 8080 }], { type: 'ExternalName', externalName: 'API.Example.com.' });
  service(s, 'bare', [], { type: 'ExternalName', externalName: 'example.org' });
  service(s, 'nohost', [{ port: 80 }], { type: 'ExternalName' });
  const r = new ServiceResolver(s);
  assert.deepEqual(r.resolve('default', { service: 'ext', portNumber: 443 }), {
    id: 'default/ext:443', service: 'default/ext', port: '443', endpoints: [{ address: 'api.example.com', port: 443 }],
  });
  assert.deepEqual(addrs(r.resolve('default', { service: 'ext', portName: 'http' })), ['api.example.com:8080']);
  assert.deepEqual(addrs(r.resolve('default', { service: 'bare', portNumber: 8443 })), ['example.org:8443']);
  assert.equal(r.resolve('default', { service: 'bare', portName: 'http' }).problem?.code, 'SERVICE_PORT_NOT_FOUND');
  assert.equal(r.resolve('default', { service: 'nohost', portNumber: 80 }).problem?.code, 'SERVICE_PORT_NOT_FOUND');
});

test('missing Service, missing port, no endpoints: problems with codes and readable messages', () => {
  const s = new ObjectStore();
  service(s, 'web', [{ name: 'http', port: 80 }]);
  service(s, 'web', [{ name: 'http', port: 80 }], {}, 'other');
  endpoints(s, 'web', [{ addresses: [{ ip: '10.0.0.1' }], ports: [{ name: 'http', port: 80 }] }], 'other');
  const r = new ServiceResolver(s);

  const missing = r.resolve('default', { service: 'nope', portNumber: 80 });
  assert.deepEqual(missing.endpoints, []);
  assert.equal(missing.problem?.code, 'SERVICE_NOT_FOUND');
  assert.match(missing.problem!.message, /default\/nope/);

  // Namespaces do not leak: the Service exists only in `default`... and `other`, but not in `third`.
  assert.equal(r.resolve('third', { service: 'web', portNumber: 80 }).problem?.code, 'SERVICE_NOT_FOUND');

  for (const ref of [{ service: 'web', portNumber: 81 }, { service: 'web', portName: 'https' }]) {
    const p = r.resolve('default', ref);
    assert.equal(p.problem?.code, 'SERVICE_PORT_NOT_FOUND');
    assert.deepEqual(p.endpoints, []);
  }
  const noEps = r.resolve('default', { service: 'web', portNumber: 80 });
  assert.equal(noEps.problem?.code, 'NO_READY_ENDPOINTS');
  assert.deepEqual(noEps.endpoints, []);
  // The Endpoints of the same-named Service in another namespace are not used for `default`.
  assert.deepEqual(addrs(r.resolve('other', { service: 'web', portNumber: 80 })), ['10.0.0.1:80']);
});

test('service-upstream: the cluster IP and Service port as the single endpoint of a backend of its own', () => {
  const s = new ObjectStore();
  service(s, 'web', [{ name: 'http', port: 80, targetPort: 8080 }, { name: 'admin', port: 81 }], { clusterIP: '10.96.0.10' });
  service(s, 'v6', [{ port: 80 }], { clusterIP: 'fd00::10' });
  endpoints(s, 'web', [{ addresses: [{ ip: '10.0.0.1' }], ports: [{ name: 'http', port: 8080 }] }]);
  const r = new ServiceResolver(s);
  assert.deepEqual(r.resolveClusterIp('default', { service: 'web', portNumber: 80 }), {
    backend: { id: 'default/web:80#cluster-ip', service: 'default/web', port: '80', endpoints: [{ address: '10.96.0.10', port: 80 }], clusterIp: true },
  });
  assert.deepEqual(r.resolveClusterIp('default', { service: 'web', portName: 'admin' }), {
    backend: { id: 'default/web:admin#cluster-ip', service: 'default/web', port: 'admin', endpoints: [{ address: '10.96.0.10', port: 81 }], clusterIp: true },
  });
  const v6 = r.resolveClusterIp('default', { service: 'v6', portNumber: 80 });
  assert.ok('backend' in v6);
  assert.deepEqual(addrs(v6.backend), ['fd00::10:80']);
});

test('service-upstream: ExternalName, headless and cluster-IP-less Services fall back with a reason; missing Service or port silently', () => {
  const s = new ObjectStore();
  service(s, 'ext', [{ port: 80 }], { type: 'ExternalName', externalName: 'example.org', clusterIP: '10.96.0.1' });
  service(s, 'headless', [{ port: 80 }], { clusterIP: 'None' });
  service(s, 'manifest', [{ port: 80 }]);
  service(s, 'weird', [{ port: 80 }], { clusterIP: 'auto' });
  service(s, 'web', [{ port: 80 }], { clusterIP: '10.96.0.10' });
  const r = new ServiceResolver(s);
  const reason = (name: string, port = 80) => {
    const x = r.resolveClusterIp('default', { service: name, portNumber: port });
    assert.ok('fallback' in x, name);
    return x.fallback;
  };
  assert.match(reason('ext')!, /ExternalName/);
  assert.match(reason('headless')!, /headless/);
  assert.match(reason('manifest')!, /no spec.clusterIP$/);
  assert.match(reason('weird')!, /"auto" is not an IP address/);
  assert.equal(reason('missing'), null);
  assert.equal(reason('web', 81), null);
});

test('refresh: endpoint backends re-resolved, cluster-IP backends stay cluster-IP, non-Service backends kept', () => {
  const s = new ObjectStore();
  service(s, 'web', [{ name: 'http', port: 80 }], { clusterIP: '10.96.0.10' });
  endpoints(s, 'web', [{ addresses: [{ ip: '10.0.0.1' }], ports: [{ name: 'http', port: 80 }] }]);
  const before = new ServiceResolver(s);
  const eps = before.resolve('default', { service: 'web', portName: 'http' });
  const r = before.resolveClusterIp('default', { service: 'web', portName: 'http' });
  assert.ok('backend' in r);
  const cip = r.backend;
  endpoints(s, 'web', [{ addresses: [{ ip: '10.0.0.2' }], ports: [{ name: 'http', port: 80 }] }]);
  const after = new ServiceResolver(s);
  assert.deepEqual(addrs(after.refresh(eps)), ['10.0.0.2:80']);
  assert.equal(after.refresh(eps).id, 'default/web:http');
  assert.deepEqual(after.refresh(cip), cip);
  const resource = { id: 'default/resource:Bucket/b', service: '', port: '', endpoints: [] };
  assert.equal(after.refresh(resource), resource);
});
