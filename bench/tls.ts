// TLS for the HTTPS scenarios (e, f): one ECDSA P-256 certificate for bench.local per run, served
// by both proxies; the wrk script that gives wrk the SNI name without touching /etc/hosts; and the
// checks made before each TLS measurement (right certificate, right body, TLS version).

import { X509Certificate } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import https from 'node:https';
import { join } from 'node:path';
import tls from 'node:tls';
import { generateCertificate } from '../src/tls/certificates.ts';
import { sTimeRequest } from './handshakes.ts';
import { SMALL_BODY } from './nginx.ts';
import { sleep } from './processes.ts';

/** The SNI name and Host of the HTTPS scenarios. Never resolved through DNS or /etc/hosts. */
export const TLS_HOST = 'bench.local';
/** The kubernetes.io/tls Secret in Archway's manifests (namespace bench, like the backend). */
export const TLS_SECRET = { namespace: 'bench', name: 'bench-tls' } as const;

export interface BenchTls {
  certPem: string;
  keyPem: string;
  /** PEM files for nginx (the key readable by root only; nginx's master reads it before forking). */
  certFile: string;
  keyFile: string;
  /** SHA-256 fingerprint, as node:crypto and getPeerCertificate() spell it. */
  fingerprint256: string;
  /** The wrk script for scenario e (see wrkScript). */
  wrkScript: string;
}

/**
 * wrk takes the SNI name (and the Host header) from its URL's host and resolves that host by
 * calling wrk.resolve() in its Lua state before any connection. Overriding wrk.resolve to look up
 * 127.0.0.1 keeps `https://bench.local:PORT/` in the URL, so SNI and Host are bench.local, while
 * connecting to loopback: no /etc/hosts edit on a shared machine, nothing to restore.
 */
const WRK_SCRIPT = `-- archway bench: connect to 127.0.0.1 whatever the URL's host (SNI and Host stay that host)
wrk.resolve = function(host, service)
  wrk.addrs = wrk.lookup("127.0.0.1", service)
end
`;

/** Generate the run's certificate and write the PEM files and the wrk script into `dir`. */
export function createBenchTls(dir: string): BenchTls {
  const { cert, key } = generateCertificate({ commonName: TLS_HOST, dnsNames: [TLS_HOST] });
  const certFile = join(dir, 'bench-tls.crt');
  const keyFile = join(dir, 'bench-tls.key');
  const wrkScript = join(dir, 'wrk-resolve-loopback.lua');
  writeFileSync(certFile, cert, { mode: 0o644 });
  writeFileSync(keyFile, key, { mode: 0o600 });
  writeFileSync(wrkScript, WRK_SCRIPT, { mode: 0o644 });
  return { certPem: cert, keyPem: key, certFile, keyFile, fingerprint256: new X509Certificate(cert).fingerprint256, wrkScript };
}

export interface TlsCheck {
  /** As negotiated by a Node client with default settings: TLSv1.3 expected. */
  protocol: string;
  cipher: string;
  /** Without SNI (scenario f): bytes of the whole response (head + body) to s_time's request. */
  responseBytes?: number;
}

interface Exchange {
  status: number;
  body: Buffer;
  /** Raw bytes on the wire, head included (raw exchanges only). */
  responseBytes?: number;
  fingerprint256: string | undefined;
  protocol: string;
  cipher: string;
}

function describe(body: Buffer): string {
  return `${body.length} bytes: ${JSON.stringify(body.subarray(0, 80).toString('utf8'))}`;
}

/**
 * GET / over TLS with SNI and Host bench.local, HTTP/1.1, a fresh connection, no ALPN: scenario
 * e's request as wrk sends it.
 */
function getWithSni(port: number, timeoutMs: number): Promise<Exchange> {
  return new Promise((resolve, reject) => {
    const request = https.get(
      {
        host: '127.0.0.1',
        port,
        path: '/',
        servername: TLS_HOST,
        headers: { host: TLS_HOST },
        agent: false,
        rejectUnauthorized: false, // self-signed: checked by fingerprint below
        timeout: timeoutMs,
      },
      (response) => {
        const socket = response.socket as tls.TLSSocket;
        const fingerprint256 = socket.getPeerCertificate().fingerprint256;
        const protocol = socket.getProtocol() ?? '?';
        const cipher = socket.getCipher().standardName;
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          const body = Buffer.concat(chunks);
          resolve({ status: response.statusCode ?? 0, body, fingerprint256, protocol, cipher });
        });
        response.on('error', reject);
      },
    );
    request.on('timeout', () => request.destroy(new Error(`HTTPS GET timed out after ${timeoutMs} ms`)));
    request.on('error', reject);
  });
}

/**
 * Exactly what `openssl s_time` sends in scenario f: no SNI (127.0.0.1 is an address, so neither
 * Node nor s_time sends one), TLS 1.3, `GET / HTTP/1.1` with Host bench.local and
 * `Connection: close` (see sTimeWww); read until the server closes.
 */
function getLikeSTime(port: number, timeoutMs: number): Promise<Exchange> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let fingerprint256: string | undefined;
    let protocol = '?';
    let cipher = '?';
    const socket = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false, minVersion: 'TLSv1.3' }, () => {
      fingerprint256 = socket.getPeerCertificate().fingerprint256;
      protocol = socket.getProtocol() ?? '?';
      cipher = socket.getCipher().standardName;
      socket.write(sTimeRequest(TLS_HOST));
    });
    const timer = setTimeout(() => socket.destroy(new Error(`no complete response after ${timeoutMs} ms`)), timeoutMs);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    socket.on('end', () => {
      clearTimeout(timer);
      const raw = Buffer.concat(chunks);
      const split = raw.indexOf('\r\n\r\n');
      const statusLine = raw.subarray(0, Math.max(0, raw.indexOf('\r\n'))).toString('latin1');
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1] ?? 0);
      const body = split < 0 ? Buffer.alloc(0) : raw.subarray(split + 4);
      socket.destroy();
      resolve({ status, body, responseBytes: raw.length, fingerprint256, protocol, cipher });
    });
  });
}

/**
 * Before a TLS measurement: the proxy on `port` serves the run's certificate (by SNI for
 * `sni`, as its default certificate otherwise), answers 200 with the exact 100-byte body, and
 * negotiates TLS 1.3. Retried for up to 5 s.
 */
export async function verifyTls(port: number, material: BenchTls, sni: boolean): Promise<TlsCheck> {
  const deadline = Date.now() + 5000;
  const what = sni ? `GET https://${TLS_HOST}/ (SNI ${TLS_HOST})` : `GET / (Host ${TLS_HOST}, Connection: close) over TLS without SNI`;
  let problem = '';
  for (;;) {
    try {
      const r = sni ? await getWithSni(port, 5000) : await getLikeSTime(port, 5000);
      if (r.fingerprint256 !== material.fingerprint256) {
        problem = `${what}: served a certificate other than the run's ${TLS_HOST} certificate ` +
          `(${r.fingerprint256 ?? 'none'}); ${sni ? 'SNI selection' : 'the default certificate'} is not set up`;
      } else if (r.status !== 200 || r.body.toString('latin1') !== SMALL_BODY) {
        problem = `${what} -> ${r.status}, ${describe(r.body)} (want 200 + the 100-byte body)`;
      } else if (r.protocol !== 'TLSv1.3') {
        problem = `${what}: negotiated ${r.protocol}, want TLSv1.3`;
      } else {
        return { protocol: r.protocol, cipher: r.cipher, responseBytes: sni ? undefined : r.responseBytes };
      }
    } catch (error) {
      problem = `${what}: ${(error as Error).message}`;
    }
    if (Date.now() > deadline) throw new Error(`TLS verification failed: ${problem}`);
    await sleep(200);
  }
}
