// Kafka topic -> Hive-partitioned Parquet lake, exactly once per record (the file protocol is in
// lake-files.ts). Per assigned partition the sink buffers decoded rows grouped by date partition;
// a buffer is flushed — one ZSTD Parquet file per date it holds, then one offset commit — when it
// reaches `maxFileRecords` / `maxFileBytes`, when its oldest record is `rotateMs` old, when the
// buffers together exceed `maxBufferedBytes` (the largest goes first), and on shutdown. Memory is
// therefore bounded by the buffer limits whatever the volume.
//
// It runs its own consumer loop rather than the processor runtime because its commits follow file
// renames, not output deliveries; it reuses the runtime's decoding, dead letters, client settings,
// logger and health server. Records that cannot be decoded or have no event time go to `<topic>.dlq`
// with the reason; nothing else is skipped.
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Admin, Consumer, KafkaMessage, Producer } from 'kafkajs';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import avro from 'avsc';
import { DEAD_LETTER_SCHEMA, dlqSpec, dlqTopic, loadSchema, subjectFor, type TopicSpec } from '../../schemas/topics.ts';
import { deadLetterMessage, toRawRecord, type Failure, type RawRecord } from '../../streams/runtime/batch.ts';
import { RegistryUnavailableError, StreamError, ValidationError, asStreamError } from '../../streams/runtime/errors.ts';
import { startHealthServer, type HealthServer } from '../../streams/runtime/health-server.ts';
import { createKafka, groupConsumerConfig } from '../../streams/runtime/kafka-client.ts';
import { createLogger, type Logger } from '../../streams/runtime/logger.ts';
import { ConfluentSchemaStore, type SchemaStore } from '../../streams/runtime/schema-store.ts';
import { AvroSerde } from '../../streams/runtime/serde.ts';
import { ensureTopics } from '../../streams/runtime/topics-admin.ts';
import { lakeColumns, type LakeColumn, type LakeRow } from './arrow-columns.ts';
import { datePartition, lakeFileName, recoverPartition, writeFlush } from './lake-files.ts';

export interface ParquetSinkOptions {
  brokers: string[];
  registryUrl: string;
  /** Lake root; the dataset lives in `<lakeDir>/<dataset>`. */
  lakeDir: string;
  topic: TopicSpec;
  /** Dataset path under the lake root, e.g. 'telecom/billing_events'. */
  dataset: string;
  /** Timestamp-millis field whose UTC date names the Hive partition (`event_date=`). */
  timeField: string;
  groupId?: string;
  /** Rows per file (per partition flush) before rotating. */
  maxFileRecords?: number;
  /** Estimated memory of one partition's buffered rows before rotating (see ROW_OVERHEAD_BYTES). */
  maxFileBytes?: number;
  /** Estimated memory of all buffered rows before the largest buffer is flushed early. */
  maxBufferedBytes?: number;
  /** Oldest buffered record age that forces a flush, so a quiet topic still lands in the lake. */
  rotateMs?: number;
  /** /metrics, /healthz, /readyz port; 0 picks one; null disables. */
  metricsPort?: number | null;
  sessionTimeoutMs?: number;
  log?: Logger;
  now?: () => number;
}

export interface RunningSink {
  groupId: string;
  datasetDir: string;
  httpPort: number | null;
  metrics: SinkMetrics;
  isReady(): boolean;
  /** Flushes and commits every buffer, leaves the group. Idempotent. */
  stop(): Promise<void>;
  /** Flushes every buffer now (tests, operators); resolves when committed. */
  flush(): Promise<void>;
  stopped: Promise<void>;
}

/** A consumed record in offset order: its lake row, or null when it went to the dead-letter topic. */
interface DecodedRecord {
  offset: bigint;
  row: { row: LakeRow; date: string; bytes: number } | null;
}

interface PartitionBuffer {
  rowsByDate: Map<string, LakeRow[]>;
  records: number;
  bytes: number;
  firstOffset: bigint | null;
  lastOffset: bigint | null;
  openedAt: number;
}

const DEFAULTS = {
  maxFileRecords: 500_000,
  maxFileBytes: 128 * 1024 * 1024,
  maxBufferedBytes: 384 * 1024 * 1024,
  rotateMs: 60_000,
};

const WIRE_HEADER_BYTES = 5;
/**
 * A buffered row is a decoded JS object (strings, numbers, a BigInt offset), several times larger
 * than its Avro bytes: 570,386 Telco-derived billing events buffered at once took ~570 MB of RSS above
 * the idle process, ~1 KB a row of which ~70 B is Avro. Memory limits count Avro bytes plus this.
 */
const ROW_OVERHEAD_BYTES = 900;

export interface SinkMetrics {
  registry: Registry;
  records: Counter<'topic'>;
  files: Counter<'topic'>;
  bytes: Counter<'topic'>;
  deadLettered: Counter<'topic' | 'stage'>;
  lag: Gauge<'topic' | 'partition'>;
  buffered: Gauge<'topic'>;
  flushDuration: Histogram<'topic' | 'reason'>;
}

function createSinkMetrics(): SinkMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];
  return {
    registry,
    records: new Counter({ name: 'streamscore_lake_records_total', help: 'Records written to committed lake files', labelNames: ['topic'] as const, registers }),
    files: new Counter({ name: 'streamscore_lake_files_total', help: 'Parquet files committed to the lake', labelNames: ['topic'] as const, registers }),
    bytes: new Counter({ name: 'streamscore_lake_bytes_total', help: 'Bytes of Parquet committed to the lake', labelNames: ['topic'] as const, registers }),
    deadLettered: new Counter({ name: 'streamscore_lake_dead_lettered_total', help: 'Records sent to the dead-letter topic instead of the lake', labelNames: ['topic', 'stage'] as const, registers }),
    lag: new Gauge({ name: 'streamscore_lake_consumer_lag', help: 'High watermark minus the next offset consumed, per partition', labelNames: ['topic', 'partition'] as const, registers }),
    buffered: new Gauge({ name: 'streamscore_lake_buffered_records', help: 'Records buffered in memory, not yet in a committed file', labelNames: ['topic'] as const, registers }),
    flushDuration: new Histogram({
      name: 'streamscore_lake_flush_duration_seconds',
      help: 'Time to encode, write, fsync, rename and commit one partition flush',
      labelNames: ['topic', 'reason'] as const,
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    }),
  };
}

/** Serializes the consumer callback, the rotation timer and shutdown: one flush or batch at a time. */
class Exclusive {
  private tail: Promise<unknown> = Promise.resolve();
  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.tail.then(fn, fn);
    this.tail = result.catch(() => undefined);
    return result;
  }
}

export async function startParquetSink(o: ParquetSinkOptions): Promise<RunningSink> {
  const topic = o.topic.name;
  const groupId = o.groupId ?? `parquet-sink.${topic}`;
  const log = o.log ?? createLogger({ component: 'parquet-sink', topic });
  const now = o.now ?? Date.now;
  const limits = {
    maxFileRecords: o.maxFileRecords ?? DEFAULTS.maxFileRecords,
    maxFileBytes: o.maxFileBytes ?? DEFAULTS.maxFileBytes,
    maxBufferedBytes: o.maxBufferedBytes ?? DEFAULTS.maxBufferedBytes,
    rotateMs: o.rotateMs ?? DEFAULTS.rotateMs,
  };
  const datasetDir = join(o.lakeDir, o.dataset);
  const metrics = createSinkMetrics();
  const labels = { topic };

  const kafka = createKafka(`${groupId}-${hostname()}`, o.brokers, log);
  const admin: Admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, [o.topic, dlqSpec(o.topic)], log);

  // Reader schema = the subject's latest registered version (or this repo's .avsc before any
  // producer registered one), so a new optional field becomes a new column instead of being dropped.
  const store: SchemaStore = new ConfluentSchemaStore(o.registryUrl);
  const serde = new AvroSerde(store);
  await serde.useTopic(dlqTopic(topic), loadSchema(DEAD_LETTER_SCHEMA));
  let readerId: number | null = null;
  let columns: LakeColumn[] = [];
  const seenWriterIds = new Set<number>();
  const useReader = async (id: number | null): Promise<void> => {
    const schema = id === null ? loadSchema(o.topic.schema) : await store.schemaJson(id);
    serde.replaceReader(topic, avro.Type.forSchema(schema as avro.Schema));
    columns = lakeColumns(schema);
    readerId = id;
    log.info({ schemaId: id, columns: columns.map((c) => c.name) }, 'lake columns follow the topic schema');
  };
  await useReader(await store.latestId(subjectFor(topic)));

  const producer: Producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, retry: { retries: Number.MAX_SAFE_INTEGER, maxRetryTime: 10_000 } });
  const consumer: Consumer = kafka.consumer(groupConsumerConfig(groupId, [o.topic], o.sessionTimeoutMs));
  await producer.connect();
  await consumer.connect();

  const buffers = new Map<number, PartitionBuffer>();
  const prepared = new Set<number>();
  const exclusive = new Exclusive();
  let ready = false;
  let stopping = false;
  const bufferedRecords = () => [...buffers.values()].reduce((n, b) => n + b.records, 0);
  const bufferedBytes = () => [...buffers.values()].reduce((n, b) => n + b.bytes, 0);

  const flushPartition = async (partition: number, reason: string): Promise<void> => {
    const buffer = buffers.get(partition);
    if (!buffer || buffer.lastOffset === null || buffer.firstOffset === null) return;
    const endTimer = metrics.flushDuration.startTimer({ topic, reason });
    const name = lakeFileName({ topic, partition, firstOffset: buffer.firstOffset, lastOffset: buffer.lastOffset });
    const { rows, bytes, files } = await writeFlush(datasetDir, name, columns, buffer.rowsByDate);
    await consumer.commitOffsets([{ topic, partition, offset: (buffer.lastOffset + 1n).toString() }]);
    buffers.delete(partition);
    metrics.records.inc(labels, rows);
    metrics.files.inc(labels, files);
    metrics.bytes.inc(labels, bytes);
    metrics.buffered.set(labels, bufferedRecords());
    endTimer();
    log.info({ partition, reason, firstOffset: buffer.firstOffset.toString(), lastOffset: buffer.lastOffset.toString(), rows, files, bytes }, 'flushed to the lake and committed');
  };
  const flushAll = async (reason: string) => {
    for (const partition of [...buffers.keys()]) await flushPartition(partition, reason);
  };

  /** Before the first batch of a partition in a generation: align the lake with the committed offset. */
  const preparePartition = async (partition: number): Promise<void> => {
    const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] });
    const entry = offsets.partitions.find((p) => p.partition === partition);
    // Never committed: the consumer starts at the partition's earliest offset (fromBeginning).
    const resumeAt = entry && entry.offset !== '-1'
      ? BigInt(entry.offset)
      : BigInt((await admin.fetchTopicOffsets(topic)).find((p) => p.partition === partition)?.low ?? '0');
    const report = recoverPartition(datasetDir, topic, partition, resumeAt);
    if (report.removedTemps || report.removedUncommitted.length) {
      log.warn({ partition, resumeAt: resumeAt.toString(), removedTemps: report.removedTemps, removedUncommitted: report.removedUncommitted.map((f) => `${f.dir}/${f.name}`) }, 'removed files of a flush that was never committed (restart after a crash); their records are consumed again');
    }
    prepared.add(partition);
  };

  /** Decodes a batch completely before touching the buffer, so a retried batch never half-appends. */
  const decodeBatch = async (raws: RawRecord[]): Promise<{ decoded: DecodedRecord[]; failures: Failure[] }> => {
    const decoded: DecodedRecord[] = [];
    const failures: Failure[] = [];
    for (const raw of raws) {
      const offset = BigInt(raw.offset);
      try {
        if (raw.value && raw.value.length >= WIRE_HEADER_BYTES && raw.value[0] === 0) {
          const writerId = raw.value.readInt32BE(1);
          if (!seenWriterIds.has(writerId)) {
            const latest = await store.latestId(subjectFor(topic));
            if (latest !== null && latest !== readerId) {
              // A newer schema was registered: close the files of the old column set first.
              await flushAll('schema-change');
              await useReader(latest);
            }
            seenWriterIds.add(writerId);
          }
        }
        const value = (await serde.decode(topic, raw.value)) as Record<string, unknown>;
        const time = value[o.timeField];
        if (typeof time !== 'number' || !Number.isFinite(time)) throw new ValidationError(`${o.timeField} is ${JSON.stringify(time)}, not a timestamp: the record has no date partition`);
        decoded.push({ offset, row: { row: { value, partition: raw.partition, offset }, date: datePartition(time), bytes: raw.value!.length + ROW_OVERHEAD_BYTES } });
      } catch (err) {
        if (err instanceof RegistryUnavailableError) throw err; // retry the whole batch later
        failures.push({ record: raw, error: err instanceof StreamError ? err : asStreamError('decode', err) });
        decoded.push({ offset, row: null });
      }
    }
    return { decoded, failures };
  };

  const handleBatch = async (partition: number, messages: KafkaMessage[], highWatermark: string): Promise<void> => {
    if (!prepared.has(partition)) await preparePartition(partition);
    const raws = messages.map((m) => toRawRecord(topic, partition, m));
    const { decoded, failures } = await decodeBatch(raws);
    // Dead letters are acknowledged before any flush can commit past them.
    if (failures.length) {
      await producer.send({ topic: dlqTopic(topic), acks: -1, messages: failures.map((f) => deadLetterMessage(serde, groupId, f, now())).map((m) => ({ key: m.key, value: m.value, headers: m.headers })) });
      for (const f of failures) metrics.deadLettered.inc({ topic, stage: f.error.stage });
      log.warn({ partition, deadLettered: failures.length, first: { offset: failures[0].record.offset, errorClass: failures[0].error.name, err: failures[0].error.message } }, 'records dead-lettered');
    }
    for (const { offset, row } of decoded) {
      let buffer = buffers.get(partition);
      if (!buffer) {
        buffer = { rowsByDate: new Map(), records: 0, bytes: 0, firstOffset: null, lastOffset: null, openedAt: now() };
        buffers.set(partition, buffer);
      }
      buffer.firstOffset ??= offset;
      buffer.lastOffset = offset;
      if (row) {
        const list = buffer.rowsByDate.get(row.date);
        if (list) list.push(row.row);
        else buffer.rowsByDate.set(row.date, [row.row]);
        buffer.records += 1;
        buffer.bytes += row.bytes;
        if (buffer.records >= limits.maxFileRecords || buffer.bytes >= limits.maxFileBytes) await flushPartition(partition, 'size');
      }
    }
    metrics.buffered.set(labels, bufferedRecords());
    metrics.lag.set({ topic, partition: String(partition) }, Math.max(0, Number(BigInt(highWatermark) - BigInt(raws[raws.length - 1].offset) - 1n)));
    while (bufferedBytes() > limits.maxBufferedBytes) {
      const largest = [...buffers].sort(([, a], [, b]) => b.bytes - a.bytes)[0];
      await flushPartition(largest[0], 'memory');
    }
  };

  consumer.on(consumer.events.GROUP_JOIN, (e) => {
    // A new generation resumes every partition from its committed offset: buffered rows would be
    // consumed twice, so drop them (they were never committed) and re-check the lake per partition.
    void exclusive.run(async () => {
      buffers.clear();
      prepared.clear();
      metrics.buffered.set(labels, 0);
    });
    ready = true;
    log.info({ memberId: e.payload.memberId, assignment: e.payload.memberAssignment }, 'joined consumer group');
  });

  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    eachBatchAutoResolve: false,
    eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
      if (!batch.messages.length) return;
      await exclusive.run(async () => {
        if (stopping || !isRunning() || isStale()) return;
        const keepAlive = setInterval(() => heartbeat().catch(() => undefined), 2_000);
        try {
          await handleBatch(batch.partition, batch.messages, batch.highWatermark);
        } finally {
          clearInterval(keepAlive);
        }
        // Moves the fetch position only; the committed offset moves when a flush lands.
        resolveOffset(batch.messages[batch.messages.length - 1].offset);
      });
      await heartbeat();
    },
  });

  const rotation = setInterval(() => {
    void exclusive
      .run(async () => {
        if (stopping) return;
        for (const [partition, buffer] of [...buffers]) if (now() - buffer.openedAt >= limits.rotateMs) await flushPartition(partition, 'time');
      })
      .catch((err: Error) => log.error({ err: err.message }, 'time-based flush failed; the buffer stays and is retried'));
  }, Math.min(1_000, limits.rotateMs));
  rotation.unref();

  const server: HealthServer | null = o.metricsPort === null ? null : await startHealthServer({ port: o.metricsPort ?? 0, registry: metrics.registry, isReady: () => ready });
  if (server) log.info({ port: server.port }, 'serving /metrics /healthz /readyz');

  let stoppingPromise: Promise<void> | null = null;
  let settle!: { resolve: () => void; reject: (e: Error) => void };
  const stopped = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
  stopped.catch(() => undefined);
  const shutdown = (fatal?: Error): Promise<void> => {
    stoppingPromise ??= (async () => {
      clearInterval(rotation);
      ready = false;
      if (!fatal) {
        await exclusive.run(async () => {
          stopping = true;
          await flushAll('shutdown');
        }).catch((err: Error) => log.error({ err: err.message }, 'final flush failed; the records are consumed again on restart'));
      }
      stopping = true;
      await consumer.disconnect().catch((e: Error) => log.error({ err: e.message }, 'consumer disconnect failed'));
      await producer.disconnect().catch(() => undefined);
      await admin.disconnect().catch(() => undefined);
      await server?.close();
      log.info('parquet sink stopped');
      if (fatal) settle.reject(fatal);
      else settle.resolve();
    })();
    return stoppingPromise;
  };
  consumer.on(consumer.events.CRASH, (e) => {
    log.error({ err: e.payload.error.message, restart: e.payload.restart }, 'consumer crashed');
    if (!e.payload.restart) void shutdown(e.payload.error);
  });

  return {
    groupId,
    datasetDir,
    httpPort: server?.port ?? null,
    metrics,
    isReady: () => ready,
    stop: () => shutdown(),
    flush: () => exclusive.run(() => flushAll('requested')),
    stopped,
  };
}
