// Backend resolution: Ingress backend port -> Service port -> targetPort -> ready endpoint addresses
// (INGRESS-SEMANTICS.md, "Backends and ports").

import { isIP } from 'node:net';
import { asArray, asObject, asString, type JsonObject, type ObjectView, type StoredObject } from './objects.ts';
import type { ServiceBackendRef } from './ingress.ts';

export interface Endpoint {
  /** IP address or (ExternalName / FQDN slices) DNS name. */
  address: string;
  port: number;
}

export type BackendProblemCode = 'SERVICE_NOT_FOUND' | 'SERVICE_PORT_NOT_FOUND' | 'NO_READY_ENDPOINTS' | 'RESOURCE_BACKEND';

export interface ResolvedBackend {
  /** `namespace/service:port`, the key routes refer to. */
  id: string;
  service: string;
  port: string;
  /** Ready endpoints, sorted and de-duplicated. */
  endpoints: Endpoint[];
  problem?: { code: BackendProblemCode; message: string };
  /** service-upstream: the only endpoint is the Service's cluster IP and port (id ends in `#cluster-ip`). */
  clusterIp?: boolean;
}

/** The Service (`namespace/name`) an object belongs to: itself, its Endpoints (same name), or its slices' label. */
export function serviceOf(o: StoredObject): string | undefined {
  if (o.kind !== 'EndpointSlice') return `${o.namespace}/${o.name}`;
  const svc = asString(asObject(asObject(o.raw.metadata)?.labels)?.[SERVICE_NAME_LABEL]);
  return svc === undefined ? undefined : `${o.namespace}/${svc}`;
}

/** Suffix of the backend id of a service-upstream backend: `namespace/service:port#cluster-ip`. */
export const CLUSTER_IP_SUFFIX = '#cluster-ip';

/** service-upstream cannot use the cluster IP: why (null: the Service or port is missing, which the endpoint resolution reports). */
export type ClusterIpResult = { backend: ResolvedBackend } | { fallback: string | null };

export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

export function backendId(namespace: string, ref: ServiceBackendRef): string {
  return `${namespace}/${ref.service}:${ref.portNumber ?? ref.portName}`;
}

interface PortMatch {
  name: string;
  port: number;
  targetPort: number | string | undefined;
}

/** Indexes EndpointSlices by owning Service once per build, so resolution stays linear in the number of objects. */
export class ServiceResolver {
  #store: ObjectView;
  #slices = new Map<string, StoredObject[]>();

  constructor(store: ObjectView) {
    this.#store = store;
    for (const s of store.list('EndpointSlice')) {
      const svc = asString(asObject(asObject(s.raw.metadata)?.labels)?.[SERVICE_NAME_LABEL]);
      if (!svc) continue;
      const key = `${s.namespace}/${svc}`;
      let l = this.#slices.get(key);
      if (!l) this.#slices.set(key, (l = []));
      l.push(s);
    }
  }

  /**
   * Pure in the Service, its Endpoints and its EndpointSlices; a rebuild sees the same stored objects
   * until their files change, so results are reused across builds (issue 4 item 10: 10,000 backends).
   */
  resolve(namespace: string, ref: ServiceBackendRef): ResolvedBackend {
    const svc = this.#store.get('Service', namespace, ref.service);
    if (svc === undefined) return this.#resolveUncached(namespace, ref);
    const eps = this.#store.get('Endpoints', namespace, ref.service);
    const slices = this.#slices.get(`${namespace}/${ref.service}`) ?? NO_SLICES;
    const key = String(ref.portNumber ?? `name:${ref.portName}`);
    let perService = resolved.get(svc);
    if (perService === undefined) resolved.set(svc, (perService = new Map()));
    const hit = perService.get(key);
    if (hit !== undefined && hit.eps === eps && sameObjects(hit.slices, slices)) return hit.result;
    const result = this.#resolveUncached(namespace, ref);
    perService.set(key, { eps, slices, result });
    return result;
  }

  #resolveUncached(namespace: string, ref: ServiceBackendRef): ResolvedBackend {
    const id = backendId(namespace, ref);
    const port = String(ref.portNumber ?? ref.portName);
    const service = `${namespace}/${ref.service}`;
    const out: ResolvedBackend = { id, service, port, endpoints: [] };
    const svc = this.#store.get('Service', namespace, ref.service);
    if (!svc) {
      out.problem = { code: 'SERVICE_NOT_FOUND', message: `Service ${service} not found` };
      return out;
    }
    const spec = asObject(svc.raw.spec) ?? {};
    const ports = servicePorts(spec);
    const match = ports.find((p) => (ref.portNumber !== undefined ? p.port === ref.portNumber : p.name === ref.portName));

    if (asString(spec.type) === 'ExternalName') {
      // ExternalName: proxy to the DNS name; the port is the Service port's numeric targetPort, else the port itself.
      const host = asString(spec.externalName);
      const p = match ? (typeof match.targetPort === 'number' ? match.targetPort : match.port) : ref.portNumber;
      if (!host || p === undefined) {
        out.problem = { code: 'SERVICE_PORT_NOT_FOUND', message: `ExternalName Service ${service} has no externalName or no port ${port}` };
      } else {
        out.endpoints.push({ address: host.toLowerCase().replace(/\.$/, ''), port: p });
      }
      return out;
    }
    if (!match) {
      out.problem = { code: 'SERVICE_PORT_NOT_FOUND', message: `Service ${service} has no port ${port}` };
      return out;
    }
    const single = ports.length === 1;
    const seen = new Set<string>();
    const add = (address: string, p: number) => {
      const k = `${address}|${p}`;
      if (!seen.has(k)) seen.add(k), out.endpoints.push({ address, port: p });
    };
    this.#fromEndpoints(namespace, ref.service, match, single, add);
    this.#fromSlices(namespace, ref.service, match, single, add);
    out.endpoints.sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : a.port - b.port));
    if (out.endpoints.length === 0) {
      out.problem = { code: 'NO_READY_ENDPOINTS', message: `Service ${service} port ${port} has no ready endpoints` };
    }
    return out;
  }

  /**
   * service-upstream (ingress-nginx): one endpoint, the Service's `spec.clusterIP` and the Service
   * port (kube-proxy picks the pod). ExternalName and headless Services have no cluster IP, and
   * manifests usually leave it to the API server: those fall back to the endpoints.
   */
  resolveClusterIp(namespace: string, ref: ServiceBackendRef): ClusterIpResult {
    const service = `${namespace}/${ref.service}`;
    const svc = this.#store.get('Service', namespace, ref.service);
    if (!svc) return { fallback: null };
    const spec = asObject(svc.raw.spec) ?? {};
    if (asString(spec.type) === 'ExternalName') return { fallback: `Service ${service} is of type ExternalName and has no cluster IP` };
    const ip = asString(spec.clusterIP) ?? '';
    if (ip === 'None') return { fallback: `Service ${service} is headless (clusterIP: None)` };
    if (isIP(ip) === 0) return { fallback: `Service ${service} has no spec.clusterIP${ip === '' ? '' : ` (${JSON.stringify(ip)} is not an IP address)`}` };
    const match = servicePorts(spec).find((p) => (ref.portNumber !== undefined ? p.port === ref.portNumber : p.name === ref.portName));
    if (!match) return { fallback: null };
    return {
      backend: {
        id: backendId(namespace, ref) + CLUSTER_IP_SUFFIX,
        service,
        port: String(ref.portNumber ?? ref.portName),
        endpoints: [{ address: ip, port: match.port }],
        clusterIp: true,
      },
    };
  }

  /**
   * Resolves a backend again against this resolver's objects, keeping its kind: non-Service backends
   * as they are, service-upstream backends by cluster IP, others by endpoints (the endpoint fast lane).
   */
  refresh(prev: ResolvedBackend): ResolvedBackend {
    if (prev.service === '') return prev;
    const slash = prev.service.indexOf('/');
    const namespace = prev.service.slice(0, slash);
    const service = prev.service.slice(slash + 1);
    const ref: ServiceBackendRef = /^\d+$/.test(prev.port) ? { service, portNumber: Number(prev.port) } : { service, portName: prev.port };
    if (prev.clusterIp) {
      const r = this.resolveClusterIp(namespace, ref);
      return 'backend' in r ? r.backend : prev;
    }
    return this.resolve(namespace, ref);
  }

  /** Endpoints v1: only `addresses` are ready (`notReadyAddresses` are not); ports matched by the Service port's name. */
  #fromEndpoints(ns: string, name: string, match: PortMatch, single: boolean, add: (a: string, p: number) => void): void {
    const eps = this.#store.get('Endpoints', ns, name);
    if (!eps) return;
    for (const subsetRaw of asArray(eps.raw.subsets) ?? []) {
      const subset = asObject(subsetRaw);
      if (!subset) continue;
      const p = endpointPort(asArray(subset.ports) ?? [], match, single);
      if (p === undefined) continue;
      for (const a of asArray(subset.addresses) ?? []) {
        const ip = asString(asObject(a)?.ip);
        if (ip) add(ip, p);
      }
    }
  }

  /** EndpointSlice discovery.k8s.io/v1: endpoints whose `conditions.ready` is not false. */
  #fromSlices(ns: string, name: string, match: PortMatch, single: boolean, add: (a: string, p: number) => void): void {
    for (const slice of this.#slices.get(`${ns}/${name}`) ?? []) {
      const p = endpointPort(asArray(slice.raw.ports) ?? [], match, single);
      if (p === undefined) continue;
      for (const e of asArray(slice.raw.endpoints) ?? []) {
        const ep = asObject(e);
        if (!ep || asObject(ep.conditions)?.ready === false) continue;
        for (const a of asArray(ep.addresses) ?? []) if (typeof a === 'string' && a) add(a, p);
      }
    }
  }
}

function servicePorts(spec: JsonObject): PortMatch[] {
  const out: PortMatch[] = [];
  for (const raw of asArray(spec.ports) ?? []) {
    const p = asObject(raw);
    if (!p || typeof p.port !== 'number') continue;
    const tp = p.targetPort;
    out.push({ name: asString(p.name) ?? '', port: p.port, targetPort: typeof tp === 'number' || typeof tp === 'string' ? tp : undefined });
  }
  return out;
}

/**
 * The endpoint port for a Service port: the subset/slice port with the same name (unnamed when the
 * Service has a single unnamed port). Without ports listed, a numeric targetPort (or the port) is used.
 */
function endpointPort(ports: unknown[], match: PortMatch, single: boolean): number | undefined {
  if (ports.length === 0) return typeof match.targetPort === 'number' ? match.targetPort : typeof match.targetPort === 'string' ? undefined : match.port;
  for (const raw of ports) {
    const p = asObject(raw);
    if (!p || typeof p.port !== 'number') continue;
    const name = asString(p.name) ?? '';
    if (name === match.name || (single && ports.length === 1 && (name === '' || match.name === ''))) return p.port;
  }
  return undefined;
}

const NO_SLICES: StoredObject[] = [];
const resolved = new WeakMap<StoredObject, Map<string, { eps: StoredObject | undefined; slices: StoredObject[]; result: ResolvedBackend }>>();

function sameObjects(a: readonly StoredObject[], b: readonly StoredObject[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
