import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManifestSource } from './manifest-source.ts';

const svc = (name: string, port: number) => `apiVersion: v1\nkind: Service\nmetadata:\n  name: ${name}\nspec:\n  ports:\n  - port: ${port}\n`;

/** Writes and moves the mtime on, so the source sees a new stat signature even within one clock tick. */
function write(file: string, text: string, tick: number): void {
  writeFileSync(file, text);
  const t = new Date(Date.now() + tick * 1000);
  utimesSync(file, t, t);
}

test('a file read again keeps the instances of its unchanged objects and reports only the kinds that changed', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'archway-source-'));
  try {
    const file = join(dir, 'all.yaml');
    write(file, [svc('a', 80), svc('b', 80), svc('c', 80)].join('---\n'), 1);
    const source = new ManifestSource([dir]);
    assert.deepEqual([...(await source.loadAll()).kinds], ['Service']);
    const before = source.snapshot().store.list('Service');

    // b changes in place (same number of lines): a and c keep their instances.
    write(file, [svc('a', 80), svc('b', 81), svc('c', 80)].join('---\n'), 2);
    const change = await source.refresh();
    assert.deepEqual([...change.kinds], ['Service']);
    const after = source.snapshot().store.list('Service');
    assert.equal(after[0], before[0]);
    assert.notEqual(after[1], before[1]);
    assert.equal(after[2], before[2]);

    // The same content written again: nothing changed, and every instance is kept.
    write(file, [svc('a', 80), svc('b', 81), svc('c', 80)].join('---\n'), 3);
    assert.equal((await source.refresh()).kinds.size, 0);
    assert.equal(source.snapshot().store.list('Service')[1], after[1]);

    // A line added above c moves it: the same instance, now carrying its new line (everything memoised
    // for it stays valid; the controller gives older diagnostics about it the new line).
    const lineOfC = after[2].origin!.line;
    write(file, [svc('a', 80), `${svc('b', 81)}# a comment\n`, svc('c', 80)].join('---\n'), 4);
    assert.equal((await source.refresh()).kinds.size, 0, 'moving an object is no change of content');
    const moved = source.snapshot().store.list('Service');
    assert.equal(moved[0], before[0]);
    assert.equal(moved[2], after[2]);
    assert.equal(moved[2].origin?.line, lineOfC + 1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the store kept across refreshes equals one read from scratch, duplicates across files included', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'archway-source-'));
  try {
    const source = new ManifestSource([dir]);
    await source.loadAll();
    // Seeded edits over four files defining overlapping Services: a name defined in several files is
    // served from the first file in path order (then the first line), the others are duplicates.
    let seed = 11;
    const int = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
    const files = ['a.yaml', 'b.yaml', 'c.yaml', 'd.yaml'].map((f) => join(dir, f));
    const present = new Set<string>();
    for (let step = 0; step < 60; step++) {
      const file = files[int(files.length)];
      if (int(5) === 0 && present.has(file)) {
        rmSync(file);
        present.delete(file);
      } else {
        const docs = Array.from({ length: 1 + int(4) }, () => svc(`s${int(6)}`, 80 + int(3)));
        write(file, docs.join('---\n'), step + 1);
        present.add(file);
      }
      await source.refresh();
      const fresh = new ManifestSource([dir]);
      await fresh.loadAll();
      const kept = source.snapshot();
      const scratch = fresh.snapshot();
      const view = (objs: readonly { namespace: string; name: string; raw: unknown; origin?: { file: string; line: number } }[]) =>
        objs.map((o) => `${o.namespace}/${o.name} ${JSON.stringify(o.raw)} ${o.origin?.file}:${o.origin?.line}`);
      assert.deepEqual(view(kept.store.list('Service')), view(scratch.store.list('Service')), `step ${step}`);
      const dups = (d: typeof kept.diagnostics) => d.filter((x) => x.code === 'MANIFEST_DUPLICATE_OBJECT').map((x) => `${x.file}:${x.line} ${x.message}`).sort();
      assert.deepEqual(dups(kept.diagnostics), dups(scratch.diagnostics), `step ${step}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an object defined in two files is served from the first in path order, and from the other once that file goes', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'archway-source-'));
  try {
    write(join(dir, 'b.yaml'), svc('s', 82), 1);
    write(join(dir, 'a.yaml'), `# first\n${svc('s', 81)}`, 1);
    const source = new ManifestSource([dir]);
    await source.loadAll();
    const served = () => source.snapshot().store.get('Service', 'default', 's')?.origin?.file;
    assert.equal(served(), join(dir, 'a.yaml'));
    assert.deepEqual(source.snapshot().diagnostics.map((d) => `${d.code} ${d.file}`), [`MANIFEST_DUPLICATE_OBJECT ${join(dir, 'b.yaml')}`]);
    rmSync(join(dir, 'a.yaml'));
    await source.refresh();
    assert.equal(served(), join(dir, 'b.yaml'));
    assert.deepEqual(source.snapshot().diagnostics, []);
    write(join(dir, 'a.yaml'), svc('s', 83), 2);
    await source.refresh();
    assert.equal(served(), join(dir, 'a.yaml'));
    rmSync(join(dir, 'a.yaml'));
    rmSync(join(dir, 'b.yaml'));
    await source.refresh();
    assert.equal(served(), undefined);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an object defined twice alike in one file stays two definitions when the file moves them', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'archway-source-'));
  try {
    const file = join(dir, 'twice.yaml');
    write(file, [svc('s', 80), svc('s', 80)].join('---\n'), 1);
    const source = new ManifestSource([dir]);
    await source.loadAll();
    const first = source.snapshot().store.get('Service', 'default', 's')!.origin!.line;
    write(file, `# moved\n${[svc('s', 80), svc('s', 80)].join('---\n')}`, 2);
    await source.refresh();
    const snap = source.snapshot();
    assert.equal(snap.store.get('Service', 'default', 's')!.origin!.line, first + 1, 'served from the first definition, at its new line');
    assert.deepEqual(snap.diagnostics.map((d) => d.code), ['MANIFEST_DUPLICATE_OBJECT']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
