// The admin listener: liveness, readiness and the controller's state as JSON. Loopback by default.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

export interface AdminState {
  ready(): boolean;
  /** JSON documents served under GET /<name> (a name may contain '/'); undefined answers 404. */
  documents: Record<string, (query: URLSearchParams) => unknown | Promise<unknown>>;
}

export function startAdminServer(state: AdminState, host: string, port: number): Promise<{ server: Server; port: number }> {
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://admin');
    const path = url.pathname;
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'text/plain', 'method not allowed\n');
    if (path === '/healthz') return send(res, 200, 'text/plain', 'ok\n');
    if (path === '/readyz') return state.ready() ? send(res, 200, 'text/plain', 'ready\n') : send(res, 503, 'text/plain', 'not ready\n');
    const doc = state.documents[path.slice(1)];
    if (doc) {
      Promise.resolve()
        .then(() => doc(url.searchParams))
        .then(
          (value) => (value === undefined ? send(res, 404, 'text/plain', 'not found\n') : send(res, 200, 'application/json', `${JSON.stringify(value, null, 2)}\n`)),
          (e: Error) => send(res, 500, 'text/plain', `${e.message}\n`),
        );
      return;
    }
    send(res, 404, 'text/plain', `not found; try ${['/healthz', '/readyz', ...Object.keys(state.documents).map((d) => `/${d}`)].join(', ')}\n`);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port }, () => {
      server.off('error', reject);
      const a = server.address();
      resolve({ server, port: typeof a === 'object' && a ? a.port : port });
    });
  });
}

function send(res: ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body), server: 'archway' });
  res.end(body);
}
