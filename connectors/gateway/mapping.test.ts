import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { REPO_ROOT } from '../../infra/stack/config.ts';
import { validateReading } from '../../schemas/factory/sensor-reading-rules.ts';
import { MappingError, UNIT_CONVERSIONS, compileTemplate, loadMapping, parseMapping, type Mapping } from './mapping.ts';
import { fileSource, mappedSource, type SourceItem, type SourceReading } from './sources.ts';

const MAPPINGS = join(REPO_ROOT, 'connectors', 'mappings');
const SAMPLE = join(REPO_ROOT, 'connectors', 'samples', 'cmapss-fd001-units1-2.txt');
const SHARED = join(REPO_ROOT, '..', 'shared', 'data');
const CMAPSS_FD001 = join(SHARED, 'cmapss', 'train_FD001.txt.gz');
const AZURE = join(SHARED, 'azure-pdm', 'PdM_telemetry_machine1_first1409h.csv');
const T0 = Date.UTC(2024, 0, 1);

async function collect(items: AsyncIterable<SourceItem>, limit = Infinity): Promise<SourceItem[]> {
  const out: SourceItem[] = [];
  for await (const item of items) {
    out.push(item);
    if (out.length >= limit) break;
  }
  return out;
}
const readings = (items: SourceItem[]) => items.filter((i): i is Extract<SourceItem, { kind: 'reading' }> => i.kind === 'reading').map((i) => i.reading);
const close = (a: number, b: number, eps = 1e-6) => Math.abs(a - b) <= eps;

describe('mapping files', () => {
  it('every shipped mapping parses', () => {
    for (const f of readdirSync(MAPPINGS).filter((x) => x.endsWith('.json'))) assert.doesNotThrow(() => loadMapping(join(MAPPINGS, f)), f);
  });

  it('names every problem of a bad mapping', () => {
    const bad = { name: 'bad', source: { format: 'csv', header: false }, arm_id: 'no-columns', event_time: { column: 't', format: 'rfc' }, readings: [{ sensor: 'PRESSURE', column: 'p', from_unit: 'degC' }, { sensor: 'TEMPERATURE', column: 't2', from_unit: 'furlongs' }] };
    const err = (() => {
      try {
        parseMapping(bad);
      } catch (e) {
        return e as MappingError;
      }
      return null;
    })();
    assert.ok(err instanceof MappingError);
    const text = err.problems.join('\n');
    assert.match(text, /source.columns .* is required/);
    assert.match(text, /arm_id must be a template/);
    assert.match(text, /event_time.format/);
    assert.match(text, /from_unit degC is not a PRESSURE unit/);
    assert.match(text, /from_unit "furlongs" is unknown/);
  });

  it('templates fill in columns, with zero padding', () => {
    assert.equal(compileTemplate('m{machineID:03}-{line}')({ machineID: '7', line: 'B' }), 'm007-B');
    assert.equal(compileTemplate('{arm_id}')({ arm_id: 'arm-001' }), 'arm-001');
  });

  it('unit conversions: Rankine, Fahrenheit, kelvin, psi, kPa, in/s', () => {
    const conv = (unit: string, v: number) => v * UNIT_CONVERSIONS[unit].scale + UNIT_CONVERSIONS[unit].offset;
    assert.ok(close(conv('degR', 491.67), 0));
    assert.ok(close(conv('degR', 671.67), 100));
    assert.ok(close(conv('degF', 212), 100));
    assert.ok(close(conv('K', 273.15), 0));
    assert.ok(close(conv('psi', 14.5037738), 1, 1e-6));
    assert.ok(close(conv('kPa', 100), 1));
    assert.ok(close(conv('in/s', 1), 25.4));
  });
});

describe('C-MAPSS FD001 mapping', () => {
  const mapping = loadMapping(join(MAPPINGS, 'cmapss-fd001.json'));

  it('turns the first rows of train_FD001 (shipped sample) into the expected readings', async () => {
    const items = await collect(fileSource(SAMPLE, mapping));
    const rs = readings(items);
    assert.equal(items.length, rs.length, 'no rejects');
    assert.equal(rs.length, 479 * 2, 'two readings (T50, P30) per row, no vibration');
    // Rows are replayed in event-time order: cycle 1 of unit 1, then of unit 2, then cycle 2, ...
    // s4 (T50, degR) and s7 (P30, psia): unit 1 cycle 1 = 1400.60, 554.36; unit 2 cycle 1 = 1391.28,
    // 554.53; unit 1 cycle 2 = 1403.14.
    const [t1, p1, t2, p2, t1b] = rs;
    const expect = (r: SourceReading, arm: string, sensor: string, value: number, unit: string, time: number) => {
      assert.equal(r.arm_id, arm);
      assert.equal(r.sensor, sensor);
      assert.ok(close(r.value, value, 1e-9), `${sensor} ${r.value} != ${value}`);
      assert.equal(r.unit, unit);
      assert.equal(r.event_time, time);
      assert.equal(r.gateway_id, 'gw-cmapss');
      assert.equal(r.plant_id, 'nasa-cmapss-fd001');
      assert.equal(r.sequence, null, 'numbered by the gateway');
    };
    expect(t1, 'cmapss-FD001-1', 'TEMPERATURE', (1400.6 * 5) / 9 - 273.15, 'degC', T0);
    expect(p1, 'cmapss-FD001-1', 'PRESSURE', 554.36 * 0.0689475729, 'bar', T0);
    expect(t2, 'cmapss-FD001-2', 'TEMPERATURE', (1391.28 * 5) / 9 - 273.15, 'degC', T0);
    expect(p2, 'cmapss-FD001-2', 'PRESSURE', 554.53 * 0.0689475729, 'bar', T0);
    expect(t1b, 'cmapss-FD001-1', 'TEMPERATURE', (1403.14 * 5) / 9 - 273.15, 'degC', T0 + 3_600_000);
    assert.ok(close(t1.value, 504.961111111, 1e-6));
    assert.ok(close(p1.value, 38.222, 1e-3));
    // Every reading is valid for the sensor-validation rules (the temperature range covers turbine exhaust).
    for (const r of rs) assert.equal(validateReading({ ...r, gateway_id: 'g', plant_id: 'p', sequence: 0 }, Date.now()), null);
    // Per arm, event times increase by one hour per cycle: 192 cycles for unit 1, 287 for unit 2.
    const unit1 = rs.filter((r) => r.arm_id === 'cmapss-FD001-1' && r.sensor === 'PRESSURE');
    assert.equal(unit1.length, 192);
    assert.ok(unit1.every((r, i) => r.event_time === T0 + i * 3_600_000));
  });

  it('the real train_FD001.txt.gz gives the same first readings as the sample', { skip: existsSync(CMAPSS_FD001) ? false : `${CMAPSS_FD001} not present (../shared holds the full data sets; the sample covers the rest)` }, async () => {
    const all = readings(await collect(fileSource(CMAPSS_FD001, mapping)));
    assert.equal(all.length, 20631 * 2);
    const sample = readings(await collect(fileSource(SAMPLE, mapping)));
    const first = (rs: SourceReading[]) => rs.filter((r) => r.arm_id === 'cmapss-FD001-1' || r.arm_id === 'cmapss-FD001-2').slice(0, 40);
    assert.deepEqual(first(all), first(sample));
    assert.equal(new Set(all.map((r) => r.arm_id)).size, 100);
    for (const r of all) assert.equal(validateReading({ ...r, gateway_id: 'g', plant_id: 'p', sequence: 0 }, Date.now()), null);
  });
});

describe('Azure PdM mapping', () => {
  it('maps the telemetry of machine 1 (vibration mm/s, pressure psi -> bar, no temperature)', { skip: existsSync(AZURE) ? false : `${AZURE} not present: the Azure data has no open licence and is not shipped` }, async () => {
    const mapping = loadMapping(join(MAPPINGS, 'azure-pdm.json'));
    const items = await collect(fileSource(AZURE, mapping));
    const rs = readings(items);
    const rows = readFileSync(AZURE, 'utf8').split('\n').filter((l) => l.trim()).length - 1; // 1410 hourly rows
    assert.equal(items.length, rs.length, 'no rejects');
    assert.equal(rs.length, rows * 2);
    const [v, p] = rs;
    assert.equal(v.arm_id, 'azure-pdm-001');
    assert.equal(v.sensor, 'VIBRATION');
    assert.equal(v.event_time, Date.UTC(2015, 0, 1, 6));
    assert.ok(close(v.value, 45.0876857639276, 1e-9));
    assert.equal(p.sensor, 'PRESSURE');
    assert.ok(close(p.value, 113.077935462083 * 0.0689475729, 1e-9));
    assert.equal(rs[2].event_time, Date.UTC(2015, 0, 1, 7));
    assert.ok(!rs.some((r) => r.sensor === 'TEMPERATURE'));
    for (const r of rs) assert.equal(validateReading({ ...r, gateway_id: 'g', plant_id: 'p', sequence: 0 }, Date.now()), null);
  });
});

describe('mapped CSV rows', () => {
  const m: Mapping = parseMapping({
    name: 'plant-b',
    source: { format: 'csv', header: true, delimiter: ';' },
    arm_id: 'plant-b-{robot}',
    event_time: { column: 'ts', format: 'iso', utc_offset: '+01:00' },
    readings: [
      { sensor: 'TEMPERATURE', column: 'temp_f', from_unit: 'degF' },
      { sensor: 'PRESSURE', column: 'p_kpa', scale: 0.01 },
    ],
  });

  it('converts units, reads local times with the stated offset, rejects bad cells with a reason', async () => {
    const csv = 'robot;ts;temp_f;p_kpa\n7;2025-03-01 12:00:00;212;620\n8;2025-03-01 12:00:01;n/a;630\n9;yesterday;100;600\n';
    const items = await collect(mappedSource(Readable.from([csv]), m));
    const rs = readings(items);
    assert.equal(rs[0].arm_id, 'plant-b-7');
    assert.equal(rs[0].event_time, Date.UTC(2025, 2, 1, 11));
    assert.ok(close(rs[0].value, 100));
    assert.ok(close(rs[1].value, 6.2));
    const rejects = items.filter((i) => i.kind === 'reject');
    assert.equal(rejects.length, 2);
    assert.match((rejects[0] as { reason: string }).reason, /TEMPERATURE column temp_f "n\/a" is not a number/);
    assert.match((rejects[1] as { reason: string }).reason, /ts "yesterday" is not an ISO 8601 time/);
    assert.equal((rejects[1] as { raw: string }).raw, '9;yesterday;100;600');
  });

  it('a file without a column the mapping names fails at the header, naming it', async () => {
    await assert.rejects(collect(mappedSource(Readable.from(['robot;ts;temp_f\n1;2025-03-01T00:00:00Z;80\n']), m)), /has no column\(s\) p_kpa/);
  });
});
