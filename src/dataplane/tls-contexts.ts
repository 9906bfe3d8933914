// Certificates by SNI for the HTTPS listener, from the routing table's plain TLS section. Secure
// contexts are made on the first handshake that needs one and cached by content (certificate ids are
// `namespace/secret@content-hash`): a table swap creates nothing, rotated certificates get a new
// context at their next handshake (issue 5 item 6), Secrets carrying the same certificate (a wildcard
// copied into many namespaces) share one, and certificates no client asks for cost no memory (10,000
// Ingresses with 1,000 Secrets: 8 MB per worker; issue 4 item 10).

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
  #certificates: TlsTable['certificates'] = {};
  /** By content hash (the part of the id after '@'); `null`: the material failed, use the default. */
  #cache = new Map<string, SecureContext | null>();
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
    this.#certificates = tls.certificates;
    // Contexts of certificates no longer in the table go; the others stay for their next handshake.
    const present = new Set<string>();
    for (const id in tls.certificates) present.add(contentKey(id));
    for (const key of this.#cache.keys()) if (!present.has(key)) this.#cache.delete(key);
    this.#hosts = tls.hosts;
    this.#wildcards = tls.wildcards;
    this.#defaultId = tls.defaultCertificate;
    // The default is made now: clients without SNI get it, and a bad one must show at once.
    const d = this.#defaultId === null ? null : this.#context(this.#defaultId);
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
    return this.#context(id) ?? this.#defaultContext;
  }

  /** Secure contexts made so far (tests, stats). */
  get createdCount(): number {
    return this.#cache.size;
  }

  #context(id: string): SecureContext | null {
    const key = contentKey(id);
    let ctx = this.#cache.get(key);
    if (ctx === undefined) {
      const pem = this.#certificates[id];
      ctx = pem === undefined ? null : this.#create(id, pem);
      this.#cache.set(key, ctx);
    }
    return ctx;
  }

  get defaultContext(): SecureContext {
    return this.#defaultContext;
  }

  #create(id: string, pem: { cert: string; key: string }): SecureContext | null {
    try {
      return createSecureContext({ ...TLS_BASE_OPTIONS, cert: pem.cert, key: pem.key });
    } catch (e) {
      this.failures.set(id, (e as Error).message);
      return null;
    }
  }
}

/** `namespace/secret@hash` -> `hash`: equal material, one context. An id without '@' is its own key. */
function contentKey(id: string): string {
  const at = id.lastIndexOf('@');
  return at < 0 ? id : id.slice(at + 1);
}
