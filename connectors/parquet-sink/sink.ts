// Kafka topic -> Hive-partitioned Parquet lake, exactly once per record (the file protocol is in
// lake-files.ts). Per assigned partition the sink buffers decoded rows grouped by date partition;
// a buffer is flushed — one ZSTD Parquet file per date it holds, then one offset commit — when it
// reaches `maxFileRecords` / `maxFileBytes`, when its oldest record is `rotateMs` old, when the
// buffers together exceed `maxBufferedBytes` (the largest goes first), and on shutdown. Memory is
// therefore bounded by the buffer limits whatever the volume.
//
// It runs its own consumer loop rather than the processor runtime because its commits follow file
// renames, not output deliveries; it reuses the runtime's decoding, dead letters, client settings,
// logger and health server. Records that cannot be decoded go to `<topic>.dlq` at stage DECODE,
// records that break a rule of the lake (lake-rules.ts: time range, finite numbers, the dataset's
// own rules) at stage VALIDATION, each with its reason; nothing else is skipped. A failure that is
// not a record's own (a flush, the registry) fails the batch, which is retried: it never becomes
// some record's dead letter. Commits move past transaction markers (consumer-lag.ts), so a group
// that has read everything has committed the high watermark.
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Admin, Consumer, KafkaMessage, Producer } from 'kafkajs';
import { DEAD_LETTER_SCHEMA, dlqSpec, dlqTopic, loadSchema } from '../../schemas/topics.ts';
import { toRawRecord, type RawRecord } from '../../streams/runtime/batch.ts';
import { startHealthServer, type HealthServer } from '../../streams/runtime/health-server.ts';
import { createKafka, groupConsumerConfig } from '../../streams/runtime/kafka-client.ts';
import { createLogger } from '../../streams/runtime/logger.ts';
import { ConfluentSchemaStore, type SchemaStore } from '../../streams/runtime/schema-store.ts';
import { AvroSerde } from '../../streams/runtime/serde.ts';
import { ensureTopics } from '../../streams/runtime/topics-admin.ts';
import { ConsumerLag } from './consumer-lag.ts';
import { lakeFileName, recoverPartition, writeFlush } from './lake-files.ts';
import { PartitionBuffers } from './partition-buffers.ts';
import { LakeRecordDecoder, isDeadLetter, sendDeadLetters, type DatedRow, type DeadLetter } from './record-decoder.ts';
import { createSinkMetrics, type SinkMetrics } from './sink-metrics.ts';
import { SINK_DEFAULTS, type ParquetSinkOptions, type RunningSink } from './sink-options.ts';

export type { ParquetSinkOptions, RunningSink, SinkMetrics };

/** A consumed record in offset order: its lake row, or null when it went to the dead-letter topic. */
interface DecodedRecord {
  offset: bigint;
  row: DatedRow | null;
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
    maxFileRecords: o.maxFileRecords ?? SINK_DEFAULTS.maxFileRecords,
    maxFileBytes: o.maxFileBytes ?? SINK_DEFAULTS.maxFileBytes,
    maxBufferedBytes: o.maxBufferedBytes ?? SINK_DEFAULTS.maxBufferedBytes,
    rotateMs: o.rotateMs ?? SINK_DEFAULTS.rotateMs,
    lagRefreshMs: o.lagRefreshMs ?? SINK_DEFAULTS.lagRefreshMs,
  };
  const datasetDir = join(o.lakeDir, o.dataset);
  const metrics = createSinkMetrics();
  const labels = { topic };
  const lag = new ConsumerLag(metrics.lag, topic);

  const kafka = createKafka(`${groupId}-${hostname()}`, o.brokers, log);
  const admin: Admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, [o.topic, dlqSpec(o.topic)], log);

  const store: SchemaStore = new ConfluentSchemaStore(o.registryUrl);
  const serde = new AvroSerde(store);
  await serde.useTopic(dlqTopic(topic), loadSchema(DEAD_LETTER_SCHEMA));
  const decoder = await LakeRecordDecoder.open({ topic: o.topic, store, serde, timeField: o.timeField, rules: o.rules ?? [], log, now });

  const producer: Producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, retry: { retries: Number.MAX_SAFE_INTEGER, maxRetryTime: 10_000 } });
  // A stop waits for the fetch in flight: an idle long poll of 1 s (kafkajs: 5 s) keeps SIGTERM-to-exit
  // short; under load fetches return at once, so it costs nothing there.
  const consumer: Consumer = kafka.consumer({ ...groupConsumerConfig(groupId, [o.topic], o.sessionTimeoutMs), maxWaitTimeInMs: 1_000 });
  await producer.connect();
  await consumer.connect();

  const buffers = new PartitionBuffers();
  const prepared = new Set<number>();
  const exclusive = new Exclusive();
  let ready = false;
  let stopping = false;

  const flushPartition = async (partition: number, reason: string): Promise<void> => {
    const buffer = buffers.get(partition);
    if (!buffer) return;
    const endTimer = metrics.flushDuration.startTimer({ topic, reason });
    const name = lakeFileName({ topic, partition, firstOffset: buffer.firstOffset, lastOffset: buffer.lastOffset });
    const { rows, bytes, files } = await writeFlush(datasetDir, name, decoder.columns, buffer.rowsByDate);
    await consumer.commitOffsets([{ topic, partition, offset: buffer.commitOffset.toString() }]);
    buffers.delete(partition);
    metrics.records.inc(labels, rows);
    metrics.files.inc(labels, files);
    metrics.bytes.inc(labels, bytes);
    metrics.buffered.set(labels, buffers.records());
    endTimer();
    log.info({ partition, reason, firstOffset: buffer.firstOffset.toString(), lastOffset: buffer.lastOffset.toString(), committed: buffer.commitOffset.toString(), rows, files, bytes }, 'flushed to the lake and committed');
  };
  const flushAll = async (reason: string) => {
    for (const partition of buffers.partitions()) await flushPartition(partition, reason);
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

  /**
   * Decodes a batch completely before touching the buffer, so a retried batch never half-appends.
   * Schema changes are followed outside any record's outcome: their failures fail the batch.
   */
  const decodeBatch = async (raws: RawRecord[]): Promise<{ decoded: DecodedRecord[]; deadLetters: DeadLetter[] }> => {
    const decoded: DecodedRecord[] = [];
    const deadLetters: DeadLetter[] = [];
    for (const raw of raws) {
      await decoder.followSchemaOf(raw, () => flushAll('schema-change'));
      const outcome = await decoder.decode(raw);
      if (isDeadLetter(outcome)) deadLetters.push(outcome);
      decoded.push({ offset: BigInt(raw.offset), row: isDeadLetter(outcome) ? null : outcome });
    }
    return { decoded, deadLetters };
  };

  /** `batchEnd`: the offset after the fetch's last entry, transaction markers and aborted records included. */
  const handleBatch = async (partition: number, messages: KafkaMessage[], highWatermark: string, batchEnd: bigint): Promise<void> => {
    if (!prepared.has(partition)) await preparePartition(partition);
    const raws = messages.map((m) => toRawRecord(topic, partition, m));
    const { decoded, deadLetters } = await decodeBatch(raws);
    // Dead letters are acknowledged before any flush can commit past them.
    if (deadLetters.length) {
      const byStage = await sendDeadLetters(producer, serde, groupId, deadLetters, now());
      for (const [stage, n] of Object.entries(byStage)) metrics.deadLettered.inc({ topic, stage }, n);
      const { failure, loggable } = deadLetters[0];
      log.warn({ partition, deadLettered: deadLetters.length, byStage, first: { offset: failure.record.offset, stage: failure.error.stage, errorClass: failure.error.name, err: loggable } }, 'records dead-lettered');
    }
    for (const { offset, row } of decoded) {
      const buffer = buffers.append(partition, offset, row, now());
      if (row && (buffer.records >= limits.maxFileRecords || buffer.bytes >= limits.maxFileBytes)) await flushPartition(partition, 'size');
    }
    // Markers read after the last record: the next commit of this partition goes past them.
    if (batchEnd > decoded[decoded.length - 1].offset + 1n) await commitMarkers(partition, batchEnd);
    metrics.buffered.set(labels, buffers.records());
    lag.consumed(partition, batchEnd, BigInt(highWatermark));
    while (buffers.bytes() > limits.maxBufferedBytes) await flushPartition(buffers.largest()!, 'memory');
  };

  /**
   * Only transaction markers (or aborted records) were read up to `end`: nothing to write, so with no
   * buffer waiting the offset is committed at once (with one, its flush commits it). The Java consumer
   * commits past markers the same way; without it the group stays 1 behind the high watermark.
   */
  const commitMarkers = async (partition: number, end: bigint): Promise<void> => {
    if (buffers.passMarkers(partition, end) || stopping || !lag.isAssigned(partition)) return;
    await consumer.commitOffsets([{ topic, partition, offset: end.toString() }]);
  };

  consumer.on(consumer.events.GROUP_JOIN, (e) => {
    // A new generation resumes every partition from its committed offset: buffered rows would be
    // consumed twice, so drop them (they were never committed) and re-check the lake per partition.
    void exclusive.run(async () => {
      buffers.clear();
      prepared.clear();
      metrics.buffered.set(labels, 0);
    });
    lag.assign(e.payload.memberAssignment[topic] ?? []);
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
          await handleBatch(batch.partition, batch.messages, batch.highWatermark, BigInt(batch.lastOffset()) + 1n);
        } finally {
          clearInterval(keepAlive);
        }
        // Moves the fetch position only; the committed offset moves when a flush lands.
        resolveOffset(batch.messages[batch.messages.length - 1].offset);
      });
      await heartbeat();
    },
  });

  // A fetch of nothing but transaction markers never reaches eachBatch: kafkajs moves past it and
  // reports it here (batchSize 0), and the sink commits past it like past a batch's trailing markers.
  consumer.on(consumer.events.END_BATCH_PROCESS, (e) => {
    const { topic: batchTopic, partition, batchSize, lastOffset, highWatermark } = e.payload;
    if (batchTopic !== topic || batchSize !== 0) return;
    const end = BigInt(lastOffset) + 1n;
    lag.consumed(partition, end, BigInt(highWatermark));
    void exclusive
      .run(() => commitMarkers(partition, end))
      .catch((err: Error) => log.warn({ partition, offset: end.toString(), err: err.message }, 'committing past transaction markers failed; the next flush or marker commits it'));
  });

  // The gauge from the broker's side too: it moves while no batch arrives (new data waiting, no fetch yet).
  const lagRefresh = setInterval(() => {
    void (async () => {
      const [ends, [committed]] = await Promise.all([admin.fetchTopicOffsets(topic), admin.fetchOffsets({ groupId, topics: [topic] })]);
      lag.refresh(ends, committed.partitions);
    })().catch((err: Error) => log.debug({ err: err.message }, 'lag refresh failed; the next one retries'));
  }, limits.lagRefreshMs);
  lagRefresh.unref();

  const rotation = setInterval(() => {
    void exclusive
      .run(async () => {
        if (stopping) return;
        for (const partition of buffers.due(now(), limits.rotateMs)) await flushPartition(partition, 'time');
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
      clearInterval(lagRefresh);
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
