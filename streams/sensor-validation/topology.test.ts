import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TOPICS } from '../../schemas/topics.ts';
import { sampleSensorReading } from '../../schemas/sample-records.ts';
import type { SensorReading } from '../../schemas/generated/types.ts';
import { ProcessorTestDriver } from '../runtime/test-driver.ts';
import { describeTopology } from '../runtime/processor.ts';
import { parseTraceparent } from '../runtime/tracing.ts';
import { SEQUENCE_GAP_HEADER, sensorValidation } from './topology.ts';

const T = Date.UTC(2026, 5, 1, 12);
const reading = (over: Partial<SensorReading> = {}): SensorReading => ({ ...sampleSensorReading, event_time: T, ...over });

test('valid readings are forwarded unchanged, keyed by arm, with a child trace context', async () => {
  const d = new ProcessorTestDriver(sensorValidation, { startTime: T });
  const parent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
  await d.pipe(TOPICS.sensorReadings, 'arm-07', reading({ sequence: 1 }), { timestamp: T, headers: { traceparent: parent } });
  await d.pipe(TOPICS.sensorReadings, 'arm-07', reading({ sequence: 2, sensor: 'TEMPERATURE', unit: 'degC', value: 71.5 }), { timestamp: T });
  await d.run();
  const out = await d.outputs<SensorReading>(TOPICS.sensorReadingsValidated);
  assert.deepEqual(out.map((o) => ({ ...o.value })), [reading({ sequence: 1 }), reading({ sequence: 2, sensor: 'TEMPERATURE', unit: 'degC', value: 71.5 })]);
  assert.deepEqual(out.map((o) => o.key), ['arm-07', 'arm-07']);
  const child = parseTraceparent(out[0].headers.traceparent);
  assert.equal(child?.traceId, '0af7651916cd43dd8448eb211c80319c');
  assert.notEqual(child?.spanId, 'b7ad6b7169203331');
  assert.ok(parseTraceparent(out[1].headers.traceparent), 'a record without traceparent starts a trace');
  assert.deepEqual(await d.deadLetters(TOPICS.sensorReadings), []);
});

test('invalid readings go to the DLQ with a validation reason while the others flow', async () => {
  const d = new ProcessorTestDriver(sensorValidation, { startTime: T });
  await d.pipe(TOPICS.sensorReadings, 'arm-07', reading({ sequence: 1 }), { timestamp: T });
  await d.pipe(TOPICS.sensorReadings, 'arm-07', reading({ sequence: 2, value: Number.NaN }), { timestamp: T });
  await d.pipe(TOPICS.sensorReadings, 'arm-07', reading({ sequence: 3, sensor: 'TEMPERATURE', unit: 'degF', value: 150 }), { timestamp: T });
  await d.pipe(TOPICS.sensorReadings, 'arm-07', reading({ sequence: 4, event_time: T + 3_600_000 }), { timestamp: T });
  await d.pipe(TOPICS.sensorReadings, 'arm-07', reading({ sequence: 5 }), { timestamp: T });
  await d.run();
  assert.deepEqual((await d.outputs<SensorReading>(TOPICS.sensorReadingsValidated)).map((o) => o.value.sequence), [1, 5]);
  const dead = await d.deadLetters(TOPICS.sensorReadings);
  assert.deepEqual(dead.map((x) => [x.sourceOffset, x.stage, x.errorClass]), [
    ['1', 'validation', 'ValidationError'],
    ['2', 'validation', 'ValidationError'],
    ['3', 'validation', 'ValidationError'],
  ]);
  assert.match(dead[0].errorMessage, /VIBRATION value is NaN/);
  assert.match(dead[1].errorMessage, /TEMPERATURE must be reported in degC, got "degF"/);
  assert.match(dead[2].errorMessage, /3600 s after the record was produced/);
  assert.equal(dead[1].headers['streamscore.error.stage'], 'VALIDATION');
});

test('garbage bytes and unknown schema ids are dead-lettered at decode with the original bytes', async () => {
  const d = new ProcessorTestDriver(sensorValidation, { startTime: T });
  const garbage = Buffer.from('{"arm_id":"arm-07"} not avro');
  const unknownId = Buffer.from([0, 0, 0, 0x30, 0x39, 2, 4, 6]);
  await d.pipe(TOPICS.sensorReadings, 'arm-07', reading({ sequence: 1 }), { timestamp: T });
  await d.pipeRaw(TOPICS.sensorReadings, 'arm-07', garbage, { timestamp: T });
  await d.pipeRaw(TOPICS.sensorReadings, 'arm-07', unknownId, { timestamp: T });
  await d.pipeRaw(TOPICS.sensorReadings, 'arm-07', Buffer.from([0, 0, 0]), { timestamp: T });
  await d.pipe(TOPICS.sensorReadings, 'arm-07', reading({ sequence: 2 }), { timestamp: T });
  await d.run();
  assert.deepEqual((await d.outputs<SensorReading>(TOPICS.sensorReadingsValidated)).map((o) => o.value.sequence), [1, 2]);
  const dead = await d.deadLetters(TOPICS.sensorReadings);
  assert.deepEqual(dead.map((x) => [x.stage, x.errorClass]), [
    ['decode', 'WireFormatError'],
    ['decode', 'UnknownSchemaError'],
    ['decode', 'WireFormatError'],
  ]);
  assert.deepEqual(dead[0].originalValue, garbage);
  assert.deepEqual(dead[1].originalValue, unknownId);
  assert.match(dead[1].errorMessage, /schema id 12345 is not registered/);
});

test('a reading that follows a gap in the arm sequence carries the gap size; a redelivered batch does not regress state', async () => {
  const d = new ProcessorTestDriver(sensorValidation, { startTime: T });
  for (const seq of [10, 11, 14, 15]) await d.pipe(TOPICS.sensorReadings, 'arm-07', reading({ sequence: seq }), { timestamp: T });
  await d.pipe(TOPICS.sensorReadings, 'arm-09', reading({ arm_id: 'arm-09', sequence: 3 }), { timestamp: T });
  await d.run();
  const out = await d.outputs<SensorReading>(TOPICS.sensorReadingsValidated);
  assert.deepEqual(out.map((o) => [o.value.arm_id, o.value.sequence, o.headers[SEQUENCE_GAP_HEADER] ?? null]), [
    ['arm-07', 10, null],
    ['arm-07', 11, null],
    ['arm-07', 14, '2'],
    ['arm-07', 15, null],
    ['arm-09', 3, null],
  ]);
  await d.pipe(TOPICS.sensorReadings, 'arm-07', reading({ sequence: 11 }), { timestamp: T });
  await d.run();
  assert.equal((await d.state.lastSequence.get('arm-07'))?.order, 15);
});

test('topology description lists sources, state, sinks and dead letters', () => {
  assert.deepEqual(describeTopology(sensorValidation), {
    processor: 'sensor-validation',
    description: sensorValidation.description,
    semantics: 'exactly-once',
    semanticsReason: 'rolling-window features downstream would count a duplicated reading twice',
    sources: [{ topic: 'factory.sensor-readings.v1', schema: 'factory/sensor-reading.avsc', key: 'arm_id' }],
    steps: ['decode (Confluent wire format, Avro, writer schema resolved to reader schema)', 'validate', 'handle (one call per poll batch)', 'encode + produce', 'commit'],
    state: [{ name: 'lastSequence', kind: 'latest-by-key', detail: 'highest-order entry per key, TTL 168 h' }],
    sinks: [{ topic: 'factory.sensor-readings-validated.v1', schema: 'factory/sensor-reading.avsc' }],
    deadLetters: ['factory.sensor-readings.v1.dlq'],
    models: [],
    workers: null,
  });
});
