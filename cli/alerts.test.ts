import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sampleMaintenanceAlert } from '../schemas/sample-records.ts';
import { formatAlert } from './alerts.ts';

test('an alert reads as time, state, arm, probability, summary and one line per driver', () => {
  const text = formatAlert({ ...sampleMaintenanceAlert, raised_at: Date.UTC(2026, 10, 23, 9, 30), failure_probability: 0.834 });
  const lines = text.split('\n');
  assert.match(lines[0], /^2026-11-23 09:30:00  RAISED   arm-07  p=0\.83 \(threshold 0\.70\)  arm-failure-gbm 2025\.03\.1  \[alert-arm-07-1741941000000\]$/);
  assert.equal(lines[1].trim(), sampleMaintenanceAlert.summary);
  assert.deepEqual(lines.slice(2).map((l) => l.trim()), ['+0.31  Vibration RMS over the last hour', '+0.12  Peak motor temperature over the last hour']);
});
