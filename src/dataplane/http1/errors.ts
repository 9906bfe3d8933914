/**
 * Parse errors of the HTTP/1.1 layer.
 *
 * Every rejection carries a stable `code` (for logs, metrics and tests) and the HTTP `status` the
 * data plane should answer with before closing the connection. After any HttpParseError the
 * connection's framing is unknown, so the caller must close it (RFC 9112 §9.6 / §11.2: a
 * message whose framing cannot be trusted must not be followed by another on the same connection).
 *
 * Request-side statuses: 400 (malformed), 431 (head or header count too large, RFC 6585 §5),
 * 501 (transfer coding not implemented, RFC 9112 §6.1), 505 (version, RFC 9110 §15.6.6).
 * Response-side errors (parseResponseHead) carry 502: the client gets Bad Gateway.
 */
export class HttpParseError extends Error {
  code: string;
  status: number;

  constructor(code: string, status: number, message: string) {
    super(message);
    this.name = 'HttpParseError';
    this.code = code;
    this.status = status;
  }
}

/** Shorthand for the most common case. */
export function bad(code: string, message: string): HttpParseError {
  return new HttpParseError(code, 400, message);
}
