/**
 * Shared pieces of the request and response head parsers: byte class tables, the field-line loop
 * and the semantic checks of the framing headers (Content-Length, Transfer-Encoding, Connection).
 *
 * Strings are produced with latin1 (one char per byte), so obs-text bytes survive a round trip:
 * whoever writes header values back to a socket must encode them as latin1, not utf8.
 */
import { isIPv6 } from 'node:net';
import { HttpParseError, bad } from './errors.ts';

/** Default cap on field lines per request head (→ 431 'TOO_MANY_HEADERS'). */
export const MAX_HEADERS = 100;
/** Default cap on field lines per response head (Set-Cookie-heavy responses have many). */
export const MAX_RESPONSE_HEADERS = 256;

function table(pred: (c: number) => boolean): Uint8Array {
  const t = new Uint8Array(256);
  for (let c = 0; c < 256; c++) t[c] = pred(c) ? 1 : 0;
  return t;
}
const isAlnum = (c: number) => (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);

/** RFC 9110 §5.6.2 tchar. */
export const TCHAR = table((c) => isAlnum(c) || "!#$%&'*+-.^_`|~".includes(String.fromCharCode(c)));
/** RFC 9110 §5.5 field-vchar / SP / HTAB: VCHAR, obs-text, SP, HTAB. Excludes NUL, CR, LF, other CTLs, DEL. */
export const FIELD_VALUE = table((c) => c === 9 || (c >= 0x20 && c !== 0x7f));
/**
 * Bytes allowed in a request-target: visible ASCII except '#'. Stricter than llhttp (which accepts
 * bytes >= 0x80 and fragments): RFC 3986 has no raw non-ASCII and RFC 9112 §3.2 has no fragment in a
 * request-target; user agents percent-encode the former and never send the latter, and letting them
 * through only gives the router and the origin server a chance to disagree about the path.
 * Characters RFC 3986 excludes but real clients send raw (`"`, `<`, `>`, `\`, `^`, `` ` ``, `{`, `|`, `}`)
 * are accepted, as llhttp and nginx do.
 */
export const TARGET_CHAR = table((c) => c > 0x20 && c < 0x7f && c !== 0x23);
/**
 * reg-name / IPv4 characters accepted in Host: RFC 3986 unreserved only. Stricter than the RFC, which
 * also allows sub-delims and pct-encoding in reg-name: neither occurs in a DNS name, and both invite
 * disagreement between the router and the origin about which host was meant.
 */
const HOST_CHAR = table((c) => isAlnum(c) || c === 0x2d || c === 0x2e || c === 0x5f || c === 0x7e);

/**
 * Case-insensitive comparison of buf[pos..pos+lit.length) with a lowercase literal made of letters and
 * '-'. Only valid on bytes already known to be tchars (then `| 0x20` can only map 'A'-'Z' to 'a'-'z').
 */
export function eqLower(buf: Buffer, pos: number, lit: string): boolean {
  for (let i = 0; i < lit.length; i++) {
    if ((buf[pos + i] | 0x20) !== lit.charCodeAt(i)) return false;
  }
  return true;
}

/**
 * True when buf[pos..) spells `lit` case-insensitively with at least one '_' where `lit` has '-'.
 * Such names (Content_Length, Transfer_Encoding) are rejected: CGI-style servers (WSGI, PHP, ...) map
 * '-' and '_' to the same variable name, so the origin could see a framing header this hop ignored.
 */
function eqLowerUnderscore(buf: Buffer, pos: number, lit: string): boolean {
  let under = false;
  for (let i = 0; i < lit.length; i++) {
    const b = buf[pos + i];
    const l = lit.charCodeAt(i);
    if (b === 0x5f && l === 0x2d) under = true;
    else if ((b | 0x20) !== l) return false;
  }
  return under;
}

/** Result of parsing an authority (Host value or the authority of an absolute-form target). */
export interface HostParts {
  host: string;
  port: string;
}

/**
 * Validates `uri-host [ ":" port ]` (RFC 9110 §7.2, RFC 3986 §3.2.2) in s[a..b) and returns the
 * lowercased host (IPv6 brackets kept) and the port digits. An empty input is allowed (RFC 9112 §3.2:
 * Host is empty when the target URI has no authority) and gives empty strings. `code` is the error code.
 * Port: 1-5 digits, at most 65535 (an empty port after ':' is rejected although RFC 3986 allows it).
 */
export function parseHostPort(s: string, a: number, b: number, code: string, requirePort: boolean): HostParts {
  if (a === b) {
    if (requirePort) throw bad(code, 'missing host');
    return { host: '', port: '' };
  }
  let i = a;
  let upper = false;
  if (s.charCodeAt(i) === 0x5b) {
    // IP-literal: "[" IPv6address "]". IPvFuture and zone identifiers are rejected.
    const close = s.indexOf(']', i);
    if (close < 0 || close >= b) throw bad(code, 'unterminated IPv6 literal in host');
    const inner = s.slice(i + 1, close);
    if (!isIPv6(inner) || inner.includes('%')) throw bad(code, 'invalid IPv6 literal in host');
    i = close + 1;
    upper = inner !== inner.toLowerCase();
  } else {
    for (; i < b; i++) {
      const c = s.charCodeAt(i);
      if (c === 0x3a) break;
      if (HOST_CHAR[c] !== 1) throw bad(code, 'invalid character in host');
      if (c >= 0x41 && c <= 0x5a) upper = true;
    }
    if (i === a) throw bad(code, 'empty host name');
  }
  const hostEnd = i;
  let port = '';
  if (i < b) {
    if (s.charCodeAt(i) !== 0x3a) throw bad(code, 'invalid character after host');
    i++;
    const ps = i;
    let n = 0;
    for (; i < b; i++) {
      const c = s.charCodeAt(i) - 0x30;
      if (c < 0 || c > 9) throw bad(code, 'invalid port');
      n = n * 10 + c;
    }
    if (i === ps || i - ps > 5 || n > 65535) throw bad(code, 'invalid port');
    port = s.slice(ps, b);
  } else if (requirePort) {
    throw bad(code, 'missing port');
  }
  const raw = s.slice(a, hostEnd);
  return { host: upper ? raw.toLowerCase() : raw, port };
}

/**
 * Mutable scratch state filled by parseFieldLines. One module-level instance is reused: the parsers
 * are synchronous and not re-entrant, and this keeps the hot path free of per-request allocations
 * beyond the result object and its strings.
 */
export class FieldState {
  contentLength = -1;
  /** Number of Transfer-Encoding field lines and their values joined with ", " (RFC 9110 §5.3). */
  teCount = 0;
  teValue = '';
  hostCount = 0;
  /** Host value bounds in the head string (valid when hostCount === 1). */
  hostStart = 0;
  hostEnd = 0;
  upgrade = '';
  expectContinue = false;
  connClose = false;
  connKeepAlive = false;
  connUpgrade = false;
  connectionTokens: string[] = [];

  reset(): void {
    this.contentLength = -1;
    this.teCount = 0;
    this.teValue = '';
    this.hostCount = 0;
    this.hostStart = 0;
    this.hostEnd = 0;
    this.upgrade = '';
    this.expectContinue = false;
    this.connClose = false;
    this.connKeepAlive = false;
    this.connUpgrade = false;
    this.connectionTokens = [];
  }
}

/**
 * Parses the field lines (RFC 9112 §5) of a head. `s` is the latin1 string of buf[base..end); `p` is the
 * buffer index of the first field line; buf[end-4..end) must be CRLFCRLF (checked by the caller), which
 * bounds every inner loop: each stops at the latest on that CR.
 * Appends name/value pairs to `headers` and records framing headers in `st`.
 */
export function parseFieldLines(
  buf: Buffer,
  s: string,
  base: number,
  p: number,
  end: number,
  headers: string[],
  maxHeaders: number,
  st: FieldState,
): void {
  let count = 0;
  for (;;) {
    let c = buf[p];
    if (c === 13) {
      // Empty line: must be the final CRLF of the head.
      if (buf[p + 1] !== 10) throw new HttpParseError('BARE_CR', 400, 'CR not followed by LF');
      if (p + 2 !== end) throw bad('INVALID_HEAD', 'data after the end of the head');
      return;
    }
    if (c === 32 || c === 9) {
      // RFC 9112 §5.2: obs-fold is deprecated; a server MUST reject it (or unfold) outside message/http.
      // Also covers whitespace between the start-line and the first field line (RFC 9112 §2.2).
      throw bad('OBS_FOLD', 'field line starts with whitespace (obsolete line folding)');
    }
    const ns = p;
    while (TCHAR[c] === 1) c = buf[++p];
    const ne = p;
    if (c !== 58) {
      if (c === 10) throw new HttpParseError('BARE_LF', 400, 'LF without preceding CR in field line');
      if (ne === ns) throw bad('INVALID_HEADER_NAME', 'empty or invalid field name');
      if (c === 32 || c === 9) {
        // RFC 9112 §5.1: no whitespace between field name and colon; a server MUST reject with 400.
        throw bad('INVALID_HEADER_NAME', 'whitespace between field name and colon');
      }
      throw bad('INVALID_HEADER_NAME', 'invalid character in field name');
    }
    if (ne === ns) throw bad('INVALID_HEADER_NAME', 'empty field name');
    c = buf[++p];
    while (c === 32 || c === 9) c = buf[++p];
    const vs = p;
    while (FIELD_VALUE[c] === 1) c = buf[++p];
    if (c !== 13) {
      if (c === 10) throw new HttpParseError('BARE_LF', 400, 'LF without preceding CR in field value');
      throw bad('INVALID_HEADER_VALUE', 'invalid character in field value');
    }
    if (buf[p + 1] !== 10) throw new HttpParseError('BARE_CR', 400, 'CR not followed by LF in field value');
    let ve = p;
    while (ve > vs && (buf[ve - 1] === 32 || buf[ve - 1] === 9)) ve--;
    p += 2;
    if (++count > maxHeaders) {
      throw new HttpParseError('TOO_MANY_HEADERS', 431, `more than ${maxHeaders} header fields`);
    }
    const name = s.slice(ns - base, ne - base);
    const value = s.slice(vs - base, ve - base);
    headers.push(name, value);

    switch (ne - ns) {
      case 4:
        if (eqLower(buf, ns, 'host')) {
          st.hostCount++;
          st.hostStart = vs - base;
          st.hostEnd = ve - base;
        }
        break;
      case 6:
        if (eqLower(buf, ns, 'expect') && value.length === 12 && value.toLowerCase() === '100-continue') {
          st.expectContinue = true;
        }
        break;
      case 7:
        if (eqLower(buf, ns, 'upgrade')) st.upgrade = st.upgrade === '' ? value : st.upgrade + ', ' + value;
        break;
      case 10:
        if (eqLower(buf, ns, 'connection')) addConnectionTokens(value, st);
        break;
      case 14:
        if (eqLower(buf, ns, 'content-length')) {
          if (st.contentLength !== -1) {
            throw bad('DUPLICATE_CONTENT_LENGTH', 'more than one Content-Length field');
          }
          st.contentLength = parseContentLength(buf, vs, ve);
        } else if (eqLowerUnderscore(buf, ns, 'content-length')) {
          throw bad('INVALID_HEADER_NAME', 'Content_Length: underscore variant of a framing header');
        }
        break;
      case 17:
        if (eqLower(buf, ns, 'transfer-encoding')) {
          st.teValue = st.teCount === 0 ? value : st.teValue + ', ' + value;
          st.teCount++;
        } else if (eqLowerUnderscore(buf, ns, 'transfer-encoding')) {
          throw bad('INVALID_HEADER_NAME', 'Transfer_Encoding: underscore variant of a framing header');
        }
        break;
    }
  }
}

/**
 * Content-Length = 1*DIGIT (RFC 9110 §8.6). No sign, no whitespace inside, no list: a list such as
 * "5, 5" is a duplicate (RFC 9110 §8.6 lets a recipient collapse identical values; a proxy must not
 * leave room for the origin to pick differently, so it is rejected). At most 15 digits, far below 2^53.
 */
function parseContentLength(buf: Buffer, a: number, b: number): number {
  if (a === b) throw bad('INVALID_CONTENT_LENGTH', 'empty Content-Length');
  if (b - a > 15) throw bad('INVALID_CONTENT_LENGTH', 'Content-Length too long');
  let n = 0;
  for (let i = a; i < b; i++) {
    const d = buf[i] - 48;
    if (d < 0 || d > 9) {
      if (buf[i] === 44) throw bad('DUPLICATE_CONTENT_LENGTH', 'Content-Length is a list');
      throw bad('INVALID_CONTENT_LENGTH', 'Content-Length is not a decimal number');
    }
    n = n * 10 + d;
  }
  return n;
}

/** Connection = #connection-option, connection-option = token (RFC 9110 §7.6.1). Lowercased. */
function addConnectionTokens(value: string, st: FieldState): void {
  // Fast paths for what browsers and servers actually send.
  if (value === 'keep-alive' || value === 'Keep-Alive') {
    st.connectionTokens.push('keep-alive');
    st.connKeepAlive = true;
    return;
  }
  if (value === 'close' || value === 'Close') {
    st.connectionTokens.push('close');
    st.connClose = true;
    return;
  }
  let i = 0;
  const n = value.length;
  while (i < n) {
    // Skip empty list elements and OWS (RFC 9110 §5.6.1 allows them).
    let c = value.charCodeAt(i);
    if (c === 44 || c === 32 || c === 9) {
      i++;
      continue;
    }
    const ts = i;
    while (i < n && TCHAR[value.charCodeAt(i)] === 1) i++;
    if (i === ts) throw bad('INVALID_CONNECTION', 'invalid Connection option');
    const tok = value.slice(ts, i).toLowerCase();
    while (i < n && ((c = value.charCodeAt(i)) === 32 || c === 9)) i++;
    if (i < n && value.charCodeAt(i) !== 44) throw bad('INVALID_CONNECTION', 'invalid Connection option');
    st.connectionTokens.push(tok);
    if (tok === 'close') st.connClose = true;
    else if (tok === 'keep-alive') st.connKeepAlive = true;
    else if (tok === 'upgrade') st.connUpgrade = true;
  }
}

/**
 * Transfer-Encoding check shared by requests and responses, run after all field lines are seen.
 * Only a single "chunked" (any case) is accepted as the whole combined value. Everything else – other
 * codings, "chunked" twice, chunked not last, parameters – is refused: this data plane forwards bodies
 * byte for byte and must agree exactly with the next hop about where a body ends (RFC 9112 §6.1, §6.3,
 * §11.2). RFC 9112 §6.3 asks for 400 when chunked is not the final request coding and 501 for codings
 * the server does not implement; both close the connection, we answer 501 for every non-empty value as
 * RFC 9112 §6.1 suggests, and 400 for an empty one.
 * Returns true when the message is chunked.
 */
export function checkTransferEncoding(st: FieldState, versionMinor: number): boolean {
  if (st.teCount === 0) return false;
  // RFC 9112 §6.1: Transfer-Encoding was added in HTTP/1.1; an HTTP/1.0 recipient would ignore it and
  // frame by Content-Length or close. llhttp accepts it; a proxy must not (request smuggling via 1.0).
  if (versionMinor === 0) throw bad('TE_ON_HTTP10', 'Transfer-Encoding in an HTTP/1.0 message');
  // RFC 9112 §6.3 (3): TE + CL "ought to be handled as an error"; rejecting is the safe choice.
  if (st.contentLength !== -1) {
    throw bad('TE_WITH_CONTENT_LENGTH', 'both Transfer-Encoding and Content-Length');
  }
  const v = st.teValue;
  if (st.teCount === 1 && v.length === 7 && v.toLowerCase() === 'chunked') return true;
  if (v.trim() === '' || /^[\s,]*$/.test(v)) {
    throw bad('INVALID_TRANSFER_ENCODING', 'empty Transfer-Encoding');
  }
  throw new HttpParseError('UNSUPPORTED_TRANSFER_ENCODING', 501, 'unsupported Transfer-Encoding');
}

/** RFC 9112 §9.3: persistence from the version and Connection options. */
export function isKeepAlive(st: FieldState, versionMinor: number): boolean {
  if (st.connClose) return false;
  return versionMinor === 1 || st.connKeepAlive;
}
