import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RollingStats, type InspectedFrame } from './rolling-stats.ts';

const frame = (camera_id: string, verdict: 'PASS' | 'DEFECT', arrived_at: number, latency = 50): InspectedFrame => ({ camera_id, verdict, captured_at: arrived_at - latency - 5, inspected_at: arrived_at - 5, arrived_at });

test('no results: nothing to say yet', () => {
  const s = new RollingStats().snapshot(1_000);
  assert.deepEqual([s.inspected, s.defect_rate, s.fps, s.latency_ms.p50, s.total], [0, null, 0, null, 0]);
});

test('defect rate over the last minute, FPS over the last 5 s, per camera, latency percentiles', () => {
  const stats = new RollingStats({ windowMs: 60_000, fpsWindowMs: 5_000 });
  const t0 = 1_000_000;
  // 70 s of two cameras at 10 fps each; camera b reports a defect every 10th frame, a never.
  for (let i = 0; i < 700; i++) {
    const at = t0 + i * 100;
    stats.add(frame('a', 'PASS', at, 30));
    stats.add(frame('b', i % 10 === 0 ? 'DEFECT' : 'PASS', at, i % 10 === 9 ? 500 : 70));
  }
  const s = stats.snapshot(t0 + 69_900);
  assert.equal(s.total, 1400);
  assert.equal(s.total_defects, 70);
  assert.equal(s.inspected, 1200); // the last 60 s (a half-open window)
  assert.ok(Math.abs((s.defect_rate ?? 0) - 0.05) < 0.002, `defect rate ${s.defect_rate}`);
  assert.equal(s.fps, 20);
  assert.deepEqual([s.cameras.a.fps, s.cameras.b.fps], [10, 10]);
  assert.equal(s.cameras.a.defects, 0);
  assert.equal(s.cameras.b.defects, 60);
  // 600 x 30 ms, 540 x 70 ms, 60 x 500 ms.
  assert.equal(s.latency_ms.p50, 70);
  assert.equal(s.latency_ms.p99, 500);
});

test('FPS right after the first results is over the time since then (at least a second), and falls to 0 when the line stops', () => {
  const stats = new RollingStats();
  for (let i = 0; i < 6; i++) stats.add(frame('a', 'PASS', 10_000 + i * 100));
  assert.equal(stats.snapshot(10_600).fps, 6);
  assert.equal(stats.snapshot(30_000).fps, 0);
  assert.equal(stats.snapshot(80_000).inspected, 0);
  assert.equal(stats.snapshot(80_000).total, 6);
});
