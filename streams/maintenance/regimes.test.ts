import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RegimesError, normalise, normaliseReading, parseRegimes, regimeOf } from './regimes.ts';

/** A scale of 0 (a setting that never moved in training) divides by 1; an infinite or 0 std too. */
const REGIMES = parseRegimes({
  settings: ['alt', 'mach', 'tra'],
  center: [17.5, 0.41, 88.0],
  scale: [12.25, 0.27, 0.0],
  centroids: [[-1.4, -1.5, 0.0], [0.2, 0.3, 0.0], [1.3, 1.2, 0.0]],
  channels: {
    t50: { mean: [1400.5, 1520.25, 1610.0], std: [3.3, 4.1, 0.0] },
    oil_temp: { mean: [80, 95, 110], std: [2.5, Number.POSITIVE_INFINITY, 3.0] },
  },
});

test('normalise gives the very doubles of models/maintenance/regimes.py (Regimes.apply, printed with repr)', () => {
  const cases: [string, number, number[], number, number][] = [
    ['t50', 1403.7, [0.1, 0.02, 100], 0, 0.9696969696969835],
    ['t50', 1525.0, [20, 0.5, 100], 1, 1.1585365853658538],
    ['t50', 1611.3, [35, 0.8, 60], 2, 1.2999999999999545],
    ['oil_temp', 97.2, [20, 0.5, 100], 1, 2.200000000000003],
    ['oil_temp', 81.1, [0, 0, 0], 0, 0.4399999999999977],
    ['p30', 12.5, [20, 0.5, 100], 1, 12.5],
    ['t50', 1500.0, [10.15, 0.24799999999999997, 88], 0, 30.151515151515152],
  ];
  for (const [channel, value, settings, regime, want] of cases) {
    assert.equal(regimeOf(REGIMES, settings), regime, `${channel} ${settings}`);
    assert.equal(normalise(REGIMES, channel, value, settings), want, `${channel} ${value} ${settings}`);
  }
});

test('a tie goes to the lowest regime; a channel named like an Object property is still a channel', () => {
  const tie = parseRegimes({ settings: ['s'], center: [0], scale: [1], centroids: [[1], [-1], [1]], channels: { constructor: { mean: [1, 2, 3], std: [1, 1, 1] } } });
  assert.equal(regimeOf(tie, [0]), 0);
  assert.equal(normalise(tie, 'constructor', 5, [0]), 4);
  assert.equal(normalise(tie, 'toString', 5, [0]), 5);
});

test('a reading without its settings cannot be normalised; a plant without regimes passes values through', () => {
  const reading = { plant_id: 'turbofan', value: 1525, settings: [20, 0.5, 100] };
  assert.equal(normaliseReading(reading, 't50', REGIMES), 1.1585365853658538);
  assert.equal(normaliseReading({ ...reading, settings: null }, 't50', null), 1525);
  assert.throws(() => normaliseReading({ ...reading, settings: null }, 't50', REGIMES), /plant turbofan normalises by regime and the reading has no operating settings/);
  assert.throws(() => normaliseReading({ ...reading, settings: [1, 2] }, 'p30', REGIMES), /needs the 3 operating settings alt, mach, tra; the reading has 2/);
});

test('parseRegimes names every problem', () => {
  try {
    parseRegimes({ settings: ['a', 'b'], center: [0], scale: [1, 1], centroids: [[0, 0], [1]], channels: { t: { mean: [1, 2], std: [1] } } });
    assert.fail('accepted');
  } catch (err) {
    assert.ok(err instanceof RegimesError);
    assert.deepEqual(err.problems, [
      'center must be 2 numbers, one per setting',
      'centroids[1] must be 2 numbers, one per setting',
      'channels.t needs a mean and a std for each of the 2 regimes',
    ]);
  }
  assert.throws(() => parseRegimes([]), /must be a JSON object/);
});
