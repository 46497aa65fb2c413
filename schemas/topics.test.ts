// Checks the topic catalogue against the naming rules and the schema files it points at.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { findSchemaFiles } from './codegen.ts';
import { TOPICS, allTopicSpecs, dlqSpec, dlqTopic, loadSchema, subjectFor, DEAD_LETTER_SCHEMA } from './topics.ts';
import type { TopicSpec } from './topics.ts';

const TOPIC_NAME = /^[a-z]+\.[a-z0-9-]+\.v[0-9]+$/;
const DLQ_NAME = /^[a-z]+\.[a-z0-9-]+\.v[0-9]+\.dlq$/;
const SOURCES: TopicSpec[] = Object.values(TOPICS);

test('catalogue topic names follow <domain>.<entity>.v<major> and are unique', () => {
  for (const spec of SOURCES) assert.match(spec.name, TOPIC_NAME);
  const names = allTopicSpecs().map((spec) => spec.name);
  assert.equal(new Set(names).size, names.length, 'duplicate topic name');
});

test('each topic lives in the domain of its schema', () => {
  for (const spec of SOURCES) {
    assert.equal(spec.name.split('.')[0], spec.schema.split('/')[0], spec.name);
  }
});

test('every schema file a topic names exists, and its key is a string field of the record', () => {
  for (const spec of SOURCES) {
    assert.ok(existsSync(join(import.meta.dirname, spec.schema)), `${spec.name}: missing ${spec.schema}`);
    const schema = loadSchema(spec.schema) as { fields: { name: string; type: unknown }[] };
    const keyField = schema.fields.find((field) => field.name === spec.key);
    assert.equal(keyField?.type, 'string', `${spec.name}: key ${spec.key} is not a string field of ${spec.schema}`);
  }
});

test('every top-level schema is used by some topic', () => {
  const used = new Set(allTopicSpecs().map((spec) => spec.schema));
  assert.deepEqual(findSchemaFiles().filter((file) => !used.has(file)), []);
});

test('every catalogue topic has a dead-letter topic that can hold its largest record', () => {
  const specs = new Map(allTopicSpecs().map((spec) => [spec.name, spec]));
  assert.equal(specs.size, SOURCES.length * 2);
  for (const source of SOURCES) {
    const dlq = specs.get(dlqTopic(source.name));
    assert.ok(dlq, `no DLQ for ${source.name}`);
    assert.match(dlq.name, DLQ_NAME);
    assert.equal(dlq.schema, DEAD_LETTER_SCHEMA);
    assert.ok(dlq.maxMessageBytes > source.maxMessageBytes, `${dlq.name} cannot hold a max-size ${source.name} record`);
    assert.equal(dlq.cleanupPolicy, 'delete');
  }
  assert.ok(existsSync(join(import.meta.dirname, DEAD_LETTER_SCHEMA)));
});

test('settings are within sane bounds', () => {
  for (const spec of allTopicSpecs()) {
    assert.ok(Number.isInteger(spec.partitions) && spec.partitions >= 1, `${spec.name}: partitions`);
    assert.ok(spec.retentionMs >= 24 * 3600 * 1000, `${spec.name}: retention under a day`);
    assert.ok(spec.maxMessageBytes >= 1024 * 1024, `${spec.name}: max.message.bytes under 1 MiB`);
    assert.ok(spec.doc.length > 0, `${spec.name}: doc`);
  }
});

test('validated readings are co-partitioned with raw readings', () => {
  assert.equal(TOPICS.sensorReadingsValidated.key, TOPICS.sensorReadings.key);
  assert.equal(TOPICS.sensorReadingsValidated.partitions, TOPICS.sensorReadings.partitions);
  assert.equal(TOPICS.sensorReadingsValidated.schema, TOPICS.sensorReadings.schema);
});

test('naming helpers', () => {
  assert.equal(dlqTopic('factory.sensor-readings.v1'), 'factory.sensor-readings.v1.dlq');
  assert.equal(subjectFor('factory.sensor-readings.v1'), 'factory.sensor-readings.v1-value');
  assert.equal(dlqSpec(TOPICS.cameraFrames).name, 'vision.frames.v1.dlq');
});

test('loadSchema reads .avsc files inside schemas/ only', () => {
  assert.equal((loadSchema('factory/sensor-reading.avsc') as { name: string }).name, 'SensorReading');
  assert.throws(() => loadSchema('../package.json'), /not an \.avsc file inside schemas/);
  assert.throws(() => loadSchema('topics.ts'), /not an \.avsc file/);
});
