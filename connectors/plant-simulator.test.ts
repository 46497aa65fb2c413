import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SensorReading } from '../schemas/generated/types.ts';
import { validateReading } from '../schemas/factory/sensor-reading-rules.ts';
import { DAY_MS, HOUR_MS, PlantSimulator, type SimEvent, type SimulatorOptions } from './plant-simulator.ts';

const START = Date.UTC(2025, 0, 6);

function take(sim: PlantSimulator, n: number): SensorReading[] {
  const out: SensorReading[] = [];
  for (const r of sim.readings()) {
    out.push(r);
    if (out.length === n) break;
  }
  return out;
}

function std(xs: number[]): number {
  const m = xs.reduce((a, b) => a + b, 0) / xs.length;
  return Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / xs.length);
}

describe('plant simulator', () => {
  it('is deterministic: the same seed gives the same readings and failures, another seed does not', () => {
    const opts: Partial<SimulatorOptions> = { arms: 5, intervalMs: 60_000, durationMs: 2 * DAY_MS, seed: 11, start: START };
    const a = new PlantSimulator(opts);
    const b = new PlantSimulator(opts);
    assert.deepEqual(take(a, 5_000), take(b, 5_000));
    assert.deepEqual(a.failures, b.failures);
    const c = new PlantSimulator({ ...opts, seed: 12 });
    assert.notDeepEqual(take(c, 300).map((r) => r.value), take(new PlantSimulator(opts), 300).map((r) => r.value));
  });

  it('an arm is the same however many arms run beside it, and --first-arm picks other arms', () => {
    const few = new PlantSimulator({ arms: 2, durationMs: HOUR_MS, seed: 3, start: START });
    const many = new PlantSimulator({ arms: 50, durationMs: HOUR_MS, seed: 3, start: START });
    const arm2 = (rs: Iterable<SensorReading>) => [...rs].filter((r) => r.arm_id === 'arm-002');
    assert.deepEqual(arm2(few.readings()), arm2(many.readings()));
    const later = take(new PlantSimulator({ arms: 2, firstArm: 200, durationMs: HOUR_MS, seed: 3, start: START }), 6);
    assert.deepEqual([...new Set(later.map((r) => r.arm_id))], ['arm-201', 'arm-202']);
  });

  it('streams in event-time order, numbers each arm 0, 1, 2, ... and passes the validation rules', () => {
    const sim = new PlantSimulator({ arms: 4, intervalMs: 100, durationMs: 60_000, seed: 5, start: START });
    let last = -Infinity;
    const next = new Map<string, number>();
    let n = 0;
    for (const r of sim.readings()) {
      assert.ok(r.event_time >= last);
      last = r.event_time;
      assert.equal(r.sequence, next.get(r.arm_id) ?? 0);
      next.set(r.arm_id, r.sequence + 1);
      assert.equal(validateReading(r, r.event_time), null, JSON.stringify(r));
      n++;
    }
    assert.equal(n, 4 * 3 * 600); // 10 Hz x 60 s x 3 sensors x 4 arms
  });

  it('failure times do not depend on the sample interval', () => {
    const opts: Partial<SimulatorOptions> = { arms: 30, durationMs: 20 * DAY_MS, seed: 9, mtbfDays: 20, start: START };
    const coarse = new PlantSimulator({ ...opts, intervalMs: 600_000 });
    const fine = new PlantSimulator({ ...opts, intervalMs: 300_000 });
    for (const _ of coarse.readings());
    for (const _ of fine.readings());
    assert.ok(coarse.failuresInRange().length > 5);
    assert.deepEqual(coarse.failuresInRange(), fine.failuresInRange());
  });

  it('failure rate: mean time between failures per arm is about mtbfDays (default 200)', () => {
    // Only the failure process matters here, so sample coarsely: 500 arms x 2 years every 6 h.
    const sim = new PlantSimulator({ arms: 500, intervalMs: 6 * HOUR_MS, durationMs: 730 * DAY_MS, seed: 21, start: START });
    for (const _ of sim.readings());
    const end = START + 730 * DAY_MS;
    const failures = sim.failures.filter((f) => f.failure_time < end).length;
    const mtbf = (500 * 730) / failures;
    assert.ok(mtbf > 150 && mtbf < 250, `mean time between failures ${mtbf.toFixed(0)} days (${failures} failures)`);
    // Positive rows of a 24 h label horizon: about 1/mtbf of the scoring windows, well under 1 %.
    const positiveShare = (failures * 1) / (500 * 730);
    assert.ok(positiveShare < 0.01, `positive share ${positiveShare}`);
  });

  it('degradation precedes failures: vibration std (bearing) or pressure drop (seal) in the 24 h before', () => {
    const events: SimEvent[] = [];
    const sim = new PlantSimulator({ arms: 40, intervalMs: 5 * 60_000, durationMs: 60 * DAY_MS, seed: 4, mtbfDays: 15, start: START, onEvent: (e) => events.push(e) });
    const byArm = new Map<string, { t: number; sensor: string; v: number }[]>();
    for (const r of sim.readings()) {
      let list = byArm.get(r.arm_id);
      if (!list) byArm.set(r.arm_id, (list = []));
      list.push({ t: r.event_time, sensor: r.sensor, v: r.value });
    }
    const window = (arm: string, sensor: string, from: number, to: number) => (byArm.get(arm) ?? []).filter((x) => x.sensor === sensor && x.t >= from && x.t < to).map((x) => x.v);
    const ratios: number[] = [];
    const drops: number[] = [];
    const failures = sim.failuresInRange().filter((f) => f.failure_time < sim.end && f.failure_time - 8 * DAY_MS > START);
    for (const f of failures) {
      // Baseline: the same 24 h of day a week earlier, when the arm was healthy (and up).
      const prior = sim.failures.filter((g) => g.arm_id === f.arm_id && g.failure_time < f.failure_time);
      const before = f.failure_time - 7 * DAY_MS;
      if (prior.some((g) => g.repaired_at > before - DAY_MS)) continue;
      if (f.mode === 'bearing-wear') {
        ratios.push(std(window(f.arm_id, 'VIBRATION', f.failure_time - DAY_MS, f.failure_time)) / std(window(f.arm_id, 'VIBRATION', before - DAY_MS, before)));
      } else {
        const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
        drops.push(mean(window(f.arm_id, 'PRESSURE', before - 6 * HOUR_MS, before)) - mean(window(f.arm_id, 'PRESSURE', f.failure_time - 6 * HOUR_MS, f.failure_time)));
      }
    }
    assert.ok(ratios.length >= 5 && drops.length >= 3, `${ratios.length} bearing and ${drops.length} seal failures to check`);
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    assert.ok(median(ratios) > 1.8, `median vibration std ratio ${median(ratios).toFixed(2)} (${ratios.map((r) => r.toFixed(2)).join(' ')})`);
    assert.ok(median(drops) > 0.4, `median pressure drop ${median(drops).toFixed(2)} bar`);
    // Benign disturbances exist too: the model has false alarms to learn to avoid.
    const kinds = new Set(events.map((e) => e.kind));
    for (const k of ['tool-change', 'heavy-job', 'hot-afternoon', 'recalibration', 'degradation', 'failure', 'repaired']) assert.ok(kinds.has(k as SimEvent['kind']), k);
  });

  it('an arm is silent while it is repaired and comes back where it left off in sequence', () => {
    const sim = new PlantSimulator({ arms: 20, intervalMs: 10 * 60_000, durationMs: 30 * DAY_MS, seed: 2, mtbfDays: 10, start: START });
    const rows = [...sim.readings()];
    const f = sim.failuresInRange().find((x) => x.repaired_at < sim.end);
    assert.ok(f);
    const arm = rows.filter((r) => r.arm_id === f.arm_id);
    assert.equal(arm.filter((r) => r.event_time >= f.failure_time && r.event_time < f.repaired_at).length, 0);
    assert.ok(arm.some((r) => r.event_time >= f.repaired_at));
    arm.forEach((r, i) => assert.equal(r.sequence, i));
  });
});
