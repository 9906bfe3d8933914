/**
 * Strict HTTP/1.1 request head parser (RFC 9112 §3, §5, §6; RFC 9110 §7.2, §7.6.1, §8.6).
 *
 * One pass over the bytes with lookup tables; one latin1 string of the whole head, from which names,
 * values and the target are sliced. Everything that could make this hop and the next one disagree on
 * where the message ends, or on which host/path it addresses, is rejected; see the tests for the list.
 */
import { HttpParseError, bad } from './errors.ts';
import {
  FieldState,
  MAX_HEADERS,
  TARGET_CHAR,
  TCHAR,
  checkTransferEncoding,
  isKeepAlive,
  parseFieldLines,
  parseHostPort,
} from './headers-util.ts';

export { MAX_HEADERS } from './headers-util.ts';

export interface RequestHead {
  /** Token as sent (case-sensitive), e.g. 'GET'. */
  method: string;
  /** Raw request-target. */
  target: string;
  /**
   * Origin-form: the target up to '?'. Absolute-form: the path of the URI ('/' when empty).
   * OPTIONS '*': '*'. CONNECT (authority-form): ''.
   */
  path: string;
  /** From '?' inclusive, or ''. For origin-form path + query === target. */
  query: string;
  /** 0 or 1. */
  versionMinor: number;
  /** Flat [name, value, ...]: names as received, values without surrounding OWS; latin1 strings. */
  headers: string[];
  /**
   * Lowercased host without port, IPv6 brackets kept; '' when none. Taken from the target for
   * absolute-form and authority-form (RFC 9112 §3.2.2: the Host header is then ignored; a proxy
   * forwarding such a request should send the target's authority as Host), else from Host.
   */
  host: string;
  /** Port part of the authority, or ''. */
  hostPort: string;
  /** -1 when absent. */
  contentLength: number;
  chunked: boolean;
  keepAlive: boolean;
  /** Lowercased Upgrade value(s) when Connection lists 'upgrade' (HTTP/1.1 only, RFC 9110 §7.8), else ''. */
  upgrade: string;
  /** 'Expect: 100-continue' on an HTTP/1.1 request (ignored for 1.0, RFC 9110 §10.1.1). */
  expectContinue: boolean;
  /** Lowercased options of all Connection fields. */
  connectionTokens: string[];
}

const st = new FieldState();

/** Interned strings for common methods, to avoid allocating one per request. */
function methodString(buf: Buffer, s: string, a: number, b: number, base: number): string {
  const c0 = buf[a];
  switch (b - a) {
    case 3:
      if (c0 === 0x47 && buf[a + 1] === 0x45 && buf[a + 2] === 0x54) return 'GET';
      if (c0 === 0x50 && buf[a + 1] === 0x55 && buf[a + 2] === 0x54) return 'PUT';
      break;
    case 4:
      if (c0 === 0x50 && buf[a + 1] === 0x4f && buf[a + 2] === 0x53 && buf[a + 3] === 0x54) return 'POST';
      if (c0 === 0x48 && buf[a + 1] === 0x45 && buf[a + 2] === 0x41 && buf[a + 3] === 0x44) return 'HEAD';
      break;
  }
  return s.slice(a - base, b - base);
}

function isHttpScheme(s: string, i: number): number {
  // Returns the length of "http://" or "https://" (case-insensitive scheme, RFC 3986 §3.1), or 0.
  if (s.length - i < 8) return 0;
  const h = s.slice(i, i + 8).toLowerCase();
  if (h.startsWith('http://')) return 7;
  if (h === 'https://') return 8;
  return 0;
}

/**
 * Parses buf[start..end), a complete request head ending with CRLFCRLF (as delimited by scanHeadEnd).
 * Leading empty lines are skipped. Throws HttpParseError; the connection must then be closed.
 */
export function parseRequestHead(buf: Buffer, start: number, end: number, maxHeaders: number = MAX_HEADERS): RequestHead {
  if (end - start < 4 || buf[end - 4] !== 13 || buf[end - 3] !== 10 || buf[end - 2] !== 13 || buf[end - 1] !== 10) {
    throw bad('INVALID_HEAD', 'head does not end with an empty line');
  }
  let p = start;
  // RFC 9112 §2.2: ignore empty lines before the request-line.
  while (p < end - 4 && buf[p] === 13 && buf[p + 1] === 10) p += 2;
  const base = p;
  const s = buf.toString('latin1', base, end);

  // request-line = method SP request-target SP HTTP-version CRLF (RFC 9112 §3), single SPs.
  const ms = p;
  let c = buf[p];
  while (TCHAR[c] === 1) c = buf[++p];
  if (p === ms || c !== 32) throw bad('INVALID_METHOD', 'invalid method');
  const me = p;
  c = buf[++p];
  const ts = p;
  let qs = -1;
  while (TARGET_CHAR[c] === 1) {
    if (c === 63 && qs < 0) qs = p;
    c = buf[++p];
  }
  const te = p;
  if (c !== 32) {
    if (te === ts) throw bad('INVALID_TARGET', 'empty request-target');
    if (c === 13) throw bad('INVALID_VERSION', 'missing HTTP version');
    throw bad('INVALID_TARGET', 'invalid character in request-target');
  }
  if (te === ts) throw bad('INVALID_TARGET', 'empty request-target');
  p++;
  // HTTP-version = "HTTP" "/" DIGIT "." DIGIT, case-sensitive (RFC 9112 §2.3). The && chain stops at the
  // first mismatch, so it never reads past the CR at end-4.
  if (
    !(buf[p] === 0x48 && buf[p + 1] === 0x54 && buf[p + 2] === 0x54 && buf[p + 3] === 0x50 && buf[p + 4] === 0x2f &&
      buf[p + 5] >= 0x30 && buf[p + 5] <= 0x39 && buf[p + 6] === 0x2e && buf[p + 7] >= 0x30 && buf[p + 7] <= 0x39 &&
      buf[p + 8] === 13)
  ) {
    throw bad('INVALID_VERSION', 'malformed HTTP version');
  }
  if (buf[p + 9] !== 10) throw new HttpParseError('BARE_CR', 400, 'CR not followed by LF');
  if (buf[p + 5] !== 0x31 || buf[p + 7] > 0x31) {
    // Well-formed but not 1.0/1.1, including the HTTP/2 connection preface "PRI * HTTP/2.0".
    throw new HttpParseError('UNSUPPORTED_VERSION', 505, 'HTTP version not supported');
  }
  const versionMinor = buf[p + 7] - 0x30;
  p += 10;

  const method = methodString(buf, s, ms, me, base);
  const target = s.slice(ts - base, te - base);
  const headers: string[] = [];
  st.reset();
  parseFieldLines(buf, s, base, p, end, headers, maxHeaders, st);

  // Request-target forms (RFC 9112 §3.2).
  let path: string;
  let query = '';
  let host = '';
  let hostPort = '';
  let fromTarget = false;
  const t0 = buf[ts];
  const isConnect = me - ms === 7 && method === 'CONNECT';
  if (t0 === 0x2f && !isConnect) {
    // origin-form
    if (qs < 0) {
      path = target;
    } else {
      path = s.slice(ts - base, qs - base);
      query = s.slice(qs - base, te - base);
    }
  } else if (isConnect) {
    // authority-form = uri-host ":" port, only for CONNECT (RFC 9112 §3.2.3).
    const hp = parseHostPort(s, ts - base, te - base, 'INVALID_TARGET', true);
    host = hp.host;
    hostPort = hp.port;
    path = '';
    fromTarget = true;
  } else if (t0 === 0x2a) {
    // asterisk-form, only for server-wide OPTIONS (RFC 9112 §3.2.4).
    if (te - ts !== 1 || method !== 'OPTIONS') throw bad('INVALID_TARGET', "'*' target is only valid for OPTIONS");
    path = '*';
  } else {
    // absolute-form (RFC 9112 §3.2.2): http(s)://authority[path][?query]. userinfo is rejected
    // (RFC 9110 §4.2.4: a recipient SHOULD treat it as an error).
    const sl = isHttpScheme(s, ts - base);
    if (sl === 0) throw bad('INVALID_TARGET', 'invalid request-target');
    const as = ts - base + sl;
    const tEnd = te - base;
    let ae = as;
    while (ae < tEnd) {
      const ch = s.charCodeAt(ae);
      if (ch === 0x2f || ch === 0x3f) break;
      ae++;
    }
    if (ae === as) throw bad('INVALID_TARGET', 'absolute-form target without host');
    const hp = parseHostPort(s, as, ae, 'INVALID_TARGET', false);
    host = hp.host;
    hostPort = hp.port;
    fromTarget = true;
    const q = qs < 0 ? tEnd : qs - base;
    path = ae < q ? s.slice(ae, q) : '/';
    if (qs >= 0) query = s.slice(q, tEnd);
  }

  // Host (RFC 9112 §3.2): required in HTTP/1.1, never more than one, and syntactically valid.
  if (st.hostCount > 1) throw bad('DUPLICATE_HOST', 'more than one Host field');
  if (st.hostCount === 1) {
    const hp = parseHostPort(s, st.hostStart, st.hostEnd, 'INVALID_HOST', false);
    if (!fromTarget) {
      host = hp.host;
      hostPort = hp.port;
    }
  } else if (versionMinor === 1) {
    throw bad('MISSING_HOST', 'HTTP/1.1 request without Host');
  }

  const chunked = checkTransferEncoding(st, versionMinor);
  const tokens = st.connectionTokens;
  return {
    method,
    target,
    path,
    query,
    versionMinor,
    headers,
    host,
    hostPort,
    contentLength: st.contentLength,
    chunked,
    keepAlive: isKeepAlive(st, versionMinor),
    upgrade: st.connUpgrade && versionMinor === 1 && st.upgrade !== '' ? st.upgrade.toLowerCase() : '',
    expectContinue: st.expectContinue && versionMinor === 1,
    connectionTokens: tokens,
  };
}
