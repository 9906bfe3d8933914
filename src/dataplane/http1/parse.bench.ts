/**
 * Micro-benchmark of the HTTP/1.1 parsing layer (not a test; run by hand):
 *   node src/dataplane/http1/parse.bench.ts [iterations]
 * Prints ns/op for scanHeadEnd, parseRequestHead, parseResponseHead and ChunkedScanner.
 */
import { scanHeadEnd } from './head-scan.ts';
import { parseRequestHead } from './request-head.ts';
import { parseResponseHead } from './response-head.ts';
import { ChunkedScanner } from './chunked.ts';

const N = Number(process.argv[2] ?? 1_000_000);

// A typical browser navigation (395 bytes) and a shorter API call (304 bytes).
const browser = Buffer.from(
  'GET /products/list?page=2&sort=price HTTP/1.1\r\n' +
    'Host: shop.example.com\r\n' +
    'User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\r\n' +
    'Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n' +
    'Accept-Language: en-US,en;q=0.5\r\n' +
    'Accept-Encoding: gzip, deflate, br\r\n' +
    'Connection: keep-alive\r\n' +
    'Cookie: session=abc123def456; theme=dark\r\n' +
    'Upgrade-Insecure-Requests: 1\r\n' +
    '\r\n',
  'latin1',
);
const api = Buffer.from(
  'POST /api/v1/orders HTTP/1.1\r\n' +
    'Host: api.example.com:8443\r\n' +
    'User-Agent: curl/8.5.0\r\n' +
    'Accept: application/json\r\n' +
    'Content-Type: application/json\r\n' +
    'Content-Length: 512\r\n' +
    'Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.abcdefghijklmnop\r\n' +
    'X-Request-Id: 7f3c2a1b-1234-5678-9abc-def012345678\r\n' +
    '\r\n',
  'latin1',
);
const response = Buffer.from(
  'HTTP/1.1 200 OK\r\n' +
    'Date: Tue, 01 Jul 2025 12:00:00 GMT\r\n' +
    'Server: backend\r\n' +
    'Content-Type: text/html; charset=utf-8\r\n' +
    'Content-Length: 12345\r\n' +
    'Cache-Control: private, max-age=0\r\n' +
    'Set-Cookie: session=abc123def456; Path=/; HttpOnly; Secure; SameSite=Lax\r\n' +
    'Vary: Accept-Encoding\r\n' +
    'Connection: keep-alive\r\n' +
    '\r\n',
  'latin1',
);
// 16 KiB body in 1 KiB chunks, as a streaming server would send it.
const chunk = '400\r\n' + 'x'.repeat(1024) + '\r\n';
const chunked = Buffer.from(chunk.repeat(16) + '0\r\n\r\n', 'latin1');

const sc = new ChunkedScanner();
const sc2 = new ChunkedScanner();
sc2.onData = () => {};
const cases: Array<[string, number, () => number]> = [
  ['scanHeadEnd (browser)', N, () => scanHeadEnd(browser, 0, 0, browser.length, 16384)],
  ['parseRequestHead (browser)', N, () => parseRequestHead(browser, 0, browser.length).headers.length],
  [
    'scan + parseRequestHead (browser)',
    N,
    () => {
      const e = scanHeadEnd(browser, 0, 0, browser.length, 16384);
      return parseRequestHead(browser, 0, e).headers.length;
    },
  ],
  [
    'scan + parseRequestHead (api)',
    N,
    () => {
      const e = scanHeadEnd(api, 0, 0, api.length, 16384);
      return parseRequestHead(api, 0, e).contentLength;
    },
  ],
  [
    'scan + parseResponseHead',
    N,
    () => {
      const e = scanHeadEnd(response, 0, 0, response.length, 16384);
      return parseResponseHead(response, 0, e).statusCode;
    },
  ],
  [
    `ChunkedScanner ${chunked.length} B, 16 x 1 KiB chunks`,
    Math.ceil(N / 10),
    () => {
      sc.reset();
      return sc.push(chunked, 0, chunked.length);
    },
  ],
  [
    'ChunkedScanner same, with onData sink',
    Math.ceil(N / 10),
    () => {
      sc2.reset();
      return sc2.push(chunked, 0, chunked.length);
    },
  ],
];

/**
 * Runs `rounds` rounds of n/rounds calls; prints the best and the median round (the machine may be
 * shared with other work, the best round is the most repeatable figure).
 */
function bench(name: string, n: number, fn: () => number, rounds = 21): void {
  let sink = 0;
  const per = Math.max(1, Math.floor(n / rounds));
  const times: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < per; i++) sink += fn();
    times.push(Number(process.hrtime.bigint() - t0) / per);
  }
  times.sort((a, b) => a - b);
  const best = times[0].toFixed(1).padStart(8);
  const median = times[Math.floor(rounds / 2)].toFixed(1).padStart(8);
  console.log(`${name.padEnd(44)} best ${best} ns/op   median ${median} ns/op   (sink ${sink % 10})`);
}

console.log(`node ${process.version}, ${N} iterations; head sizes: browser ${browser.length} B, api ${api.length} B, response ${response.length} B`);
// Warm up every case, interleaved, so that all parser paths have type feedback before measuring
// (steady state of a server that sees varied traffic; avoids measuring deopt/reopt cycles).
let warm = 0;
for (let k = 0; k < 3; k++) for (const [, n, fn] of cases) for (let i = 0; i < Math.min(n, 100_000); i++) warm += fn();
if (warm === 42) console.log('');
for (const [name, n, fn] of cases) bench(name, n, fn);
