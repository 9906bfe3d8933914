// The admin API's Kubernetes-shaped documents: Ingresses with status, and Events (issue 4 item 8).
// `namespace` query parameter filters; absent means all namespaces.

import type { Controller } from '../controller/controller.ts';
import type { Diagnostic } from '../model/diagnostics.ts';
import { normalizeIngress, type BackendRef } from '../model/ingress.ts';
import type { TlsEntryView } from '../model/tls-bindings.ts';
import { CLUSTER_IP_SUFFIX } from '../model/services.ts';

export function apiDocuments(controller: Controller): Record<string, (q: URLSearchParams) => unknown> {
  return {
    'api/ingresses': (q) => {
      const ns = q.get('namespace');
      const items = controller.ingressObjects().filter((o) => ns === null || (o.metadata as { namespace?: string }).namespace === ns);
      return { apiVersion: 'v1', kind: 'List', items };
    },
    'api/describe/ingress': (q) => describeIngress(controller, q.get('namespace') ?? 'default', q.get('name') ?? ''),
    'api/events': (q) => {
      const ns = q.get('namespace');
      const kind = q.get('kind');
      const name = q.get('name');
      return {
        apiVersion: 'v1',
        kind: 'EventList',
        items: controller.events.list({ namespace: ns ?? undefined, kind: kind ?? undefined, name: name ?? undefined }),
      };
    },
  };
}

export interface BackendView {
  service: string;
  port: string;
  endpoints: string[];
  error?: string;
}

export interface IngressDescription {
  namespace: string;
  name: string;
  served: boolean;
  className: string;
  address: string[];
  defaultBackend: BackendView | null;
  /** spec.tls entries as resolved: the certificate's subject, DNS names, issuer and validity, or the problem. */
  tls: TlsEntryView[];
  rules: Array<{ host: string; paths: Array<{ path: string; pathType: string; backend: BackendView }> }>;
  annotations: Record<string, string>;
  events: unknown[];
}

/** What `archway describe ingress` prints, resolved by the controller (issue 4 item 8). */
export function describeIngress(controller: Controller, namespace: string, name: string): IngressDescription | undefined {
  const served = controller.model?.served.find((s) => s.ingress.namespace === namespace && s.ingress.name === name);
  const stored = controller.store?.get('Ingress', namespace, name);
  if (!stored) return undefined;
  const diags: Diagnostic[] = [];
  const ing = served?.ingress ?? normalizeIngress(stored, diags);
  const table = controller.table;
  const view = (ref: BackendRef | undefined): BackendView | null => {
    if (!ref) return null;
    if (ref.resource) return { service: `${ref.resource.kind}/${ref.resource.name}`, port: '', endpoints: [], error: 'resource backends are not served' };
    const s = ref.service!;
    const port = String(s.portNumber ?? s.portName);
    const id = `${namespace}/${s.service}:${port}`;
    const b = served && table ? (table.backends[id] ?? table.backends[id + CLUSTER_IP_SUFFIX]) : undefined;
    if (!b) return { service: s.service, port, endpoints: [], error: served ? 'backend not resolved' : 'Ingress not served by this controller' };
    const endpoints = b.endpoints.map((e) => (e.address.includes(':') ? `[${e.address}]:${e.port}` : `${e.address}:${e.port}`));
    return b.problem ? { service: s.service, port, endpoints, error: problemText(b.problem, s.service, port) } : { service: s.service, port, endpoints };
  };
  const obj = controller.ingressObjects().find((o) => (o.metadata as { namespace?: string; name?: string }).name === name && (o.metadata as { namespace?: string }).namespace === namespace);
  const lb = ((obj?.status as { loadBalancer?: { ingress?: Array<{ ip?: string; hostname?: string }> } } | undefined)?.loadBalancer?.ingress ?? []);
  return {
    namespace,
    name,
    served: served !== undefined,
    className: served?.className ?? ing?.className ?? '',
    address: lb.map((a) => a.ip ?? a.hostname ?? ''),
    defaultBackend: view(ing?.defaultBackend),
    tls: controller.model?.tls.entries.get(`${namespace}/${name}`) ?? (ing?.tls ?? []).map((t) => ({ hosts: t.hosts, secretName: t.secretName })),
    rules: (ing?.rules ?? []).map((r) => ({ host: r.host, paths: r.paths.map((p) => ({ path: p.path, pathType: p.pathType, backend: view(p.backend)! })) })),
    annotations: ing?.annotations ?? {},
    events: controller.events.list({ kind: 'Ingress', namespace, name }),
  };
}

function problemText(code: string, service: string, port: string): string {
  switch (code) {
    case 'SERVICE_NOT_FOUND': return `service "${service}" not found`;
    case 'SERVICE_PORT_NOT_FOUND': return `service "${service}" has no port ${port}`;
    case 'NO_READY_ENDPOINTS': return 'no ready endpoints';
    default: return code;
  }
}
