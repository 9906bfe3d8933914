// Golden fixtures: manifests in, compiled routing table and diagnostics out (ARCHITECTURE.md "Tests at three sizes").
//
// Each directory under test/fixtures/ is one case:
//   *.yaml / *.yml / *.json   the manifests, loaded with the real source functions (listManifestFiles + readManifestFile)
//   options.json              optional BuildOptions, merged over DEFAULT_OPTIONS below
//   expected.json             { table: compile(build(...)), diagnostics: [...] } with file paths relative to the case
//   requests.json             optional, hand-written: [{ host, path, backend: "<id>" | null, rewrite?: "<path>" }]
//
// UPDATE_GOLDEN=1 node --test test/golden.test.ts rewrites expected.json (review every diff by hand:
// a golden file that encodes a bug is worse than none). requests.json is never rewritten.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compareDiagnostics, type Diagnostic } from '../src/model/diagnostics.ts';
import { ObjectStore, type StoredObject } from '../src/model/objects.ts';
import { build, type BuildOptions } from '../src/model/build.ts';
import { compile } from '../src/snapshot/compile.ts';
import { Router, rewritePath } from '../src/snapshot/router.ts';
import type { RoutingTable } from '../src/snapshot/table.ts';
import { listManifestFiles, readManifestFile } from '../src/sources/manifest-files.ts';

const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));
const UPDATE = process.env.UPDATE_GOLDEN === '1';
const DEFAULT_OPTIONS: BuildOptions = { controllerName: 'archway.dev/ingress-controller', ingressClass: 'archway', watchWithoutClass: true };
const NOT_MANIFESTS = new Set(['options.json', 'expected.json', 'requests.json']);

interface Expected {
  table: RoutingTable;
  diagnostics: Diagnostic[];
}

interface RequestCase {
  host: string;
  path: string;
  backend: string | null;
  rewrite?: string;
  why?: string;
}

async function load(dir: string): Promise<{ objects: StoredObject[]; diagnostics: Diagnostic[] }> {
  const diagnostics: Diagnostic[] = [];
  const files = (await listManifestFiles([dir], diagnostics)).filter((f) => !NOT_MANIFESTS.has(relative(dir, f)));
  const objects: StoredObject[] = [];
  for (const f of files) {
    const parsed = await readManifestFile(f);
    objects.push(...parsed.objects);
    diagnostics.push(...parsed.diagnostics);
  }
  return { objects, diagnostics };
}

function storeOf(objects: readonly StoredObject[]): ObjectStore {
  const s = new ObjectStore();
  for (const o of objects) s.set(o);
  return s;
}

/** Machine-independent, JSON-shaped diagnostics: paths relative to the case directory, '/' separators. */
function portable(diags: Diagnostic[], dir: string): Diagnostic[] {
  const out = diags.map((d) => (d.file ? { ...d, file: relative(dir, d.file).split(sep).join('/') } : { ...d }));
  return JSON.parse(JSON.stringify(out.sort(compareDiagnostics))) as Diagnostic[];
}

const cases = readdirSync(FIXTURES, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name).sort();

test('there are golden cases', () => {
  assert.ok(cases.length >= 10, `found ${cases.length}`);
});

for (const name of cases) {
  const dir = join(FIXTURES, name);
  test(`golden: ${name}`, async () => {
    const optionsFile = join(dir, 'options.json');
    const opts: BuildOptions = existsSync(optionsFile) ? { ...DEFAULT_OPTIONS, ...JSON.parse(readFileSync(optionsFile, 'utf8')) } : DEFAULT_OPTIONS;
    const { objects, diagnostics: sourceDiags } = await load(dir);
    assert.ok(objects.length > 0, 'the case has manifests');

    const model = build(storeOf(objects), opts);
    const table = compile(model);
    const actual: Expected = { table, diagnostics: portable([...sourceDiags, ...model.diagnostics], dir) };
    const expectedFile = join(dir, 'expected.json');

    if (UPDATE) {
      writeFileSync(expectedFile, JSON.stringify(actual, null, 2) + '\n');
    } else {
      assert.ok(existsSync(expectedFile), `${name}/expected.json is missing: run with UPDATE_GOLDEN=1 and review it`);
      const expected = JSON.parse(readFileSync(expectedFile, 'utf8')) as Expected;
      assert.deepEqual(JSON.parse(JSON.stringify(actual)), expected);
    }

    // Determinism: the same objects inserted in the opposite order build the same table.
    assert.equal(compile(build(storeOf([...objects].reverse()), opts)).hash, table.hash, 'insertion order changed the table hash');

    // Every table is usable by the router, and the hand-written requests go where the spec says.
    const router = new Router(table);
    const requestsFile = join(dir, 'requests.json');
    if (existsSync(requestsFile)) {
      const requests = JSON.parse(readFileSync(requestsFile, 'utf8')) as RequestCase[];
      for (const rq of requests) {
        const label = `${rq.host} ${rq.path}${rq.why ? ` (${rq.why})` : ''}`;
        const m = router.match(rq.host, rq.path);
        assert.equal(m === null ? null : m.backend, rq.backend, label);
        if (m !== null) assert.equal(rewritePath(m, rq.path), rq.rewrite ?? rq.path, `${label}: path sent upstream`);
      }
    }
  });
}
