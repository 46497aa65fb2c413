// Runs a ProcessorDefinition against real Kafka: consumer-group membership, decode, batch handling
// (batch-loop.ts), delivery + commits (delivery.ts), DLQ, backpressure, metrics/health, graceful
// shutdown. The consumer and producer form a session; a session that crashes (a broker restart
// left a transaction half-ended, the group coordinator could not be found, a dependency stayed
// down through every retry) is closed and a new one started with backoff. Only errors that no
// retry can fix end the processor (fatal-errors.ts: fenced by a newer instance, not authorized).
import { hostname } from 'node:os';
import type { Consumer, Producer } from 'kafkajs';
import { dlqSpec } from '../../schemas/topics.ts';
import { InFlightGate } from './backpressure.ts';
import { prepareSerde } from './batch.ts';
import { createBatchLoop } from './batch-loop.ts';
import { maxBytesByTopic } from './delivery.ts';
import { fatalKafkaError } from './fatal-errors.ts';
import { startHealthServer, type HealthServer } from './health-server.ts';
import { checkKafkaSecurity, createKafka, groupConsumerConfig } from './kafka-client.ts';
import { createLogger, type Logger } from './logger.ts';
import { createRuntimeMetrics, type RuntimeMetrics } from './metrics.ts';
import { describeTopology, type ProcessorDefinition } from './processor.ts';
import type { BatchContext } from './batch.ts';
import type { ModelSource } from './models.ts';
import { ModelResolver, servedAs } from './model-registry/resolver.ts';
import { modelPollMsFromEnv, startModelWatcher, type ModelWatcher } from './model-registry/model-watcher.ts';
import { fixedProcessor, isServedProcessor, type ServedProcessor } from './served-processor.ts';
import { ServingSets, openServingSet } from './serving-set.ts';
import { ConfluentSchemaStore } from './schema-store.ts';
import { AvroSerde } from './serde.ts';
import { RedisState } from './state/redis-state.ts';
import { openStores } from './state/state-spec.ts';
import { ensureTopics } from './topics-admin.ts';
import { StateGuard } from './state-guard.ts';
import { startDriftPublisher } from './drift/drift-publisher.ts';
import { errorLine, withRetry } from './retry.ts';
import { withChallenger } from './rollout/challenger.ts';
import { shadowSpec } from './rollout/rollout-state.ts';
import { runnerRollout, type RolloutSettings } from './rollout/rollout-wiring.ts';

/** Pause before restarting a crashed consumer session: doubling from 1 s, at most 30 s. */
const SESSION_RESTART_MS = { initial: 1_000, max: 30_000 };

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
  /** The worker pool of a processor that declares `workers` (config.ts: workerSettingsFromEnv). */
  workers?: WorkerSettings;
  /** Where the processor's models come from (models.ts); the file named in each ModelSpec by default. */
  modelSource?: ModelSource;
  /** Resolves model slots to directories (registry or committed); from MLFLOW_TRACKING_URI by default. */
  modelResolver?: ModelResolver;
  /** How often the registry is asked whether an alias moved (STREAMSCORE_MODEL_POLL_MS, 10 s by default). */
  modelPollMs?: number;
  /** Where MLFLOW_TRACKING_URI, STREAMSCORE_MODEL_POLL_MS and STREAMSCORE_MODEL_CACHE_DIR are read; process.env by default. */
  modelEnv?: NodeJS.ProcessEnv;
  /** Shadow and canary of a registry challenger (rollout/rollout-wiring.ts): rules, extra rules, the shadow's timeout per chunk. */
  rollout?: RolloutSettings;
  logger?: Logger;
  now?: () => number;
}

export interface WorkerSettings {
  threads: number;
  /** onnxruntime intra-op threads per worker. */
  ortThreads: number;
  maxInflight: number;
  maxInflightBytes: number;
}

/** Used when a caller (a test) gives no worker settings: one worker, small bounds. */
export const DEFAULT_WORKER_SETTINGS: WorkerSettings = { threads: 1, ortThreads: 1, maxInflight: 2, maxInflightBytes: 64 * 1024 * 1024 };

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

/**
 * Runs a processor: a fixed definition, or a ServedProcessor whose model slots are resolved through
 * the registry (NAME@champion, or the committed directories) and followed while it runs: when an
 * alias moves, the next model set is prepared and swapped in between chunks (serving-set.ts).
 */
export async function startProcessor(processor: ProcessorDefinition | ServedProcessor, options: RuntimeOptions): Promise<RunningProcessor> {
  const served = isServedProcessor(processor) ? processor : fixedProcessor(processor);
  const log = options.logger ?? createLogger({ processor: served.name });
  const now = options.now ?? Date.now;
  const metrics = createRuntimeMetrics();
  const modelEnv = options.modelEnv ?? process.env;
  const resolver = options.modelResolver ?? ModelResolver.fromEnv(modelEnv, log);
  const pollMs = options.modelPollMs ?? modelPollMsFromEnv(modelEnv);
  // The models are resolved (and downloaded) before anything else: the definition is built from them.
  const serving = { served, settings: options.workers ?? DEFAULT_WORKER_SETTINGS, log, source: options.modelSource, metrics: metrics.workerPool.forProcessor(served.name) };
  // One Redis connection for the live state and a shadow challenger's (`${name}~shadow`) alike.
  let redisState: RedisState | null = null;
  const redisFor = () => (redisState ??= new RedisState(options.redisUrl));
  const rollout = runnerRollout({ serving, resolver, settings: options.rollout, redis: redisFor, schemaRegistryUrl: options.schemaRegistryUrl, kafka: () => kafka, metrics, instanceId: options.instanceId, log });
  const champion = await openServingSet(serving, await resolver.resolveAll(served.name, served.slots), 1);
  const first = rollout ? await withChallenger(rollout.challengerOptions, champion, await rollout.wanted()) : champion;
  const sets = new ServingSets(first, log);
  if (served.slots.length) log.info({ models: first.slots.map(servedAs), alias: resolver.alias, registry: resolver.hasRegistry, pollMs: resolver.hasRegistry ? pollMs : null }, 'serving models');
  const def = first.def;
  def.metrics?.(metrics.registry, def.name);
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
        await ensureTopics(admin, [...def.inputs, ...def.outputs, ...inputDlqs, ...(rollout ? def.outputs.map(shadowSpec) : [])], log);
      } finally {
        await admin.disconnect();
      }
    },
    { what: `creating the topics of ${def.name}`, log },
  );

  const serde = new AvroSerde(new ConfluentSchemaStore(options.schemaRegistryUrl, { log }));
  await prepareSerde(def, serde);
  const redis = def.state && Object.keys(def.state).length ? redisFor() : null;
  if (redis) await withRetry(() => redis.connect(), { what: 'connecting to Redis', retriable: () => true, log });
  // Models and the worker pool loaded above, before the consumer joins: a missing file or a signature
  // mismatch stopped the processor there, with the reason, before it owned any partition.
  const { models, pool } = first;
  const ctx: BatchContext = {
    processor: def.name,
    state: openStores(def.state, redis ? { kind: 'redis', redis } : { kind: 'memory' }, def.name),
    log,
    now,
    models,
    pool,
    reject: () => {
      throw new Error('reject() is bound per batch by processBatch');
    },
    offload: () => {
      throw new Error('offload() is bound per batch by processBatch');
    },
  };

  // Every batch of a stateful processor runs fenced by its partition's state marker; a partition
  // whose state Redis lost is rebuilt from Kafka before its next batch (state-guard.ts).
  // A rebuild replays through the definition being served now (its models' regimes shape the windows).
  const guard = redis ? new StateGuard({ get def() { return sets.current().def; }, redis, kafka, serde, ctx, log, onRebuild: (tp) => metrics.stateRebuilds.inc({ processor: def.name, topic: tp.topic }) }) : null;

  const exactlyOnce = def.semantics === 'exactly-once';
  const maxBytes = maxBytesByTopic([...def.outputs, ...inputDlqs]);
  const stalled = new Set<string>();
  let ready = false;
  let stopping: Promise<void> | null = null;
  let session: { producer: Producer; consumer: Consumer } | null = null;
  const inputTopics = def.inputs.map((t) => ({ topic: t.name }));
  const gate = new InFlightGate(
    options.maxInFlightRecords ?? 10_000,
    () => { log.warn({ inFlight: gate.count }, 'backpressure: pausing inputs'); session?.consumer.pause(inputTopics); },
    () => { log.info('backpressure: resuming inputs'); session?.consumer.resume(inputTopics); },
  );
  const drift = await withRetry(() => startDriftPublisher({ def, kafka, serde, metrics, log, now }), { what: `starting the drift monitor of ${def.name}`, log });
  const eachBatch = createBatchLoop({
    def, ctx, serde, guard, metrics, log, now, gate, stalled, drift, serving: sets, rollout: rollout?.runner,
    chunkSize: options.maxBatchRecords ?? 2_000,
    dlqMaxBytes: new Map(def.inputs.map((t, i) => [t.name, inputDlqs[i].maxMessageBytes])),
    target: () => ({ semantics: def.semantics, groupId: def.name, producer: session!.producer, consumer: session!.consumer, maxBytes }),
  });

  /** Connects a new producer and consumer and starts consuming; the caller retries a failed start. */
  const startSession = async (): Promise<void> => {
    const producer: Producer = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      // The idempotent producer must retry until it succeeds (kafkajs' own default for it): giving up
      // mid-sequence could reorder or duplicate. An outage blocks the batch; nothing is committed.
      retry: { retries: Number.MAX_SAFE_INTEGER, maxRetryTime: 10_000 },
      ...(exactlyOnce ? { transactionalId: `${def.name}-${options.instanceId ?? hostname()}`, transactionTimeout: 60_000 } : {}),
    });
    // kafkajs never restarts a crashed consumer itself: the whole session (with a producer whose
    // transaction may be stuck half-ended) is replaced below.
    const consumer: Consumer = kafka.consumer({ ...groupConsumerConfig(def.name, def.inputs, options.sessionTimeoutMs), retry: { retries: 5, restartOnFailure: async () => false } });
    session = { producer, consumer };
    // A fetch of nothing but transaction markers never reaches eachBatch; kafkajs reports it here.
    consumer.on(consumer.events.START_BATCH_PROCESS, (e) => {
      metrics.consumerLag.set({ processor: def.name, topic: e.payload.topic, partition: String(e.payload.partition) }, Math.max(0, Number(e.payload.offsetLag)));
    });
    consumer.on(consumer.events.GROUP_JOIN, (e) => {
      ready = true;
      metrics.processorUp.set({ processor: def.name }, 1);
      log.info({ memberId: e.payload.memberId, assignment: e.payload.memberAssignment }, 'joined consumer group');
      // Check (and if Redis lost it, rebuild) the state of the new assignment now, one partition at
      // a time, rather than when its next record arrives; a batch that comes first waits for the same rebuild.
      if (guard) {
        const assigned = Object.entries(e.payload.memberAssignment).flatMap(([topic, ps]) => ps.map((partition) => ({ topic, partition })));
        void (async () => {
          for (const tp of assigned) await guard.fence(tp).catch((err: unknown) => log.warn({ ...tp, err: errorLine(err) }, 'state check after joining failed; the next batch retries it'));
        })();
      }
    });
    consumer.on(consumer.events.CRASH, (e) => void onCrash(producer, consumer, e.payload.error));
    await producer.connect();
    await consumer.connect();
    for (const t of def.inputs) await consumer.subscribe({ topic: t.name, fromBeginning: true });
    await consumer.run({ autoCommit: false, eachBatchAutoResolve: false, partitionsConsumedConcurrently: options.partitionsConsumedConcurrently ?? 1, eachBatch });
  };
  const closeSession = async (s: { producer: Producer; consumer: Consumer }): Promise<void> => {
    await s.consumer.disconnect().catch((e: Error) => log.warn({ err: e.message }, 'consumer disconnect failed'));
    await s.producer.disconnect().catch((e: Error) => log.warn({ err: e.message }, 'producer disconnect failed'));
  };
  /** Starts sessions until one runs, with backoff; gives up only when stopping. */
  const runSession = async (): Promise<void> => {
    for (let attempt = 1, delay = SESSION_RESTART_MS.initial; !stopping; attempt++, delay = Math.min(SESSION_RESTART_MS.max, delay * 2)) {
      try {
        await startSession();
        return;
      } catch (err) {
        if (session) await closeSession(session);
        if (fatalKafkaError(err)) throw err;
        log.warn({ attempt, retryInMs: delay, err: errorLine(err) }, 'starting the consumer session failed; retrying');
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  };
  let restarts = 0;
  const onCrash = async (producer: Producer, consumer: Consumer, error: Error): Promise<void> => {
    ready = false;
    metrics.processorUp.set({ processor: def.name }, 0);
    if (stopping || session?.consumer !== consumer) return;
    if (fatalKafkaError(error)) {
      log.error({ err: errorLine(error) }, 'consumer crashed on an error no retry can fix; stopping');
      void shutdown(error);
      return;
    }
    restarts++;
    const delay = Math.min(SESSION_RESTART_MS.max, SESSION_RESTART_MS.initial * 2 ** Math.min(restarts - 1, 5));
    log.error({ err: errorLine(error), restartInMs: delay, restarts }, 'consumer crashed; restarting the session from the last commit');
    metrics.sessionRestarts.inc({ processor: def.name });
    await closeSession({ producer, consumer });
    await new Promise((r) => setTimeout(r, delay));
    if (stopping) return;
    await runSession().catch((err: Error) => void shutdown(err));
  };

  let server: HealthServer | null = null;
  let settle!: { resolve: () => void; reject: (e: Error) => void };
  const stopped = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
  stopped.catch(() => undefined);
  const shutdown = (fatal?: Error): Promise<void> => {
    stopping ??= (async () => {
      ready = false;
      log.info('stopping: finishing the batch in hand, committing, leaving the group');
      if (session) await closeSession(session);
      await watcher?.stop();
      await rollout?.close();
      await drift?.close();
      await sets.close();
      await redis?.close();
      await server?.close();
      metrics.processorUp.set({ processor: def.name }, 0);
      log.info('stopped');
      if (fatal) settle.reject(fatal);
      else settle.resolve();
    })();
    return stopping;
  };

  // Only slots with a registry to follow are watched; a fixed definition has none.
  let nextSetId = first.id;
  const watcher: ModelWatcher | null = served.slots.length && resolver.hasRegistry
    ? startModelWatcher({
      served, resolver, sets, pollMs, log,
      open: async (resolved, current, challenger) => {
        const next = await openServingSet(serving, resolved, ++nextSetId, current.def);
        return rollout ? withChallenger(rollout.challengerOptions, next, challenger) : next;
      },
      challenger: rollout?.wanted,
      onSwap: (next) => drift?.track(next.def),
    })
    : null;
  await runSession();
  server = options.metricsPort === null ? null : await startHealthServer({ port: options.metricsPort, host: options.metricsHost, registry: metrics.registry, isReady: () => ready && stalled.size === 0 });
  if (server) log.info({ port: server.port }, 'serving /metrics /healthz /readyz');
  return { name: def.name, metrics, httpPort: server?.port ?? null, isReady: () => ready && stalled.size === 0, stop: () => shutdown(), stopped };
}
