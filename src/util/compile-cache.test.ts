import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { envWithCompileCache } from './compile-cache.ts';

test('a child Node process gets the compile cache from its first module, unless the user chose one', () => {
  const env = envWithCompileCache({ PATH: '/usr/bin' });
  assert.equal(env.PATH, '/usr/bin');
  assert.ok(env.NODE_COMPILE_CACHE && existsSync(env.NODE_COMPILE_CACHE), `cache directory ${env.NODE_COMPILE_CACHE}`);
  const chosen = { NODE_COMPILE_CACHE: '/somewhere/else' };
  assert.equal(envWithCompileCache(chosen), chosen);
});
