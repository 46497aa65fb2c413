// What a processor declares: its inputs, outputs, state and one batch handler. The runtime owns
// everything else (group membership, decoding, commits, DLQ, metrics, shutdown), so a pipeline
// folder never touches offsets. The declaration is data: `describeTopology` lists it, the runner
// logs it at start and tests snapshot it (as Kafka Streams' Topology#describe does).
import type { TopicSpec } from '../../schemas/topics.ts';
import { dlqTopic } from '../../schemas/topics.ts';
import type { Registry } from 'prom-client';
import type { Logger } from './logger.ts';
import type { TraceContext } from './tracing.ts';
import type { StreamError } from './errors.ts';
import type { StateSpec, StoresOf } from './state/state-spec.ts';
import type { LoadedModel, ModelSpec } from './models.ts';
import type { DriftDeclaration, DriftSample } from './drift/processor-drift.ts';

/**
 * at-least-once: outputs are acknowledged (acks=all, idempotent producer), then offsets committed;
 *   a crash between the two re-delivers the batch, so effects must be idempotent.
 * exactly-once: outputs and offsets are committed in one Kafka transaction; consumers of the
 *   outputs read_committed. Used where a duplicate would be visible to a person or counted twice.
 */
export type DeliverySemantics = 'at-least-once' | 'exactly-once';

export interface InputRecord<T = unknown> {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  value: T;
  /** Kafka record timestamp (producer create time), epoch ms: the origin of the latency metric. */
  timestamp: number;
  headers: Record<string, string>;
  trace: TraceContext | null;
}

export interface OutputRecord {
  topic: TopicSpec;
  key: string;
  value: unknown;
  headers?: Record<string, string>;
  /** The input this output derives from: its trace continues and its timestamp starts the latency clock. */
  source: InputRecord;
  /** What the model saw and said for this output, for the drift monitor (drift/); only with `drift` declared. */
  drift?: DriftSample;
}

export interface HandlerContext<S> {
  processor: string;
  state: S;
  log: Logger;
  /** Wall clock in epoch ms; the test driver replaces it with a fake clock. */
  now(): number;
  /** Sends one input to its dead-letter topic (e.g. an event later than the allowed lateness) while the rest of the batch goes on. */
  reject(record: InputRecord, error: StreamError): void;
  /**
   * The processor's models, loaded once by the runtime in this thread, by ModelSpec name. Empty
   * when the processor declares `workers`: then the models are loaded in each worker thread and
   * reach the task module through its `env.models`.
   */
  models: Record<string, LoadedModel>;
  /**
   * Runs jobs on the processor's worker pool (`workers`), within the in-flight bounds (count and
   * bytes); resolves with one result per job, in order. A job over `workers.recordDeadlineMs` (its
   * worker is terminated and replaced) or whose task throws RecordRejectedError is dead-lettered
   * with the reason (RecordTimeoutError / RecordRejectedError, stage processing) and comes back as
   * null. Any other task failure rejects, and the batch is retried record by record.
   */
  offload<I, R>(jobs: OffloadJob<I>[]): Promise<(R | null)[]>;
}

export interface OffloadJob<I> {
  /** The input the job answers for: a rejected or timed-out job dead-letters it. */
  record: InputRecord;
  /** What the worker task receives (structured clone; `transfer` moves buffers instead of copying). */
  input: I;
  /** The memory the job holds (its frame, image, document), counted against STREAMSCORE_MAX_INFLIGHT_BYTES. */
  bytes: number;
  transfer?: ArrayBuffer[];
}

/** A processor's CPU-heavy step, run on worker threads (worker-pool.ts) by HandlerContext.offload. */
export interface WorkerSpec {
  /** Absolute path or file URL of the task module; its default export is `async (input, env: { models }) => result`. */
  module: string;
  /** How long one job may run on a worker before it is abandoned and its record dead-lettered. */
  recordDeadlineMs: number;
}

// The defaults are `any` so that runtime code can hold any processor (handlers are contravariant in their state).
export interface ProcessorDefinition<T = any, D extends Record<string, StateSpec<unknown>> = any> {
  /** Consumer group id, metrics label, and prefix of the processor's state keys. */
  name: string;
  description: string;
  inputs: TopicSpec[];
  outputs: TopicSpec[];
  semantics: DeliverySemantics;
  /** Why this processor needs the semantics it declares (shown by `describe`). */
  semanticsReason: string;
  state?: D;
  /** Models the processor scores with; loaded once by the runtime (models.ts), named on every output. */
  models?: ModelSpec[];
  /** A worker pool for CPU-heavy steps, used through HandlerContext.offload. */
  workers?: WorkerSpec;
  /** Drift monitoring of the served model versions against their training references (drift/processor-drift.ts). */
  drift?: DriftDeclaration;
  /**
   * How to rebuild the state from the input topic after Redis loses it (state-rebuild.ts):
   * replay `lookbackMs` before the committed position through `apply`, which updates state only.
   */
  rebuild?: { lookbackMs: number; apply: (records: InputRecord<T>[], ctx: HandlerContext<StoresOf<D>>) => Promise<void> };
  /**
   * How a shadow challenger's output compares with the champion's for the same input, per output
   * topic name (rollout/shadow-compare.ts): agreement (same alert state, same verdict) and the
   * score difference. Topics without one are not compared.
   */
  compare?: Record<string, (live: any, shadow: any) => { agree: boolean; delta?: number }>;
  /**
   * How long a side run of one chunk (a shadow, a canary's champion reference) may take before it is
   * abandoned, when the runner is given none (rollout-chunk.ts: 10 s by default). A processor whose
   * records take seconds each (OCR of a scan) declares more, or a healthy shadow's chunks would
   * time out and count as its errors.
   */
  shadowTimeoutMs?: number;
  /**
   * The processor's own series on the runtime's /metrics registry (e.g. a cache's hits), registered
   * once when it starts; `processor` is the label value its series should carry.
   */
  metrics?: (registry: Registry, processor: string) => void;
  /** Semantic checks after decoding; return the reason a record is invalid, or null. */
  validate?: (value: T, record: InputRecord<T>) => string | null;
  /**
   * Handles one poll batch of one topic-partition, in offset order. If it throws, the runtime
   * re-runs it one record at a time to find the poison record(s), so a handler must be safe to
   * re-run on a subset: write state once, at the end, idempotently.
   */
  handle: (records: InputRecord<T>[], ctx: HandlerContext<StoresOf<D>>) => Promise<OutputRecord[]>;
}

export function defineProcessor<T, D extends Record<string, StateSpec<unknown>> = Record<string, never>>(
  def: ProcessorDefinition<T, D>,
): ProcessorDefinition<T, D> {
  if (!/^[a-z][a-z0-9-]*$/.test(def.name)) throw new Error(`processor name "${def.name}" must be lower-kebab-case`);
  if (def.inputs.length === 0) throw new Error(`processor ${def.name} declares no input topic`);
  const eosOutputs = def.outputs.filter((t) => t.exactlyOnce).map((t) => t.name);
  if (eosOutputs.length && def.semantics !== 'exactly-once') {
    throw new Error(`processor ${def.name} writes ${eosOutputs.join(', ')}, declared exactly-once in schemas/topics.ts, but runs ${def.semantics}`);
  }
  if (def.workers) {
    const { module, recordDeadlineMs } = def.workers;
    if (!module.startsWith('file:') && !module.startsWith('/')) throw new Error(`processor ${def.name}: workers.module must be an absolute path or a file URL, got ${module}`);
    if (!(Number.isFinite(recordDeadlineMs) && recordDeadlineMs > 0)) throw new Error(`processor ${def.name}: workers.recordDeadlineMs must be a number of milliseconds > 0, got ${recordDeadlineMs}`);
  }
  const names = (def.models ?? []).map((m) => m.name);
  const repeated = names.filter((n, i) => names.indexOf(n) !== i);
  if (repeated.length) throw new Error(`processor ${def.name} declares model ${repeated[0]} twice: model names must be unique`);
  return def;
}

export interface TopologyDescription {
  processor: string;
  description: string;
  semantics: DeliverySemantics;
  semanticsReason: string;
  sources: { topic: string; schema: string; key: string }[];
  steps: string[];
  state: { name: string; kind: string; detail: string }[];
  sinks: { topic: string; schema: string }[];
  deadLetters: string[];
  /** Models the runtime loads for the processor; every output carries `streamscore-model: name@version`. */
  models: { name: string; version: string; file: string; inputs: Record<string, string>; outputs: Record<string, string> }[];
  workers: { module: string; recordDeadlineMs: number } | null;
}

export function describeTopology(def: ProcessorDefinition): TopologyDescription {
  return {
    processor: def.name,
    description: def.description,
    semantics: def.semantics,
    semanticsReason: def.semanticsReason,
    sources: def.inputs.map((t) => ({ topic: t.name, schema: t.schema, key: t.key })),
    steps: [
      'decode (Confluent wire format, Avro, writer schema resolved to reader schema)',
      ...(def.validate ? ['validate'] : []),
      def.workers ? 'handle (one call per poll batch; CPU-heavy jobs offloaded to the worker pool)' : 'handle (one call per poll batch)',
      'encode + produce',
      'commit',
    ],
    state: Object.entries((def.state ?? {}) as Record<string, StateSpec<unknown>>).map(([name, spec]) => ({ name, kind: spec.kind, detail: spec.detail })),
    sinks: def.outputs.map((t) => ({ topic: t.name, schema: t.schema })),
    deadLetters: def.inputs.map((t) => dlqTopic(t.name)),
    models: (def.models ?? []).map((m) => ({
      name: m.name,
      version: m.version,
      file: m.file,
      inputs: Object.fromEntries(Object.entries(m.signature.inputs).map(([k, t]) => [k, `${t.type}[${t.shape.join(', ')}]`])),
      outputs: Object.fromEntries(Object.entries(m.signature.outputs).map(([k, t]) => [k, `${t.type}[${t.shape.join(', ')}]`])),
    })),
    workers: def.workers ? { module: def.workers.module, recordDeadlineMs: def.workers.recordDeadlineMs } : null,
  };
}
