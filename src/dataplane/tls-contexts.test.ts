import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateCertificate } from '../tls/certificates.ts';
import type { TlsTable } from '../snapshot/table.ts';
import { TlsContexts } from './tls-contexts.ts';

const fallback = generateCertificate({ commonName: 'fallback', dnsNames: ['fallback.invalid'] });
const a = generateCertificate({ commonName: 'a.example.com', dnsNames: ['a.example.com'] });
const b = generateCertificate({ commonName: 'b.example.com', dnsNames: ['b.example.com'] });

function table(certificates: TlsTable['certificates'], hosts: Record<string, string>, defaultCertificate: string | null = null): TlsTable {
  return { certificates, hosts, wildcards: {}, defaultCertificate };
}

test('contexts are made at the first handshake that needs them, once per content, and dropped with their certificate', () => {
  const c = new TlsContexts(fallback);
  // Two Secrets with the same material (same content hash after '@') and one other.
  c.update(table({ 'ns1/wild@h1': a, 'ns2/wild@h1': a, 'ns1/b@h2': b }, { 'a.example.com': 'ns1/wild@h1', 'x.example.com': 'ns2/wild@h1', 'b.example.com': 'ns1/b@h2' }));
  assert.equal(c.createdCount, 0, 'a table swap creates no context');
  const ctxA = c.contextFor('A.example.com');
  assert.notEqual(ctxA, c.defaultContext);
  assert.equal(c.contextFor('x.example.com'), ctxA, 'equal material shares one context');
  assert.equal(c.createdCount, 1);
  const ctxB = c.contextFor('b.example.com');
  assert.notEqual(ctxB, ctxA);
  assert.equal(c.createdCount, 2);
  assert.equal(c.contextFor('unknown.example.com'), c.defaultContext);

  c.update(table({ 'ns1/wild@h1': a }, { 'a.example.com': 'ns1/wild@h1' }));
  assert.equal(c.createdCount, 1, 'the context of a removed certificate is released');
  assert.equal(c.contextFor('a.example.com'), ctxA, 'an unchanged certificate keeps its context across tables');
  assert.equal(c.contextFor('b.example.com'), c.defaultContext);
});

test('material OpenSSL refuses falls back to the default context and is recorded once', () => {
  const c = new TlsContexts(fallback);
  c.update(table({ 'ns/bad@h3': { cert: a.cert, key: b.key } }, { 'a.example.com': 'ns/bad@h3' }));
  assert.equal(c.contextFor('a.example.com'), c.defaultContext);
  assert.equal(c.contextFor('a.example.com'), c.defaultContext);
  assert.ok(c.failures.has('ns/bad@h3'));
});

test('the default certificate is made at once and serves names without their own certificate', () => {
  const c = new TlsContexts(fallback);
  const before = c.defaultContext;
  c.update(table({ 'ns/def@h4': b }, {}, 'ns/def@h4'));
  assert.notEqual(c.defaultContext, before);
  assert.equal(c.createdCount, 1);
  assert.equal(c.contextFor('anything.example.com'), c.defaultContext);
});
