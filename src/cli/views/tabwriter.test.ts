import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DESCRIBE_TABS, formatTable, GET_TABS, printable, tabwrite } from './tabwriter.ts';

test('a table: columns padded to the widest cell plus padding, at least minWidth; the last column is not padded', () => {
  const t = formatTable(['NAME', 'AGE'], [['a', '5s'], ['a-much-longer-name', '10m']], GET_TABS);
  assert.equal(t, 'NAME                 AGE\na                    5s\na-much-longer-name   10m\n');
  // minWidth 6 for short cells
  assert.equal(formatTable(['A', 'B'], [['x', 'y']], GET_TABS), 'A     B\nx     y\n');
});

test('a line without a cell in a column ends that column block (Go tabwriter semantics)', () => {
  const text = 'Name:\tx\nDefault backend:\ty\nRules:\n  Host\tPath\tBackends\n  long.host.name\t\n    \t/p \tsvc\n';
  assert.equal(
    tabwrite(text, DESCRIBE_TABS),
    [
      'Name:             x',
      'Default backend:  y',
      'Rules:',
      '  Host            Path  Backends',
      '  long.host.name  ',
      '                  /p   svc',
      '',
    ].join('\n'),
  );
});

test('cell widths count code points, as Go counts runes', () => {
  assert.equal(tabwrite('é\tx\nab\ty\n', DESCRIBE_TABS), 'é   x\nab  y\n');
});

test('printable: control characters cannot break the layout or reach the terminal', () => {
  assert.equal(printable('a\tb\nc\x1b[31md\x7f\x9b'), 'a^Ib^Jc^[[31md^?\\x9b');
  assert.equal(printable('plain ünïcode'), 'plain ünïcode');
});
