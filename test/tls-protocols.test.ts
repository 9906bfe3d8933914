// Issue 5 item 7: TLS 1.2 and 1.3 only, Mozilla "intermediate" suites, session resumption (TLS 1.2 session
// tickets and TLS 1.3 PSK tickets) within one process and across worker processes, and across a table swap.
// Refusals are shown against a control server that accepts the very same client, so they prove the
// server refused, not that the client could not try. curl (OpenSSL + nghttp2) as a second real client.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createServer as createTlsServer, type Server as TlsServer } from 'node:tls';
import type { EchoServer } from '../src/demo/echo-server.ts';
import { backend, closeAll, echoes, request, rule, service, yamlDocs } from './harness.ts';
import {
  handshake, handshakeFails, httpsRequest, makeCert, muteStderr, startTlsArchway, tlsIngress, tlsSecret, waitFor,
  type HandshakeOptions, type TlsArchway,
} from './tls-harness.ts';

const stderr = muteStderr();
after(() => stderr.restore());

const certs = { rsa: makeCert('rsa.proto.test', { keyType: 'rsa' }), ec: makeCert('ec.proto.test') };

/** A permissive TLS server (TLS 1.0+, every suite at security level 0) with the RSA certificate: the control. */
async function controlServer(): Promise<{ port: number; close(): Promise<void> }> {
  const server: TlsServer = createTlsServer({ ...certs.rsa, minVersion: 'TLSv1', ciphers: 'ALL:@SECLEVEL=0' }, (s) => s.end());
  server.on('tlsClientError', () => {});
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { port: (server.address() as { port: number }).port, close: () => new Promise((r) => server.close(() => r())) };
}

/** Old or weak clients. Each is accepted by the control server. */
const LEGACY: Array<[string, HandshakeOptions]> = [
  ['TLS 1.1', { minVersion: 'TLSv1.1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' }],
  ['TLS 1.0', { minVersion: 'TLSv1', maxVersion: 'TLSv1', ciphers: 'DEFAULT@SECLEVEL=0' }],
  ['TLS 1.2 with static RSA key exchange only', { maxVersion: 'TLSv1.2', ciphers: 'AES128-GCM-SHA256:AES256-GCM-SHA384' }],
  ['TLS 1.2 with CBC-SHA1 suites only', { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-RSA-AES128-SHA:ECDHE-RSA-AES256-SHA' }],
];

function docs(be: Record<string, EchoServer>): Array<Record<string, unknown> | Array<Record<string, unknown>>> {
  return [
    service('p', be.p.port),
    tlsSecret('rsa', certs.rsa), tlsSecret('ec', certs.ec),
    tlsIngress('proto', [rule('rsa.proto.test', [['/', 'Prefix', backend('p')]]), rule('ec.proto.test', [['/', 'Prefix', backend('p')]])], [
      { hosts: ['rsa.proto.test'], secretName: 'rsa' }, { hosts: ['ec.proto.test'], secretName: 'ec' },
    ]),
  ];
}

/** A first handshake, then `n` more offering its session: how many resumed. */
async function resumptions(port: number, servername: string, version: 'TLSv1.2' | 'TLSv1.3', n: number): Promise<{ first: boolean; reused: number }> {
  const v = { minVersion: version, maxVersion: version };
  const first = await handshake(port, { servername, ...v, wantSession: true });
  assert.equal(first.protocol, version);
  assert.ok(first.session, 'the server issued a session');
  let reused = 0;
  for (let i = 0; i < n; i++) {
    const hs = await handshake(port, { servername, ...v, session: first.session });
    // A resumed handshake sends no certificate; a full one must send the right one.
    if (hs.reused) reused++;
    else assert.equal(hs.cert.cn, servername);
  }
  return { first: first.reused, reused };
}

let be: Record<string, EchoServer>;
before(async () => {
  be = await echoes('p');
});
after(() => closeAll(be));

function protocolSuite(mode: string, extraArgs: string[]): void {
  describe(`TLS versions, suites and resumption (${mode})`, { timeout: 30_000 }, () => {
    let arch: TlsArchway;
    let control: Awaited<ReturnType<typeof controlServer>>;

    before(async () => {
      arch = await startTlsArchway(docs(be), extraArgs);
      control = await controlServer();
    });
    after(async () => {
      await arch?.stop();
      await control?.close();
    });

    test('TLS 1.3 by default, TLS 1.2 on request, with ECDHE AEAD suites for RSA and ECDSA certificates', async () => {
      for (const host of ['rsa.proto.test', 'ec.proto.test']) {
        const v13 = await handshake(arch.httpsPort, { servername: host });
        assert.equal(v13.protocol, 'TLSv1.3');
        assert.match(v13.cipher, /^TLS_(AES_128_GCM|AES_256_GCM|CHACHA20_POLY1305)_SHA\d+$/);
        const v12 = await handshake(arch.httpsPort, { servername: host, maxVersion: 'TLSv1.2' });
        assert.equal(v12.protocol, 'TLSv1.2');
        assert.match(v12.cipher, /^ECDHE-(RSA|ECDSA)-(AES128-GCM-SHA256|AES256-GCM-SHA384|CHACHA20-POLY1305)$/);
        const res = await httpsRequest(arch.httpsPort, '/', { servername: host, tls: { maxVersion: 'TLSv1.2' } });
        assert.equal(res.status, 200);
        assert.equal(res.protocol, 'TLSv1.2');
      }
    });

    for (const [what, opts] of LEGACY) {
      test(`refused: ${what} (the control server accepts the same client)`, async () => {
        const ok = await handshake(control.port, { servername: 'rsa.proto.test', ...opts });
        assert.ok(ok.protocol, `control: ${ok.protocol} ${ok.cipher}`);
        const err = await handshakeFails(arch.httpsPort, { servername: 'rsa.proto.test', ...opts });
        assert.match(err.message + String((err as NodeJS.ErrnoException).code), /alert|handshake|version|cipher|socket hang up|ECONNRESET/i);
        // The listener is unharmed.
        assert.equal((await handshake(arch.httpsPort, { servername: 'rsa.proto.test' })).protocol, 'TLSv1.3');
      });
    }

    test('TLS 1.2 session resumption on fresh connections (across workers when there are several)', async () => {
      // With 2 workers, SO_REUSEPORT spreads the 16 connections by source port: both workers resume.
      for (const host of ['rsa.proto.test', 'ec.proto.test']) {
        const r = await resumptions(arch.httpsPort, host, 'TLSv1.2', 16);
        assert.equal(r.first, false);
        assert.equal(r.reused, 16, `${host}: ${r.reused}/16 resumed`);
      }
    });

    test('TLS 1.3 resumption with session tickets', async () => {
      const r = await resumptions(arch.httpsPort, 'ec.proto.test', 'TLSv1.3', 16);
      assert.equal(r.reused, 16, `${r.reused}/16 resumed`);
    });

    test('a session resumes after a configuration change (table swap)', async () => {
      const first = await handshake(arch.httpsPort, { servername: 'rsa.proto.test', maxVersion: 'TLSv1.2', wantSession: true });
      const extra = `swap-${mode.replace(/\W/g, '')}.test`;
      await writeFile(join(arch.dir, 'extra.yaml'), yamlDocs(tlsIngress('extra', [rule(extra, [['/', 'Prefix', backend('p')]])], [])));
      await waitFor('the new Ingress served', async () => (await request(arch.port, '/', { host: extra })).status === 200, 3000, 25);
      let reused = 0;
      for (let i = 0; i < 8; i++) if ((await handshake(arch.httpsPort, { servername: 'rsa.proto.test', maxVersion: 'TLSv1.2', session: first.session })).reused) reused++;
      assert.equal(reused, 8, `${reused}/8 resumed after the swap`);
    });
  });
}

describe('clients that give up during the handshake', { timeout: 20_000 }, () => {
  // Node's default client does not trust the self-signed default certificate: it completes the TLS 1.3
  // handshake on its side, then closes (its Finished may never reach the server).
  const rejecting = (port: number) => handshakeFails(port, { servername: 'unknown.test', rejectUnauthorized: true });

  test('a TLS 1.3 client rejecting the certificate does not hold up graceful shutdown', async (t) => {
    const arch = await startTlsArchway(docs(be));
    t.after(() => arch.stop());
    await handshake(arch.httpsPort, { servername: 'ec.proto.test' });
    assert.match((await rejecting(arch.httpsPort)).message, /self-signed certificate/);
    const t0 = Date.now();
    const done = await Promise.race([arch.running.shutdown().then(() => true), new Promise<false>((r) => setTimeout(() => r(false), 3000))]);
    assert.ok(done, `graceful shutdown with no request in flight still running after ${Date.now() - t0} ms`);
  });

  test('...nor leaves its server socket open until the handshake timeout', {
    skip: existsSync('/proc/self/fd') ? false : 'needs /proc/self/fd',
  }, async (t) => {
    const left = await descriptorsLeftAfter(t, (port) => rejecting(port));
    assert.ok(left <= 2, `${left} descriptors still open 1 s after 20 abandoned TLS 1.3 handshakes`);
  });

  // The control: over TLS 1.2 the server finishes the handshake first, and the same clients leave nothing behind.
  test('(control) TLS 1.2 clients rejecting the certificate leave no socket behind', { skip: existsSync('/proc/self/fd') ? false : 'needs /proc/self/fd' }, async (t) => {
    const left = await descriptorsLeftAfter(t, (port) => handshakeFails(port, { servername: 'unknown.test', rejectUnauthorized: true, maxVersion: 'TLSv1.2' }));
    assert.ok(left <= 2, `${left} descriptors still open 1 s after 20 rejected TLS 1.2 handshakes`);
  });

  /** Open descriptors of this process above the baseline, about 1 s after 20 runs of `attempt`. */
  async function descriptorsLeftAfter(t: { after(fn: () => unknown): void }, attempt: (port: number) => Promise<unknown>): Promise<number> {
    const arch = await startTlsArchway(docs(be));
    t.after(() => arch.stop());
    const fds = () => readdirSync('/proc/self/fd').length;
    await handshake(arch.httpsPort, { servername: 'ec.proto.test' });
    await new Promise((r) => setTimeout(r, 100));
    const base = fds();
    for (let i = 0; i < 20; i++) await attempt(arch.httpsPort);
    await waitFor('descriptors back to the baseline', () => fds() <= base + 2, 1000, 25).catch(() => undefined);
    return fds() - base;
  }
});

protocolSuite('--workers 0', []);
protocolSuite('--workers 2', ['--workers', '2']);

// ---------------------------------------------------------------------------------------------
// curl

function curl(args: string[], timeoutMs = 10_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn('curl', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      resolve({ code: -1, stdout, stderr: e.message });
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr: err });
    });
  });
}

describe('curl against Archway', { timeout: 20_000 }, () => {
  test('HTTP/2 and HTTP/1.1 with --resolve; --tls-max 1.1 refused', async (t) => {
    const probe = await curl(['--version']);
    if (probe.code !== 0 || !/HTTP2/.test(probe.stdout)) {
      t.skip('curl with HTTP/2 support is not installed');
      return;
    }
    const arch = await startTlsArchway(docs(be));
    t.after(() => arch.stop());
    const url = `https://ec.proto.test:${arch.httpsPort}/curl?x=1`;
    const resolve = `ec.proto.test:${arch.httpsPort}:127.0.0.1`;
    const h2 = await curl(['-sSk', '--http2', '--resolve', resolve, '-o', '/dev/null', '-w', '%{http_version} %{response_code} %{ssl_verify_result}', url]);
    assert.equal(h2.code, 0, h2.stderr);
    assert.match(h2.stdout, /^2 200 /);
    const h1 = await curl(['-sSk', '--http1.1', '--tlsv1.2', '--tls-max', '1.2', '--resolve', resolve, '-D', '-', '-o', '/dev/null', url]);
    assert.equal(h1.code, 0, h1.stderr);
    assert.match(h1.stdout, /^HTTP\/1\.1 200/);
    assert.match(h1.stdout, /strict-transport-security: max-age=31536000; includeSubDomains/i);
    // Verified against the certificate as CA: curl accepts it for the name it covers.
    const dir = await mkdtemp(join(tmpdir(), 'archway-tls-curl-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    await writeFile(join(dir, 'ca.pem'), certs.ec.cert);
    const verified = await curl(['-sS', '--cacert', join(dir, 'ca.pem'), '--resolve', resolve, '-o', '/dev/null', '-w', '%{response_code}', url]);
    assert.equal(verified.code, 0, verified.stderr);
    assert.equal(verified.stdout, '200');
    const old = await curl(['-sSk', '--tlsv1.1', '--tls-max', '1.1', '--ciphers', 'DEFAULT@SECLEVEL=0', '--resolve', resolve, '-o', '/dev/null', url]);
    assert.notEqual(old.code, 0, 'TLS 1.1 must be refused');
  });
});
