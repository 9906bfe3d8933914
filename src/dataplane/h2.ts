// HTTP/2 over TLS (ALPN h2): node:http2 handles the framing; each stream is routed exactly like an
// HTTP/1.1 request and proxied to the backend over the same keep-alive HTTP/1.1 pool (issue 5 item 7).

import { createServer as createH2Server, constants, type Http2Server, type Http2Session, type IncomingHttpHeaders, type ServerHttp2Stream } from 'node:http2';
import type { TLSSocket } from 'node:tls';
import { clock } from './clock.ts';
import { ChunkedScanner } from './http1/chunked.ts';
import { scanHeadEnd } from './http1/head-scan.ts';
import type { RequestHead } from './http1/request-head.ts';
import { parseResponseHead, responseBodyKind, type ResponseHead } from './http1/response-head.ts';
import { localAuthority, upstreamRequestHead, type ForwardContext } from './forward-headers.ts';
import { reasonPhrase, SERVER_NAME } from './local-response.ts';
import { rewritePath, type Route } from '../snapshot/router.ts';
import { Attempts } from './attempts.ts';
import { isIdempotent, useCanary, type RuntimePolicy } from './route-policy.ts';
import type { UpstreamConn, UpstreamOwner } from './upstream.ts';
import type { DataPlane } from './dataplane.ts';

// Headers HTTP/2 forbids (RFC 9113 §8.2.2) plus the hop-by-hop set.
const CONNECTION_SPECIFIC = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer', 'http2-settings']);
const MAX_RESPONSE_HEAD = 64 * 1024;

export class H2Frontend {
  readonly plane: DataPlane;
  #server: Http2Server;
  #contexts = new WeakMap<Http2Session, ForwardContext>();
  #active = new Set<H2Exchange>();
  #sessions = new Set<Http2Session>();

  constructor(plane: DataPlane) {
    this.plane = plane;
    this.#server = createH2Server({ maxSendHeaderBlockLength: 64 * 1024, settings: { enablePush: false, maxHeaderListSize: plane.options.maxHeadSize } });
    this.#server.on('session', (session: Http2Session) => {
      this.#sessions.add(session);
      session.on('close', () => this.#sessions.delete(session));
      session.on('error', () => {});
    });
    this.#server.on('stream', (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => {
      const ctx = this.#contextOf(stream.session!);
      const ex = new H2Exchange(this, stream, headers, ctx);
      this.#active.add(ex);
      ex.start();
    });
  }

  /** Hands a TLS socket that negotiated h2 to the HTTP/2 session machinery. */
  accept(socket: TLSSocket): void {
    this.plane.stats.connections++;
    this.#server.emit('connection', socket);
  }

  #contextOf(session: Http2Session): ForwardContext {
    let ctx = this.#contexts.get(session);
    if (!ctx) {
      const socket = session.socket;
      const ip = (socket.remoteAddress ?? '').replace(/^::ffff:(?=\d+\.)/, '');
      ctx = { clientIp: ip, trusted: this.plane.trusted.trusts(ip), proto: 'https', port: String(socket.localPort ?? ''), local: localAuthority(socket) };
      this.#contexts.set(session, ctx);
    }
    return ctx;
  }

  done(ex: H2Exchange): void {
    this.#active.delete(ex);
  }

  sweep(now: number): void {
    for (const ex of this.#active) ex.expire(now);
  }

  /** Graceful: GOAWAY to every session; streams in flight finish. */
  drain(): void {
    for (const s of this.#sessions) s.close();
  }

  close(): void {
    for (const s of this.#sessions) s.destroy();
  }

  get activeStreams(): number {
    return this.#active.size;
  }
}

/** One HTTP/2 stream proxied to one HTTP/1.1 upstream exchange. */
class H2Exchange implements UpstreamOwner {
  #front: H2Frontend;
  #stream: ServerHttp2Stream;
  #headers: IncomingHttpHeaders;
  #ctx: ForwardContext;
  #req: RequestHead | null = null;
  #route: Route | null = null;
  #path = '';
  #up: UpstreamConn | null = null;
  #try = new Attempts();
  #backendId = '';
  #policy: RuntimePolicy;
  #hasBody = false;
  #reqDone = false;
  #resBuf: Buffer | null = null;
  #resStarted = false;
  #resKind: 'none' | 'length' | 'chunked' | 'close' = 'none';
  #resRemaining = 0;
  #scanner: ChunkedScanner | null = null;
  #upKeepAlive = false;
  #finished = false;

  constructor(front: H2Frontend, stream: ServerHttp2Stream, headers: IncomingHttpHeaders, ctx: ForwardContext) {
    this.#front = front;
    this.#stream = stream;
    this.#headers = headers;
    this.#ctx = ctx;
    this.#policy = front.plane.defaultPolicy;
    stream.on('error', () => {});
    stream.on('close', () => this.#onStreamClose());
  }

  start(): void {
    const plane = this.#front.plane;
    plane.stats.requests++;
    const h = this.#headers;
    const method = String(h[constants.HTTP2_HEADER_METHOD] ?? '');
    const target = String(h[constants.HTTP2_HEADER_PATH] ?? '');
    const authority = String(h[constants.HTTP2_HEADER_AUTHORITY] ?? h.host ?? '').toLowerCase();
    if (method === 'CONNECT' || !target.startsWith('/')) return this.#local(method === 'CONNECT' ? 501 : 400);
    const q = target.indexOf('?');
    const path = q < 0 ? target : target.slice(0, q);
    const { host, port } = splitAuthority(authority);
    const flat: string[] = [];
    for (const [name, value] of Object.entries(h)) {
      if (name.startsWith(':') || CONNECTION_SPECIFIC.has(name) || value === undefined) continue;
      // HTTP/2 may split cookies into several fields; HTTP/1.1 wants one (RFC 9113 §8.2.3).
      if (Array.isArray(value)) {
        if (name === 'cookie') flat.push(name, value.join('; '));
        else for (const v of value) flat.push(name, v);
      } else flat.push(name, value);
    }
    const contentLength = typeof h['content-length'] === 'string' && /^\d+$/.test(h['content-length']) ? Number(h['content-length']) : -1;
    this.#hasBody = !this.#stream.readableEnded && !(this.#stream as unknown as { endAfterHeaders?: boolean }).endAfterHeaders;
    this.#req = {
      method, target, path, query: q < 0 ? '' : target.slice(q), versionMinor: 1, headers: flat,
      host, hostPort: port, contentLength, chunked: this.#hasBody && contentLength < 0, keepAlive: true,
      upgrade: '', expectContinue: false, connectionTokens: [],
    };
    this.#reqDone = !this.#hasBody;
    const router = plane.router;
    const hostTable = router.findHost(host);
    if (hostTable !== null && hostTable.appRoot !== null && path === '/') return this.#local(302, `https://${authority}${hostTable.appRoot}`);
    const route = router.matchHost(hostTable, path);
    if (route === null) return this.#local(404);
    this.#route = route;
    this.#path = route.rewriteRe === undefined ? path : rewritePath(route, path);
    const canary = route.canary;
    const useC = canary !== undefined && useCanary(canary, this.#req);
    this.#backendId = useC ? canary!.backend : route.backend;
    this.#policy = plane.policyFor(useC ? canary!.policy : route.policy);
    if (this.#policy.bodySizeLimit > 0 && contentLength > this.#policy.bodySizeLimit) return this.#local(413);
    this.#stream.pause();
    this.#connect();
  }

  #connect(): void {
    const plane = this.#front.plane;
    const group = plane.backends.get(this.#backendId);
    const ep = this.#try.next(group, this.#policy, this.#req!, this.#ctx, clock.now);
    if (ep === null) return this.#local(503);
    this.#resBuf = null;
    const up = plane.pool.acquire(ep, this, this.#policy.tls);
    this.#up = up;
    up.deadline = clock.now + (up.connected ? this.#policy.readTimeoutMs : this.#policy.connectTimeoutMs);
    if (up.connected) this.#send(up);
  }

  /** Ends the exchange's claim on its endpoint, recording success or failure for passive health. */
  #release(outcome: 'ok' | 'failed' | 'aborted', reason = ''): void {
    const event = this.#try.release(this.#backendId, outcome, -1, clock.now, reason);
    if (event !== null) this.#front.plane.endpointEvent(event);
  }

  onUpstreamConnect(up: UpstreamConn): void {
    if (up !== this.#up) return;
    up.deadline = clock.now + this.#policy.readTimeoutMs;
    this.#send(up);
  }

  #send(up: UpstreamConn): void {
    const req = this.#req!;
    up.socket.write(upstreamRequestHead(req, this.#path, this.#ctx, this.#route!.forwardedPrefix, this.#policy.upstreamVhost), 'latin1');
    if (this.#reqDone) return;
    const s = this.#stream;
    s.on('data', (chunk: Buffer) => {
      const u = this.#up;
      if (u === null) return;
      u.deadline = clock.now + this.#policy.readTimeoutMs;
      const ok = req.chunked ? u.socket.write(`${chunk.length.toString(16)}\r\n`) && u.socket.write(chunk) && u.socket.write('\r\n') : u.socket.write(chunk);
      if (!ok) s.pause();
    });
    s.on('end', () => {
      this.#reqDone = true;
      if (req.chunked) this.#up?.socket.write('0\r\n\r\n');
    });
    s.resume();
  }

  onUpstreamDrain(up: UpstreamConn): void {
    if (up === this.#up && !this.#reqDone) this.#stream.resume();
  }

  onUpstreamData(up: UpstreamConn, chunk: Buffer): void {
    if (up !== this.#up) return;
    up.deadline = clock.now + this.#policy.readTimeoutMs;
    if (!this.#resStarted) {
      const buf = this.#resBuf === null ? chunk : Buffer.concat([this.#resBuf, chunk]);
      let end: number;
      let head: ResponseHead;
      try {
        end = scanHeadEnd(buf, 0, 0, buf.length, MAX_RESPONSE_HEAD);
        if (end < 0) {
          this.#resBuf = Buffer.from(buf); // chunk lives in the shared read buffer
          return;
        }
        head = parseResponseHead(buf, 0, end);
      } catch {
        return this.#fail(502);
      }
      this.#resBuf = null;
      if (head.statusCode < 200) return end < buf.length ? this.onUpstreamData(up, buf.subarray(end)) : undefined; // interim responses are not relayed over h2
      this.#respond(head);
      if (this.#resKind === 'none') return this.#finish(end === buf.length);
      if (end < buf.length) this.#body(buf.subarray(end));
      return;
    }
    this.#body(chunk);
  }

  #respond(head: ResponseHead): void {
    const req = this.#req!;
    this.#resStarted = true;
    this.#resKind = responseBodyKind(head, req.method);
    this.#upKeepAlive = head.keepAlive && this.#resKind !== 'close';
    this.#resRemaining = head.contentLength;
    if (this.#resKind === 'chunked') {
      this.#scanner = new ChunkedScanner();
      this.#scanner.onData = (b, s, e) => this.#write(b.subarray(s, e));
    }
    const out: Record<string, string | string[] | number> = { [constants.HTTP2_HEADER_STATUS]: head.statusCode };
    const tokens = head.connectionTokens;
    let hasDate = false;
    let hasServer = false;
    for (let i = 0; i < head.headers.length; i += 2) {
      const name = head.headers[i].toLowerCase();
      if (CONNECTION_SPECIFIC.has(name) || tokens.includes(name)) continue;
      // A 204 or 304 has no content; HTTP/2 streams refuse a content-length with it (RFC 9113 §8.1.1).
      if (name === 'content-length' && (head.statusCode === 204 || head.statusCode === 304)) continue;
      if (name === 'date') hasDate = true;
      else if (name === 'server') hasServer = true;
      const prev = out[name];
      out[name] = prev === undefined ? head.headers[i + 1] : Array.isArray(prev) ? [...prev, head.headers[i + 1]] : [String(prev), head.headers[i + 1]];
    }
    if (!hasDate) out.date = clock.date;
    if (!hasServer) out.server = SERVER_NAME;
    if (this.#try.setCookie !== '') {
      // Affinity: the Set-Cookie line built for HTTP/1.1, as a header value here.
      const v = this.#try.setCookie.slice('Set-Cookie: '.length, -2);
      const prev = out['set-cookie'];
      out['set-cookie'] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [String(prev), v];
    }
    const hsts = this.#front.plane.options.hsts;
    if (hsts !== '' && out['strict-transport-security'] === undefined) out['strict-transport-security'] = hsts;
    try {
      this.#stream.respond(out, { endStream: this.#resKind === 'none' });
    } catch {
      this.#stream.close(constants.NGHTTP2_INTERNAL_ERROR);
    }
  }

  #body(data: Buffer): void {
    const up = this.#up!;
    if (this.#resKind === 'length') {
      const n = Math.min(this.#resRemaining, data.length);
      this.#resRemaining -= n;
      this.#write(data.subarray(0, n));
      if (this.#resRemaining === 0) this.#finish(n === data.length);
    } else if (this.#resKind === 'chunked') {
      let used: number;
      try {
        used = this.#scanner!.push(data, 0, data.length);
      } catch {
        this.#stream.close(constants.NGHTTP2_PROTOCOL_ERROR);
        return this.#drop();
      }
      if (this.#scanner!.done) this.#finish(used === data.length);
    } else {
      this.#write(data);
    }
    if (this.#up === up && this.#stream.writableNeedDrain) {
      up.deadline = Number.MAX_SAFE_INTEGER;
      up.socket.pause();
      this.#stream.once('drain', () => {
        if (this.#up === up) {
          up.deadline = clock.now + this.#policy.readTimeoutMs;
          up.socket.resume();
        }
      });
    }
  }

  #write(data: Buffer): void {
    // Copy: the data lives in the shared upstream read buffer, and HTTP/2 writes are queued.
    if (data.length > 0 && !this.#stream.destroyed) this.#stream.write(Buffer.from(data));
  }

  #finish(clean: boolean): void {
    const up = this.#up;
    this.#up = null;
    this.#release('ok');
    if (up !== null) {
      if (clean && this.#upKeepAlive && this.#reqDone) this.#front.plane.pool.release(up);
      else up.destroy();
    }
    this.#front.plane.stats.responses++;
    if (!this.#stream.destroyed) this.#stream.end();
    this.#done();
  }

  onUpstreamClose(up: UpstreamConn, err: Error | undefined): void {
    if (up !== this.#up) return;
    this.#up = null;
    if (this.#resKind === 'close' && this.#resStarted) return this.#finish(false);
    if (this.#resStarted) {
      this.#release('failed', 'closed mid-response');
      this.#stream.close(constants.NGHTTP2_INTERNAL_ERROR);
      return this.#done();
    }
    const stale = up.reused && this.#resBuf === null;
    this.#release(stale ? 'aborted' : 'failed', err?.message ?? 'connection closed');
    // A stale pooled connection, or nothing sent yet: another attempt is safe for a body-less request.
    if (!this.#hasBody && this.#resBuf === null && this.#try.count < this.#policy.tries + (stale ? 1 : 0) && (stale || !up.connected || isIdempotent(this.#req!.method))) return this.#connect();
    this.#fail((err as NodeJS.ErrnoException | undefined)?.code === 'ETIMEDOUT' ? 504 : 502);
  }

  expire(now: number): void {
    const up = this.#up;
    if (up !== null && up.deadline <= now) {
      this.#up = null;
      up.destroy();
      this.#release('failed', up.connected ? 'read timeout' : 'connect timeout');
      if (this.#resStarted) {
        this.#stream.close(constants.NGHTTP2_INTERNAL_ERROR);
        this.#done();
      } else this.#fail(504);
    }
  }

  #onStreamClose(): void {
    // The client reset or finished the stream: an unfinished upstream exchange cannot be reused.
    if (!this.#finished) this.#drop();
  }

  #drop(): void {
    const up = this.#up;
    this.#up = null;
    up?.destroy();
    this.#done();
  }

  #fail(status: number): void {
    const up = this.#up;
    this.#up = null;
    up?.destroy();
    this.#front.plane.stats.upstreamErrors++;
    this.#local(status);
  }

  #local(status: number, location?: string): void {
    const body = `${status} ${reasonPhrase(status)}\n`;
    const headers: Record<string, string | number> = {
      [constants.HTTP2_HEADER_STATUS]: status, 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body),
      server: SERVER_NAME, date: clock.date,
    };
    if (location !== undefined) headers.location = location;
    const hsts = this.#front.plane.options.hsts;
    if (hsts !== '') headers['strict-transport-security'] = hsts;
    this.#front.plane.stats.responses++;
    if (!this.#stream.destroyed && !this.#stream.headersSent) {
      try {
        this.#stream.respond(headers);
        this.#stream.end(this.#req?.method === 'HEAD' ? undefined : body);
      } catch {
        this.#stream.close(constants.NGHTTP2_INTERNAL_ERROR);
      }
    }
    this.#done();
  }

  #done(): void {
    this.#release('aborted');
    this.#finished = true;
    this.#front.done(this);
  }
}

function splitAuthority(authority: string): { host: string; port: string } {
  if (authority.startsWith('[')) {
    const end = authority.indexOf(']');
    return { host: authority.slice(0, end + 1), port: authority.slice(end + 2) };
  }
  const colon = authority.lastIndexOf(':');
  return colon < 0 ? { host: authority, port: '' } : { host: authority.slice(0, colon), port: authority.slice(colon + 1) };
}
