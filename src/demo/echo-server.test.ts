import assert from 'node:assert/strict';
import { request } from 'node:http';
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import { connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { startEchoServer, webSocketAccept } from './echo-server.ts';
import type { EchoReply, EchoServer } from './echo-server.ts';

const T = { timeout: 5000 };

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

function send(port: number, method: string, path: string, headers: OutgoingHttpHeaders = {}, body?: Buffer[]): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('error', reject);
    for (const chunk of body ?? []) req.write(chunk);
    req.end();
  });
}

/** Opens a raw socket, sends `head`, resolves with everything read until `until` matches. */
function rawExchange(port: number, head: string) {
  const sock = connect(port, '127.0.0.1');
  let received = Buffer.alloc(0);
  sock.on('data', (c: Buffer) => {
    received = Buffer.concat([received, c]);
  });
  sock.write(head);
  return {
    sock,
    waitFor(pred: (text: string) => boolean): Promise<string> {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          const text = received.toString('latin1');
          if (pred(text)) {
            sock.off('data', check);
            resolve(text);
          }
        };
        sock.on('data', check);
        sock.once('error', reject);
        sock.once('close', () => reject(new Error(`socket closed; got ${JSON.stringify(received.toString('latin1'))}`)));
        check();
      });
    },
  };
}

describe('echo server', () => {
  let echo: EchoServer;
  before(async () => {
    echo = await startEchoServer({ name: 'svc-a', port: 0 });
  });
  after(() => echo.close());

  test('describes a GET with path, query and headers', T, async () => {
    const res = await send(echo.port, 'GET', '/a/b?x=1&x=2&y', { 'X-Custom-Thing': 'v1', Host: 'foo.bar.com' });
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-type'], 'application/json');
    assert.equal(res.headers['x-echo-backend'], 'svc-a');
    assert.equal(Number(res.headers['content-length']), Buffer.byteLength(res.body));
    const reply = JSON.parse(res.body) as EchoReply;
    assert.equal(reply.backend, 'svc-a');
    assert.equal(reply.method, 'GET');
    assert.equal(reply.url, '/a/b?x=1&x=2&y');
    assert.equal(reply.path, '/a/b');
    assert.equal(reply.query, 'x=1&x=2&y');
    assert.equal(reply.headers['x-custom-thing'], 'v1');
    assert.equal(reply.headers['host'], 'foo.bar.com');
    assert.equal(reply.httpVersion, '1.1');
    assert.equal(reply.remoteAddress, '127.0.0.1');
    assert.equal(reply.bodyBytes, 0);
  });

  test('path without query has an empty query', T, async () => {
    const reply = JSON.parse((await send(echo.port, 'GET', '/')).body) as EchoReply;
    assert.equal(reply.path, '/');
    assert.equal(reply.query, '');
  });

  test('counts a chunked request body', T, async () => {
    const chunks = [Buffer.alloc(1000, 1), Buffer.alloc(70000, 2), Buffer.from('end')];
    const res = await send(echo.port, 'POST', '/upload', { 'Content-Type': 'application/octet-stream' }, chunks);
    const reply = JSON.parse(res.body) as EchoReply;
    assert.equal(reply.method, 'POST');
    assert.equal(reply.headers['transfer-encoding'], 'chunked');
    assert.equal(reply.bodyBytes, 71003);
  });

  test('counts a Content-Length body', T, async () => {
    const res = await send(echo.port, 'PUT', '/x', { 'Content-Length': '5' }, [Buffer.from('hello')]);
    assert.equal((JSON.parse(res.body) as EchoReply).bodyBytes, 5);
  });

  test('HEAD gets the headers without a body', T, async () => {
    const res = await send(echo.port, 'HEAD', '/h');
    assert.equal(res.status, 200);
    assert.equal(res.body, '');
    assert.ok(Number(res.headers['content-length']) > 0);
  });

  test('computes Sec-WebSocket-Accept as in RFC 6455', () => {
    assert.equal(webSocketAccept('dGhlIHNhbXBsZSBub25jZQ=='), 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
  });

  test('accepts a WebSocket upgrade and echoes raw bytes', T, async () => {
    const ex = rawExchange(
      echo.port,
      'GET /chat HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\nearly',
    );
    try {
      const text = await ex.waitFor((t) => t.includes('\r\n\r\n') && t.endsWith('early'));
      const [head] = text.split('\r\n\r\n');
      const lines = head.split('\r\n');
      assert.equal(lines[0], 'HTTP/1.1 101 Switching Protocols');
      assert.ok(lines.includes('Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo='), head);
      assert.ok(lines.includes('Upgrade: websocket'), head);
      assert.ok(lines.includes('X-Echo-Backend: svc-a'), head);
      ex.sock.write(Buffer.from([0x81, 0x00, 0xff, 0x41]));
      const after = await ex.waitFor((t) => t.endsWith('early\x81\x00\xffA'));
      assert.ok(after.endsWith('early\x81\x00\xffA'));
    } finally {
      ex.sock.destroy();
    }
  });

  test('rejects a WebSocket upgrade without a key', T, async () => {
    const ex = rawExchange(echo.port, 'GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n');
    try {
      const text = await ex.waitFor((t) => t.includes('\r\n\r\n'));
      assert.match(text, /^HTTP\/1\.1 400 /);
    } finally {
      ex.sock.destroy();
    }
  });

  test('answers other Upgrade requests as plain requests', T, async () => {
    const res = await send(echo.port, 'GET', '/p', { Upgrade: 'h2c', Connection: 'Upgrade' });
    assert.equal(res.status, 200);
    assert.equal((JSON.parse(res.body) as EchoReply).headers['upgrade'], 'h2c');
  });
});

describe('echo server lifecycle', () => {
  test('fails clearly when the port is taken', T, async () => {
    const first = await startEchoServer({ name: 'one', port: 0 });
    try {
      await assert.rejects(startEchoServer({ name: 'two', port: first.port }), { code: 'EADDRINUSE' });
    } finally {
      await first.close();
    }
  });

  test('close() ends open keep-alive connections and WebSocket tunnels', T, async () => {
    const echo = await startEchoServer({ name: 'c', port: 0 });
    const ws = rawExchange(echo.port, 'GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: a2V5\r\n\r\n');
    await ws.waitFor((t) => t.includes('\r\n\r\n'));
    const closed = new Promise<void>((resolve) => ws.sock.once('close', () => resolve()));
    const keepAlive = rawExchange(echo.port, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    await keepAlive.waitFor((t) => t.includes('"backend": "c"'));
    const kaClosed = new Promise<void>((resolve) => keepAlive.sock.once('close', () => resolve()));
    await echo.close();
    await closed;
    await kaClosed;
    await echo.close(); // idempotent
  });
});
