// FOR TESTING THE HARNESS ONLY: a tiny stand-in for Archway that speaks the same `serve`
// command-line contract, reads the same manifests (Ingress -> Service -> Endpoints, the
// first path only) and proxies with node:http + a keep-alive agent. With --https-port it also
// serves HTTPS with one certificate for every name: the kubernetes.io/tls Secret named by
// --default-ssl-certificate, else the first one in the manifests (no SNI selection). With --workers N the
// primary forks N cluster workers (so the harness' process-tree accounting gets exercised)
// and serves /readyz on the admin port once they all listen.
//
//   node bench/run.ts --archway-cmd "node bench/standin-proxy.ts"

import cluster from 'node:cluster';
import http from 'node:http';
import https from 'node:https';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parseAllDocuments } from 'yaml';

const USAGE = `usage: standin-proxy.ts serve --manifests DIR --http-port P --admin-port A
         [--https-port P] [--default-ssl-certificate NS/NAME]
         [--bind ADDR] [--admin-bind ADDR] [--workers N]`;

interface K8sObject {
  kind?: string;
  type?: string;
  metadata?: { name?: string; namespace?: string };
  spec?: any;
  subsets?: any[];
  data?: Record<string, string>;
}

function loadObjects(dir: string): K8sObject[] {
  const objects: K8sObject[] = [];
  for (const file of readdirSync(dir).sort()) {
    if (!/\.ya?ml$/.test(file)) continue;
    for (const doc of parseAllDocuments(readFileSync(join(dir, file), 'utf8'))) {
      const value = doc.toJS() as K8sObject | null;
      if (value !== null && typeof value === 'object') objects.push(value);
    }
  }
  return objects;
}

/** Ingress path / -> Service port -> Endpoints port of the same name -> address:port. */
function resolveUpstream(dir: string): { host: string; port: number } {
  const objects = loadObjects(dir);
  const find = (kind: string, ns: string, name: string): K8sObject | undefined =>
    objects.find((o) => o.kind === kind && o.metadata?.namespace === ns && o.metadata?.name === name);
  const ingress = objects.find((o) => o.kind === 'Ingress');
  if (ingress === undefined) throw new Error('no Ingress in manifests');
  const ns = ingress.metadata?.namespace ?? 'default';
  const backend = ingress.spec?.rules?.[0]?.http?.paths?.[0]?.backend?.service;
  const service = find('Service', ns, backend?.name);
  const servicePort = service?.spec?.ports?.find((p: any) => p.port === backend?.port?.number);
  if (servicePort === undefined) throw new Error(`no Service port for ${JSON.stringify(backend)}`);
  const subset = find('Endpoints', ns, backend.name)?.subsets?.[0];
  const endpointPort = subset?.ports?.find((p: any) => p.name === servicePort.name);
  const address = subset?.addresses?.[0]?.ip;
  if (endpointPort === undefined || address === undefined) throw new Error('no matching Endpoints');
  return { host: address, port: endpointPort.port };
}

/** tls.crt and tls.key of the Secret `ref` (NS/NAME), or of the first kubernetes.io/tls Secret. */
function loadCertificate(dir: string, ref: string | undefined): { cert: string; key: string } {
  const [namespace, name] = ref === undefined ? [] : ref.split('/');
  const secret = loadObjects(dir).find(
    (o) =>
      o.kind === 'Secret' &&
      o.type === 'kubernetes.io/tls' &&
      (ref === undefined || (o.metadata?.namespace === namespace && o.metadata?.name === name)),
  );
  const crt = secret?.data?.['tls.crt'];
  const key = secret?.data?.['tls.key'];
  if (crt === undefined || key === undefined) throw new Error(`no kubernetes.io/tls Secret ${ref ?? ''} in manifests`);
  return { cert: Buffer.from(crt, 'base64').toString('utf8'), key: Buffer.from(key, 'base64').toString('utf8') };
}

interface Listener {
  port: number;
  /** Present for HTTPS. */
  tls?: { cert: string; key: string };
}

function serveProxy(upstream: { host: string; port: number }, listener: Listener, bind: string): void {
  const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity, maxFreeSockets: 1024 });
  const { port } = listener;
  const handler = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const headers = { ...req.headers };
    const client = req.socket.remoteAddress ?? '';
    headers['x-real-ip'] = client;
    headers['x-forwarded-for'] = headers['x-forwarded-for'] ? `${headers['x-forwarded-for']}, ${client}` : client;
    headers['x-forwarded-proto'] = listener.tls === undefined ? 'http' : 'https';
    headers['x-forwarded-host'] = req.headers.host ?? '';
    headers['x-forwarded-port'] = String(port);
    delete headers.connection;
    const upstreamReq = http.request(
      { host: upstream.host, port: upstream.port, method: req.method, path: req.url, headers, agent },
      (upstreamRes) => {
        // Hop-by-hop headers stay with the upstream hop (a copied "Connection: keep-alive" would
        // keep HTTP/1.0 clients' connections open).
        const out = { ...upstreamRes.headers };
        delete out.connection;
        delete out['keep-alive'];
        res.writeHead(upstreamRes.statusCode ?? 502, out);
        upstreamRes.pipe(res);
      },
    );
    upstreamReq.on('error', () => {
      if (!res.headersSent) res.writeHead(502).end();
      else res.destroy();
    });
    req.pipe(upstreamReq);
  };
  const server = listener.tls === undefined
    ? http.createServer(handler)
    : https.createServer({ cert: listener.tls.cert, key: listener.tls.key, minVersion: 'TLSv1.2' }, handler);
  server.keepAliveTimeout = 75_000;
  server.listen(port, bind);
}

/** The plain listener, and the HTTPS one when --https-port is given. */
function listeners(values: ReturnType<typeof parseCommandLine>['values']): Listener[] {
  const list: Listener[] = [{ port: Number(values['http-port']) }];
  if (values['https-port'] !== undefined) {
    list.push({
      port: Number(values['https-port']),
      tls: loadCertificate(values.manifests!, values['default-ssl-certificate']),
    });
  }
  return list;
}

function serveAdmin(port: number, bind: string, isReady: () => boolean): void {
  http
    .createServer((req, res) => {
      const ok = req.url === '/healthz' || (req.url === '/readyz' && isReady());
      res.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' }).end(ok ? 'ok\n' : 'not ready\n');
    })
    .listen(port, bind);
}

function parseCommandLine() {
  return parseArgs({
    allowPositionals: true,
    options: {
      manifests: { type: 'string' },
      'http-port': { type: 'string' },
      'admin-port': { type: 'string' },
      'https-port': { type: 'string' },
      'default-ssl-certificate': { type: 'string' },
      bind: { type: 'string', default: '127.0.0.1' },
      'admin-bind': { type: 'string', default: '127.0.0.1' },
      workers: { type: 'string', default: '0' },
      help: { type: 'boolean' },
    },
  });
}

function main(): void {
  const { values, positionals } = parseCommandLine();
  if (values.help || positionals[0] !== 'serve') {
    console.log(USAGE);
    process.exit(values.help ? 0 : 2);
  }
  if (values.manifests === undefined || values['http-port'] === undefined || values['admin-port'] === undefined) {
    console.error(USAGE);
    process.exit(2);
  }
  const upstream = resolveUpstream(values.manifests);
  const servers = listeners(values);
  const workers = Number(values.workers);
  if (workers <= 0) {
    for (const listener of servers) serveProxy(upstream, listener, values.bind);
    serveAdmin(Number(values['admin-port']), values['admin-bind'], () => true);
    return;
  }
  cluster.schedulingPolicy = cluster.SCHED_NONE; // workers accept on the shared socket
  let listening = 0;
  cluster.on('listening', () => listening++);
  cluster.on('exit', (worker, code, signal) => {
    console.error(`worker ${worker.process.pid} exited (${signal ?? code})`);
    process.exit(1);
  });
  for (let i = 0; i < workers; i++) cluster.fork();
  serveAdmin(Number(values['admin-port']), values['admin-bind'], () => listening >= workers * servers.length);
}

if (cluster.isPrimary) {
  main();
} else {
  const { values } = parseCommandLine();
  const upstream = resolveUpstream(values.manifests!);
  for (const listener of listeners(values)) serveProxy(upstream, listener, values.bind);
}
