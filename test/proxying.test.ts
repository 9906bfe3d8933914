// Proxying (INGRESS-SEMANTICS.md "Proxying"; issue 2 item 6): what the backend receives and what the
// client gets back, byte-level where it matters (raw sockets), through a real Archway.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Agent, request as httpRequest } from 'node:http';
import { after, before, describe, test } from 'node:test';
import type { EchoReply, EchoServer } from '../src/demo/echo-server.ts';
import { webSocketAccept } from '../src/demo/echo-server.ts';
import {
  backend, closeAll, echoes, httpBackend, ingress, onRequestHead, RawConn, rawOnce, request, rule, service, sleep, startArchway,
  tcpBackend, yamlDocs, type Archway, type RawResponse, type TestServer,
} from './harness.ts';

const T = { timeout: 10_000 };

let be: Record<string, EchoServer>;
let special: TestServer;
let raw: TestServer;
let arch: Archway;
let trustedArch: Archway;
let otherTrustArch: Archway;

/** JSON describing the request body a backend received. */
interface BodyInfo { bytes: number; sha: string; te: string | null; cl: string | null; url: string }

function sha(b: Buffer | string): string {
  return createHash('sha256').update(b).digest('hex');
}

before(async () => {
  be = await echoes('echo');
  special = await httpBackend((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const hash = createHash('sha256');
    let bytes = 0;
    req.on('data', (c: Buffer) => {
      bytes += c.length;
      hash.update(c);
    });
    req.on('end', async () => {
      switch (url.pathname) {
        case '/sha': {
          const info: BodyInfo = { bytes, sha: hash.digest('hex'), te: req.headers['transfer-encoding'] ?? null, cl: req.headers['content-length'] ?? null, url: req.url ?? '' };
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify(info));
          return;
        }
        case '/chunked':
          res.writeHead(200, { 'content-type': 'text/plain' });
          res.write('part1-');
          await sleep(20);
          res.write('part2-');
          await sleep(20);
          res.end('part3');
          return;
        case '/204':
          res.writeHead(204, { 'x-status': '204' });
          res.end();
          return;
        case '/304':
          res.writeHead(304, { etag: '"v1"', 'content-length': '1234' });
          res.end();
          return;
        case '/nodate':
          res.sendDate = false;
          res.writeHead(200, { 'content-length': '2' });
          res.end('ok');
          return;
        case '/server':
          res.writeHead(200, { server: 'backend/1.0', date: 'Mon, 01 Jan 2001 00:00:00 GMT', 'content-length': '2' });
          res.end('ok');
          return;
        case '/slow':
          await sleep(Number(url.searchParams.get('ms') ?? '100'));
          res.writeHead(200, { 'content-type': 'text/plain', 'content-length': String(Buffer.byteLength(req.url ?? '')) });
          res.end(req.url);
          return;
        case '/big': {
          const n = Number(url.searchParams.get('bytes'));
          const chunk = Buffer.alloc(64 * 1024, 'x');
          res.writeHead(200, { 'content-length': String(n) });
          let left = n;
          const pump = () => {
            while (left > 0) {
              const c = left >= chunk.length ? chunk : chunk.subarray(0, left);
              left -= c.length;
              if (!res.write(c)) return void res.once('drain', pump);
            }
            res.end();
          };
          pump();
          return;
        }
        default:
          res.writeHead(404);
          res.end();
      }
    });
  });
  // One request per connection; answers are written as raw bytes.
  raw = await tcpBackend((s) => {
    onRequestHead(s, (head) => {
      const path = head.split(' ')[1];
      if (path === '/close-delimited') {
        s.write('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nclose-');
        setTimeout(() => s.end('delimited body'), 30);
      } else if (path === '/hop') {
        s.end('HTTP/1.1 200 OK\r\nConnection: X-Resp-Hop, close\r\nX-Resp-Hop: secret\r\nKeep-Alive: timeout=5\r\nProxy-Connection: keep-alive\r\nX-Kept: yes\r\nContent-Length: 2\r\n\r\nok');
      } else if (path === '/http10-chunked') {
        s.end('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n');
      } else {
        s.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      }
    });
  });
  const files = {
    'backends.yaml': yamlDocs(service('echo', be.echo.port), service('special', special.port), service('raw', raw.port)),
    'ingress.yaml': yamlDocs(ingress('proxy', { rules: [
      rule('echo.test', [['/', 'Prefix', backend('echo')]]),
      rule('special.test', [['/', 'Prefix', backend('special')]]),
      rule('raw.test', [['/', 'Prefix', backend('raw')]]),
    ] })),
  };
  arch = await startArchway(files);
  trustedArch = await startArchway(files, ['--trusted-proxies', '10.0.0.0/8,127.0.0.1/32']);
  otherTrustArch = await startArchway(files, ['--trusted-proxies', '10.0.0.0/8']);
});

after(async () => {
  await arch?.stop();
  await trustedArch?.stop();
  await otherTrustArch?.stop();
  await closeAll(be);
  await special?.close();
  await raw?.close();
});


function echoBody(res: RawResponse): EchoReply {
  assert.equal(res.status, 200, res.body.toString());
  return JSON.parse(res.body.toString()) as EchoReply;
}

describe('request forwarding', () => {
  test('Host, method, path, query, headers and body reach the backend unchanged', T, async () => {
    const body = Buffer.alloc(3000, 'b');
    const target = '/a/b%20c/./d?x=1&y=%2F&z&x=2';
    const { res } = await rawOnce(arch.port, Buffer.concat([Buffer.from(
      `POST ${target} HTTP/1.1\r\nHost: Echo.Test:8080\r\nX-Custom: v1\r\nX-Multi: a\r\nX-Multi: b\r\nCookie: k=v\r\n` +
      `User-Agent: feature-test/1\r\nContent-Type: application/octet-stream\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`, 'latin1'), body]));
    const e = echoBody(res);
    assert.equal(e.method, 'POST');
    assert.equal(e.url, target);
    assert.equal(e.httpVersion, '1.1');
    assert.equal(e.headers.host, 'Echo.Test:8080');
    assert.equal(e.headers['x-custom'], 'v1');
    assert.equal(e.headers['x-multi'], 'a, b');
    assert.equal(e.headers.cookie, 'k=v');
    assert.equal(e.headers['user-agent'], 'feature-test/1');
    assert.equal(e.headers['content-length'], '3000');
    assert.equal(e.bodyBytes, 3000);
  });

  test('header values with obs-text bytes are forwarded byte for byte', T, async () => {
    const { res } = await rawOnce(arch.port, Buffer.from('GET / HTTP/1.1\r\nHost: echo.test\r\nX-Latin: caf\xe9 cr\xe8me\r\nConnection: close\r\n\r\n', 'latin1'));
    // node:http decodes field values as latin1
    assert.equal(echoBody(res).headers['x-latin'], 'caf\u00e9 cr\u00e8me');
  });

  test('absolute-form target: the backend receives origin-form and the Host of the target', T, async () => {
    const { res } = await rawOnce(arch.port, 'GET http://echo.test:8080/abs?q=1 HTTP/1.1\r\nHost: other.test\r\nConnection: close\r\n\r\n');
    const e = echoBody(res);
    assert.equal(e.url, '/abs?q=1');
    assert.equal(e.headers.host, 'echo.test:8080');
  });

  test('absolute-form target: X-Forwarded-Host is the Host sent upstream, port included', { ...T }, async () => {
    const { res } = await rawOnce(arch.port, 'GET http://echo.test:8080/abs HTTP/1.1\r\nHost: other.test\r\nConnection: close\r\n\r\n');
    assert.equal(echoBody(res).headers['x-forwarded-host'], 'echo.test:8080');
  });

  test('HTTP/1.0 without Host: forwarded with a Host field (HTTP/1.1 requires one)', T, async () => {
    const { res } = await rawOnce(arch.port, 'GET /no-host HTTP/1.0\r\n\r\n');
    // no Host: the host-less rules, of which there are none here
    assert.equal(res.status, 404);
    const { res: viaTarget } = await rawOnce(arch.port, 'GET http://echo.test/via-target HTTP/1.0\r\n\r\n');
    const e = echoBody(viaTarget);
    assert.equal(e.headers.host, 'echo.test');
    assert.equal(e.httpVersion, '1.1');
  });

  test('every method is forwarded as sent', T, async () => {
    for (const method of ['GET', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'PURGE', 'PROPFIND']) {
      const res = await request(arch.port, '/m', { host: 'echo.test', method, body: method === 'GET' ? undefined : 'x' });
      assert.equal((JSON.parse(res.text) as EchoReply).method, method);
    }
  });

  test('body bytes arrive intact (Content-Length body)', T, async () => {
    const body = Buffer.from(Array.from({ length: 200_000 }, (_, i) => (i * 7919) & 0xff));
    const res = await request(arch.port, '/sha?q=1', { host: 'special.test', method: 'PUT', body });
    const info = JSON.parse(res.text) as BodyInfo;
    assert.deepEqual(info, { bytes: body.length, sha: sha(body), te: null, cl: String(body.length), url: '/sha?q=1' });
  });

  test('chunked request bodies are forwarded chunked and complete', T, async () => {
    const parts = ['first chunk;', 'x'.repeat(70_000), 'last'];
    const res = await new Promise<string>((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port: arch.port, path: '/sha', method: 'POST', headers: { host: 'special.test' }, agent: false }, (r) => {
        let s = '';
        r.setEncoding('utf8').on('data', (c: string) => (s += c)).on('end', () => resolve(s));
      });
      req.on('error', reject);
      (async () => {
        for (const p of parts) {
          req.write(p);
          await sleep(10);
        }
        req.end();
      })();
    });
    const info = JSON.parse(res) as BodyInfo;
    assert.equal(info.te, 'chunked');
    assert.equal(info.bytes, parts.join('').length);
    assert.equal(info.sha, sha(parts.join('')));
  });

  test('a raw chunked body with extensions and trailers, split across writes', T, async () => {
    const conn = await RawConn.open(arch.port);
    try {
      conn.write('POST /sha HTTP/1.1\r\nHost: special.test\r\nTransfer-Encoding: chunked\r\n\r\n');
      await sleep(20);
      conn.write('5;ext=1\r\nhel');
      await sleep(20);
      conn.write('lo\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n');
      const res = await conn.response();
      const info = JSON.parse(res.body.toString()) as BodyInfo;
      assert.equal(info.bytes, 11);
      assert.equal(info.sha, sha('hello world'));
      // the connection is still usable
      conn.write('GET /x HTTP/1.1\r\nHost: echo.test\r\n\r\n');
      assert.equal(echoBody(await conn.response()).url, '/x');
    } finally {
      conn.destroy();
    }
  });
});

describe('hop-by-hop and forwarding headers', () => {
  test('hop-by-hop request headers are removed, including those named by Connection', T, async () => {
    const { res } = await rawOnce(arch.port,
      'GET /hop HTTP/1.1\r\nHost: echo.test\r\nConnection: X-Hop, keep-alive, close\r\nX-Hop: secret\r\nKeep-Alive: timeout=5\r\n' +
      'Proxy-Connection: keep-alive\r\nTE: trailers\r\nTrailer: X-T\r\nUpgrade: h2c\r\nX-End-To-End: kept\r\n\r\n');
    const h = echoBody(res).headers;
    for (const name of ['x-hop', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'upgrade']) assert.equal(h[name], undefined, `${name} reached the backend`);
    assert.doesNotMatch(String(h.connection ?? ''), /x-hop|upgrade/i);
    assert.equal(h['x-end-to-end'], 'kept');
  });

  test('hop-by-hop response headers are removed, including those named by Connection', T, async () => {
    const { res } = await rawOnce(arch.port, 'GET /hop HTTP/1.1\r\nHost: raw.test\r\nConnection: close\r\n\r\n');
    assert.equal(res.status, 200);
    assert.equal(res.body.toString(), 'ok');
    assert.equal(res.headers['x-resp-hop'], undefined);
    assert.equal(res.headers['keep-alive'], undefined);
    assert.equal(res.headers['proxy-connection'], undefined);
    assert.equal(res.headers['x-kept'], 'yes');
    assert.doesNotMatch(res.headers.connection ?? '', /x-resp-hop/i);
  });

  test('without --trusted-proxies, client forwarding headers are replaced', T, async () => {
    const { res } = await rawOnce(arch.port,
      'GET /xff HTTP/1.1\r\nHost: echo.test:1234\r\nX-Forwarded-For: 1.2.3.4\r\nX-Real-IP: 5.6.7.8\r\nX-Forwarded-Proto: https\r\n' +
      'X-Forwarded-Host: evil.test\r\nX-Forwarded-Port: 1\r\nX-Forwarded-Prefix: /evil\r\nConnection: close\r\n\r\n');
    const h = echoBody(res).headers;
    assert.equal(h['x-forwarded-for'], '127.0.0.1');
    assert.equal(h['x-real-ip'], '127.0.0.1');
    assert.equal(h['x-forwarded-proto'], 'http');
    assert.equal(h['x-forwarded-host'], 'echo.test:1234');
    assert.equal(h['x-forwarded-port'], String(arch.port));
    assert.equal(h['x-forwarded-prefix'], undefined);
  });

  test('forwarding headers are set when the client sends none', T, async () => {
    const { res } = await rawOnce(arch.port, 'GET / HTTP/1.1\r\nHost: echo.test\r\nConnection: close\r\n\r\n');
    const h = echoBody(res).headers;
    assert.equal(h['x-forwarded-for'], '127.0.0.1');
    assert.equal(h['x-real-ip'], '127.0.0.1');
    assert.equal(h['x-forwarded-proto'], 'http');
    assert.equal(h['x-forwarded-host'], 'echo.test');
    assert.equal(h['x-forwarded-port'], String(arch.port));
  });

  test('from a --trusted-proxies peer, X-Forwarded-For is appended and the others are kept', T, async () => {
    const { res } = await rawOnce(trustedArch.port,
      'GET /xff HTTP/1.1\r\nHost: echo.test\r\nX-Forwarded-For: 1.2.3.4\r\nX-Forwarded-For: 10.1.1.1\r\nX-Real-IP: 5.6.7.8\r\n' +
      'X-Forwarded-Proto: https\r\nX-Forwarded-Host: public.test\r\nX-Forwarded-Port: 443\r\nConnection: close\r\n\r\n');
    const h = echoBody(res).headers;
    assert.equal(h['x-forwarded-for'], '1.2.3.4, 10.1.1.1, 127.0.0.1');
    assert.equal(h['x-real-ip'], '5.6.7.8');
    assert.equal(h['x-forwarded-proto'], 'https');
    assert.equal(h['x-forwarded-host'], 'public.test');
    assert.equal(h['x-forwarded-port'], '443');
  });

  test('from a trusted peer without X-Real-IP, X-Real-IP is the first X-Forwarded-For hop', T, async () => {
    const { res } = await rawOnce(trustedArch.port, 'GET / HTTP/1.1\r\nHost: echo.test\r\nX-Forwarded-For: 9.9.9.9, 10.0.0.1\r\nConnection: close\r\n\r\n');
    const h = echoBody(res).headers;
    assert.equal(h['x-forwarded-for'], '9.9.9.9, 10.0.0.1, 127.0.0.1');
    assert.equal(h['x-real-ip'], '9.9.9.9');
  });

  test('--trusted-proxies that do not include the peer: headers replaced', T, async () => {
    const { res } = await rawOnce(otherTrustArch.port, 'GET / HTTP/1.1\r\nHost: echo.test\r\nX-Forwarded-For: 1.2.3.4\r\nX-Real-IP: 5.6.7.8\r\nConnection: close\r\n\r\n');
    const h = echoBody(res).headers;
    assert.equal(h['x-forwarded-for'], '127.0.0.1');
    assert.equal(h['x-real-ip'], '127.0.0.1');
  });
});

describe('responses', () => {
  test('Date and Server are present; Content-Length is kept', T, async () => {
    const res = await request(arch.port, '/', { host: 'echo.test' });
    assert.ok(res.headers.date);
    assert.equal(res.headers.server, 'archway');
    assert.equal(res.headers['content-length'], String(res.body.length));
    assert.equal(res.headers['transfer-encoding'], undefined);
    const nodate = await request(arch.port, '/nodate', { host: 'special.test' });
    assert.match(nodate.headers.date ?? '', /GMT$/);
    assert.equal(nodate.headers['content-length'], '2');
  });

  test("the backend's own Server and Date are passed through, not duplicated", T, async () => {
    const { res } = await rawOnce(arch.port, 'GET /server HTTP/1.1\r\nHost: special.test\r\nConnection: close\r\n\r\n');
    assert.equal(res.headers.server, 'backend/1.0');
    assert.equal(res.headers.date, 'Mon, 01 Jan 2001 00:00:00 GMT');
    assert.equal(res.headerNames.filter((n) => n.toLowerCase() === 'server').length, 1);
    assert.equal(res.headerNames.filter((n) => n.toLowerCase() === 'date').length, 1);
  });

  test('chunked responses are streamed chunked', T, async () => {
    const conn = await RawConn.open(arch.port);
    try {
      conn.write('GET /chunked HTTP/1.1\r\nHost: special.test\r\n\r\n');
      const res = await conn.response();
      assert.equal(res.headers['transfer-encoding'], 'chunked');
      assert.equal(res.body.toString(), 'part1-part2-part3');
      conn.write('GET /after HTTP/1.1\r\nHost: echo.test\r\n\r\n');
      assert.equal(echoBody(await conn.response()).url, '/after');
    } finally {
      conn.destroy();
    }
  });

  test('close-delimited responses arrive complete, then the client connection closes', T, async () => {
    const { res, closed } = await rawOnce(arch.port, 'GET /close-delimited HTTP/1.1\r\nHost: raw.test\r\n\r\n');
    assert.equal(res.status, 200);
    assert.equal(res.body.toString(), 'close-delimited body');
    assert.ok(closed);
  });

  test('a large response body arrives intact', T, async () => {
    const res = await request(arch.port, '/big?bytes=20000000', { host: 'special.test' });
    assert.equal(res.status, 200);
    assert.equal(res.body.length, 20_000_000);
    assert.equal(res.headers['content-length'], '20000000');
  });

  test('HEAD, 204 and 304 responses have no body and keep the connection usable', T, async () => {
    const conn = await RawConn.open(arch.port);
    try {
      conn.write('HEAD /h HTTP/1.1\r\nHost: echo.test\r\n\r\n');
      const head = await conn.response({ head: true });
      assert.equal(head.status, 200);
      assert.ok(Number(head.headers['content-length']) > 0, 'HEAD keeps the Content-Length of the GET');
      conn.write('GET /204 HTTP/1.1\r\nHost: special.test\r\n\r\n');
      const r204 = await conn.response();
      assert.equal(r204.status, 204);
      assert.equal(r204.headers['x-status'], '204');
      conn.write('GET /304 HTTP/1.1\r\nHost: special.test\r\nIf-None-Match: "v1"\r\n\r\n');
      const r304 = await conn.response();
      assert.equal(r304.status, 304);
      assert.equal(r304.headers.etag, '"v1"');
      conn.write('GET /next HTTP/1.1\r\nHost: echo.test\r\n\r\n');
      const next = await conn.response();
      // Had any of the bodiless answers carried bytes, they would be parsed as this response.
      assert.equal(echoBody(next).url, '/next');
      assert.equal(conn.pending.length, 0);
    } finally {
      conn.destroy();
    }
  });

  test('Expect: 100-continue: the interim 100 is relayed and the body follows', T, async () => {
    const conn = await RawConn.open(arch.port);
    try {
      conn.write('POST /sha HTTP/1.1\r\nHost: special.test\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n');
      // The backend (node:http) sends 100 Continue; the client waits for it before sending the body.
      const interim = await conn.read(25, 3000);
      assert.match(interim.toString('latin1'), /^HTTP\/1\.1 100 Continue\r\n/);
      const rest = interim.toString('latin1');
      if (!rest.endsWith('\r\n\r\n')) {
        // read the remainder of the interim head, if any
        while (!(conn.pending.toString('latin1').includes('\r\n\r\n'))) await sleep(5);
        const i = conn.pending.indexOf('\r\n\r\n');
        await conn.read(i + 4);
      }
      conn.write('hello');
      const res = await conn.response();
      const info = JSON.parse(res.body.toString()) as BodyInfo;
      assert.equal(info.sha, sha('hello'));
    } finally {
      conn.destroy();
    }
  });

  test('Expect: 100-continue with node:http as the client', T, async () => {
    const got = await new Promise<{ continued: boolean; body: string }>((resolve, reject) => {
      let continued = false;
      const req = httpRequest({ host: '127.0.0.1', port: arch.port, path: '/sha', method: 'PUT', agent: false,
        headers: { host: 'special.test', expect: '100-continue', 'content-length': '3' } }, (res) => {
        let s = '';
        res.setEncoding('utf8').on('data', (c: string) => (s += c)).on('end', () => resolve({ continued, body: s }));
      });
      req.on('continue', () => {
        continued = true;
        req.end('abc');
      });
      req.on('error', reject);
      req.flushHeaders();
    });
    assert.ok(got.continued);
    assert.equal((JSON.parse(got.body) as BodyInfo).sha, sha('abc'));
  });
});

describe('connections', () => {
  test('keep-alive: sequential requests reuse one client connection', T, async () => {
    const before = arch.running.plane!.stats.connections;
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      for (let i = 0; i < 10; i++) {
        const res = await new Promise<string>((resolve, reject) => {
          httpRequest({ host: '127.0.0.1', port: arch.port, path: `/ka/${i}`, headers: { host: 'echo.test' }, agent }, (r) => {
            let s = '';
            r.setEncoding('utf8').on('data', (c: string) => (s += c)).on('end', () => resolve(s));
          }).on('error', reject).end();
        });
        assert.equal((JSON.parse(res) as EchoReply).url, `/ka/${i}`);
      }
    } finally {
      agent.destroy();
    }
    assert.equal(arch.running.plane!.stats.connections - before, 1);
  });

  test('300 concurrent requests are all answered, each with its own body', T, async () => {
    const conns0 = special.connections;
    const results = await Promise.all(Array.from({ length: 300 }, (_, i) => request(arch.port, `/slow?ms=${i % 7}&i=${i}`, { host: 'special.test' })));
    results.forEach((r, i) => {
      assert.equal(r.status, 200);
      assert.equal(r.text, `/slow?ms=${i % 7}&i=${i}`);
    });
    // the upstream pool opens at most one connection per concurrent request
    assert.ok(special.connections - conns0 <= 300);
  });

  test('pipelined requests on one connection are answered in order', T, async () => {
    const conn = await RawConn.open(arch.port);
    try {
      conn.write(
        'GET /slow?ms=150 HTTP/1.1\r\nHost: special.test\r\n\r\n' +
        'GET /p2 HTTP/1.1\r\nHost: echo.test\r\n\r\n' +
        'POST /sha HTTP/1.1\r\nHost: special.test\r\nContent-Length: 3\r\n\r\nabc' +
        'GET /missing HTTP/1.1\r\nHost: nowhere.test\r\n\r\n' +
        'GET /slow?ms=10 HTTP/1.1\r\nHost: special.test\r\n\r\n' +
        'GET /p6 HTTP/1.1\r\nHost: echo.test\r\nConnection: close\r\n\r\n');
      const r1 = await conn.response();
      assert.equal(r1.body.toString(), '/slow?ms=150');
      assert.equal(echoBody(await conn.response()).url, '/p2');
      assert.equal((JSON.parse((await conn.response()).body.toString()) as BodyInfo).sha, sha('abc'));
      assert.equal((await conn.response()).status, 404);
      assert.equal((await conn.response()).body.toString(), '/slow?ms=10');
      const r6 = await conn.response();
      assert.equal(echoBody(r6).url, '/p6');
      assert.ok(await conn.closedWithin(1000));
    } finally {
      conn.destroy();
    }
  });

  test('a client that half-closes after its request still gets the response', T, async () => {
    const conn = await RawConn.open(arch.port);
    try {
      conn.write('GET /slow?ms=50 HTTP/1.1\r\nHost: special.test\r\n\r\n');
      conn.socket.end();
      const res = await conn.response();
      assert.equal(res.body.toString(), '/slow?ms=50');
      assert.ok(await conn.closedWithin(1000));
    } finally {
      conn.destroy();
    }
  });

  test("a backend's Connection: close does not close the client connection", T, async () => {
    const conn = await RawConn.open(arch.port);
    try {
      conn.write('GET /hop HTTP/1.1\r\nHost: raw.test\r\n\r\n');
      const r1 = await conn.response();
      assert.equal(r1.body.toString(), 'ok');
      assert.equal(r1.headers.connection, undefined);
      conn.write('GET /after-close HTTP/1.1\r\nHost: echo.test\r\n\r\n');
      assert.equal(echoBody(await conn.response()).url, '/after-close');
    } finally {
      conn.destroy();
    }
  });

  test('HTTP/1.0 with keep-alive: Connection: keep-alive answered, connection reused', T, async () => {
    const conn = await RawConn.open(arch.port);
    try {
      conn.write('GET /one HTTP/1.0\r\nHost: echo.test\r\nConnection: keep-alive\r\n\r\n');
      const r1 = await conn.response();
      assert.equal(echoBody(r1).url, '/one');
      assert.match(r1.headers.connection ?? '', /keep-alive/i);
      assert.ok(r1.headers['content-length']);
      conn.write('GET /two HTTP/1.0\r\nHost: echo.test\r\nConnection: keep-alive\r\n\r\n');
      assert.equal(echoBody(await conn.response()).url, '/two');
      assert.equal(conn.closed, false);
    } finally {
      conn.destroy();
    }
  });

  test('HTTP/1.0 without keep-alive: answered, then closed', T, async () => {
    const { res, closed } = await rawOnce(arch.port, 'GET /once HTTP/1.0\r\nHost: echo.test\r\n\r\n');
    assert.equal(echoBody(res).url, '/once');
    assert.ok(closed);
  });

  test('HTTP/1.0 client, chunked backend response: payload de-chunked and delimited by close', T, async () => {
    const { res, closed } = await rawOnce(arch.port, 'GET /http10-chunked HTTP/1.0\r\nHost: raw.test\r\nConnection: keep-alive\r\n\r\n');
    assert.equal(res.headers['transfer-encoding'], undefined);
    assert.equal(res.body.toString(), 'hello world');
    assert.ok(closed);
  });
});

describe('upgrades', () => {
  test('WebSocket upgrade is tunnelled both ways', T, async () => {
    const conn = await RawConn.open(arch.port);
    try {
      const key = Buffer.from('feature-test-key').toString('base64');
      // Bytes sent right behind the head must reach the backend once the tunnel is up.
      conn.write(`GET /ws HTTP/1.1\r\nHost: echo.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\nearly`);
      const res = await conn.response();
      assert.equal(res.status, 101);
      assert.equal(res.headers.upgrade?.toLowerCase(), 'websocket');
      assert.match(res.headers.connection ?? '', /upgrade/i);
      assert.equal(res.headers['sec-websocket-accept'], webSocketAccept(key));
      assert.equal((await conn.read(5)).toString(), 'early');
      for (const msg of ['ping', 'x'.repeat(100_000), 'pong']) {
        conn.write(msg);
        assert.equal((await conn.read(msg.length)).toString(), msg);
      }
      // A closed tunnel closes on the other side too.
      conn.socket.end();
      assert.ok(await conn.closedWithin(2000));
    } finally {
      conn.destroy();
    }
  });
});
