import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hostProblem, isDns1123Subdomain, pathProblem, portNameProblem, tlsHostProblem, isPortNumber } from './validation.ts';

test('DNS-1123 subdomain: lowercase labels, alphanumeric at both ends, <= 253', () => {
  for (const ok of ['a', 'foo.bar.com', 'a-b.c', '0.example', 'x'.repeat(253)]) assert.ok(isDns1123Subdomain(ok), ok);
  for (const bad of ['', 'Foo.com', '-a.com', 'a-.com', 'a..b', '.a', 'a.', 'a_b', 'x'.repeat(254)]) assert.ok(!isDns1123Subdomain(bad), bad);
});

test('rule host: not an IP, valid wildcard only as *.subdomain, no port, no uppercase', () => {
  for (const ok of ['foo.bar.com', '*.foo.com', 'localhost']) assert.equal(hostProblem(ok), undefined, ok);
  for (const bad of ['1.2.3.4', '::1', '*', '*foo.com', 'foo.*.com', 'foo.com:80', 'Foo.com', '*.Foo.com', 'a b']) {
    assert.ok(hostProblem(bad), bad);
  }
  assert.match(hostProblem('10.0.0.1')!, /not an IP/);
});

test('TLS hosts accept subdomains and wildcards', () => {
  assert.equal(tlsHostProblem('*.example.com'), undefined);
  assert.equal(tlsHostProblem('example.com'), undefined);
  assert.ok(tlsHostProblem('exa mple.com'));
});

test('Exact and Prefix paths: absolute, no //, /./, /../, %2f, no trailing /. or /..', () => {
  for (const t of ['Exact', 'Prefix'] as const) {
    for (const ok of ['/', '/foo', '/foo/', '/foo.bar', '/a..b']) assert.equal(pathProblem(ok, t), undefined, ok);
    for (const bad of ['', 'foo', '/a//b', '/a/./b', '/a/../b', '/a%2fb', '/a%2Fb', '/a/.', '/a/..']) assert.ok(pathProblem(bad, t), `${t} ${bad}`);
  }
});

test('ImplementationSpecific paths: empty or absolute', () => {
  assert.equal(pathProblem('', 'ImplementationSpecific'), undefined);
  assert.equal(pathProblem('/a//b(.*)', 'ImplementationSpecific'), undefined);
  assert.ok(pathProblem('a', 'ImplementationSpecific'));
});

test('port names are IANA service names; numbers 1-65535', () => {
  for (const ok of ['http', 'h2c', 'web-ui', 'a']) assert.equal(portNameProblem(ok), undefined, ok);
  for (const bad of ['', '80', 'HTTP', 'a--b', '-a', 'a-', 'sixteen-chars-xx', 'a_b']) assert.ok(portNameProblem(bad), bad);
  assert.ok(isPortNumber(1) && isPortNumber(65535));
  assert.ok(!isPortNumber(0) && !isPortNumber(65536) && !isPortNumber(1.5) && !isPortNumber('80'));
});
