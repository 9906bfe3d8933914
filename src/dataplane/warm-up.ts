// JIT warm-up at start: runs the per-request pure functions (head scan and parse, header rewriting,
// chunk scanning) on representative messages, so the first burst of traffic after a (re)start meets
// optimised code instead of V8's interpreter (issue 3: 500 connections arriving at a cold process).

import { ChunkedScanner } from './http1/chunked.ts';
import { scanHeadEnd } from './http1/head-scan.ts';
import { parseRequestHead } from './http1/request-head.ts';
import { parseResponseHead, responseBodyKind } from './http1/response-head.ts';
import { clientResponseHead, upstreamRequestHead, type ForwardContext } from './forward-headers.ts';

const REQUEST = Buffer.from(
  'GET /warm/up?x=1 HTTP/1.1\r\nHost: warm.example\r\nUser-Agent: archway-warm-up\r\nAccept: */*\r\n' +
  'Accept-Encoding: gzip\r\nConnection: keep-alive\r\nCookie: a=b\r\n\r\n', 'latin1');
const RESPONSE = Buffer.from(
  'HTTP/1.1 200 OK\r\nServer: warm\r\nDate: Thu, 01 Jan 2026 00:00:00 GMT\r\nContent-Type: text/plain\r\n' +
  'Content-Length: 5\r\nConnection: keep-alive\r\n\r\nhello', 'latin1');
const CHUNKED = Buffer.from('5\r\nhello\r\n0\r\n\r\n', 'latin1');
const CTX: ForwardContext = { clientIp: '127.0.0.1', trusted: false, proto: 'http', port: '80', local: '127.0.0.1:80' };

/** Runs the hot pure functions `rounds` times; returns a checksum so the work cannot be optimised away. */
export function warmUp(rounds = 3000): number {
  let sum = 0;
  const scanner = new ChunkedScanner();
  for (let i = 0; i < rounds; i++) {
    const end = scanHeadEnd(REQUEST, 0, 0, REQUEST.length, 16384);
    const req = parseRequestHead(REQUEST, 0, end);
    sum += upstreamRequestHead(req, req.path, CTX, undefined).length;
    const rend = scanHeadEnd(RESPONSE, 0, 0, RESPONSE.length, 65536);
    const res = parseResponseHead(RESPONSE, 0, rend);
    sum += responseBodyKind(res, req.method).length + clientResponseHead(res, false, true, 1, false, '').length;
    scanner.reset();
    sum += scanner.push(CHUNKED, 0, CHUNKED.length);
  }
  return sum;
}
