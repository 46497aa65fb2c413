// What starts a retraining: DriftAlerts (models.drift-alerts.v1, RAISED only) and precision
// breaches in ModelPerformance tallies (models.performance.v1, from delayed labels), read by one
// consumer group. A record becomes a RetrainTrigger; the steward decides what to do with it. The
// group commits as it goes: a walk is resumed from the registry after a restart, not from the topic.
import type { Consumer, Kafka } from 'kafkajs';
import { TOPICS, loadSchema } from '../../../schemas/topics.ts';
import type { DriftAlert, ModelPerformance } from '../../../schemas/generated/types.ts';
import type { Logger } from '../logger.ts';
import { errorLine } from '../retry.ts';
import type { SchemaStore } from '../schema-store.ts';
import { AvroSerde } from '../serde.ts';
import { ensureTopics } from '../topics-admin.ts';
import type { RetrainTrigger } from './steward-state.ts';

export interface PerformanceRule {
  /** A day's precision below this starts a retraining... */
  minPrecision: number;
  /** ...once at least this many of its positive predictions are judged (TP + FP). */
  minJudged: number;
}

/** A RAISED drift alert as a trigger; CLEARED is not one. */
export function driftTrigger(a: DriftAlert): RetrainTrigger | null {
  if (a.state !== 'RAISED') return null;
  const p = a.p_value === null ? '' : `, p ${a.p_value.toExponential(2)} < ${a.p_threshold?.toExponential(2)}`;
  return {
    model: a.model_name, modelVersion: a.model_version, source: 'drift', rule: `drift:${a.feature}/${a.statistic}`, at: a.detected_at,
    detail: `${a.statistic} ${a.value.toFixed(3)} > ${a.threshold} on ${a.feature}${p} in ${a.processor}'s window ${new Date(a.window_start).toISOString()}..${new Date(a.window_end).toISOString()} (${a.window_records} records)`,
    numbers: { value: a.value, threshold: a.threshold, window_records: a.window_records },
  };
}

/** A day's tally with judged precision under the rule's floor as a trigger. */
export function performanceTrigger(p: ModelPerformance, rule: PerformanceRule): RetrainTrigger | null {
  const judged = p.true_positives + p.false_positives;
  if (p.precision === null || judged < rule.minJudged || p.precision >= rule.minPrecision) return null;
  return {
    model: p.model_name, modelVersion: p.model_version, source: 'performance', rule: 'precision', at: p.computed_at,
    detail: `precision ${p.precision.toFixed(3)} < ${rule.minPrecision} on ${p.day} (${p.true_positives} TP, ${p.false_positives} FP, labels from ${p.label_source})`,
    numbers: { precision: p.precision, min_precision: rule.minPrecision, true_positives: p.true_positives, false_positives: p.false_positives },
  };
}

export interface StewardFeedOptions {
  kafka: Kafka;
  store: SchemaStore;
  groupId: string;
  performanceRule(model: string): PerformanceRule;
  /** Triggers older than this (by their own time) are history, not news: a first start reads from the beginning. */
  maxAgeMs: number;
  onTrigger(t: RetrainTrigger): Promise<unknown>;
  log: Logger;
  now?: () => number;
}

export async function startStewardFeed(o: StewardFeedOptions): Promise<{ consumer: Consumer; stop(): Promise<void> }> {
  const topics = [TOPICS.driftAlerts, TOPICS.modelPerformance];
  const admin = o.kafka.admin();
  await admin.connect();
  try {
    await ensureTopics(admin, topics, o.log);
  } finally {
    await admin.disconnect();
  }
  const serde = new AvroSerde(o.store);
  for (const t of topics) serde.useReader(t.name, loadSchema(t.schema));
  const now = o.now ?? Date.now;
  const consumer = o.kafka.consumer({ groupId: o.groupId });
  await consumer.connect();
  await consumer.subscribe({ topics: topics.map((t) => t.name), fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ topic, partition, message }) => {
      let trigger: RetrainTrigger | null;
      try {
        const value = await serde.decode(topic, message.value);
        trigger = topic === TOPICS.driftAlerts.name ? driftTrigger(value as DriftAlert) : performanceTrigger(value as ModelPerformance, o.performanceRule((value as ModelPerformance).model_name));
      } catch (err) {
        o.log.error({ topic, partition, offset: message.offset, err: errorLine(err) }, 'undecodable record skipped');
        return;
      }
      if (!trigger) return;
      if (now() - trigger.at > o.maxAgeMs) return void o.log.info({ model: trigger.model, rule: trigger.rule, at: new Date(trigger.at).toISOString() }, 'stale trigger skipped');
      o.log.info({ model: trigger.model, rule: trigger.rule }, `trigger: ${trigger.detail}`);
      // A registry that does not answer is retried by kafkajs (the message is not committed) with its backoff.
      await o.onTrigger(trigger);
    },
  });
  return { consumer, stop: () => consumer.disconnect() };
}
