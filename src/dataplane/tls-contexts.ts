// Certificates by SNI for the HTTPS listener, from the routing table's plain TLS section. Secure
// contexts are cached by certificate id (content-addressed), so a table swap creates contexts only for
// new or rotated certificates, and new handshakes use them at once (issue 5 item 6).

import { createSecureContext, type SecureContext, type SecureContextOptions } from 'node:tls';
import type { TlsTable } from '../snapshot/table.ts';

/** Mozilla "intermediate" (TLS 1.2 suites; TLS 1.3 suites are OpenSSL's defaults). Issue 5 item 7. */
export const INTERMEDIATE_CIPHERS = [
  'ECDHE-ECDSA-AES128-GCM-SHA256', 'ECDHE-RSA-AES128-GCM-SHA256', 'ECDHE-ECDSA-AES256-GCM-SHA384', 'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305', 'ECDHE-RSA-CHACHA20-POLY1305', 'DHE-RSA-AES128-GCM-SHA256', 'DHE-RSA-AES256-GCM-SHA384',
  'DHE-RSA-CHACHA20-POLY1305',
].join(':');

export const TLS_BASE_OPTIONS: SecureContextOptions = {
  minVersion: 'TLSv1.2',
  ciphers: INTERMEDIATE_CIPHERS,
  honorCipherOrder: false,
  ecdhCurve: 'X25519:P-256:P-384',
};

export interface PemPair {
  cert: string;
  key: string;
}

export class TlsContexts {
  #fallback: PemPair;
  #cache = new Map<string, SecureContext>();
  #hosts: Record<string, string> = {};
  #wildcards: Record<string, string> = {};
  #defaultId: string | null = null;
  #defaultContext: SecureContext;
  /** Invalid material that slipped past the model: the id and the reason, for logs. */
  readonly failures = new Map<string, string>();

  constructor(fallback: PemPair) {
    this.#fallback = fallback;
    this.#defaultContext = createSecureContext({ ...TLS_BASE_OPTIONS, cert: fallback.cert, key: fallback.key });
  }

  /** The default certificate's options (for the server's own context: clients without SNI). */
  defaultOptions(): PemPair {
    return this.#fallback;
  }

  update(tls: TlsTable): void {
    const next = new Map<string, SecureContext>();
    for (const [id, pem] of Object.entries(tls.certificates)) {
      const ctx = this.#cache.get(id) ?? this.#create(id, pem);
      if (ctx) next.set(id, ctx);
    }
    this.#cache = next;
    this.#hosts = tls.hosts;
    this.#wildcards = tls.wildcards;
    this.#defaultId = tls.defaultCertificate;
    const d = this.#defaultId === null ? undefined : next.get(this.#defaultId);
    this.#defaultContext = d ?? createSecureContext({ ...TLS_BASE_OPTIONS, cert: this.#fallback.cert, key: this.#fallback.key });
  }

  /** The certificate for an SNI name: precise, then wildcard (one label), then the default. */
  contextFor(servername: string): SecureContext {
    const name = servername.toLowerCase();
    let id = this.#hosts[name];
    if (id === undefined) {
      const dot = name.indexOf('.');
      if (dot > 0) id = this.#wildcards[name.slice(dot + 1)];
    }
    if (id === undefined || id === '') return this.#defaultContext;
    return this.#cache.get(id) ?? this.#defaultContext;
  }

  get defaultContext(): SecureContext {
    return this.#defaultContext;
  }

  #create(id: string, pem: { cert: string; key: string }): SecureContext | undefined {
    try {
      return createSecureContext({ ...TLS_BASE_OPTIONS, cert: pem.cert, key: pem.key });
    } catch (e) {
      this.failures.set(id, (e as Error).message);
      return undefined;
    }
  }
}
