// The ModelPerformance record of a churn evaluation summary (evaluate.py's last line).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TOPICS, loadSchema } from '../../schemas/topics.ts';
import { AvroSerde } from '../../streams/runtime/serde.ts';
import { MemorySchemaStore } from '../../streams/runtime/schema-store.ts';
import { CHURN_LABEL_SOURCE, churnPerformanceRecord, type ChurnEvaluation } from './performance.ts';

const SUMMARY: ChurnEvaluation = { model_name: 'churn-30d-rf', model_version: '2026.11.29-37ef010', day: '2026-06-30', evaluated_on: '2026-07-30', horizon_days: 30, threshold: 0.24, true_positives: 1, false_positives: 2, false_negatives: 1, labels_caught: 1, precision: 1 / 3, recall: 0.5 };

test('a summary becomes one record of the topic schema, for the prediction day, with its threshold and horizon', async () => {
  const r = churnPerformanceRecord(SUMMARY, 1_790_000_000_000);
  assert.deepEqual(r, { model_name: 'churn-30d-rf', model_version: '2026.11.29-37ef010', processor: 'churn-evaluate', day: '2026-06-30', label_source: CHURN_LABEL_SOURCE, horizon_ms: 30 * 86_400_000, threshold: 0.24, true_positives: 1, false_positives: 2, false_negatives: 1, labels_caught: 1, pending: 0, precision: 1 / 3, recall: 0.5, computed_at: 1_790_000_000_000 });
  const serde = new AvroSerde(new MemorySchemaStore());
  await serde.useTopic(TOPICS.modelPerformance.name, loadSchema(TOPICS.modelPerformance.schema));
  assert.deepEqual({ ...((await serde.decode(TOPICS.modelPerformance.name, serde.encode(TOPICS.modelPerformance.name, r))) as object) }, r);
});

test('a summary with missing or mistyped fields is refused, naming them', () => {
  const bad = { ...SUMMARY, model_version: '', true_positives: '1', recall: undefined } as unknown as ChurnEvaluation;
  assert.throws(() => churnPerformanceRecord(bad, 0), /model_version must be a non-empty string; true_positives must be a number; recall must be a number or null/);
});
