// Responses Archway writes itself (404 with no route, 502/503/504 upstream failures, 400 bad requests,
// redirects). Small bodies, a Server header, always framed with Content-Length.

import { clock } from './clock.ts';

export const SERVER_NAME = 'archway';

const REASONS: Record<number, string> = {
  200: 'OK', 302: 'Found', 308: 'Permanent Redirect', 400: 'Bad Request', 404: 'Not Found', 408: 'Request Timeout',
  413: 'Content Too Large', 431: 'Request Header Fields Too Large', 500: 'Internal Server Error', 501: 'Not Implemented',
  502: 'Bad Gateway', 503: 'Service Unavailable', 504: 'Gateway Timeout', 505: 'HTTP Version Not Supported',
};

export function reasonPhrase(status: number): string {
  return REASONS[status] ?? 'Unknown';
}

/** A complete response; `close` adds `Connection: close`. `head` omits the body (HEAD requests). */
export function localResponse(status: number, opts: { close: boolean; head?: boolean; location?: string; body?: string; hsts?: string }): Buffer {
  const body = opts.body ?? `${status} ${reasonPhrase(status)}\n`;
  let s = `HTTP/1.1 ${status} ${reasonPhrase(status)}\r\nServer: ${SERVER_NAME}\r\nDate: ${clock.date}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n`;
  if (opts.location !== undefined) s += `Location: ${opts.location}\r\n`;
  if (opts.hsts) s += `Strict-Transport-Security: ${opts.hsts}\r\n`;
  if (opts.close) s += 'Connection: close\r\n';
  s += '\r\n';
  if (!opts.head) s += body;
  return Buffer.from(s, 'latin1');
}
