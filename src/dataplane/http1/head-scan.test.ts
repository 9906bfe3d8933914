import { test } from 'node:test';
import assert from 'node:assert/strict';
import { scanHeadEnd } from './head-scan.ts';
import { HttpParseError } from './errors.ts';

const B = (s: string) => Buffer.from(s, 'latin1');

function throwsCode(fn: () => unknown, code: string, status = 400): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof HttpParseError, `expected HttpParseError, got ${String(e)}`);
    assert.equal(e.code, code);
    assert.equal(e.status, status);
    return true;
  });
}

const HEAD = 'GET / HTTP/1.1\r\nHost: a\r\n\r\n';

test('finds the end of a complete head', () => {
  const b = B(HEAD + 'body');
  assert.equal(scanHeadEnd(b, 0, 0, b.length, 8192), HEAD.length);
});

test('returns -1 while the head is incomplete, at every prefix', () => {
  const b = B(HEAD);
  for (let k = 0; k < b.length; k++) assert.equal(scanHeadEnd(b, 0, 0, k, 8192), -1, `prefix ${k}`);
});

test('resumes from the previous end, also when a read ended in the middle of CRLFCRLF', () => {
  const b = B(HEAD);
  for (let k = 0; k <= b.length; k++) {
    const first = scanHeadEnd(b, 0, 0, k, 8192);
    const got = first >= 0 ? first : scanHeadEnd(b, 0, k, b.length, 8192);
    assert.equal(got, HEAD.length, `split at ${k}`);
  }
});

test('does not look at bytes at or beyond end', () => {
  // The bytes past `end` would complete the head or be a bare LF; neither may influence the answer.
  const b = B('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
  assert.equal(scanHeadEnd(b, 0, 0, b.length - 1, 8192), -1);
  const c = B('GET / HTTP/1.1\r\nHost: a\r\n\rX');
  assert.equal(scanHeadEnd(c, 0, 0, c.length - 1, 8192), -1);
  throwsCode(() => scanHeadEnd(c, 0, c.length - 1, c.length, 8192), 'BARE_CR');
});

test('works at a non-zero start (pipelined request in the same buffer)', () => {
  const b = B(HEAD + HEAD);
  assert.equal(scanHeadEnd(b, HEAD.length, HEAD.length, b.length, 8192), 2 * HEAD.length);
});

test('bare LF is rejected as soon as it is seen, without waiting for the end of the head', () => {
  throwsCode(() => scanHeadEnd(B('GET / HTTP/1.1\nHo'), 0, 0, 17, 8192), 'BARE_LF');
  throwsCode(() => scanHeadEnd(B('\n'), 0, 0, 1, 8192), 'BARE_LF');
  throwsCode(() => scanHeadEnd(B('GET / HTTP/1.1\r\nHost: a\n\n'), 0, 0, 25, 8192), 'BARE_LF');
  // LF at `start` whose preceding byte (before start) is a CR of the previous message: still bare.
  const b = B('\r\nGET');
  throwsCode(() => scanHeadEnd(b, 1, 1, b.length, 8192), 'BARE_LF');
});

test('bare CR is rejected as soon as the following byte is known', () => {
  throwsCode(() => scanHeadEnd(B('GET / HTTP/1.1\rHost'), 0, 0, 19, 8192), 'BARE_CR');
  throwsCode(() => scanHeadEnd(B('GET / HTTP/1.1\r\nX: a\rb\r\n\r\n'), 0, 0, 26, 8192), 'BARE_CR');
  // CR as the last byte of a read: undecided until the next byte arrives.
  const b = B('GET / HTTP/1.1\r\r\n');
  assert.equal(scanHeadEnd(b, 0, 0, 15, 8192), -1);
  throwsCode(() => scanHeadEnd(b, 0, 15, b.length, 8192), 'BARE_CR');
});

test('leading empty lines are part of the head and skipped (RFC 9112 §2.2)', () => {
  const h = '\r\n\r\n\r\n' + HEAD;
  const b = B(h);
  assert.equal(scanHeadEnd(b, 0, 0, b.length, 8192), h.length);
  // Only empty lines so far: no head end yet.
  assert.equal(scanHeadEnd(B('\r\n\r\n'), 0, 0, 4, 8192), -1);
  assert.equal(scanHeadEnd(B('\r\n\r\n\r\n\r\n'), 0, 0, 8, 8192), -1);
  // Split reads agree.
  for (let k = 0; k <= b.length; k++) {
    const first = scanHeadEnd(b, 0, 0, k, 8192);
    assert.equal(first >= 0 ? first : scanHeadEnd(b, 0, k, b.length, 8192), h.length, `split at ${k}`);
  }
});

test('a head of exactly maxHeadSize bytes is accepted, one more byte is 431', () => {
  const b = B(HEAD);
  assert.equal(scanHeadEnd(b, 0, 0, b.length, HEAD.length), HEAD.length);
  throwsCode(() => scanHeadEnd(b, 0, 0, b.length, HEAD.length - 1), 'HEAD_TOO_LARGE', 431);
  // Split at the limit: same answer.
  throwsCode(() => {
    if (scanHeadEnd(b, 0, 0, HEAD.length - 1, HEAD.length - 1) === -1) scanHeadEnd(b, 0, HEAD.length - 1, b.length, HEAD.length - 1);
  }, 'HEAD_TOO_LARGE', 431);
});

test('431 as soon as maxHeadSize bytes arrived without an end, not before', () => {
  const b = B('GET /' + 'a'.repeat(100));
  assert.equal(scanHeadEnd(b, 0, 0, 99, 100), -1);
  throwsCode(() => scanHeadEnd(b, 0, 0, 100, 100), 'HEAD_TOO_LARGE', 431);
  throwsCode(() => scanHeadEnd(b, 0, 50, b.length, 100), 'HEAD_TOO_LARGE', 431);
  // Leading empty lines count towards the limit.
  const c = B('\r\n'.repeat(60));
  throwsCode(() => scanHeadEnd(c, 0, 0, c.length, 100), 'HEAD_TOO_LARGE', 431);
});

test('bytes beyond the size limit are not inspected (answer independent of read boundaries)', () => {
  // A bare CR right at the limit: the head is too large whatever follows.
  const b = B('GET / HTTP/1.1\r\nX: ' + 'a'.repeat(20) + '\rZ');
  const max = b.length - 1;
  throwsCode(() => scanHeadEnd(b, 0, 0, b.length, max), 'HEAD_TOO_LARGE', 431);
  throwsCode(() => scanHeadEnd(b, 0, 0, max, max), 'HEAD_TOO_LARGE', 431);
});

test('other control characters are left to the parser', () => {
  const b = B('GET / HTTP/1.1\r\nX: \x00\x01\x0b\r\n\r\n');
  assert.equal(scanHeadEnd(b, 0, 0, b.length, 8192), b.length);
});
