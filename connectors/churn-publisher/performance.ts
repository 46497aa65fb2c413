// `churn evaluate`'s publish step: the summary of models/churn/evaluate.py (precision and recall of
// the predictions of D-30 against the cancellations up to D) as one ModelPerformance record on
// models.performance.v1, next to the FactoryGuard tallies of maintenance-outcomes. A re-run of the
// same D sends the same counts again; consumers keep the latest per (model, version, day).
import { TOPICS, loadSchema } from '../../schemas/topics.ts';
import type { ModelPerformance } from '../../schemas/generated/types.ts';
import { createKafka } from '../../streams/runtime/kafka-client.ts';
import type { Logger } from '../../streams/runtime/logger.ts';
import { ConfluentSchemaStore } from '../../streams/runtime/schema-store.ts';
import { AvroSerde } from '../../streams/runtime/serde.ts';
import { ensureTopics } from '../../streams/runtime/topics-admin.ts';

const DAY_MS = 86_400_000;
export const CHURN_LABEL_SOURCE = 'lake: BillingEvent CANCELLATION';

/** What evaluate.py prints as its last line (and writes to --summary-out). */
export interface ChurnEvaluation {
  model_name: string;
  model_version: string;
  /** The prediction day D-30. */
  day: string;
  evaluated_on: string;
  horizon_days: number;
  threshold: number;
  true_positives: number;
  false_positives: number;
  false_negatives: number;
  labels_caught: number;
  precision: number | null;
  recall: number | null;
}

/** The record of an evaluation; throws naming the fields that are missing or of the wrong type. */
export function churnPerformanceRecord(s: ChurnEvaluation, now: number): ModelPerformance {
  const problems: string[] = [];
  for (const k of ['model_name', 'model_version', 'day'] as const) if (typeof s[k] !== 'string' || !s[k]) problems.push(`${k} must be a non-empty string`);
  for (const k of ['horizon_days', 'threshold', 'true_positives', 'false_positives', 'false_negatives', 'labels_caught'] as const) if (typeof s[k] !== 'number' || !Number.isFinite(s[k])) problems.push(`${k} must be a number`);
  for (const k of ['precision', 'recall'] as const) if (s[k] !== null && typeof s[k] !== 'number') problems.push(`${k} must be a number or null`);
  if (problems.length) throw new Error(`churn evaluation summary: ${problems.join('; ')}`);
  return {
    model_name: s.model_name,
    model_version: s.model_version,
    processor: 'churn-evaluate',
    day: s.day,
    label_source: CHURN_LABEL_SOURCE,
    horizon_ms: s.horizon_days * DAY_MS,
    threshold: s.threshold,
    true_positives: s.true_positives,
    false_positives: s.false_positives,
    false_negatives: s.false_negatives,
    labels_caught: s.labels_caught,
    // The whole horizon has passed when D is evaluated: nothing of the day waits.
    pending: 0,
    precision: s.precision,
    recall: s.recall,
    computed_at: now,
  };
}

/** Sends records to models.performance.v1 (keyed by model name), creating the topic if missing. */
export async function publishPerformance(records: ModelPerformance[], o: { brokers: string[]; registryUrl: string; log: Logger }): Promise<void> {
  const topic = TOPICS.modelPerformance;
  const kafka = createKafka('streamscore-churn-evaluate', o.brokers, o.log);
  const admin = kafka.admin();
  await admin.connect();
  try {
    await ensureTopics(admin, [topic], o.log);
  } finally {
    await admin.disconnect();
  }
  const serde = new AvroSerde(new ConfluentSchemaStore(o.registryUrl));
  await serde.useTopic(topic.name, loadSchema(topic.schema));
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  try {
    await producer.send({ topic: topic.name, messages: records.map((r) => ({ key: r.model_name, value: serde.encode(topic.name, r) })) });
  } finally {
    await producer.disconnect();
  }
}
