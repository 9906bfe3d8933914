import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { flatString } from './flat-string.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
setFlagsFromString('--no-expose-gc');

/** Heap kept by 50,000 field paths built in pieces, as ingress.ts builds them, with or without flattening. */
function heapOfPaths(flatten: boolean): number {
  gc();
  const before = getHeapStatistics().used_heap_size;
  const kept: string[] = [];
  for (let i = 0; i < 50_000; i++) {
    const rule = `spec.rules[${i % 7}]`;
    const path = `${rule}.http.paths[${i}]`;
    const backend = `${path}.backend`;
    kept.push(flatten ? flatString(backend) : backend);
  }
  gc();
  const used = getHeapStatistics().used_heap_size - before;
  assert.equal(kept[12_345], 'spec.rules[4].http.paths[12345].backend');
  return used;
}

test('flatString keeps the same text and lets the pieces go', () => {
  assert.equal(flatString(`a${'b'.repeat(20)}${1}`), `a${'b'.repeat(20)}1`);
  const pieces = heapOfPaths(false);
  const flat = heapOfPaths(true);
  assert.ok(flat < pieces * 0.7, `flattened ${(flat / 2 ** 20).toFixed(1)} MB vs pieces ${(pieces / 2 ** 20).toFixed(1)} MB`);
});
