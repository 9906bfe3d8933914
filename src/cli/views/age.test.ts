import { test } from 'node:test';
import assert from 'node:assert/strict';
import { age, humanDuration } from './age.ts';

const S = 1000;
const M = 60 * S;
const H = 60 * M;
const D = 24 * H;

test('humanDuration follows kubectl (apimachinery HumanDuration) at every boundary', () => {
  const cases: Array<[number, string]> = [
    [-2500, '<invalid>'],
    [-1500, '0s'],
    [0, '0s'],
    [999, '0s'],
    [45 * S, '45s'],
    [119 * S, '119s'],
    [2 * M, '2m'],
    [3 * M + 12 * S, '3m12s'],
    [9 * M + 59 * S, '9m59s'],
    [10 * M + 30 * S, '10m'],
    [179 * M, '179m'],
    [3 * H, '3h'],
    [5 * H, '5h'],
    [5 * H + 4 * M, '5h4m'],
    [8 * H + 59 * M, '8h'],
    [47 * H, '47h'],
    [48 * H, '2d'],
    [51 * H, '2d3h'],
    [7 * D + 23 * H, '7d23h'],
    [8 * D, '8d'],
    [729 * D, '729d'],
    [730 * D, '2y'],
    [731 * D, '2y1d'],
    [8 * 365 * D, '8y'],
    [20 * 365 * D + 100 * D, '20y'],
  ];
  for (const [ms, want] of cases) assert.equal(humanDuration(ms), want, `${ms} ms`);
});

test('age of a timestamp; <unknown> when it is missing or unparsable', () => {
  const now = Date.parse('2024-05-01T12:00:00Z');
  assert.equal(age('2024-05-01T11:56:48Z', now), '3m12s');
  assert.equal(age('2024-05-01T14:00:00+02:00', now), '0s');
  assert.equal(age('2024-04-29T09:00:00Z', now), '2d3h');
  assert.equal(age(undefined, now), '<unknown>');
  assert.equal(age(null, now), '<unknown>');
  assert.equal(age('yesterday', now), '<unknown>');
});
