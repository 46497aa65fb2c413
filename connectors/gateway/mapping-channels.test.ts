// Mappings onto a plant profile's channels (issue #11): any channel name in the unit the profile
// declares, the operating settings of each row, and the check of a mapping against its profile.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { REPO_ROOT } from '../../infra/stack/config.ts';
import { loadPlantProfile } from '../../schemas/factory/plant-profile.ts';
import { PlantRegistry, rulesOf } from '../../schemas/factory/plant-registry.ts';
import { validateReading } from '../../schemas/factory/sensor-reading-rules.ts';
import { MappingError, checkMappingAgainstRegistry, loadMapping, mappingProfileProblems, parseMapping } from './mapping.ts';
import { fileSource, mappedSource, type SourceItem } from './sources.ts';

const SAMPLE = join(REPO_ROOT, 'connectors', 'samples', 'cmapss-fd001-units1-2.txt');
const profile = loadPlantProfile(join(REPO_ROOT, 'connectors', 'plants', 'cmapss-fd001.json'));
const mapping = loadMapping(join(REPO_ROOT, 'connectors', 'mappings', 'cmapss-fd001-engines.json'));

async function items(path: string, m = mapping): Promise<SourceItem[]> {
  const out: SourceItem[] = [];
  for await (const item of fileSource(path, m)) out.push(item);
  return out;
}

describe('channel mappings', () => {
  it('maps every informative C-MAPSS sensor to its channel, with the settings, valid under the profile', async () => {
    const all = await items(SAMPLE);
    assert.ok(all.every((i) => i.kind === 'reading'));
    const rs = all.map((i) => (i as Extract<SourceItem, { kind: 'reading' }>).reading);
    // First row of the sample: unit 1, cycle 1: -0.0007 -0.0004 100.0, s2 = 641.82, s4 = 1400.60, s7 = 554.36.
    const first = rs.filter((r) => r.arm_id === 'engine-001' && r.event_time === Date.UTC(2024, 0, 1));
    assert.deepEqual(first.map((r) => r.channel), profile.channels.map((c) => c.name));
    const t50 = first.find((r) => r.channel === 't50')!;
    assert.deepEqual({ sensor: t50.sensor, value: t50.value, unit: t50.unit, settings: t50.settings }, { sensor: 'OTHER', value: 1400.6, unit: 'degR', settings: [-0.0007, -0.0004, 100] });
    assert.equal(first.find((r) => r.channel === 'p30')!.value, 554.36);
    const rules = rulesOf(profile);
    for (const r of rs) assert.equal(validateReading({ ...r, gateway_id: 'g', plant_id: 'cmapss-fd001', sequence: 0 }, Date.now(), rules), null);
  });

  it('a row whose setting is not a number is rejected with the setting named', async () => {
    const m = parseMapping({ ...mapping, source: { format: 'csv', header: true } });
    const header = (mapping.source.columns ?? []).join(',');
    const row = (setting2: string) => ['1', '1', '-0.0007', setting2, '100', ...Array.from({ length: 21 }, () => '500')].join(',');
    const got: SourceItem[] = [];
    for await (const i of mappedSource(Readable.from([`${header}\n${row('x')}\n${row('0.1')}\n`]), m)) got.push(i);
    assert.equal(got[0].kind, 'reject');
    assert.match((got[0] as { reason: string }).reason, /^setting mach \(column setting2\) "x" is not a number$/);
    assert.equal(got.filter((i) => i.kind === 'reading').length, 14);
  });

  it('names every problem of a bad channel column', () => {
    const bad = { ...mapping, readings: [{ channel: 'T50', column: 's4', unit: 'degR' }, { channel: 't30', column: 's3' }, { channel: 'p30', sensor: 'PRESSURE', column: 's7', unit: 'psia' }, { channel: 'nf', column: 's8', unit: 'rpm', from_unit: 'psia' }, { channel: 'nf', column: 's9', unit: 'rpm' }] };
    assert.throws(() => parseMapping(bad), (err: unknown) => {
      assert.ok(err instanceof MappingError);
      assert.deepEqual(err.problems, [
        'readings[0].channel must be a channel name like "t50" ([a-z][a-z0-9_]*)',
        "readings[1].unit (the channel's unit, as its plant profile declares it) is required",
        'readings[2]: give sensor (a legacy kind) or channel (a profile\'s channel), not both',
        'readings[3]: a channel takes unit (and scale/offset), not from_unit',
        'channel "nf" is mapped more than once',
      ]);
      return true;
    });
  });

  it('checks a mapping against its profile: channels, units, settings order, plant id', () => {
    assert.deepEqual(mappingProfileProblems(mapping, profile), []);
    const off = { ...mapping, plant_id: 'plant-x', readings: [...mapping.readings!.slice(0, 2), { channel: 't50', column: 's4', unit: 'degC' }, { channel: 'oil_temp', column: 's5', unit: 'degC' }], settings: [...mapping.settings!].reverse() };
    assert.deepEqual(mappingProfileProblems(off, profile), [
      'readings[2] (t50) is sent in degC, profile cmapss-fd001 declares degR',
      'readings[3] (oil_temp): profile cmapss-fd001 declares no such channel',
      'settings ["throttle_resolver_angle","mach","altitude_kft"] must be the profile\'s operating_settings in its order: ["altitude_kft","mach","throttle_resolver_angle"]',
      'plant_id "plant-x" is not the profile\'s "cmapss-fd001"',
    ]);
  });
});

describe('a mapping naming its profile', () => {
  it('is refused when the profile is unknown or disagrees', () => {
    const registry = new PlantRegistry([profile]);
    assert.equal(checkMappingAgainstRegistry(mapping, registry), mapping);
    assert.throws(() => checkMappingAgainstRegistry({ ...mapping, profile: 'cmapss-fd009' }, registry), /profile "cmapss-fd009" is not among the plant profiles \(cmapss-fd001\)/);
    assert.throws(() => checkMappingAgainstRegistry({ ...mapping, settings: [] }, registry), /settings \[\] must be the profile's operating_settings/);
  });
});

describe('a legacy column against a profile', () => {
  it('agrees only when the profile has the channel named after the kind, of that kind (as validation looks it up)', () => {
    const legacy = { ...mapping, readings: [{ sensor: 'TEMPERATURE' as const, column: 's4', from_unit: 'degR' }] };
    const withKind = (name: string) => ({ ...profile, channels: [{ name, code: 'x', unit: 'degC', min: 0, max: 1_000, kind: 'TEMPERATURE' as const }] });
    assert.deepEqual(mappingProfileProblems(legacy, withKind('temperature')), []);
    assert.deepEqual(mappingProfileProblems(legacy, withKind('egt')), ['readings[0] (temperature): profile cmapss-fd001 declares no such channel']);
    assert.deepEqual(mappingProfileProblems(legacy, { ...withKind('temperature'), channels: [{ ...withKind('temperature').channels[0], kind: undefined }] }), [
      "readings[0] (temperature): profile cmapss-fd001's channel temperature is not of kind TEMPERATURE",
    ]);
  });
});
