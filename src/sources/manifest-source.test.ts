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

    // A line added above c moves it: a new instance carrying its new line (diagnostics point at it).
    write(file, [svc('a', 80), `${svc('b', 81)}# a comment\n`, svc('c', 80)].join('---\n'), 4);
    assert.equal((await source.refresh()).kinds.size, 0, 'moving an object is no change of content');
    const moved = source.snapshot().store.list('Service');
    assert.equal(moved[0], before[0]);
    assert.notEqual(moved[2], before[2]);
    assert.equal(moved[2].origin?.line, before[2].origin!.line + 1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
