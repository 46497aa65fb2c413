// Shared pieces of the load tests: a fixed-rate reading generator, latency recording, percentiles;
// and what the end-to-end benchmarks (factoryguard-e2e.ts, vision-e2e.ts) share: the raw-client
// passthrough baseline, starting and stopping the processes under test, skipping a group's
// backlog, a measuring consumer, the runtime's /metrics, and the results file.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { resolve as resolvePath } from 'node:path';
import { createInterface } from 'node:readline';
import type { Admin, Consumer, ConsumerConfig, Kafka, KafkaMessage, Producer } from 'kafkajs';
import { TOPICS } from '../schemas/topics.ts';
import type { SensorReading } from '../schemas/generated/types.ts';
import { brokerList, createKafka } from '../streams/runtime/kafka-client.ts';
import { createLogger } from '../streams/runtime/logger.ts';
import type { AvroSerde } from '../streams/runtime/serde.ts';

/** The repository root: processes under test run there, and --out paths are relative to it. */
const root = new URL('..', import.meta.url).pathname;

/** The line a process under test prints once its consumer is in its group: start() waits for it. */
const JOINED_LINE = 'joined consumer group';

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

export class LatencyRecorder {
  private values: number[] = [];
  add(ms: number): void {
    this.values.push(ms);
  }
  reset(): void {
    this.values = [];
  }
  summary(): { count: number; p50: number; p99: number; max: number } {
    const s = [...this.values].sort((a, b) => a - b);
    return { count: s.length, p50: percentile(s, 50), p99: percentile(s, 99), max: s[s.length - 1] ?? Number.NaN };
  }
}

/**
 * Produces `rate` readings/s for `seconds`, in 10 ms ticks, arms round-robin; event_time is the
 * wall clock at send, so a consumer downstream measures produce -> output latency. Returns the
 * number sent (lower than asked if the producer cannot keep up: that is reported, not hidden).
 */
export async function produceAtRate(producer: Producer, serde: AvroSerde, options: { rate: number; seconds: number; arms: number; gatewayId: string }): Promise<number> {
  const tickMs = 10;
  const perTick = options.rate / (1000 / tickMs);
  const started = Date.now();
  const end = started + options.seconds * 1000;
  const sequence = new Array<number>(options.arms).fill(0);
  let sent = 0;
  let owed = 0;
  let arm = 0;
  const sensors = [['VIBRATION', 'mm/s', 2.8], ['TEMPERATURE', 'degC', 58], ['PRESSURE', 'bar', 6.2]] as const;
  const inFlight = new Set<Promise<unknown>>();
  while (Date.now() < end) {
    const tickStart = Date.now();
    owed += perTick;
    const n = Math.floor(owed);
    owed -= n;
    const messages = [];
    for (let i = 0; i < n; i++) {
      const [sensor, unit, base] = sensors[sent % 3];
      const a = arm++ % options.arms;
      const r: SensorReading = { arm_id: `arm-${String(a).padStart(3, '0')}`, sensor, value: base * (0.95 + 0.1 * Math.random()), unit, event_time: Date.now(), gateway_id: options.gatewayId, plant_id: 'plant-load', sequence: sequence[a]++, quality: 'GOOD', channel: null, settings: null };
      messages.push({ key: r.arm_id, value: serde.encode(TOPICS.sensorReadings.name, r) });
      sent++;
    }
    if (messages.length) {
      const p = producer.send({ topic: TOPICS.sensorReadings.name, messages, acks: -1 }).finally(() => inFlight.delete(p));
      inFlight.add(p);
      if (inFlight.size > 20) await Promise.race(inFlight);
    }
    const wait = tickMs - (Date.now() - tickStart);
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
  await Promise.all(inFlight);
  return sent;
}

/**
 * The baseline of an end-to-end benchmark: a raw kafkajs consume -> produce loop from `from` to
 * `to` with no work at all (no decode, no state, no model, no transactions), each record's
 * timestamp copied into a `source-ts` header. What a pipeline costs is read against this, measured
 * in the same run on the same machine. Runs until SIGTERM or SIGINT; the group id is the client id.
 */
export async function runPassthrough(o: { name: string; groupId: string; from: string; to: string; maxBytesPerPartition?: number }): Promise<void> {
  const log = createLogger({ processor: o.name }).child({}, { level: 'warn' });
  const kafka = createKafka(o.groupId, brokerList(process.env.KAFKA_BROKERS ?? '127.0.0.1:9092'), log);
  const producer = kafka.producer();
  const consumer = kafka.consumer({ groupId: o.groupId, ...(o.maxBytesPerPartition === undefined ? {} : { maxBytesPerPartition: o.maxBytesPerPartition }) });
  await producer.connect();
  await consumer.connect();
  await consumer.subscribe({ topic: o.from, fromBeginning: false });
  consumer.on(consumer.events.GROUP_JOIN, () => process.stdout.write(`${JOINED_LINE}\n`));
  await consumer.run({
    autoCommit: true,
    eachBatch: async ({ batch }) => {
      await producer.send({ topic: o.to, acks: -1, messages: batch.messages.map((m) => ({ key: m.key, value: m.value, headers: { 'source-ts': m.timestamp } })) });
    },
  });
  const stop = async () => {
    await consumer.disconnect();
    await producer.disconnect();
    process.exit(0);
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

/**
 * Starts `node <args>` in the repository with the stack's `env` (LOG_LEVEL info, then `extraEnv`),
 * resolved once it prints that it joined its consumer group; rejected if it exits first.
 */
export function startJoined(args: string[], env: NodeJS.ProcessEnv, extraEnv: Record<string, string> = {}): Promise<ChildProcess> {
  const child = spawn(process.execPath, args, { cwd: root, env: { ...process.env, ...env, LOG_LEVEL: 'info', ...extraEnv }, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (l) => l.includes(JOINED_LINE) && resolve(child));
    child.once('exit', (code) => reject(new Error(`${args.join(' ')} exited ${code}`)));
  });
}

/** SIGTERM, then wait for the exit. */
export async function stopProcess(child: ChildProcess): Promise<void> {
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

/** Group offsets to the end, so a phase does not start with the previous phase's backlog. */
export async function skipBacklog(admin: Admin, groupId: string, topic: string): Promise<void> {
  // Explicit offsets: kafkajs' resetOffsets(latest) commits -1, which a consumer subscribed
  // fromBeginning reads as "earliest".
  const ends = await admin.fetchTopicOffsets(topic);
  await admin.setOffsets({ groupId, topic, partitions: ends.map((p) => ({ partition: p.partition, offset: p.high })) });
}

/**
 * A consumer in a fresh group on `topic`, from its end, handing each record to `onRecord` in
 * order; resolved once it has joined, so what is produced after that is seen.
 */
export async function joinedConsumer(kafka: Kafka, topic: string, onRecord: (m: KafkaMessage) => Promise<void>, config: Partial<ConsumerConfig> = {}): Promise<Consumer> {
  const consumer = kafka.consumer({ groupId: `bench-${randomUUID()}`, readUncommitted: false, ...config });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: false });
  const joined = new Promise<void>((r) => consumer.on(consumer.events.GROUP_JOIN, () => r()));
  await consumer.run({ eachBatch: async ({ batch }) => { for (const m of batch.messages) await onRecord(m); } });
  await joined;
  return consumer;
}

/** The runtime's own counters on a processor's /metrics: records consumed, dead-lettered, lag left, batch duration p99 (from histogram buckets). */
export async function scrapeRuntimeMetrics(port: number): Promise<{ recordsIn: number; dlq: number; lag: number; batchP99Ms: number }> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const sum = (re: RegExp) => [...text.matchAll(re)].reduce((n, m) => n + Number(m[1]), 0);
  const buckets = [...text.matchAll(/streamscore_batch_duration_seconds_bucket\{[^}]*le="([^"]+)"[^}]*\} (\S+)/g)].map((m) => [m[1] === '+Inf' ? Number.POSITIVE_INFINITY : Number(m[1]), Number(m[2])] as const);
  const total = buckets.find(([le]) => le === Number.POSITIVE_INFINITY)?.[1] ?? 0;
  const p99 = buckets.find(([, c]) => c >= 0.99 * total)?.[0] ?? Number.NaN;
  return {
    recordsIn: sum(/^streamscore_records_in_total\{[^}]*\} (\S+)/gm),
    dlq: sum(/^streamscore_dlq_records_total\{[^}]*\} (\S+)/gm),
    lag: sum(/^streamscore_consumer_lag\{[^}]*\} (\S+)/gm),
    batchP99Ms: p99 * 1000,
  };
}

/** Writes a benchmark's results to `out` (absolute, or relative to the repository): the machine, date and command, then `fields`. */
export function writeResults(out: string, fields: Record<string, unknown>): void {
  mkdirSync(new URL('results/', import.meta.url), { recursive: true });
  writeFileSync(resolvePath(root, out), JSON.stringify({ machine: { cpus: cpus().length, model: cpus()[0]?.model, memGiB: Math.round(totalmem() / 2 ** 30) }, date: new Date().toISOString(), command: process.argv.slice(1).join(' '), ...fields }, null, 2));
}
