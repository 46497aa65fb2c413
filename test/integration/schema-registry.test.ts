// Acceptance: the registry lists a subject for every schema, refuses an incompatible change, and a
// v1 reader reads records written with a compatible v2, through Kafka and the real registry.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TOPICS, allTopicSpecs, loadSchema, subjectFor } from '../../schemas/topics.ts';
import { applyTopics } from '../../cli/topics.ts';
import { ConfluentSchemaStore } from '../../streams/runtime/schema-store.ts';
import { AvroSerde } from '../../streams/runtime/serde.ts';
import { UnknownSchemaError } from '../../streams/runtime/errors.ts';
import { collect, endpoints, reading, runId, testKafka } from './helpers.ts';

test('every declared topic has its value subject registered, with BACKWARD compatibility', async () => {
  await applyTopics(process.env);
  const { schemaRegistryUrl } = endpoints();
  const subjects = (await (await fetch(`${schemaRegistryUrl}/subjects`)).json()) as string[];
  for (const spec of allTopicSpecs()) assert.ok(subjects.includes(subjectFor(spec.name)), `missing subject ${subjectFor(spec.name)}`);
  const config = (await (await fetch(`${schemaRegistryUrl}/config/${subjectFor(TOPICS.sensorReadings.name)}`)).json()) as { compatibilityLevel: string };
  assert.equal(config.compatibilityLevel, 'BACKWARD');
});

test('an incompatible change to a subject is refused and leaves it unchanged', async () => {
  const { schemaRegistryUrl } = endpoints();
  const subject = subjectFor(TOPICS.sensorReadings.name);
  const versionsBefore = await (await fetch(`${schemaRegistryUrl}/subjects/${subject}/versions`)).json();
  const v1 = loadSchema(TOPICS.sensorReadings.schema) as { fields: object[] };
  const incompatible = { ...v1, fields: [...v1.fields, { name: 'firmware', type: 'string', doc: 'required field without default' }] };
  // Through the store the runtime uses: the registry's 409 becomes a clear refusal naming the subject.
  await assert.rejects(new ConfluentSchemaStore(schemaRegistryUrl).register(subject, incompatible), (err: Error) => /not BACKWARD compatible/.test(err.message) && err.message.includes(subject) && (err.cause as { status?: number }).status === 409);
  assert.deepEqual(await (await fetch(`${schemaRegistryUrl}/subjects/${subject}/versions`)).json(), versionsBefore);
});

test('a v1 reader reads records written with a compatible v2 (optional field added)', { timeout: 90_000 }, async () => {
  const id = runId();
  // A throwaway subject and topic, so the real subject does not gain a test version.
  const topic = `test.evolution-${id}.v1`;
  const kafka = testKafka();
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: 1 }] });
  const v1 = loadSchema(TOPICS.sensorReadings.schema) as { fields: object[] };
  const v2 = { ...v1, fields: [...v1.fields, { name: 'firmware', type: ['null', 'string'], default: null, doc: 'gateway firmware (v2)' }] };
  const store = new ConfluentSchemaStore(endpoints().schemaRegistryUrl);
  const writerV1 = new AvroSerde(store);
  const writerV2 = new AvroSerde(store);
  const idV1 = await writerV1.useTopic(topic, v1);
  const idV2 = await writerV2.useTopic(topic, v2);
  assert.notEqual(idV1, idV2);
  const r1 = reading(id, 1, 1);
  const r2 = { ...reading(id, 1, 2), firmware: '4.2.1' };
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({ topic, messages: [{ key: 'a', value: writerV1.encode(topic, r1) }, { key: 'a', value: writerV2.encode(topic, r2) }] });
  await producer.disconnect();

  const records = await collect(kafka, [topic], () => true, (all) => all.length >= 2);
  const readerV1 = new AvroSerde(new ConfluentSchemaStore(endpoints().schemaRegistryUrl));
  readerV1.useReader(topic, v1);
  const decoded = await Promise.all(records.map(async (m) => ({ ...((await readerV1.decode(topic, m.value)) as object) })));
  assert.deepEqual(decoded, [r1, reading(id, 1, 2, r2.event_time)]);
  assert.equal(records[1].value.readInt32BE(1), idV2, 'the second record was written with v2');
  await admin.deleteTopics({ topics: [topic] });
  await admin.disconnect();
});

test('an unknown schema id is reported as UnknownSchemaError, not as an outage', async () => {
  const store = new ConfluentSchemaStore(endpoints().schemaRegistryUrl);
  await assert.rejects(store.writerType(2_000_000_001), UnknownSchemaError);
});
