// Ingress normalisation (v1beta1 -> v1) and validation with field paths (INGRESS-SEMANTICS.md,
// "Objects and versions" and "Validation"). An Ingress the API server would reject is left out whole.

import type { Diagnostic } from './diagnostics.ts';
import { flatString } from '../util/flat-string.ts';
import { exactArray } from '../util/exact-array.ts';
import { asArray, asObject, asString, describeObject, type Json, type JsonObject, type StoredObject } from './objects.ts';
import {
  hostProblem, isDns1123Subdomain, isPortNumber, pathProblem, PATH_TYPES, portNameProblem, tlsHostProblem, type PathType,
} from './validation.ts';

export interface ServiceBackendRef {
  service: string;
  /** Port by number or by name: exactly one is set. */
  portNumber?: number;
  portName?: string;
}

export interface BackendRef {
  service?: ServiceBackendRef;
  /** A `resource` backend (e.g. a storage bucket): valid in the API, not something a proxy can serve. */
  resource?: { kind: string; name: string };
  field: string;
}

export interface IngressPath {
  path: string;
  pathType: PathType;
  backend: BackendRef;
  field: string;
}

export interface IngressRule {
  /** '' for a rule without host. */
  host: string;
  paths: IngressPath[];
  field: string;
}

export interface IngressTls {
  hosts: string[];
  secretName: string;
  field: string;
}

export interface Ingress {
  namespace: string;
  name: string;
  apiVersion: string;
  className: string | undefined;
  annotations: Record<string, string>;
  /** RFC 3339 creationTimestamp, '' when absent (manifests usually have none). */
  created: string;
  defaultBackend: BackendRef | undefined;
  rules: IngressRule[];
  tls: IngressTls[];
  source: StoredObject;
}

/** Normalises and validates one stored Ingress; returns undefined (with diagnostics) when the API server would reject it. */
export function normalizeIngress(o: StoredObject, diags: Diagnostic[]): Ingress | undefined {
  // Pure in the stored object, and rebuilds see the same object until its file changes: memoised.
  let memo = normalized.get(o);
  if (memo === undefined) {
    const own: Diagnostic[] = [];
    memo = { ingress: normalizeUncached(o, own), diags: own };
    normalized.set(o, memo);
  }
  for (const d of memo.diags) diags.push(d);
  return memo.ingress;
}

const normalized = new WeakMap<StoredObject, { ingress: Ingress | undefined; diags: Diagnostic[] }>();

function normalizeUncached(o: StoredObject, diags: Diagnostic[]): Ingress | undefined {
  const problems: Array<[string, string, string]> = []; // [code, field, message]
  const bad = (code: string, field: string, message: string) => void problems.push([code, field, message]);
  const v1 = o.apiVersion === 'networking.k8s.io/v1';

  if (!isDns1123Subdomain(o.name)) {
    bad('INGRESS_INVALID_NAME', 'metadata.name', 'must be a lowercase RFC 1123 subdomain (at most 253 characters)');
  }
  const meta = asObject(o.raw.metadata) ?? {};
  const annotations = stringMap(meta.annotations, 'metadata.annotations', bad);
  const created = asString(meta.creationTimestamp) ?? '';

  const spec = asObject(o.raw.spec);
  if (!spec) {
    bad('INGRESS_NO_SPEC', 'spec', 'is required');
    return report(o, problems, diags);
  }
  const className = spec.ingressClassName;
  if (className !== undefined && className !== null && (typeof className !== 'string' || !isDns1123Subdomain(className))) {
    bad('INGRESS_INVALID_CLASS_NAME', 'spec.ingressClassName', 'must be a DNS-1123 subdomain');
  }

  // v1beta1 named it spec.backend; v1 spec.defaultBackend.
  const dbField = v1 ? 'spec.defaultBackend' : 'spec.backend';
  const dbRaw = v1 ? spec.defaultBackend : spec.backend;
  const defaultBackend = dbRaw === undefined || dbRaw === null ? undefined : parseBackend(dbRaw, dbField, v1, bad);

  const rules: IngressRule[] = [];
  const rulesRaw = spec.rules;
  if (rulesRaw !== undefined && rulesRaw !== null && !Array.isArray(rulesRaw)) bad('INGRESS_INVALID_RULES', 'spec.rules', 'must be a list');
  const ruleList = asArray(rulesRaw) ?? [];
  if (ruleList.length === 0 && !defaultBackend && dbRaw == null) {
    bad('INGRESS_EMPTY_SPEC', 'spec', `either \`${dbField}\` or \`rules\` must be specified`);
  }
  ruleList.forEach((r, i) => {
    const field = flatString(`spec.rules[${i}]`);
    const rule = asObject(r);
    if (!rule) return bad('INGRESS_INVALID_RULE', field, 'must be an object');
    const host = rule.host === undefined || rule.host === null ? '' : rule.host;
    if (typeof host !== 'string') return bad('INGRESS_INVALID_HOST', `${field}.host`, 'must be a string');
    if (host !== '') {
      const p = hostProblem(host);
      if (p) bad('INGRESS_INVALID_HOST', `${field}.host`, `${JSON.stringify(host)}: ${p}`);
    }
    const paths: IngressPath[] = [];
    const http = rule.http;
    if (http !== undefined && http !== null) {
      const httpObj = asObject(http);
      const pathList = httpObj ? asArray(httpObj.paths) : undefined;
      if (!pathList || pathList.length === 0) {
        bad('INGRESS_NO_PATHS', `${field}.http.paths`, 'must have at least one path');
      } else {
        pathList.forEach((p, j) => {
          const pf = flatString(`${field}.http.paths[${j}]`);
          const parsed = parsePath(p, pf, v1, bad);
          if (parsed) paths.push(parsed);
        });
      }
    }
    rules.push({ host, paths: exactArray(paths), field });
  });

  const tls: IngressTls[] = [];
  const tlsRaw = spec.tls;
  if (tlsRaw !== undefined && tlsRaw !== null && !Array.isArray(tlsRaw)) bad('INGRESS_INVALID_TLS', 'spec.tls', 'must be a list');
  (asArray(tlsRaw) ?? []).forEach((t, i) => {
    const field = flatString(`spec.tls[${i}]`);
    const entry = asObject(t);
    if (!entry) return bad('INGRESS_INVALID_TLS', field, 'must be an object');
    const hosts: string[] = [];
    (asArray(entry.hosts) ?? []).forEach((h, j) => {
      if (typeof h !== 'string') return bad('INGRESS_INVALID_TLS_HOST', `${field}.hosts[${j}]`, 'must be a string');
      const p = tlsHostProblem(h);
      if (p) bad('INGRESS_INVALID_TLS_HOST', `${field}.hosts[${j}]`, `${JSON.stringify(h)}: ${p}`);
      hosts.push(h);
    });
    const secretName = entry.secretName;
    if (secretName !== undefined && secretName !== null && (typeof secretName !== 'string' || (secretName !== '' && !isDns1123Subdomain(secretName)))) {
      bad('INGRESS_INVALID_TLS_SECRET', `${field}.secretName`, 'must be a DNS-1123 subdomain');
    }
    tls.push({ hosts: exactArray(hosts), secretName: typeof secretName === 'string' ? secretName : '', field });
  });

  if (problems.length > 0) return report(o, problems, diags);
  return {
    namespace: o.namespace,
    name: o.name,
    apiVersion: o.apiVersion,
    className: typeof className === 'string' ? className : undefined,
    annotations,
    created,
    defaultBackend,
    rules: exactArray(rules),
    tls: exactArray(tls),
    source: o,
  };
}

type Bad = (code: string, field: string, message: string) => void;

function parsePath(p: Json, field: string, v1: boolean, bad: Bad): IngressPath | undefined {
  const obj = asObject(p);
  if (!obj) return bad('INGRESS_INVALID_PATH', field, 'must be an object'), undefined;
  const rawPath = obj.path ?? '';
  if (typeof rawPath !== 'string') return bad('INGRESS_INVALID_PATH', `${field}.path`, 'must be a string'), undefined;
  let pathType: PathType;
  const rawType = obj.pathType;
  if (rawType === undefined || rawType === null || rawType === '') {
    // v1 requires pathType; v1beta1 defaulted it to ImplementationSpecific.
    if (v1) return bad('INGRESS_MISSING_PATH_TYPE', `${field}.pathType`, 'is required (Exact, Prefix or ImplementationSpecific)'), undefined;
    pathType = 'ImplementationSpecific';
  } else if (typeof rawType === 'string' && (PATH_TYPES as readonly string[]).includes(rawType)) {
    pathType = rawType as PathType;
  } else {
    return bad('INGRESS_INVALID_PATH_TYPE', `${field}.pathType`, `${JSON.stringify(rawType)}: supported values: "Exact", "ImplementationSpecific", "Prefix"`), undefined;
  }
  const problem = pathProblem(rawPath, pathType);
  if (problem) bad('INGRESS_INVALID_PATH', `${field}.path`, `${JSON.stringify(rawPath)}: ${problem}`);
  const backend = parseBackend(obj.backend, flatString(`${field}.backend`), v1, bad);
  if (!backend || problem) return undefined;
  return { path: rawPath, pathType, backend, field };
}

function parseBackend(b: Json | undefined, field: string, v1: boolean, bad: Bad): BackendRef | undefined {
  const obj = asObject(b);
  if (!obj) return bad('INGRESS_INVALID_BACKEND', field, 'is required and must be an object'), undefined;
  if (!v1) {
    // v1beta1: {serviceName, servicePort: int|string} or {resource}
    if (obj.serviceName !== undefined || obj.servicePort !== undefined) {
      if (obj.resource !== undefined) return bad('INGRESS_INVALID_BACKEND', field, 'cannot set both service and resource backends'), undefined;
      return serviceRef(obj.serviceName, obj.servicePort, `${field}.serviceName`, `${field}.servicePort`, field, bad);
    }
  } else if (obj.service !== undefined) {
    if (obj.resource !== undefined) return bad('INGRESS_INVALID_BACKEND', field, 'cannot set both service and resource backends'), undefined;
    const svc = asObject(obj.service);
    if (!svc) return bad('INGRESS_INVALID_BACKEND', `${field}.service`, 'must be an object'), undefined;
    const port = asObject(svc.port);
    if (!port) return bad('INGRESS_INVALID_SERVICE_PORT', `${field}.service.port`, 'is required'), undefined;
    if (port.number !== undefined && port.name !== undefined) {
      return bad('INGRESS_INVALID_SERVICE_PORT', `${field}.service.port`, 'cannot set both port name and port number'), undefined;
    }
    const portValue = port.number !== undefined ? port.number : port.name;
    const portField = port.number !== undefined ? `${field}.service.port.number` : `${field}.service.port.name`;
    if (portValue === undefined) return bad('INGRESS_INVALID_SERVICE_PORT', `${field}.service.port`, 'port name or number is required'), undefined;
    if (port.name !== undefined && typeof port.name !== 'string') {
      return bad('INGRESS_INVALID_SERVICE_PORT', portField, 'must be a string'), undefined;
    }
    return serviceRef(svc.name, portValue, `${field}.service.name`, portField, field, bad);
  }
  if (obj.resource !== undefined) {
    const r = asObject(obj.resource);
    const kind = r ? asString(r.kind) : undefined;
    const name = r ? asString(r.name) : undefined;
    if (!kind || !name) return bad('INGRESS_INVALID_BACKEND', `${field}.resource`, 'kind and name are required'), undefined;
    return { resource: { kind, name }, field };
  }
  return bad('INGRESS_INVALID_BACKEND', field, 'one of service or resource is required'), undefined;
}

function serviceRef(name: Json | undefined, port: Json | undefined, nameField: string, portField: string, field: string, bad: Bad): BackendRef | undefined {
  let ok = true;
  if (typeof name !== 'string' || !isDns1123Subdomain(name)) {
    bad('INGRESS_INVALID_SERVICE_NAME', nameField, 'is required and must be a valid Service name');
    ok = false;
  }
  if (typeof port === 'number') {
    if (!isPortNumber(port)) {
      bad('INGRESS_INVALID_SERVICE_PORT', portField, `${port}: must be between 1 and 65535, inclusive`);
      ok = false;
    }
  } else if (typeof port === 'string') {
    const p = portNameProblem(port);
    if (p) {
      bad('INGRESS_INVALID_SERVICE_PORT', portField, `${JSON.stringify(port)}: ${p}`);
      ok = false;
    }
  } else {
    bad('INGRESS_INVALID_SERVICE_PORT', portField, 'is required: a port number or an IANA service name');
    ok = false;
  }
  if (!ok) return undefined;
  return typeof port === 'number'
    ? { service: { service: name as string, portNumber: port }, field }
    : { service: { service: name as string, portName: port as string }, field };
}

function stringMap(v: Json | undefined, field: string, bad: Bad): Record<string, string> {
  const out: Record<string, string> = {};
  if (v === undefined || v === null) return out;
  const obj = asObject(v);
  if (!obj) {
    bad('INVALID_ANNOTATIONS', field, 'must be a map of strings');
    return out;
  }
  for (const [k, val] of Object.entries(obj)) {
    if (typeof val !== 'string') bad('INVALID_ANNOTATIONS', `${field}[${JSON.stringify(k)}]`, 'annotation values must be strings (quote them in YAML)');
    else out[k] = val;
  }
  return out;
}

function report(o: StoredObject, problems: Array<[string, string, string]>, diags: Diagnostic[]): undefined {
  for (const [code, field, message] of problems) {
    diags.push({ code, severity: 'error', message: `${message}; Ingress skipped`, file: o.origin?.file, line: o.origin?.line, object: describeObject(o), field });
  }
  return undefined;
}

export type { JsonObject };
