// Creates declared topics idempotently (schemas/topics.ts is the declaration) and registers their
// value schemas. Safe to run from several processors at once: "already exists" is success.
import type { Admin } from 'kafkajs';
import type { TopicSpec } from '../../schemas/topics.ts';
import { loadSchema, subjectFor } from '../../schemas/topics.ts';
import type { SchemaStore } from './schema-store.ts';
import type { Logger } from './logger.ts';

export function topicConfigEntries(spec: TopicSpec): { name: string; value: string }[] {
  return [
    { name: 'retention.ms', value: String(spec.retentionMs) },
    { name: 'cleanup.policy', value: spec.cleanupPolicy },
    { name: 'max.message.bytes', value: String(spec.maxMessageBytes) },
  ];
}

export async function ensureTopics(admin: Admin, specs: TopicSpec[], log: Logger): Promise<string[]> {
  const unique = [...new Map(specs.map((s) => [s.name, s])).values()];
  const existing = new Set(await admin.listTopics());
  const missing = unique.filter((s) => !existing.has(s.name));
  if (missing.length) {
    try {
      await admin.createTopics({
        waitForLeaders: true,
        topics: missing.map((s) => ({ topic: s.name, numPartitions: s.partitions, replicationFactor: -1, configEntries: topicConfigEntries(s) })),
      });
    } catch (err) {
      // Another instance may have created some of them between listTopics and createTopics.
      const now = new Set(await admin.listTopics());
      if (missing.some((s) => !now.has(s.name))) throw err;
    }
    log.info({ topics: missing.map((s) => s.name) }, 'created topics');
  }
  const present = unique.filter((s) => existing.has(s.name));
  if (present.length) {
    const { topics } = await admin.fetchTopicMetadata({ topics: present.map((s) => s.name) });
    for (const t of topics) {
      const spec = present.find((s) => s.name === t.name)!;
      if (t.partitions.length !== spec.partitions) log.warn({ topic: t.name, declared: spec.partitions, actual: t.partitions.length }, 'topic partition count differs from its declaration');
    }
  }
  return missing.map((s) => s.name);
}

/** Registers every spec's value schema under `<topic>-value`; returns subject -> schema id. */
export async function registerSchemas(store: SchemaStore, specs: TopicSpec[]): Promise<Map<string, number>> {
  const ids = new Map<string, number>();
  for (const s of specs) ids.set(subjectFor(s.name), await store.register(subjectFor(s.name), loadSchema(s.schema)));
  return ids;
}

/** True when `groupId` has committed the high watermark of every non-empty partition of `topic`. */
export async function groupCommittedToEnd(admin: Admin, groupId: string, topic: string): Promise<boolean> {
  const ends = await admin.fetchTopicOffsets(topic);
  const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
  return ends.every((e) => e.high === '0' || committed.partitions.find((p) => p.partition === e.partition)?.offset === e.high);
}
