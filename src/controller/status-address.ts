// Where served Ingresses are reachable: status.loadBalancer.ingress (INGRESS-SEMANTICS.md "Status";
// issue 4 item 6): --publish-status-address, else the bind address, else for a wildcard bind the
// machine's primary non-loopback address, or 127.0.0.1 when there is none.

import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import type { LoadBalancerIngress } from './controller.ts';

export function statusAddresses(publish: readonly string[], bind: string): LoadBalancerIngress[] {
  const list = publish.length > 0 ? publish : [bindAddress(bind)];
  return list.map((a) => (isIP(a) !== 0 ? { ip: a } : { hostname: a }));
}

function bindAddress(bind: string): string {
  if (bind !== '0.0.0.0' && bind !== '::') return bind === 'localhost' ? '127.0.0.1' : bind;
  const ifaces = networkInterfaces();
  for (const family of ['IPv4', 'IPv6']) {
    for (const name of Object.keys(ifaces).sort()) {
      for (const a of ifaces[name] ?? []) if (!a.internal && a.family === family) return a.address;
    }
  }
  return '127.0.0.1';
}
