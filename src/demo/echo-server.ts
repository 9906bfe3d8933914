// Demo echo backend: answers every request with a JSON description of what it received, so a
// request sent through Archway shows which backend it reached and how it was forwarded.
// Also accepts WebSocket upgrades (101 with a correct Sec-WebSocket-Accept) and then echoes
// raw bytes back, which is enough to test upgrade tunnelling without a frame parser.

import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';

export interface EchoServerOptions {
  name: string;
  /** Listen address; default 127.0.0.1. */
  host?: string;
  /** 0 picks an ephemeral port. */
  port: number;
}

export interface EchoServer {
  port: number;
  close(): Promise<void>;
}

/** The JSON body of every echo response. */
export interface EchoReply {
  backend: string;
  method: string;
  /** The request target exactly as received, e.g. `/a/b?x=1`. */
  url: string;
  /** `url` up to the first `?`. */
  path: string;
  /** Raw query string after the first `?` (no `?`), `''` when there is none. */
  query: string;
  /** Request headers, names lowercased (node:http joins repeated headers, `set-cookie` stays a list). */
  headers: Record<string, string | string[]>;
  httpVersion: string;
  remoteAddress: string;
  bodyBytes: number;
}

const WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** `Sec-WebSocket-Accept` for a `Sec-WebSocket-Key` (RFC 6455 section 4.2.2). */
export function webSocketAccept(key: string): string {
  return createHash('sha1').update(key + WS_GUID).digest('base64');
}

function isWebSocketUpgrade(req: IncomingMessage): boolean {
  return (req.headers.upgrade ?? '').toLowerCase() === 'websocket';
}

function headerObject(req: IncomingMessage): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) out[name] = value;
  }
  return out;
}

export function startEchoServer(opts: EchoServerOptions): Promise<EchoServer> {
  const { name } = opts;
  const host = opts.host ?? '127.0.0.1';
  const tunnels = new Set<Duplex>();

  const server = createServer(
    // Only WebSocket upgrades become 'upgrade' events; any other Upgrade header is echoed as a
    // plain request (as a server that does not support that protocol would).
    { shouldUpgradeCallback: isWebSocketUpgrade },
    (req: IncomingMessage, res: ServerResponse) => {
      let bodyBytes = 0;
      req.on('data', (chunk: Buffer) => {
        bodyBytes += chunk.length;
      });
      req.on('error', () => res.destroy());
      req.on('end', () => {
        const url = req.url ?? '';
        const q = url.indexOf('?');
        const reply: EchoReply = {
          backend: name,
          method: req.method ?? '',
          url,
          path: q === -1 ? url : url.slice(0, q),
          query: q === -1 ? '' : url.slice(q + 1),
          headers: headerObject(req),
          httpVersion: req.httpVersion,
          remoteAddress: req.socket.remoteAddress ?? '',
          bodyBytes,
        };
        const body = Buffer.from(JSON.stringify(reply, null, 2) + '\n');
        res.writeHead(200, {
          'Content-Type': 'application/json',
          'Content-Length': body.length,
          'X-Echo-Backend': name,
        });
        res.end(req.method === 'HEAD' ? undefined : body);
      });
    },
  );

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    const key = req.headers['sec-websocket-key'];
    if (typeof key !== 'string' || key === '') {
      socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    tunnels.add(socket);
    socket.on('close', () => tunnels.delete(socket));
    socket.write(
      'HTTP/1.1 101 Switching Protocols\r\n' +
        'Upgrade: websocket\r\n' +
        'Connection: Upgrade\r\n' +
        `Sec-WebSocket-Accept: ${webSocketAccept(key)}\r\n` +
        `X-Echo-Backend: ${name}\r\n` +
        '\r\n',
    );
    if (head.length > 0) socket.write(head);
    socket.pipe(socket);
  });

  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => {
      server.close();
      reject(err);
    };
    server.once('error', onError);
    server.listen(opts.port, host, () => {
      server.off('error', onError);
      const port = (server.address() as AddressInfo).port;
      let closing: Promise<void> | undefined;
      resolve({
        port,
        close(): Promise<void> {
          closing ??= new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
            for (const s of tunnels) s.destroy();
          });
          return closing;
        },
      });
    });
  });
}
