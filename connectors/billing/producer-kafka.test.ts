// Integration: the Telco sample (a slice) produced to a throwaway topic on the real Kafka and
// registry (KAFKA_BROKERS / SCHEMA_REGISTRY_URL, as `npm test` sets them), read back with a plain
// kafkajs consumer and AvroSerde: every event arrives once, in order per subscriber. The topic
// and its schema subject are deleted afterwards.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Admin } from 'kafkajs';
import type { BillingEvent } from '../../schemas/generated/types.ts';
import { TOPICS, loadSchema, subjectFor } from '../../schemas/topics.ts';
import { ConfluentSchemaStore } from '../../streams/runtime/schema-store.ts';
import { AvroSerde } from '../../streams/runtime/serde.ts';
import { ensureTopics } from '../../streams/runtime/topics-admin.ts';
import { collect, endpoints, quietLog, runId, testKafka } from '../../test/integration/helpers.ts';
import { produceBillingEvents } from './producer.ts';
import { TELCO_SAMPLE_CSV, readTelcoCsv, telcoEvents } from './telco-events.ts';

const ROWS = 150;

describe('billing producer -> Kafka', () => {
  const topic = `it-billing-${runId()}`;
  const kafka = testKafka();
  let admin: Admin;

  before(async () => {
    admin = kafka.admin();
    await admin.connect();
    await ensureTopics(admin, [{ ...TOPICS.billingEvents, name: topic }], quietLog);
  });

  after(async () => {
    await admin.deleteTopics({ topics: [topic] }).catch(() => {});
    await admin.disconnect();
    // Soft, then permanent delete of the subject (Confluent API semantics); best effort.
    const subject = `${endpoints().schemaRegistryUrl}/subjects/${encodeURIComponent(subjectFor(topic))}`;
    await fetch(subject, { method: 'DELETE' }).catch(() => {});
    await fetch(`${subject}?permanent=true`, { method: 'DELETE' }).catch(() => {});
  });

  it('the Telco sample arrives complete, Avro-decodable, in order per subscriber', { timeout: 120_000 }, async () => {
    const events = [...telcoEvents(readTelcoCsv(TELCO_SAMPLE_CSV, ROWS))];
    const { kafkaBrokers, schemaRegistryUrl } = endpoints();
    const summary = await produceBillingEvents(events, {
      destination: { kind: 'kafka', brokers: kafkaBrokers, schemaRegistryUrl, compression: 'gzip' },
      topic,
      batchSize: 2_000,
      log: quietLog,
    });
    assert.equal(summary.produced, events.length);
    assert.equal(summary.cancellations, events.filter((e) => e.event_type === 'CANCELLATION').length);

    const records = await collect(kafka, [topic], () => true, (all) => all.length >= events.length, 60_000, 2_000);
    assert.equal(records.length, events.length, 'each event exactly once');
    const serde = new AvroSerde(new ConfluentSchemaStore(schemaRegistryUrl));
    serde.useReader(topic, loadSchema(TOPICS.billingEvents.schema));
    const received = new Map<string, BillingEvent[]>();
    for (const r of records) {
      const e = { ...((await serde.decode(topic, r.value)) as BillingEvent) }; // avsc's record class -> plain object
      assert.equal(r.key, e.user_id, 'keyed by user_id');
      received.set(e.user_id, [...(received.get(e.user_id) ?? []), e]);
    }
    const sent = new Map<string, BillingEvent[]>();
    for (const e of events) sent.set(e.user_id, [...(sent.get(e.user_id) ?? []), e]);
    assert.equal(received.size, sent.size);
    for (const [user, mine] of sent) assert.deepEqual(received.get(user), mine, `events of ${user} in produced order`);
  });
});
