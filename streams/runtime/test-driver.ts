// An in-memory driver for processor unit tests, like Kafka Streams' TopologyTestDriver: pipe values
// (or raw bytes) into input topics, run the same decode/validate/handle/encode path the Kafka runner
// uses (batch.ts), read decoded outputs and dead letters back. No broker, registry or Redis: the
// schema store and state stores are the in-memory implementations, and the clock is fake. Models
// and the worker pool are the real ones (a processor with `workers` runs its task module on a
// thread), so offloaded steps, deadlines and rejections are tested as they run; call close() after.
// A ServedProcessor starts on its committed model directories, and swapModels() swaps in a model set
// built from other directories between two run() calls, as the runner does between chunks.
import { DEAD_LETTER_SCHEMA, TOPICS, dlqTopic, loadSchema, type TopicSpec } from '../../schemas/topics.ts';
import { deadLetterMessage, prepareSerde, processBatch, type BatchContext, type RawRecord } from './batch.ts';
import type { FailureStage } from './errors.ts';
import { createLogger } from './logger.ts';
import type { ProcessorDefinition } from './processor.ts';
import { DEFAULT_WORKER_SETTINGS, type WorkerSettings } from './kafka-runner.ts';
import { ServingSets, openServingSet, type OpenServingOptions, type ServingSet } from './serving-set.ts';
import { committedDirs, fixedProcessor, isServedProcessor, type ServedProcessor } from './served-processor.ts';
import { MemorySchemaStore } from './schema-store.ts';
import { AvroSerde } from './serde.ts';
import { openStores } from './state/state-spec.ts';
import { ProcessorDrift } from './drift/processor-drift.ts';
import { withChallenger } from './rollout/challenger.ts';
import { RolloutRunner, type ChunkRollout } from './rollout/rollout-chunk.ts';
import type { RolloutStage } from './rollout/rollout-state.ts';

export interface DrivenRecord<T = any> {
  topic: string;
  key: string | null;
  value: T;
  headers: Record<string, string>;
}

export interface DeadLetterView {
  stage: FailureStage;
  errorClass: string;
  errorMessage: string;
  sourceOffset: string;
  originalValue: Buffer;
  headers: Record<string, string>;
}

export class ProcessorTestDriver {
  readonly store = new MemorySchemaStore();
  readonly serde = new AvroSerde(this.store);
  clock: number;
  private readonly def: ProcessorDefinition;
  private readonly ctx: BatchContext;
  private sets: ServingSets | null = null;
  private readonly serving: OpenServingOptions;
  private readonly pending = new Map<string, RawRecord[]>();
  private readonly produced: { topic: string; key: string | null; value: Buffer; headers: Record<string, string> }[] = [];
  private readonly nextOffsets = new Map<string, number>();
  private ready: Promise<void>;
  /** The processor's drift monitors; their alerts are read back with outputs(TOPICS.driftAlerts). */
  readonly drift: ProcessorDrift | null;
  /** What champion and challenger did in each chunk of a rollout (startRollout), in order. */
  readonly rolloutChunks: ChunkRollout[] = [];
  private readonly rollout: RolloutRunner;

  constructor(processor: ProcessorDefinition | ServedProcessor, options: { startTime?: number; workers?: Partial<WorkerSettings> } = {}) {
    const served = isServedProcessor(processor) ? processor : fixedProcessor(processor);
    const dirs = committedDirs(served);
    const def = served.build(dirs);
    this.def = def;
    this.clock = options.startTime ?? Date.UTC(2026, 0, 1);
    const ctx: BatchContext = {
      processor: def.name,
      state: openStores(def.state, { kind: 'memory' }, def.name),
      log: createLogger({ processor: def.name, driver: true }).child({}, { level: process.env.LOG_LEVEL ?? 'silent' }),
      now: () => this.clock,
      models: {},
      pool: null,
      reject: () => {
        throw new Error('reject() is bound per batch by processBatch');
      },
      offload: () => {
        throw new Error('offload() is bound per batch by processBatch');
      },
    };
    this.ctx = ctx;
    const serving: OpenServingOptions = { served, settings: { ...DEFAULT_WORKER_SETTINGS, ...options.workers }, log: ctx.log };
    this.serving = serving;
    this.drift = def.drift ? new ProcessorDrift(def.name, def.drift) : null;
    this.rollout = new RolloutRunner({ processor: def.name, log: ctx.log, metrics: null, controller: { observe: (r) => void this.rolloutChunks.push(r) } });
    // A producer registers the input schemas; the processor registers what it writes.
    this.ready = (async () => {
      for (const t of def.inputs) await this.serde.useTopic(`${t.name}`, loadSchema(t.schema));
      await prepareSerde(def, this.serde);
      if (def.drift) await this.serde.useTopic(TOPICS.driftAlerts.name, loadSchema(TOPICS.driftAlerts.schema));
      const first = await openServingSet(serving, served.slots.map((s) => ({ name: s.name, alias: 'committed', version: null, dir: dirs[s.name] })), 1);
      // The processor's own definition (not a second build of it) serves the first set.
      this.sets = new ServingSets({ ...first, def }, ctx.log);
    })();
    this.ready.catch(() => undefined);
  }

  /** Encodes `value` with the input topic's schema (as a producer would) and queues it. */
  async pipe(topic: TopicSpec, key: string | null, value: unknown, options: { partition?: number; timestamp?: number; headers?: Record<string, string> } = {}): Promise<void> {
    await this.ready;
    await this.pipeRaw(topic, key, this.serde.encode(topic.name, value), options);
  }

  /** Queues bytes as they are, e.g. garbage or a record framed with an unknown schema id. */
  async pipeRaw(topic: TopicSpec, key: string | null, bytes: Buffer | null, options: { partition?: number; timestamp?: number; headers?: Record<string, string> } = {}): Promise<void> {
    await this.ready;
    const partition = options.partition ?? 0;
    const tp = `${topic.name}/${partition}`;
    const offset = this.nextOffsets.get(tp) ?? 0;
    this.nextOffsets.set(tp, offset + 1);
    const headers: Record<string, Buffer> = {};
    for (const [k, v] of Object.entries(options.headers ?? {})) headers[k] = Buffer.from(v);
    const list = this.pending.get(tp) ?? [];
    list.push({ topic: topic.name, partition, offset: String(offset), key: key === null ? null : Buffer.from(key), value: bytes, timestamp: options.timestamp ?? this.clock, headers });
    this.pending.set(tp, list);
  }

  /** Processes everything queued, one batch per topic-partition, as one poll would. */
  async run(): Promise<void> {
    await this.ready;
    for (const [tp, raws] of this.pending) {
      this.pending.delete(tp);
      const lease = this.sets!.acquire();
      let result;
      try {
        result = await this.rollout.runChunk(lease.set, { ...this.ctx, models: lease.set.models, pool: lease.set.pool }, this.serde, raws);
        this.rollout.observe(result);
      } finally {
        lease.release();
      }
      for (const m of [...result.outputs, ...result.failures.map((f) => deadLetterMessage(this.serde, this.def.name, f, this.clock))]) {
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(m.headers)) headers[k] = v.toString();
        this.produced.push({ topic: m.topic, key: m.key === null ? null : m.key.toString(), value: m.value, headers });
      }
      for (const a of this.drift?.observe(result.drift, this.clock).alerts ?? []) this.produced.push({ topic: TOPICS.driftAlerts.name, key: a.model_name, value: this.serde.encode(TOPICS.driftAlerts.name, a), headers: {} });
    }
  }

  /** Decoded records written to an output topic, in order. */
  async outputs<T = any>(topic: TopicSpec): Promise<DrivenRecord<T>[]> {
    const reader = new AvroSerde(this.store);
    reader.useReader(topic.name, loadSchema(topic.schema));
    const out: DrivenRecord<T>[] = [];
    for (const p of this.produced.filter((m) => m.topic === topic.name)) out.push({ topic: p.topic, key: p.key, value: (await reader.decode(topic.name, p.value)) as T, headers: p.headers });
    return out;
  }

  async deadLetters(topic: TopicSpec): Promise<DeadLetterView[]> {
    const name = dlqTopic(topic.name);
    const reader = new AvroSerde(this.store);
    reader.useReader(name, loadSchema(DEAD_LETTER_SCHEMA));
    const out: DeadLetterView[] = [];
    for (const p of this.produced.filter((m) => m.topic === name)) {
      const v = (await reader.decode(name, p.value)) as { stage: string; error_class: string; error_message: string; source_offset: number; original_value: Buffer };
      out.push({ stage: v.stage.toLowerCase() as FailureStage, errorClass: v.error_class, errorMessage: v.error_message, sourceOffset: String(v.source_offset), originalValue: v.original_value, headers: p.headers });
    }
    return out;
  }

  /**
   * Builds the processor from other model directories (by slot name; the others keep theirs),
   * loads it and swaps it in: the next run() is scored by it. Refused as the runner refuses it.
   */
  async swapModels(dirs: Record<string, string>): Promise<ServingSet> {
    await this.ready;
    const current = this.sets!.current();
    const resolved = current.slots.map((s) => (dirs[s.name] ? { ...s, version: dirs[s.name], dir: dirs[s.name] } : s));
    const next = await openServingSet(this.serving, resolved, current.id + 1, current.def);
    this.sets!.swap(next);
    this.drift?.track(next.def.drift?.references ?? []);
    return next;
  }

  /**
   * Serves `dir` as the challenger of model slot `slot` beside the current models, in shadow (its
   * own in-memory state, outputs on <topic>.shadow) or canary (the keys hashed in), as the runner does
   * for alias challenger + tag streamscore.rollout; `stage` null ends the rollout.
   */
  async startRollout(slot: string, dir: string, stage: RolloutStage | null): Promise<ServingSet> {
    await this.ready;
    const current = this.sets!.current();
    const champion = await openServingSet(this.serving, current.slots, current.id + 1, current.def);
    const options = { serving: this.serving, fetch: async () => dir, openState: (d: ProcessorDefinition, namespace: string) => openStores(d.state, { kind: 'memory' }, namespace) };
    const next = await withChallenger(options, champion, stage ? { slot, version: dir, stage } : null);
    if (stage && !next.rollout?.challenger) throw new Error(`challenger ${slot} from ${dir} could not be opened (the log says why)`);
    this.sets!.swap(next);
    return next;
  }

  /** The model set the next run() uses. */
  get servingSet(): ServingSet | null {
    return this.sets?.current() ?? null;
  }

  /** Stops the worker pool and frees the models (a driver of a processor without either needs no close). */
  async close(): Promise<void> {
    await this.ready.catch(() => undefined);
    await this.sets?.close();
  }

  get state(): any {
    return this.ctx.state;
  }
}

