// Plumbing of the Parquet-sink tests: a throwaway copy of the billing topic, billing events written
// with the v1 or the current (v2) schema, and reading a lake back.
import type { Kafka } from 'kafkajs';
import { TOPICS, loadSchema, type TopicSpec } from '../../schemas/topics.ts';
import type { BillingEvent } from '../../schemas/generated/types.ts';
import { ConfluentSchemaStore } from '../../streams/runtime/schema-store.ts';
import { AvroSerde } from '../../streams/runtime/serde.ts';
import { datasetFiles, readParquetFile } from '../../connectors/parquet-sink/lake-reader.ts';
import { endpoints } from './helpers.ts';
import { waitUntil } from '../../infra/stack/process.ts';
import { groupCommittedToEnd } from '../../streams/runtime/topics-admin.ts';

const DAY_MS = 86_400_000;
export const T0 = Date.UTC(2026, 5, 1, 6, 0, 0);

/** The billing topic's shape under a new name, so a test owns every record on it. */
export function throwawayBillingTopic(id: string, partitions = 3): TopicSpec {
  return { ...TOPICS.billingEvents, name: `it.billing-events.${id}`, partitions };
}

/** BillingEvent v1 as first registered: no payment_method field, no CANCELLATION symbol. */
export function billingSchemaV1(): object {
  const v2 = loadSchema(TOPICS.billingEvents.schema) as { fields: { name: string; type: unknown }[] };
  return {
    ...v2,
    fields: v2.fields
      .filter((f) => f.name !== 'payment_method')
      .map((f) => (f.name === 'event_type' ? { ...f, type: { ...(f.type as object), symbols: (f.type as { symbols: string[] }).symbols.filter((s) => s !== 'CANCELLATION') } } : f)),
  };
}

export async function billingSerde(topic: string, schema: object): Promise<AvroSerde> {
  const serde = new AvroSerde(new ConfluentSchemaStore(endpoints().schemaRegistryUrl));
  await serde.useTopic(topic, schema);
  return serde;
}

/** Event `i` of a run: spread over `days` dates and 40 users; every 50th of a v2 batch is a CANCELLATION. */
export function billingEvent(id: string, i: number, { days = 3, v2 = false } = {}): Record<string, unknown> {
  const cancel = v2 && i % 50 === 49;
  const event: Omit<BillingEvent, 'payment_method'> & { payment_method?: string | null } = {
    event_id: `${id}-${i}`,
    user_id: `${id}-user-${i % 40}`,
    event_time: T0 + (i % days) * DAY_MS + i * 1000,
    event_type: cancel ? 'CANCELLATION' : i % 3 === 0 ? 'BILL' : 'CALL',
    call_duration_s: i % 3 === 0 ? null : 30 + (i % 17),
    data_mb: null,
    amount: i % 3 === 0 ? 20 + (i % 7) : null,
    currency: i % 3 === 0 ? 'EUR' : null,
    plan: 'month-to-month/fiber-optic',
    complaint_category: null,
    late_payment: false,
  };
  if (v2) event.payment_method = i % 3 === 0 ? 'electronic-check' : null;
  return event;
}

export async function produceEvents(kafka: Kafka, topic: string, serde: AvroSerde, events: Record<string, unknown>[], extra: { key: string; value: Buffer }[] = []): Promise<void> {
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  try {
    for (let i = 0; i < events.length; i += 5_000) {
      await producer.send({ topic, acks: -1, messages: events.slice(i, i + 5_000).map((e) => ({ key: String(e.user_id), value: serde.encode(topic, e) })) });
    }
    if (extra.length) await producer.send({ topic, acks: -1, messages: extra });
  } finally {
    await producer.disconnect();
  }
}

export interface LakeRowRead {
  partitionDir: string;
  file: string;
  columns: string[];
  row: Record<string, unknown>;
}

export function readLake(datasetDir: string): LakeRowRead[] {
  const out: LakeRowRead[] = [];
  for (const f of datasetFiles(datasetDir)) {
    const table = readParquetFile(f.path);
    const columns = table.schema.fields.map((x) => x.name);
    for (const r of table.toArray()) out.push({ partitionDir: f.partition, file: f.path, columns, row: r.toJSON() as Record<string, unknown> });
  }
  return out;
}

export async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  if (!(await waitUntil(check, timeoutMs))) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

/** True when the group's committed offsets equal the topic's high watermarks on every partition. */
export async function groupCaughtUp(kafka: Kafka, groupId: string, topic: string): Promise<boolean> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return await groupCommittedToEnd(admin, groupId, topic);
  } finally {
    await admin.disconnect();
  }
}
