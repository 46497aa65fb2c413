import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { SensorReading } from '../generated/types.ts';
import { EARLIEST_EVENT_TIME, MAX_CLOCK_SKEW_MS, SENSOR_LIMITS, formatEventTime, validateReading, type ChannelLimits, type LegacySensorKind, type PlantReadingRules } from './sensor-reading-rules.ts';

const T = Date.UTC(2026, 5, 1, 12);
const EXTREMES: [string, number][] = [
  ['0', 0], ['-0', -0], ['MAX_VALUE', Number.MAX_VALUE], ['-MAX_VALUE', -Number.MAX_VALUE], ['MIN_VALUE', Number.MIN_VALUE],
  ['Infinity', Infinity], ['-Infinity', -Infinity], ['NaN', Number.NaN], ['8.64e15', 8.64e15], ['8.64e15+1', 8.64e15 + 1],
  ['2^53', 2 ** 53], ['-1', -1], ['1.5', 1.5],
];
const valid = (sensor: LegacySensorKind): SensorReading => ({ arm_id: 'arm-07', sensor, value: 1, unit: SENSOR_LIMITS[sensor].unit, event_time: T, gateway_id: 'g', plant_id: 'p', sequence: 1, quality: null, channel: null, settings: null });

// Which extremes each field accepts, written out (not derived from the rules under test).
const ACCEPTED: Record<'value' | 'sequence' | 'event_time', Record<LegacySensorKind, string[]>> = {
  value: { VIBRATION: ['0', '-0', 'MIN_VALUE', '1.5'], TEMPERATURE: ['0', '-0', 'MIN_VALUE', '-1', '1.5'], PRESSURE: ['0', '-0', 'MIN_VALUE', '1.5'] },
  sequence: { VIBRATION: ['0', '-0', '8.64e15', '8.64e15+1'], TEMPERATURE: ['0', '-0', '8.64e15', '8.64e15+1'], PRESSURE: ['0', '-0', '8.64e15', '8.64e15+1'] },
  event_time: { VIBRATION: [], TEMPERATURE: [], PRESSURE: [] },
};

test('every extreme number in every numeric field gives a reason or passes, never an exception', () => {
  for (const sensor of Object.keys(SENSOR_LIMITS) as LegacySensorKind[]) {
    assert.equal(validateReading(valid(sensor), T), null, `baseline ${sensor} reading is valid`);
    for (const field of ['value', 'sequence', 'event_time'] as const) {
      for (const [name, x] of EXTREMES) {
        let reason: string | null = null;
        assert.doesNotThrow(() => (reason = validateReading({ ...valid(sensor), [field]: x }, T)), `${sensor} ${field}=${name}`);
        const accepted = ACCEPTED[field][sensor].includes(name);
        if (accepted) assert.equal(reason, null, `${sensor} ${field}=${name} should pass`);
        else assert.match(String(reason), new RegExp(field === 'value' ? sensor : field), `${sensor} ${field}=${name} needs a reason naming the field`);
      }
    }
  }
});

test('an extreme Kafka timestamp never makes validation throw', () => {
  for (const [name, ts] of EXTREMES) {
    for (const [tname, eventTime] of EXTREMES) {
      assert.doesNotThrow(() => validateReading({ ...valid('VIBRATION'), event_time: eventTime }, ts), `timestamp=${name} event_time=${tname}`);
    }
  }
});

test('values of the wrong type get a reason too (the scoring API passes JSON through)', () => {
  for (const bad of ['3', null, undefined, {}, [], true, 10n]) {
    for (const field of ['value', 'sequence', 'event_time'] as const) {
      const reading = { ...valid('PRESSURE'), [field]: bad } as unknown as SensorReading;
      assert.equal(typeof validateReading(reading, T), 'string', `${field}=${String(bad)}`);
    }
  }
  assert.match(String(validateReading({ ...valid('PRESSURE'), sensor: 'NOISE' } as unknown as SensorReading, T)), /sensor "NOISE" is not one of/);
  assert.match(String(validateReading({ ...valid('PRESSURE'), arm_id: 7 } as unknown as SensorReading, T)), /arm_id 7 is not a valid arm id/);
});

test('event times: the messages say what is wrong, in readable time where there is one', () => {
  const at = (event_time: number) => validateReading({ ...valid('VIBRATION'), event_time }, T);
  assert.match(String(at(8.64e15 + 1)), /event_time 8640000000000001 ms \(not a representable time\) is not an integer|is \d+ s after/);
  assert.match(String(at(8.64e15)), /event_time \+275760-09-13T00:00:00\.000Z is \d+ s after the record was produced/);
  assert.match(String(at(1.5)), /event_time 1970-01-01T00:00:00\.001Z is not an integer/);
  assert.match(String(at(EARLIEST_EVENT_TIME - 1)), /1999-12-31T23:59:59\.999Z is before 2000/);
  assert.equal(at(T + MAX_CLOCK_SKEW_MS), null);
  assert.match(String(at(T + MAX_CLOCK_SKEW_MS + 1)), /is 300 s after the record was produced/);
});

test('formatEventTime never throws', () => {
  for (const [, x] of EXTREMES) assert.equal(typeof formatEventTime(x), 'string');
  assert.equal(formatEventTime(0), '1970-01-01T00:00:00.000Z');
  assert.equal(formatEventTime(-8.64e15), '-271821-04-20T00:00:00.000Z');
  assert.equal(formatEventTime(Number.NaN), 'NaN ms (not a representable time)');
  assert.equal(formatEventTime('x'.repeat(100)), `"${'x'.repeat(40)}..." (not a number)`);
});

// A plant's profile: the rules of the plant-registry (a channel of a legacy kind, a new one, and regimes).
const ENGINE: PlantReadingRules = {
  plantId: 'turbofan-fleet',
  channels: new Map<string, ChannelLimits & { kind?: LegacySensorKind }>([
    ['t50', { unit: 'degR', min: 1_300, max: 1_500 }],
    ['egt', { unit: 'degC', min: 0, max: 1_000, kind: 'TEMPERATURE' }],
  ]),
  settings: 3,
  settingsRequired: true,
};
const engineReading = (over: Partial<SensorReading>): SensorReading => ({
  ...valid('TEMPERATURE'), plant_id: 'turbofan-fleet', sensor: 'OTHER', channel: 't50', value: 1_400, unit: 'degR', settings: [35, 0.84, 100], ...over,
});

test("a plant's profile decides a channel's unit, range and settings", () => {
  assert.equal(validateReading(engineReading({}), T, ENGINE), null);
  assert.equal(validateReading(engineReading({ sensor: 'TEMPERATURE', channel: 'egt', unit: 'degC', value: 600 }), T, ENGINE), null);
  const why = (over: Partial<SensorReading>) => String(validateReading(engineReading(over), T, ENGINE));
  assert.match(why({ value: 1_600 }), /^channel t50 value 1600 degR is outside the plausible range \[1300, 1500\]$/);
  assert.match(why({ unit: 'degC' }), /^channel t50 must be reported in degR, got "degC"$/);
  assert.match(why({ channel: 'oil_temp' }), /^plant turbofan-fleet's profile declares no channel "oil_temp"$/);
  assert.match(why({ channel: null }), /^sensor OTHER needs a channel name/);
  assert.match(why({ sensor: 'PRESSURE' }), /^channel t50 of plant turbofan-fleet is not a legacy kind \(send sensor OTHER\), not PRESSURE$/);
  assert.match(why({ settings: null }), /^plant turbofan-fleet normalises by operating regime and the reading has no operating settings$/);
  assert.match(why({ settings: [35, 0.84] }), /^plant turbofan-fleet has 3 operating settings, the reading carries 2$/);
  assert.match(why({ settings: [35, Number.NaN, 100] }), /^settings\[1\] is NaN$/);
  // The profile's channel named by its legacy kind: a v1 gateway's TEMPERATURE reading of this plant is channel "temperature", which it does not declare.
  assert.match(why({ sensor: 'TEMPERATURE', channel: null, unit: 'degC', value: 600 }), /declares no channel "temperature"/);
});

test('without a profile only the legacy channels are known', () => {
  assert.equal(validateReading({ ...valid('PRESSURE'), channel: 'pressure' }, T, null), null);
  assert.match(String(validateReading(engineReading({}), T, null)), /^plant "turbofan-fleet" has no profile declaring channel "t50" \(connectors\/plants\/\)$/);
  assert.match(String(validateReading({ ...valid('PRESSURE'), channel: 'p30' }, T, null)), /has no profile declaring channel "p30"/);
  // Settings without a profile: checked for numbers only.
  assert.equal(validateReading({ ...valid('PRESSURE'), settings: [1, 2] }, T), null);
  assert.match(String(validateReading({ ...valid('PRESSURE'), settings: 'x' } as unknown as SensorReading, T)), /^settings is "x", not a list of numbers$/);
});
