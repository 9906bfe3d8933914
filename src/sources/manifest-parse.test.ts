// parseManifestText: multi-document YAML, List, JSON, line numbers, bad input reported and never thrown.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseManifestText } from './manifest-parse.ts';

const SVC = (name: string, extra = '') => `apiVersion: v1\nkind: Service\nmetadata:\n  name: ${name}\n${extra}spec:\n  ports:\n  - port: 80\n`;
const summary = (r: ReturnType<typeof parseManifestText>) => r.objects.map((o) => `${o.kind} ${o.namespace}/${o.name} @${o.origin?.file}:${o.origin?.line}`);

test('multi-document YAML: every document, each with the line it starts on; empty documents skipped', () => {
  const text = `# leading comment\n---\n${SVC('a')}---\n---\n# only a comment\n---\n${SVC('b')}...\n---\n${SVC('c')}---\n`;
  const r = parseManifestText(text, 'm.yaml');
  assert.deepEqual(r.diagnostics, []);
  assert.deepEqual(summary(r), ['Service default/a @m.yaml:3', 'Service default/b @m.yaml:14', 'Service default/c @m.yaml:23']);
  assert.equal(text.split('\n')[13], 'apiVersion: v1', 'line 14 starts document b');
  assert.deepEqual(r.objects[0].raw, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'a' }, spec: { ports: [{ port: 80 }] } });
  assert.equal(r.objects[0].apiVersion, 'v1');
});

test('an empty file or a file of comments yields nothing', () => {
  for (const text of ['', '\n\n', '# nothing\n', '---\n---\n']) assert.deepEqual(parseManifestText(text, 'e.yaml'), { objects: [], diagnostics: [] }, JSON.stringify(text));
});

test('kind: List: every item, each with its own line number', () => {
  const text = [
    'apiVersion: v1',
    'kind: List',
    'items:',
    '- apiVersion: v1',
    '  kind: Service',
    '  metadata: {name: one}',
    '- apiVersion: networking.k8s.io/v1',
    '  kind: IngressClass',
    '  metadata: {name: cls, namespace: ignored}',
    '  spec: {controller: x}',
    '- apiVersion: apps/v1',
    '  kind: Deployment',
    '  metadata: {name: dep}',
    '- apiVersion: v1',
    '  kind: Service',
    '  metadata: {name: two, namespace: shop}',
  ].join('\n');
  const r = parseManifestText(text, 'list.yaml');
  assert.deepEqual(summary(r), ['Service default/one @list.yaml:4', 'IngressClass /cls @list.yaml:7', 'Service shop/two @list.yaml:14']);
  assert.deepEqual(r.diagnostics.map((d) => [d.severity, d.code, d.line, d.object]), [['info', 'MANIFEST_KIND_IGNORED', 11, 'Deployment dep']]);
});

test('a JSON file (single object or List) parses, with line numbers', () => {
  const single = parseManifestText('{\n  "apiVersion": "v1",\n  "kind": "Service",\n  "metadata": {"name": "j", "namespace": "x"}\n}\n', 's.json');
  assert.deepEqual(single.diagnostics, []);
  assert.deepEqual(summary(single), ['Service x/j @s.json:1']);
  const list = parseManifestText(
    '{"apiVersion": "v1", "kind": "List", "items": [\n  {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "a"}},\n\n  {"apiVersion": "v1", "kind": "Endpoints", "metadata": {"name": "a"}}\n]}',
    'l.json',
  );
  assert.deepEqual(list.diagnostics, []);
  assert.deepEqual(summary(list), ['Service default/a @l.json:2', 'Endpoints default/a @l.json:4']);
});

test('malformed YAML: reported with a line, the other documents still parsed', () => {
  const text = `${SVC('a')}---\napiVersion: v1\nkind: Service\nmetadata:\n  name: b\n  labels: [unclosed\n---\n${SVC('c')}`;
  const r = parseManifestText(text, 'bad.yaml');
  assert.deepEqual(summary(r), ['Service default/a @bad.yaml:1', 'Service default/c @bad.yaml:15']);
  assert.ok(r.diagnostics.length >= 1);
  for (const d of r.diagnostics) {
    assert.equal(d.code, 'MANIFEST_PARSE_ERROR');
    assert.equal(d.severity, 'error');
    assert.equal(d.file, 'bad.yaml');
    assert.ok(d.line !== undefined && d.line >= 9 && d.line <= 14, `line ${d.line} inside the broken document`);
    assert.match(d.message, /skipped/);
  }
});

test('one parse mistake reported several times at the same line is reported once', () => {
  const r = parseManifestText('this: is: not: yaml\n', 'x.yml');
  const keys = r.diagnostics.map((d) => `${d.line} ${d.message}`);
  assert.ok(keys.length >= 1);
  assert.equal(new Set(keys).size, keys.length, JSON.stringify(keys));
});

test('malformed JSON is reported, never thrown', () => {
  const r = parseManifestText('{"apiVersion": "v1", "kind": "Service",\n "metadata": {"name": "x"}', 'bad.json');
  assert.deepEqual(r.objects, []);
  assert.equal(r.diagnostics[0].code, 'MANIFEST_PARSE_ERROR');
  assert.equal(typeof r.diagnostics[0].line, 'number');
});

test('duplicate keys are an error for that document', () => {
  const text = `${SVC('a')}---\napiVersion: v1\nkind: Service\nmetadata:\n  name: b\n  name: c\n`;
  const r = parseManifestText(text, 'dup.yaml');
  assert.deepEqual(summary(r), ['Service default/a @dup.yaml:1']);
  assert.deepEqual(r.diagnostics.map((d) => [d.code, d.line]), [['MANIFEST_PARSE_ERROR', 13]]);
  assert.match(r.diagnostics[0].message, /unique/i);
});

test('unknown kinds are reported as info MANIFEST_KIND_IGNORED, not errors', () => {
  const r = parseManifestText('apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n---\napiVersion: v1\nkind: ConfigMap\n', 'k.yaml');
  assert.deepEqual(r.objects, []);
  assert.deepEqual(r.diagnostics.map((d) => [d.severity, d.code, d.line, d.object]), [
    ['info', 'MANIFEST_KIND_IGNORED', 1, 'Deployment web'],
    ['info', 'MANIFEST_KIND_IGNORED', 6, 'ConfigMap'],
  ]);
});

test('apiVersion must be one the kind accepts', () => {
  const cases: Array<[string, string, boolean]> = [
    ['Ingress', 'networking.k8s.io/v1', true],
    ['Ingress', 'networking.k8s.io/v1beta1', true],
    ['Ingress', 'extensions/v1beta1', true],
    ['Ingress', 'v1', false],
    ['IngressClass', 'networking.k8s.io/v1beta1', true],
    ['IngressClass', 'extensions/v1beta1', false],
    ['EndpointSlice', 'discovery.k8s.io/v1', true],
    ['EndpointSlice', 'discovery.k8s.io/v1beta1', false],
    ['Service', 'v2', false],
    ['Secret', 'v1', true],
    ['Namespace', 'v1', true],
  ];
  for (const [kind, apiVersion, ok] of cases) {
    const r = parseManifestText(`apiVersion: ${apiVersion}\nkind: ${kind}\nmetadata: {name: x}\n`, 'v.yaml');
    assert.equal(r.objects.length, ok ? 1 : 0, `${kind} ${apiVersion}`);
    if (!ok) assert.deepEqual(r.diagnostics.map((d) => [d.severity, d.code, d.field, d.line]), [['error', 'MANIFEST_BAD_API_VERSION', 'apiVersion', 1]]);
  }
  const missing = parseManifestText('kind: Service\nmetadata: {name: x}\n', 'v.yaml');
  assert.equal(missing.diagnostics[0].code, 'MANIFEST_BAD_API_VERSION');
});

test('kind, metadata and metadata.name are required; documents must be mappings', () => {
  const code = (text: string) => parseManifestText(text, 'x.yaml').diagnostics.map((d) => `${d.code} ${d.field ?? ''}`.trim());
  assert.deepEqual(code('apiVersion: v1\nmetadata: {name: x}\n'), ['MANIFEST_NO_KIND kind']);
  assert.deepEqual(code('apiVersion: v1\nkind: Service\n'), ['MANIFEST_NO_METADATA metadata']);
  assert.deepEqual(code('apiVersion: v1\nkind: Service\nmetadata: {namespace: a}\n'), ['MANIFEST_NO_NAME metadata.name']);
  assert.deepEqual(code('apiVersion: v1\nkind: Service\nmetadata: {name: ""}\n'), ['MANIFEST_NO_NAME metadata.name']);
  assert.deepEqual(code('apiVersion: v1\nkind: Service\nmetadata: {name: 5}\n'), ['MANIFEST_NO_NAME metadata.name']);
  assert.deepEqual(code('- a\n- b\n'), ['MANIFEST_NOT_AN_OBJECT']);
  assert.deepEqual(code('just a string\n'), ['MANIFEST_NOT_AN_OBJECT']);
});

test('namespace: defaulted to "default" for namespaced kinds, empty for cluster-scoped kinds, validated', () => {
  const r = parseManifestText([
    'apiVersion: v1\nkind: Service\nmetadata: {name: a}',
    'apiVersion: v1\nkind: Service\nmetadata: {name: b, namespace: ""}',
    'apiVersion: v1\nkind: Service\nmetadata: {name: c, namespace: shop}',
    'apiVersion: networking.k8s.io/v1\nkind: IngressClass\nmetadata: {name: d, namespace: shop}',
    'apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}',
    'apiVersion: v1\nkind: Service\nmetadata: {name: e, namespace: Bad_NS}',
  ].join('\n---\n'), 'n.yaml');
  assert.deepEqual(r.objects.map((o) => `${o.kind} [${o.namespace}] ${o.name}`), ['Service [default] a', 'Service [default] b', 'Service [shop] c', 'IngressClass [] d', 'Namespace [] shop']);
  assert.deepEqual(r.diagnostics.map((d) => [d.code, d.field, d.line]), [['MANIFEST_BAD_NAMESPACE', 'metadata.namespace', 21]]);
});

test('a YAML alias bomb is rejected, and the other documents still load', () => {
  const bomb = [
    'apiVersion: v1', 'kind: Service', 'metadata:', '  name: bomb', '  annotations:',
    '    a: &a ["x","x","x","x","x","x","x","x","x","x"]',
    '    b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]',
    '    c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]',
    '    d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]',
    '    e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]',
    '    f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e,*e]',
    '    g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f,*f]',
    '    h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g,*g]',
    '    i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h,*h]',
  ].join('\n');
  const r = parseManifestText(`${bomb}\n---\n${SVC('fine')}`, 'bomb.yaml');
  assert.deepEqual(summary(r), ['Service default/fine @bomb.yaml:16']);
  assert.deepEqual(r.diagnostics.map((d) => [d.code, d.line]), [['MANIFEST_PARSE_ERROR', 1]]);
  assert.match(r.diagnostics[0].message, /alias/i);
  // A few aliases are ordinary YAML.
  const ok = parseManifestText('apiVersion: v1\nkind: Service\nmetadata:\n  name: &n web\n  labels: {app: *n}\n', 'ok.yaml');
  assert.deepEqual(ok.diagnostics, []);
  assert.deepEqual(ok.objects[0].raw.metadata, { name: 'web', labels: { app: 'web' } });
});

test('YAML 1.2 scalars: unquoted timestamps and "yes"/"on" stay strings; numbers stay numbers', () => {
  const r = parseManifestText('apiVersion: v1\nkind: Service\nmetadata:\n  name: a\n  creationTimestamp: 2024-01-01T00:00:00Z\n  annotations: {x: yes, y: on}\nspec:\n  ports: [{port: 80, targetPort: 8080}]\n', 'y.yaml');
  const raw = r.objects[0].raw as { metadata: { creationTimestamp: unknown; annotations: unknown }; spec: { ports: unknown } };
  assert.equal(raw.metadata.creationTimestamp, '2024-01-01T00:00:00Z');
  assert.deepEqual(raw.metadata.annotations, { x: 'yes', y: 'on' });
  assert.deepEqual(raw.spec.ports, [{ port: 80, targetPort: 8080 }]);
});
