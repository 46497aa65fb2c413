// Acceptance: garbage bytes and a record with an unknown schema id sent to
// factory.sensor-readings.v1 land in factory.sensor-readings.v1.dlq with the reason in headers,
// while the good records sent around them all come out of the processor.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { TOPICS, dlqTopic, loadSchema } from '../../schemas/topics.ts';
import { startProcessor, type RunningProcessor } from '../../streams/runtime/kafka-runner.ts';
import { sensorValidation } from '../../streams/sensor-validation/topology.ts';
import { collect, reading, readingMessage, readingSerde, runId, runtimeOptions, testKafka } from './helpers.ts';

let processor: RunningProcessor;
before(async () => {
  processor = await startProcessor(sensorValidation, runtimeOptions());
});
after(async () => {
  await processor?.stop();
});

test('poison records go to the DLQ with their reason; every good record comes out', { timeout: 120_000 }, async () => {
  const id = runId();
  const kafka = testKafka();
  const serde = await readingSerde();
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const garbage = Buffer.from(`not avro at all ${id}`);
  const unknownSchema = Buffer.concat([Buffer.from([0, 0x7f, 0xff, 0xff, 0x00]), Buffer.from(id)]);
  const good = Array.from({ length: 60 }, (_, i) => reading(id, i % 3, Math.floor(i / 3)));
  const messages = [
    ...good.slice(0, 30).map((r) => readingMessage(serde, r)),
    { key: `${id}-garbage`, value: garbage },
    { key: `${id}-unknown-schema`, value: unknownSchema },
    ...good.slice(30).map((r) => readingMessage(serde, r)),
  ];
  await producer.send({ topic: TOPICS.sensorReadings.name, messages });
  await producer.disconnect();

  const out = await collect(
    kafka,
    [TOPICS.sensorReadingsValidated.name, dlqTopic(TOPICS.sensorReadings.name)],
    (m) => (m.topic.endsWith('.dlq') ? (m.key ?? '').startsWith(id) : m.value.includes(Buffer.from(id))),
    (all) => all.length >= good.length + 2,
  );
  const validated = out.filter((m) => !m.topic.endsWith('.dlq'));
  const reader = await readingSerde();
  reader.useReader(TOPICS.sensorReadingsValidated.name, loadSchema(TOPICS.sensorReadingsValidated.schema));
  const sequences = await Promise.all(validated.map(async (m) => ((await reader.decode(TOPICS.sensorReadingsValidated.name, m.value)) as { arm_id: string; sequence: number })));
  assert.deepEqual(sequences.map((r) => `${r.arm_id}/${r.sequence}`).sort(), good.map((r) => `${r.arm_id}/${r.sequence}`).sort());

  const dead: Record<string, Record<string, string>> = Object.fromEntries(out.filter((m) => m.topic.endsWith('.dlq')).map((m) => [m.key, m.headers]));
  assert.equal(dead[`${id}-garbage`]['streamscore.error.stage'], 'DECODE');
  assert.equal(dead[`${id}-garbage`]['streamscore.error.class'], 'WireFormatError');
  assert.match(dead[`${id}-garbage`]['streamscore.error.message'], /unknown magic byte/);
  assert.equal(dead[`${id}-unknown-schema`]['streamscore.error.class'], 'UnknownSchemaError');
  assert.match(dead[`${id}-unknown-schema`]['streamscore.error.message'], /schema id 2147483392 is not registered/);
  for (const h of Object.values(dead)) {
    assert.equal(h['streamscore.source.topic'], TOPICS.sensorReadings.name);
    assert.match(h['streamscore.source.offset'], /^\d+$/);
    assert.equal(h['streamscore.error.processor'], 'sensor-validation');
  }

  const metrics = await (await fetch(`http://127.0.0.1:${processor.httpPort}/metrics`)).text();
  assert.match(metrics, /streamscore_dlq_records_total\{processor="sensor-validation",topic="factory.sensor-readings.v1",stage="decode"\} [2-9]/);
  assert.equal((await fetch(`http://127.0.0.1:${processor.httpPort}/readyz`)).status, 200);
});
