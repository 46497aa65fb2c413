// The Kafka runner's side of drift monitoring: feeds the processor's monitors after each delivered
// chunk and sends the DriftAlert records to models.drift-alerts.v1 on a producer of its own. Not in
// the chunk's transaction: an alert is advice about a window of many chunks, not an output of one,
// and a failed send must never hold back (or roll back) the processor's own outputs. A chunk that
// is redelivered after a crash is counted twice; over windows of thousands of records that is noise.
import type { Kafka, Producer } from 'kafkajs';
import { TOPICS, loadSchema } from '../../../schemas/topics.ts';
import type { Logger } from '../logger.ts';
import type { RuntimeMetrics } from '../metrics.ts';
import type { ProcessorDefinition } from '../processor.ts';
import { errorLine } from '../retry.ts';
import type { AvroSerde } from '../serde.ts';
import { ensureTopics } from '../topics-admin.ts';
import { ProcessorDrift, type DriftSample } from './processor-drift.ts';

export interface DriftHook {
  /** Counts one delivered chunk's samples; alerts are sent in the background (never throws). */
  observe(samples: readonly DriftSample[]): void;
  /** Monitors the versions a newly served definition declares references for (a model swap). */
  track(def: ProcessorDefinition): void;
  close(): Promise<void>;
}

export async function startDriftPublisher(o: { def: ProcessorDefinition; kafka: Kafka; serde: AvroSerde; metrics: RuntimeMetrics; log: Logger; now: () => number }): Promise<DriftHook | null> {
  const { def, log } = o;
  if (!def.drift) return null;
  const drift = new ProcessorDrift(def.name, def.drift, o.metrics);
  const topic = TOPICS.driftAlerts;
  const admin = o.kafka.admin();
  await admin.connect();
  try {
    await ensureTopics(admin, [topic], log);
  } finally {
    await admin.disconnect();
  }
  await o.serde.useTopic(topic.name, loadSchema(topic.schema));
  const producer: Producer = o.kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  log.info({ monitored: drift.monitored, windowMs: def.drift.windowMs, minRecords: def.drift.minRecords }, 'drift monitoring on');
  let sending: Promise<unknown> = Promise.resolve();
  return {
    observe(samples) {
      if (samples.length === 0) return;
      const { alerts, unknown } = drift.observe(samples, o.now());
      for (const v of unknown) log.warn({ model: v }, 'scored by a model version without a drift reference (reference.json): not monitored');
      if (alerts.length === 0) return;
      for (const a of alerts) log.warn({ model: a.model_name, version: a.model_version, feature: a.feature, statistic: a.statistic, state: a.state, value: a.value }, `drift ${a.state.toLowerCase()}`);
      const messages = alerts.map((a) => ({ key: a.model_name, value: o.serde.encode(topic.name, a) }));
      // In order, one send at a time: RAISED before its CLEARED.
      sending = sending.then(() => producer.send({ topic: topic.name, messages })).catch((err: unknown) => log.error({ err: errorLine(err), alerts: alerts.length }, 'sending drift alerts failed; they are in the log above'));
    },
    track(next) {
      const added = drift.track(next.drift?.references ?? []);
      if (added.length) log.info({ monitored: added }, 'drift monitoring of the newly served model versions');
    },
    async close() {
      await sending;
      await producer.disconnect().catch((e: Error) => log.warn({ err: e.message }, 'drift producer disconnect failed'));
    },
  };
}
