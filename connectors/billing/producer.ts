// Puts a stream of BillingEvents on telecom.billing-events.v1 (or any topic with its schema), or in
// a JSON-lines file: the library behind `streamscore billing produce`, reused by tests, the demo
// and benchmarks. Kafka records are Avro in the Confluent wire format (AvroSerde, schema
// registered under `<topic>-value`), keyed by user_id so a subscriber's events stay ordered on one
// partition, sent by an idempotent producer (acks=all, one request in flight) in batches of a few
// thousand; the next batch is drawn and encoded while the previous one is on the wire.
//
// The record timestamp is the time of producing, not event_time: the events are months old
// (Telco bills go back six years) and the topic's 35-day time retention would delete them at the
// broker's next retention check. The event time travels in the payload.
import { open, type FileHandle } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { CompressionTypes, type Producer } from 'kafkajs';
import type { BillingEvent } from '../../schemas/generated/types.ts';
import { TOPICS, loadSchema } from '../../schemas/topics.ts';
import { createKafka } from '../../streams/runtime/kafka-client.ts';
import type { Logger } from '../../streams/runtime/logger.ts';
import { ConfluentSchemaStore, type SchemaStore } from '../../streams/runtime/schema-store.ts';
import { AvroSerde } from '../../streams/runtime/serde.ts';
import { ensureTopics } from '../../streams/runtime/topics-admin.ts';
import { LakeBillingSink } from './lake-billing-sink.ts';

export type Compression = 'gzip' | 'none';

export type BillingDestination =
  | { kind: 'kafka'; brokers: string[]; schemaRegistryUrl: string; compression: Compression; schemaStore?: SchemaStore }
  | { kind: 'jsonl'; path: string }
  /** Straight into the lake (lake-billing-sink.ts), as `source`'s own files. */
  | { kind: 'lake'; lakeDir: string; source: string };

export interface ProduceOptions {
  destination: BillingDestination;
  /** Default TOPICS.billingEvents.name; another name gets the same schema and settings (tests use throwaway topics). */
  topic?: string;
  /** Events per second; default Infinity (as fast as the broker takes them). */
  rate?: number;
  /** Events per send (default 4,000); smaller when a rate asks for ~10 sends a second. */
  batchSize?: number;
  log: Logger;
  /** How often progress is logged (default 5 s). */
  progressEveryMs?: number;
  /** Stops after the batch in flight; the summary says how far it got. */
  signal?: AbortSignal;
}

export interface ProduceSummary {
  produced: number;
  /** CANCELLATION events produced: each is one churned subscriber. */
  cancellations: number;
  /** Smallest and largest event_time produced (epoch ms); null when nothing was. */
  firstEventTime: number | null;
  lastEventTime: number | null;
  seconds: number;
  eventsPerSecond: number;
  /** True when `signal` stopped it before the events ran out. */
  stopped: boolean;
}

const DEFAULT_BATCH_SIZE = 4_000;
const SENDS_PER_SECOND_WHEN_THROTTLED = 10;

/** Where batches go: Kafka, a file or the lake. `write` may run while the caller draws the next batch. */
interface BillingSink {
  write(batch: BillingEvent[]): Promise<void>;
  close(): Promise<void>;
}

export async function produceBillingEvents(events: Iterable<BillingEvent>, o: ProduceOptions): Promise<ProduceSummary> {
  const topic = o.topic ?? TOPICS.billingEvents.name;
  const rate = o.rate ?? Infinity;
  if (!(rate > 0)) throw new Error(`rate must be > 0 events/s, got ${rate}`);
  const batchSize = Number.isFinite(rate) ? Math.max(1, Math.min(o.batchSize ?? DEFAULT_BATCH_SIZE, Math.ceil(rate / SENDS_PER_SECOND_WHEN_THROTTLED))) : (o.batchSize ?? DEFAULT_BATCH_SIZE);
  const d = o.destination;
  const sink: BillingSink = d.kind === 'kafka' ? await KafkaBillingSink.open(topic, d, o.log) : d.kind === 'lake' ? await LakeBillingSink.open(d.lakeDir, d.source) : await JsonlBillingSink.open(d.path);
  const started = performance.now();
  const s = { produced: 0, cancellations: 0, firstEventTime: null as number | null, lastEventTime: null as number | null };
  const progress = setInterval(() => {
    const seconds = (performance.now() - started) / 1000;
    o.log.info({ topic, produced: s.produced, eventsPerSecond: Math.round(s.produced / seconds), cancellations: s.cancellations, eventTime: s.lastEventTime === null ? null : new Date(s.lastEventTime).toISOString() }, 'billing produce progress');
  }, o.progressEveryMs ?? 5_000);
  progress.unref();
  let inFlight: Promise<void> = Promise.resolve();
  let stopped = false;
  try {
    let batch: BillingEvent[] = [];
    const send = async () => {
      await inFlight; // one batch on the wire at a time keeps the per-key order
      inFlight = sink.write(batch);
      // Count only what was handed over; a failed write rejects at the next await.
      for (const e of batch) count(s, e);
      batch = [];
      if (Number.isFinite(rate)) {
        const ahead = (s.produced / rate) * 1000 - (performance.now() - started);
        if (ahead > 0) await sleep(ahead);
      }
    };
    for (const e of events) {
      batch.push(e);
      if (batch.length >= batchSize) {
        await send();
        if (o.signal?.aborted) {
          stopped = true;
          break;
        }
      }
    }
    if (batch.length) await send();
    await inFlight;
  } finally {
    clearInterval(progress);
    await inFlight.catch(() => {});
    await sink.close();
  }
  const seconds = (performance.now() - started) / 1000;
  return { ...s, seconds, eventsPerSecond: seconds > 0 ? Math.round(s.produced / seconds) : 0, stopped };
}

function count(s: { produced: number; cancellations: number; firstEventTime: number | null; lastEventTime: number | null }, e: BillingEvent): void {
  s.produced++;
  if (e.event_type === 'CANCELLATION') s.cancellations++;
  if (s.firstEventTime === null || e.event_time < s.firstEventTime) s.firstEventTime = e.event_time;
  if (s.lastEventTime === null || e.event_time > s.lastEventTime) s.lastEventTime = e.event_time;
}

class KafkaBillingSink implements BillingSink {
  private readonly topic: string;
  private readonly serde: AvroSerde;
  private readonly producer: Producer;
  private readonly compression: CompressionTypes;

  private constructor(topic: string, serde: AvroSerde, producer: Producer, compression: Compression) {
    this.topic = topic;
    this.serde = serde;
    this.producer = producer;
    this.compression = compression === 'gzip' ? CompressionTypes.GZIP : CompressionTypes.None;
  }

  /** Creates the topic if missing (declared settings of telecom.billing-events.v1), registers the schema, connects. */
  static async open(topic: string, d: Extract<BillingDestination, { kind: 'kafka' }>, log: Logger): Promise<KafkaBillingSink> {
    // A bounded retry budget (the client's, ~1 min) so a dead broker fails the run instead of
    // hanging it; a failed send ends the run, it is never resent as a new batch.
    const kafka = createKafka('streamscore-billing-producer', d.brokers, log, { boundedIdempotentRetries: true });
    const admin = kafka.admin();
    await admin.connect();
    try {
      await ensureTopics(admin, [{ ...TOPICS.billingEvents, name: topic }], log);
    } finally {
      await admin.disconnect();
    }
    const serde = new AvroSerde(d.schemaStore ?? new ConfluentSchemaStore(d.schemaRegistryUrl));
    await serde.useTopic(topic, loadSchema(TOPICS.billingEvents.schema));
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
    await producer.connect();
    return new KafkaBillingSink(topic, serde, producer, d.compression);
  }

  async write(batch: BillingEvent[]): Promise<void> {
    // Encoded synchronously, before the send: the caller draws the next batch while this one is on the wire.
    const messages = batch.map((e) => ({ key: e.user_id, value: this.serde.encode(this.topic, e) }));
    await this.producer.sendBatch({ acks: -1, compression: this.compression, topicMessages: [{ topic: this.topic, messages }] });
  }

  async close(): Promise<void> {
    await this.producer.disconnect();
  }
}

class JsonlBillingSink implements BillingSink {
  private readonly file: FileHandle;

  private constructor(file: FileHandle) {
    this.file = file;
  }

  static async open(path: string): Promise<JsonlBillingSink> {
    return new JsonlBillingSink(await open(path, 'w'));
  }

  async write(batch: BillingEvent[]): Promise<void> {
    let text = '';
    for (const e of batch) text += `${JSON.stringify(e)}\n`;
    await this.file.write(text);
  }

  async close(): Promise<void> {
    await this.file.close();
  }
}
