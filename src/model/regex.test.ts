// User regular expressions: RE2 (linear time), anchored, case-insensitive, size-limited.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileUserRegex, MAX_PATTERN_LENGTH, MAX_PROGRAM_SIZE, pathPatternSource } from './regex.ts';

function re(path: string) {
  const r = compileUserRegex(pathPatternSource(path));
  assert.notEqual(typeof r, 'string', `${path}: ${String(r)}`);
  return r as Exclude<typeof r, string>;
}

test('path patterns are anchored at the start (every alternative) and case-insensitive', () => {
  assert.ok(re('/api').test('/API/x'));
  assert.ok(!re('/api').test('/x/api'));
  assert.ok(re('/a|/b').test('/b'));
  assert.ok(!re('/a|/b').test('/x/b'));
  assert.ok(re('').test('/anything'));
});

test('the anchoring group does not capture: $1 is the first group of the path', () => {
  const m = re('/something(/|$)(.*)').matcher('/something/new');
  assert.ok(m.lookingAt());
  assert.equal(m.groupCount(), 2);
  assert.equal(m.group(2), 'new');
});

test('backreferences, lookaround and syntax errors are rejected with a reason, never thrown', () => {
  for (const p of ['/(a)\\1', '/(?=a)', '/(?!a)', '/(?<=a)b', '/(?<!a)b', '/a(', '/a)', '/[b-a]', '/a{2,1}', '/\\']) {
    const r = compileUserRegex(pathPatternSource(p));
    assert.equal(typeof r, 'string', p);
    assert.match(r as string, /unsupported regular expression/);
  }
});

test('long patterns and patterns that compile to huge programs are rejected', () => {
  assert.match(compileUserRegex('^' + 'a'.repeat(MAX_PATTERN_LENGTH)) as string, /longer than/);
  assert.notEqual(typeof compileUserRegex('^' + 'a'.repeat(MAX_PATTERN_LENGTH - 1)), 'string');
  // 20 x a{1000}: short text, ~20000 instructions.
  const big = compileUserRegex(pathPatternSource('/' + 'a{1000}'.repeat(20)));
  assert.match(big as string, /too large/);
  assert.match(big as string, new RegExp(String(MAX_PROGRAM_SIZE)));
  // Nested counted repetitions beyond RE2's own limit.
  assert.equal(typeof compileUserRegex(pathPatternSource('/((a{100}){100}){100}')), 'string');
  // Realistic patterns are far below the limit.
  for (const p of ['/api/v[0-9]+/users/[a-z0-9-]{1,64}/(.*)', '/(?:[a-z]{1,100}/){1,10}', '/something(/|$)(.*)']) re(p);
});

test('catastrophic-backtracking shapes run in linear time on RE2', () => {
  const r = re('/(a+)+$');
  // A backtracking engine would not return from this at all (2^50000 paths); RE2 answers at once.
  assert.equal(r.test('/' + 'a'.repeat(50_000) + '!'), false);
});
