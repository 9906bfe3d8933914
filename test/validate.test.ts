// `archway validate` as a CI pipeline runs it: the real CLI in a child process on manifests in a temp
// directory; exit 0 when nothing is an error, 1 when something is, 2 on a usage error (issue 4 item 9).

import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { BIN, MAIN, REPO, backend, ingress, manifestDir, rule, runNode, service, yamlDocs } from './harness.ts';

const T = { timeout: 20_000 };

let good: string;
let bad: string;

before(async () => {
  const fanout = ingress('simple-fanout-example', {
    rules: [rule('foo.bar.com', [['/foo', 'Prefix', backend('service1', 4200)], ['/bar', 'Prefix', backend('service2', 8080)]])],
  }, { creationTimestamp: '2020-01-01T00:00:00Z' });
  good = await manifestDir({
    'services.yaml': yamlDocs(service('service1', 9001, { port: 4200 }), service('service2', 9002, { port: 8080 })),
    'ingress.yaml': yamlDocs(fanout),
  });
  bad = await manifestDir({
    'services.yaml': yamlDocs(service('service1', 9001, { port: 4200 }), service('service2', 9002, { port: 8080 })),
    'ingress.yaml': yamlDocs(fanout),
    'broken/web.yaml': yamlDocs(
      ingress('upper', { rules: [rule('Foo.Example.com', [['/', 'Prefix', backend('service1', 4200)]])] }),
      ingress('conflict', { rules: [rule('foo.bar.com', [['/foo', 'Prefix', backend('service2', 8080)]])] }, { creationTimestamp: '2030-01-01T00:00:00Z' }),
    ),
  });
});

after(async () => {
  for (const d of [good, bad]) if (d) await rm(d, { recursive: true, force: true });
});

describe('archway validate', () => {
  test('good manifests: one line per Ingress of what it routes, exit 0', T, async () => {
    const r = await runNode([MAIN, 'validate', good]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(r.stderr, '');
    const lines = r.stdout.trimEnd().split('\n');
    assert.deepEqual(lines.slice(0, 1), ['default/simple-fanout-example: foo.bar.com/foo -> service1:4200, foo.bar.com/bar -> service2:8080']);
    assert.match(lines.at(-1)!, /^2 files, 1 Ingress served \(configuration [0-9a-f]{16}\): 0 errors, 0 warnings$/);
  });

  test('an invalid object: every diagnostic with file:line, object and field path, exit 1', T, async () => {
    const r = await runNode([BIN, 'validate', join(bad, 'services.yaml'), join(bad, 'ingress.yaml'), join(bad, 'broken')]);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    const file = join(bad, 'broken', 'web.yaml');
    const lines = r.stdout.split('\n');
    assert.ok(lines.some((l) => l.startsWith(`${file}:1: error INGRESS_INVALID_HOST: Ingress default/upper: spec.rules[0].host: "Foo.Example.com"`)), r.stdout);
    assert.ok(
      lines.some((l) => new RegExp(`^${file.replace(/[.]/g, '\\.')}:\\d+: warning PATH_CONFLICT: Ingress default/conflict: spec\\.rules\\[0\\]\\.http\\.paths\\[0\\]\\.path: .*older Ingress default/simple-fanout-example`).test(l)),
      r.stdout,
    );
    assert.ok(lines.includes('default/conflict: routes nothing (see the diagnostics above)'), r.stdout);
    assert.ok(!lines.some((l) => l.startsWith('default/upper:')), 'an invalid Ingress routes nothing');
    assert.match(r.stdout, /\n3 files, 2 Ingresses served \(configuration [0-9a-f]{16}\): 1 error, 1 warning\n$/);
  });

  test('warnings alone keep exit 0: a missing Service is served as 503 and reported', T, async () => {
    const dir = await manifestDir({ 'ingress.yaml': yamlDocs(ingress('web', { rules: [rule('a.example.com', [['/', 'Prefix', backend('nowhere')]])] })) });
    try {
      const r = await runNode([MAIN, 'validate', dir]);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /warning SERVICE_NOT_FOUND: Ingress default\/web: spec\.rules\[0\]\.http\.paths\[0\]\.backend: Service default\/nowhere not found/);
      assert.match(r.stdout, /\ndefault\/web: a\.example\.com\/ -> nowhere:80 \(answers 503: Service default\/nowhere not found\)\n/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('the class flags of serve apply: another class is reported as not served', T, async () => {
    const r = await runNode([MAIN, 'validate', good, '--ingress-class', 'other', '--watch-ingress-without-class=false']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /info INGRESS_NOT_SERVED: Ingress default\/simple-fanout-example: not served by this controller/);
    assert.match(r.stdout, /0 Ingresses served/);
  });

  test('the repository fixtures with invalid input fail; usage errors exit 2', T, async () => {
    const [fixture, none, unknown, missing] = await Promise.all([
      runNode([MAIN, 'validate', join(REPO, 'test', 'fixtures', 'invalid-mixed')]),
      runNode([MAIN, 'validate']),
      runNode([MAIN, 'validate', good, '--bogus']),
      runNode([MAIN, 'validate', join(good, 'does-not-exist.yaml')]),
    ]);
    assert.equal(fixture.code, 1);
    assert.match(fixture.stdout, /error INGRESS_INVALID_HOST/);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /give at least one manifest file or directory\n\nUsage: archway validate PATH/);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown flag --bogus/);
    assert.equal(missing.code, 1);
    assert.match(missing.stdout, /error MANIFEST_PATH_UNREADABLE/);
  });
});
