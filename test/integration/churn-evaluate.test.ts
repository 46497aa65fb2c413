// `churn evaluate`'s publish step on the real Kafka and registry: the record of an evaluation summary
// lands on models.performance.v1 keyed by the model name and decodes with the registered schema.
// (The Spark join itself is tested by models/churn/tests/test_churn_evaluate.py.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TOPICS, loadSchema } from '../../schemas/topics.ts';
import type { ModelPerformance } from '../../schemas/generated/types.ts';
import { churnPerformanceRecord, publishPerformance } from '../../connectors/churn-publisher/performance.ts';
import { ConfluentSchemaStore } from '../../streams/runtime/schema-store.ts';
import { AvroSerde } from '../../streams/runtime/serde.ts';
import { collect, endpoints, quietLog, runId, testKafka } from './helpers.ts';

test('an evaluation is published to models.performance.v1', { timeout: 90_000 }, async () => {
  const version = runId();
  const summary = { model_name: 'churn-30d-rf', model_version: version, day: '2026-06-30', evaluated_on: '2026-07-30', horizon_days: 30, threshold: 0.24, true_positives: 3, false_positives: 1, false_negatives: 2, labels_caught: 3, precision: 0.75, recall: 0.6 };
  const record = churnPerformanceRecord(summary, Date.now());
  await publishPerformance([record], { brokers: endpoints().kafkaBrokers, registryUrl: endpoints().schemaRegistryUrl, log: quietLog });
  const found = await collect(testKafka(), [TOPICS.modelPerformance.name], (m) => m.value.includes(Buffer.from(version)), (all) => all.length >= 1, 60_000, 1_000);
  assert.equal(found.length, 1);
  assert.equal(found[0].key, 'churn-30d-rf');
  const reader = new AvroSerde(new ConfluentSchemaStore(endpoints().schemaRegistryUrl));
  reader.useReader(TOPICS.modelPerformance.name, loadSchema(TOPICS.modelPerformance.schema));
  assert.deepEqual({ ...((await reader.decode(TOPICS.modelPerformance.name, found[0].value)) as ModelPerformance) }, record);
});
