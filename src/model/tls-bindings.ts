// Which certificate serves which host name (SNI), and which hosts are TLS hosts (for redirects).
// INGRESS-SEMANTICS.md "TLS"; issue 5 items 1, 2 and 5. Pure: `now` is passed in.

import type { Diagnostic } from './diagnostics.ts';
import { describeObject, type ObjectView } from './objects.ts';
import type { ServedIngress } from './build.ts';
import { certificateCovers, readTlsSecret, validityProblem, type TlsMaterial } from './tls.ts';

export interface SecretRef {
  namespace: string;
  name: string;
}

export interface TlsOptions {
  /** --default-ssl-certificate. */
  defaultSslCertificate?: SecretRef;
  /** For expiry checks; none when absent (keeps golden builds time-independent). */
  now?: Date;
}

/** One spec.tls entry as resolved, for `describe`. */
export interface TlsEntryView {
  hosts: string[];
  secretName: string;
  certificate?: TlsMaterial['info'];
  problem?: string;
}

export interface TlsModel {
  certificates: Map<string, TlsMaterial>;
  /** host (precise or `*.x`) -> certificate id, '' meaning the default certificate. */
  hosts: Map<string, string>;
  /** --default-ssl-certificate when usable. */
  defaultCertificate: string | null;
  /** per Ingress `namespace/name`. */
  entries: Map<string, TlsEntryView[]>;
}

export function bindTls(served: readonly ServedIngress[], store: ObjectView, opts: TlsOptions, diags: Diagnostic[]): TlsModel {
  const certificates = new Map<string, TlsMaterial>();
  const hosts = new Map<string, string>();
  const owners = new Map<string, string>();
  const entries = new Map<string, TlsEntryView[]>();
  const secrets = new Map<string, ReturnType<typeof readTlsSecret>>();
  const secretOf = (ns: string, name: string) => {
    const key = `${ns}/${name}`;
    let r = secrets.get(key);
    if (!r) secrets.set(key, (r = readTlsSecret(store, ns, name)));
    return r;
  };

  let defaultCertificate: string | null = null;
  if (opts.defaultSslCertificate) {
    const { namespace, name } = opts.defaultSslCertificate;
    const r = secretOf(namespace, name);
    if ('problem' in r) {
      diags.push({ code: r.problem.code, severity: 'warning', message: `--default-ssl-certificate: ${r.problem.message}; using the self-signed default certificate`, object: `Secret ${namespace}/${name}` });
    } else {
      certificates.set(r.material.id, r.material);
      defaultCertificate = r.material.id;
      const v = opts.now && validityProblem(r.material.info, opts.now);
      if (v) diags.push({ code: v.code, severity: 'warning', message: `--default-ssl-certificate: ${v.message}`, object: `Secret ${namespace}/${name}` });
    }
  }

  for (const { ingress: ing } of served) {
    if (ing.tls.length === 0) continue; // most Ingresses: nothing to bind (and 10,000 of them per build)
    const ingName = `${ing.namespace}/${ing.name}`;
    const where = { file: ing.source.origin?.file, line: ing.source.origin?.line, object: describeObject(ing.source) };
    const views: TlsEntryView[] = [];
    const ruleHosts = [...new Set(ing.rules.map((r) => r.host).filter((h) => h !== ''))];
    for (const entry of ing.tls) {
      // An entry without hosts is a default certificate for this Ingress's own rules.
      const entryHosts = entry.hosts.length > 0 ? entry.hosts : ruleHosts;
      const view: TlsEntryView = { hosts: entryHosts, secretName: entry.secretName };
      views.push(view);
      let certId = '';
      if (entry.secretName !== '') {
        const r = secretOf(ing.namespace, entry.secretName);
        if ('problem' in r) {
          view.problem = r.problem.message;
          diags.push({ code: r.problem.code, severity: 'warning', message: `${r.problem.message}; ${entryHosts.join(', ') || 'its hosts'} get the default certificate`, ...where, field: `${entry.field}.secretName` });
        } else {
          certId = r.material.id;
          certificates.set(certId, r.material);
          view.certificate = r.material.info;
          const v = opts.now && validityProblem(r.material.info, opts.now);
          if (v) diags.push({ code: v.code, severity: 'warning', message: `Secret ${ing.namespace}/${entry.secretName}: ${v.message}`, ...where, field: `${entry.field}.secretName` });
          for (const h of entryHosts) {
            if (!certificateCovers(r.material.info, h)) {
              diags.push({
                code: 'CERT_HOST_MISMATCH', severity: 'warning',
                message: `the certificate in Secret ${ing.namespace}/${entry.secretName} (${r.material.info.dnsNames.join(', ') || 'no DNS names'}) does not cover ${h}`,
                ...where, field: `${entry.field}.hosts`,
              });
            }
          }
        }
      }
      for (const h of entryHosts) {
        const owner = owners.get(h);
        if (owner === undefined) {
          owners.set(h, ingName);
          hosts.set(h, certId);
        } else if (owner !== ingName && hosts.get(h) !== certId) {
          diags.push({
            code: 'TLS_HOST_CONFLICT', severity: 'warning',
            message: `host ${h} already gets its certificate from the older Ingress ${owner}; this entry is ignored for it`,
            ...where, field: `${entry.field}.hosts`,
          });
        }
      }
    }
    if (views.length > 0) entries.set(ingName, views);
  }
  return { certificates, hosts, defaultCertificate, entries };
}
