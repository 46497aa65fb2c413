// The plant history export: a plant's own file through its mapping, checked against its profile,
// in the trainer's format (contract with models/maintenance/plant_data.py).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { REPO_ROOT } from '../../infra/stack/config.ts';
import { loadPlantProfile } from '../../schemas/factory/plant-profile.ts';
import { loadMapping } from '../gateway/mapping.ts';
import { fileSource, type SourceItem } from '../gateway/sources.ts';
import { HISTORY_COLUMNS, exportHistory, readFailureEventsCsv } from './history.ts';

const PROFILE_FILE = join(REPO_ROOT, 'connectors', 'plants', 'cmapss-fd001.json');
const profile = loadPlantProfile(PROFILE_FILE);
const profileText = readFileSync(PROFILE_FILE, 'utf8');
const mapping = loadMapping(join(REPO_ROOT, 'connectors', 'mappings', 'cmapss-fd001-engines.json'));
const SAMPLE = join(REPO_ROOT, 'connectors', 'samples', 'cmapss-fd001-units1-2.txt');
const dir = mkdtempSync(join(tmpdir(), 'plant-history-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const csvRows = (out: string) => gunzipSync(readFileSync(join(out, 'readings.csv.gz'))).toString('utf8').trim().split('\n').map((l) => l.split(','));

describe('plant history export', () => {
  it('writes every reading of the sample in event-time order, with channel and settings, and the end RULs', async () => {
    const rows = readFileSync(SAMPLE, 'utf8').trim().split('\n');
    const units = rows.map((l) => l.trim().split(/\s+/)[0]);
    writeFileSync(join(dir, 'rul.txt'), '112\n98\n');
    const out = join(dir, 'a');
    const s = await exportHistory(fileSource(SAMPLE, mapping), { profile, profileText, out, source: 'sample', armPrefix: 'test-', endRulFile: join(dir, 'rul.txt') });
    assert.deepEqual({ readings: s.readings, arms: s.arms, rejected: s.rejected, endRul: s.endRul }, { readings: rows.length * 14, arms: new Set(units).size, rejected: 0, endRul: 2 });
    const [header, ...data] = csvRows(out);
    assert.deepEqual(header, [...HISTORY_COLUMNS]);
    const times = data.map((r) => Number(r[5]));
    assert.ok(times.every((t, i) => i === 0 || t >= times[i - 1]), 'event-time order');
    const t50 = data.find((r) => r[0] === 'test-engine-001' && r[2] === 't50')!;
    assert.deepEqual([t50[1], t50[3], t50[4], t50[7], t50[9]], ['OTHER', '1400.6', 'degR', 'cmapss-fd001', '-0.0007;-0.0004;100']);
    assert.equal(readFileSync(join(out, 'end_rul.csv'), 'utf8'), 'arm_id,rul_samples\ntest-engine-001,112\ntest-engine-002,98\n');
    const meta = JSON.parse(readFileSync(join(out, 'meta.json'), 'utf8')) as { plant_id: string; profile_sha256: string; channels: string[] };
    assert.equal(meta.plant_id, 'cmapss-fd001');
    assert.match(meta.profile_sha256, /^[0-9a-f]{64}$/);
    assert.equal(meta.channels.length, 14);
  });

  it('leaves out what the stream would refuse, each with its reason, and other plants', async () => {
    const reading = (over: object): SourceItem => ({ kind: 'reading', line: 1, reading: { arm_id: 'e1', sensor: 'OTHER', channel: 't50', value: 1_400, unit: 'degR', event_time: Date.UTC(2024, 0, 1), gateway_id: null, plant_id: null, sequence: null, quality: null, settings: [0, 0, 100], ...over } });
    const items: SourceItem[] = [
      reading({}), reading({ value: 9_999 }), reading({ channel: 'oil_temp' }), reading({ plant_id: 'plant-01' }), { kind: 'reject', reason: 'cycle "x" is not a number', raw: 'x', line: 7 },
    ];
    const out = join(dir, 'b');
    const s = await exportHistory(items, { profile, profileText, out, source: 'items' });
    assert.deepEqual({ readings: s.readings, rejected: s.rejected, otherPlants: s.otherPlants }, { readings: 1, rejected: 3, otherPlants: 1 });
    const reasons = readFileSync(join(out, 'rejects.jsonl'), 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { reason: string }).reason);
    assert.deepEqual(reasons, [
      'channel t50 value 9999 degR is outside the plausible range [300, 2000]',
      'plant cmapss-fd001\'s profile declares no channel "oil_temp"',
      'cycle "x" is not a number',
    ]);
  });

  it('refuses an end-RUL file that does not match the arms, and a failures file with bad times', async () => {
    writeFileSync(join(dir, 'rul3.txt'), '1\n2\n3\n');
    await assert.rejects(exportHistory(fileSource(SAMPLE, mapping), { profile, profileText, out: join(dir, 'c'), source: 's', endRulFile: join(dir, 'rul3.txt') }), /has 3 lines, the readings have 2 arms/);
    writeFileSync(join(dir, 'failures.csv'), 'arm_id,failure_time,mode,kind\nengine-001,2024-01-09T00:00:00Z,hpc,\nengine-002,soon,hpc,\nengine-002,1704067200000,,REPAIR\n');
    assert.throws(() => readFailureEventsCsv(join(dir, 'failures.csv')), (err: Error) => {
      assert.match(err.message, /line 3: failure_time "soon" is not epoch ms or ISO 8601/);
      assert.match(err.message, /line 4: kind "REPAIR" is not FAILURE or MAINTENANCE/);
      return true;
    });
  });

  it('writes the failures (the labels) and the maintenance stops apart, in time order, with the arm prefix', async () => {
    writeFileSync(join(dir, 'events.csv'), 'arm_id,failure_time,mode,repaired_at,kind\nengine-002,2024-01-09T00:00:00Z,hpc,2024-01-09T06:00:00Z,FAILURE\nengine-001,1704240000000,,,maintenance\nengine-001,1704153600000,fan,,\n');
    const out = join(dir, 'e');
    const s = await exportHistory(fileSource(SAMPLE, mapping), { profile, profileText, out, source: 's', armPrefix: 'p-', failureEvents: readFailureEventsCsv(join(dir, 'events.csv')) });
    assert.deepEqual({ failures: s.failures, maintenance: s.maintenance }, { failures: 2, maintenance: 1 });
    assert.equal(readFileSync(join(out, 'failures.csv'), 'utf8'), `arm_id,failure_time,mode,repaired_at\np-engine-001,1704153600000,fan,\np-engine-002,${Date.UTC(2024, 0, 9)},hpc,${Date.UTC(2024, 0, 9, 6)}\n`);
    assert.equal(readFileSync(join(out, 'maintenance.csv'), 'utf8'), 'arm_id,failure_time,mode,repaired_at\np-engine-001,1704240000000,,\n');
  });
});
