// The record path shared by the Kafka runner and the in-memory test driver:
// decode -> validate -> handle -> encode, turning every non-retriable failure into a dead letter.
// Retriable failures (registry or Redis unreachable) are thrown so the whole batch is retried.
import { createHash } from 'node:crypto';
import type { KafkaMessage } from 'kafkajs';
import { DEAD_LETTER_SCHEMA, dlqTopic, loadSchema } from '../../schemas/topics.ts';
import { ProcessingError, RecordTooLargeError, StreamError, ValidationError, asStreamError } from './errors.ts';
import type { HandlerContext, InputRecord, OutputRecord, ProcessorDefinition } from './processor.ts';
import type { AvroSerde } from './serde.ts';
import { MODEL_HEADER, modelHeaderValue } from './models.ts';
import { offloadTo } from './offload.ts';
import type { WorkerPool } from './worker-pool.ts';
import type { DriftSample } from './drift/processor-drift.ts';
import { TRACEPARENT_HEADER, childContext, formatTraceparent, parseTraceparent } from './tracing.ts';

/** A consumed record as the broker delivered it. */
export interface RawRecord {
  topic: string;
  partition: number;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  timestamp: number;
  headers: Record<string, Buffer>;
}

/** A record ready to produce. `sources` are the inputs it answers for (one output, or a dead letter). */
export interface EncodedMessage {
  topic: string;
  key: Buffer | string | null;
  value: Buffer;
  headers: Record<string, Buffer | string>;
  sourceTimestamp: number;
  sourceOffset: string;
  /** Set on a dead letter: the failure it reports, so delivery can fall back to a minimal one. */
  deadLetterOf?: Failure;
  /** A dead letter already without original key, value and headers. */
  minimal?: boolean;
}

export interface Failure {
  record: RawRecord;
  error: StreamError;
  /** The decoded value, when the record got that far (logs scrub its personal fields from the error). */
  value?: unknown;
}

export interface BatchResult {
  outputs: EncodedMessage[];
  failures: Failure[];
  /** The outputs' drift samples, for the drift monitor once the chunk is delivered. */
  drift: DriftSample[];
  /** The handler's outputs before encoding: a shadow run compares its values with the champion's (rollout/). */
  handled?: OutputRecord[];
}

const MAX_ERROR_MESSAGE = 2_000;

/** Header names on every dead letter, so `kcat -C -t <topic>.dlq -J` shows why without decoding Avro. */
export const DLQ_HEADERS = {
  errorClass: 'streamscore.error.class',
  errorMessage: 'streamscore.error.message',
  stage: 'streamscore.error.stage',
  processor: 'streamscore.error.processor',
  sourceTopic: 'streamscore.source.topic',
  sourcePartition: 'streamscore.source.partition',
  sourceOffset: 'streamscore.source.offset',
  failedAt: 'streamscore.failed.at',
  /** Present when the dead letter is not byte-exact: which original_* fields were cut or dropped. */
  truncated: 'streamscore.dlq.truncated',
} as const;

/** The handler context as the runtime holds it: plus the pool that offload() is bound to per batch. */
export interface BatchContext extends HandlerContext<unknown> {
  pool: WorkerPool | null;
}

export async function processBatch(
  def: ProcessorDefinition,
  ctx: BatchContext,
  serde: AvroSerde,
  raws: RawRecord[],
): Promise<BatchResult> {
  const failures: Failure[] = [];
  const decoded: { raw: RawRecord; input: InputRecord }[] = [];
  for (const raw of raws) {
    const outcome = await decodeInput(def, serde, raw);
    if ('failure' in outcome) failures.push(outcome.failure);
    else decoded.push({ raw, input: outcome.input });
  }

  const byOffset = new Map(decoded.map((d) => [d.input.offset, d.raw]));
  const outputs = await handleIsolatingPoison(def, ctx, decoded.map((d) => d.input), (input, error) =>
    failures.push({ record: byOffset.get(input.offset)!, error, value: input.value }),
  );

  const encoded: EncodedMessage[] = [];
  const chunks = chunkHeaderValues(raws);
  const outputsBySource = groupBy(outputs, (o) => o.source.offset);
  // Every output names the models that made it, so a consumer can tell versions apart without decoding
  // (all of the processor's models, unless the output names its own).
  const modelHeaders: Record<string, string> = def.models?.length ? { [MODEL_HEADER]: modelHeaderValue(def.models) } : {};
  for (const [offset, group] of outputsBySource) {
    try {
      encoded.push(...group.map((o) => encodeOutput(serde, o, { ...modelHeaders, ...coordinateHeaders(o, chunks) })));
    } catch (err) {
      failures.push({ record: byOffset.get(offset)!, error: asStreamError('produce', err) });
    }
  }
  return { outputs: encoded, failures, drift: outputs.flatMap((o) => (o.drift ? [o.drift] : [])), handled: outputs };
}

/** Where an output came from: its input record, and the chunk of that record's partition it was processed in. */
export const SOURCE_HEADER = 'streamscore-source';
export const CHUNK_HEADER = 'streamscore-chunk';

/**
 * Per input partition of a chunk, `topic/partition/first-last` (offsets). Outputs carry it beside
 * their own source coordinates so replay can cut the same chunks the live run cut (a processor's
 * outputs may depend on what it saw together: one prediction per arm per chunk), and replay diffs and
 * shadow comparisons match an output to the input that made it without decoding it.
 */
export function chunkHeaderValues(raws: readonly RawRecord[]): Map<string, string> {
  const bounds = new Map<string, [bigint, bigint]>();
  for (const r of raws) {
    const key = `${r.topic}/${r.partition}`;
    const o = BigInt(r.offset);
    const b = bounds.get(key);
    if (!b) bounds.set(key, [o, o]);
    else bounds.set(key, [o < b[0] ? o : b[0], o > b[1] ? o : b[1]]);
  }
  return new Map([...bounds].map(([key, [first, last]]) => [key, `${key}/${first}-${last}`]));
}

function coordinateHeaders(output: OutputRecord, chunks: Map<string, string>): Record<string, string> {
  const { topic, partition, offset } = output.source;
  const chunk = chunks.get(`${topic}/${partition}`);
  return { [SOURCE_HEADER]: `${topic}/${partition}/${offset}`, ...(chunk ? { [CHUNK_HEADER]: chunk } : {}) };
}

/**
 * A consumed record as its processor's input: size-checked, decoded, validated — or the Failure
 * that dead-letters it. Retriable errors (registry unreachable) are thrown: the record is not at
 * fault. The batch path and the state rebuild both use it, so a rebuild applies exactly the
 * records the first pass accepted.
 */
export async function decodeInput(def: ProcessorDefinition, serde: AvroSerde, raw: RawRecord): Promise<{ input: InputRecord } | { failure: Failure }> {
  let input: InputRecord;
  try {
    assertRecordSize(raw, def.inputs.find((t) => t.name === raw.topic)?.maxMessageBytes);
    const value = await serde.decode(raw.topic, raw.value);
    const headers = stringHeaders(raw.headers);
    input = {
      topic: raw.topic,
      partition: raw.partition,
      offset: raw.offset,
      key: raw.key?.toString('utf8') ?? null,
      value,
      timestamp: raw.timestamp,
      headers,
      trace: parseTraceparent(headers[TRACEPARENT_HEADER]),
    };
  } catch (err) {
    const streamError = asStreamError('decode', err);
    if (streamError.retriable) throw streamError;
    return { failure: { record: raw, error: streamError } };
  }
  const invalid = validateSafely(def, input.value, input);
  return invalid ? { failure: { record: raw, error: new ValidationError(invalid), value: input.value } } : { input };
}

/**
 * A record over its topic's limit once decompressed is refused before decoding (a decompression
 * bomb: the broker checks max.message.bytes against the compressed batch only).
 */
export function assertRecordSize(raw: RawRecord, maxBytes: number | undefined): void {
  const size = (raw.value?.length ?? 0) + (raw.key?.length ?? 0);
  if (maxBytes !== undefined && size > maxBytes) {
    throw new RecordTooLargeError(`record of ${size} bytes (key + value, decompressed) is over ${raw.topic}'s max.message.bytes of ${maxBytes}: the broker checks the compressed batch, so a record that compresses well can pass it`);
  }
}

/** A validator that throws is a bug, but the record still failed validation, not decoding: say so. */
function validateSafely(def: ProcessorDefinition, value: unknown, input: InputRecord): string | null {
  try {
    return def.validate?.(value, input) ?? null;
  } catch (err) {
    return `validator threw ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`;
  }
}

async function handleIsolatingPoison(
  def: ProcessorDefinition,
  ctx: BatchContext,
  inputs: InputRecord[],
  onFailure: (input: InputRecord, error: StreamError) => void,
): Promise<OutputRecord[]> {
  if (inputs.length === 0) return [];
  // Rejections count only if the attempt that made them succeeds (a failed attempt is re-run).
  // Keyed by record: a record whose work was split into several jobs (a document's pages) may have
  // more than one fail, and is still dead-lettered once, with the first reason.
  const rejected = new Map<InputRecord, StreamError>();
  try {
    const { pool, ...handlerCtx } = ctx;
    const reject = (input: InputRecord, error: StreamError) => void (rejected.has(input) || rejected.set(input, error));
    const outputs = await def.handle(inputs, { ...handlerCtx, reject, offload: offloadTo(pool, def.name, reject) } as unknown as HandlerContext<never>);
    for (const [input, error] of rejected) onFailure(input, error);
    return outputs;
  } catch (err) {
    if (err instanceof StreamError && err.retriable) throw err;
    if (inputs.length === 1) {
      onFailure(inputs[0], err instanceof StreamError ? err : new ProcessingError(errorText(err), err));
      return [];
    }
    ctx.log.warn({ err: errorText(err), records: inputs.length }, 'batch handler failed; re-running record by record to isolate the poison record');
    const outputs: OutputRecord[] = [];
    for (const input of inputs) outputs.push(...(await handleIsolatingPoison(def, ctx, [input], onFailure)));
    return outputs;
  }
}

function encodeOutput(serde: AvroSerde, output: OutputRecord, runtimeHeaders: Record<string, string>): EncodedMessage {
  const trace = childContext(output.source.trace);
  return {
    topic: output.topic.name,
    key: output.key,
    value: serde.encode(output.topic.name, output.value),
    // An output's own model header wins: a processor serving several models names the one that made it.
    headers: { ...runtimeHeaders, ...output.headers, [TRACEPARENT_HEADER]: formatTraceparent(trace) },
    sourceTimestamp: output.source.timestamp,
    sourceOffset: output.source.offset,
  };
}

/** Dead letters fit in this by default: the smallest dead-letter topic limit (1 MiB source + 1 MiB envelope) with room to spare. */
export const DEFAULT_DEAD_LETTER_BYTES = 1024 * 1024;
/** Kept of a key or value that does not fit whole: enough to recognise it, never enough to matter. */
const TRUNCATED_PREFIX_BYTES = 64 * 1024;
/** Topic names, error text, coordinates and Avro framing of the envelope, generously. */
const ENVELOPE_RESERVE_BYTES = 8 * 1024;

/**
 * The dead letter for a failed record: Avro DeadLetter value, original headers plus the reason in
 * headers. It is byte-exact (original key, value, headers) when that fits `maxBytes` (the
 * dead-letter topic's max.message.bytes); otherwise the key and value are cut to a prefix and the
 * headers dropped, and `truncated` says which, while the coordinates, the reason, the value's size
 * and SHA-256 are always kept. So a record that cannot be produced anywhere still leaves its
 * partition, with a trace of what it was.
 */
export function deadLetterMessage(serde: AvroSerde, processor: string, failure: Failure, failedAt: number, options: { attempt?: number; maxBytes?: number; minimal?: boolean } = {}): EncodedMessage {
  const { record, error } = failure;
  const message = errorText(error).slice(0, MAX_ERROR_MESSAGE);
  const stage = error.stage.toUpperCase();
  const budget = (options.maxBytes ?? DEFAULT_DEAD_LETTER_BYTES) - ENVELOPE_RESERVE_BYTES - Buffer.byteLength(message) * 2;
  const truncated: string[] = [];
  // Minimal: the broker refused the full dead letter; keep only what identifies the record.
  const keyLimit = options.minimal ? 0 : TRUNCATED_PREFIX_BYTES;
  let key = record.key;
  if (key && key.length > keyLimit) {
    key = key.subarray(0, keyLimit);
    truncated.push('original_key');
  }
  let headers = record.headers;
  // Headers travel twice: in the Avro value and as the dead letter's own Kafka headers.
  const headerBytes = 2 * Object.entries(headers).reduce((n, [k, v]) => n + Buffer.byteLength(k) + v.length, 0);
  if (headerBytes > (options.minimal ? 0 : budget / 4)) {
    headers = {};
    truncated.push('original_headers');
  }
  let value = record.value;
  const room = options.minimal ? 0 : budget - 2 * (key?.length ?? 0) - (truncated.includes('original_headers') ? 0 : headerBytes);
  if (value && value.length > room) {
    value = value.subarray(0, Math.max(0, Math.min(room, TRUNCATED_PREFIX_BYTES)));
    truncated.push('original_value');
  }
  const encoded = serde.encode(dlqTopic(record.topic), {
    original_key: key,
    original_value: value,
    original_headers: headers,
    original_timestamp: record.timestamp,
    source_topic: record.topic,
    source_partition: record.partition,
    source_offset: Number(record.offset),
    stage,
    error_class: error.name,
    error_message: message,
    processor,
    failed_at: failedAt,
    attempt: options.attempt ?? 1,
    original_value_size: record.value ? record.value.length : null,
    original_value_sha256: record.value ? createHash('sha256').update(record.value).digest('hex') : null,
    truncated,
  });
  return {
    topic: dlqTopic(record.topic),
    key,
    value: encoded,
    headers: {
      ...headers,
      [DLQ_HEADERS.errorClass]: error.name,
      [DLQ_HEADERS.errorMessage]: message,
      // The same spelling as the Avro enum, so filters on either agree.
      [DLQ_HEADERS.stage]: stage,
      [DLQ_HEADERS.processor]: processor,
      [DLQ_HEADERS.sourceTopic]: record.topic,
      [DLQ_HEADERS.sourcePartition]: String(record.partition),
      [DLQ_HEADERS.sourceOffset]: record.offset,
      [DLQ_HEADERS.failedAt]: new Date(failedAt).toISOString(),
      ...(truncated.length ? { [DLQ_HEADERS.truncated]: truncated.join(',') } : {}),
    },
    sourceTimestamp: record.timestamp,
    sourceOffset: record.offset,
    deadLetterOf: failure,
    minimal: options.minimal ?? false,
  };
}

/** Registers the schemas a processor writes (outputs and dead letters) and reads (inputs, reader side only). */
export async function prepareSerde(def: ProcessorDefinition, serde: AvroSerde): Promise<void> {
  for (const t of def.inputs) serde.useReader(t.name, loadSchema(t.schema));
  for (const t of def.outputs) await serde.useTopic(t.name, loadSchema(t.schema));
  for (const t of def.inputs) await serde.useTopic(dlqTopic(t.name), loadSchema(DEAD_LETTER_SCHEMA));
}

export function stringHeaders(headers: Record<string, Buffer | string | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) if (v !== undefined) out[k] = v.toString();
  return out;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function groupBy<T, K>(items: T[], keyOf: (t: T) => K): Map<K, T[]> {
  const m = new Map<K, T[]>();
  for (const it of items) {
    const k = keyOf(it);
    const list = m.get(k);
    if (list) list.push(it);
    else m.set(k, [it]);
  }
  return m;
}

/** A kafkajs message as a RawRecord; of a repeated header, the last value counts. */
export function toRawRecord(topic: string, partition: number, m: KafkaMessage): RawRecord {
  const headers: Record<string, Buffer> = {};
  for (const [k, v] of Object.entries(m.headers ?? {})) {
    if (v === undefined) continue;
    const first = Array.isArray(v) ? v[v.length - 1] : v;
    headers[k] = Buffer.isBuffer(first) ? first : Buffer.from(first);
  }
  return { topic, partition, offset: m.offset, key: m.key, value: m.value, timestamp: Number(m.timestamp), headers };
}
