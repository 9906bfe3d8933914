// listManifestFiles / readManifestFile on a real temporary directory.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Diagnostic } from '../model/diagnostics.ts';
import { isManifestFile, listManifestFiles, MAX_MANIFEST_BYTES, readManifestFile } from './manifest-files.ts';

async function tree(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'archway-manifests-'));
  for (const [rel, text] of Object.entries(files)) {
    await mkdir(join(dir, rel, '..'), { recursive: true });
    await writeFile(join(dir, rel), text);
  }
  return dir;
}

const SVC = 'apiVersion: v1\nkind: Service\nmetadata: {name: a}\n';

test('isManifestFile: .yaml, .yml, .json, not hidden', () => {
  for (const n of ['a.yaml', 'a.yml', 'a.json', 'x.y.yaml']) assert.ok(isManifestFile(n), n);
  for (const n of ['a.txt', 'a.yaml~', '.a.yaml', 'yaml', 'a.YAML.bak']) assert.ok(!isManifestFile(n), n);
});

test('directories are walked recursively, sorted; hidden entries and other extensions skipped', async (t) => {
  const dir = await tree({
    'b.yaml': SVC, 'a.yml': SVC, 'c.json': '{}', 'notes.txt': 'x', '.hidden.yaml': SVC,
    'sub/z.yaml': SVC, 'sub/deeper/y.yaml': SVC, '.git/config.yaml': SVC,
  });
  t.after(() => rm(dir, { recursive: true, force: true }));
  const diags: Diagnostic[] = [];
  const files = await listManifestFiles([dir], diags);
  assert.deepEqual(diags, []);
  assert.deepEqual(files.map((f) => f.slice(dir.length + 1)), ['a.yml', 'b.yaml', 'c.json', 'sub/deeper/y.yaml', 'sub/z.yaml']);
});

test('explicit files are taken whatever their extension; duplicates removed; missing paths reported', async (t) => {
  const dir = await tree({ 'one.yaml': SVC, 'manifest.txt': SVC });
  t.after(() => rm(dir, { recursive: true, force: true }));
  const diags: Diagnostic[] = [];
  const files = await listManifestFiles([join(dir, 'manifest.txt'), dir, join(dir, 'one.yaml'), join(dir, 'missing.yaml')], diags);
  assert.deepEqual(files.map((f) => f.slice(dir.length + 1)), ['manifest.txt', 'one.yaml']);
  assert.deepEqual(diags.map((d) => [d.severity, d.code, d.file]), [['error', 'MANIFEST_PATH_UNREADABLE', join(dir, 'missing.yaml')]]);
});

test('readManifestFile parses the file with its path as origin', async (t) => {
  const dir = await tree({ 'a.yaml': `# c\n${SVC}` });
  t.after(() => rm(dir, { recursive: true, force: true }));
  const f = join(dir, 'a.yaml');
  const r = await readManifestFile(f);
  assert.deepEqual(r.diagnostics, []);
  assert.deepEqual(r.objects.map((o) => [o.kind, o.name, o.origin]), [['Service', 'a', { file: f, line: 2 }]]);
});

test('readManifestFile: unreadable and oversized files are reported, never thrown', async (t) => {
  const dir = await tree({});
  t.after(() => rm(dir, { recursive: true, force: true }));
  const missing = await readManifestFile(join(dir, 'nope.yaml'));
  assert.deepEqual(missing.objects, []);
  assert.equal(missing.diagnostics[0].code, 'MANIFEST_READ_ERROR');
  const big = join(dir, 'big.yaml');
  await writeFile(big, '');
  await truncate(big, MAX_MANIFEST_BYTES + 1); // sparse: cheap
  const r = await readManifestFile(big);
  assert.deepEqual(r.objects, []);
  assert.deepEqual(r.diagnostics.map((d) => [d.code, d.file]), [['MANIFEST_TOO_LARGE', big]]);
});
