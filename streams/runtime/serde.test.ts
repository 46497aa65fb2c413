import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AvroSerde } from './serde.ts';
import { MemorySchemaStore } from './schema-store.ts';
import { AvroDecodeError, ProduceError, UnknownSchemaError, WireFormatError } from './errors.ts';

const v1 = { type: 'record', name: 'Reading', namespace: 't', fields: [{ name: 'arm_id', type: 'string' }, { name: 'value', type: 'double' }] };
const v2 = { ...v1, fields: [...v1.fields, { name: 'site', type: ['null', 'string'], default: null }] };

test('encodes in Confluent wire format: magic 0, big-endian schema id, Avro body', async () => {
  const serde = new AvroSerde(new MemorySchemaStore());
  const id = await serde.useTopic('t.readings.v1', v1);
  const bytes = serde.encode('t.readings.v1', { arm_id: 'a', value: 1.5 });
  assert.equal(bytes[0], 0);
  assert.equal(bytes.readInt32BE(1), id);
  assert.deepEqual({ ...((await serde.decode('t.readings.v1', bytes)) as object) }, { arm_id: 'a', value: 1.5 });
});

test('a v1 reader reads records written with a compatible v2 schema', async () => {
  const store = new MemorySchemaStore();
  const writer = new AvroSerde(store);
  await writer.useTopic('t.readings.v1', v1);
  const writerV2 = new AvroSerde(store);
  await writerV2.useTopic('t.readings.v1', v2);
  const reader = new AvroSerde(store);
  reader.useReader('t.readings.v1', v1);
  const decoded = await reader.decode('t.readings.v1', writerV2.encode('t.readings.v1', { arm_id: 'b', value: 2, site: 'north' }));
  assert.deepEqual({ ...(decoded as object) }, { arm_id: 'b', value: 2 });
  assert.notEqual(writer.schemaId('t.readings.v1'), writerV2.schemaId('t.readings.v1'));
});

test('an incompatible schema is refused at registration', async () => {
  const store = new MemorySchemaStore();
  await store.register('t.readings.v1-value', v1);
  const required = { ...v1, fields: [...v1.fields, { name: 'site', type: 'string' }] };
  await assert.rejects(store.register('t.readings.v1-value', required), /not BACKWARD compatible/);
});

test('decode errors are typed: short, wrong magic, unknown id, truncated body', async () => {
  const serde = new AvroSerde(new MemorySchemaStore());
  await serde.useTopic('t.readings.v1', v1);
  await assert.rejects(serde.decode('t.readings.v1', null), WireFormatError);
  await assert.rejects(serde.decode('t.readings.v1', Buffer.from([1, 0, 0, 0, 1, 2])), /unknown magic byte 1/);
  await assert.rejects(serde.decode('t.readings.v1', Buffer.from([0, 0, 0, 0, 99, 2])), UnknownSchemaError);
  const good = serde.encode('t.readings.v1', { arm_id: 'abc', value: 3 });
  await assert.rejects(serde.decode('t.readings.v1', good.subarray(0, good.length - 3)), AvroDecodeError);
});

test('encoding an invalid value names the offending fields', async () => {
  const serde = new AvroSerde(new MemorySchemaStore());
  await serde.useTopic('t.readings.v1', v1);
  assert.throws(() => serde.encode('t.readings.v1', { arm_id: 7, value: 'x' }), (e: unknown) => e instanceof ProduceError && /arm_id=7/.test(e.message) && /value="x"/.test(e.message));
  serde.useReader('t.other.v1', v1);
  assert.throws(() => serde.encode('t.other.v1', { arm_id: 'a', value: 1 }), /read-only/);
});
