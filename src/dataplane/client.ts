// One client connection: HTTP/1.1 requests parsed once, routed, and streamed to a pooled upstream
// connection; responses streamed back. A single object per connection holds all state; listeners are
// attached once (issue 3 item 2). Client aborts and upstream resets are ordinary events, never crashes.

import type { Socket } from 'node:net';
import { HttpParseError } from './http1/errors.ts';
import { scanHeadEnd } from './http1/head-scan.ts';
import { parseRequestHead, type RequestHead } from './http1/request-head.ts';
import { parseResponseHead, responseBodyKind } from './http1/response-head.ts';
import { ChunkedScanner } from './http1/chunked.ts';
import { clock, tick } from './clock.ts';
import { lendReadBuffer } from './read-buffer.ts';
import { localResponse } from './local-response.ts';
import { clientResponseHead, upstreamRequestHead, type ForwardContext } from './forward-headers.ts';
import { rewritePath, type Route } from '../snapshot/router.ts';
import type { UpstreamConn, UpstreamOwner } from './upstream.ts';
import type { Endpoint } from './backends.ts';
import { Attempts } from './attempts.ts';
import { isIdempotent, useCanary, type RuntimePolicy } from './route-policy.ts';
import type { DataPlane } from './dataplane.ts';

// Connection phases.
const HEAD = 0; // reading a request head
const EXCHANGE = 1; // a request is being proxied (its body may still be streaming)
const TUNNEL = 2; // after 101 Switching Protocols: raw bytes both ways
const CLOSED = 3;

// Request body framing.
const BODY_NONE = 0;
const BODY_LENGTH = 1;
const BODY_CHUNKED = 2;

// Response body framing.
const RES_HEAD = 0;
const RES_LENGTH = 1;
const RES_CHUNKED = 2;
const RES_CLOSE = 3;
const RES_NONE = 4;

/** Pending bytes we hold for a pipelined next request before we stop reading the client. */
const MAX_PIPELINE_BYTES = 64 * 1024;
/** Response heads larger than this are treated as a broken upstream (502). */
const MAX_RESPONSE_HEAD = 64 * 1024;
/** Small response payloads are copied into the head's buffer so the whole answer is one write. */
const COALESCE_LIMIT = 16 * 1024;

export class ClientConn implements UpstreamOwner {
  readonly socket: Socket;
  readonly plane: DataPlane;
  readonly ctx: ForwardContext;
  phase = HEAD;
  /** Coarse-clock deadline of the current wait (header/keep-alive timeout while reading heads). */
  deadline: number;
  /** Unconsumed client bytes (partial head, body bytes waiting for the upstream, pipelined requests). */
  #buf: Buffer | null = null;
  #scanFrom = 0;
  #paused = false;
  /** Waiting for the client to read the last response before starting a pipelined next one. */
  #awaitingDrain = false;
  /** Set once the peer half-closed or the plane is draining: answer, then close. */
  #closeAfter = false;

  // Current request.
  #req: RequestHead | null = null;
  #route: Route | null = null;
  #path = '';
  /** Endpoints tried for the current request, in-flight accounting, affinity cookie. */
  #try = new Attempts();
  #backendId = '';
  #policy: RuntimePolicy;
  /** Request body bytes already sent upstream, kept (up to --retry-body-limit) so a failed attempt can be retried. */
  #held: Buffer[] | null = null;
  #heldBytes = 0;
  #heldOverflow = false;
  /** When the request head went upstream (coarse clock), for the EWMA latency. */
  #sentAt = 0;
  /** The last failed attempt was a timeout (the final answer is then 504, else 502). */
  #lastTimeout = false;
  #bodyKind = BODY_NONE;
  #bodyRemaining = 0;
  #reqScanner: ChunkedScanner | null = null;
  #reqDone = false;
  #keepAlive = false;

  // Current upstream and response.
  #up: UpstreamConn | null = null;
  #upSent = false;
  #resPhase = RES_HEAD;
  #resBuf: Buffer | null = null;
  #resScanFrom = 0;
  #resRemaining = 0;
  #resScanner: ChunkedScanner | null = null;
  #resStarted = false;
  #resDechunk = false;
  #upKeepAlive = false;

  constructor(plane: DataPlane, socket: Socket, ctx: ForwardContext) {
    this.plane = plane;
    this.socket = socket;
    this.ctx = ctx;
    this.deadline = clock.now + plane.options.headerTimeoutMs;
    this.#policy = plane.defaultPolicy;
    socket.setNoDelay(true);
    socket.on('data', this.#onData);
    socket.on('drain', this.#onDrain);
    socket.on('error', noop);
    socket.on('close', this.#onClose);
    socket.on('end', this.#onEnd);
  }

  // ---- client socket events ----

  #onData = (chunk: Buffer): void => {
    tick(); // deadlines set while handling this event start from now, not from the last sweep
    if (this.phase === HEAD) {
      this.#buf = this.#buf === null ? chunk : Buffer.concat([this.#buf, chunk]);
      this.#processHeads();
    } else if (this.phase === EXCHANGE) {
      if (this.#up !== null && this.#upSent && !this.#reqDone) this.#feedBody(chunk, 0);
      else this.#hold(chunk);
    } else if (this.phase === TUNNEL) {
      const up = this.#up;
      if (up !== null && !up.socket.write(chunk)) this.#pauseClient();
    }
  };

  #onDrain = (): void => {
    const up = this.#up;
    if (up !== null) {
      up.deadline = clock.now + this.#policy.readTimeoutMs;
      up.socket.resume();
    } else if (this.#awaitingDrain) {
      this.#awaitingDrain = false;
      this.#nextRequest();
    }
  };

  #onEnd = (): void => {
    // Half-close from the client: finish what is in flight, then close (RFC 9112 §9.6).
    this.#closeAfter = true;
    this.#keepAlive = false;
    if (this.phase === HEAD) this.#close();
    else if (this.phase === TUNNEL && this.#up !== null) this.#up.socket.end();
    else if (this.phase === EXCHANGE && !this.#reqDone) {
      // The body can never complete: abort the upstream request now rather than let the backend wait.
      const up = this.#up;
      this.#up = null;
      up?.destroy();
      this.#releaseEndpoint('aborted');
      this.phase = CLOSED;
      this.socket.destroy();
    }
  };

  #onClose = (): void => {
    this.phase = CLOSED;
    const up = this.#up;
    this.#up = null;
    if (up !== null) up.destroy(); // an unfinished exchange leaves the upstream connection unusable
    this.#releaseEndpoint('aborted');
    this.plane.forget(this);
  };

  // ---- request heads ----

  #processHeads(): void {
    while (this.phase === HEAD && this.#buf !== null) {
      const buf = this.#buf;
      let end: number;
      try {
        end = scanHeadEnd(buf, 0, this.#scanFrom, buf.length, this.plane.options.maxHeadSize);
      } catch (e) {
        return this.#reject(e);
      }
      if (end < 0) {
        this.#scanFrom = buf.length;
        return;
      }
      let req: RequestHead;
      try {
        req = parseRequestHead(buf, 0, end);
      } catch (e) {
        return this.#reject(e);
      }
      this.#scanFrom = 0;
      this.#buf = end === buf.length ? null : buf.subarray(end);
      this.#startRequest(req);
    }
  }

  #reject(e: unknown): void {
    const status = e instanceof HttpParseError ? e.status : 400;
    this.plane.stats.badRequests++;
    this.#buf = null;
    this.#writeFinal(localResponse(status, { close: true }));
  }

  #startRequest(req: RequestHead): void {
    this.phase = EXCHANGE;
    this.#req = req;
    this.#reqDone = false;
    this.#keepAlive = req.keepAlive && !this.#closeAfter && !this.plane.draining;
    if (req.chunked) {
      this.#bodyKind = BODY_CHUNKED;
      if (this.#reqScanner === null) this.#reqScanner = new ChunkedScanner();
      else this.#reqScanner.reset();
    } else if (req.contentLength > 0) {
      this.#bodyKind = BODY_LENGTH;
      this.#bodyRemaining = req.contentLength;
    } else {
      this.#bodyKind = BODY_NONE;
      this.#reqDone = true;
    }
    this.plane.stats.requests++;

    const router = this.plane.router;
    const host = router.findHost(req.host);
    // app-root (ingress-nginx): `GET /` on the host answers 302 to the application root.
    if (host !== null && host.appRoot !== null && req.path === '/') {
      const authority = req.hostPort ? `${req.host}:${req.hostPort}` : req.host;
      return this.#respondLocal(302, `${this.ctx.proto}://${authority}${host.appRoot}`);
    }
    const route = router.matchHost(host, req.path);
    if (route === null) return this.#respondLocal(404);
    if (route.redirectHttps && this.ctx.proto === 'http') {
      // ssl-redirect / force-ssl-redirect: 308 keeps the method and body (ingress-nginx's default code).
      const port = this.plane.options.httpsRedirectPort;
      return this.#respondLocal(308, `https://${req.host}${port === 443 ? '' : `:${port}`}${req.path}${req.query}`);
    }
    this.#route = route;
    this.#path = route.rewriteRe === undefined ? req.path : rewritePath(route, req.path);
    // Canary (ingress-nginx): header, then cookie, then weight decide between the two backends.
    const canary = route.canary;
    if (canary !== undefined && useCanary(canary, req)) {
      this.#backendId = canary.backend;
      this.#policy = this.plane.policyFor(canary.policy);
    } else {
      this.#backendId = route.backend;
      this.#policy = this.plane.policyFor(route.policy);
    }
    const limit = this.#policy.bodySizeLimit;
    if (limit > 0 && req.contentLength > limit) return this.#respondLocal(413);
    this.#try.reset();
    this.#held = null;
    this.#heldBytes = 0;
    this.#heldOverflow = false;
    this.#lastTimeout = false;
    this.#connect();
  }

  /** One attempt: pick an endpoint (never the one that just failed) and send the request to it. */
  #connect(): void {
    const group = this.plane.backends.get(this.#backendId);
    const now = clock.now;
    const ep = this.#try.next(group, this.#policy, this.#req!, this.ctx, now);
    if (ep === null) return this.#respondLocal(this.#try.count === 0 ? 503 : this.#lastTimeout ? 504 : 502);
    this.#upSent = false;
    this.#resPhase = RES_HEAD;
    this.#resBuf = null;
    this.#resScanFrom = 0;
    this.#resStarted = false;
    const up = this.plane.pool.acquire(ep, this, this.#policy.tls);
    this.#up = up;
    if (up.connected) {
      up.deadline = now + this.#policy.readTimeoutMs;
      this.#sendHead(up);
    } else {
      // Hold client bytes until the upstream can take them.
      this.#pauseClient();
      up.deadline = now + this.#policy.connectTimeoutMs;
    }
  }

  onUpstreamConnect(up: UpstreamConn): void {
    if (up !== this.#up) return;
    up.deadline = clock.now + this.#policy.readTimeoutMs;
    this.#sendHead(up);
  }

  #sendHead(up: UpstreamConn): void {
    const req = this.#req!;
    const head = upstreamRequestHead(req, this.#path, this.ctx, this.#route!.forwardedPrefix, this.#policy.upstreamVhost);
    this.#upSent = true;
    // Precise time only where it is used (EWMA latency); the coarse clock is enough elsewhere.
    this.#sentAt = this.#policy.lb === 'ewma' ? performance.now() : -1;
    const pending = this.#buf;
    const held = this.#held;
    if (this.#bodyKind === BODY_NONE || (pending === null && held === null)) {
      up.socket.write(head, 'latin1');
    } else {
      up.socket.cork();
      up.socket.write(head, 'latin1');
      // A retry replays the body bytes the failed attempt had already sent.
      if (held !== null) for (const b of held) up.socket.write(b);
      if (pending !== null) {
        this.#buf = null;
        this.#feedBody(pending, 0);
      }
      up.socket.uncork();
    }
    this.#resumeClient();
  }

  /** Forwards request body bytes from chunk[start..]; bytes past the body are held as the next request. */
  #feedBody(chunk: Buffer, start: number): void {
    const up = this.#up!;
    // Upload progress counts as upstream activity: the read timeout runs between successive events.
    up.deadline = clock.now + this.#policy.readTimeoutMs;
    let used: number;
    if (this.#bodyKind === BODY_LENGTH) {
      used = Math.min(this.#bodyRemaining, chunk.length - start);
      this.#bodyRemaining -= used;
      if (this.#bodyRemaining === 0) this.#reqDone = true;
    } else if (this.#bodyKind === BODY_CHUNKED) {
      try {
        used = this.#reqScanner!.push(chunk, start, chunk.length);
      } catch {
        // Broken chunked framing mid-body: the upstream has a partial request; neither side can be resynced.
        this.plane.stats.badRequests++;
        return this.#fail(400);
      }
      if (this.#reqScanner!.done) this.#reqDone = true;
      const limit = this.#policy.bodySizeLimit;
      if (limit > 0 && this.#reqScanner!.bodyBytes > limit) return this.#fail(413);
    } else {
      used = 0;
    }
    // Once the upstream has answered (an early 413 or 401), the rest of the body is read and dropped:
    // writing it could only fail against a closing upstream and lose the answer.
    if (used > 0 && !this.#resStarted) {
      const data = start === 0 && used === chunk.length ? chunk : chunk.subarray(start, start + used);
      this.#keepForRetry(data);
      if (!up.socket.write(data)) {
        // The upstream is not taking the body: proxy-send-timeout runs until it drains.
        up.deadline = clock.now + this.#policy.sendTimeoutMs;
        this.#pauseClient();
      }
    }
    if (start + used < chunk.length) this.#hold(chunk.subarray(start + used));
  }

  /** Client read buffers are ours (not reused by Node), so keeping references is enough. */
  #keepForRetry(data: Buffer): void {
    if (this.#heldOverflow) return;
    this.#heldBytes += data.length;
    if (this.#heldBytes > this.plane.options.retryBodyLimit) {
      this.#heldOverflow = true;
      this.#held = null;
      return;
    }
    (this.#held ??= []).push(data);
  }

  /** May the failed attempt be retried on another endpoint (proxy-next-upstream)? */
  #mayRetry(cause: 'error' | 'timeout' | 'status', sent: boolean): boolean {
    const p = this.#policy;
    if (this.#try.count >= p.tries || this.#resStarted) return false;
    if (cause === 'error' && !p.retryOnError) return false;
    if (cause === 'timeout' && !p.retryOnTimeout) return false;
    if (!sent) return true; // nothing reached the backend: any method may go elsewhere
    if (!p.retryNonIdempotent && !isIdempotent(this.#req!.method)) return false;
    // The body must be replayable: fully held so far.
    return this.#bodyKind === BODY_NONE || !this.#heldOverflow;
  }

  /** Ends this exchange's claim on its endpoint (in-flight count), recording the outcome for health and EWMA. */
  #releaseEndpoint(outcome: 'ok' | 'failed' | 'aborted', reason = ''): void {
    const rtt = this.#sentAt < 0 ? -1 : performance.now() - this.#sentAt;
    const event = this.#try.release(this.#backendId, outcome, rtt, clock.now, reason);
    if (event !== null) this.plane.endpointEvent(event);
  }

  /** Keeps bytes that arrived early (pipelined requests); stops reading when too much is held. */
  #hold(chunk: Buffer): void {
    this.#buf = this.#buf === null ? chunk : Buffer.concat([this.#buf, chunk]);
    if (this.#buf.length > MAX_PIPELINE_BYTES) this.#pauseClient();
  }

  onUpstreamDrain(up: UpstreamConn): void {
    if (up === this.#up && (this.phase === TUNNEL || !this.#reqDone)) this.#resumeClient();
  }

  // ---- responses ----

  onUpstreamData(up: UpstreamConn, chunk: Buffer): void {
    if (up !== this.#up) return;
    up.deadline = clock.now + this.#policy.readTimeoutMs;
    if (this.phase === TUNNEL) {
      if (!this.#writeUpstreamBytes(chunk)) this.#pauseUpstream(up);
      return;
    }
    if (this.#resPhase === RES_HEAD) this.#onResponseHeadBytes(up, chunk);
    else this.#onResponseBody(up, chunk, 0);
  }

  #onResponseHeadBytes(up: UpstreamConn, chunk: Buffer): void {
    let buf = this.#resBuf === null ? chunk : Buffer.concat([this.#resBuf, chunk]);
    let start = 0;
    for (;;) {
      let end: number;
      try {
        end = scanHeadEnd(buf, start, this.#resScanFrom, buf.length, MAX_RESPONSE_HEAD);
      } catch {
        return this.#upstreamProtocolError();
      }
      if (end < 0) {
        // Keep the partial head: a copy, since `chunk` lives in the shared read buffer.
        this.#resBuf = Buffer.from(buf.subarray(start));
        this.#resScanFrom = this.#resBuf.length;
        return;
      }
      this.#resScanFrom = 0;
      let res;
      try {
        res = parseResponseHead(buf, start, end);
      } catch {
        return this.#upstreamProtocolError();
      }
      const req = this.#req!;
      const code = res.statusCode;
      if (code === 101) {
        if (req.upgrade === '') return this.#upstreamProtocolError();
        this.#resBuf = null;
        this.#resStarted = true;
        this.phase = TUNNEL;
        const head = clientResponseHead(res, false, true, req.versionMinor, true, '');
        this.socket.write(head, 'latin1');
        if (end < buf.length) this.#writeUpstreamBytes(buf.subarray(end));
        if (this.#buf !== null) {
          const early = this.#buf;
          this.#buf = null;
          up.socket.write(early);
        }
        this.#resumeClient();
        return;
      }
      if (code < 200) {
        // Interim responses (100 Continue, 103 Early Hints) are relayed to HTTP/1.1 clients (RFC 9110 §15.2).
        if (req.versionMinor === 1) this.#writeUpstreamBytes(buf.subarray(start, end));
        start = end;
        if (start === buf.length) {
          this.#resBuf = null;
          return;
        }
        continue;
      }
      this.#resBuf = null;
      // proxy-next-upstream http_502/503/504: try another endpoint instead of relaying this answer.
      if (this.#policy.retryStatuses.includes(code) && this.#mayRetry('status', true)) {
        this.#up = null;
        up.destroy();
        this.#releaseEndpoint('failed', `answered ${code}`);
        this.#connect();
        return;
      }
      const kind = responseBodyKind(res, req.method);
      this.#upKeepAlive = res.keepAlive && kind !== 'close';
      let chunked = false;
      if (kind === 'length') {
        this.#resPhase = RES_LENGTH;
        this.#resRemaining = res.contentLength;
      } else if (kind === 'chunked') {
        this.#resPhase = RES_CHUNKED;
        if (this.#resScanner === null) this.#resScanner = new ChunkedScanner();
        else this.#resScanner.reset();
        // HTTP/1.0 clients do not understand chunked: send the payload and close to delimit it.
        this.#resDechunk = req.versionMinor === 0;
        this.#resScanner.onData = this.#resDechunk ? this.#onDechunked : null;
        chunked = !this.#resDechunk;
        if (this.#resDechunk) this.#keepAlive = false;
      } else if (kind === 'close') {
        this.#resPhase = RES_CLOSE;
        this.#keepAlive = false;
      } else {
        this.#resPhase = RES_NONE;
      }
      // A response that arrives before the request body was fully sent ends the exchange early: the
      // client connection cannot be resynchronised, so it closes after this response.
      if (!this.#reqDone) this.#keepAlive = false;
      let head = clientResponseHead(res, chunked, this.#keepAlive, req.versionMinor, false, this.ctx.proto === 'https' ? this.plane.options.hsts : '');
      if (this.#try.setCookie !== '') head = head.slice(0, -2) + this.#try.setCookie + '\r\n';
      this.#resStarted = true;
      if (this.#resPhase === RES_NONE) {
        this.socket.write(head, 'latin1');
        return this.#finishResponse(up, buf, end);
      }
      // Coalesce the head with the first body bytes when small: one write, one syscall.
      const avail = buf.length - end;
      if (avail > 0 && avail <= COALESCE_LIMIT && this.#resPhase === RES_LENGTH) {
        const n = Math.min(avail, this.#resRemaining);
        const headLen = head.length;
        const out = Buffer.allocUnsafe(headLen + n);
        out.write(head, 0, headLen, 'latin1');
        buf.copy(out, headLen, end, end + n);
        this.#resRemaining -= n;
        const ok = this.socket.write(out);
        if (this.#resRemaining === 0) return this.#finishResponse(up, buf, end + n);
        if (!ok) this.#pauseUpstream(up);
        return;
      }
      this.socket.write(head, 'latin1');
      if (avail > 0) this.#onResponseBody(up, buf, end);
      return;
    }
  }

  #onDechunked = (buf: Buffer, start: number, end: number): void => {
    this.#writeUpstreamBytes(buf.subarray(start, end));
  };

  /** Writes bytes that live in the shared read buffer; a write left queued keeps them, so lend it. */
  #writeUpstreamBytes(data: Buffer): boolean {
    const ok = this.socket.write(data);
    if (this.socket.writableLength !== 0) lendReadBuffer();
    return ok;
  }

  #onResponseBody(up: UpstreamConn, chunk: Buffer, start: number): void {
    const phase = this.#resPhase;
    let used: number;
    if (phase === RES_LENGTH) {
      used = Math.min(this.#resRemaining, chunk.length - start);
      this.#resRemaining -= used;
    } else if (phase === RES_CHUNKED) {
      const scanner = this.#resScanner!;
      try {
        used = scanner.push(chunk, start, chunk.length);
      } catch {
        return this.#upstreamProtocolError();
      }
    } else if (phase === RES_CLOSE) {
      used = chunk.length - start;
    } else {
      return;
    }
    if (used > 0 && !this.#resDechunk) {
      const ok = this.#writeUpstreamBytes(start === 0 && used === chunk.length ? chunk : chunk.subarray(start, start + used));
      if (!ok) this.#pauseUpstream(up);
    }
    if ((phase === RES_LENGTH && this.#resRemaining === 0) || (phase === RES_CHUNKED && this.#resScanner!.done)) {
      this.#finishResponse(up, chunk, start + used);
    }
  }

  /** The response is complete: recycle the upstream connection and move on to the next request. */
  #finishResponse(up: UpstreamConn, buf: Buffer, end: number): void {
    this.#up = null;
    this.#releaseEndpoint('ok');
    // Extra bytes after a complete response mean a confused upstream: never reuse it.
    if (this.#upKeepAlive && this.#reqDone && end === buf.length) {
      up.socket.resume();
      this.plane.pool.release(up);
    } else {
      up.destroy();
    }
    this.plane.stats.responses++;
    this.#endExchange();
  }

  #endExchange(): void {
    this.#releaseEndpoint('aborted');
    this.#req = null;
    this.#route = null;
    this.#held = null;
    if (!this.#keepAlive || !this.#reqDone) {
      this.#close();
      return;
    }
    this.phase = HEAD;
    this.deadline = clock.now + this.plane.options.keepAliveTimeoutMs;
    // A client that pipelines but does not read would make us queue responses without bound: start the
    // next request only once the previous response has left our buffers.
    if (this.socket.writableNeedDrain) {
      this.#awaitingDrain = true;
      this.#pauseClient();
      return;
    }
    this.#nextRequest();
  }

  #nextRequest(): void {
    this.#resumeClient();
    if (this.#buf !== null) this.#processHeads();
  }

  onUpstreamClose(up: UpstreamConn, err: Error | undefined): void {
    if (up !== this.#up) return;
    this.#up = null;
    if (this.phase === TUNNEL) {
      this.#releaseEndpoint('ok');
      this.socket.end();
      this.phase = CLOSED;
      return;
    }
    if (this.#resPhase === RES_CLOSE) {
      // Close-delimited body: the upstream closing is the end of the response.
      this.#releaseEndpoint('ok');
      this.plane.stats.responses++;
      this.#keepAlive = false;
      this.#endExchange();
      return;
    }
    if (this.#resStarted) {
      // Mid-response failure: the client must see an error, never a truncated success (issue 6).
      this.#releaseEndpoint('failed', 'closed mid-response');
      this.socket.destroy();
      return;
    }
    // Nothing received. A reused keep-alive connection may have been closed by the upstream just as we
    // sent (RFC 9112 §9.3.1): that is no fault of the endpoint; send again on a fresh connection.
    // Not for a POST unless allowed: the backend may have acted on it before closing.
    if (up.reused && this.#resBuf === null && (this.#bodyKind === BODY_NONE || !this.#heldOverflow) && this.#try.count < this.#policy.tries + 2 &&
      (isIdempotent(this.#req!.method) || this.#policy.retryNonIdempotent)) {
      this.#releaseEndpoint('aborted');
      this.#retrySame(this.#try.endpoint!);
      return;
    }
    const timedOut = err !== undefined && (err as NodeJS.ErrnoException).code === 'ETIMEDOUT';
    this.#attemptFailed(timedOut ? 'timeout' : 'error', up.connected, err?.message ?? 'connection closed');
  }

  /** A stale pooled connection failed: the same endpoint gets the request again on a new connection. */
  #retrySame(ep: Endpoint): void {
    this.#try.again(ep);
    this.#upSent = false;
    this.#resBuf = null;
    this.#resScanFrom = 0;
    const up = this.plane.pool.connectNew(ep, this, this.#policy.tls);
    this.#up = up;
    this.#pauseClient();
    up.deadline = clock.now + this.#policy.connectTimeoutMs;
  }

  /**
   * An attempt failed before any response byte reached the client: count it against the endpoint
   * (passive health), then retry elsewhere when proxy-next-upstream allows, else 502 / 504.
   */
  #attemptFailed(cause: 'error' | 'timeout', sent: boolean, reason: string): void {
    const up = this.#up;
    this.#up = null;
    up?.destroy();
    this.#lastTimeout = cause === 'timeout';
    this.#releaseEndpoint('failed', reason);
    if (this.#mayRetry(cause, sent && this.#upSent)) {
      this.plane.stats.retries++;
      this.#connect();
      return;
    }
    this.#fail(cause === 'timeout' ? 504 : 502);
  }

  #upstreamProtocolError(): void {
    const up = this.#up;
    this.#up = null;
    up?.destroy();
    this.#releaseEndpoint('failed', 'invalid HTTP response');
    if (this.#resStarted) this.socket.destroy();
    else this.#fail(502);
  }

  /** Called by the data plane's sweep when this connection's deadline (or its upstream's) has passed. */
  expire(now: number): void {
    if (this.phase === HEAD) {
      if (this.deadline > now) return;
      // Still sending the last response: the connection is not idle yet.
      if (this.socket.writableLength > 0 && (this.#buf === null || this.#buf.length === 0)) {
        this.deadline = now + this.plane.options.keepAliveTimeoutMs;
        return;
      }
      // Keep-alive idle or slow head (slowloris): close. A partial head gets a 408 first.
      if (this.#buf !== null && this.#buf.length > 0) this.#writeFinal(localResponse(408, { close: true }));
      else this.#close();
      return;
    }
    const up = this.#up;
    if (this.phase === EXCHANGE && up !== null && up.deadline <= now) {
      if (this.#resStarted) {
        this.#up = null;
        up.destroy();
        this.#releaseEndpoint('failed', 'timed out mid-response');
        this.socket.destroy();
      } else {
        this.#attemptFailed('timeout', up.connected, up.connected ? 'read timeout' : 'connect timeout');
      }
    }
  }

  // ---- local answers and closing ----

  #respondLocal(status: number, location?: string): void {
    // Unread request body bytes would be parsed as the next request: close instead of keeping alive.
    if (!this.#reqDone) this.#keepAlive = false;
    const buf = localResponse(status, { close: !this.#keepAlive, head: this.#req?.method === 'HEAD', location, hsts: this.ctx.proto === 'https' ? this.plane.options.hsts : '' });
    this.plane.stats.responses++;
    if (status >= 500) this.plane.stats.upstreamErrors++;
    this.socket.write(buf);
    this.#endExchange();
  }

  /** Error answer for the current exchange; the connection closes afterwards when the body is not done. */
  #fail(status: number): void {
    const up = this.#up;
    this.#up = null;
    up?.destroy();
    this.#respondLocal(status);
  }

  #writeFinal(buf: Buffer): void {
    this.phase = CLOSED;
    this.socket.end(buf);
  }

  #close(): void {
    this.phase = CLOSED;
    this.socket.end();
  }

  /** The client is slow to read: stop reading the upstream, and do not count the wait as upstream idleness. */
  #pauseUpstream(up: UpstreamConn): void {
    up.deadline = Number.MAX_SAFE_INTEGER;
    up.socket.pause();
  }

  #pauseClient(): void {
    if (!this.#paused) {
      this.#paused = true;
      this.socket.pause();
    }
  }

  #resumeClient(): void {
    if (this.#paused) {
      this.#paused = false;
      this.socket.resume();
    }
  }

  /** Graceful shutdown: idle connections close now; busy ones close after their response. */
  drain(): void {
    this.#closeAfter = true;
    // A response still to come carries `Connection: close` and the connection ends after it.
    this.#keepAlive = false;
    if (this.phase === HEAD && (this.#buf === null || this.#buf.length === 0)) this.#close();
  }
}

function noop(): void {}
