// Syntax checks the Kubernetes API server applies (k8s.io/apimachinery validation and
// networking/validation), so a manifest Archway accepts is one the API server would accept too.

import { isIP } from 'node:net';

const DNS1123_LABEL = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
const DNS1123_SUBDOMAIN_RE = new RegExp(`^${DNS1123_LABEL}(\\.${DNS1123_LABEL})*$`);
const DNS1123_LABEL_RE = new RegExp(`^${DNS1123_LABEL}$`);

/** IsDNS1123Subdomain: at most 253 characters of lowercase labels joined by dots. */
export function isDns1123Subdomain(s: string): boolean {
  return s.length > 0 && s.length <= 253 && DNS1123_SUBDOMAIN_RE.test(s);
}

/** IsDNS1123Label: at most 63 characters. */
export function isDns1123Label(s: string): boolean {
  return s.length > 0 && s.length <= 63 && DNS1123_LABEL_RE.test(s);
}

/** IsWildcardDNS1123Subdomain: `*.` followed by a subdomain (`*`, `*foo.com`, `foo.*.com` are invalid). */
export function isWildcardDns1123Subdomain(s: string): boolean {
  return s.startsWith('*.') && s.length <= 253 && DNS1123_SUBDOMAIN_RE.test(s.slice(2));
}

/** Reason a rule host is invalid, or undefined when valid (networking validation, validateIngressRules). */
export function hostProblem(host: string): string | undefined {
  if (isIP(host) !== 0) return 'must be a DNS name, not an IP address';
  if (host.includes('*')) {
    return isWildcardDns1123Subdomain(host)
      ? undefined
      : "a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain (e.g. '*.example.com')";
  }
  if (host.includes(':')) return 'must not contain a port';
  return isDns1123Subdomain(host)
    ? undefined
    : "must be a lowercase RFC 1123 subdomain: lowercase alphanumerics, '-' or '.', starting and ending with an alphanumeric (e.g. 'example.com')";
}

/** A TLS host may be a subdomain or a wildcard subdomain. */
export function tlsHostProblem(host: string): string | undefined {
  if (isWildcardDns1123Subdomain(host) || isDns1123Subdomain(host)) return undefined;
  return 'must be a DNS-1123 subdomain or a wildcard (e.g. *.example.com)';
}

// k8s networking validation: invalid sequences and suffixes for Exact and Prefix paths.
const INVALID_PATH_SEQUENCES = ['//', '/./', '/../', '%2f', '%2F'];
const INVALID_PATH_SUFFIXES = ['/..', '/.'];

export type PathType = 'Exact' | 'Prefix' | 'ImplementationSpecific';
export const PATH_TYPES: readonly PathType[] = ['Exact', 'Prefix', 'ImplementationSpecific'];

export function pathProblem(path: string, pathType: PathType): string | undefined {
  if (pathType === 'ImplementationSpecific') {
    return path === '' || path.startsWith('/') ? undefined : 'must be an absolute path';
  }
  if (!path.startsWith('/')) return 'must be an absolute path';
  for (const seq of INVALID_PATH_SEQUENCES) if (path.includes(seq)) return `must not contain '${seq}'`;
  for (const suf of INVALID_PATH_SUFFIXES) if (path.endsWith(suf)) return `cannot end with '${suf}'`;
  return undefined;
}

/** IsValidPortName (IANA_SVC_NAME): 1-15 chars, [-a-z0-9], a letter somewhere, no leading/trailing or double '-'. */
export function portNameProblem(name: string): string | undefined {
  if (name.length === 0 || name.length > 15) return 'must be no more than 15 characters';
  if (!/^[-a-z0-9]+$/.test(name)) return "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)";
  if (!/[a-z]/.test(name)) return 'must contain at least one letter (a-z)';
  if (name.includes('--')) return "must not contain consecutive hyphens";
  if (name.startsWith('-') || name.endsWith('-')) return "must not begin or end with a hyphen";
  return undefined;
}

export function isPortNumber(n: unknown): n is number {
  return typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= 65535;
}
