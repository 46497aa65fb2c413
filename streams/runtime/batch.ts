// The record path shared by the Kafka runner and the in-memory test driver:
// decode -> validate -> handle -> encode, turning every non-retriable failure into a dead letter.
// Retriable failures (registry or Redis unreachable) are thrown so the whole batch is retried.
import type { KafkaMessage } from 'kafkajs';
import { DEAD_LETTER_SCHEMA, dlqTopic, loadSchema } from '../../schemas/topics.ts';
import { ProcessingError, StreamError, ValidationError, asStreamError, type FailureStage } from './errors.ts';
import type { HandlerContext, InputRecord, OutputRecord, ProcessorDefinition } from './processor.ts';
import type { AvroSerde } from './serde.ts';
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
}

export interface Failure {
  record: RawRecord;
  error: StreamError;
}

export interface BatchResult {
  outputs: EncodedMessage[];
  failures: Failure[];
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
} as const;

export async function processBatch(
  def: ProcessorDefinition,
  ctx: HandlerContext<unknown>,
  serde: AvroSerde,
  raws: RawRecord[],
): Promise<BatchResult> {
  const failures: Failure[] = [];
  const decoded: { raw: RawRecord; input: InputRecord }[] = [];
  for (const raw of raws) {
    try {
      const value = await serde.decode(raw.topic, raw.value);
      const headers = stringHeaders(raw.headers);
      const input: InputRecord = {
        topic: raw.topic,
        partition: raw.partition,
        offset: raw.offset,
        key: raw.key?.toString('utf8') ?? null,
        value,
        timestamp: raw.timestamp,
        headers,
        trace: parseTraceparent(headers[TRACEPARENT_HEADER]),
      };
      const invalid = def.validate?.(value, input);
      if (invalid) throw new ValidationError(invalid);
      decoded.push({ raw, input });
    } catch (err) {
      const streamError = asStreamError('decode', err);
      if (streamError.retriable) throw streamError;
      failures.push({ record: raw, error: streamError });
    }
  }

  const byOffset = new Map(decoded.map((d) => [d.input.offset, d.raw]));
  const outputs = await handleIsolatingPoison(def, ctx, decoded.map((d) => d.input), (input, error) =>
    failures.push({ record: byOffset.get(input.offset)!, error }),
  );

  const encoded: EncodedMessage[] = [];
  const outputsBySource = groupBy(outputs, (o) => o.source.offset);
  for (const [offset, group] of outputsBySource) {
    try {
      encoded.push(...group.map((o) => encodeOutput(serde, o)));
    } catch (err) {
      failures.push({ record: byOffset.get(offset)!, error: asStreamError('produce', err) });
    }
  }
  return { outputs: encoded, failures };
}

async function handleIsolatingPoison(
  def: ProcessorDefinition,
  ctx: HandlerContext<unknown>,
  inputs: InputRecord[],
  onFailure: (input: InputRecord, error: StreamError) => void,
): Promise<OutputRecord[]> {
  if (inputs.length === 0) return [];
  // Rejections count only if the attempt that made them succeeds (a failed attempt is re-run).
  const rejected: { input: InputRecord; error: StreamError }[] = [];
  try {
    const outputs = await def.handle(inputs, { ...ctx, reject: (input: InputRecord, error: StreamError) => void rejected.push({ input, error }) } as unknown as HandlerContext<never>);
    for (const r of rejected) onFailure(r.input, r.error);
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

function encodeOutput(serde: AvroSerde, output: OutputRecord): EncodedMessage {
  const trace = childContext(output.source.trace);
  return {
    topic: output.topic.name,
    key: output.key,
    value: serde.encode(output.topic.name, output.value),
    headers: { ...output.headers, [TRACEPARENT_HEADER]: formatTraceparent(trace) },
    sourceTimestamp: output.source.timestamp,
    sourceOffset: output.source.offset,
  };
}

/** The dead letter for a failed record: Avro DeadLetter value, original headers plus the reason in headers. */
export function deadLetterMessage(serde: AvroSerde, processor: string, failure: Failure, failedAt: number, attempt = 1): EncodedMessage {
  const { record, error } = failure;
  const message = errorText(error).slice(0, MAX_ERROR_MESSAGE);
  const stage = error.stage.toUpperCase() as Uppercase<FailureStage>;
  const value = serde.encode(dlqTopic(record.topic), {
    original_key: record.key,
    original_value: record.value ?? Buffer.alloc(0),
    original_headers: record.headers,
    original_timestamp: record.timestamp,
    source_topic: record.topic,
    source_partition: record.partition,
    source_offset: Number(record.offset),
    stage,
    error_class: error.name,
    error_message: message,
    processor,
    failed_at: failedAt,
    attempt,
  });
  return {
    topic: dlqTopic(record.topic),
    key: record.key,
    value,
    headers: {
      ...record.headers,
      [DLQ_HEADERS.errorClass]: error.name,
      [DLQ_HEADERS.errorMessage]: message,
      [DLQ_HEADERS.stage]: error.stage,
      [DLQ_HEADERS.processor]: processor,
      [DLQ_HEADERS.sourceTopic]: record.topic,
      [DLQ_HEADERS.sourcePartition]: String(record.partition),
      [DLQ_HEADERS.sourceOffset]: record.offset,
      [DLQ_HEADERS.failedAt]: new Date(failedAt).toISOString(),
    },
    sourceTimestamp: record.timestamp,
    sourceOffset: record.offset,
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
