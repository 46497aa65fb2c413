// The simulator's failure reports: every failure it simulates is reported once, no earlier than the
// report delay after it (by the readings' event time), with repaired_at only when the repair was over
// by the report; and `gateway simulate --failure-report-delay` reaches Kafka through the same path.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FailureEvent } from '../schemas/generated/types.ts';
import { AvroSerde } from '../streams/runtime/serde.ts';
import { MemorySchemaStore } from '../streams/runtime/schema-store.ts';
import { TOPICS, loadSchema } from '../schemas/topics.ts';
import { HOUR_MS, PlantSimulator } from './plant-simulator.ts';
import { FailureReporter, REPORT_SOURCE } from './failure-reporter.ts';

test('failures are reported once, delayMs after they happen, in the topic schema', async () => {
  const sent: { at: number; events: FailureEvent[] }[] = [];
  let now = 0;
  const reporter = new FailureReporter({ plantId: 'plant-sim', delayMs: 6 * HOUR_MS, send: async (events) => void sent.push({ at: now, events }) });
  const sim = new PlantSimulator({ arms: 20, intervalMs: 10 * 60_000, durationMs: 20 * 24 * HOUR_MS, mtbfDays: 4, seed: 7, onEvent: reporter.onEvent });
  for (const r of sim.readings()) {
    now = r.event_time;
    await reporter.release(now);
  }
  const reported = sent.flatMap((s) => s.events.map((e) => ({ ...e, at: s.at })));
  const happened = sim.failures.filter((f) => f.failure_time + 6 * HOUR_MS <= sim.end - 10 * 60_000);
  assert.ok(happened.length >= 20, `the simulation has failures to report (${happened.length})`);
  // Every failure due before the end was reported exactly once, and nothing else.
  assert.deepEqual(reported.map((e) => `${e.arm_id}@${e.failure_time}`).sort(), happened.map((f) => `${f.arm_id}@${f.failure_time}`).sort());
  for (const e of reported) {
    assert.ok(e.at >= e.failure_time + 6 * HOUR_MS && e.at < e.failure_time + 6 * HOUR_MS + 10 * 60_000, `${e.arm_id}: reported at ${e.at}, failed at ${e.failure_time}`);
    const f = sim.failures.find((x) => x.arm_id === e.arm_id && x.failure_time === e.failure_time)!;
    assert.equal(e.repaired_at, f.repaired_at <= e.failure_time + 6 * HOUR_MS ? f.repaired_at : null);
    assert.equal(e.mode, f.mode);
    assert.equal(e.kind, 'FAILURE');
    assert.equal(e.source, REPORT_SOURCE);
    assert.equal(e.plant_id, 'plant-sim');
  }
  assert.ok(reported.some((e) => e.repaired_at === null) && reported.some((e) => e.repaired_at !== null), 'repairs of 3-8 h end before and after a 6 h report');
  // What is sent encodes with the topic's schema.
  const serde = new AvroSerde(new MemorySchemaStore());
  await serde.useTopic(TOPICS.failureEvents.name, loadSchema(TOPICS.failureEvents.schema));
  for (const e of reported.slice(0, 5)) {
    const { at: _at, ...event } = e;
    assert.deepEqual({ ...((await serde.decode(TOPICS.failureEvents.name, serde.encode(TOPICS.failureEvents.name, event))) as object) }, event);
  }
});

test('a bad delay is refused', () => {
  assert.throws(() => new FailureReporter({ plantId: 'p', delayMs: -1, send: async () => {} }), /failure report delay must be a duration >= 0/);
});
