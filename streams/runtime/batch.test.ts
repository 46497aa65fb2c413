import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TOPICS } from '../../schemas/topics.ts';
import { sampleSensorReading } from '../../schemas/sample-records.ts';
import type { SensorReading } from '../../schemas/generated/types.ts';
import { ProcessingError, StateStoreError } from './errors.ts';
import { defineProcessor } from './processor.ts';
import { ProcessorTestDriver } from './test-driver.ts';
import { fixtureModel } from './fixtures/offload-processor.ts';
import { MODEL_HEADER } from './models.ts';
import { CHUNK_HEADER, SOURCE_HEADER } from './batch.ts';

const echo = (poison: (r: SensorReading) => boolean, calls: number[]) =>
  defineProcessor({
    name: 'echo-test',
    description: 'forwards readings; throws on poison',
    inputs: [TOPICS.sensorReadings],
    outputs: [TOPICS.sensorReadingsValidated],
    semantics: 'exactly-once',
    semanticsReason: 'test',
    async handle(records) {
      calls.push(records.length);
      const bad = records.find((r) => poison(r.value as SensorReading));
      if (bad) throw new Error(`cannot handle sequence ${(bad.value as SensorReading).sequence}`);
      return records.map((r) => ({ topic: TOPICS.sensorReadingsValidated, key: 'k', value: r.value, source: r }));
    },
  });

test('a handler that throws on one record: the batch is re-run record by record and only that record is dead-lettered', async () => {
  const calls: number[] = [];
  const d = new ProcessorTestDriver(echo((r) => r.sequence === 3, calls));
  for (let s = 1; s <= 5; s++) await d.pipe(TOPICS.sensorReadings, 'k', { ...sampleSensorReading, sequence: s });
  await d.run();
  assert.deepEqual(calls, [5, 1, 1, 1, 1, 1]);
  assert.deepEqual((await d.outputs<SensorReading>(TOPICS.sensorReadingsValidated)).map((o) => o.value.sequence), [1, 2, 4, 5]);
  const dead = await d.deadLetters(TOPICS.sensorReadings);
  assert.deepEqual(dead.map((x) => [x.stage, x.errorClass, x.errorMessage]), [['processing', 'ProcessingError', 'cannot handle sequence 3']]);
});

test('a retriable error (state store down) fails the whole batch instead of dead-lettering it', async () => {
  const def = defineProcessor({
    ...echo(() => false, []),
    async handle() {
      throw new StateStoreError('Redis unreachable');
    },
  });
  const d = new ProcessorTestDriver(def);
  await d.pipe(TOPICS.sensorReadings, 'k', sampleSensorReading);
  await assert.rejects(d.run(), StateStoreError);
});

test('a processor writing an exactly-once topic must declare exactly-once', () => {
  assert.throws(() => defineProcessor({ ...echo(() => false, []), semantics: 'at-least-once' }), /declared exactly-once in schemas\/topics.ts/);
});

test('a record rejected twice in one attempt (two of its jobs failed) is dead-lettered once, with the first reason', async () => {
  const def = defineProcessor({
    ...echo(() => false, []),
    async handle(records, ctx) {
      const bad = records.find((r) => (r.value as SensorReading).sequence === 2)!;
      ctx.reject(bad, new ProcessingError('page 3 could not be read'));
      ctx.reject(bad, new ProcessingError('page 7 could not be read'));
      return records.filter((r) => r !== bad).map((r) => ({ topic: TOPICS.sensorReadingsValidated, key: 'k', value: r.value, source: r }));
    },
  });
  const d = new ProcessorTestDriver(def);
  for (let s = 1; s <= 3; s++) await d.pipe(TOPICS.sensorReadings, 'k', { ...sampleSensorReading, sequence: s });
  await d.run();
  assert.deepEqual((await d.outputs<SensorReading>(TOPICS.sensorReadingsValidated)).map((o) => o.value.sequence), [1, 3]);
  const dead = await d.deadLetters(TOPICS.sensorReadings);
  assert.deepEqual(dead.map((x) => x.errorMessage), ['page 3 could not be read']);
});

test('outputs name all the processor\'s models in streamscore-model, unless an output names the one that made it', async () => {
  const def = defineProcessor({
    ...echo(() => false, []),
    models: [fixtureModel(), fixtureModel({ name: 'second', version: '2' })],
    async handle(records) {
      return records.map((r, i) => ({ topic: TOPICS.sensorReadingsValidated, key: 'k', value: r.value, source: r, ...(i === 0 ? { headers: { [MODEL_HEADER]: 'second@2' } } : {}) }));
    },
  });
  const d = new ProcessorTestDriver(def);
  try {
    await d.pipe(TOPICS.sensorReadings, 'k', { ...sampleSensorReading, sequence: 1 });
    await d.pipe(TOPICS.sensorReadings, 'k', { ...sampleSensorReading, sequence: 2 });
    await d.run();
    const out = await d.outputs<SensorReading>(TOPICS.sensorReadingsValidated);
    assert.deepEqual(out.map((o) => o.headers[MODEL_HEADER]), ['second@2', 'fixture-failure-model@test.1,second@2']);
  } finally {
    await d.close();
  }
});

test('every output names its input record and the chunk it was processed in', async () => {
  const d = new ProcessorTestDriver(echo(() => false, []));
  for (let s = 1; s <= 3; s++) await d.pipe(TOPICS.sensorReadings, 'k', { ...sampleSensorReading, sequence: s });
  await d.run();
  const out = await d.outputs<SensorReading>(TOPICS.sensorReadingsValidated);
  const topic = TOPICS.sensorReadings.name;
  assert.deepEqual(out.map((o) => o.headers[SOURCE_HEADER]), [0, 1, 2].map((o) => `${topic}/0/${o}`));
  assert.deepEqual(out.map((o) => o.headers[CHUNK_HEADER]), [0, 1, 2].map(() => `${topic}/0/0-2`));
});
