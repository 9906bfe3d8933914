// Issue 5 items 3 and 7: ALPN offers h2 and http/1.1; HTTP/2 clients (node:http2) are routed exactly like
// HTTP/1.1 and proxied to HTTP/1.1 backends: GET and POST bodies intact both ways, status and headers
// relayed, many concurrent streams on one connection, Archway's own 404/503 over h2, SNI picks the
// certificate while :authority picks the route. In-process and with 2 workers.

import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import type { ClientHttp2Session } from 'node:http2';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { after, before, describe, test } from 'node:test';
import type { TLSSocket } from 'node:tls';
import { backend, httpBackend, rule, service, type TestServer } from './harness.ts';
import { closeSession, h2Request, h2Session, httpsRequest, makeCert, muteStderr, startTlsArchway, tlsIngress, tlsSecret, type TlsArchway } from './tls-harness.ts';

const stderr = muteStderr();
after(() => stderr.restore());

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** Deterministic bytes: the response body of /big?n=N. */
function pattern(n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + (i >> 8)) & 0xff;
  return b;
}

/**
 * The backend of these tests (names itself in x-backend):
 * - `/hello`: fixed status, headers (two Set-Cookie) and body;
 * - `/status/N`: answers status N;
 * - `/big?n=N`: N pattern bytes, chunked;
 * - `/echo` (any method): JSON of method, url, headers, body length and sha256;
 * - `/id/N`: body `N` after a short random delay (out-of-order completion).
 */
function handlerFor(name: string) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    const url = new URL(req.url ?? '/', 'http://x');
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const p = url.pathname;
      if (p === '/hello') {
        res.writeHead(200, [['content-type', 'text/plain'], ['x-custom', 'v1'], ['set-cookie', 'a=1; Path=/'], ['set-cookie', 'b=2; HttpOnly'], ['x-backend', name], ['content-length', '6']].flat());
        res.end('hello\n');
      } else if (p.startsWith('/status/')) {
        const status = Number(p.slice(8));
        const text = `status ${status}`;
        // `/status/204?cl` misbehaves: a Content-Length on a 204 (RFC 9110 §8.6 forbids it; node:http sends it as told).
        if (status === 204 && !url.searchParams.has('cl')) res.writeHead(204, { 'x-backend': name });
        else res.writeHead(status, { 'x-backend': name, 'content-length': Buffer.byteLength(text) });
        res.end(req.method === 'HEAD' || status === 204 ? undefined : text);
      } else if (p === '/big') {
        res.writeHead(200, { 'x-backend': name, 'content-type': 'application/octet-stream' }); // chunked
        const all = pattern(Number(url.searchParams.get('n')));
        for (let i = 0; i < all.length; i += 16384) res.write(all.subarray(i, i + 16384));
        res.end();
      } else if (p === '/echo') {
        const json = JSON.stringify({ method: req.method, url: req.url, headers: req.headers, length: body.length, sha256: sha(body) });
        res.writeHead(200, { 'x-backend': name, 'content-type': 'application/json', 'content-length': Buffer.byteLength(json) });
        res.end(json);
      } else if (p.startsWith('/id/')) {
        setTimeout(() => {
          res.writeHead(200, { 'x-backend': name, 'content-length': Buffer.byteLength(p.slice(4)) });
          res.end(p.slice(4));
        }, Math.floor(Math.random() * 10));
      } else {
        res.writeHead(404, { 'content-length': '0' });
        res.end();
      }
    });
  };
}

interface EchoJson {
  method: string;
  url: string;
  headers: Record<string, string>;
  length: number;
  sha256: string;
}

const certs = { a: makeCert('a.h2.test'), b: makeCert('b.h2.test') };

function h2Suite(mode: string, extraArgs: string[]): void {
  describe(`HTTP/2 over TLS (${mode})`, { timeout: 30_000 }, () => {
    let a: TestServer;
    let b: TestServer;
    let arch: TlsArchway;
    let session: ClientHttp2Session;

    before(async () => {
      a = await httpBackend(handlerFor('a'));
      b = await httpBackend(handlerFor('b'));
      arch = await startTlsArchway([
        service('a', a.port), service('b', b.port),
        { apiVersion: 'v1', kind: 'Service', metadata: { name: 'empty', namespace: 'default' }, spec: { ports: [{ name: 'http', port: 80 }] } },
        tlsSecret('a', certs.a), tlsSecret('b', certs.b),
        tlsIngress('h2', [
          rule('a.h2.test', [['/', 'Prefix', backend('a')]]),
          rule('b.h2.test', [['/', 'Prefix', backend('b')]]),
          rule('empty.h2.test', [['/', 'Prefix', backend('empty')]]),
        ], [{ hosts: ['a.h2.test'], secretName: 'a' }, { hosts: ['b.h2.test'], secretName: 'b' }]),
      ], extraArgs);
      session = await h2Session(arch.httpsPort, 'a.h2.test');
    });
    after(async () => {
      if (session) await closeSession(session);
      await arch?.stop();
      await a?.close();
      await b?.close();
    });

    test('ALPN: h2 for HTTP/2 clients, http/1.1 for HTTP/1.1 clients', async () => {
      assert.equal(session.alpnProtocol, 'h2');
      const h1 = await httpsRequest(arch.httpsPort, '/hello', { servername: 'a.h2.test', tls: { ALPNProtocols: ['http/1.1'] } });
      assert.equal(h1.alpn, 'http/1.1');
      assert.equal(h1.text, 'hello\n');
    });

    test('GET: status, headers (both Set-Cookie) and body relayed; Archway headers added', async () => {
      const res = await h2Request(session, '/hello', { authority: 'a.h2.test' });
      assert.equal(res.status, 200);
      assert.equal(res.text, 'hello\n');
      assert.equal(res.headers['content-type'], 'text/plain');
      assert.equal(res.headers['x-custom'], 'v1');
      assert.equal(res.headers['x-backend'], 'a');
      assert.deepEqual(res.headers['set-cookie'], ['a=1; Path=/', 'b=2; HttpOnly']);
      assert.equal(res.headers.connection, undefined);
      assert.ok(res.headers.date, 'a Date header');
      for (const status of [201, 204, 302, 418, 500]) {
        const r = await h2Request(session, `/status/${status}`, { authority: 'a.h2.test' });
        assert.equal(r.status, status);
        assert.equal(r.text, status === 204 ? '' : `status ${status}`);
      }
      // HEAD: the Content-Length of the GET, no body.
      const head = await h2Request(session, '/status/200', { method: 'HEAD', authority: 'a.h2.test' });
      assert.equal(head.status, 200);
      assert.equal(head.headers['content-length'], '10');
      assert.equal(head.body.length, 0);
    });

    // Found here, fixed in a66cce3: Content-Length of a 204 was relayed, and nghttp2 clients reset the stream.
    test('a backend\'s Content-Length on a 204 (forbidden by RFC 9110 §8.6) does not break the HTTP/2 stream', async () => {
      const r = await h2Request(session, '/status/204?cl', { authority: 'a.h2.test' });
      assert.equal(r.status, 204);
      assert.equal((await h2Request(session, '/hello', { authority: 'a.h2.test' })).status, 200);
    });

    test('a 1 MiB chunked response arrives intact', async () => {
      const res = await h2Request(session, '/big?n=1048576', { authority: 'a.h2.test', timeoutMs: 10_000 });
      assert.equal(res.status, 200);
      assert.equal(res.body.length, 1048576);
      assert.equal(sha(res.body), sha(pattern(1048576)));
    });

    test('POST bodies reach the backend intact, with and without content-length; request headers as over HTTP/1.1', async () => {
      const body = randomBytes(300 * 1024); // larger than the initial flow-control window
      const withLength = await h2Request(session, '/echo?q=1', { method: 'POST', authority: 'a.h2.test', body, headers: { 'content-length': String(body.length), cookie: ['x=1', 'y=2'], 'x-test': 't' }, timeoutMs: 10_000 });
      assert.equal(withLength.status, 200);
      const e = JSON.parse(withLength.text) as EchoJson;
      assert.equal(e.method, 'POST');
      assert.equal(e.url, '/echo?q=1');
      assert.equal(e.length, body.length);
      assert.equal(e.sha256, sha(body));
      assert.equal(e.headers.host, 'a.h2.test');
      assert.equal(e.headers['x-test'], 't');
      assert.equal(e.headers.cookie, 'x=1; y=2', 'HTTP/2 cookie fields are joined for HTTP/1.1');
      assert.equal(e.headers['x-forwarded-proto'], 'https');
      assert.equal(e.headers['x-forwarded-port'], String(arch.httpsPort));
      const small = Buffer.from('{"k":"v"}');
      const noLength = JSON.parse((await h2Request(session, '/echo', { method: 'PUT', authority: 'a.h2.test', body: small })).text) as EchoJson;
      assert.equal(noLength.method, 'PUT');
      assert.equal(noLength.sha256, sha(small));
      assert.equal(noLength.length, small.length);
      const empty = JSON.parse((await h2Request(session, '/echo', { method: 'POST', authority: 'a.h2.test', body: Buffer.alloc(0) })).text) as EchoJson;
      assert.equal(empty.length, 0);
    });

    test('200 concurrent streams on one connection, two hosts, each gets its own answer', async () => {
      const n = 200;
      const results = await Promise.all(Array.from({ length: n }, (_, i) => {
        const host = i % 2 === 0 ? 'a.h2.test' : 'b.h2.test';
        return h2Request(session, `/id/${i}`, { authority: host, timeoutMs: 10_000 }).then((r) => ({ i, host, r }));
      }));
      for (const { i, host, r } of results) {
        assert.equal(r.status, 200, `stream ${i}`);
        assert.equal(r.text, String(i), `stream ${i} got another stream's body`);
        assert.equal(r.headers['x-backend'], host[0], `stream ${i} routed by :authority`);
      }
    });

    test('Archway\'s own 404 and 503 over HTTP/2; the session survives them', async () => {
      const nf = await h2Request(session, '/', { authority: 'nobody.h2.test' });
      assert.equal(nf.status, 404);
      assert.match(nf.text, /^404 /);
      const unavailable = await h2Request(session, '/', { authority: 'empty.h2.test' });
      assert.equal(unavailable.status, 503);
      assert.match(unavailable.text, /^503 /);
      const ok = await h2Request(session, '/hello', { authority: 'a.h2.test' });
      assert.equal(ok.status, 200);
    });

    test('SNI picks the certificate, :authority picks the route', async () => {
      const s = await h2Session(arch.httpsPort, 'b.h2.test');
      try {
        const cert = (s.socket as TLSSocket).getPeerCertificate();
        assert.equal(cert.subject.CN, 'b.h2.test');
        const res = await h2Request(s, '/echo', { authority: 'a.h2.test' });
        assert.equal(res.headers['x-backend'], 'a');
        assert.equal((JSON.parse(res.text) as EchoJson).headers.host, 'a.h2.test');
      } finally {
        await closeSession(s);
      }
    });
  });
}

h2Suite('--workers 0', []);
h2Suite('--workers 2', ['--workers', '2']);
