// ingress-nginx annotations end to end (INGRESS-SEMANTICS.md "rewrite-target"; issue 2 item 7):
// rewrite-target, use-regex, app-root, x-forwarded-prefix, invalid values, and user regexes that must
// not be able to stall the process.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { EchoReply, EchoServer } from '../src/demo/echo-server.ts';
import { backend, closeAll, echoes, ingress, rawOnce, request, rule, service, startArchway, yamlDocs, type Archway } from './harness.ts';

const T = { timeout: 10_000 };
const A = 'nginx.ingress.kubernetes.io/';

let be: Record<string, EchoServer>;
let arch: Archway;

before(async () => {
  be = await echoes('app', 'other');
  const svc = backend('app');
  arch = await startArchway({
    'backends.yaml': yamlDocs(service('app', be.app.port), service('other', be.other.port)),
    'ingresses.yaml': yamlDocs(
      // The spec's seed example.
      ingress('seed', { rules: [rule('seed.test', [['/testpath', 'Prefix', svc]])] }, { annotations: { [A + 'rewrite-target']: '/' } }),
      // rewrite-target makes ImplementationSpecific paths regexes (ingress-nginx).
      ingress('impl-rewrite', { rules: [rule('impl.test', [['/impl', 'ImplementationSpecific', svc]])] }, { annotations: { [A + 'rewrite-target']: '/' } }),
      // The ingress-nginx documentation example.
      ingress('doc', { rules: [rule('doc.test', [['/something(/|$)(.*)', 'ImplementationSpecific', svc]])] },
        { annotations: { [A + 'use-regex']: 'true', [A + 'rewrite-target']: '/$2' } }),
      ingress('captures', { rules: [rule('cap.test', [
        ['/api/(v[0-9]+)/(.*)', 'ImplementationSpecific', svc],
        ['/opt(/x)?/(.*)', 'ImplementationSpecific', backend('other')],
      ])] }, { annotations: { [A + 'use-regex']: 'true', [A + 'rewrite-target']: '/$2/$1' } }),
      // A target equal to the path: nothing to rewrite.
      ingress('same-target', { rules: [rule('same.test', [['/keep', 'Prefix', svc]])] }, { annotations: { [A + 'rewrite-target']: '/keep' } }),
      // use-regex alone: matched as a regex, forwarded unchanged.
      ingress('regex-only', { rules: [rule('regex.test', [
        ['/re/[0-9]+', 'ImplementationSpecific', svc],
        // use-regex does not change Prefix paths: '.' is a literal dot there.
        ['/lit.x', 'Prefix', backend('other')],
      ])] }, { annotations: { [A + 'use-regex']: 'true' } }),
      ingress('app-root', { rules: [rule('approot.test', [['/', 'Prefix', svc]])] }, { annotations: { [A + 'app-root']: '/app' } }),
      ingress('prefix-header', { rules: [rule('xfp.test', [['/', 'Prefix', svc]])] }, { annotations: { [A + 'x-forwarded-prefix']: '/pfx' } }),
      // Invalid values: reported, ignored; the Ingress still serves.
      ingress('bad-rewrite', { rules: [rule('badrw.test', [['/badrw', 'Prefix', svc]])] }, { annotations: { [A + 'rewrite-target']: '/x?y=1' } }),
      ingress('bad-app-root', { rules: [rule('badroot.test', [['/', 'Prefix', svc]])] }, { annotations: { [A + 'app-root']: 'relative' } }),
      ingress('bad-use-regex', { rules: [rule('badregex.test', [['/u.', 'ImplementationSpecific', svc]])] }, { annotations: { [A + 'use-regex']: 'yes' } }),
      ingress('bad-prefix', { rules: [rule('badxfp.test', [['/', 'Prefix', svc]])] }, { annotations: { [A + 'x-forwarded-prefix']: 'a b' } }),
      // Regexes: catastrophic-backtracking shapes are harmless (linear-time engine); unsupported syntax is reported.
      ingress('redos', { rules: [rule('redos.test', [
        ['/(a+)+$', 'ImplementationSpecific', svc],
        ['/(a|aa)+$', 'ImplementationSpecific', svc],
        ['/(.*a){12}$', 'ImplementationSpecific', svc],
      ])] }, { annotations: { [A + 'use-regex']: 'true' } }),
      ingress('unsupported-regex', { rules: [rule('unsupported.test', [
        ['/(a)\\1', 'ImplementationSpecific', svc],
        ['/(?=x)y', 'ImplementationSpecific', svc],
        ['/fine', 'ImplementationSpecific', backend('other')],
      ])] }, { annotations: { [A + 'use-regex']: 'true' } }),
    ),
  });
});

after(async () => {
  await arch?.stop();
  await closeAll(be);
});

/** The request target the backend saw, or `HTTP <status>`. */
async function seen(host: string, path: string): Promise<string> {
  const res = await request(arch.port, path, { host });
  if (res.status !== 200) return `HTTP ${res.status}`;
  return (JSON.parse(res.text) as EchoReply).url;
}

async function expectSeen(cases: Array<[host: string, path: string, expected: string]>): Promise<void> {
  const got = await Promise.all(cases.map(([h, p]) => seen(h, p)));
  const wrong = cases.map((c, i) => [...c, got[i]]).filter((r) => r[2] !== r[3]);
  assert.deepEqual(wrong, [], `[host, path, expected upstream target, got]:\n${wrong.map((w) => JSON.stringify(w)).join('\n')}`);
}

function annotationDiagnostics(name: string) {
  return arch.diagnostics.filter((d) => d.object === `Ingress default/${name}`);
}

describe('rewrite-target', () => {
  test("the spec's seed example: /testpath with rewrite-target / (query kept)", T, async () => {
    await expectSeen([
      ['seed.test', '/testpath/x?y=1', '/?y=1'],
      ['seed.test', '/testpath', '/'],
      ['seed.test', '/testpath/a/b/c', '/'],
      ['seed.test', '/testpathology', 'HTTP 404'],
    ]);
  });

  test('ImplementationSpecific + rewrite-target: the path is an anchored, case-insensitive regex', T, async () => {
    await expectSeen([
      ['impl.test', '/impl/x?q', '/?q'],
      ['impl.test', '/IMPL', '/'],
      ['impl.test', '/implx', '/'],
      ['impl.test', '/x/impl', 'HTTP 404'],
    ]);
  });

  test('the ingress-nginx documentation example: /something(/|$)(.*) -> /$2', T, async () => {
    await expectSeen([
      ['doc.test', '/something', '/'],
      ['doc.test', '/something/', '/'],
      ['doc.test', '/something/new', '/new'],
      ['doc.test', '/something/new/deeper?x=1', '/new/deeper?x=1'],
      ['doc.test', '/SOMETHING/Case', '/Case'],
      ['doc.test', '/somethingelse', 'HTTP 404'],
    ]);
  });

  test('$1..$n are filled from capture groups; an unmatched group is empty', T, async () => {
    await expectSeen([
      ['cap.test', '/api/v2/users/7', '/users/7/v2'],
      ['cap.test', '/opt/x/rest', '/rest//x'],
      ['cap.test', '/opt/rest', '/rest/'],
    ]);
  });

  test('a target equal to the rule path leaves the path alone', T, async () => {
    await expectSeen([['same.test', '/keep/sub?q=1', '/keep/sub?q=1']]);
  });
});

describe('use-regex, app-root, x-forwarded-prefix', () => {
  test('use-regex: ImplementationSpecific paths are regexes, forwarded unchanged', T, async () => {
    await expectSeen([
      ['regex.test', '/re/123', '/re/123'],
      ['regex.test', '/re/42/x?y', '/re/42/x?y'],
      ['regex.test', '/RE/9', '/RE/9'],
      ['regex.test', '/re/abc', 'HTTP 404'],
    ]);
  });

  test('use-regex leaves Prefix paths literal', T, async () => {
    await expectSeen([
      ['regex.test', '/lit.x/y', '/lit.x/y'],
      ['regex.test', '/litAx', 'HTTP 404'],
    ]);
  });

  test('app-root: GET / answers 302 to the application root; other paths are proxied', T, async () => {
    const res = await request(arch.port, '/', { host: 'approot.test:8080' });
    assert.equal(res.status, 302);
    assert.equal(res.headers.location, 'http://approot.test:8080/app');
    assert.equal(res.headers.server, 'archway');
    const bare = await request(arch.port, '/', { host: 'approot.test' });
    assert.equal(bare.headers.location, 'http://approot.test/app');
    await expectSeen([
      ['approot.test', '/app', '/app'],
      ['approot.test', '/other', '/other'],
    ]);
  });

  test('x-forwarded-prefix: X-Forwarded-Prefix is set upstream, replacing a client value', T, async () => {
    const res = await request(arch.port, '/p', { host: 'xfp.test', headers: { 'x-forwarded-prefix': '/evil' } });
    assert.equal((JSON.parse(res.text) as EchoReply).headers['x-forwarded-prefix'], '/pfx');
  });
});

describe('invalid annotation values', () => {
  test('are reported with the annotation as field, ignored, and the Ingress still serves', T, async () => {
    const expected: Array<[string, string]> = [
      ['bad-rewrite', 'rewrite-target'],
      ['bad-app-root', 'app-root'],
      ['bad-use-regex', 'use-regex'],
      ['bad-prefix', 'x-forwarded-prefix'],
    ];
    for (const [name, key] of expected) {
      const ds = annotationDiagnostics(name);
      assert.equal(ds.length, 1, `${name}: ${JSON.stringify(ds)}`);
      assert.equal(ds[0].code, 'ANNOTATION_INVALID');
      assert.equal(ds[0].field, `metadata.annotations[${JSON.stringify(A + key)}]`);
      assert.ok(ds[0].file?.endsWith('ingresses.yaml') && (ds[0].line ?? 0) > 0);
      assert.match(arch.stderr, new RegExp(`ANNOTATION_INVALID: Ingress default/${name}`));
    }
    await expectSeen([
      // no rewrite
      ['badrw.test', '/badrw/x?q', '/badrw/x?q'],
      // no redirect
      ['badroot.test', '/', '/'],
      // not a regex: prefix semantics, '.' literal
      ['badregex.test', '/u./x', '/u./x'],
      ['badregex.test', '/ux', 'HTTP 404'],
    ]);
    const res = await request(arch.port, '/', { host: 'badxfp.test' });
    assert.equal((JSON.parse(res.text) as EchoReply).headers['x-forwarded-prefix'], undefined);
  });
});

describe('user regexes cannot stall the process', () => {
  test('catastrophic-backtracking patterns answer long hostile paths fast', T, async () => {
    const hostile = `/${'a'.repeat(12_000)}!`;
    const t0 = performance.now();
    const res = await request(arch.port, hostile, { host: 'redos.test' });
    const ms = performance.now() - t0;
    assert.equal(res.status, 404);
    assert.ok(ms < 2000, `took ${ms.toFixed(0)} ms`);
    // and a matching path still matches
    await expectSeen([[`redos.test`, '/aaaa', '/aaaa']]);
    // many at once, while another host keeps answering
    const t1 = performance.now();
    await Promise.all([...Array.from({ length: 20 }, () => request(arch.port, hostile, { host: 'redos.test' })), request(arch.port, '/x', { host: 'regex.test' })]);
    assert.ok(performance.now() - t1 < 5000);
  });

  test('unsupported regex syntax (backreferences, lookaround) is reported; the rest of the Ingress serves', T, async () => {
    const ds = annotationDiagnostics('unsupported-regex').filter((d) => d.code === 'PATH_REGEX_INVALID');
    assert.deepEqual(ds.map((d) => d.field).sort(), ['spec.rules[0].http.paths[0].path', 'spec.rules[0].http.paths[1].path']);
    await expectSeen([['unsupported.test', '/fine', '/fine']]);
    const { res } = await rawOnce(arch.port, 'GET /aa HTTP/1.1\r\nHost: unsupported.test\r\nConnection: close\r\n\r\n');
    assert.equal(res.status, 404);
  });
});
