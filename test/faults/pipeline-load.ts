// A counted load through every processor, for the cases that restart a service under it: raw
// readings -> sensor-validation -> maintenance-scorer, and billing events -> two lake sinks (one
// running through the fault, one started the moment the service is back, with the scorer if asked). `send` sends a slice of
// it (optionally encoded with another writer schema), `verify` waits for the processors and counts:
// each reading validated exactly once, every prediction exact (predictions.ts), each billing event
// in the lake exactly once, and every processor still running.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import avro from 'avsc';
import type { Kafka } from 'kafkajs';
import { TOPICS, dlqSpec, loadSchema, type TopicSpec } from '../../schemas/topics.ts';
import type { BillingEvent, SensorReading } from '../../schemas/generated/types.ts';
import { ConfluentSchemaStore } from '../../streams/runtime/schema-store.ts';
import { AvroSerde } from '../../streams/runtime/serde.ts';
import { ensureTopics } from '../../streams/runtime/topics-admin.ts';
import { quietLog } from '../integration/helpers.ts';
import { readLake } from '../integration/lake-helpers.ts';
import { BILLING_EVENTS } from './fuzz-table.ts';
import { committedOffsets, coordinateKey, currentEnds, endOffsets, produceTracked, readToEnd, waitForCommits, type Coordinates } from './kafka-io.ts';
import { anyStopped, failureModel, liveness, startScorer, startSink, startValidation, stopAll, type Endpoints, type Watched } from './pipeline.ts';
import { armReadings, checkPredictions, readPredictions } from './predictions.ts';

/** Writes a value in the Confluent wire format with some writer schema: the topic's, or a newer variant. */
export type Encode = (topic: string, value: unknown) => Buffer;

/**
 * The topic's schema plus one optional field: a newer writer version that readers on the old one
 * resolve, registered under `subject`. `encode` writes a value with it (the field set) in the wire format.
 */
export async function newerWriter(registryUrl: string, schemaFile: string, subject: string): Promise<{ id: number; type: avro.Type; encode(value: unknown): Buffer }> {
  const base = loadSchema(schemaFile) as { fields: object[] };
  const schema = { ...base, fields: [...base.fields, { name: 'fault_suite_note', type: ['null', 'string'], default: null }] };
  const id = await new ConfluentSchemaStore(registryUrl).register(subject, schema);
  const type = avro.Type.forSchema(schema as avro.Schema);
  const encode = (value: unknown) => {
    const header = Buffer.alloc(5);
    header.writeInt32BE(id, 1);
    return Buffer.concat([header, type.toBuffer({ ...(value as object), fault_suite_note: 'written while the registry was down' })]);
  };
  return { id, type, encode };
}

export interface LoadSize {
  arms: number;
  minutes: number;
  /** Billing events for the sink that runs through the fault; a fifth as many for the one started after it. */
  billingEvents: number;
}

export class PipelineLoad {
  readonly readings: SensorReading[];
  readonly billing: BillingEvent[];
  readonly lateBilling: BillingEvent[];
  readonly serde: AvroSerde;
  private readonly topicA: TopicSpec;
  private readonly topicB: TopicSpec;
  private readonly lakeDir = mkdtempSync(join(tmpdir(), 'ss-faults-lake-'));
  private readonly sent = { raw: [] as Coordinates[], a: [] as Coordinates[], b: [] as Coordinates[] };
  private from = new Map<string, Map<number, number>>();
  readonly processors: Watched[] = [];
  private lateScorer = false;
  private lateSink: Watched | undefined;
  private readonly kafka: Kafka;
  private readonly endpoints: Endpoints;
  private readonly run: string;

  constructor(kafka: Kafka, endpoints: Endpoints, run: string, size: LoadSize) {
    this.kafka = kafka;
    this.endpoints = endpoints;
    this.run = run;
    this.readings = armReadings(run, size.arms, size.minutes, Date.now() - (size.minutes + 5) * 60_000);
    const now = Date.now();
    this.billing = Array.from({ length: size.billingEvents }, (_, n) => BILLING_EVENTS.good(run, n, now));
    this.lateBilling = Array.from({ length: Math.ceil(size.billingEvents / 5) }, (_, n) => BILLING_EVENTS.good(`${run}b`, n, now));
    this.topicA = { ...TOPICS.billingEvents, name: `faults.billing-events.${run}` };
    this.topicB = { ...TOPICS.billingEvents, name: `faults.billing-events.${run}.late` };
    this.serde = new AvroSerde(new ConfluentSchemaStore(endpoints.schemaRegistryUrl));
  }

  /**
   * Topics, schemas, the sink-B records (waiting for a sink that starts later), then the processors;
   * with `lateScorer` the scorer waits for startLate() too (it reads what sensor-validation wrote meanwhile).
   */
  async start(options: { lateScorer?: boolean } = {}): Promise<void> {
    this.lateScorer = options.lateScorer ?? false;
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      await ensureTopics(admin, [TOPICS.sensorReadings, TOPICS.sensorReadingsValidated, TOPICS.maintenancePredictions, this.topicA, this.topicB, dlqSpec(this.topicA), dlqSpec(this.topicB)], quietLog);
    } finally {
      await admin.disconnect();
    }
    for (const t of [TOPICS.sensorReadings, this.topicA, this.topicB]) await this.serde.useTopic(t.name, loadSchema(t.schema));
    this.serde.useReader(TOPICS.sensorReadingsValidated.name, loadSchema(TOPICS.sensorReadingsValidated.schema));
    this.sent.b = await produceTracked(this.kafka, this.topicB.name, this.topicB.partitions, this.lateBilling.map((e) => ({ key: e.user_id, value: this.serde.encode(this.topicB.name, e) })));
    this.from = await currentEnds(this.kafka, [TOPICS.sensorReadingsValidated.name, TOPICS.maintenancePredictions.name]);
    // Small batches: more transactions in flight when the fault hits, and more predictions to check.
    this.processors.push(await startValidation(this.endpoints, { maxBatchRecords: 200 }));
    if (!this.lateScorer) this.processors.push(await this.startScorer());
    this.processors.push(await startSink(this.endpoints, this.topicA, join(this.lakeDir, 'a'), `parquet-sink.${this.run}`));
  }

  private startScorer(): Promise<Watched> {
    return startScorer(this.endpoints, { maxBatchRecords: 100 });
  }

  /** Sends readings and billing events in [from, to) (fractions of each), written by `encode`. */
  async send(from: number, to: number, encode: Encode = (t, v) => this.serde.encode(t, v)): Promise<void> {
    const slice = <T>(all: T[]) => all.slice(Math.floor(from * all.length), Math.floor(to * all.length));
    const raw = TOPICS.sensorReadings;
    this.sent.raw.push(...(await produceTracked(this.kafka, raw.name, raw.partitions, slice(this.readings).map((r) => ({ key: r.arm_id, value: encode(raw.name, r) })))));
    this.sent.a.push(...(await produceTracked(this.kafka, this.topicA.name, this.topicA.partitions, slice(this.billing).map((e) => ({ key: e.user_id, value: encode(this.topicA.name, e) })))));
  }

  /** How far sensor-validation and the first sink have committed, e.g. "sensor-validation 1200/2600": shows a fault hit mid-stream. */
  async progress(): Promise<string> {
    const parts: string[] = [];
    for (const [group, topic, sent] of [['sensor-validation', TOPICS.sensorReadings.name, this.sent.raw], [`parquet-sink.${this.run}`, this.topicA.name, this.sent.a]] as const) {
      const committed = await committedOffsets(this.kafka, group, topic);
      const done = sent.filter((c) => (committed.get(c.partition) ?? -1) > c.offset).length;
      parts.push(`${group} ${done}/${sent.length}`);
    }
    return parts.join(', ');
  }

  /**
   * Processors started after the fault, right as the service is back (its group coordinator may
   * still be loading): a second lake sink, and the scorer if start() left it for now.
   */
  async startLate(): Promise<void> {
    if (this.lateScorer) this.processors.push(await this.startScorer());
    this.lateSink = await startSink(this.endpoints, this.topicB, join(this.lakeDir, 'b'), `parquet-sink.${this.run}.late`);
    this.processors.push(this.lateSink);
  }

  /** Waits for every processor, then counts; returns what is wrong (empty when all is exact). */
  async verify(timeoutMs: number): Promise<{ problems: string[]; counts: string }> {
    const giveUp = anyStopped(this.processors);
    const waits: [string, string, Coordinates[]][] = [['sensor-validation', TOPICS.sensorReadings.name, this.sent.raw], [`parquet-sink.${this.run}`, this.topicA.name, this.sent.a]];
    if (this.lateSink) waits.push([`parquet-sink.${this.run}.late`, this.topicB.name, this.sent.b]);
    const problems: string[] = [];
    await Promise.all(waits.map(([group, topic, sent]) => waitForCommits(this.kafka, group, topic, endOffsets(sent, topic), timeoutMs, giveUp).catch((e: Error) => void problems.push(e.message))));

    const out = TOPICS.sensorReadingsValidated.name;
    const validated = await readToEnd(this.kafka, [out], (r) => !!r.value?.includes(Buffer.from(this.run)), { from: this.from, timeoutMs: 60_000 });
    const markers = await Promise.all(validated.map(async (r) => {
      const v = (await this.serde.decode(out, r.value)) as SensorReading;
      return `${v.arm_id}/${v.sequence}`;
    }));
    problems.push(...exactlyOnce('validated readings', this.readings.map((r) => `${r.arm_id}/${r.sequence}`), markers));

    const scorerDone = waitForCommits(this.kafka, 'maintenance-scorer', out, endOffsets(validated, out), timeoutMs, giveUp);
    await scorerDone.catch((e: Error) => void problems.push(e.message));
    const predictions = await readPredictions(this.kafka, this.serde, this.run, this.from);
    const check = await checkPredictions(await failureModel(), this.readings, predictions);
    problems.push(...check.problems.map((p) => `prediction: ${p}`));

    const lake = (dir: string, topic: TopicSpec) => readLake(join(this.lakeDir, dir, 'telecom', 'billing_events')).map((r) => coordinateKey({ topic: topic.name, partition: Number(r.row.kafka_partition), offset: Number(r.row.kafka_offset) }));
    problems.push(...exactlyOnce(`lake rows of ${this.topicA.name}`, this.sent.a.map(coordinateKey), lake('a', this.topicA)));
    if (this.lateSink) problems.push(...exactlyOnce(`lake rows of ${this.topicB.name}`, this.sent.b.map(coordinateKey), lake('b', this.topicB)));
    problems.push(...liveness(this.processors, Number.POSITIVE_INFINITY));
    const crashes = this.processors.map((p) => `${p.name} ${p.crashes()}`).join(', ');
    return { problems, counts: `${this.sent.raw.length} readings -> ${validated.length} validated, ${predictions.length} predictions (${check.checked} checked); ${this.sent.a.length} + ${this.sent.b.length} billing events; consumer crashes: ${crashes}` };
  }

  /** Stops the processors, removes the lake and this run's throwaway billing topics. */
  async stop(): Promise<void> {
    await stopAll(this.processors);
    rmSync(this.lakeDir, { recursive: true, force: true });
    const admin = this.kafka.admin();
    await admin.connect().catch(() => undefined);
    // Best effort: a throwaway topic left behind harms nothing (the lake tests leave theirs).
    await admin.deleteTopics({ topics: [this.topicA, this.topicB].flatMap((t) => [t.name, dlqSpec(t).name]) }).catch(() => undefined);
    await admin.disconnect().catch(() => undefined);
  }
}

/** Each of `expected` seen exactly once in `seen`, and nothing else. */
export function exactlyOnce(what: string, expected: string[], seen: string[]): string[] {
  const counts = new Map<string, number>();
  for (const s of seen) counts.set(s, (counts.get(s) ?? 0) + 1);
  const missing = expected.filter((e) => !counts.has(e));
  const twice = [...counts].filter(([, n]) => n > 1).map(([k, n]) => `${k} x${n}`);
  const wanted = new Set(expected);
  const extra = [...counts.keys()].filter((k) => !wanted.has(k));
  const out: string[] = [];
  if (missing.length) out.push(`${what}: ${missing.length} of ${expected.length} missing (${missing.slice(0, 5).join(', ')})`);
  if (twice.length) out.push(`${what}: ${twice.length} duplicated (${twice.slice(0, 5).join(', ')})`);
  if (extra.length) out.push(`${what}: ${extra.length} not sent (${extra.slice(0, 5).join(', ')})`);
  return out;
}
