// X.509 certificates Archway makes itself: the self-signed default certificate generated at start
// (INGRESS-SEMANTICS.md "TLS"), the demo certificate of `npm start`, and certificates for tests.
// Keys come from node:crypto; the certificate structure is DER built by der.ts; no dependency.

import { createPrivateKey, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { bitString, bool, explicit, integer, nullValue, octets, oid, seq, set, time, tlv, utf8 } from './der.ts';

export interface GeneratedCertificate {
  /** PEM certificate (leaf first, then the issuer's certificate when not self-signed). */
  cert: string;
  /** PEM PKCS#8 private key. */
  key: string;
}

export interface CertificateOptions {
  commonName: string;
  /** DNS names for subjectAltName (may include wildcards such as *.example.com). */
  dnsNames?: string[];
  notBefore?: Date;
  notAfter?: Date;
  /** 'ec' (P-256, default) or 'rsa' (2048 bits). */
  keyType?: 'ec' | 'rsa';
  /** Sign with this CA instead of self-signing; the CA's certificate is appended to the chain. */
  issuer?: { cert: string; key: string; commonName: string };
  /** Make a CA certificate (basicConstraints cA=true). */
  isCA?: boolean;
}

const OID_EC_SHA256 = '1.2.840.10045.4.3.2';
const OID_RSA_SHA256 = '1.2.840.113549.1.1.11';

export function generateCertificate(opts: CertificateOptions): GeneratedCertificate {
  const keyType = opts.keyType ?? 'ec';
  const pair = keyType === 'ec'
    ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
    : generateKeyPairSync('rsa', { modulusLength: 2048 });
  const signer = opts.issuer ? createPrivateKey(opts.issuer.key) : pair.privateKey;
  const sigAlg = algorithmFor(signer);
  const notBefore = opts.notBefore ?? new Date(Date.now() - 60_000);
  const notAfter = opts.notAfter ?? new Date(Date.now() + 365 * 24 * 3600_000);
  const extensions: Buffer[] = [];
  if (opts.dnsNames && opts.dnsNames.length > 0) {
    // subjectAltName: GeneralNames of dNSName [2] IA5String
    const names = Buffer.concat(opts.dnsNames.map((n) => tlv(0x82, Buffer.from(n, 'ascii'))));
    extensions.push(seq(oid('2.5.29.17'), octets(seq(names))));
  }
  extensions.push(seq(oid('2.5.29.19'), bool(true), octets(opts.isCA ? seq(bool(true)) : seq())));
  if (!opts.isCA) extensions.push(seq(oid('2.5.29.37'), octets(seq(oid('1.3.6.1.5.5.7.3.1'))))); // extKeyUsage serverAuth
  const tbs = seq(
    explicit(0, integer(Buffer.from([2]))), // v3
    integer(Buffer.concat([Buffer.from([0x01]), randomBytes(15)])),
    sigAlg,
    name(opts.issuer?.commonName ?? opts.commonName),
    seq(time(notBefore), time(notAfter)),
    name(opts.commonName),
    pair.publicKey.export({ type: 'spki', format: 'der' }),
    explicit(3, seq(...extensions)),
  );
  const signature = sign('sha256', tbs, signer);
  const der = seq(tbs, sigAlg, bitString(signature));
  const cert = toPem('CERTIFICATE', der) + (opts.issuer ? opts.issuer.cert : '');
  const key = pair.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  return { cert, key };
}

function algorithmFor(key: KeyObject): Buffer {
  return key.asymmetricKeyType === 'ec' ? seq(oid(OID_EC_SHA256)) : seq(oid(OID_RSA_SHA256), nullValue());
}

function name(commonName: string): Buffer {
  return seq(set(seq(oid('2.5.4.3'), utf8(commonName))));
}

export function toPem(label: string, der: Buffer): string {
  const b64 = der.toString('base64').match(/.{1,64}/g)!.join('\n');
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}
