/**
 * Strict HTTP/1.1 response head parser for responses read from upstream servers (RFC 9112 §4, §6.3).
 *
 * Same field-line rules as requests. Every error carries status 502: the client is answered with Bad
 * Gateway and the upstream connection is closed. (scanHeadEnd throws 431/400 codes; callers reading a
 * response treat any HttpParseError as 502.)
 */
import { HttpParseError, bad } from './errors.ts';
import {
  FIELD_VALUE,
  FieldState,
  MAX_RESPONSE_HEADERS,
  checkTransferEncoding,
  isKeepAlive,
  parseFieldLines,
} from './headers-util.ts';

export { MAX_RESPONSE_HEADERS } from './headers-util.ts';

export interface ResponseHead {
  versionMinor: number;
  statusCode: number;
  reason: string;
  /** Flat [name, value, ...] as received, values without surrounding OWS; latin1 strings. */
  headers: string[];
  /** -1 when absent. */
  contentLength: number;
  chunked: boolean;
  /**
   * Connection-based persistence (RFC 9112 §9.3). Also false for a 204/304 that carries
   * Transfer-Encoding or a non-zero Content-Length: such a response has no body by definition
   * (RFC 9112 §6.3) yet announces one, so the connection cannot be trusted for another response.
   * A caller must also not reuse the connection when responseBodyKind() is 'close'.
   */
  keepAlive: boolean;
  connectionTokens: string[];
}

const st = new FieldState();

function parse(buf: Buffer, start: number, end: number, maxHeaders: number): ResponseHead {
  if (end - start < 4 || buf[end - 4] !== 13 || buf[end - 3] !== 10 || buf[end - 2] !== 13 || buf[end - 1] !== 10) {
    throw bad('INVALID_HEAD', 'head does not end with an empty line');
  }
  // No leading empty lines: a response from an upstream must start exactly where the previous one ended.
  const base = start;
  const s = buf.toString('latin1', base, end);
  let p = start;
  // status-line = HTTP-version SP status-code SP [ reason-phrase ] CRLF (RFC 9112 §4).
  if (
    !(buf[p] === 0x48 && buf[p + 1] === 0x54 && buf[p + 2] === 0x54 && buf[p + 3] === 0x50 && buf[p + 4] === 0x2f &&
      buf[p + 5] >= 0x30 && buf[p + 5] <= 0x39 && buf[p + 6] === 0x2e && buf[p + 7] >= 0x30 && buf[p + 7] <= 0x39)
  ) {
    throw bad('INVALID_VERSION', 'malformed HTTP version in status line');
  }
  if (buf[p + 5] !== 0x31 || buf[p + 7] > 0x31) {
    throw bad('UNSUPPORTED_VERSION', 'unsupported HTTP version in status line');
  }
  const versionMinor = buf[p + 7] - 0x30;
  p += 8;
  const d0 = buf[p + 1] - 0x30;
  const d1 = buf[p + 2] - 0x30;
  const d2 = buf[p + 3] - 0x30;
  if (buf[p] !== 32 || !(d0 >= 1 && d0 <= 5) || !(d1 >= 0 && d1 <= 9) || !(d2 >= 0 && d2 <= 9)) {
    throw bad('INVALID_STATUS', 'invalid status code');
  }
  const statusCode = d0 * 100 + d1 * 10 + d2;
  p += 4;
  let reason = '';
  let c = buf[p];
  if (c === 32) {
    const rs = ++p;
    c = buf[p];
    while (FIELD_VALUE[c] === 1) c = buf[++p];
    if (p > rs) reason = s.slice(rs - base, p - base);
  }
  // Like llhttp, "HTTP/1.1 200\r\n" (no SP before the empty reason) is accepted: harmless for framing.
  if (c !== 13) {
    if (c === 10) throw new HttpParseError('BARE_LF', 400, 'LF without preceding CR in status line');
    throw bad('INVALID_STATUS', 'invalid status line');
  }
  if (buf[p + 1] !== 10) throw new HttpParseError('BARE_CR', 400, 'CR not followed by LF');
  p += 2;

  const headers: string[] = [];
  st.reset();
  parseFieldLines(buf, s, base, p, end, headers, maxHeaders, st);
  const chunked = checkTransferEncoding(st, versionMinor);
  let keepAlive = isKeepAlive(st, versionMinor);
  if (statusCode < 200 && (chunked || st.contentLength !== -1)) {
    // RFC 9110 §8.6 / RFC 9112 §6.1: a 1xx carries no body and MUST NOT announce one.
    throw bad('INVALID_FRAMING', 'informational response with Content-Length or Transfer-Encoding');
  }
  if ((statusCode === 204 || statusCode === 304) && (chunked || (statusCode === 204 && st.contentLength > 0))) {
    keepAlive = false;
  }
  return {
    versionMinor,
    statusCode,
    reason,
    headers,
    contentLength: st.contentLength,
    chunked,
    keepAlive,
    connectionTokens: st.connectionTokens,
  };
}

/**
 * Parses buf[start..end), a complete response head ending with CRLFCRLF. Status codes 100-599 only.
 * Throws HttpParseError with status 502.
 */
export function parseResponseHead(
  buf: Buffer,
  start: number,
  end: number,
  maxHeaders: number = MAX_RESPONSE_HEADERS,
): ResponseHead {
  try {
    return parse(buf, start, end, maxHeaders);
  } catch (e) {
    if (e instanceof HttpParseError) throw new HttpParseError(e.code, 502, e.message);
    throw e;
  }
}

/**
 * Body framing of a response (RFC 9112 §6.3):
 * 'none' for responses to HEAD, 1xx, 204, 304 and 2xx to CONNECT (a tunnel follows);
 * 'chunked'; 'length' (contentLength bytes, possibly 0); else 'close' (read until the upstream closes;
 * the connection must not be reused).
 */
export function responseBodyKind(head: ResponseHead, requestMethod: string): 'none' | 'length' | 'chunked' | 'close' {
  const code = head.statusCode;
  if (requestMethod === 'HEAD' || code < 200 || code === 204 || code === 304) return 'none';
  if (requestMethod === 'CONNECT' && code < 300) return 'none';
  if (head.chunked) return 'chunked';
  if (head.contentLength >= 0) return 'length';
  return 'close';
}
