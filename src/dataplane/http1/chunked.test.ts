import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { ChunkedScanner } from './chunked.ts';
import { HttpParseError } from './errors.ts';

const B = (s: string) => Buffer.from(s, 'latin1');

/** Feeds `s` in pieces of `step` bytes; returns consumed count, de-chunked payload and done. */
function feed(s: string, step = Infinity, sc = new ChunkedScanner()) {
  const b = B(s);
  const parts: Buffer[] = [];
  sc.onData = (buf, a, e) => parts.push(Buffer.from(buf.subarray(a, e)));
  let consumed = 0;
  for (let i = 0; i < b.length && !sc.done; ) {
    const end = Math.min(b.length, i + step);
    const n = sc.push(b, i, end);
    consumed += n;
    if (n < end - i) break;
    i = end;
  }
  return { consumed, data: Buffer.concat(parts).toString('latin1'), done: sc.done };
}

function rejects(s: string, make: () => ChunkedScanner = () => new ChunkedScanner()): void {
  for (const step of [Infinity, 1]) {
    assert.throws(
      () => feed(s, step, make()),
      (e: unknown) => e instanceof HttpParseError && e.code === 'INVALID_CHUNK' && e.status === 400,
      `${JSON.stringify(s)} step ${step}`,
    );
  }
}

describe('valid chunked bodies', () => {
  test('chunks, last-chunk, end; stops at the end of the message', () => {
    const body = '5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n';
    for (const step of [Infinity, 1, 2, 3, 7]) {
      const r = feed(body + 'GET / HTTP/1.1\r\n', step);
      assert.equal(r.consumed, body.length, `step ${step}`);
      assert.equal(r.data, 'hello world');
      assert.equal(r.done, true);
    }
  });

  test('hex sizes in both cases, leading zeros up to 16 digits', () => {
    const big = 'x'.repeat(0x1a);
    assert.equal(feed(`1A\r\n${big}\r\n1a\r\n${big}\r\n0\r\n\r\n`).data, big + big);
    assert.equal(feed('000000000000000F\r\n' + 'y'.repeat(15) + '\r\n0000\r\n\r\n').data, 'y'.repeat(15));
  });

  test('chunk extensions: token, token=token, token="quoted", several', () => {
    const r = feed('3;a\r\nabc\r\n3;a=b;c="x\\"; y"\r\ndef\r\n0;last=1\r\n\r\n');
    assert.equal(r.data, 'abcdef');
    assert.equal(r.done, true);
  });

  test('trailer section', () => {
    const body = '3\r\nabc\r\n0\r\nX-Checksum: 123\r\nX-Empty:\r\nx-b:  v v \r\n\r\n';
    for (const step of [Infinity, 1]) {
      const r = feed(body + 'NEXT', step);
      assert.equal(r.consumed, body.length);
      assert.equal(r.data, 'abc');
    }
  });

  test('empty body', () => {
    assert.deepEqual(feed('0\r\n\r\n'), { consumed: 5, data: '', done: true });
  });

  test('push after done consumes nothing; reset reuses the scanner; bodyBytes counts payload', () => {
    const sc = new ChunkedScanner();
    const b = B('2\r\nab\r\n0\r\n\r\n');
    assert.equal(sc.push(b, 0, b.length), b.length);
    assert.equal(sc.bodyBytes, 2);
    assert.equal(sc.push(b, 0, b.length), 0);
    sc.reset();
    assert.equal(sc.done, false);
    assert.equal(sc.bodyBytes, 0);
    assert.equal(sc.push(b, 0, b.length), b.length);
    assert.equal(sc.done, true);
  });

  test('without onData it only validates', () => {
    const sc = new ChunkedScanner();
    const b = B('4\r\nwiki\r\n0\r\n\r\n');
    assert.equal(sc.push(b, 0, b.length), b.length);
    assert.equal(sc.done, true);
  });

  test('large declared size is streamed across pushes', () => {
    const sc = new ChunkedScanner();
    let got = 0;
    sc.onData = (_b, a, e) => (got += e - a);
    const head = B('100000\r\n');
    assert.equal(sc.push(head, 0, head.length), head.length);
    const piece = Buffer.alloc(4096, 0x61);
    for (let i = 0; i < 0x100000 / 4096; i++) assert.equal(sc.push(piece, 0, piece.length), piece.length);
    const tail = B('\r\n0\r\n\r\n');
    assert.equal(sc.push(tail, 0, tail.length), tail.length);
    assert.equal(got, 0x100000);
    assert.equal(sc.done, true);
  });
});

describe('invalid chunked bodies → INVALID_CHUNK', () => {
  test('chunk-size syntax (smuggling forms)', () => {
    for (const size of ['0x5', '5 ', ' 5', '-5', '+5', '', 'g', '5\t', '\t5', '5.0', '5,', 'x', '0x0']) {
      rejects(`${size}\r\nhello\r\n0\r\n\r\n`);
    }
  });

  test('size overflow: more than 16 hex digits or above 2^53-1', () => {
    rejects('00000000000000005\r\nhello\r\n0\r\n\r\n');
    rejects('20000000000000\r\n');
    rejects('fffffffffffffff\r\n');
    rejects('ffffffffffffffff\r\n');
    rejects('10000000000000000\r\n');
    // 2^53-1 itself is accepted as a size (and then streamed).
    const sc = new ChunkedScanner();
    const b = B('1fffffffffffff\r\nab');
    assert.equal(sc.push(b, 0, b.length), b.length);
  });

  test('chunk data longer or shorter than declared', () => {
    rejects('3\r\nabcd\r\n0\r\n\r\n');
    rejects('5\r\nabc\r\n0\r\n\r\n');
  });

  test('bare LF / bare CR / missing CRLF in framing', () => {
    rejects('5\nhello\r\n0\r\n\r\n');
    rejects('5\rhello\r\n0\r\n\r\n');
    rejects('5\r\nhello\n0\r\n\r\n');
    rejects('5\r\nhello\r0\r\n\r\n');
    rejects('5\r\nhello0\r\n\r\n');
    rejects('0\r\n\n');
    rejects('0\r\n\rx');
    rejects('0\n\r\n');
    rejects('0\r\nX: y\n\r\n');
  });

  test('chunk extension syntax: no whitespace, token names, token or quoted values', () => {
    for (const ext of [' ;a', '; a', ';a ', ';a =b', ';a= b', ';', ';;a', ';=b', ';a=', ';a="x', ';a="x"y', ';a=b c', ';a(b', ';a="\x00"', ';a="\x7f"', ';a=\x80', ';a="\\\x00"']) {
      rejects(`3${ext}\r\nabc\r\n0\r\n\r\n`);
    }
  });

  test('trailer field lines: no obs-fold, no whitespace before colon, valid name and value', () => {
    for (const t of [' X: y', '\tX: y', 'X : y', 'X\t: y', ': y', 'X', 'X(: y', 'X: a\x00', 'X: a\x7f', 'X: a\rb']) {
      rejects(`0\r\n${t}\r\n\r\n`);
    }
    rejects('0\r\nX: y\r\n z\r\n\r\n');
  });

  test('line length cap', () => {
    const sc = () => new ChunkedScanner(16);
    assert.equal(feed('3;abcdefghi\r\nabc\r\n0\r\n\r\n', Infinity, sc()).done, true);
    rejects('3;abcdefghijklmnop\r\nabc\r\n0\r\n\r\n', sc);
    rejects('0\r\nX-Long-Trailer: 1234567890\r\n\r\n', sc);
    // Payload bytes are not counted as line bytes.
    assert.equal(feed('40\r\n' + 'z'.repeat(64) + '\r\n0\r\n\r\n', Infinity, sc()).done, true);
  });

  test('trailer section cap', () => {
    const sc = () => new ChunkedScanner(64, 100);
    assert.equal(feed('0\r\n' + 'X: 1234567\r\n'.repeat(8) + '\r\n', Infinity, sc()).done, true);
    rejects('0\r\n' + 'X: 1234567\r\n'.repeat(9) + '\r\n', sc);
  });
});
