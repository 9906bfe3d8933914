import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { parseRequestHead, MAX_HEADERS } from './request-head.ts';
import type { RequestHead } from './request-head.ts';
import { scanHeadEnd } from './head-scan.ts';
import { HttpParseError } from './errors.ts';

/** Scans and parses like the data plane does; `s` must contain a complete head. */
function parse(s: string): RequestHead {
  const b = Buffer.from(s, 'latin1');
  const end = scanHeadEnd(b, 0, 0, b.length, 64 * 1024);
  assert.ok(end > 0, 'head incomplete');
  return parseRequestHead(b, 0, end);
}

/** Parses without the scanner (the parser must validate on its own too). */
function parseOnly(s: string): RequestHead {
  const b = Buffer.from(s, 'latin1');
  return parseRequestHead(b, 0, b.length);
}

function rejects(s: string, code: string, status = 400, via: (s: string) => unknown = parse): void {
  assert.throws(
    () => via(s),
    (e: unknown) => {
      assert.ok(e instanceof HttpParseError, `expected HttpParseError, got ${String(e)}`);
      assert.equal(e.code, code, `${JSON.stringify(s)}: ${e.message}`);
      assert.equal(e.status, status);
      return true;
    },
    JSON.stringify(s),
  );
}

const H = 'Host: example.com\r\n';
const req = (line: string, fields = H) => `${line}\r\n${fields}\r\n`;
const get = (fields: string) => `GET / HTTP/1.1\r\n${fields}\r\n`;

describe('request line', () => {
  test('origin-form GET', () => {
    const h = parse('GET /a/b?x=1&y HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\n\r\n');
    assert.equal(h.method, 'GET');
    assert.equal(h.target, '/a/b?x=1&y');
    assert.equal(h.path, '/a/b');
    assert.equal(h.query, '?x=1&y');
    assert.equal(h.path + h.query, h.target);
    assert.equal(h.versionMinor, 1);
    assert.deepEqual(h.headers, ['Host', 'example.com', 'Accept', '*/*']);
    assert.equal(h.host, 'example.com');
    assert.equal(h.hostPort, '');
    assert.equal(h.contentLength, -1);
    assert.equal(h.chunked, false);
    assert.equal(h.keepAlive, true);
    assert.equal(h.upgrade, '');
    assert.equal(h.expectContinue, false);
    assert.deepEqual(h.connectionTokens, []);
  });

  test('query without path characters, empty query', () => {
    assert.equal(parse(req('GET /? HTTP/1.1')).query, '?');
    assert.equal(parse(req('GET /?a?b HTTP/1.1')).query, '?a?b');
    assert.equal(parse(req('GET /p HTTP/1.1')).query, '');
  });

  test('any token is a method, case-sensitive, common ones interned', () => {
    for (const m of ['GET', 'POST', 'PUT', 'HEAD', 'DELETE', 'PATCH', 'PURGE', 'PROPFIND', 'get', 'M-SEARCH', "X!#$%&'*+-.^_`|~"]) {
      assert.equal(parse(req(`${m} / HTTP/1.1`)).method, m);
    }
  });

  test('invalid methods', () => {
    for (const m of ['', 'G(T', 'GE"T', 'GET\x00', 'G\xe9T', 'G:T', 'G/T']) rejects(req(`${m} / HTTP/1.1`), 'INVALID_METHOD');
    rejects(req(' GET / HTTP/1.1'), 'INVALID_METHOD');
    rejects(req('GET\t/ HTTP/1.1'), 'INVALID_METHOD');
  });

  test('exactly one SP between the parts', () => {
    rejects(req('GET  / HTTP/1.1'), 'INVALID_TARGET');
    rejects(req('GET /  HTTP/1.1'), 'INVALID_VERSION');
    rejects(req('GET / HTTP/1.1 '), 'INVALID_VERSION');
    rejects(req('GET /\tHTTP/1.1'), 'INVALID_TARGET');
    rejects(req('GET /a b HTTP/1.1'), 'INVALID_VERSION');
  });

  test('request-target bytes: CTL, SP, DEL, non-ASCII and fragments are rejected', () => {
    for (const t of ['/\x00', '/\x01a', '/a\x7f', '/\x80', '/caf\xe9', '/\xff', '/a#frag', '#']) {
      rejects(req(`GET ${t} HTTP/1.1`), 'INVALID_TARGET');
    }
    // Visible ASCII that RFC 3986 excludes but real clients send raw: accepted like llhttp/nginx.
    assert.equal(parse(req('GET /a|b{c}"d<e>^`\\ HTTP/1.1')).path, '/a|b{c}"d<e>^`\\');
    assert.equal(parse(req('GET /%7e%ZZ HTTP/1.1')).path, '/%7e%ZZ');
  });

  test('missing version (HTTP/0.9 style) and malformed versions → 400', () => {
    rejects('GET /\r\nHost: a\r\n\r\n', 'INVALID_VERSION');
    for (const v of ['http/1.1', 'HTTP/1.1x', 'HTTP/11', 'HTTP/1.', 'HTTP/1', 'HTTP 1.1', 'HTTP/1,1', 'HTTPS/1.1', 'HTTP/a.1', 'HTTP/1.1.1']) {
      rejects(req(`GET / ${v}`), 'INVALID_VERSION');
    }
  });

  test('well-formed versions other than 1.0/1.1 → 505', () => {
    for (const v of ['HTTP/0.9', 'HTTP/1.2', 'HTTP/1.9', 'HTTP/2.0', 'HTTP/3.0', 'HTTP/9.9']) {
      rejects(req(`GET / ${v}`), 'UNSUPPORTED_VERSION', 505);
    }
  });

  test('HTTP/2 connection preface → 505', () => {
    rejects('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'.slice(0, 18), 'UNSUPPORTED_VERSION', 505, parseOnly);
  });

  test('HTTP/1.0', () => {
    const h = parse('GET / HTTP/1.0\r\n\r\n');
    assert.equal(h.versionMinor, 0);
    assert.equal(h.host, '');
    assert.equal(h.keepAlive, false);
  });

  test('leading empty lines are skipped', () => {
    const h = parse('\r\n\r\n' + req('GET /x HTTP/1.1'));
    assert.equal(h.method, 'GET');
    assert.equal(h.path, '/x');
  });

  test('asterisk-form only for OPTIONS', () => {
    const h = parse(req('OPTIONS * HTTP/1.1'));
    assert.equal(h.path, '*');
    assert.equal(h.query, '');
    rejects(req('GET * HTTP/1.1'), 'INVALID_TARGET');
    rejects(req('OPTIONS *x HTTP/1.1'), 'INVALID_TARGET');
    rejects(req('OPTIONS ** HTTP/1.1'), 'INVALID_TARGET');
  });

  test('authority-form only for CONNECT, with a port', () => {
    const h = parse(req('CONNECT Example.com:443 HTTP/1.1'));
    assert.equal(h.host, 'example.com');
    assert.equal(h.hostPort, '443');
    assert.equal(h.path, '');
    assert.equal(parse(req('CONNECT [::1]:8443 HTTP/1.1')).host, '[::1]');
    rejects(req('CONNECT example.com HTTP/1.1'), 'INVALID_TARGET');
    rejects(req('CONNECT /p HTTP/1.1'), 'INVALID_TARGET');
    rejects(req('CONNECT http://example.com:443/ HTTP/1.1'), 'INVALID_TARGET');
    rejects(req('CONNECT u@h:443 HTTP/1.1'), 'INVALID_TARGET');
    rejects(req('GET example.com:443 HTTP/1.1'), 'INVALID_TARGET');
  });

  test('absolute-form: host and path from the target, Host header ignored (RFC 9112 §3.2.2)', () => {
    const h = parse(req('GET http://Other.Example:8080/p/q?x=1 HTTP/1.1', 'Host: example.com\r\n'));
    assert.equal(h.host, 'other.example');
    assert.equal(h.hostPort, '8080');
    assert.equal(h.path, '/p/q');
    assert.equal(h.query, '?x=1');
    assert.equal(h.target, 'http://Other.Example:8080/p/q?x=1');
    const e = parse(req('GET https://h HTTP/1.1'));
    assert.equal(e.path, '/');
    assert.equal(e.query, '');
    const q = parse(req('GET HTTP://h?a=b HTTP/1.1'));
    assert.equal(q.host, 'h');
    assert.equal(q.path, '/');
    assert.equal(q.query, '?a=b');
    assert.equal(parse(req('GET http://[::1]:80/ HTTP/1.1')).host, '[::1]');
  });

  test('absolute-form: bad schemes, userinfo, empty host', () => {
    for (const t of ['ftp://h/', 'http:/h/', 'http:h', 'http://', 'http:///p', 'http://u@h/', 'http://u:p@h/', 'http://h:x/', 'x', 'http://h%2f/']) {
      rejects(req(`GET ${t} HTTP/1.1`), 'INVALID_TARGET');
    }
  });

  test('absolute-form still needs a valid Host header in HTTP/1.1', () => {
    rejects('GET http://h/ HTTP/1.1\r\n\r\n', 'MISSING_HOST');
    rejects(req('GET http://h/ HTTP/1.1', 'Host: a b\r\n'), 'INVALID_HOST');
    rejects(req('GET http://h/ HTTP/1.1', 'Host: a\r\nHost: h\r\n'), 'DUPLICATE_HOST');
  });
});

describe('Host', () => {
  test('lowercased, port split off, IPv6 brackets kept', () => {
    const h = parse(get('Host: Example.COM:8080\r\n'));
    assert.equal(h.host, 'example.com');
    assert.equal(h.hostPort, '8080');
    assert.deepEqual(h.headers, ['Host', 'Example.COM:8080']);
    const v6 = parse(get('Host: [2001:DB8::1]:443\r\n'));
    assert.equal(v6.host, '[2001:db8::1]');
    assert.equal(v6.hostPort, '443');
    assert.equal(parse(get('Host: 10.0.0.1\r\n')).host, '10.0.0.1');
    assert.equal(parse(get('host:   a.b  \r\n')).host, 'a.b');
    assert.equal(parse(get('HOST: a_b-c~d\r\n')).host, 'a_b-c~d');
  });

  test('empty Host is valid syntax (RFC 9112 §3.2) and gives ""', () => {
    assert.equal(parse(get('Host:\r\n')).host, '');
    assert.equal(parse(get('Host: \r\n')).host, '');
  });

  test('missing in HTTP/1.1 → 400, optional in HTTP/1.0', () => {
    rejects('GET / HTTP/1.1\r\nAccept: */*\r\n\r\n', 'MISSING_HOST');
    assert.equal(parse('GET / HTTP/1.0\r\nHost: a\r\n\r\n').host, 'a');
  });

  test('more than one Host → 400 (even if equal)', () => {
    rejects(get('Host: a\r\nHost: a\r\n'), 'DUPLICATE_HOST');
    rejects(get('Host: a\r\nhost: b\r\n'), 'DUPLICATE_HOST');
    rejects('GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n', 'DUPLICATE_HOST');
  });

  test('invalid Host syntax → 400', () => {
    for (const v of ['a b', 'a/b', 'u@h', 'h:x', 'h:', 'h:65536', 'h:123456', 'h:-1', ':80', '[::1', '[::1]x', '[zz]', '[::1%25eth0]', '[v1.x]', 'h%41', 'a,b', 'a;b', "a'b", 'h:80:80', 'h\\x']) {
      rejects(get(`Host: ${v}\r\n`), 'INVALID_HOST');
    }
    assert.equal(parse(get('Host: h:65535\r\n')).hostPort, '65535');
    assert.equal(parse(get('Host: h:0\r\n')).hostPort, '0');
  });
});

describe('header fields', () => {
  test('names as received, values trimmed of SP/HTAB, inner whitespace kept, empty values kept', () => {
    const h = parse(get(H + 'X-A:  a b\t c \t\r\nx-b:\r\nX-C:\t\t\r\nX-D:v\r\n'));
    assert.deepEqual(h.headers.slice(2), ['X-A', 'a b\t c', 'x-b', '', 'X-C', '', 'X-D', 'v']);
  });

  test('obs-text in values survives as latin1', () => {
    const h = parse(get(H + 'X: caf\xe9 \xff\x80\r\n'));
    assert.equal(h.headers[3], 'caf\xe9 \xff\x80');
    assert.deepEqual(Buffer.from(h.headers[3], 'latin1'), Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x20, 0xff, 0x80]));
  });

  test('NUL, CTLs and DEL in values → 400', () => {
    for (const ch of ['\x00', '\x01', '\x08', '\x0b', '\x0c', '\x1f', '\x7f']) {
      rejects(get(H + `X: a${ch}b\r\n`), 'INVALID_HEADER_VALUE');
    }
  });

  test('bare CR / bare LF inside a value → 400 (also without the scanner)', () => {
    rejects(get(H + 'X: a\rb\r\n'), 'BARE_CR');
    rejects(get(H + 'X: a\rb\r\n'), 'BARE_CR', 400, parseOnly);
    rejects(get(H + 'X: a\nb\r\n'), 'BARE_LF', 400, parseOnly);
    rejects('GET / HTTP/1.1\r\nHost: a\r\n\nX: y\r\n\r\n', 'BARE_LF', 400, parseOnly);
    rejects('GET / HTTP/1.1\r\r\nHost: a\r\n\r\n', 'BARE_CR', 400, parseOnly);
  });

  test('whitespace between name and colon → 400 (RFC 9112 §5.1)', () => {
    rejects(get(H + 'X-A : b\r\n'), 'INVALID_HEADER_NAME');
    rejects(get(H + 'X-A\t: b\r\n'), 'INVALID_HEADER_NAME');
    rejects(get('Host : a\r\n'), 'INVALID_HEADER_NAME');
  });

  test('empty or invalid names, lines without colon → 400', () => {
    for (const l of [': v', 'X(: v', 'X"Y: v', 'X\xe9: v', 'X/Y: v', 'X@: v', 'X{}: v', 'novalue', 'X\x00: v', '\x7f: v']) {
      rejects(get(H + l + '\r\n'), 'INVALID_HEADER_NAME');
    }
  });

  test('obs-fold → 400 OBS_FOLD (RFC 9112 §5.2), also right after the request line', () => {
    rejects(get(H + 'X: a\r\n b\r\n'), 'OBS_FOLD');
    rejects(get(H + 'X: a\r\n\tb\r\n'), 'OBS_FOLD');
    rejects('GET / HTTP/1.1\r\n Host: a\r\n\r\n', 'OBS_FOLD');
  });

  test(`at most MAX_HEADERS (${MAX_HEADERS}) field lines → 431`, () => {
    const ok = H + 'X: y\r\n'.repeat(MAX_HEADERS - 1);
    assert.equal(parse(get(ok)).headers.length, 2 * MAX_HEADERS);
    rejects(get(ok + 'X: y\r\n'), 'TOO_MANY_HEADERS', 431);
    const b = Buffer.from(get(H + 'X: y\r\n'.repeat(5)), 'latin1');
    assert.throws(() => parseRequestHead(b, 0, b.length, 5), /more than 5/);
  });

  test('a head not ending with CRLFCRLF, or with data after the empty line → 400', () => {
    rejects('GET / HTTP/1.1\r\nHost: a\r\n', 'INVALID_HEAD', 400, parseOnly);
    rejects('GET / HTTP/1.1\r\nHost: a\r\n\r\nX: y\r\n\r\n', 'INVALID_HEAD', 400, parseOnly);
    rejects('\r\n\r\n', 'INVALID_METHOD', 400, parseOnly);
  });

  test('parses at a non-zero offset', () => {
    const first = get(H);
    const b = Buffer.from(first + 'POST /x HTTP/1.1\r\nHost: b\r\nContent-Length: 3\r\n\r\nabc', 'latin1');
    const end = scanHeadEnd(b, first.length, first.length, b.length, 8192);
    const h = parseRequestHead(b, first.length, end);
    assert.equal(h.method, 'POST');
    assert.equal(h.host, 'b');
    assert.equal(h.contentLength, 3);
    assert.equal(b.toString('latin1', end), 'abc');
  });
});

describe('Content-Length', () => {
  test('digits', () => {
    assert.equal(parse(get(H + 'Content-Length: 0\r\n')).contentLength, 0);
    assert.equal(parse(get(H + 'content-length:  123 \r\n')).contentLength, 123);
    assert.equal(parse(get(H + 'Content-Length: 007\r\n')).contentLength, 7);
    assert.equal(parse(get(H + 'Content-Length: 999999999999999\r\n')).contentLength, 999999999999999);
  });

  test('anything but 1-15 digits → 400', () => {
    for (const v of ['', '+5', '-5', '0x5', '5 5', '5\t5', '1e3', '5.0', 'five', '1234567890123456', '5;', '\xb5']) {
      rejects(get(H + `Content-Length: ${v}\r\n`), 'INVALID_CONTENT_LENGTH');
    }
  });

  test('several Content-Length fields or a list → 400 even when equal', () => {
    rejects(get(H + 'Content-Length: 5\r\nContent-Length: 5\r\n'), 'DUPLICATE_CONTENT_LENGTH');
    rejects(get(H + 'Content-Length: 5\r\ncontent-length: 6\r\n'), 'DUPLICATE_CONTENT_LENGTH');
    rejects(get(H + 'Content-Length: 5, 5\r\n'), 'DUPLICATE_CONTENT_LENGTH');
    rejects(get(H + 'Content-Length: 5,5\r\n'), 'DUPLICATE_CONTENT_LENGTH');
  });

  test('underscore variants of framing headers → 400', () => {
    rejects(get(H + 'Content_Length: 5\r\n'), 'INVALID_HEADER_NAME');
    rejects(get(H + 'Transfer_Encoding: chunked\r\n'), 'INVALID_HEADER_NAME');
    assert.equal(parse(get(H + 'Transfer-Encoding_: chunked\r\n')).chunked, false);
    assert.equal(parse(get(H + 'Content-Lengthx: 5\r\n')).contentLength, -1);
  });
});

describe('Transfer-Encoding', () => {
  test('exactly "chunked", any case, OWS trimmed', () => {
    for (const v of ['chunked', 'Chunked', 'CHUNKED', ' chunked ', '\tchunked']) {
      const h = parse(get(H + `Transfer-Encoding: ${v}\r\n`));
      assert.equal(h.chunked, true, v);
      assert.equal(h.contentLength, -1);
    }
  });

  test('other codings and lists → 501', () => {
    for (const v of ['gzip, chunked', 'chunked, chunked', 'chunked,chunked', 'identity', 'gzip', 'xchunked', 'chunkedx', 'chunked;x', 'chunked; q=1', 'chunked, identity', ',chunked', 'chunked,', 'chun ked', '"chunked"']) {
      rejects(get(H + `Transfer-Encoding: ${v}\r\n`), 'UNSUPPORTED_TRANSFER_ENCODING', 501);
    }
  });

  test('several Transfer-Encoding fields are joined → 501', () => {
    rejects(get(H + 'Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n'), 'UNSUPPORTED_TRANSFER_ENCODING', 501);
    rejects(get(H + 'Transfer-Encoding: chunked\r\nTransfer-Encoding: x\r\n'), 'UNSUPPORTED_TRANSFER_ENCODING', 501);
    rejects(get(H + 'Transfer-Encoding: x\r\nTransfer-Encoding: chunked\r\n'), 'UNSUPPORTED_TRANSFER_ENCODING', 501);
    rejects(get(H + 'Transfer-Encoding: chunked\r\nTransfer-Encoding:\r\n'), 'UNSUPPORTED_TRANSFER_ENCODING', 501);
  });

  test('empty value → 400', () => {
    rejects(get(H + 'Transfer-Encoding:\r\n'), 'INVALID_TRANSFER_ENCODING');
    rejects(get(H + 'Transfer-Encoding: ,\r\n'), 'INVALID_TRANSFER_ENCODING');
  });

  test('control characters in the value → 400', () => {
    rejects(get(H + 'Transfer-Encoding: chunked\x0b\r\n'), 'INVALID_HEADER_VALUE');
    rejects(get(H + 'Transfer-Encoding: chunked\x00\r\n'), 'INVALID_HEADER_VALUE');
    rejects(get(H + 'Transfer-Encoding: \x0cchunked\r\n'), 'INVALID_HEADER_VALUE');
  });

  test('with Content-Length → 400, in either order', () => {
    rejects(get(H + 'Content-Length: 6\r\nTransfer-Encoding: chunked\r\n'), 'TE_WITH_CONTENT_LENGTH');
    rejects(get(H + 'Transfer-Encoding: chunked\r\nContent-Length: 6\r\n'), 'TE_WITH_CONTENT_LENGTH');
    rejects(get(H + 'Transfer-Encoding: gzip\r\nContent-Length: 0\r\n'), 'TE_WITH_CONTENT_LENGTH');
  });

  test('on an HTTP/1.0 request → 400', () => {
    rejects('POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n', 'TE_ON_HTTP10');
    rejects('POST / HTTP/1.0\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n', 'TE_ON_HTTP10');
  });
});

describe('Connection, Upgrade, Expect', () => {
  test('HTTP/1.1 persistent unless close; HTTP/1.0 only with keep-alive', () => {
    assert.equal(parse(get(H)).keepAlive, true);
    assert.equal(parse(get(H + 'Connection: close\r\n')).keepAlive, false);
    assert.equal(parse(get(H + 'Connection: Close\r\n')).keepAlive, false);
    assert.equal(parse(get(H + 'Connection: keep-alive, CLOSE\r\n')).keepAlive, false);
    assert.equal(parse('GET / HTTP/1.0\r\n\r\n').keepAlive, false);
    assert.equal(parse('GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n').keepAlive, true);
    assert.equal(parse('GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n').keepAlive, false);
  });

  test('tokens of all Connection fields, lowercased, empty list elements ignored', () => {
    const h = parse(get(H + 'Connection: Keep-Alive\r\nconnection: , X-Foo ,\tUpgrade,,\r\n'));
    assert.deepEqual(h.connectionTokens, ['keep-alive', 'x-foo', 'upgrade']);
  });

  test('a non-token Connection option → 400', () => {
    rejects(get(H + 'Connection: a b\r\n'), 'INVALID_CONNECTION');
    rejects(get(H + 'Connection: "close"\r\n'), 'INVALID_CONNECTION');
    rejects(get(H + 'Connection: close;x\r\n'), 'INVALID_CONNECTION');
  });

  test('upgrade only with Connection: upgrade, lowercased, HTTP/1.1 only (RFC 9110 §7.8)', () => {
    assert.equal(parse(get(H + 'Connection: Upgrade\r\nUpgrade: WebSocket\r\n')).upgrade, 'websocket');
    assert.equal(parse(get(H + 'Upgrade: websocket\r\n')).upgrade, '');
    assert.equal(parse(get(H + 'Connection: upgrade\r\n')).upgrade, '');
    assert.equal(parse('GET / HTTP/1.0\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n').upgrade, '');
    assert.equal(parse(get(H + 'Connection: upgrade\r\nUpgrade: h2c\r\nUpgrade: websocket\r\n')).upgrade, 'h2c, websocket');
  });

  test('Expect: 100-continue, case-insensitive, ignored for HTTP/1.0 (RFC 9110 §10.1.1)', () => {
    assert.equal(parse(get(H + 'Expect: 100-continue\r\n')).expectContinue, true);
    assert.equal(parse(get(H + 'expect: 100-Continue\r\n')).expectContinue, true);
    assert.equal(parse(get(H + 'Expect: 100-continue-x\r\n')).expectContinue, false);
    assert.equal(parse('POST / HTTP/1.0\r\nExpect: 100-continue\r\n\r\n').expectContinue, false);
  });
});

describe('request smuggling forms', () => {
  const cases: Array<[string, string, string, number?]> = [
    ['CL.TE / TE.CL', 'Content-Length: 6\r\nTransfer-Encoding: chunked\r\n', 'TE_WITH_CONTENT_LENGTH'],
    ['TE.CL', 'Transfer-Encoding: chunked\r\nContent-Length: 3\r\n', 'TE_WITH_CONTENT_LENGTH'],
    ['TE.TE xchunked', 'Transfer-Encoding: xchunked\r\n', 'UNSUPPORTED_TRANSFER_ENCODING', 501],
    ['TE.TE space before colon', 'Transfer-Encoding : chunked\r\n', 'INVALID_HEADER_NAME'],
    ['TE.TE tab before colon', 'Transfer-Encoding\t: chunked\r\n', 'INVALID_HEADER_NAME'],
    ['TE.TE duplicate with junk', 'Transfer-Encoding: chunked\r\nTransfer-Encoding: x\r\n', 'UNSUPPORTED_TRANSFER_ENCODING', 501],
    ['TE.TE fold', 'Transfer-Encoding:\r\n chunked\r\n', 'OBS_FOLD'],
    ['TE.TE fold tab', 'Transfer-Encoding: x\r\n\tchunked\r\n', 'OBS_FOLD'],
    ['TE.TE leading space line', ' Transfer-Encoding: chunked\r\n', 'OBS_FOLD'],
    ['TE.TE vertical tab', 'Transfer-Encoding: chunked\x0b\r\n', 'INVALID_HEADER_VALUE'],
    ['TE.TE quoted', 'Transfer-Encoding: "chunked"\r\n', 'UNSUPPORTED_TRANSFER_ENCODING', 501],
    ['TE.TE comma', 'Transfer-Encoding: chunked, identity\r\n', 'UNSUPPORTED_TRANSFER_ENCODING', 501],
    ['TE.TE underscore', 'Transfer_Encoding: chunked\r\n', 'INVALID_HEADER_NAME'],
    ['TE.TE non-ASCII in name', 'Transfer-Encodin\xe7: chunked\r\n', 'INVALID_HEADER_NAME'],
    ['TE bare LF line end', 'Transfer-Encoding: chunked\nX: y\r\n', 'BARE_LF'],
    ['bare LF as empty line', 'Transfer-Encoding: chunked\r\n\nX: y\r\n', 'BARE_LF'],
    ['TE bare CR line end', 'Transfer-Encoding: chunked\rX: y\r\n', 'BARE_CR'],
    ['CL.CL', 'Content-Length: 5\r\nContent-Length: 6\r\n', 'DUPLICATE_CONTENT_LENGTH'],
    ['CL.CL equal', 'Content-Length: 5\r\nContent-Length: 5\r\n', 'DUPLICATE_CONTENT_LENGTH'],
    ['CL list', 'Content-Length: 5, 6\r\n', 'DUPLICATE_CONTENT_LENGTH'],
    ['CL plus', 'Content-Length: +5\r\n', 'INVALID_CONTENT_LENGTH'],
    ['CL minus', 'Content-Length: -5\r\n', 'INVALID_CONTENT_LENGTH'],
    ['CL hex', 'Content-Length: 0x5\r\n', 'INVALID_CONTENT_LENGTH'],
    ['CL inner space', 'Content-Length: 1 0\r\n', 'INVALID_CONTENT_LENGTH'],
    ['CL space before colon', 'Content-Length : 5\r\n', 'INVALID_HEADER_NAME'],
    ['CL fold', 'Content-Length: 5\r\n 6\r\n', 'OBS_FOLD'],
    ['CL empty then fold', 'Content-Length:\r\n 5\r\n', 'INVALID_CONTENT_LENGTH'],
    ['CL NUL', 'Content-Length: 5\x00\r\n', 'INVALID_HEADER_VALUE'],
    ['CL underscore', 'Content_Length: 5\r\n', 'INVALID_HEADER_NAME'],
  ];
  for (const [name, fields, code, status] of cases) {
    test(name, () => rejects(`POST / HTTP/1.1\r\nHost: a\r\n${fields}\r\n`, code, status ?? 400, parseOnly));
  }

  test('the same forms are rejected whatever the header order', () => {
    for (const [, fields, code, status] of cases) {
      if (code === 'BARE_LF' || code === 'BARE_CR') continue;
      rejects(`POST / HTTP/1.1\r\n${fields}Host: a\r\n\r\n`, code, status ?? 400, parseOnly);
    }
  });
});
