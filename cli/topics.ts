// `streamscore topics apply | list`: creates every declared topic (schemas/topics.ts) idempotently
// and registers every value schema with BACKWARD compatibility; `list` shows the catalogue.
import { allTopicSpecs } from '../schemas/topics.ts';
import { createKafka, brokerList } from '../streams/runtime/kafka-client.ts';
import { createLogger } from '../streams/runtime/logger.ts';
import { ConfluentSchemaStore } from '../streams/runtime/schema-store.ts';
import { ensureTopics, registerSchemas } from '../streams/runtime/topics-admin.ts';
import { withRetry } from '../streams/runtime/retry.ts';
import { serviceEnv } from './env.ts';

export async function applyTopics(env: NodeJS.ProcessEnv = serviceEnv()): Promise<{ created: string[]; subjects: Map<string, number> }> {
  const log = createLogger({ command: 'topics' });
  const specs = allTopicSpecs();
  const admin = createKafka('streamscore-topics', brokerList(env.KAFKA_BROKERS ?? ''), log).admin();
  // Bounded: a broker that is still starting is waited for, one that never answers ends in one line.
  await withRetry(() => admin.connect(), { what: `connecting to Kafka at ${env.KAFKA_BROKERS}`, log });
  try {
    const created = await withRetry(() => ensureTopics(admin, specs, log), { what: 'creating the declared topics', log });
    // Every registry call has a timeout and bounded retries (schema-store.ts).
    const subjects = await registerSchemas(new ConfluentSchemaStore(env.SCHEMA_REGISTRY_URL ?? '', { log }), specs);
    return { created, subjects };
  } finally {
    await admin.disconnect();
  }
}

export async function run(args: string[]): Promise<number> {
  const [sub] = args;
  if (sub === 'list') {
    for (const s of allTopicSpecs()) {
      process.stdout.write(`${s.name.padEnd(44)} key=${s.key.padEnd(12)} partitions=${s.partitions} retention=${Math.round(s.retentionMs / 86_400_000)}d cleanup=${s.cleanupPolicy} max.message.bytes=${s.maxMessageBytes}\n`);
    }
    return 0;
  }
  if (sub !== 'apply') {
    process.stderr.write('usage: streamscore topics apply | list\n');
    return 2;
  }
  const { created, subjects } = await applyTopics();
  process.stdout.write(`topics: ${created.length} created, ${allTopicSpecs().length - created.length} already present\n`);
  process.stdout.write(`schemas: ${subjects.size} subjects registered (BACKWARD): ${[...subjects].map(([s, id]) => `${s}#${id}`).join(', ')}\n`);
  return 0;
}
