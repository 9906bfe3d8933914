// Routing over HTTP (INGRESS-SEMANTICS.md "Host matching", "Path matching", "Default backend",
// "Ingress class"; issue 2 item 4): real Archway, real echo backends, real requests.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { EchoServer } from '../src/demo/echo-server.ts';
import {
  backend, closeAll, echoes, ingress, ingressClass, rawOnce, RawConn, request, rule, service, startArchway, who, yamlDocs, type Archway,
} from './harness.ts';

const T = { timeout: 10_000 };


let be: Record<string, EchoServer>;
const running: Archway[] = [];

before(async () => {
  be = await echoes('a', 'b', 'c', 'd', 'e', 'f');
});
after(async () => {
  for (const a of running) await a.stop();
  await closeAll(be);
});

/** Services svc-a .. svc-f, one per echo backend. */
function services(): string {
  return yamlDocs(...Object.entries(be).map(([n, s]) => service(`svc-${n}`, s.port)));
}

async function start(ingresses: string, args: string[] = []): Promise<Archway> {
  const a = await startArchway({ 'services.yaml': services(), 'ingresses.yaml': ingresses }, args);
  running.push(a);
  return a;
}

/** Asserts which backend (or status) answers each [host, path] pair. */
async function expectRoutes(port: number, cases: Array<[host: string | null, path: string, expected: string]>): Promise<void> {
  const got = await Promise.all(cases.map(([h, p]) => who(port, h, p)));
  const wrong = cases.map((c, i) => [...c, got[i]]).filter((r) => r[2] !== r[3]);
  assert.deepEqual(wrong, [], `wrong routes [host, path, expected, got]:\n${wrong.map((w) => JSON.stringify(w)).join('\n')}`);
}

describe('host matching', () => {
  let arch: Archway;
  before(async () => {
    arch = await start(yamlDocs(
      ingress('hosts', { rules: [
        rule('foo.com', [['/', 'Prefix', backend('svc-a')]]),
        rule('*.foo.com', [['/', 'Prefix', backend('svc-b')]]),
        rule(undefined, [['/', 'Prefix', backend('svc-c')]]),
      ] }),
      // A precise host that is also covered by the wildcard: precise wins.
      ingress('precise-under-wildcard', { rules: [rule('exact.foo.com', [['/', 'Prefix', backend('svc-d')]])] }),
    ));
  });

  test('precise host, then wildcard, then host-less rules', T, async () => {
    await expectRoutes(arch.port, [
      ['foo.com', '/', 'a'],
      ['bar.foo.com', '/x', 'b'],
      ['exact.foo.com', '/', 'd'],
      ['other.example', '/', 'c'],
      ['127.0.0.1', '/', 'c'],
    ]);
  });

  test('Host is compared case-insensitively and its :port is ignored', T, async () => {
    await expectRoutes(arch.port, [
      ['FOO.com', '/', 'a'],
      ['foo.com:8080', '/', 'a'],
      ['Foo.COM:1', '/', 'a'],
      ['BAR.Foo.Com:443', '/', 'b'],
      ['EXACT.FOO.COM:80', '/', 'd'],
    ]);
  });

  test('*.foo.com matches exactly one extra label', T, async () => {
    await expectRoutes(arch.port, [
      ['one.foo.com', '/', 'b'],
      ['two.one.foo.com', '/', 'c'],
      ['foo.com', '/', 'a'],
      ['xfoo.com', '/', 'c'],
    ]);
  });

  test('a fully qualified Host (trailing dot) is the same host', { ...T }, async () => {
    await expectRoutes(arch.port, [
      ['foo.com.', '/', 'a'],
      ['FOO.com.:8080', '/', 'a'],
      ['bar.foo.com.', '/', 'b'],
    ]);
  });

  test('absolute-form request target: its authority chooses the host', T, async () => {
    const { res } = await rawOnce(arch.port, 'GET http://bar.foo.com/abs HTTP/1.1\r\nHost: foo.com\r\nConnection: close\r\n\r\n');
    assert.equal(res.headers['x-echo-backend'], 'b');
  });

  test('HTTP/1.0 without Host reaches the host-less rules', T, async () => {
    const { res } = await rawOnce(arch.port, 'GET /plain HTTP/1.0\r\n\r\n');
    assert.equal(res.status, 200, res.body.toString());
    assert.equal(res.headers['x-echo-backend'], 'c');
  });
});

describe('path matching and precedence', () => {
  let arch: Archway;
  before(async () => {
    const h = 'paths.test';
    arch = await start(yamlDocs(
      ingress('paths', { rules: [rule(h, [
        ['/exact', 'Exact', backend('svc-a')],
        ['/foo', 'Prefix', backend('svc-b')],
        ['/foo/bar', 'Prefix', backend('svc-c')],
        ['/foo/bar', 'Exact', backend('svc-d')],
        ['/impl', 'ImplementationSpecific', backend('svc-e')],
        ['/trail/', 'Prefix', backend('svc-a')],
        ['/', 'Prefix', backend('svc-f')],
      ])] }),
      // Same host from a second Ingress using regexes: compared by length against the prefixes above.
      ingress('paths-regex', { rules: [rule(h, [
        ['/abc.', 'ImplementationSpecific', backend('svc-b')],
        ['/abcd/long.*', 'ImplementationSpecific', backend('svc-c')],
        ['/xyz.', 'ImplementationSpecific', backend('svc-e')],
      ])] }, { annotations: { 'nginx.ingress.kubernetes.io/use-regex': 'true' } }),
      ingress('paths-equal-length', { rules: [rule(h, [
        ['/abcd', 'Prefix', backend('svc-a')],
        ['/xyz1', 'Exact', backend('svc-d')],
      ])] }),
    ));
  });

  test('Exact is byte-for-byte, case-sensitive, trailing slash significant', T, async () => {
    await expectRoutes(arch.port, [
      ['paths.test', '/exact', 'a'],
      ['paths.test', '/exact?x=1', 'a'],
      ['paths.test', '/exact/', 'f'],
      ['paths.test', '/Exact', 'f'],
      ['paths.test', '/exactly', 'f'],
    ]);
  });

  test('Prefix matches element-wise on "/" segments', T, async () => {
    await expectRoutes(arch.port, [
      ['paths.test', '/foo', 'b'],
      ['paths.test', '/foo/', 'b'],
      ['paths.test', '/foo/x', 'b'],
      ['paths.test', '/foobar', 'f'],
      ['paths.test', '/foo/barbaz', 'b'],
      ['paths.test', '/foo/bar/', 'c'],
      ['paths.test', '/foo/bar/baz', 'c'],
      ['paths.test', '/FOO', 'f'],
      // A trailing slash on the rule is ignored.
      ['paths.test', '/trail', 'a'],
      ['paths.test', '/trail/x', 'a'],
      ['paths.test', '/trailer', 'f'],
      ['paths.test', '/', 'f'],
      ['paths.test', '/anything/else', 'f'],
    ]);
  });

  test('only the path is matched, never the query string', T, async () => {
    await expectRoutes(arch.port, [
      ['paths.test', '/foo?next=/foo/bar/baz', 'b'],
      ['paths.test', '/x?/exact', 'f'],
    ]);
  });

  test('at equal length Exact beats Prefix', T, async () => {
    await expectRoutes(arch.port, [['paths.test', '/foo/bar', 'd']]);
  });

  test('ImplementationSpecific without regex annotations has Prefix semantics', T, async () => {
    await expectRoutes(arch.port, [
      ['paths.test', '/impl', 'e'],
      ['paths.test', '/impl/x', 'e'],
      ['paths.test', '/implx', 'f'],
    ]);
  });

  test('regex paths: anchored at the start, case-insensitive, longest first, Exact > Prefix > regex at equal length', T, async () => {
    await expectRoutes(arch.port, [
      // Prefix /abcd (5) beats regex /abc. (5)
      ['paths.test', '/abcd', 'a'],
      ['paths.test', '/abce', 'b'],
      ['paths.test', '/ABCE', 'b'],
      // Prefix is case-sensitive, so /ABCD falls to the case-insensitive regex
      ['paths.test', '/ABCD', 'b'],
      // the longer regex beats the shorter prefix
      ['paths.test', '/abcd/longer', 'c'],
      ['paths.test', '/abcd/other', 'a'],
      // Exact /xyz1 (5) beats regex /xyz. (5)
      ['paths.test', '/xyz1', 'd'],
      ['paths.test', '/xyz2', 'e'],
      // anchored at the start
      ['paths.test', '/zz/abce', 'f'],
    ]);
  });
});

describe('merging, conflicts and default backends', () => {
  let arch: Archway;
  before(async () => {
    arch = await start(yamlDocs(
      ingress('merge-one', { rules: [rule('merged.test', [['/one', 'Prefix', backend('svc-a')]])] }),
      ingress('merge-two', { rules: [rule('merged.test', [['/two', 'Prefix', backend('svc-b')]])] }),
      // Conflict: the older creationTimestamp wins although its name sorts later.
      ingress('aaa-newer', { rules: [rule('conflict.test', [['/same', 'Prefix', backend('svc-d')]])] }, { creationTimestamp: '2021-01-01T00:00:00Z' }),
      ingress('zzz-older', { rules: [rule('conflict.test', [['/same', 'Prefix', backend('svc-e')]])] }, { creationTimestamp: '2020-01-01T00:00:00Z' }),
      // Without timestamps: namespace/name order.
      ingress('tie-b', { rules: [rule('tie.test', [['/t', 'Exact', backend('svc-b')]])] }),
      ingress('tie-a', { rules: [rule('tie.test', [['/t', 'Exact', backend('svc-a')]])] }),
      // Same path, different type: no conflict, both serve.
      ingress('type-differs', { rules: [rule('conflict.test', [['/same', 'Exact', backend('svc-f')]])] }),
      // defaultBackend of an Ingress with rules: its own hosts only.
      ingress('own-default', { rules: [rule('own.test', [['/x', 'Exact', backend('svc-a')]])], defaultBackend: backend('svc-b') }),
      // Rule-less Ingresses: the catch-all, oldest wins.
      ingress('catch-all-old', { defaultBackend: backend('svc-c') }, { creationTimestamp: '2019-01-01T00:00:00Z' }),
      ingress('catch-all-new', { defaultBackend: backend('svc-d') }, { creationTimestamp: '2022-01-01T00:00:00Z' }),
      // A wildcard host without default backend: unmatched paths are Archway's 404, not the catch-all.
      ingress('wild-no-default', { rules: [rule('*.wild.test', [['/x', 'Exact', backend('svc-e')]])] }),
    ));
  });

  test('rules for one host are merged across Ingresses', T, async () => {
    await expectRoutes(arch.port, [
      ['merged.test', '/one', 'a'],
      ['merged.test', '/two/x', 'b'],
    ]);
  });

  test('identical host+path+type: the older Ingress wins, the loser gets a diagnostic', T, async () => {
    await expectRoutes(arch.port, [
      ['conflict.test', '/same/x', 'e'],
      ['conflict.test', '/same', 'f'],
      ['tie.test', '/t', 'a'],
    ]);
    const conflicts = arch.diagnostics.filter((d) => d.code === 'PATH_CONFLICT');
    assert.deepEqual(conflicts.map((d) => d.object).sort(), ['Ingress default/aaa-newer', 'Ingress default/tie-b']);
    const c = conflicts.find((d) => d.object === 'Ingress default/aaa-newer')!;
    assert.match(c.message, /default\/zzz-older/);
    assert.equal(c.field, 'spec.rules[0].http.paths[0].path');
    assert.ok(c.file?.endsWith('ingresses.yaml') && typeof c.line === 'number' && c.line > 1, JSON.stringify(c));
    assert.match(arch.stderr, /PATH_CONFLICT: Ingress default\/aaa-newer/);
  });

  test('an Ingress defaultBackend serves unmatched paths of its own hosts only', T, async () => {
    await expectRoutes(arch.port, [
      ['own.test', '/x', 'a'],
      ['own.test', '/y', 'b'],
      ['OWN.test:99', '/', 'b'],
    ]);
  });

  test('the oldest rule-less defaultBackend is the catch-all for any Host and a bare IP', T, async () => {
    await expectRoutes(arch.port, [
      ['unknown.test', '/', 'c'],
      ['127.0.0.1', '/deep/path?q=1', 'c'],
      ['[::1]:8080', '/', 'c'],
    ]);
    const d = arch.diagnostics.find((x) => x.code === 'DEFAULT_BACKEND_CONFLICT');
    assert.equal(d?.object, 'Ingress default/catch-all-new');
  });

  test('the catch-all also receives HTTP/1.0 requests without Host', T, async () => {
    const { res } = await rawOnce(arch.port, 'GET / HTTP/1.0\r\n\r\n');
    assert.equal(res.headers['x-echo-backend'], 'c', `${res.status} ${res.body}`);
  });

  test('a matched host with no matching path does not fall to the catch-all', T, async () => {
    await expectRoutes(arch.port, [
      ['a.wild.test', '/x', 'e'],
      ['a.wild.test', '/y', 'HTTP 404'],
      ['merged.test', '/three', 'HTTP 404'],
    ]);
  });
});

describe('controller default backend and Archway 404', () => {
  test('--default-backend-service answers whatever no rule matches', T, async () => {
    const arch = await start(yamlDocs(
      ingress('only', { rules: [rule('only.test', [['/x', 'Exact', backend('svc-a')]])] }),
    ), ['--default-backend-service', 'default/svc-f']);
    await expectRoutes(arch.port, [
      ['only.test', '/x', 'a'],
      ['only.test', '/y', 'f'],
      ['other.test', '/', 'f'],
    ]);
  });

  test('--default-backend-service with an explicit port name', T, async () => {
    const arch = await start(yamlDocs(
      ingress('only', { rules: [rule('only.test', [['/x', 'Exact', backend('svc-a')]])] }),
    ), ['--default-backend-service', 'default/svc-e:http']);
    await expectRoutes(arch.port, [['other.test', '/', 'e']]);
  });

  test('--default-backend-service naming a missing Service: reported, and unmatched requests get 503', T, async () => {
    const arch = await start(yamlDocs(
      ingress('only', { rules: [rule('only.test', [['/x', 'Exact', backend('svc-a')]])] }),
    ), ['--default-backend-service', 'default/nowhere']);
    await expectRoutes(arch.port, [
      ['only.test', '/x', 'a'],
      ['other.test', '/', 'HTTP 503'],
    ]);
    assert.ok(arch.diagnostics.some((d) => d.code === 'SERVICE_NOT_FOUND' && /--default-backend-service/.test(d.message)), JSON.stringify(arch.diagnostics));
  });

  test('a rule-less Ingress defaultBackend comes before --default-backend-service', T, async () => {
    const arch = await start(yamlDocs(
      ingress('catch', { defaultBackend: backend('svc-c') }),
    ), ['--default-backend-service', 'default/svc-f']);
    await expectRoutes(arch.port, [['other.test', '/', 'c']]);
  });

  test("without any default, Archway answers 404 itself: small body, Server and Date headers", T, async () => {
    const arch = await start(yamlDocs(
      ingress('only', { rules: [rule('only.test', [['/x', 'Exact', backend('svc-a')]])] }),
    ));
    const res = await request(arch.port, '/nothing', { host: 'nobody.test' });
    assert.equal(res.status, 404);
    assert.equal(res.headers.server, 'archway');
    assert.ok(res.headers.date);
    assert.ok(res.body.length > 0 && res.body.length < 200, `body of ${res.body.length} bytes`);
    assert.equal(res.headers['content-length'], String(res.body.length));
    const head = await request(arch.port, '/nothing', { host: 'nobody.test', method: 'HEAD' });
    assert.equal(head.status, 404);
    assert.equal(head.body.length, 0);
    // The connection stays usable after a local 404.
    const conn = await RawConn.open(arch.port);
    try {
      conn.write('GET /a HTTP/1.1\r\nHost: nobody.test\r\n\r\n');
      assert.equal((await conn.response()).status, 404);
      conn.write('GET /x HTTP/1.1\r\nHost: only.test\r\n\r\n');
      const r = await conn.response();
      assert.equal(r.headers['x-echo-backend'], 'a');
    } finally {
      conn.destroy();
    }
  });
});

describe('ingress class selection', () => {
  const ours = 'archway.dev/ingress-controller';
  const classes = [ingressClass('ours', ours), ingressClass('theirs', 'example.com/other')];
  const ings = [
    ingress('by-class-ours', { rules: [rule('ours.test', [['/', 'Prefix', backend('svc-a')]])] }, { className: 'ours' }),
    ingress('by-class-theirs', { rules: [rule('theirs.test', [['/', 'Prefix', backend('svc-b')]])] }, { className: 'theirs' }),
    ingress('by-class-missing', { rules: [rule('missing.test', [['/', 'Prefix', backend('svc-b')]])] }, { className: 'nope' }),
    ingress('legacy-ours', { rules: [rule('legacy.test', [['/', 'Prefix', backend('svc-c')]])] }, { annotations: { 'kubernetes.io/ingress.class': 'archway' } }),
    ingress('legacy-theirs', { rules: [rule('legacy-theirs.test', [['/', 'Prefix', backend('svc-b')]])] }, { annotations: { 'kubernetes.io/ingress.class': 'nginx' } }),
    ingress('no-class', { rules: [rule('noclass.test', [['/', 'Prefix', backend('svc-d')]])] }),
  ];

  test('default flags: our class, our legacy annotation and class-less Ingresses are served', T, async () => {
    const arch = await start(yamlDocs(...classes, ...ings));
    await expectRoutes(arch.port, [
      ['ours.test', '/', 'a'],
      ['theirs.test', '/', 'HTTP 404'],
      ['missing.test', '/', 'HTTP 404'],
      ['legacy.test', '/', 'c'],
      ['legacy-theirs.test', '/', 'HTTP 404'],
      ['noclass.test', '/', 'd'],
    ]);
    const notServed = arch.diagnostics.filter((d) => d.code === 'INGRESS_NOT_SERVED').map((d) => d.object).sort();
    assert.deepEqual(notServed, ['Ingress default/by-class-missing', 'Ingress default/by-class-theirs', 'Ingress default/legacy-theirs']);
  });

  test('--watch-ingress-without-class=false: class-less Ingresses are not served', T, async () => {
    const arch = await start(yamlDocs(...classes, ...ings), ['--watch-ingress-without-class=false']);
    await expectRoutes(arch.port, [
      ['ours.test', '/', 'a'],
      ['noclass.test', '/', 'HTTP 404'],
    ]);
  });

  test('--no-watch-ingress-without-class, but one of our classes is the default class', T, async () => {
    const arch = await start(yamlDocs(ingressClass('ours', ours, true), ...ings), ['--no-watch-ingress-without-class']);
    await expectRoutes(arch.port, [['noclass.test', '/', 'd']]);
  });

  test('--ingress-class and --controller-name choose what is ours', T, async () => {
    const arch = await start(yamlDocs(...classes, ...ings, ingress('legacy-custom', { rules: [rule('custom.test', [['/', 'Prefix', backend('svc-e')]])] }, { annotations: { 'kubernetes.io/ingress.class': 'custom' } })),
      ['--ingress-class', 'custom', '--controller-name', 'example.com/other']);
    await expectRoutes(arch.port, [
      ['ours.test', '/', 'HTTP 404'],
      ['theirs.test', '/', 'b'],
      ['legacy.test', '/', 'HTTP 404'],
      ['custom.test', '/', 'e'],
    ]);
  });
});

describe('v1beta1 manifests', () => {
  test('networking.k8s.io/v1beta1 and extensions/v1beta1 Ingresses are served', T, async () => {
    const arch = await start(yamlDocs(
      {
        apiVersion: 'networking.k8s.io/v1beta1', kind: 'Ingress', metadata: { name: 'beta-net' },
        spec: {
          backend: { serviceName: 'svc-f', servicePort: 80 },
          rules: [{ host: 'beta.test', http: { paths: [
            { path: '/num', backend: { serviceName: 'svc-a', servicePort: 80 } },
            { path: '/exact', pathType: 'Exact', backend: { serviceName: 'svc-c', servicePort: 80 } },
          ] } }],
        },
      },
      {
        apiVersion: 'extensions/v1beta1', kind: 'Ingress', metadata: { name: 'beta-ext' },
        spec: { rules: [{ host: 'ext.test', http: { paths: [{ path: '/named', backend: { serviceName: 'svc-b', servicePort: 'http' } }] } }] },
      },
      {
        apiVersion: 'extensions/v1beta1', kind: 'Ingress', metadata: { name: 'beta-catch-all' },
        spec: { backend: { serviceName: 'svc-d', servicePort: 'http' } },
      },
    ));
    await expectRoutes(arch.port, [
      // a missing pathType is ImplementationSpecific: prefix semantics
      ['beta.test', '/num', 'a'],
      ['beta.test', '/num/x', 'a'],
      ['beta.test', '/exact', 'c'],
      ['beta.test', '/exact/x', 'f'],
      // spec.backend of an Ingress with rules: its own host
      ['beta.test', '/other', 'f'],
      ['ext.test', '/named/y', 'b'],
      // spec.backend of a rule-less Ingress: the catch-all
      ['nobody.test', '/', 'd'],
    ]);
    assert.deepEqual(arch.diagnostics.filter((d) => d.severity !== 'info'), []);
  });
});
