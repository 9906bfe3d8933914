// Issue 5 item 4: plain HTTP to a TLS host answers 308 to https://host[:port]/path?query (the port of
// --https-port unless 443, or --https-redirect-port), ssl-redirect "false" turns it off per Ingress,
// force-ssl-redirect "true" forces it for hosts without TLS; Strict-Transport-Security on HTTPS responses
// (ingress-nginx's default value), configurable and never on plain HTTP.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { EchoServer } from '../src/demo/echo-server.ts';
import { backend, closeAll, echoes, echoOf, httpBackend, refusedPort, request, rule, service, type TestServer } from './harness.ts';
import { h2Request, h2Session, closeSession, httpsRequest, makeCert, muteStderr, startTlsArchway, tlsIngress, tlsSecret, type TlsArchway } from './tls-harness.ts';

const stderr = muteStderr();
after(() => stderr.restore());

const HSTS_DEFAULT = 'max-age=31536000; includeSubDomains';
const certs = { secure: makeCert('secure.test'), wild: makeCert('*.wild.test', { dnsNames: ['*.wild.test'] }) };

let be: Record<string, EchoServer>;
/** A backend that sets its own Strict-Transport-Security. */
let own: TestServer;

before(async () => {
  be = await echoes('secure', 'optout', 'forced', 'plain', 'wild');
  own = await httpBackend((_req, res) => {
    res.writeHead(200, { 'strict-transport-security': 'max-age=60', 'content-length': '2' });
    res.end('ok');
  });
});
after(async () => {
  await closeAll(be);
  await own.close();
});

const T = '2024-01-01T00:00:00Z';

function docs(): Array<Record<string, unknown> | Array<Record<string, unknown>>> {
  return [
    ...Object.keys(be).map((n) => service(n, be[n].port)),
    service('own', own.port),
    tlsSecret('secure', certs.secure),
    tlsSecret('wild', certs.wild),
    tlsIngress('secure', [rule('secure.test', [['/', 'Prefix', backend('secure')]]), rule('own.test', [['/', 'Prefix', backend('own')]])], [
      { hosts: ['secure.test', 'own.test'], secretName: 'secure' },
    ], { creationTimestamp: T }),
    tlsIngress('optout', [rule('optout.test', [['/', 'Prefix', backend('optout')]])], [{ hosts: ['optout.test'], secretName: 'secure' }], {
      creationTimestamp: T, annotations: { 'nginx.ingress.kubernetes.io/ssl-redirect': 'false' },
    }),
    tlsIngress('forced', [rule('forced.test', [['/', 'Prefix', backend('forced')]])], [], {
      creationTimestamp: T, annotations: { 'nginx.ingress.kubernetes.io/force-ssl-redirect': 'true' },
    }),
    tlsIngress('plain', [rule('plain.test', [['/', 'Prefix', backend('plain')]])], [], { creationTimestamp: T }),
    tlsIngress('wild', [rule('app.wild.test', [['/', 'Prefix', backend('wild')]])], [{ hosts: ['*.wild.test'], secretName: 'wild' }], { creationTimestamp: T }),
  ];
}

describe('redirects to https', { timeout: 30_000 }, () => {
  let arch: TlsArchway;
  let httpsPort: number;

  before(async () => {
    // A concrete --https-port (not 0): the redirect carries it.
    httpsPort = await refusedPort();
    arch = await startTlsArchway(docs(), ['--https-port', String(httpsPort)]);
  });
  after(() => arch?.stop());

  test('plain HTTP to a TLS host: 308 to https://host:port/path?query, nothing reaches the backend', async () => {
    const res = await request(arch.port, '/a/b%20c?x=1&y=%2F', { host: 'secure.test' });
    assert.equal(res.status, 308);
    assert.equal(res.headers.location, `https://secure.test:${httpsPort}/a/b%20c?x=1&y=%2F`);
    assert.equal(res.headers['x-echo-backend'], undefined, 'Archway answered, not the backend');
    assert.equal(res.headers['strict-transport-security'], undefined, 'no HSTS over plain HTTP');
    // The port of the Host header is the HTTP port; the Location names the HTTPS one.
    const withPort = await request(arch.port, '/', { host: `secure.test:${arch.port}` });
    assert.equal(withPort.headers.location, `https://secure.test:${httpsPort}/`);
    // 308 keeps the method: a POST is redirected too, not proxied.
    const post = await request(arch.port, '/form', { host: 'secure.test', method: 'POST', body: 'a=1', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    assert.equal(post.status, 308);
    assert.equal(post.headers['x-echo-backend'], undefined);
    assert.equal(post.headers.location, `https://secure.test:${httpsPort}/form`);
    // Following the redirect works: the HTTPS request is proxied with the host's certificate.
    const followed = await httpsRequest(httpsPort, '/a?x=1', { servername: 'secure.test' });
    assert.equal(followed.status, 200);
    assert.equal(echoOf(followed as never).backend, 'secure');
    assert.equal(followed.cert.cn, 'secure.test');
  });

  test('ssl-redirect "false" serves plain HTTP for that Ingress, HTTPS still works', async () => {
    const res = await request(arch.port, '/x', { host: 'optout.test' });
    assert.equal(res.status, 200);
    assert.equal(echoOf(res).backend, 'optout');
    assert.equal(echoOf(res).headers['x-forwarded-proto'], 'http');
    const tls = await httpsRequest(httpsPort, '/x', { servername: 'optout.test' });
    assert.equal(tls.status, 200);
    assert.equal(tls.cert.cn, 'secure.test');
  });

  test('force-ssl-redirect "true" redirects a host without TLS; hosts without TLS are not redirected otherwise', async () => {
    const res = await request(arch.port, '/p?q', { host: 'forced.test' });
    assert.equal(res.status, 308);
    assert.equal(res.headers.location, `https://forced.test:${httpsPort}/p?q`);
    // Over HTTPS it is served (with the default certificate).
    assert.equal((await httpsRequest(httpsPort, '/p', { servername: 'forced.test' })).status, 200);
    const plain = await request(arch.port, '/', { host: 'plain.test' });
    assert.equal(plain.status, 200);
    assert.equal(echoOf(plain).backend, 'plain');
  });

  test('HTTPS requests are never redirected; unknown hosts get 404 over either scheme', async () => {
    assert.equal((await httpsRequest(httpsPort, '/', { servername: 'secure.test' })).status, 200);
    assert.equal((await request(arch.port, '/', { host: 'nobody.test' })).status, 404);
  });

  test('a host covered by a wildcard spec.tls entry is redirected (as ingress-nginx does)', async () => {
    assert.equal((await httpsRequest(httpsPort, '/', { servername: 'app.wild.test' })).cert.cn, '*.wild.test');
    const res = await request(arch.port, '/w', { host: 'app.wild.test' });
    assert.equal(res.status, 308);
    assert.equal(res.headers.location, `https://app.wild.test:${httpsPort}/w`);
  });
});

describe('redirect port', { timeout: 20_000 }, () => {
  test('--https-redirect-port sets the Location port; 443 is left out', async (t) => {
    const a = await startTlsArchway(docs(), ['--https-redirect-port', '9443']);
    t.after(() => a.stop());
    assert.equal((await request(a.port, '/x?y', { host: 'secure.test' })).headers.location, 'https://secure.test:9443/x?y');
    const b = await startTlsArchway(docs(), ['--https-redirect-port', '443']);
    t.after(() => b.stop());
    const res = await request(b.port, '/x?y', { host: 'forced.test' });
    assert.equal(res.status, 308);
    assert.equal(res.headers.location, 'https://forced.test/x?y');
  });

  test('with --https-port 0 the Location names the port actually bound', async (t) => {
    const a = await startTlsArchway(docs());
    t.after(() => a.stop());
    assert.equal((await request(a.port, '/', { host: 'secure.test' })).headers.location, `https://secure.test:${a.httpsPort}/`);
  });
});

describe('Strict-Transport-Security', { timeout: 20_000 }, () => {
  test('present by default on HTTPS responses (proxied and Archway\'s own, HTTP/1.1 and HTTP/2), never on plain HTTP', async (t) => {
    const arch = await startTlsArchway(docs());
    t.after(() => arch.stop());
    const proxied = await httpsRequest(arch.httpsPort, '/', { servername: 'secure.test' });
    assert.equal(proxied.headers['strict-transport-security'], HSTS_DEFAULT);
    const local = await httpsRequest(arch.httpsPort, '/', { servername: 'secure.test', host: 'nobody.test' });
    assert.equal(local.status, 404);
    assert.equal(local.headers['strict-transport-security'], HSTS_DEFAULT);
    // A backend's own value is kept, not doubled.
    const ownRes = await httpsRequest(arch.httpsPort, '/', { servername: 'own.test' });
    assert.equal(ownRes.headers['strict-transport-security'], 'max-age=60');
    const session = await h2Session(arch.httpsPort, 'secure.test');
    t.after(() => closeSession(session));
    assert.equal((await h2Request(session, '/')).headers['strict-transport-security'], HSTS_DEFAULT);
    assert.equal((await h2Request(session, '/', { authority: 'nobody.test' })).headers['strict-transport-security'], HSTS_DEFAULT);
    assert.equal((await h2Request(session, '/', { authority: 'own.test' })).headers['strict-transport-security'], 'max-age=60');
    // Plain HTTP: none, proxied or local.
    assert.equal((await request(arch.port, '/', { host: 'plain.test' })).headers['strict-transport-security'], undefined);
    assert.equal((await request(arch.port, '/', { host: 'nobody.test' })).headers['strict-transport-security'], undefined);
  });

  test('--hsts-max-age and --no-hsts-include-subdomains shape it; --no-hsts removes it', async (t) => {
    const shaped = await startTlsArchway(docs(), ['--hsts-max-age', '600', '--no-hsts-include-subdomains']);
    t.after(() => shaped.stop());
    assert.equal((await httpsRequest(shaped.httpsPort, '/', { servername: 'secure.test' })).headers['strict-transport-security'], 'max-age=600');
    const off = await startTlsArchway(docs(), ['--no-hsts']);
    t.after(() => off.stop());
    const res = await httpsRequest(off.httpsPort, '/', { servername: 'secure.test' });
    assert.equal(res.status, 200);
    assert.equal(res.headers['strict-transport-security'], undefined);
    assert.equal((await httpsRequest(off.httpsPort, '/', { servername: 'secure.test', host: 'nobody.test' })).headers['strict-transport-security'], undefined);
    const session = await h2Session(off.httpsPort, 'secure.test');
    t.after(() => closeSession(session));
    assert.equal((await h2Request(session, '/')).headers['strict-transport-security'], undefined);
  });
});
