// What a processor declares: its inputs, outputs, state and one batch handler. The runtime owns
// everything else (group membership, decoding, commits, DLQ, metrics, shutdown), so a pipeline
// folder never touches offsets. The declaration is data: `describeTopology` lists it, the runner
// logs it at start and tests snapshot it (as Kafka Streams' Topology#describe does).
import type { TopicSpec } from '../../schemas/topics.ts';
import { dlqTopic } from '../../schemas/topics.ts';
import type { Logger } from './logger.ts';
import type { TraceContext } from './tracing.ts';
import type { StreamError } from './errors.ts';
import type { StateSpec, StoresOf } from './state/state-spec.ts';

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
}

export interface HandlerContext<S> {
  processor: string;
  state: S;
  log: Logger;
  /** Wall clock in epoch ms; the test driver replaces it with a fake clock. */
  now(): number;
  /** Sends one input to its dead-letter topic (e.g. an event later than the allowed lateness) while the rest of the batch goes on. */
  reject(record: InputRecord, error: StreamError): void;
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
  /**
   * How to rebuild the state from the input topic after Redis loses it (state-rebuild.ts):
   * replay `lookbackMs` before the committed position through `apply`, which updates state only.
   */
  rebuild?: { lookbackMs: number; apply: (records: InputRecord<T>[], ctx: HandlerContext<StoresOf<D>>) => Promise<void> };
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
}

export function describeTopology(def: ProcessorDefinition): TopologyDescription {
  return {
    processor: def.name,
    description: def.description,
    semantics: def.semantics,
    semanticsReason: def.semanticsReason,
    sources: def.inputs.map((t) => ({ topic: t.name, schema: t.schema, key: t.key })),
    steps: ['decode (Confluent wire format, Avro, writer schema resolved to reader schema)', ...(def.validate ? ['validate'] : []), 'handle (one call per poll batch)', 'encode + produce', 'commit'],
    state: Object.entries((def.state ?? {}) as Record<string, StateSpec<unknown>>).map(([name, spec]) => ({ name, kind: spec.kind, detail: spec.detail })),
    sinks: def.outputs.map((t) => ({ topic: t.name, schema: t.schema })),
    deadLetters: def.inputs.map((t) => dlqTopic(t.name)),
  };
}
