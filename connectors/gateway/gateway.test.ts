import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, describe, it } from 'node:test';
import { REPO_ROOT } from '../../infra/stack/config.ts';
import { TOPICS, loadSchema } from '../../schemas/topics.ts';
import type { SensorReading } from '../../schemas/generated/types.ts';
import { createLogger } from '../../streams/runtime/logger.ts';
import { MemorySchemaStore } from '../../streams/runtime/schema-store.ts';
import { AvroSerde } from '../../streams/runtime/serde.ts';
import { Gateway } from './gateway.ts';
import { loadMapping } from './mapping.ts';
import { fileSource, jsonlSource, paced, type SourceItem } from './sources.ts';
import type { SpoolRecord } from './spool.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const log = createLogger({ test: true }).child({}, { level: 'fatal' });

async function gatewayWith(sent: SpoolRecord[], store = new MemorySchemaStore()) {
  const stateDir = mkdtempSync(join(tmpdir(), 'gw-test-'));
  dirs.push(stateDir);
  const g = await Gateway.start({
    gatewayId: 'gw-test',
    plantId: 'plant-test',
    brokers: [],
    schemaRegistryUrl: 'http://unused',
    schemaStore: store,
    stateDir,
    sink: { send: async (records) => void sent.push(...records) },
    metricsPort: 0,
    log,
  });
  const serde = new AvroSerde(store);
  serde.useReader(TOPICS.sensorReadings.name, loadSchema(TOPICS.sensorReadings.schema));
  const decode = async (r: SpoolRecord) => (await serde.decode(TOPICS.sensorReadings.name, r.value)) as SensorReading;
  return { g, decode, stateDir };
}

describe('gateway', () => {
  it('validates, numbers each arm, encodes Avro keyed by arm; rejects go to the rejects file with the reason', async () => {
    const sent: SpoolRecord[] = [];
    const { g, decode } = await gatewayWith(sent);
    const now = Date.now();
    const lines = [
      { arm_id: 'arm-001', sensor: 'VIBRATION', value: 2.5, unit: 'mm/s', event_time: now - 2000 },
      { arm_id: 'arm-001', sensor: 'TEMPERATURE', value: 140, unit: 'degF', event_time: now - 2000 }, // wrong unit
      { arm_id: 'arm-002', sensor: 'PRESSURE', value: 6.1, unit: 'bar', event_time: new Date(now - 1000).toISOString() },
      { arm_id: 'arm-001', sensor: 'PRESSURE', value: 6.3, unit: 'bar', event_time: now - 1000, quality: 'UNCERTAIN' },
      { arm_id: 'arm-003', sensor: 'VIBRATION', value: 2, unit: 'mm/s', event_time: now + 3_600_000 }, // future
    ].map((o) => JSON.stringify(o));
    await g.run(jsonlSource(Readable.from([`${lines.join('\n')}\nnot json\n`])));
    await g.drained();
    const s = await g.summary();
    await g.close();
    assert.equal(s.read, 5);
    assert.equal(s.sent, 3);
    assert.equal(s.rejected, 3);
    const out = await Promise.all(sent.map(decode));
    assert.deepEqual(out.map((r) => [r.arm_id, r.sensor, r.sequence, r.gateway_id, r.plant_id]), [
      ['arm-001', 'VIBRATION', 0, 'gw-test', 'plant-test'],
      ['arm-002', 'PRESSURE', 0, 'gw-test', 'plant-test'],
      ['arm-001', 'PRESSURE', 2, 'gw-test', 'plant-test'], // the rejected reading used sequence 1: the gap shows downstream
    ]);
    assert.deepEqual(sent.map((r) => r.key), ['arm-001', 'arm-002', 'arm-001']);
    assert.equal(out[2].quality, 'UNCERTAIN');
    const rejects = readFileSync(g.rejectsPath, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(rejects.length, 3);
    assert.match(rejects[0].reason, /TEMPERATURE must be reported in degC, got "degF"/);
    assert.equal(rejects[0].stage, 'validation');
    assert.equal(rejects[0].line, 2);
    assert.match(rejects[1].reason, /gateway clock ahead/);
    assert.equal(rejects[2].stage, 'parse');
    assert.equal(rejects[2].raw, 'not json');
  });

  it('replays the C-MAPSS sample through its mapping: 958 readings, sequences 0..N-1 per engine', async () => {
    const sent: SpoolRecord[] = [];
    const { g, decode } = await gatewayWith(sent);
    const mapping = loadMapping(join(REPO_ROOT, 'connectors', 'mappings', 'cmapss-fd001.json'));
    await g.run(fileSource(join(REPO_ROOT, 'connectors', 'samples', 'cmapss-fd001-units1-2.txt'), mapping));
    await g.drained();
    const res = await fetch(`http://127.0.0.1:${g.httpPort}/metrics`);
    const metrics = await res.text();
    await g.close();
    assert.equal(sent.length, 958);
    const byArm = new Map<string, number[]>();
    for (const r of await Promise.all(sent.map(decode))) {
      if (!byArm.has(r.arm_id)) byArm.set(r.arm_id, []);
      byArm.get(r.arm_id)!.push(r.sequence);
    }
    assert.deepEqual([...byArm.keys()], ['cmapss-FD001-1', 'cmapss-FD001-2']);
    for (const seqs of byArm.values()) assert.deepEqual(seqs, seqs.map((_, i) => i));
    assert.match(metrics, /streamscore_gateway_readings_sent_total\{path="direct"\} 958/);
    assert.match(metrics, /streamscore_gateway_spool_bytes \d+/);
  });

  it('paces a replay: at 100x, 10 s of event time take 100 ms', async () => {
    const items: SourceItem[] = Array.from({ length: 11 }, (_, i) => ({ kind: 'reading', line: i, reading: { arm_id: 'a', sensor: 'VIBRATION', value: 1, unit: 'mm/s', event_time: 1_000_000 + i * 1000, gateway_id: null, plant_id: null, sequence: null, quality: null, channel: null, settings: null } }));
    let clock = 0;
    const waits: number[] = [];
    const out: SourceItem[] = [];
    for await (const item of paced(items, { speed: 100, now: () => clock, sleep: async (ms) => { waits.push(ms); clock += ms; } })) out.push(item);
    assert.equal(out.length, 11);
    assert.equal(clock, 100); // 10 s of event time at 100x
    assert.deepEqual(waits, Array(10).fill(10));
  });
});
