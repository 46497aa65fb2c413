// A consumed record -> its lake row, or its dead letter: DECODE when it does not decode, VALIDATION
// when it breaks a rule of the lake (lake-rules.ts). The reader schema is the subject's latest
// registered version (or this repo's .avsc before any producer registered one), so a new optional
// field becomes a new column instead of being dropped; the columns, the rules (finite numbers follow
// the schema's double fields) and the personal-data marks change with it.
import avro from 'avsc';
import { dlqTopic, loadSchema, subjectFor, type TopicSpec } from '../../schemas/topics.ts';
import type { Producer } from 'kafkajs';
import { assertRecordSize, deadLetterMessage, type Failure, type RawRecord } from '../../streams/runtime/batch.ts';
import { ValidationError, asStreamError } from '../../streams/runtime/errors.ts';
import type { Logger } from '../../streams/runtime/logger.ts';
import { personalData, type PersonalData } from '../../streams/runtime/personal-data.ts';
import type { SchemaStore } from '../../streams/runtime/schema-store.ts';
import type { AvroSerde } from '../../streams/runtime/serde.ts';
import { lakeColumns, type LakeColumn, type LakeRow } from './arrow-columns.ts';
import { datePartition } from './lake-files.ts';
import { checkRecord, finiteNumbersRule, floatingFields, timeRangeRule, timeValue, type LakeRule } from './lake-rules.ts';

const WIRE_HEADER_BYTES = 5;
/**
 * A buffered row is a decoded JS object (strings, numbers, a BigInt offset), several times larger
 * than its Avro bytes: 570,386 Telco-derived billing events buffered at once took ~570 MB of RSS above
 * the idle process, ~1 KB a row of which ~70 B is Avro. Memory limits count Avro bytes plus this.
 */
const ROW_OVERHEAD_BYTES = 900;

/** A row for the buffer: its date partition directory and its estimated memory. */
export interface DatedRow {
  row: LakeRow;
  date: string;
  bytes: number;
}

/** A record's dead letter and its reason as logs may print it (personal values removed). */
export interface DeadLetter {
  failure: Failure;
  loggable: string;
}

export interface RecordDecoderOptions {
  topic: TopicSpec;
  store: SchemaStore;
  serde: AvroSerde;
  timeField: string;
  /** The dataset's own rules, after the time range and finite numbers. */
  rules: LakeRule[];
  log: Logger;
  now: () => number;
}

export class LakeRecordDecoder {
  columns: LakeColumn[] = [];
  private readerId: number | null = null;
  private rules: LakeRule[] = [];
  private personal: PersonalData;
  private readonly seenWriterIds = new Set<number>();
  private readonly o: RecordDecoderOptions;

  private constructor(o: RecordDecoderOptions) {
    this.o = o;
    this.personal = personalData(loadSchema(o.topic.schema));
  }

  static async open(o: RecordDecoderOptions): Promise<LakeRecordDecoder> {
    const decoder = new LakeRecordDecoder(o);
    await decoder.useReader(await o.store.latestId(subjectFor(o.topic.name)));
    return decoder;
  }

  /**
   * Before decoding `raw`: when its writer schema is new to this decoder and a newer version than the
   * reader's is registered, runs `beforeChange` (the sink closes the files of the old column set)
   * and reads with the latest version from then on. Its failures are the sink's, not the record's.
   */
  async followSchemaOf(raw: RawRecord, beforeChange: () => Promise<void>): Promise<void> {
    if (!raw.value || raw.value.length < WIRE_HEADER_BYTES || raw.value[0] !== 0) return;
    const writerId = raw.value.readInt32BE(1);
    if (this.seenWriterIds.has(writerId)) return;
    const latest = await this.o.store.latestId(subjectFor(this.o.topic.name));
    if (latest !== null && latest !== this.readerId) {
      await beforeChange();
      await this.useReader(latest);
    }
    this.seenWriterIds.add(writerId);
  }

  /** Throws only what must fail the batch (the registry unreachable); every record problem is a DeadLetter. */
  async decode(raw: RawRecord): Promise<DatedRow | DeadLetter> {
    const { topic, timeField, serde } = this.o;
    let value: Record<string, unknown>;
    try {
      assertRecordSize(raw, topic.maxMessageBytes);
      value = (await serde.decode(topic.name, raw.value)) as Record<string, unknown>;
    } catch (err) {
      const error = asStreamError('decode', err);
      if (error.retriable) throw error; // retry the whole batch later
      return { failure: { record: raw, error }, loggable: error.message };
    }
    const problem = checkRecord(this.rules, value, { recordTimestamp: raw.timestamp, now: this.o.now() });
    // Past the range rule the date has 4 digits; null here would mean a rule that lets too much through.
    const date = problem === null ? datePartition(timeValue(value[timeField]) ?? Number.NaN) : null;
    if (problem !== null || date === null) {
      const error = new ValidationError(problem ?? `${timeField} has no event_date=YYYY-MM-DD partition`);
      return { failure: { record: raw, error, value }, loggable: this.personal.scrub(error.message, value) };
    }
    return { row: { value, partition: raw.partition, offset: BigInt(raw.offset) }, date, bytes: raw.value!.length + ROW_OVERHEAD_BYTES };
  }

  private async useReader(id: number | null): Promise<void> {
    const { topic, store, serde, timeField, log } = this.o;
    const schema = id === null ? loadSchema(topic.schema) : await store.schemaJson(id);
    serde.replaceReader(topic.name, avro.Type.forSchema(schema as avro.Schema));
    this.columns = lakeColumns(schema);
    this.rules = [timeRangeRule(timeField), finiteNumbersRule(floatingFields(schema)), ...this.o.rules];
    // The marks of this repo's .avsc and of the registered version: a producer may have registered one without them.
    this.personal = personalData(loadSchema(topic.schema), schema);
    this.readerId = id;
    log.info({ schemaId: id, columns: this.columns.map((c) => c.name) }, 'lake columns follow the topic schema');
  }
}

export function isDeadLetter(outcome: DatedRow | DeadLetter): outcome is DeadLetter {
  return 'failure' in outcome;
}

/** Sends dead letters to `<topic>.dlq`, acknowledged by all replicas; returns how many per stage. */
export async function sendDeadLetters(producer: Producer, serde: AvroSerde, processor: string, deadLetters: DeadLetter[], now: number): Promise<Record<string, number>> {
  const byStage: Record<string, number> = {};
  const messages = deadLetters.map(({ failure }) => {
    byStage[failure.error.stage] = (byStage[failure.error.stage] ?? 0) + 1;
    const m = deadLetterMessage(serde, processor, failure, now);
    return { key: m.key, value: m.value, headers: m.headers };
  });
  await producer.send({ topic: dlqTopic(deadLetters[0].failure.record.topic), acks: -1, messages });
  return byStage;
}
