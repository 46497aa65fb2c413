// Injected drift: the option parser, and the simulator's readings with and without it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HOUR_MS, PlantSimulator } from './plant-simulator.ts';
import { parseDriftOption, type SimulatorDrift } from './simulator-drift.ts';

test('--drift parses offsets, scales, start and ramp; bad specs are refused with the reason', () => {
  assert.deepEqual(parseDriftOption('temperature:+4@2h'), [{ channel: 'temperature', startAtMs: 2 * HOUR_MS, offset: 4 }]);
  assert.deepEqual(parseDriftOption('pressure:x0.9@1d/6h,vibration:-0.5@0'), [
    { channel: 'pressure', startAtMs: 24 * HOUR_MS, scale: 0.9, rampMs: 6 * HOUR_MS },
    { channel: 'vibration', startAtMs: 0, offset: -0.5 },
  ]);
  assert.throws(() => parseDriftOption('humidity:+4@2h'), /channel must be one of vibration, temperature, pressure/);
  assert.throws(() => parseDriftOption('temperature:4@2h'), /is not CHANNEL:CHANGE@START/);
  assert.throws(() => parseDriftOption('pressure:x0@1h'), /scale must be > 0/);
  assert.throws(() => new PlantSimulator({ drift: [{ channel: 'temperature', startAtMs: -1, offset: 1 }] }), /drift\[0\]\.startAtMs must be >= 0/);
});

function readings(drift?: SimulatorDrift[]) {
  return [...new PlantSimulator({ arms: 3, durationMs: 4 * HOUR_MS, seed: 5, drift }).readings()];
}

test('a step drift moves only its channel, only from its start; everything else is identical', () => {
  const base = readings();
  const drifted = readings([{ channel: 'temperature', startAtMs: 2 * HOUR_MS, offset: 4 }]);
  assert.equal(drifted.length, base.length);
  const start = base[0].event_time;
  let moved = 0;
  base.forEach((b, i) => {
    const d = drifted[i];
    const after = b.event_time - start >= 2 * HOUR_MS;
    if (b.sensor === 'TEMPERATURE' && after) {
      assert.ok(Math.abs(d.value - b.value - 4) < 0.0011, `${b.arm_id} at ${b.event_time}: ${b.value} -> ${d.value}`);
      moved++;
    } else assert.equal(d.value, b.value);
  });
  assert.equal(moved, base.filter((b) => b.sensor === 'TEMPERATURE').length / 2);
});

test('a ramped scale grows linearly to its full size', () => {
  const base = readings();
  const drifted = readings([{ channel: 'pressure', startAtMs: HOUR_MS, scale: 1.2, rampMs: 2 * HOUR_MS }]);
  const start = base[0].event_time;
  const at = (ms: number) => base.findIndex((r) => r.sensor === 'PRESSURE' && r.event_time - start === ms);
  for (const [ms, factor] of [[HOUR_MS, 1], [2 * HOUR_MS, 1.1], [3 * HOUR_MS, 1.2], [3.5 * HOUR_MS, 1.2]]) {
    const i = at(ms);
    assert.ok(Math.abs(drifted[i].value - base[i].value * factor) < 0.0011, `at +${ms / HOUR_MS} h: ${base[i].value} x ${factor} vs ${drifted[i].value}`);
  }
});
