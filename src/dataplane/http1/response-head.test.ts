import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { parseResponseHead, responseBodyKind, MAX_RESPONSE_HEADERS } from './response-head.ts';
import type { ResponseHead } from './response-head.ts';
import { scanHeadEnd } from './head-scan.ts';
import { HttpParseError } from './errors.ts';

function parse(s: string): ResponseHead {
  const b = Buffer.from(s, 'latin1');
  return parseResponseHead(b, 0, b.length);
}

function rejects(s: string, code: string): void {
  assert.throws(
    () => parse(s),
    (e: unknown) => {
      assert.ok(e instanceof HttpParseError, `expected HttpParseError, got ${String(e)}`);
      assert.equal(e.code, code, `${JSON.stringify(s)}: ${e.message}`);
      assert.equal(e.status, 502, 'response errors answer 502');
      return true;
    },
    JSON.stringify(s),
  );
}

const ok = (fields: string) => `HTTP/1.1 200 OK\r\n${fields}\r\n`;

describe('status line', () => {
  test('basic', () => {
    const h = parse('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\n');
    assert.equal(h.versionMinor, 1);
    assert.equal(h.statusCode, 200);
    assert.equal(h.reason, 'OK');
    assert.deepEqual(h.headers, ['Content-Type', 'text/plain', 'Content-Length', '5']);
    assert.equal(h.contentLength, 5);
    assert.equal(h.chunked, false);
    assert.equal(h.keepAlive, true);
    assert.deepEqual(h.connectionTokens, []);
  });

  test('reason phrase: any field-vchar, SP, HTAB, obs-text; may be empty; SP before it may be missing', () => {
    assert.equal(parse('HTTP/1.1 404 Not  Found\t!\r\n\r\n').reason, 'Not  Found\t!');
    assert.equal(parse('HTTP/1.1 200 \xc9t\xe9\r\n\r\n').reason, '\xc9t\xe9');
    assert.equal(parse('HTTP/1.1 204 \r\n\r\n').reason, '');
    assert.equal(parse('HTTP/1.1 204\r\n\r\n').reason, '');
    rejects('HTTP/1.1 200 O\x00K\r\n\r\n', 'INVALID_STATUS');
    rejects('HTTP/1.1 200 O\x7fK\r\n\r\n', 'INVALID_STATUS');
    rejects('HTTP/1.1 200 OK\nX: y\r\n\r\n', 'BARE_LF');
    rejects('HTTP/1.1 200 OK\rX: y\r\n\r\n', 'BARE_CR');
  });

  test('status code: exactly three digits, 100-599', () => {
    for (const s of ['100', '101', '199', '200', '304', '418', '599']) assert.equal(parse(`HTTP/1.1 ${s} X\r\n\r\n`).statusCode, Number(s));
    for (const s of ['099', '000', '600', '999', '20', '2000', '20x', '-20', ' 200', '2 00', '']) {
      rejects(`HTTP/1.1 ${s} X\r\n\r\n`, 'INVALID_STATUS');
    }
    rejects('HTTP/1.1\t200 OK\r\n\r\n', 'INVALID_STATUS');
    rejects('HTTP/1.1  200 OK\r\n\r\n', 'INVALID_STATUS');
  });

  test('versions', () => {
    assert.equal(parse('HTTP/1.0 200 OK\r\n\r\n').versionMinor, 0);
    for (const v of ['HTTP/2.0', 'HTTP/1.2', 'HTTP/0.9']) rejects(`${v} 200 OK\r\n\r\n`, 'UNSUPPORTED_VERSION');
    for (const v of ['http/1.1', 'HTTP/1', 'HTTP/11', 'ICY', 'HTTP/1.1x']) rejects(`${v} 200 OK\r\n\r\n`, v === 'HTTP/1.1x' ? 'INVALID_STATUS' : 'INVALID_VERSION');
  });

  test('no leading empty lines from an upstream (would mean a desynchronised connection)', () => {
    rejects('\r\nHTTP/1.1 200 OK\r\n\r\n', 'INVALID_VERSION');
  });

  test('head must end with CRLFCRLF', () => {
    rejects('HTTP/1.1 200 OK\r\n', 'INVALID_HEAD');
  });
});

describe('fields', () => {
  test('same field rules as requests, as 502', () => {
    rejects(ok('X: a\r\n b\r\n'), 'OBS_FOLD');
    rejects(ok('X : b\r\n'), 'INVALID_HEADER_NAME');
    rejects(ok('X: a\x00\r\n'), 'INVALID_HEADER_VALUE');
    rejects(ok('Content-Length: 5\r\nContent-Length: 5\r\n'), 'DUPLICATE_CONTENT_LENGTH');
    rejects(ok('Content-Length: 5, 5\r\n'), 'DUPLICATE_CONTENT_LENGTH');
    rejects(ok('Content-Length: -1\r\n'), 'INVALID_CONTENT_LENGTH');
    rejects(ok('Content_Length: 1\r\n'), 'INVALID_HEADER_NAME');
    rejects(ok('Connection: a b\r\n'), 'INVALID_CONNECTION');
  });

  test('values trimmed, names as received; no Host requirement', () => {
    const h = parse(ok('set-cookie:  a=b \r\nSet-Cookie: c=d\r\n'));
    assert.deepEqual(h.headers, ['set-cookie', 'a=b', 'Set-Cookie', 'c=d']);
  });

  test(`at most MAX_RESPONSE_HEADERS (${MAX_RESPONSE_HEADERS}) field lines`, () => {
    assert.equal(parse(ok('X: y\r\n'.repeat(MAX_RESPONSE_HEADERS))).headers.length, 2 * MAX_RESPONSE_HEADERS);
    rejects(ok('X: y\r\n'.repeat(MAX_RESPONSE_HEADERS + 1)), 'TOO_MANY_HEADERS');
  });

  test('chunked', () => {
    assert.equal(parse(ok('Transfer-Encoding: Chunked\r\n')).chunked, true);
    rejects(ok('Transfer-Encoding: gzip, chunked\r\n'), 'UNSUPPORTED_TRANSFER_ENCODING');
    rejects(ok('Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n'), 'UNSUPPORTED_TRANSFER_ENCODING');
    rejects(ok('Transfer-Encoding: identity\r\n'), 'UNSUPPORTED_TRANSFER_ENCODING');
  });

  test('Transfer-Encoding with Content-Length from an upstream → error (the proxy answers 502)', () => {
    rejects(ok('Transfer-Encoding: chunked\r\nContent-Length: 5\r\n'), 'TE_WITH_CONTENT_LENGTH');
    rejects(ok('Content-Length: 5\r\nTransfer-Encoding: chunked\r\n'), 'TE_WITH_CONTENT_LENGTH');
  });

  test('Transfer-Encoding in an HTTP/1.0 response → error', () => {
    rejects('HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n', 'TE_ON_HTTP10');
  });

  test('keep-alive rules like requests', () => {
    assert.equal(parse(ok('')).keepAlive, true);
    assert.equal(parse(ok('Connection: close\r\n')).keepAlive, false);
    assert.equal(parse('HTTP/1.0 200 OK\r\n\r\n').keepAlive, false);
    assert.equal(parse('HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n\r\n').keepAlive, true);
    assert.deepEqual(parse(ok('Connection: Keep-Alive, X-Hop\r\n')).connectionTokens, ['keep-alive', 'x-hop']);
  });

  test('1xx announcing a body → error; 204/304 announcing one → not reusable', () => {
    rejects('HTTP/1.1 100 Continue\r\nContent-Length: 5\r\n\r\n', 'INVALID_FRAMING');
    rejects('HTTP/1.1 101 Switching Protocols\r\nTransfer-Encoding: chunked\r\n\r\n', 'INVALID_FRAMING');
    assert.equal(parse('HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n').keepAlive, false);
    assert.equal(parse('HTTP/1.1 204 No Content\r\nTransfer-Encoding: chunked\r\n\r\n').keepAlive, false);
    assert.equal(parse('HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n').keepAlive, false);
    assert.equal(parse('HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n').keepAlive, true);
    // 304 may carry the Content-Length the 200 would have had (RFC 9110 §8.6).
    assert.equal(parse('HTTP/1.1 304 Not Modified\r\nContent-Length: 1234\r\n\r\n').keepAlive, true);
  });

  test('works with scanHeadEnd at an offset (second response on a connection)', () => {
    const first = 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi';
    const b = Buffer.from(first + 'HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n', 'latin1');
    const end = scanHeadEnd(b, first.length, first.length, b.length, 8192);
    assert.equal(end, b.length);
    assert.equal(parseResponseHead(b, first.length, end).statusCode, 404);
  });
});

describe('responseBodyKind (RFC 9112 §6.3)', () => {
  const kind = (s: string, method = 'GET') => responseBodyKind(parse(s), method);
  test('no body: HEAD, 1xx, 204, 304, 2xx to CONNECT', () => {
    assert.equal(kind(ok('Content-Length: 10\r\n'), 'HEAD'), 'none');
    assert.equal(kind(ok('Transfer-Encoding: chunked\r\n'), 'HEAD'), 'none');
    assert.equal(kind('HTTP/1.1 100 Continue\r\n\r\n'), 'none');
    assert.equal(kind('HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n'), 'none');
    assert.equal(kind('HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n'), 'none');
    assert.equal(kind('HTTP/1.1 204 No Content\r\n\r\n'), 'none');
    assert.equal(kind('HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n'), 'none');
    assert.equal(kind(ok(''), 'CONNECT'), 'none');
  });
  test('chunked, length, close', () => {
    assert.equal(kind(ok('Transfer-Encoding: chunked\r\n')), 'chunked');
    assert.equal(kind(ok('Content-Length: 10\r\n')), 'length');
    assert.equal(kind(ok('Content-Length: 0\r\n')), 'length');
    assert.equal(kind(ok('')), 'close');
    assert.equal(kind('HTTP/1.1 407 Proxy Auth\r\n\r\n', 'CONNECT'), 'close');
    assert.equal(kind('HTTP/1.0 200 OK\r\n\r\n'), 'close');
  });
});
