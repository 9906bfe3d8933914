// Issue 5 items 1-3 and 5: the certificate is chosen by SNI (precise names, one-label wildcards, entries
// without hosts), every default-certificate path (unknown SNI, no SNI, a missing Secret, unusable or
// mismatched key material, --default-ssl-certificate) gives the default certificate and a Warning event
// while other hosts keep theirs; SNI picks the certificate while Host picks the route; X-Forwarded-Proto
// and -Port say https. Real TLS clients (node:tls, node:https) against Archway in-process and with 2 workers.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { EchoServer } from '../src/demo/echo-server.ts';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { adminJson, backend, closeAll, echoes, echoOf, request, rule, service, yamlDocs, type Res } from './harness.ts';
import {
  b64, convertKey, fingerprintOf, handshake, httpsRequest, makeChain, makeCert, muteStderr, rawSecret, rsaCertWithBits, startTlsArchway, tlsIngress, tlsSecret, waitFor, warnings,
  type HttpsRes, type TlsArchway,
} from './tls-harness.ts';

const DEFAULT_CN = 'Archway default certificate';

const stderr = muteStderr();
after(() => stderr.restore());

// Material shared by both modes: made once (RSA key generation is the slow part).
const certs = {
  a: makeCert('a.example.com'), // EC, PKCS#8
  b: makeCert('b.example.com', { keyType: 'rsa' }), // RSA, served with a PKCS#1 key
  c: makeCert('c.example.com'), // EC, served with a SEC1 key
  d: makeCert('d.example.com', { keyType: 'rsa' }), // RSA, PKCS#8
  wild: makeCert('*.example.org', { dnsNames: ['*.example.org'] }),
  pre: makeCert('pre.example.org'),
  other: makeCert('other.test'),
  weak: rsaCertWithBits('weak.test', 1024),
};
const chain = makeChain('chain.example.com');

const keyForms = {
  b: convertKey(certs.b.key, 'pkcs1'),
  c: convertKey(certs.c.key, 'sec1'),
};

function ing(name: string, host: string, secretName: string, svc = 'a', hosts: string[] = [host]): Record<string, unknown> {
  return tlsIngress(name, [rule(host, [['/', 'Prefix', backend(svc)]])], [{ hosts, secretName }], { creationTimestamp: '2024-01-01T00:00:00Z' });
}

function manifests(be: Record<string, EchoServer>): Array<Record<string, unknown> | Array<Record<string, unknown>>> {
  return [
    ...['a', 'b', 'c', 'd', 'w', 'plain'].map((n) => service(n, be[n].port)),
    tlsSecret('a', certs.a),
    tlsSecret('b', { cert: certs.b.cert, key: keyForms.b }, { form: 'stringData' }),
    tlsSecret('c', { cert: certs.c.cert, key: keyForms.c }),
    tlsSecret('d', certs.d, { form: 'stringData' }),
    tlsSecret('chain', chain.leaf),
    tlsSecret('wild', certs.wild),
    tlsSecret('pre', certs.pre),
    tlsSecret('weak', certs.weak),
    // Unusable material, one problem per Secret.
    rawSecret('garbage-key', { 'tls.crt': b64(certs.other.cert), 'tls.key': b64('-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n') }),
    rawSecret('mismatch', { 'tls.crt': b64(certs.other.cert), 'tls.key': b64(certs.a.key) }),
    rawSecret('bad-base64', { 'tls.crt': '%%% not base64 %%%', 'tls.key': b64(certs.other.key) }),
    rawSecret('no-key', { 'tls.crt': b64(certs.other.cert) }),
    rawSecret('bad-cert', { 'tls.crt': b64('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n'), 'tls.key': b64(certs.other.key) }),
    tlsIngress('good', ['a', 'b', 'c', 'd'].map((n) => rule(`${n}.example.com`, [['/', 'Prefix', backend(n)]])), [
      { hosts: ['a.example.com'], secretName: 'a' },
      { hosts: ['b.example.com'], secretName: 'b' },
      { hosts: ['c.example.com'], secretName: 'c' },
      { hosts: ['d.example.com'], secretName: 'd' },
    ], { creationTimestamp: '2024-01-01T00:00:00Z' }),
    ing('chain', 'chain.example.com', 'chain'),
    tlsIngress('wild', [rule('foo.example.org', [['/', 'Prefix', backend('w')]]), rule('pre.example.org', [['/', 'Prefix', backend('w')]])], [
      { hosts: ['*.example.org'], secretName: 'wild' },
      { hosts: ['pre.example.org'], secretName: 'pre' },
    ], { creationTimestamp: '2024-01-01T00:00:00Z' }),
    ing('missing', 'missing.test', 'does-not-exist'),
    ing('garbage-key', 'garbage-key.test', 'garbage-key'),
    ing('mismatch', 'mismatch.test', 'mismatch'),
    ing('bad-base64', 'bad-base64.test', 'bad-base64'),
    ing('no-key', 'no-key.test', 'no-key'),
    ing('bad-cert', 'bad-cert.test', 'bad-cert'),
    ing('weak', 'weak.test', 'weak'),
    tlsIngress('plain', [rule('plain.test', [['/', 'Prefix', backend('plain')]])], []),
  ];
}

/** The backend that answered an HTTPS request (asserting an echo answer). */
function backendOf(res: HttpsRes): string {
  return echoOf(res as unknown as Res).backend;
}

function sniSuite(mode: string, extraArgs: string[]): void {
  describe(`SNI certificate selection (${mode})`, { timeout: 30_000 }, () => {
    let be: Record<string, EchoServer>;
    let arch: TlsArchway;
    let defaultFp: string;

    before(async () => {
      be = await echoes('a', 'b', 'c', 'd', 'w', 'plain');
      arch = await startTlsArchway(manifests(be), extraArgs);
      defaultFp = (await handshake(arch.httpsPort)).cert.fingerprint;
    });
    after(async () => {
      await arch?.stop();
      await closeAll(be);
    });

    test('each SNI name gets its own certificate (any case), and the route of its Host', async () => {
      for (const [n, pem] of Object.entries({ a: certs.a, b: certs.b, c: certs.c, d: certs.d })) {
        const host = `${n}.example.com`;
        const hs = await handshake(arch.httpsPort, { servername: host });
        assert.equal(hs.cert.cn, host, `certificate for SNI ${host}`);
        assert.deepEqual(hs.cert.san, [host]);
        assert.equal(hs.cert.fingerprint, fingerprintOf(pem.cert));
        const upper = await handshake(arch.httpsPort, { servername: host.toUpperCase() });
        assert.equal(upper.cert.cn, host, `SNI names are case-insensitive (${host.toUpperCase()})`);
        const res = await httpsRequest(arch.httpsPort, '/x', { servername: host });
        assert.equal(res.status, 200);
        assert.equal(backendOf(res), n);
        assert.equal(res.cert.cn, host);
      }
    });

    test('RSA and ECDSA keys in PKCS#1, PKCS#8 and SEC1 form are served', async () => {
      // The Secrets really hold those encodings (the test would be vacuous otherwise).
      assert.match(keyForms.b, /^-----BEGIN RSA PRIVATE KEY-----/);
      assert.match(keyForms.c, /^-----BEGIN EC PRIVATE KEY-----/);
      assert.match(certs.a.key, /^-----BEGIN PRIVATE KEY-----/);
      assert.match(certs.d.key, /^-----BEGIN PRIVATE KEY-----/);
      const expect: Array<[string, RegExp]> = [
        ['a.example.com', /^ECDHE-ECDSA-/], // EC PKCS#8
        ['b.example.com', /^ECDHE-RSA-/], // RSA PKCS#1
        ['c.example.com', /^ECDHE-ECDSA-/], // EC SEC1
        ['d.example.com', /^ECDHE-RSA-/], // RSA PKCS#8
      ];
      for (const [host, cipher] of expect) {
        // TLS 1.2 names the authentication in the suite; TLS 1.3 must work with each key too.
        const v12 = await handshake(arch.httpsPort, { servername: host, maxVersion: 'TLSv1.2' });
        assert.match(v12.cipher, cipher, `${host}: ${v12.cipher}`);
        assert.equal(v12.cert.cn, host);
        const v13 = await handshake(arch.httpsPort, { servername: host, minVersion: 'TLSv1.3' });
        assert.equal(v13.protocol, 'TLSv1.3');
        assert.equal(v13.cert.cn, host);
      }
    });

    test('a chain (leaf + intermediate) is served in order and verifies against the root alone', async () => {
      const hs = await handshake(arch.httpsPort, { servername: 'chain.example.com' });
      assert.deepEqual(hs.chain.slice(0, 2).map((c) => c.cn), ['chain.example.com', 'Archway Test Intermediate CA']);
      assert.equal(hs.chain[0].issuerCN, 'Archway Test Intermediate CA');
      // A client trusting only the root accepts the server: it must have sent the intermediate.
      const verified = await httpsRequest(arch.httpsPort, '/', { servername: 'chain.example.com', tls: { ca: chain.root.cert, rejectUnauthorized: true } });
      assert.equal(verified.status, 200);
      // And the same client refuses a server certificate it cannot chain (the check can fail).
      // (TLS 1.2: a TLS 1.3 client that rejects the certificate leaves a lingering server socket, see tls-protocols.test.ts.)
      await assert.rejects(httpsRequest(arch.httpsPort, '/', { servername: 'a.example.com', tls: { ca: chain.root.cert, rejectUnauthorized: true, maxVersion: 'TLSv1.2' } }));
    });

    test('*.example.org covers exactly one label; a precise name beats the wildcard', async () => {
      const wildFp = fingerprintOf(certs.wild.cert);
      for (const sni of ['foo.example.org', 'bar.example.org', 'FOO.example.org']) {
        assert.equal((await handshake(arch.httpsPort, { servername: sni })).cert.fingerprint, wildFp, `SNI ${sni}`);
      }
      for (const sni of ['x.y.example.org', 'example.org', 'fooexample.org']) {
        assert.equal((await handshake(arch.httpsPort, { servername: sni })).cert.fingerprint, defaultFp, `SNI ${sni} is not covered by *.example.org`);
      }
      assert.equal((await handshake(arch.httpsPort, { servername: 'pre.example.org' })).cert.fingerprint, fingerprintOf(certs.pre.cert));
      const res = await httpsRequest(arch.httpsPort, '/', { servername: 'foo.example.org' });
      assert.equal(backendOf(res), 'w');
      assert.equal(res.cert.cn, '*.example.org');
    });

    test('no SNI and unknown SNI get the self-signed default certificate; Host still routes', async () => {
      const none = await handshake(arch.httpsPort);
      assert.equal(none.cert.cn, DEFAULT_CN);
      assert.equal(none.cert.issuerCN, DEFAULT_CN, 'self-signed');
      for (const sni of ['unknown.test', 'example.com', 'a.example.com.evil.test']) {
        assert.equal((await handshake(arch.httpsPort, { servername: sni })).cert.fingerprint, none.cert.fingerprint, `SNI ${sni}`);
      }
      // A client without SNI (e.g. by IP) is still routed by its Host header.
      const res = await httpsRequest(arch.httpsPort, '/', { servername: '', host: 'b.example.com' });
      assert.equal(res.cert.cn, DEFAULT_CN);
      assert.equal(backendOf(res), 'b');
      // Unknown host over HTTPS: Archway's 404, on the default certificate.
      const nf = await httpsRequest(arch.httpsPort, '/', { servername: 'unknown.test' });
      assert.equal(nf.status, 404);
    });

    const problems: Array<[host: string, ingress: string, reason: string, text: RegExp]> = [
      ['missing.test', 'missing', 'SecretNotFound', /does-not-exist not found/],
      ['garbage-key.test', 'garbage-key', 'KeyInvalid', /tls\.key is not a usable private key/],
      ['mismatch.test', 'mismatch', 'CertKeyMismatch', /does not match/],
      ['bad-base64.test', 'bad-base64', 'SecretInvalid', /not valid base64/],
      ['no-key.test', 'no-key', 'SecretMissingKeys', /tls\.key/],
      ['bad-cert.test', 'bad-cert', 'CertInvalid', /tls\.crt is not a usable certificate/],
    ];

    test('missing Secret, unusable or mismatched material: default certificate, a Warning event, the route still served', async () => {
      for (const [host, name, reason, text] of problems) {
        const hs = await handshake(arch.httpsPort, { servername: host });
        assert.equal(hs.cert.fingerprint, defaultFp, `${host} falls back to the default certificate`);
        const res = await httpsRequest(arch.httpsPort, '/', { servername: host });
        assert.equal(res.status, 200, `${host} is still routed over HTTPS`);
        const ev = await warnings(arch.adminPort, 'Ingress', name);
        const hit = ev.find((e) => e.reason === reason);
        assert.ok(hit, `${name}: a Warning event ${reason}; got ${JSON.stringify(ev.map((e) => [e.reason, e.message]))}`);
        assert.match(hit.message, text);
        assert.match(hit.message, new RegExp(`${host.replace(/\./g, '\\.')} get the default certificate`));
      }
      // Other hosts are unaffected.
      assert.equal((await handshake(arch.httpsPort, { servername: 'a.example.com' })).cert.cn, 'a.example.com');
      assert.equal((await request(arch.adminPort, '/readyz')).status, 200);
    });

    test('an RSA-1024 key (parses and matches, but OpenSSL will not serve it): default certificate and a Warning event', async () => {
      const hs = await handshake(arch.httpsPort, { servername: 'weak.test' });
      assert.equal(hs.cert.fingerprint, defaultFp);
      assert.equal((await httpsRequest(arch.httpsPort, '/', { servername: 'weak.test' })).status, 200);
      const ev = await warnings(arch.adminPort, 'Ingress', 'weak');
      assert.ok(ev.some((e) => /weak/.test(e.message) && /key/i.test(e.message)), `a Warning event naming the problem; got ${JSON.stringify(ev.map((e) => e.message))}`);
    });

    test('SNI picks the certificate, Host picks the route', async () => {
      const res = await httpsRequest(arch.httpsPort, '/p?q=1', { servername: 'a.example.com', host: 'b.example.com' });
      assert.equal(res.cert.cn, 'a.example.com');
      const echo = echoOf(res as unknown as Res);
      assert.equal(echo.backend, 'b');
      assert.equal(echo.url, '/p?q=1');
      assert.equal(echo.headers.host, 'b.example.com');
      // A wildcard certificate with the Host of a precise-certificate host, and the reverse.
      assert.equal(backendOf(await httpsRequest(arch.httpsPort, '/', { servername: 'foo.example.org', host: 'c.example.com' })), 'c');
      const r2 = await httpsRequest(arch.httpsPort, '/', { servername: 'c.example.com', host: 'foo.example.org' });
      assert.equal(r2.cert.cn, 'c.example.com');
      assert.equal(backendOf(r2), 'w');
      // An unknown Host under a known SNI name: Archway's 404.
      assert.equal((await httpsRequest(arch.httpsPort, '/', { servername: 'a.example.com', host: 'nobody.test' })).status, 404);
    });

    test('the backend sees X-Forwarded-Proto: https and X-Forwarded-Port of the HTTPS listener', async () => {
      const echo = echoOf((await httpsRequest(arch.httpsPort, '/', { servername: 'a.example.com', headers: { 'x-forwarded-proto': 'http', 'x-forwarded-port': '1' } })) as unknown as Res);
      assert.equal(echo.headers['x-forwarded-proto'], 'https', 'an untrusted client cannot claim another scheme');
      assert.equal(echo.headers['x-forwarded-port'], String(arch.httpsPort));
      assert.equal(echo.headers['x-forwarded-host'], 'a.example.com');
      // Plain HTTP on a host without TLS says http and the HTTP port.
      const plain = echoOf(await request(arch.port, '/', { host: 'plain.test' }));
      assert.equal(plain.headers['x-forwarded-proto'], 'http');
      assert.equal(plain.headers['x-forwarded-port'], String(arch.port));
    });

    test('describe shows certificate details per spec.tls entry, or the problem', async () => {
      interface Desc { tls: Array<{ hosts: string[]; secretName: string; certificate?: { subject: string; issuer: string; dnsNames: string[]; notBefore: string; notAfter: string }; problem?: string }> }
      const good = await adminJson<Desc>(arch.adminPort, '/api/describe/ingress?namespace=default&name=chain');
      assert.equal(good.tls.length, 1);
      const c = good.tls[0].certificate;
      assert.ok(c, JSON.stringify(good.tls));
      assert.match(c.subject, /CN=chain\.example\.com/);
      assert.match(c.issuer, /CN=Archway Test Intermediate CA/);
      assert.deepEqual(c.dnsNames, ['chain.example.com']);
      assert.ok(Date.parse(c.notBefore) < Date.now() && Date.parse(c.notAfter) > Date.now(), `${c.notBefore} .. ${c.notAfter}`);
      const bad = await adminJson<Desc>(arch.adminPort, '/api/describe/ingress?namespace=default&name=mismatch');
      assert.equal(bad.tls[0].certificate, undefined);
      assert.match(bad.tls[0].problem ?? '', /does not match/);
    });
  });
}

sniSuite('--workers 0', []);
sniSuite('--workers 2', ['--workers', '2']);

// ---------------------------------------------------------------------------------------------

describe('--default-ssl-certificate and entries without hosts', { timeout: 30_000 }, () => {
  let be: Record<string, EchoServer>;
  const dflt = makeCert('default.example.net');
  const pq = makeCert('p.example.net', { dnsNames: ['p.example.net', 'q.example.net'] });
  const a = makeCert('a.example.net');
  const weak = rsaCertWithBits('weak-default.test', 1024);

  before(async () => {
    be = await echoes('p', 'r');
  });
  after(() => closeAll(be));

  function docs(): Array<Record<string, unknown> | Array<Record<string, unknown>>> {
    return [
      service('p', be.p.port), service('r', be.r.port),
      tlsSecret('dflt', dflt, { namespace: 'ingress-system' }),
      tlsSecret('weak', weak, { namespace: 'ingress-system' }),
      tlsSecret('pq', pq),
      tlsSecret('a', a),
      // An entry without hosts: the default certificate of this Ingress's own rule hosts.
      tlsIngress('pq', [rule('p.example.net', [['/', 'Prefix', backend('p')]]), rule('q.example.net', [['/', 'Prefix', backend('p')]])], [{ secretName: 'pq' }]),
      tlsIngress('a', [rule('a.example.net', [['/', 'Prefix', backend('r')]])], [{ hosts: ['a.example.net'], secretName: 'a' }]),
      tlsIngress('missing', [rule('missing.example.net', [['/', 'Prefix', backend('r')]])], [{ hosts: ['missing.example.net'], secretName: 'nope' }]),
      tlsIngress('r', [rule('r.example.net', [['/', 'Prefix', backend('r')]])], []),
    ];
  }

  test('the named Secret replaces the self-signed default for unknown SNI names and broken entries', async (t) => {
    const arch = await startTlsArchway(docs(), ['--default-ssl-certificate', 'ingress-system/dflt']);
    t.after(() => arch.stop());
    const fp = fingerprintOf(dflt.cert);
    for (const sni of ['unknown.test', 'missing.example.net', 'r.example.net']) {
      const hs = await handshake(arch.httpsPort, { servername: sni });
      assert.equal(hs.cert.fingerprint, fp, `SNI ${sni} gets --default-ssl-certificate`);
    }
    assert.equal((await handshake(arch.httpsPort, { servername: 'a.example.net' })).cert.cn, 'a.example.net');
    assert.equal((await handshake(arch.httpsPort, { servername: 'p.example.net' })).cert.cn, 'p.example.net');
  });

  test('the named Secret is also what a client without SNI gets', async (t) => {
    const arch = await startTlsArchway(docs(), ['--default-ssl-certificate', 'ingress-system/dflt']);
    t.after(() => arch.stop());
    assert.equal((await handshake(arch.httpsPort)).cert.fingerprint, fingerprintOf(dflt.cert));
  });

  test('an entry without hosts covers its own Ingress rule hosts only, and they redirect', async (t) => {
    const arch = await startTlsArchway(docs(), ['--https-redirect-port', '8443']);
    t.after(() => arch.stop());
    const fp = fingerprintOf(pq.cert);
    for (const sni of ['p.example.net', 'q.example.net']) {
      assert.equal((await handshake(arch.httpsPort, { servername: sni })).cert.fingerprint, fp, `SNI ${sni}`);
      const res = await httpsRequest(arch.httpsPort, '/', { servername: sni });
      assert.equal(backendOf(res), 'p');
    }
    for (const sni of ['r.example.net', 'x.example.net']) {
      assert.equal((await handshake(arch.httpsPort, { servername: sni })).cert.cn, DEFAULT_CN, `SNI ${sni}`);
    }
    const redirect = await request(arch.port, '/a?b=c', { host: 'q.example.net' });
    assert.equal(redirect.status, 308);
    assert.equal(redirect.headers.location, 'https://q.example.net:8443/a?b=c');
    assert.equal((await request(arch.port, '/', { host: 'r.example.net' })).status, 200, 'a host without TLS is not redirected');
  });

  test('--default-ssl-certificate naming a missing Secret: a Warning, the self-signed default, hosts unaffected', async (t) => {
    const arch = await startTlsArchway(docs(), ['--default-ssl-certificate', 'ingress-system/absent']);
    t.after(() => arch.stop());
    assert.equal((await handshake(arch.httpsPort)).cert.cn, DEFAULT_CN);
    assert.equal((await handshake(arch.httpsPort, { servername: 'unknown.test' })).cert.cn, DEFAULT_CN);
    assert.equal((await handshake(arch.httpsPort, { servername: 'a.example.net' })).cert.cn, 'a.example.net');
    const ev = await warnings(arch.adminPort, 'Secret', 'absent', 'ingress-system');
    assert.ok(ev.some((e) => e.reason === 'SecretNotFound' && /--default-ssl-certificate/.test(e.message)), JSON.stringify(ev));
  });

  for (const workers of ['0', '2']) {
    test(`--default-ssl-certificate with a key OpenSSL refuses (RSA-1024, --workers ${workers}): self-signed default, a Warning, later changes apply, nothing exits`, async (t) => {
      const arch = await startTlsArchway(docs(), ['--default-ssl-certificate', 'ingress-system/weak', '--workers', workers]);
      t.after(() => arch.stop());
      const logStart = stderr.text().length;
      assert.equal((await handshake(arch.httpsPort)).cert.cn, DEFAULT_CN);
      assert.equal((await handshake(arch.httpsPort, { servername: 'unknown.test' })).cert.cn, DEFAULT_CN);
      // A later change (a new Ingress and Service) must reach the data plane.
      await writeFile(join(arch.dir, 'late.yaml'), yamlDocs(service('late', be.r.port), tlsIngress('late', [rule('late.example.net', [['/', 'Prefix', backend('late')]])], [])));
      await waitFor('the new route and its backend served', async () => (await request(arch.port, '/', { host: 'late.example.net' })).status === 200, 1500, 50);
      assert.doesNotMatch(stderr.text().slice(logStart), /exited|refresh failed/);
      const ev = await warnings(arch.adminPort, 'Secret', 'weak', 'ingress-system');
      assert.ok(ev.length > 0, 'a Warning event names the unusable default certificate');
    });
  }
});
