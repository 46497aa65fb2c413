// The audit topic of the registry (models.lifecycle.v1): one ModelLifecycleEvent per registration,
// promotion, refusal, rollout step or rollback, keyed by model name so a model's history stays in
// order. Sent with acks from all in-sync replicas and awaited: a command that moved (or refused to
// move) an alias says so only once the audit record is stored.
import type { Kafka, Producer } from 'kafkajs';
import { TOPICS, loadSchema } from '../../../schemas/topics.ts';
import type { ModelLifecycleEvent } from '../../../schemas/generated/types.ts';
import type { Logger } from '../logger.ts';
import { AvroSerde } from '../serde.ts';
import type { SchemaStore } from '../schema-store.ts';
import { ensureTopics } from '../topics-admin.ts';

export type LifecycleEventType = ModelLifecycleEvent['event'];

export interface LifecyclePublisher {
  publish(events: ModelLifecycleEvent[]): Promise<void>;
  close(): Promise<void>;
}

/** An event with the optional fields empty; `n` numbers the steps of one kind per version. */
export function lifecycleEvent(o: Pick<ModelLifecycleEvent, 'event' | 'model_name' | 'registry_version' | 'actor'> & Partial<ModelLifecycleEvent> & { n: number }): ModelLifecycleEvent {
  const { n, ...rest } = o;
  return {
    event_id: `${o.model_name}/${o.registry_version}/${o.event}/${n}`,
    model_version: null, alias: null, previous_version: null, reason: null, gates: [], rule: null, numbers: {}, occurred_at: Date.now(),
    ...rest,
  };
}

export async function kafkaLifecyclePublisher(o: { kafka: Kafka; store: SchemaStore; log: Logger }): Promise<LifecyclePublisher> {
  const topic = TOPICS.modelLifecycle;
  const admin = o.kafka.admin();
  await admin.connect();
  try {
    await ensureTopics(admin, [topic], o.log);
  } finally {
    await admin.disconnect();
  }
  const serde = new AvroSerde(o.store);
  await serde.useTopic(topic.name, loadSchema(topic.schema));
  // Not idempotent: a duplicate after a retry is harmless (event_id names the step), and the runtime's bounded retries would void idempotence anyway.
  const producer: Producer = o.kafka.producer();
  await producer.connect();
  return {
    async publish(events) {
      if (events.length === 0) return;
      await producer.send({ topic: topic.name, acks: -1, messages: events.map((e) => ({ key: e.model_name, value: serde.encode(topic.name, e) })) });
    },
    close: () => producer.disconnect(),
  };
}
