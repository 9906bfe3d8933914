// TLS material from `kubernetes.io/tls` Secrets and the checks a user needs to hear about
// (INGRESS-SEMANTICS.md "TLS"; issue 5 items 1, 2 and 5). Unparsable or mismatched material never
// throws: it is reported, and the host falls back to the default certificate.

import { createHash, createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { createSecureContext } from 'node:tls';
import { asObject, asString, type ObjectView, type StoredObject } from './objects.ts';

export interface CertificateInfo {
  subject: string;
  issuer: string;
  /** DNS names the certificate covers (subjectAltName, else the subject CN). */
  dnsNames: string[];
  notBefore: string;
  notAfter: string;
  fingerprint256: string;
}

export interface TlsMaterial {
  /** Stable id: `namespace/name@content-hash`, so a rotated Secret is a new id. */
  id: string;
  /** PEM chain, leaf first. */
  cert: string;
  /** PEM private key (PKCS#1, PKCS#8 or SEC1 as supplied). */
  key: string;
  info: CertificateInfo;
}

export type SecretResult = { material: TlsMaterial } | { problem: { code: string; message: string } };

/** Reads and checks one TLS Secret: present, has tls.crt and tls.key, both parse, and the key matches. */
export function readTlsSecret(store: ObjectView, namespace: string, name: string): SecretResult {
  const secret = store.get('Secret', namespace, name);
  if (!secret) return { problem: { code: 'SECRET_NOT_FOUND', message: `Secret ${namespace}/${name} not found` } };
  // Pure in the stored Secret, which rebuilds see unchanged until its file changes: decoded once.
  let r = secretResults.get(secret);
  if (r === undefined) secretResults.set(secret, (r = readStoredSecret(secret, namespace, name)));
  return r;
}

const secretResults = new WeakMap<StoredObject, SecretResult>();

function readStoredSecret(secret: StoredObject, namespace: string, name: string): SecretResult {
  const fail = (code: string, message: string): SecretResult => ({ problem: { code, message } });
  const type = asString(secret.raw.type);
  const value = (k: string) => secretValue(secret, k);
  const certPem = value('tls.crt');
  const keyPem = value('tls.key');
  if (certPem === undefined || keyPem === undefined) {
    return fail('SECRET_MISSING_KEYS', `Secret ${namespace}/${name}${type && type !== 'kubernetes.io/tls' ? ` (type ${type})` : ''} must have data "tls.crt" and "tls.key"`);
  }
  if (certPem.startsWith('\u0000') || keyPem.startsWith('\u0000')) return fail('SECRET_INVALID', `Secret ${namespace}/${name}: data is not valid base64`);
  const checked = checkPem(certPem, keyPem);
  if ('code' in checked) return fail(checked.code, `Secret ${namespace}/${name}: ${checked.detail}`);
  return { material: { id: `${namespace}/${name}@${checked.hash}`, cert: certPem, key: keyPem, info: checked.info } };
}

type PemCheck = { hash: string; info: CertificateInfo } | { code: string; detail: string };

/**
 * Parsing and checking key material costs about a millisecond (X.509, key, a trial secure context);
 * a rebuild of 10,000 Ingresses must not redo it for every unchanged Secret. Pure, so memoised by
 * content, with a bound.
 */
const pemChecks = new Map<string, PemCheck>();
const MAX_PEM_CHECKS = 4096;

function checkPem(certPem: string, keyPem: string): PemCheck {
  const memoKey = `${certPem}\u0000${keyPem}`;
  let r = pemChecks.get(memoKey);
  if (r === undefined) {
    r = checkPemUncached(certPem, keyPem);
    if (pemChecks.size >= MAX_PEM_CHECKS) pemChecks.delete(pemChecks.keys().next().value!);
    pemChecks.set(memoKey, r);
  }
  return r;
}

function checkPemUncached(certPem: string, keyPem: string): PemCheck {
  let chain: X509Certificate[];
  try {
    chain = splitPem(certPem, 'CERTIFICATE').map((b) => new X509Certificate(b));
    if (chain.length === 0) throw new Error('no PEM CERTIFICATE block');
  } catch (e) {
    return { code: 'CERT_INVALID', detail: `tls.crt is not a usable certificate: ${(e as Error).message}` };
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(keyPem);
  } catch (e) {
    return { code: 'KEY_INVALID', detail: `tls.key is not a usable private key (PKCS#1, PKCS#8 or SEC1 PEM): ${(e as Error).message}` };
  }
  const leaf = chain[0];
  if (!leaf.checkPrivateKey(key)) return { code: 'CERT_KEY_MISMATCH', detail: 'tls.key does not match the certificate in tls.crt' };
  try {
    // Parsable is not servable: OpenSSL's security level refuses e.g. RSA keys under 2048 bits.
    createSecureContext({ cert: certPem, key: keyPem });
  } catch (e) {
    return { code: 'CERT_UNUSABLE', detail: `OpenSSL will not serve this certificate and key: ${(e as Error).message}` };
  }
  return { hash: createHash('sha256').update(certPem).update('\n').update(keyPem).digest('hex').slice(0, 12), info: certificateInfo(leaf) };
}

export function certificateInfo(c: X509Certificate): CertificateInfo {
  const san = (c.subjectAltName ?? '').split(',').map((s) => s.trim()).filter((s) => s.startsWith('DNS:')).map((s) => s.slice(4).toLowerCase());
  const cn = /(?:^|\n)CN=([^\n]+)/.exec(c.subject)?.[1];
  return {
    subject: c.subject.replace(/\n/g, ', '),
    issuer: c.issuer.replace(/\n/g, ', '),
    dnsNames: san.length > 0 ? san : cn ? [cn.toLowerCase()] : [],
    notBefore: new Date(c.validFrom).toISOString(),
    notAfter: new Date(c.validTo).toISOString(),
    fingerprint256: c.fingerprint256,
  };
}

/** Does a certificate cover `host` (`*.foo.com` allowed on either side, one label, RFC 6125 §6.4.3)? */
export function certificateCovers(info: CertificateInfo, host: string): boolean {
  for (const name of info.dnsNames) {
    if (name === host) return true;
    if (name.startsWith('*.') && !host.startsWith('*.')) {
      const dot = host.indexOf('.');
      if (dot > 0 && host.slice(dot + 1) === name.slice(2)) return true;
    }
  }
  return false;
}

/** Why a certificate is not valid at `now`, if it is not. */
export function validityProblem(info: CertificateInfo, now: Date): { code: string; message: string } | undefined {
  if (now < new Date(info.notBefore)) return { code: 'CERT_NOT_YET_VALID', message: `certificate is not valid before ${info.notBefore}` };
  if (now > new Date(info.notAfter)) return { code: 'CERT_EXPIRED', message: `certificate expired at ${info.notAfter}` };
  return undefined;
}

/**
 * One key of a Secret as text: `stringData` (the write-only plain form the API server merges over
 * `data`), else base64 `data`; undefined when absent, '\u0000invalid-base64' when not base64.
 */
function secretValue(secret: StoredObject, k: string): string | undefined {
  const plain = asString(asObject(secret.raw.stringData)?.[k]);
  if (plain !== undefined) return plain;
  const b64 = asString(asObject(secret.raw.data)?.[k]);
  if (b64 === undefined) return undefined;
  const compact = b64.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(compact)) return '\u0000invalid-base64';
  return Buffer.from(compact, 'base64').toString('utf8');
}

/**
 * The CA bundle in a Secret's `ca.crt` (ingress-nginx's proxy-ssl-secret convention): the PEM
 * CERTIFICATE blocks, each checked to parse, joined by newlines; or why it cannot be used.
 */
export function readCaSecret(store: ObjectView, namespace: string, name: string): { pem: string } | { problem: string } {
  const secret = store.get('Secret', namespace, name);
  if (!secret) return { problem: `Secret ${namespace}/${name} not found` };
  const text = secretValue(secret, 'ca.crt');
  if (text === undefined) return { problem: `Secret ${namespace}/${name} has no "ca.crt"` };
  if (text.startsWith('\u0000')) return { problem: `Secret ${namespace}/${name}: "ca.crt" is not valid base64` };
  const blocks = splitPem(text, 'CERTIFICATE');
  if (blocks.length === 0) return { problem: `Secret ${namespace}/${name}: "ca.crt" has no PEM CERTIFICATE block` };
  for (const [i, b] of blocks.entries()) {
    try {
      new X509Certificate(b);
    } catch (e) {
      return { problem: `Secret ${namespace}/${name}: certificate ${i + 1} in "ca.crt" does not parse: ${(e as Error).message}` };
    }
  }
  return { pem: blocks.join('\n') + '\n' };
}

function splitPem(text: string, label: string): string[] {
  const re = new RegExp(`-----BEGIN ${label}-----[\\s\\S]*?-----END ${label}-----`, 'g');
  return text.match(re) ?? [];
}
