// Runs a ProcessorDefinition against real Kafka: consumer-group membership, decode, batch handling,
// delivery + commits (delivery.ts), DLQ, backpressure, metrics/health, graceful shutdown.
import { hostname } from 'node:os';
import type { Consumer, Producer } from 'kafkajs';
import { dlqSpec, loadSchema, type TopicSpec } from '../../schemas/topics.ts';
import { personalData } from './personal-data.ts';
import { InFlightGate } from './backpressure.ts';
import { DLQ_HEADERS, deadLetterMessage, prepareSerde, processBatch, toRawRecord, type Failure } from './batch.ts';
import { deliver, maxBytesByTopic, nextOffset, type DeliveryReport } from './delivery.ts';
import { startHealthServer, type HealthServer } from './health-server.ts';
import { checkKafkaSecurity, createKafka, groupConsumerConfig } from './kafka-client.ts';
import { createLogger, type Logger } from './logger.ts';
import { createRuntimeMetrics, type RuntimeMetrics } from './metrics.ts';
import { describeTopology, type HandlerContext, type ProcessorDefinition } from './processor.ts';
import { ConfluentSchemaStore } from './schema-store.ts';
import { AvroSerde } from './serde.ts';
import { RedisState } from './state/redis-state.ts';
import { openStores } from './state/state-spec.ts';
import { ensureTopics } from './topics-admin.ts';
import { StateGuard } from './state-guard.ts';
import { StreamError, StateLostError } from './errors.ts';
import { RetriesExhaustedError, errorLine, withRetry } from './retry.ts';

/**
 * A batch whose failure is not the records' fault (Redis or the registry unreachable, state lost)
 * is run again in place, with backoff, this many times before the error goes to kafkajs (which
 * restarts the consumer from the last commit). The partition's session stays alive meanwhile.
 */
const IN_PLACE_ATTEMPTS = 12;

/**
 * kafkajs restarts a crashed consumer (rejoin, resume from the last commit) only for errors marked
 * retriable; anything else ends the processor. A dependency that stayed down through every retry
 * (RetriesExhaustedError) is still a dependency problem, not a reason to exit: mark it retriable.
 */
function restartable(err: unknown): unknown {
  if (err instanceof RetriesExhaustedError) return Object.assign(err, { retriable: true });
  return err;
}

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

  // A security mismatch (plaintext to a TLS listener, an untrusted certificate) fails here in one line, not after kafkajs' retries.
  await checkKafkaSecurity(options.kafkaBrokers);
  const kafka = createKafka(`${def.name}-${options.instanceId ?? hostname()}`, options.kafkaBrokers, log);
  const inputDlqs = def.inputs.map(dlqSpec);
  await withRetry(
    async () => {
      const admin = kafka.admin();
      await admin.connect();
      try {
        await ensureTopics(admin, [...def.inputs, ...def.outputs, ...inputDlqs], log);
      } finally {
        await admin.disconnect();
      }
    },
    { what: `creating the topics of ${def.name}`, log },
  );

  const serde = new AvroSerde(new ConfluentSchemaStore(options.schemaRegistryUrl, { log }));
  await prepareSerde(def, serde);
  const redis = def.state && Object.keys(def.state).length ? new RedisState(options.redisUrl) : null;
  if (redis) await withRetry(() => redis.connect(), { what: 'connecting to Redis', retriable: () => true, log });
  const ctx: HandlerContext<unknown> = {
    processor: def.name,
    state: openStores(def.state, redis ? { kind: 'redis', redis } : { kind: 'memory' }, def.name),
    log,
    now,
    reject: () => {
      throw new Error('reject() is bound per batch by processBatch');
    },
  };

  // Every batch of a stateful processor runs fenced by its partition's state marker; a partition
  // whose state Redis lost is rebuilt from Kafka before its next batch (state-guard.ts).
  const guard = redis ? new StateGuard({ def, redis, kafka, serde, ctx, log, onRebuild: (tp) => metrics.stateRebuilds.inc({ processor: def.name, topic: tp.topic }) }) : null;

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
  // A fetch of nothing but transaction markers never reaches eachBatch; kafkajs reports it here.
  consumer.on(consumer.events.START_BATCH_PROCESS, (e) => {
    metrics.consumerLag.set({ processor: def.name, topic: e.payload.topic, partition: String(e.payload.partition) }, Math.max(0, Number(e.payload.offsetLag)));
  });
  consumer.on(consumer.events.GROUP_JOIN, (e) => {
    ready = true;
    metrics.processorUp.set({ processor: def.name }, 1);
    log.info({ memberId: e.payload.memberId, assignment: e.payload.memberAssignment }, 'joined consumer group');
    // Check (and if Redis lost it, rebuild) the state of the new assignment now, one partition at a
    // time, rather than when its next record arrives; a batch that comes first waits for the same rebuild.
    if (guard) {
      const assigned = Object.entries(e.payload.memberAssignment).flatMap(([topic, ps]) => ps.map((partition) => ({ topic, partition })));
      void (async () => {
        for (const tp of assigned) await guard.fence(tp).catch((err: unknown) => log.warn({ ...tp, err: errorLine(err) }, 'state check after joining failed; the next batch retries it'));
      })();
    }
  });
  const outputSpecs: TopicSpec[] = [...def.outputs, ...inputDlqs];
  const dlqMaxBytes = new Map(def.inputs.map((t, i) => [t.name, inputDlqs[i].maxMessageBytes]));
  /** Partitions whose batch is being retried in place: the processor is not ready while any is. */
  const stalled = new Set<string>();
  const target = {
    semantics: def.semantics,
    groupId: def.name,
    producer,
    consumer,
    maxBytes: maxBytesByTopic(outputSpecs),
    deadLetter: (f: Parameters<typeof deadLetterMessage>[2], o?: { minimal?: boolean }) => {
      const m = deadLetterMessage(serde, def.name, f, now(), { maxBytes: dlqMaxBytes.get(f.record.topic), minimal: o?.minimal });
      if (m.headers[DLQ_HEADERS.truncated]) metrics.dlqTruncated.inc({ processor: def.name, topic: f.record.topic });
      return m;
    },
  };
  // Error messages may quote the record (validators do): logs never carry its personal fields.
  const personal = new Map(def.inputs.map((t) => [t.name, personalData(loadSchema(t.schema))]));
  const loggable = (f: Failure): string => personal.get(f.record.topic)?.scrub(errorLine(f.error), f.value) ?? errorLine(f.error);
  const recordDelivery = (report: DeliveryReport, failures: Failure[], topic: string, batchLog: Logger): void => {
    const ackedAt = now();
    for (const m of report.delivered) {
      if (m.topic.endsWith('.dlq')) continue;
      metrics.recordsOut.inc({ processor: def.name, topic: m.topic });
      metrics.eventToOutputLatency.observe({ processor: def.name, topic: m.topic }, Math.max(0, ackedAt - m.sourceTimestamp) / 1000);
    }
    const failed = [...failures, ...report.produceFailures];
    for (const f of failed) {
      metrics.recordFailed(def.name, topic, f.error.stage);
      batchLog.info({ offset: f.record.offset, stage: f.error.stage, errorClass: f.error.name, err: loggable(f), traceparent: f.record.headers.traceparent?.toString() }, 'record dead-lettered');
    }
    // One warning per batch, not per record: a flood of bad input must not become a flood of logs.
    if (failed.length) batchLog.warn({ deadLettered: failed.length, first: { offset: failed[0].record.offset, errorClass: failed[0].error.name, err: loggable(failed[0]) } }, 'records dead-lettered');
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
          const tp = { topic, partition };
          for (let attempt = 1; ; attempt++) {
            try {
              const run = () => processBatch(def, { ...ctx, log: batchLog }, serde, raws);
              const result = guard ? await guard.run(tp, run) : await run();
              const messages = [...result.outputs, ...result.failures.map((f) => target.deadLetter(f))];
              const commitMetadata = JSON.stringify({ ts: Math.max(...raws.map((r) => r.timestamp)) });
              const report = await deliver(target, { topic, partition, commitMetadata }, raws, messages);
              recordDelivery(report, result.failures, topic, batchLog);
              break;
            } catch (err) {
              // Not the records' fault: run the batch again here, after the state is rebuilt or the
              // service is back, rather than restart the consumer (and rejoin the group) for it.
              if (!(err instanceof StreamError && err.retriable) || attempt >= IN_PLACE_ATTEMPTS || !isRunning() || isStale()) throw restartable(err);
              stalled.add(`${topic}/${partition}`);
              metrics.batchRetries.inc({ processor: def.name, topic, reason: err.name });
              const delay = err instanceof StateLostError ? 0 : Math.min(10_000, 250 * 2 ** (attempt - 1));
              batchLog.warn({ attempt, retryInMs: delay, errorClass: err.name, err: errorLine(err) }, err instanceof StateLostError ? 'state lost in Redis: rebuilding the partition, then running the batch again' : 'batch failed for a transient reason; running it again');
              if (delay) await new Promise((r) => setTimeout(r, delay));
            }
          }
          stalled.delete(`${topic}/${partition}`);
        } finally {
          clearInterval(keepAlive);
          gate.release(raws.length);
          endTimer();
        }
        const last = chunk[chunk.length - 1].offset;
        resolveOffset(last);
        // After the last chunk, batch.offsetLag() also counts control records (transaction markers)
        // fetched with it, so the lag of a transactional input reaches 0 instead of staying at 1.
        const lag = i + chunkSize >= batch.messages.length ? Number(batch.offsetLag()) : Number(BigInt(batch.highWatermark) - BigInt(nextOffset(last)));
        metrics.consumerLag.set({ ...labels, partition: String(partition) }, Math.max(0, lag));
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
  consumer.on(consumer.events.CRASH, (e) => {
    log.error({ err: e.payload.error.message, restart: e.payload.restart }, 'consumer crashed');
    ready = false;
    if (!e.payload.restart) void shutdown(e.payload.error);
  });
  return { name: def.name, metrics, httpPort: server?.port ?? null, isReady: () => ready && stalled.size === 0, stop: () => shutdown(), stopped };
}
