// SensorReading v2 (issue #11): enum symbol OTHER with a default, optional channel and settings.
// The v1 schema is written out here as it was committed, so the checks compare the real pair.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import avro from 'avsc';
import { loadSchema } from '../topics.ts';
import { sampleSensorReading } from '../sample-records.ts';

const V1 = {
  type: 'record', name: 'SensorReading', namespace: 'io.streamscore.factory',
  fields: [
    { name: 'arm_id', type: 'string' },
    { name: 'sensor', type: { type: 'enum', name: 'SensorKind', symbols: ['VIBRATION', 'TEMPERATURE', 'PRESSURE'] } },
    { name: 'value', type: 'double' },
    { name: 'unit', type: 'string' },
    { name: 'event_time', type: { type: 'long', logicalType: 'timestamp-millis' } },
    { name: 'gateway_id', type: 'string' },
    { name: 'plant_id', type: 'string' },
    { name: 'sequence', type: 'long' },
    { name: 'quality', type: ['null', { type: 'enum', name: 'ReadingQuality', symbols: ['GOOD', 'UNCERTAIN', 'BAD'] }], default: null },
  ],
} as const;

const v1 = avro.Type.forSchema(V1 as unknown as avro.Schema);
const v2 = avro.Type.forSchema(loadSchema('factory/sensor-reading.avsc') as avro.Schema);
const { channel: _c, settings: _s, ...v1Reading } = sampleSensorReading;
const plain = (x: unknown) => JSON.parse(JSON.stringify(x)) as unknown;

test('BACKWARD: a v2 consumer reads what v1 gateways wrote, with channel and settings null', () => {
  const bytes = v1.toBuffer(v1Reading);
  assert.deepEqual(plain(v2.fromBuffer(bytes, v2.createResolver(v1))), { ...v1Reading, channel: null, settings: null });
});

test('a v1 consumer cannot read v2 data (a symbol it lacks, no default): consumers upgrade before gateways', () => {
  // avsc refuses the whole writer schema, not only OTHER readings, so every v2-written record would
  // be dead-lettered by a v1 consumer: the upgrade order in the schema's doc is required, not advice.
  assert.throws(() => v1.createResolver(v2), /cannot read "io\.streamscore\.factory\.SensorKind"/);
});

test('a later symbol reaches a v2 consumer as OTHER (the enum default)', () => {
  const v3Schema = structuredClone(loadSchema('factory/sensor-reading.avsc')) as { fields: { name: string; type: { symbols?: string[] } }[] };
  v3Schema.fields.find((f) => f.name === 'sensor')!.type.symbols!.push('ACOUSTIC');
  const v3 = avro.Type.forSchema(v3Schema as unknown as avro.Schema);
  const bytes = v3.toBuffer({ ...sampleSensorReading, sensor: 'ACOUSTIC', channel: 'mic_1', unit: 'dB', value: 71 });
  const read = v2.fromBuffer(bytes, v2.createResolver(v3)) as { sensor: string; channel: string };
  assert.equal(read.sensor, 'OTHER');
  assert.equal(read.channel, 'mic_1');
});
