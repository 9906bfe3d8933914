// The routing decisions the bundled examples (examples/*.yaml) produce, as curl lines for the
// `npm start` demo, plus a checker that sends the same request and compares the answer.

import { request } from 'node:http';

export interface DemoRoute {
  /** Host header to send; undefined sends none of our own (curl then sends the bare IP). */
  host?: string;
  /** Path and query, starting with `/`. */
  target: string;
  /** Echo backend name expected to answer, or an HTTP status code Archway answers itself. */
  expect: string | number;
  /** The request target the backend must see, when it differs from `target` (rewrites). */
  expectUrl?: string;
  /** Why: which example and which rule decides. */
  why: string;
}

/** One entry per routing decision worth showing; see examples/README.md for the reasoning. */
export const DEMO_ROUTES: readonly DemoRoute[] = [
  { host: 'foo.bar.com', target: '/foo', expect: 'service1', why: 'simple fan-out: simple-fanout-example /foo -> service1:4200' },
  {
    host: 'foo.bar.com',
    target: '/bar',
    expect: 'service1',
    why: 'simple fan-out /bar (service2:8080) conflicts with ingress-wildcard-host /bar (service1:80); equal age, so the name order picks ingress-wildcard-host',
  },
  { host: 'foo.bar.com', target: '/', expect: 'service1', why: 'name-based virtual host: name-virtual-host-ingress foo.bar.com /' },
  { host: 'bar.foo.com', target: '/', expect: 'service2', why: 'name-based virtual host: name-virtual-host-ingress bar.foo.com / (precise host beats *.foo.com)' },
  { host: 'first.bar.com', target: '/', expect: 'service1', why: 'name-virtual-host-ingress-no-third-host first.bar.com' },
  { host: 'second.bar.com', target: '/', expect: 'service2', why: 'name-virtual-host-ingress-no-third-host second.bar.com' },
  { target: '/anything', expect: 'service3', why: 'host-less catch-all rule of name-virtual-host-ingress-no-third-host (any Host, bare IP too)' },
  { host: 'baz.foo.com', target: '/foo', expect: 'service2', why: 'wildcard host: ingress-wildcard-host *.foo.com /foo' },
  { host: 'a.baz.foo.com', target: '/foo', expect: 'service3', why: '*.foo.com matches exactly one label, so this falls to the host-less rule' },
  { target: '/testpath/x?y=1', expect: 'test', expectUrl: '/?y=1', why: 'minimal-ingress /testpath with rewrite-target: / (backend sees /?y=1)' },
  { host: 'baz.foo.com', target: '/nothing', expect: 404, why: 'wildcard host matched, no path matched, no default backend for it: 404 from Archway' },
];

/** Note printed for the one example whose decision cannot be shown with everything loaded. */
export const TEST_INGRESS_NOTE =
  "test-ingress (single service: defaultBackend -> test) is the catch-all for requests no rule matches; with all examples loaded the host-less '/' rule of name-virtual-host-ingress-no-third-host matches first (rules beat default backends)";

function shellQuote(s: string): string {
  return /^[A-Za-z0-9_\/:.@%+=,-]+$/.test(s) ? s : `'${s.replaceAll("'", `'\\''`)}'`;
}

/** The curl command for a route, without the trailing comment. */
export function curlCommand(route: DemoRoute, httpPort: number): string {
  const flags = typeof route.expect === 'number' ? '-si' : '-s';
  const host = route.host === undefined ? '' : ` -H ${shellQuote(`Host: ${route.host}`)}`;
  return `curl ${flags}${host} ${shellQuote(`http://127.0.0.1:${httpPort}${route.target}`)}`;
}

/** Copy-pasteable lines `curl ...   # -> backend (why)`, comments aligned. */
export function curlLines(routes: readonly DemoRoute[], httpPort: number): string[] {
  const cmds = routes.map((r) => curlCommand(r, httpPort));
  const width = Math.max(...cmds.map((c) => c.length));
  return routes.map((r, i) => `${cmds[i].padEnd(width)}   # → ${r.expect} (${r.why})`);
}

/**
 * Sends the route's request to 127.0.0.1:httpPort and returns '' when the answer is the
 * expected one, otherwise a short description of what came back.
 */
export function checkRoute(route: DemoRoute, httpPort: number, timeoutMs = 3000): Promise<string> {
  return new Promise((resolve) => {
    const headers: Record<string, string> = route.host === undefined ? {} : { Host: route.host };
    const req = request({ host: '127.0.0.1', port: httpPort, path: route.target, headers, agent: false, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', (err) => resolve(`response error: ${err.message}`));
      res.on('end', () => {
        const status = res.statusCode ?? 0;
        if (typeof route.expect === 'number') {
          resolve(status === route.expect ? '' : `got HTTP ${status} (backend ${res.headers['x-echo-backend'] ?? 'none'})`);
          return;
        }
        const backend = res.headers['x-echo-backend'];
        if (status !== 200 || backend === undefined) {
          resolve(`got HTTP ${status} without an echo backend`);
          return;
        }
        if (backend !== route.expect) {
          resolve(`answered by ${backend}`);
          return;
        }
        if (route.expectUrl !== undefined) {
          let url: unknown;
          try {
            url = (JSON.parse(Buffer.concat(chunks).toString()) as { url?: unknown }).url;
          } catch {
            url = undefined;
          }
          if (url !== route.expectUrl) {
            resolve(`${backend} saw ${JSON.stringify(url)}, expected ${JSON.stringify(route.expectUrl)}`);
            return;
          }
        }
        resolve('');
      });
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (err) => resolve(`request failed: ${err.message}`));
    req.end();
  });
}
