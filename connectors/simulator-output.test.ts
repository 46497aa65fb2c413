import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { REPO_ROOT } from '../infra/stack/config.ts';
import { EVENTS_COLUMNS, FAILURES_COLUMNS, READINGS_COLUMNS, writeSimulation } from './simulator-output.ts';

const dir = mkdtempSync(join(tmpdir(), 'sim-out-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('simulator output files', () => {
  it('writes readings.csv.gz (exact columns, event-time order), failures.csv, events.csv and meta.json', async () => {
    const out = join(dir, 'a');
    const summary = await writeSimulation(out, { arms: 6, durationMs: 3 * 86_400_000, intervalMs: 60_000, seed: 7, mtbfDays: 2 });
    const lines = gunzipSync(readFileSync(join(out, 'readings.csv.gz'))).toString().trimEnd().split('\n');
    assert.equal(lines[0], READINGS_COLUMNS.join(','));
    assert.equal(lines[0], 'arm_id,sensor,value,unit,event_time,gateway_id,plant_id,sequence');
    assert.equal(lines.length - 1, summary.readings);
    let last = 0;
    const seq = new Map<string, number>();
    for (const line of lines.slice(1)) {
      const [arm, , value, , t, , , s] = line.split(',');
      assert.ok(Number(t) >= last);
      last = Number(t);
      assert.ok(Number.isFinite(Number(value)));
      assert.equal(Number(s), seq.get(arm) ?? 0);
      seq.set(arm, Number(s) + 1);
    }
    const failures = readFileSync(join(out, 'failures.csv'), 'utf8').trimEnd().split('\n');
    assert.equal(failures[0], FAILURES_COLUMNS.join(','));
    assert.equal(failures.length - 1, summary.failures);
    assert.ok(summary.failures > 0, 'mtbf 2 days over 6 arm x 3 days gives failures');
    assert.equal(readFileSync(join(out, 'events.csv'), 'utf8').split('\n')[0], EVENTS_COLUMNS.join(','));
    const meta = JSON.parse(readFileSync(join(out, 'meta.json'), 'utf8'));
    assert.equal(meta.seed, 7);
    assert.equal(meta.counts.readings, summary.readings);
    assert.equal(meta.options.arms, 6);
  });

  it('`streamscore simulate` writes the same files for the same seed', () => {
    const cli = join(REPO_ROOT, 'cli', 'main.ts');
    const run = (name: string) => spawnSync(process.execPath, [cli, 'simulate', '--arms', '3', '--duration', '6h', '--seed', '7', '--out', join(dir, name)], { encoding: 'utf8' });
    const a = run('b');
    assert.equal(a.status, 0, a.stderr);
    assert.match(a.stderr, /wrote 3240 readings/); // 3 arms x 360 minutes x 3 sensors
    assert.equal(run('c').status, 0);
    assert.deepEqual(gunzipSync(readFileSync(join(dir, 'b', 'readings.csv.gz'))), gunzipSync(readFileSync(join(dir, 'c', 'readings.csv.gz'))));
    const bad = spawnSync(process.execPath, [cli, 'simulate', '--arms', 'many', '--out', join(dir, 'd')], { encoding: 'utf8' });
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--arms "many" is not an integer/);
  });
});
