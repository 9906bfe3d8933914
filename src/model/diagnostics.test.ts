import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareDiagnostics, formatDiagnostic, type Diagnostic } from './diagnostics.ts';

test('formatDiagnostic: file:line, severity, code, object, field, message', () => {
  assert.equal(
    formatDiagnostic({ code: 'INGRESS_INVALID_HOST', severity: 'error', message: 'bad', file: 'a.yaml', line: 3, object: 'Ingress ns/x', field: 'spec.rules[0].host' }),
    'a.yaml:3: error INGRESS_INVALID_HOST: Ingress ns/x: spec.rules[0].host: bad',
  );
  assert.equal(formatDiagnostic({ code: 'X', severity: 'warning', message: 'm' }), 'warning X: m');
  assert.equal(formatDiagnostic({ code: 'X', severity: 'info', message: 'm', file: 'f' }), 'f: info X: m');
});

test('compareDiagnostics: file, line, object, field, code, message', () => {
  const d = (file: string | undefined, line: number | undefined, code: string, field?: string): Diagnostic => ({ code, severity: 'error', message: 'm', file, line, field });
  const list = [d('b', 1, 'A'), d('a', 10, 'A'), d('a', 2, 'B'), d('a', 2, 'A', 'z'), d('a', 2, 'A', 'y'), d(undefined, undefined, 'Z')];
  assert.deepEqual(list.sort(compareDiagnostics).map((x) => `${x.file ?? '-'}:${x.line ?? '-'} ${x.field ?? ''} ${x.code}`), [
    '-:-  Z', 'a:2  B', 'a:2 y A', 'a:2 z A', 'a:10  A', 'b:1  A',
  ]);
});
