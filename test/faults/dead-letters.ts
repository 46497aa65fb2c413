// Reading dead letters back and holding each to the contract (docs/runtime.md, DeadLetter v2 in
// schemas/runtime/dead-letter.avsc): the reason in headers and in the Avro value, the source
// coordinates, the stage spelled like the Avro enum, the original key, value and headers byte-exact
// unless `truncated` names them (then a prefix), and the value's size and SHA-256 always.
import { createHash } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import { DEAD_LETTER_SCHEMA, dlqSpec, dlqTopic, loadSchema, type TopicSpec } from '../../schemas/topics.ts';
import { ConfluentSchemaStore } from '../../streams/runtime/schema-store.ts';
import { AvroSerde } from '../../streams/runtime/serde.ts';
import { coordinateKey, readToEnd, type Coordinates, type ReadRecord } from './kafka-io.ts';
import type { FuzzRecord } from './malformed.ts';

export interface DeadLetterValue {
  original_key: Buffer | null;
  original_value: Buffer | null;
  original_headers: Record<string, Buffer>;
  source_topic: string;
  source_partition: number;
  source_offset: number;
  stage: string;
  error_class: string;
  error_message: string;
  processor: string;
  original_value_size?: number | null;
  original_value_sha256?: string | null;
  truncated?: string[];
}

export interface DeadLetter {
  record: ReadRecord;
  /** Null when the value did not decode as a DeadLetter (a problem of its own). */
  value: DeadLetterValue | null;
  decodeError?: string;
  /** Where the failed record was: from the Avro value, else from the headers. */
  source: Coordinates;
}

/**
 * Dead letters on the DLQs of `inputs` written since `from`, keyed by the coordinates of the record
 * that failed (several dead letters for one record all stay, so a repeated one shows).
 */
export async function readDeadLetters(kafka: Kafka, registryUrl: string, inputs: TopicSpec[], from: Map<string, Map<number, number>>, timeoutMs = 90_000): Promise<Map<string, DeadLetter[]>> {
  const serde = new AvroSerde(new ConfluentSchemaStore(registryUrl));
  for (const t of inputs) serde.useReader(dlqTopic(t.name), loadSchema(DEAD_LETTER_SCHEMA));
  const records = await readToEnd(kafka, inputs.map((t) => dlqTopic(t.name)), () => true, { from, timeoutMs });
  const out = new Map<string, DeadLetter[]>();
  for (const record of records) {
    let value: DeadLetterValue | null = null;
    let decodeError: string | undefined;
    try {
      value = (await serde.decode(record.topic, record.value)) as DeadLetterValue;
    } catch (err) {
      decodeError = (err as Error).message;
    }
    const source = value
      ? { topic: value.source_topic, partition: value.source_partition, offset: Number(value.source_offset) }
      : { topic: record.headers['streamscore.source.topic'] ?? '?', partition: Number(record.headers['streamscore.source.partition']), offset: Number(record.headers['streamscore.source.offset']) };
    const key = coordinateKey(source);
    out.set(key, [...(out.get(key) ?? []), { record, value, decodeError, source }]);
  }
  return out;
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const describe = (b: Buffer | null | undefined) => (b == null ? 'null' : `${b.length} bytes`);

/** What is wrong with `dl` as the dead letter of `sent` (at `at`), written by `processor`; empty when nothing. */
export function deadLetterProblems(sent: FuzzRecord, at: Coordinates, dl: DeadLetter, processor: string, source: TopicSpec): string[] {
  const problems: string[] = [];
  const expect = 'deadLetter' in sent.expect ? sent.expect : null;
  const h = dl.record.headers;
  if (!dl.value) return [`dead letter does not decode as a DeadLetter: ${dl.decodeError}`];
  const v = dl.value;
  if (expect && (h['streamscore.error.stage'] !== expect.deadLetter || v.stage !== expect.deadLetter)) {
    problems.push(`stage ${v.stage} (header ${h['streamscore.error.stage']}), expected ${expect.deadLetter}: ${v.error_class}: ${v.error_message.slice(0, 200)}`);
  }
  if (!h['streamscore.error.class'] || !h['streamscore.error.message'] || !v.error_message) problems.push('no reason (error class and message) in the headers and the value');
  if (expect?.reason && !expect.reason.test(v.error_message)) problems.push(`reason ${JSON.stringify(v.error_message.slice(0, 200))} does not match ${expect.reason}`);
  if (h['streamscore.error.processor'] !== processor || v.processor !== processor) problems.push(`processor ${v.processor} (header ${h['streamscore.error.processor']}), expected ${processor}`);
  const headerAt = { topic: h['streamscore.source.topic'], partition: Number(h['streamscore.source.partition']), offset: Number(h['streamscore.source.offset']) };
  if (coordinateKey(headerAt) !== coordinateKey(at) || coordinateKey(dl.source) !== coordinateKey(at)) problems.push(`source ${coordinateKey(dl.source)} (headers ${coordinateKey(headerAt)}), expected ${coordinateKey(at)}`);
  const truncated = new Set(v.truncated ?? []);
  const sentValue = sent.value;
  if (sentValue === null) {
    if (v.original_value !== null) problems.push(`original_value is ${describe(v.original_value)}, expected null (a tombstone)`);
  } else {
    const kept = v.original_value ?? Buffer.alloc(0);
    const ok = truncated.has('original_value') ? kept.length < sentValue.length && sentValue.subarray(0, kept.length).equals(kept) : kept.equals(sentValue);
    if (!ok) problems.push(`original_value is ${describe(v.original_value)}${truncated.has('original_value') ? ' (truncated)' : ''}, not ${truncated.has('original_value') ? 'a prefix of' : 'byte-exact to'} the ${sentValue.length} bytes sent`);
    if (v.original_value_sha256 !== sha256(sentValue)) problems.push(`original_value_sha256 ${v.original_value_sha256}, expected ${sha256(sentValue)}`);
    if (v.original_value_size == null || Number(v.original_value_size) !== sentValue.length) problems.push(`original_value_size ${v.original_value_size}, expected ${sentValue.length}`);
  }
  const sentKey = sent.key === null ? null : Buffer.from(sent.key);
  const keyOk = sentKey === null ? v.original_key === null : truncated.has('original_key') ? !!v.original_key && sentKey.subarray(0, v.original_key.length).equals(v.original_key) : !!v.original_key && v.original_key.equals(sentKey);
  if (!keyOk) problems.push(`original_key is ${describe(v.original_key)}, not the ${describe(sentKey)} sent`);
  if (!truncated.has('original_headers')) {
    for (const [name, value] of Object.entries(sent.headers ?? {})) {
      if (!v.original_headers[name]?.equals(Buffer.from(value))) problems.push(`original header ${name} is ${describe(v.original_headers[name])}, not the ${Buffer.byteLength(value)} bytes sent`);
    }
  }
  const size = (dl.record.value?.length ?? 0) + (dl.record.key?.length ?? 0) + Object.entries(h).reduce((n, [k, x]) => n + k.length + Buffer.byteLength(x), 0);
  if (size > dlqSpec(source).maxMessageBytes) problems.push(`dead letter of ${size} bytes is over ${dlqTopic(source.name)}'s max.message.bytes`);
  return problems;
}
