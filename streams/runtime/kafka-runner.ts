// Runs a ProcessorDefinition against real Kafka: consumer-group membership, decode, batch handling,
// delivery + commits (delivery.ts), DLQ, backpressure, metrics/health, graceful shutdown.
import { hostname } from 'node:os';
import type { Consumer, Producer } from 'kafkajs';
import { dlqSpec, type TopicSpec } from '../../schemas/topics.ts';
import { InFlightGate } from './backpressure.ts';
import { deadLetterMessage, prepareSerde, processBatch, toRawRecord } from './batch.ts';
import { deliver, maxBytesByTopic, nextOffset } from './delivery.ts';
import { startHealthServer, type HealthServer } from './health-server.ts';
import { createKafka, groupConsumerConfig } from './kafka-client.ts';
import { createLogger, type Logger } from './logger.ts';
import { createRuntimeMetrics, type RuntimeMetrics } from './metrics.ts';
import { describeTopology, type HandlerContext, type ProcessorDefinition } from './processor.ts';
import { ConfluentSchemaStore } from './schema-store.ts';
import { AvroSerde } from './serde.ts';
import { RedisState } from './state/redis-state.ts';
import { openStores } from './state/state-spec.ts';
import { ensureTopics } from './topics-admin.ts';
import { ensureState, stateMarkerKey } from './state-rebuild.ts';

export interface RuntimeOptions {
  kafkaBrokers: string[];
  schemaRegistryUrl: string;
  redisUrl: string;
  /** Port of /metrics, /healthz, /readyz; 0 picks a free one; null disables the server. */
  metricsPort: number | null;
  metricsHost?: string;
  /** Stable per instance: it names the transactional id, which fences a zombie after a restart. */
  instanceId?: string;
  /** Records handed to the handler at once; larger poll batches are split, with a heartbeat between. */
  maxBatchRecords?: number;
  partitionsConsumedConcurrently?: number;
  /** Records in flight across partitions before the inputs are paused. */
  maxInFlightRecords?: number;
  /** Consumer session timeout: how long a dead (kill -9) member holds its partitions before a rebalance. */
  sessionTimeoutMs?: number;
  logger?: Logger;
  now?: () => number;
}

export interface RunningProcessor {
  name: string;
  metrics: RuntimeMetrics;
  httpPort: number | null;
  isReady(): boolean;
  /** Finishes the batch in hand, commits, leaves the group, closes clients. Idempotent. */
  stop(): Promise<void>;
  /** Resolves when the processor has stopped, by stop() or by a fatal consumer crash (then rejects). */
  stopped: Promise<void>;
}

export async function startProcessor(def: ProcessorDefinition, options: RuntimeOptions): Promise<RunningProcessor> {
  const log = options.logger ?? createLogger({ processor: def.name });
  const now = options.now ?? Date.now;
  const metrics = createRuntimeMetrics();
  const topology = describeTopology(def);
  log.info({ topology }, 'starting processor');

  const kafka = createKafka(`${def.name}-${options.instanceId ?? hostname()}`, options.kafkaBrokers, log);
  const inputDlqs = def.inputs.map(dlqSpec);
  const admin = kafka.admin();
  await admin.connect();
  try {
    await ensureTopics(admin, [...def.inputs, ...def.outputs, ...inputDlqs], log);
  } finally {
    await admin.disconnect();
  }

  const serde = new AvroSerde(new ConfluentSchemaStore(options.schemaRegistryUrl));
  await prepareSerde(def, serde);
  const redis = def.state && Object.keys(def.state).length ? new RedisState(options.redisUrl) : null;
  if (redis) await redis.connect();
  const ctx: HandlerContext<unknown> = {
    processor: def.name,
    state: openStores(def.state, redis ? { kind: 'redis', redis } : { kind: 'memory' }, def.name),
    log,
    now,
    reject: () => {
      throw new Error('reject() is bound per batch by processBatch');
    },
  };

  if (redis && def.rebuild) {
    const rebuildAdmin = kafka.admin();
    await rebuildAdmin.connect();
    try {
      await ensureState(def, kafka, rebuildAdmin, redis, serde, ctx, log);
    } finally {
      await rebuildAdmin.disconnect();
    }
  }

  const exactlyOnce = def.semantics === 'exactly-once';
  const producer: Producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    // The idempotent producer must retry until it succeeds (kafkajs' own default for it): giving up
    // mid-sequence could reorder or duplicate. An outage blocks the batch; nothing is committed.
    retry: { retries: Number.MAX_SAFE_INTEGER, maxRetryTime: 10_000 },
    ...(exactlyOnce ? { transactionalId: `${def.name}-${options.instanceId ?? hostname()}`, transactionTimeout: 60_000 } : {}),
  });
  const consumer: Consumer = kafka.consumer(groupConsumerConfig(def.name, def.inputs, options.sessionTimeoutMs));
  await producer.connect();
  await consumer.connect();

  let ready = false;
  consumer.on(consumer.events.GROUP_JOIN, (e) => {
    ready = true;
    metrics.processorUp.set({ processor: def.name }, 1);
    log.info({ memberId: e.payload.memberId, assignment: e.payload.memberAssignment }, 'joined consumer group');
  });
  const outputSpecs: TopicSpec[] = [...def.outputs, ...inputDlqs];
  const target = {
    semantics: def.semantics,
    groupId: def.name,
    producer,
    consumer,
    maxBytes: maxBytesByTopic(outputSpecs),
    deadLetter: (f: Parameters<typeof deadLetterMessage>[2]) => deadLetterMessage(serde, def.name, f, now()),
  };
  const inputTopics = def.inputs.map((t) => ({ topic: t.name }));
  const gate = new InFlightGate(
    options.maxInFlightRecords ?? 10_000,
    () => { log.warn({ inFlight: gate.count }, 'backpressure: pausing inputs'); consumer.pause(inputTopics); },
    () => { log.info('backpressure: resuming inputs'); consumer.resume(inputTopics); },
  );
  const chunkSize = options.maxBatchRecords ?? 2_000;

  for (const t of def.inputs) await consumer.subscribe({ topic: t.name, fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    eachBatchAutoResolve: false,
    partitionsConsumedConcurrently: options.partitionsConsumedConcurrently ?? 1,
    eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
      const { topic, partition } = batch;
      const labels = { processor: def.name, topic };
      for (let i = 0; i < batch.messages.length; i += chunkSize) {
        if (!isRunning() || isStale()) return;
        const chunk = batch.messages.slice(i, i + chunkSize);
        const raws = chunk.map((m) => toRawRecord(topic, partition, m));
        const endTimer = metrics.batchDuration.startTimer(labels);
        const batchLog = log.child({ topic, partition, firstOffset: raws[0].offset });
        // Keeps the group session alive while a slow handler awaits (CPU-heavy work runs off-thread).
        const keepAlive = setInterval(() => heartbeat().catch(() => undefined), 2_000);
        gate.acquire(raws.length);
        try {
          metrics.recordsIn.inc(labels, raws.length);
          const result = await processBatch(def, { ...ctx, log: batchLog }, serde, raws);
          const messages = [...result.outputs, ...result.failures.map(target.deadLetter)];
          const commitMetadata = JSON.stringify({ ts: Math.max(...raws.map((r) => r.timestamp)) });
          const report = await deliver(target, { topic, partition, commitMetadata }, raws, messages);
          const ackedAt = now();
          for (const m of report.delivered) {
            if (m.topic.endsWith('.dlq')) continue;
            metrics.recordsOut.inc({ processor: def.name, topic: m.topic });
            metrics.eventToOutputLatency.observe({ processor: def.name, topic: m.topic }, Math.max(0, ackedAt - m.sourceTimestamp) / 1000);
          }
          const failed = [...result.failures, ...report.produceFailures];
          for (const f of failed) {
            metrics.recordFailed(def.name, topic, f.error.stage);
            batchLog.info({ offset: f.record.offset, stage: f.error.stage, errorClass: f.error.name, err: f.error.message, traceparent: f.record.headers.traceparent?.toString() }, 'record dead-lettered');
          }
          // One warning per batch, not per record: a flood of bad input must not become a flood of logs.
          if (failed.length) batchLog.warn({ deadLettered: failed.length, first: { offset: failed[0].record.offset, errorClass: failed[0].error.name, err: failed[0].error.message } }, 'records dead-lettered');
        } finally {
          clearInterval(keepAlive);
          gate.release(raws.length);
          endTimer();
        }
        const last = chunk[chunk.length - 1].offset;
        resolveOffset(last);
        metrics.consumerLag.set({ ...labels, partition: String(partition) }, Math.max(0, Number(BigInt(batch.highWatermark) - BigInt(nextOffset(last)))));
        await heartbeat();
      }
    },
  });

  const server: HealthServer | null =
    options.metricsPort === null ? null : await startHealthServer({ port: options.metricsPort, host: options.metricsHost, registry: metrics.registry, isReady: () => ready });
  if (server) log.info({ port: server.port }, 'serving /metrics /healthz /readyz');

  let stopping: Promise<void> | null = null;
  let settle!: { resolve: () => void; reject: (e: Error) => void };
  const stopped = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
  stopped.catch(() => undefined);
  const shutdown = (fatal?: Error): Promise<void> => {
    stopping ??= (async () => {
      ready = false;
      if (markerCheck) clearInterval(markerCheck);
      log.info('stopping: finishing the batch in hand, committing, leaving the group');
      await consumer.disconnect().catch((e: Error) => log.error({ err: e.message }, 'consumer disconnect failed'));
      await producer.disconnect().catch((e: Error) => log.error({ err: e.message }, 'producer disconnect failed'));
      await redis?.close();
      await server?.close();
      metrics.processorUp.set({ processor: def.name }, 0);
      log.info('stopped');
      if (fatal) settle.reject(fatal);
      else settle.resolve();
    })();
    return stopping;
  };
  // Redis losing the state while we run would silently restart every window from empty: stop
  // instead (exit 1); the restart rebuilds the state from Kafka before consuming again.
  const markerCheck =
    redis && def.rebuild
      ? setInterval(() => {
          redis.client.exists(stateMarkerKey(redis, def.name)).then(
            (n) => {
              if (n === 0) {
                log.error('state marker vanished from Redis (state lost while running): stopping so a restart rebuilds it');
                void shutdown(new Error('Redis state lost while running'));
              }
            },
            () => undefined,
          );
        }, 15_000)
      : null;
  markerCheck?.unref();
  consumer.on(consumer.events.CRASH, (e) => {
    log.error({ err: e.payload.error.message, restart: e.payload.restart }, 'consumer crashed');
    ready = false;
    if (!e.payload.restart) void shutdown(e.payload.error);
  });
  return { name: def.name, metrics, httpPort: server?.port ?? null, isReady: () => ready, stop: () => shutdown(), stopped };
}
