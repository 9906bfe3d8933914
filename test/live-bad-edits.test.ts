// Issue 4 item 4 (bad edits lose nothing): a file that stops parsing or an object that becomes invalid
// keeps its last good version serving and is reported; the fix applies. A random storm of edits (valid,
// broken YAML, invalid objects, truncated, empty, deleted and recreated files) never crashes Archway and
// ends serving exactly what a fresh start on the final files serves.

import assert from 'node:assert/strict';
import { open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { after, before, describe, test } from 'node:test';
import type { EchoServer } from '../src/demo/echo-server.ts';
import type { Diagnostic } from '../src/model/diagnostics.ts';
import type { RoutingTable } from '../src/snapshot/table.ts';
import { adminJson, backend, closeAll, echoes, ingress, manifestDir, request, rule, service, sleep, spawnArchway, startArchway, who, yamlDocs, type Archway, type ArchwayProcess } from './harness.ts';
import { dumpOnError, muteStderr, prng, readManifests, removeFile, waitFor, writeInPlace, writeRename } from './live-harness.ts';

const stderr = muteStderr();
const created = { creationTimestamp: '2024-01-01T00:00:00Z' };

let be: Record<string, EchoServer>;

before(async () => {
  be = await echoes('a', 'b');
});
after(async () => {
  await closeAll(be);
  stderr.restore();
});

function services(): string {
  return yamlDocs(service('a', be.a.port), service('b', be.b.port));
}

/** Ingress `name` on `host` with the given Exact paths -> backends. */
function ing(name: string, host: string, paths: Record<string, string>, apiVersion?: string): string {
  const o = ingress(name, { rules: [rule(host, Object.entries(paths).map(([p, svc]) => [p, 'Exact', backend(svc)]))] }, created);
  if (apiVersion) o.apiVersion = apiVersion;
  return yamlDocs(o);
}

/** Lets a refresh that may be under way finish; ~3 debounce periods. */
const settle = () => sleep(200);

/** Requests `path` on `host` back to back for `ms`; returns the distinct answers (backend or HTTP status). */
async function answersDuring(arch: { port: number }, host: string, path: string, ms: number): Promise<Set<string>> {
  const seen = new Set<string>();
  const until = performance.now() + ms;
  while (performance.now() < until) seen.add(await who(arch.port, host, path));
  return seen;
}

async function diagnostics(adminPort: number): Promise<Diagnostic[]> {
  return adminJson<Diagnostic[]>(adminPort, '/diagnostics');
}

describe('bad edits keep the last good version', () => {
  let arch: Archway;

  before(async () => {
    arch = await dumpOnError(stderr, () =>
      startArchway({ 'svc.yaml': services(), 'app.yaml': ing('app', 'bad.test', { '/v1': 'a' }), 'other.yaml': ing('other', 'other.test', { '/': 'b' }) }),
    );
  });
  after(() => arch.stop());

  test('broken YAML: the routes keep serving, a diagnostic names the file; the fix applies', { timeout: 10_000 }, async () => {
    assert.equal(await who(arch.port, 'bad.test', '/v1'), 'a');
    await writeInPlace(arch.dir, 'app.yaml', 'apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: app\nspec: [\n');
    const diag = await waitFor('a parse error for app.yaml in /diagnostics', async () =>
      (await diagnostics(arch.adminPort)).find((d) => d.code === 'MANIFEST_PARSE_ERROR' && d.file?.endsWith('/app.yaml')), 2000);
    assert.equal(diag.severity, 'error');
    assert.ok((diag.line ?? 0) >= 1, 'the diagnostic has a line');
    const kept = (await diagnostics(arch.adminPort)).find((d) => d.code === 'LAST_GOOD_KEPT' && d.object === 'Ingress default/app');
    assert.ok(kept, 'the kept object is reported');
    assert.deepEqual(await answersDuring(arch, 'bad.test', '/v1', 300), new Set(['a']));
    assert.equal(await who(arch.port, 'other.test', '/'), 'b', 'other files are not affected');

    await writeInPlace(arch.dir, 'app.yaml', ing('app', 'bad.test', { '/v2': 'b' }));
    await waitFor('the fixed file to serve', async () => (await who(arch.port, 'bad.test', '/v2')) === 'b', 2000);
    assert.equal(await who(arch.port, 'bad.test', '/v1'), 'HTTP 404', 'the fix replaces the kept version');
    const left = (await diagnostics(arch.adminPort)).filter((d) => d.file?.endsWith('/app.yaml'));
    assert.deepEqual(left, [], 'the diagnostics of the fixed file are gone');
  });

  test('an invalid Ingress (uppercase host): the last valid version keeps serving; the fix applies', { timeout: 10_000 }, async () => {
    await writeInPlace(arch.dir, 'app.yaml', ing('app', 'bad.test', { '/v3': 'a' }));
    await waitFor('v3', async () => (await who(arch.port, 'bad.test', '/v3')) === 'a', 2000);
    await writeInPlace(arch.dir, 'app.yaml', ing('app', 'BAD.test', { '/v4': 'b' }));
    const kept = await waitFor('LAST_GOOD_KEPT in /diagnostics', async () =>
      (await diagnostics(arch.adminPort)).find((d) => d.code === 'LAST_GOOD_KEPT' && d.object === 'Ingress default/app'), 2000);
    assert.ok(kept.file?.endsWith('/app.yaml'));
    assert.deepEqual(await answersDuring(arch, 'bad.test', '/v3', 300), new Set(['a']));
    assert.equal(await who(arch.port, 'bad.test', '/v4'), 'HTTP 404');

    await writeInPlace(arch.dir, 'app.yaml', ing('app', 'bad.test', { '/v5': 'b' }));
    await waitFor('v5', async () => (await who(arch.port, 'bad.test', '/v5')) === 'b', 2000);
    assert.equal(await who(arch.port, 'bad.test', '/v3'), 'HTTP 404');
    assert.deepEqual((await diagnostics(arch.adminPort)).filter((d) => d.object === 'Ingress default/app'), []);
  });

  // Once a bug: #keepLastGood dropped the validation errors of the refused version (fixed in 5b29acb).
  test('an invalid Ingress that keeps its last valid version: the reason is reported (code, field)', { timeout: 10_000 }, async () => {
    await writeInPlace(arch.dir, 'app.yaml', ing('app', 'bad.test', { '/r1': 'a' }));
    await waitFor('r1', async () => (await who(arch.port, 'bad.test', '/r1')) === 'a', 2000);
    await writeInPlace(arch.dir, 'app.yaml', ing('app', 'BAD.test', { '/r2': 'b' }));
    await waitFor('LAST_GOOD_KEPT', async () => (await diagnostics(arch.adminPort)).some((d) => d.code === 'LAST_GOOD_KEPT'), 2000);
    const diag = (await diagnostics(arch.adminPort)).find((d) => d.code === 'INGRESS_INVALID_HOST');
    assert.ok(diag, `the invalid host is not reported; diagnostics: ${JSON.stringify(await diagnostics(arch.adminPort))}`);
    assert.equal(diag.object, 'Ingress default/app');
    assert.equal(diag.field, 'spec.rules[0].host');
  });

  // The controller looks only at the Ingresses that changed since the last sync (the store's change
  // log): a refusal must outlive syncs caused by other files, and end when the file goes.
  test('an Ingress kept at its last valid version stays so while other files change; deleting its file removes it', { timeout: 10_000 }, async () => {
    await writeInPlace(arch.dir, 'app.yaml', ing('app', 'bad.test', { '/k1': 'a' }));
    await waitFor('k1', async () => (await who(arch.port, 'bad.test', '/k1')) === 'a', 2000);
    await writeInPlace(arch.dir, 'app.yaml', ing('app', 'BAD.test', { '/k2': 'b' }));
    await waitFor('LAST_GOOD_KEPT', async () => (await diagnostics(arch.adminPort)).some((d) => d.code === 'LAST_GOOD_KEPT'), 2000);
    for (const path of ['/o1', '/o2']) {
      await writeInPlace(arch.dir, 'other.yaml', ing('other', 'other.test', { [path]: 'b' }));
      await waitFor(path, async () => (await who(arch.port, 'other.test', path)) === 'b', 2000);
      assert.equal(await who(arch.port, 'bad.test', '/k1'), 'a');
      assert.ok((await diagnostics(arch.adminPort)).some((d) => d.code === 'LAST_GOOD_KEPT' && d.object === 'Ingress default/app'));
    }
    await removeFile(arch.dir, 'app.yaml');
    await waitFor('app removed', async () => (await who(arch.port, 'bad.test', '/k1')) === 'HTTP 404', 2000);
    assert.deepEqual((await diagnostics(arch.adminPort)).filter((d) => d.object === 'Ingress default/app'), []);
    await writeInPlace(arch.dir, 'app.yaml', ing('app', 'bad.test', { '/k3': 'a' }));
    await waitFor('k3', async () => (await who(arch.port, 'bad.test', '/k3')) === 'a', 2000);
    await writeInPlace(arch.dir, 'other.yaml', ing('other', 'other.test', { '/': 'b' }));
    await waitFor('other back', async () => (await who(arch.port, 'other.test', '/')) === 'b', 2000);
  });

  // Once a bug: only file-level parse errors kept last good objects; an object skipped by parsing vanished (fixed in 5b29acb).
  test('an Ingress edited to an unsupported apiVersion: the last good version keeps serving', { timeout: 10_000 }, async () => {
    await writeInPlace(arch.dir, 'app.yaml', ing('app', 'bad.test', { '/v6': 'a' }));
    await waitFor('v6', async () => (await who(arch.port, 'bad.test', '/v6')) === 'a', 2000);
    await writeInPlace(arch.dir, 'app.yaml', ing('app', 'bad.test', { '/v7': 'b' }, 'networking.k8s.io/v2'));
    await waitFor('MANIFEST_BAD_API_VERSION in /diagnostics', async () =>
      (await diagnostics(arch.adminPort)).some((d) => d.code === 'MANIFEST_BAD_API_VERSION'), 2000);
    await settle();
    assert.deepEqual(await answersDuring(arch, 'bad.test', '/v6', 200), new Set(['a']), 'the Ingress vanished instead of keeping its last good version');
  });

  // Once a bug: the truncated file parsed as zero objects and its routes answered 404 until the write (fixed in a66cce3).
  test('a file truncated, then written slowly (shell `cmd > file`), keeps its routes serving meanwhile', { timeout: 10_000 }, async () => {
    const text = ing('app', 'bad.test', { '/t1': 'a' });
    await writeInPlace(arch.dir, 'app.yaml', text);
    await waitFor('t1', async () => (await who(arch.port, 'bad.test', '/t1')) === 'a', 2000);
    await settle();
    // The shell truncates the file when it sets up the redirection; the command writes its output later.
    const fh = await open(join(arch.dir, 'app.yaml'), 'w');
    const seen = answersDuring(arch, 'bad.test', '/t1', 600);
    await sleep(300);
    await fh.writeFile(text);
    await fh.close();
    assert.deepEqual(await seen, new Set(['a']), 'the routes of a file being rewritten went away');
  });

  test('a file left empty does drop its objects, after a short grace', { timeout: 10_000 }, async () => {
    await writeInPlace(arch.dir, 'app.yaml', ing('app', 'bad.test', { '/e1': 'a' }));
    await waitFor('e1', async () => (await who(arch.port, 'bad.test', '/e1')) === 'a', 2000);
    const t0 = performance.now();
    await writeInPlace(arch.dir, 'app.yaml', '');
    // Kept for the grace of a rewrite in progress (1.5 s), applied by the next poll (every 2 s) at the latest.
    await waitFor('the emptied file to drop its routes', async () => (await who(arch.port, 'bad.test', '/e1')) === 'HTTP 404', 5000, 50);
    console.log(`an emptied file dropped its routes after ${(performance.now() - t0).toFixed(0)} ms`);
    assert.equal(await who(arch.port, 'other.test', '/'), 'b');
  });

  test('a file cut short in the middle of an object keeps that object serving', { timeout: 10_000 }, async () => {
    const full = ing('app', 'bad.test', { '/v8': 'a' });
    await writeInPlace(arch.dir, 'app.yaml', full);
    await waitFor('v8', async () => (await who(arch.port, 'bad.test', '/v8')) === 'a', 2000);
    // Cut inside a flow mapping: the YAML no longer parses.
    await writeInPlace(arch.dir, 'app.yaml', `${full.slice(0, full.indexOf('spec:'))}spec: {rules: [{host: bad.test, http: {paths: [{path: /v9`);
    await waitFor('the parse error', async () => (await diagnostics(arch.adminPort)).some((d) => d.code === 'MANIFEST_PARSE_ERROR'), 2000);
    assert.deepEqual(await answersDuring(arch, 'bad.test', '/v8', 200), new Set(['a']));
  });
});

// ---------------------------------------------------------------------------------------------
// The storm

const PATHS = ['/p0', '/p1', '/p2', '/p3', '/p4'];
const FILES = ['app.yaml', 'side.yaml'] as const;
type FileName = (typeof FILES)[number];
const HOSTS: Record<FileName, string> = { 'app.yaml': 'storm.test', 'side.yaml': 'side.test' };

describe('a random storm of edits', () => {
  let aw: ArchwayProcess;
  let dir: string;

  before(async () => {
    dir = await manifestDir({ 'svc.yaml': services(), 'app.yaml': ing('app', 'storm.test', { '/p0': 'a' }), 'side.yaml': ing('side', 'side.test', { '/p0': 'b' }) });
    aw = await spawnArchway(dir, ['--workers', '0']);
  });
  after(async () => {
    await aw.stop();
    await rm(dir, { recursive: true, force: true });
  });

  test('50 edits of every kind: no crash, and the end state is exactly a fresh start on the final files', { timeout: 20_000 }, async () => {
    const seed = Number(process.env.LIVE_SEED ?? 20240611);
    const rnd = prng(seed);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
    const validPaths = (): Record<string, string> => {
      const out: Record<string, string> = {};
      for (const p of PATHS) if (rnd() < 0.5) out[p] = pick(['a', 'b']);
      if (Object.keys(out).length === 0) out[pick(PATHS)] = pick(['a', 'b']);
      return out;
    };
    const valid = (f: FileName) => ing(f === 'app.yaml' ? 'app' : 'side', HOSTS[f], validPaths());
    const kinds = ['valid', 'valid-rename', 'broken-yaml', 'invalid-host', 'invalid-path-type', 'truncated', 'empty', 'delete', 'garbage'] as const;
    const log: string[] = [];
    for (let i = 0; i < 50; i++) {
      const f = pick(FILES);
      const kind = pick(kinds);
      log.push(`${kind} ${f}`);
      switch (kind) {
        case 'valid':
          await writeInPlace(dir, f, valid(f));
          break;
        case 'valid-rename':
          await writeRename(dir, f, valid(f));
          break;
        case 'broken-yaml':
          await writeInPlace(dir, f, `apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: x\n spec: [}\n`);
          break;
        case 'invalid-host':
          await writeInPlace(dir, f, valid(f).replace(HOSTS[f], HOSTS[f].toUpperCase()));
          break;
        case 'invalid-path-type':
          await writeInPlace(dir, f, valid(f).replace(/pathType: Exact/, 'pathType: Sometimes'));
          break;
        case 'truncated': {
          const text = valid(f);
          await writeInPlace(dir, f, text.slice(0, Math.floor(rnd() * text.length)));
          break;
        }
        case 'empty':
          await writeInPlace(dir, f, '');
          break;
        case 'delete':
          await removeFile(dir, f);
          break;
        case 'garbage':
          await writeInPlace(dir, f, Buffer.from(Array.from({ length: 200 }, () => Math.floor(rnd() * 256))).toString('latin1'));
          break;
      }
      await sleep(Math.floor(rnd() * 60));
      if (i % 10 === 9) {
        assert.equal(aw.child.exitCode, null, `archway exited during the storm (seed ${seed}); edits: ${log.join(', ')}\n${aw.stderr().slice(-2000)}`);
        assert.equal((await request(aw.adminPort, '/healthz')).status, 200);
      }
    }
    // The final, valid state: written by rename so that the watcher sees it at once.
    const final: Record<FileName, Record<string, string>> = { 'app.yaml': validPaths(), 'side.yaml': validPaths() };
    await writeRename(dir, 'app.yaml', ing('app', HOSTS['app.yaml'], final['app.yaml']));
    await writeRename(dir, 'side.yaml', ing('side', HOSTS['side.yaml'], final['side.yaml']));

    const fresh = await startArchway(await readManifests(dir));
    try {
      const want = fresh.running.controller.table!;
      const wantDiags = fresh.running.controller.diagnostics.map((d) => `${d.code} ${d.object ?? ''}`);
      await waitFor(`the storm instance to serve the final state (seed ${seed}; edits: ${log.join(', ')})`, async () =>
        (await adminJson<RoutingTable>(aw.adminPort, '/routes')).hash === want.hash, 4000, 20);
      assert.deepEqual(await adminJson<RoutingTable>(aw.adminPort, '/routes'), want);
      const diags = (await diagnostics(aw.adminPort)).map((d) => `${d.code} ${d.object ?? ''}`);
      assert.deepEqual(diags, wantDiags, 'no diagnostic of an intermediate state is left');
      for (const f of FILES) {
        for (const p of PATHS) assert.equal(await who(aw.port, HOSTS[f], p), final[f][p] ?? 'HTTP 404', `${HOSTS[f]}${p}`);
      }
      assert.equal(aw.child.exitCode, null);
      assert.doesNotMatch(aw.stderr(), /refresh failed|TypeError|RangeError|at .*\.ts:\d+/, 'no internal error was logged');
      console.log(`storm (seed ${seed}): ${log.length} edits survived; final state matches a fresh start (table ${want.hash})`);
    } finally {
      await fresh.stop();
    }
  });
});
