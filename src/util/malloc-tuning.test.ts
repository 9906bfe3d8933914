import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { MALLOC_TUNABLES, runsOnGlibc, tunedEnvironment } from './malloc-tuning.ts';

test('tunedEnvironment adds the malloc tunables, keeping what the environment has', () => {
  assert.equal(tunedEnvironment({ PATH: '/bin' }, true)?.GLIBC_TUNABLES, MALLOC_TUNABLES);
  assert.equal(tunedEnvironment({ PATH: '/bin' }, true)?.PATH, '/bin');
  assert.equal(tunedEnvironment({ GLIBC_TUNABLES: 'glibc.rtld.optional_static_tls=2048' }, true)?.GLIBC_TUNABLES, `glibc.rtld.optional_static_tls=2048:${MALLOC_TUNABLES}`);
});

test('tunedEnvironment leaves alone: other C libraries, a user choice, an already tuned process', () => {
  assert.equal(tunedEnvironment({}, false), null);
  assert.equal(tunedEnvironment({ MALLOC_ARENA_MAX: '4' }, true), null);
  assert.equal(tunedEnvironment({ GLIBC_TUNABLES: 'glibc.malloc.arena_max=8' }, true), null);
  // glibc may rewrite the variable it parsed in place; what remains still names a malloc tunable.
  assert.equal(tunedEnvironment({ GLIBC_TUNABLES: 'glibc.malloc.mmap_threshold=131072' }, true), null);
});

test('bin/archway.js re-executes itself once with the tunables (same pid), on glibc', { skip: !runsOnGlibc() && 'not glibc', timeout: 20_000 }, () => {
  const bin = fileURLToPath(new URL('../../bin/archway.js', import.meta.url));
  // `archway help` prints and exits; the re-executed process sees the tunables in its environment.
  const env = { ...process.env };
  delete env.GLIBC_TUNABLES;
  const r = spawnSync(process.execPath, ['--import', 'data:text/javascript,process.on("exit",()=>process.stderr.write("tunables="+(process.env.GLIBC_TUNABLES??"")+" pid="+process.pid+"\\n"))', bin, 'help'], { env, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stderr.trim().split('\n').filter((l) => l.startsWith('tunables='));
  assert.equal(lines.length, 1, `one process ends (execve replaces the first): ${r.stderr}`);
  assert.match(lines[0], /tunables=glibc\.malloc\.mmap_threshold=131072/);
  assert.match(lines[0], new RegExp(`pid=${r.pid}$`));
});
