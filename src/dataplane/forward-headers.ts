// Header rewriting between client and upstream (INGRESS-SEMANTICS.md "Proxying"): hop-by-hop headers
// removed (RFC 9110 §7.6.1), forwarding headers set, each head serialised once as one string.

import type { RequestHead } from './http1/request-head.ts';
import type { ResponseHead } from './http1/response-head.ts';
import { clock } from './clock.ts';
import { SERVER_NAME } from './local-response.ts';

/** Per-connection facts the forwarding headers need. */
export interface ForwardContext {
  clientIp: string;
  /** The peer is in --trusted-proxies: its X-Forwarded-* / X-Real-IP are kept. */
  trusted: boolean;
  proto: 'http' | 'https';
  port: string;
  /** The address the client connected to (`ip:port`), the authority of a request that names none. */
  local: string;
}

/** `ip:port` of the listener a socket came in on (IPv6 in brackets). */
export function localAuthority(socket: { localAddress?: string; localPort?: number }): string {
  let ip = socket.localAddress ?? '';
  if (ip.startsWith('::ffff:') && ip.includes('.')) ip = ip.slice(7);
  return `${ip.includes(':') ? `[${ip}]` : ip}:${socket.localPort ?? ''}`;
}

// Lowercased names → 1 hop-by-hop (always dropped), 2 forwarding headers (handled separately).
const SPECIAL = new Map<string, number>([
  ['connection', 1], ['keep-alive', 1], ['proxy-connection', 1], ['te', 1], ['trailer', 1], ['transfer-encoding', 1],
  ['upgrade', 1], ['http2-settings', 1],
  ['x-forwarded-for', 2], ['x-real-ip', 3], ['x-forwarded-proto', 4], ['x-forwarded-host', 5], ['x-forwarded-port', 6], ['x-forwarded-prefix', 7],
]);

/** Never removed because a Connection header names them. */
const FRAMING = new Set(['content-length', 'host']);

/**
 * The upstream request head: request line, the client's end-to-end headers in order, framing, then
 * the forwarding headers. `path` is the (possibly rewritten) path; the query is kept.
 */
export function upstreamRequestHead(req: RequestHead, path: string, ctx: ForwardContext, forwardedPrefix: string | undefined, vhost: string | null = null): string {
  let s = `${req.method} ${path}${req.query} HTTP/1.1\r\n`;
  const h = req.headers;
  const tokens = req.connectionTokens;
  let xff = '';
  let realIp = '';
  let xfProto = '';
  let xfHost = '';
  let xfPort = '';
  let hostValue = '';
  let upgradeValue = '';
  const absoluteForm = req.target.charCodeAt(0) !== 47; /* '/' */
  for (let i = 0; i < h.length; i += 2) {
    const name = h[i];
    const lower = name.toLowerCase();
    const special = SPECIAL.get(lower);
    if (special !== undefined) {
      const v = h[i + 1];
      switch (special) {
        case 1:
          if (lower === 'upgrade') upgradeValue = v;
          continue;
        case 2: if (ctx.trusted) xff = xff === '' ? v : `${xff}, ${v}`; continue;
        case 3: if (ctx.trusted) realIp = v; continue;
        case 4: if (ctx.trusted) xfProto = v; continue;
        case 5: if (ctx.trusted) xfHost = v; continue;
        case 6: if (ctx.trusted) xfPort = v; continue;
        case 7: if (forwardedPrefix !== undefined || !ctx.trusted) continue; break;
      }
    }
    // Connection may name hop-by-hop extras, never the framing or Host: stripping Content-Length
    // while forwarding the body would let the body be read as a second request (smuggling).
    if (tokens.length !== 0 && tokens.includes(lower) && !FRAMING.has(lower)) continue;
    if (lower === 'host') {
      hostValue = h[i + 1];
      // absolute-form: the target's authority replaces Host (RFC 9112 §3.2.2), so the backend sees the
      // host we routed on; upstream-vhost replaces it on purpose.
      if (absoluteForm || vhost !== null) continue;
    }
    s += `${name}: ${h[i + 1]}\r\n`;
  }
  if (req.chunked) s += 'Transfer-Encoding: chunked\r\n';
  if (req.upgrade !== '') s += `Connection: upgrade\r\nUpgrade: ${upgradeValue}\r\n`;
  // The authority the client addressed: the target's for absolute-form, else Host (empty when there is
  // none: every HTTP/1.1 request carries Host, RFC 9112 §3.2).
  // An HTTP/1.0 request without Host addressed this listener: say so rather than send an empty Host,
  // which many servers refuse.
  const authority = absoluteForm || hostValue === '' ? (req.host === '' ? ctx.local : req.hostPort ? `${req.host}:${req.hostPort}` : req.host) : hostValue;
  if (vhost !== null) s += `Host: ${vhost}\r\n`;
  else if (hostValue === '' || absoluteForm) s += `Host: ${authority}\r\n`;
  s += `X-Forwarded-For: ${xff === '' ? ctx.clientIp : `${xff}, ${ctx.clientIp}`}\r\n`;
  s += `X-Real-IP: ${realIp !== '' ? realIp : ctx.trusted && xff !== '' ? firstHop(xff) : ctx.clientIp}\r\n`;
  s += `X-Forwarded-Proto: ${xfProto !== '' ? xfProto : ctx.proto}\r\n`;
  s += `X-Forwarded-Host: ${xfHost !== '' ? xfHost : authority}\r\n`;
  s += `X-Forwarded-Port: ${xfPort !== '' ? xfPort : ctx.port}\r\n`;
  if (forwardedPrefix !== undefined) s += `X-Forwarded-Prefix: ${forwardedPrefix}\r\n`;
  return s + '\r\n';
}

function firstHop(xff: string): string {
  const i = xff.indexOf(',');
  return (i < 0 ? xff : xff.slice(0, i)).trim();
}

/**
 * The response head for the client: upstream status and end-to-end headers, Date and Server when the
 * upstream sent none, framing and persistence for this client.
 */
export function clientResponseHead(res: ResponseHead, chunked: boolean, keepAlive: boolean, clientMinor: number, upgrade: boolean, hsts: string): string {
  let s = `HTTP/1.1 ${res.statusCode} ${res.reason}\r\n`;
  const h = res.headers;
  const tokens = res.connectionTokens;
  let hasDate = false;
  let hasServer = false;
  let hasHsts = false;
  for (let i = 0; i < h.length; i += 2) {
    const name = h[i];
    const lower = name.toLowerCase();
    if (SPECIAL.get(lower) === 1) {
      if (upgrade && lower === 'upgrade') s += `${name}: ${h[i + 1]}\r\n`;
      continue;
    }
    if (tokens.length !== 0 && tokens.includes(lower) && !FRAMING.has(lower)) continue;
    if (lower === 'date') hasDate = true;
    else if (lower === 'server') hasServer = true;
    else if (hsts !== '' && lower === 'strict-transport-security') hasHsts = true;
    s += `${name}: ${h[i + 1]}\r\n`;
  }
  if (!hasDate) s += `Date: ${clock.date}\r\n`;
  if (!hasServer) s += `Server: ${SERVER_NAME}\r\n`;
  if (hsts !== '' && !hasHsts) s += `Strict-Transport-Security: ${hsts}\r\n`;
  if (upgrade) s += 'Connection: upgrade\r\n';
  else {
    if (chunked) s += 'Transfer-Encoding: chunked\r\n';
    if (!keepAlive) s += 'Connection: close\r\n';
    else if (clientMinor === 0) s += 'Connection: keep-alive\r\n';
  }
  return s + '\r\n';
}
