// Rebuilds a processor's Redis state from Kafka retention after Redis loses it (restart without
// persistence, failover, FLUSHALL). State lives in Redis, the truth lives in the input topic: a
// marker key says the state is there; without it (and with committed offsets), the input is
// replayed — per partition from `lookbackMs` before the newest committed record's timestamp (kept in
// the commit metadata by the runner) up to the committed offset — through the processor's
// state-only `rebuild.apply`. Then normal consumption resumes at the committed offsets, and records
// at or after them are never applied twice (the stores are idempotent per offset).
import { randomUUID } from 'node:crypto';
import type { Admin, Kafka } from 'kafkajs';
import type { HandlerContext, InputRecord, ProcessorDefinition } from './processor.ts';
import type { AvroSerde } from './serde.ts';
import type { Logger } from './logger.ts';
import type { RedisState } from './state/redis-state.ts';
import { stringHeaders, toRawRecord } from './batch.ts';
import { parseTraceparent } from './tracing.ts';

export function stateMarkerKey(redis: RedisState, processor: string): string {
  return redis.key(processor, '__state');
}

interface Range {
  topic: string;
  partition: number;
  start: number;
  end: number;
}

/** Returns the number of records replayed (0 when the state was present or the group is new). */
export async function ensureState(def: ProcessorDefinition, kafka: Kafka, admin: Admin, redis: RedisState, serde: AvroSerde, ctx: HandlerContext<unknown>, log: Logger): Promise<number> {
  const marker = stateMarkerKey(redis, def.name);
  if (await redis.client.exists(marker)) return 0;
  const ranges: Range[] = [];
  for (const t of def.inputs) {
    const [committed] = await admin.fetchOffsets({ groupId: def.name, topics: [t.name] });
    for (const p of committed?.partitions ?? []) {
      const end = Number(p.offset);
      if (end <= 0) continue;
      const ts = p.metadata ? Number((JSON.parse(p.metadata) as { ts?: number }).ts) : Number.NaN;
      const from = Number.isFinite(ts) ? ts - (def.rebuild?.lookbackMs ?? 0) : 0;
      const byTime = await admin.fetchTopicOffsetsByTimestamp(t.name, from);
      const found = byTime.find((o) => o.partition === p.partition);
      const start = found && Number(found.offset) >= 0 ? Number(found.offset) : end;
      if (start < end) ranges.push({ topic: t.name, partition: p.partition, start, end });
    }
  }
  if (ranges.length === 0) {
    await redis.client.set(marker, new Date().toISOString());
    return 0;
  }
  const total = ranges.reduce((n, r) => n + r.end - r.start, 0);
  log.warn({ ranges, total }, 'state lost (no marker in Redis): rebuilding from Kafka retention');
  const groupId = `${def.name}-rebuild-${randomUUID()}`;
  const consumer = kafka.consumer({ groupId, readUncommitted: false, sessionTimeout: 30_000 });
  let replayed = 0;
  let lastProgress = Date.now();
  const pending = new Map(ranges.map((r) => [`${r.topic}/${r.partition}`, r]));
  await consumer.connect();
  try {
    await new Promise<void>((resolve, reject) => {
      consumer.on(consumer.events.CRASH, (e) => reject(e.payload.error));
      void consumer
        .subscribe({ topics: [...new Set(ranges.map((r) => r.topic))], fromBeginning: true })
        .then(() =>
          consumer.run({
            autoCommit: false,
            eachBatch: async ({ batch, heartbeat }) => {
              const range = pending.get(`${batch.topic}/${batch.partition}`);
              if (!range) return;
              const records: InputRecord[] = [];
              for (const m of batch.messages) {
                if (Number(m.offset) < range.start || Number(m.offset) >= range.end) continue;
                try {
                  const raw = toRawRecord(batch.topic, batch.partition, m);
                  const value = await serde.decode(raw.topic, raw.value);
                  const headers = stringHeaders(raw.headers);
                  const input: InputRecord = { topic: raw.topic, partition: raw.partition, offset: raw.offset, key: raw.key?.toString() ?? null, value, timestamp: raw.timestamp, headers, trace: parseTraceparent(headers.traceparent) };
                  if (!def.validate?.(value, input)) records.push(input);
                } catch {
                  // It failed when first consumed too, and went to the dead-letter topic then.
                }
              }
              if (records.length) await def.rebuild!.apply(records, ctx as HandlerContext<any>);
              replayed += records.length;
              if (Date.now() - lastProgress > 2_000) {
                lastProgress = Date.now();
                log.info({ replayed, total }, 'rebuilding state');
              }
              const last = batch.messages[batch.messages.length - 1];
              if (last && Number(last.offset) >= range.end - 1) {
                pending.delete(`${batch.topic}/${batch.partition}`);
                consumer.pause([{ topic: batch.topic, partitions: [batch.partition] }]);
                if (pending.size === 0) resolve();
              }
              await heartbeat();
            },
          }),
        )
        .then(() => {
          for (const r of ranges) consumer.seek({ topic: r.topic, partition: r.partition, offset: String(r.start) });
        }, reject);
    });
  } finally {
    await consumer.disconnect();
    await admin.deleteGroups([groupId]).catch(() => undefined);
  }
  await redis.client.set(marker, new Date().toISOString());
  log.warn({ replayed }, 'state rebuilt from Kafka');
  return replayed;
}
