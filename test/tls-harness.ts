// Helpers of the TLS feature tests (issue 5 item 9): certificates and kubernetes.io/tls Secrets, Ingresses
// with spec.tls, Archway with its HTTPS listener, and real TLS clients (node:tls handshakes, HTTPS requests
// with a chosen SNI name and Host, HTTP/2 sessions). Everything binds 127.0.0.1 on ephemeral ports.

import { createPrivateKey, generateKeyPairSync, randomBytes, sign, X509Certificate, type KeyObject } from 'node:crypto';
import { request as httpsRequestRaw, type Agent as HttpsAgent } from 'node:https';
import { connect as h2Connect, constants as h2c, type ClientHttp2Session, type IncomingHttpHeaders as H2Headers, type OutgoingHttpHeaders as H2OutHeaders } from 'node:http2';
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import { connect as tlsConnect, type ConnectionOptions, type PeerCertificate, type DetailedPeerCertificate, type TLSSocket } from 'node:tls';
import { generateCertificate, toPem, type CertificateOptions } from '../src/tls/certificates.ts';
import { bitString, bool, explicit, integer, octets, oid, seq, set, time, tlv, utf8, nullValue } from '../src/tls/der.ts';
import { adminJson, ingress, startArchway, yamlDocs, type Archway, type IngressMeta } from './harness.ts';
import type { ArchwayEvent } from '../src/controller/events.ts';
import type { Diagnostic } from '../src/model/diagnostics.ts';

type Obj = Record<string, unknown>;

// ---------------------------------------------------------------------------------------------
// Certificates

export interface Pem {
  cert: string;
  key: string;
}

/** A certificate for `cn` covering `dnsNames` (default: [cn]); EC P-256 unless keyType says 'rsa'. */
export function makeCert(cn: string, opts: Partial<CertificateOptions> = {}): Pem {
  return generateCertificate({ commonName: cn, dnsNames: [cn], ...opts });
}

/** A CA, an intermediate signed by it, and a leaf signed by the intermediate: cert = leaf + intermediate. */
export function makeChain(cn: string): { leaf: Pem; intermediate: Pem; root: Pem } {
  const root = generateCertificate({ commonName: 'Archway Test Root CA', isCA: true });
  const intermediate = generateCertificate({ commonName: 'Archway Test Intermediate CA', isCA: true, issuer: { ...root, commonName: 'Archway Test Root CA' } });
  // generateCertificate appends the issuer's chain; the intermediate's cert is itself then root, keep only it.
  const intermediateOnly: Pem = { cert: firstPem(intermediate.cert), key: intermediate.key };
  const leaf = generateCertificate({ commonName: cn, dnsNames: [cn], issuer: { ...intermediateOnly, commonName: 'Archway Test Intermediate CA' } });
  return { leaf, intermediate: intermediateOnly, root };
}

export function firstPem(chain: string): string {
  const m = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----\n?/.exec(chain);
  if (!m) throw new Error('no certificate in PEM');
  return m[0].endsWith('\n') ? m[0] : `${m[0]}\n`;
}

/** The key re-encoded: PKCS#1 (RSA only), SEC1 (EC only) or PKCS#8. */
export function convertKey(pem: string, type: 'pkcs1' | 'sec1' | 'pkcs8'): string {
  return createPrivateKey(pem).export({ type, format: 'pem' }) as string;
}

/**
 * A self-signed RSA certificate with a key of `bits` bits (generateCertificate only makes 2048): a
 * well-formed, matching pair that OpenSSL refuses to serve below 2048 bits ("ee key too small").
 */
export function rsaCertWithBits(cn: string, bits: number): Pem {
  const pair = generateKeyPairSync('rsa', { modulusLength: bits });
  return selfSigned(cn, pair.privateKey, pair.publicKey);
}

function selfSigned(cn: string, privateKey: KeyObject, publicKey: KeyObject): Pem {
  const sigAlg = seq(oid('1.2.840.113549.1.1.11'), nullValue());
  const name = seq(set(seq(oid('2.5.4.3'), utf8(cn))));
  const san = seq(oid('2.5.29.17'), octets(seq(tlv(0x82, Buffer.from(cn, 'ascii')))));
  const tbs = seq(
    explicit(0, integer(Buffer.from([2]))),
    integer(Buffer.concat([Buffer.from([1]), randomBytes(15)])),
    sigAlg,
    name,
    seq(time(new Date(Date.now() - 60_000)), time(new Date(Date.now() + 86_400_000))),
    name,
    publicKey.export({ type: 'spki', format: 'der' }),
    explicit(3, seq(san, seq(oid('2.5.29.19'), bool(true), octets(seq())))),
  );
  const der = seq(tbs, sigAlg, bitString(sign('sha256', tbs, privateKey)));
  return { cert: toPem('CERTIFICATE', der), key: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string };
}

export function fingerprintOf(pem: string): string {
  return new X509Certificate(firstPem(pem)).fingerprint256;
}

// ---------------------------------------------------------------------------------------------
// Manifests

export interface SecretOptions {
  namespace?: string;
  /** 'data' (base64, default) or 'stringData' (plain). */
  form?: 'data' | 'stringData';
  type?: string;
}

/** A kubernetes.io/tls Secret holding `pem`. */
export function tlsSecret(name: string, pem: Pem, opts: SecretOptions = {}): Obj {
  const form = opts.form ?? 'data';
  const values = { 'tls.crt': pem.cert, 'tls.key': pem.key };
  const body = form === 'data'
    ? Object.fromEntries(Object.entries(values).map(([k, v]) => [k, Buffer.from(v).toString('base64')]))
    : values;
  return { apiVersion: 'v1', kind: 'Secret', type: opts.type ?? 'kubernetes.io/tls', metadata: { name, namespace: opts.namespace ?? 'default' }, [form]: body };
}

/** A Secret with exactly the given `data` (already base64 or deliberately not). */
export function rawSecret(name: string, data: Record<string, string>, namespace = 'default'): Obj {
  return { apiVersion: 'v1', kind: 'Secret', type: 'kubernetes.io/tls', metadata: { name, namespace }, data };
}

export const b64 = (s: string): string => Buffer.from(s).toString('base64');

export interface TlsEntry {
  hosts?: string[];
  secretName?: string;
}

/** A v1 Ingress with rules and spec.tls entries. */
export function tlsIngress(name: string, rules: Obj[], tls: TlsEntry[], meta: IngressMeta = {}): Obj {
  const o = ingress(name, { rules }, meta);
  (o.spec as Obj).tls = tls;
  return o;
}

// ---------------------------------------------------------------------------------------------
// Archway with HTTPS

export interface TlsArchway extends Archway {
  httpsPort: number;
}

/** startArchway (in-process, --workers 0 unless extraArgs names --workers), with the HTTPS port. */
export async function startTlsArchway(docs: Array<Obj | Obj[]> | Record<string, string>, extraArgs: string[] = []): Promise<TlsArchway> {
  const files = Array.isArray(docs) ? { 'all.yaml': yamlDocs(...docs) } : docs;
  const arch = await startArchway(files, extraArgs);
  return Object.assign(arch, { httpsPort: arch.running.httpsPort });
}

/** Warning events recorded for an object. */
export async function warnings(adminPort: number, kind: string, name: string, namespace = 'default'): Promise<ArchwayEvent[]> {
  const list = await adminJson<{ items: ArchwayEvent[] }>(adminPort, `/api/events?kind=${kind}&namespace=${namespace}&name=${name}`);
  return list.items.filter((e) => e.type === 'Warning');
}

export async function diagnostics(adminPort: number): Promise<Diagnostic[]> {
  const d = await adminJson<Diagnostic[] | { diagnostics: Diagnostic[] }>(adminPort, '/diagnostics');
  return Array.isArray(d) ? d : d.diagnostics;
}

// ---------------------------------------------------------------------------------------------
// TLS clients

export interface PeerCert {
  cn: string;
  /** DNS names of the subjectAltName. */
  san: string[];
  issuerCN: string;
  fingerprint: string;
}

function peerOf(c: PeerCertificate): PeerCert {
  const cn = c.subject?.CN;
  const icn = c.issuer?.CN;
  return {
    cn: Array.isArray(cn) ? cn.join(',') : (cn ?? ''),
    san: (c.subjectaltname ?? '').split(',').map((s) => s.trim()).filter((s) => s.startsWith('DNS:')).map((s) => s.slice(4)),
    issuerCN: Array.isArray(icn) ? icn.join(',') : (icn ?? ''),
    fingerprint: c.fingerprint256,
  };
}

/** The certificates the server sent, leaf first (from the detailed peer certificate's issuer links). */
export function chainOf(socket: TLSSocket): PeerCert[] {
  const out: PeerCert[] = [];
  let c: DetailedPeerCertificate | undefined = socket.getPeerCertificate(true);
  const seen = new Set<string>();
  while (c && c.fingerprint256 && !seen.has(c.fingerprint256)) {
    seen.add(c.fingerprint256);
    out.push(peerOf(c));
    c = c.issuerCertificate;
  }
  return out;
}

export interface Handshake {
  cert: PeerCert;
  protocol: string | null;
  alpn: string | false;
  cipher: string;
  reused: boolean;
  /** The session to resume (TLS 1.3: from the ticket that follows the handshake). */
  session: Buffer | undefined;
  /** The certificates the server sent, leaf first (issuer links of the detailed peer certificate). */
  chain: PeerCert[];
}

export interface HandshakeOptions extends Omit<ConnectionOptions, 'host' | 'port'> {
  /** undefined or '': no SNI. */
  servername?: string;
  timeoutMs?: number;
  /** Wait for a session (ticket) before closing, up to 1 s. */
  wantSession?: boolean;
}

/** One TLS handshake with Archway; resolves with what the client saw, then closes the connection. */
export function handshake(port: number, opts: HandshakeOptions = {}): Promise<Handshake> {
  const { timeoutMs = 5000, wantSession = false, servername, ...rest } = opts;
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: '127.0.0.1', port, rejectUnauthorized: false, ...rest, servername: servername || undefined });
    let session: Buffer | undefined;
    let settle: (() => void) | null = null;
    socket.on('session', (s: Buffer) => {
      session = s;
      settle?.();
    });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no TLS handshake within ${timeoutMs} ms (SNI ${servername ?? 'none'})`));
    }, timeoutMs);
    socket.once('secureConnect', () => {
      const out = {
        cert: peerOf(socket.getPeerCertificate()),
        protocol: socket.getProtocol(),
        alpn: socket.alpnProtocol ?? false,
        cipher: socket.getCipher().name,
        reused: socket.isSessionReused(),
        chain: chainOf(socket),
      };
      let finished = false;
      const finish = () => {
        if (finished) return;
        finished = true;
        clearTimeout(timer);
        const result = { ...out, session: session ?? socket.getSession() };
        // A clean close (close_notify, then FIN once everything was flushed): a destroy() right after a TLS 1.3
        // handshake can drop the client's Finished, leaving the server to wait for its handshake timeout.
        const hard = setTimeout(() => socket.destroy(), 1000);
        socket.once('close', () => {
          clearTimeout(hard);
          resolve(result);
        });
        socket.end();
        socket.resume();
      };
      if (!wantSession || session !== undefined || out.reused) return finish();
      settle = finish;
      setTimeout(finish, 1000).unref();
    });
    socket.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

/** Resolves with the error of a handshake that must fail; rejects when it succeeds. */
export async function handshakeFails(port: number, opts: HandshakeOptions = {}): Promise<Error> {
  let hs: Handshake;
  try {
    hs = await handshake(port, opts);
  } catch (e) {
    return e as Error;
  }
  throw new Error(`the handshake succeeded (${hs.protocol}, ${hs.cipher}) but had to fail`);
}

export interface HttpsRes {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  text: string;
  cert: PeerCert;
  alpn: string | false;
  protocol: string | null;
  reused: boolean;
}

export interface HttpsReqOptions {
  /** SNI name; undefined or '': none. */
  servername?: string;
  /** Host header; default: the SNI name, else 127.0.0.1:port. */
  host?: string;
  method?: string;
  headers?: OutgoingHttpHeaders;
  body?: string | Buffer;
  /** false (default): a fresh connection, closed afterwards. */
  agent?: HttpsAgent | false;
  timeoutMs?: number;
  tls?: Omit<ConnectionOptions, 'host' | 'port' | 'servername'>;
}

/** An HTTPS request with node:https, SNI and Host chosen independently; certificates are not verified. */
export function httpsRequest(port: number, path: string, opts: HttpsReqOptions = {}): Promise<HttpsRes> {
  const timeoutMs = opts.timeoutMs ?? 5000;
  return new Promise((resolve, reject) => {
    const headers: OutgoingHttpHeaders = { ...opts.headers };
    const host = opts.host ?? opts.servername;
    if (host !== undefined && host !== '') headers.host = host;
    const req = httpsRequestRaw(
      {
        host: '127.0.0.1', port, path, method: opts.method ?? 'GET', headers, agent: opts.agent ?? false, timeout: timeoutMs,
        // '' keeps node:https from deriving SNI from the Host header.
        servername: opts.servername ?? '', rejectUnauthorized: false, ...opts.tls,
      },
      (res) => {
        const socket = res.socket as TLSSocket;
        const cert = peerOf(socket.getPeerCertificate());
        const tlsInfo = { alpn: socket.alpnProtocol ?? false, protocol: socket.getProtocol(), reused: socket.isSessionReused() };
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const body = Buffer.concat(chunks);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body, text: body.toString(), cert, ...tlsInfo });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no HTTPS answer for ${path} within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(opts.body);
  });
}

// ---------------------------------------------------------------------------------------------
// HTTP/2

/** An HTTP/2 session over TLS (ALPN h2) with the given SNI name. */
export function h2Session(port: number, servername?: string, timeoutMs = 5000): Promise<ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    const session = h2Connect(`https://127.0.0.1:${port}`, { servername: servername ?? '', rejectUnauthorized: false, ALPNProtocols: ['h2'] });
    const timer = setTimeout(() => {
      session.destroy();
      reject(new Error(`no HTTP/2 session within ${timeoutMs} ms`));
    }, timeoutMs);
    session.once('connect', () => {
      clearTimeout(timer);
      session.off('error', onError);
      session.on('error', () => {});
      resolve(session);
    });
    const onError = (e: Error) => {
      clearTimeout(timer);
      reject(e);
    };
    session.once('error', onError);
  });
}

export interface H2Res {
  status: number;
  headers: H2Headers;
  body: Buffer;
  text: string;
}

export interface H2ReqOptions {
  method?: string;
  authority?: string;
  headers?: H2OutHeaders;
  body?: string | Buffer;
  timeoutMs?: number;
}

/** One request on an HTTP/2 session. */
export function h2Request(session: ClientHttp2Session, path: string, opts: H2ReqOptions = {}): Promise<H2Res> {
  const timeoutMs = opts.timeoutMs ?? 5000;
  return new Promise((resolve, reject) => {
    const headers: H2OutHeaders = { [h2c.HTTP2_HEADER_METHOD]: opts.method ?? 'GET', [h2c.HTTP2_HEADER_PATH]: path, ...opts.headers };
    if (opts.authority !== undefined) headers[h2c.HTTP2_HEADER_AUTHORITY] = opts.authority;
    const stream = session.request(headers, { endStream: opts.body === undefined });
    const timer = setTimeout(() => {
      stream.close(h2c.NGHTTP2_CANCEL);
      reject(new Error(`no HTTP/2 answer for ${path} within ${timeoutMs} ms`));
    }, timeoutMs);
    let resHeaders: H2Headers = {};
    stream.on('response', (h) => (resHeaders = h));
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => {
      clearTimeout(timer);
      const body = Buffer.concat(chunks);
      resolve({ status: Number(resHeaders[h2c.HTTP2_HEADER_STATUS]), headers: resHeaders, body, text: body.toString() });
    });
    stream.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    if (opts.body !== undefined) stream.end(opts.body);
  });
}

export function closeSession(session: ClientHttp2Session): Promise<void> {
  return new Promise((resolve) => {
    if (session.closed || session.destroyed) return resolve();
    const t = setTimeout(() => {
      session.destroy();
      resolve();
    }, 1000);
    session.close(() => {
      clearTimeout(t);
      resolve();
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Waiting and output

export { muteStderr, waitFor } from './live-harness.ts';

