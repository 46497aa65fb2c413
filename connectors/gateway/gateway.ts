// A factory gateway: takes readings from a source, validates them (the same rules as the
// sensor-validation processor), numbers them per arm when the source does not, encodes them as Avro
// (Confluent wire format, schema registered once) and hands them to the store-and-forward
// forwarder, keyed by arm_id. Invalid readings are not sent: counted, logged and appended to a
// rejects file (JSON lines with the reason).
import { createWriteStream, existsSync, mkdirSync, readFileSync, writeFileSync, type WriteStream } from 'node:fs';
import { dirname, join } from 'node:path';
import { TOPICS, loadSchema, subjectFor } from '../../schemas/topics.ts';
import type { SensorReading } from '../../schemas/generated/types.ts';
import type { Logger } from '../../streams/runtime/logger.ts';
import { startHealthServer, type HealthServer } from '../../streams/runtime/health-server.ts';
import { ConfluentSchemaStore, type SchemaStore } from '../../streams/runtime/schema-store.ts';
import { AvroSerde } from '../../streams/runtime/serde.ts';
import { validateReading } from '../../schemas/factory/sensor-reading-rules.ts';
import { defaultPlantRegistry } from '../../schemas/factory/plant-registry.ts';
import { Forwarder, type RecordSink } from './forwarder.ts';
import { KafkaSink, type Compression } from './kafka-sink.ts';
import { createGatewayMetrics, counterTotal, type GatewayMetrics } from './metrics.ts';
import type { SourceItem, SourceReading } from './sources.ts';
import { Spool, type FsyncPolicy, type FullPolicy } from './spool.ts';

export interface GatewayOptions {
  gatewayId: string;
  plantId: string;
  brokers: string[];
  schemaRegistryUrl: string;
  topic?: string;
  /** Spool, rejects file and the cached schema id live here. */
  stateDir: string;
  rejectsPath?: string;
  spool?: { maxBytes?: number; segmentBytes?: number; policy?: FullPolicy; fsync?: FsyncPolicy };
  batchMax?: number;
  lingerMs?: number;
  compression?: Compression;
  /** Shift event times by this much (e.g. to replay old data as if it were happening now). */
  eventTimeShiftMs?: number;
  metricsPort?: number;
  log: Logger;
  /** Replaces the Kafka producer (tests). */
  sink?: RecordSink;
  /** Replaces the schema registry (tests: MemorySchemaStore). */
  schemaStore?: SchemaStore;
}

export interface GatewaySummary {
  read: number;
  sent: number;
  sentFromSpool: number;
  spooled: number;
  rejected: number;
  dropped: number;
  spoolPending: number;
}

const REJECT_LOG_LIMIT = 20;

export class Gateway {
  readonly metrics: GatewayMetrics;
  readonly spool: Spool;
  readonly forwarder: Forwarder;
  private readonly o: GatewayOptions;
  private readonly topic: string;
  private readonly serde: AvroSerde;
  private readonly sink: RecordSink;
  private readonly rejects: WriteStream;
  private readonly nextSequence = new Map<string, number>();
  /** Plant profiles: the channels, units and ranges a plant's readings are checked against before they are sent. */
  private readonly plants = defaultPlantRegistry();
  private rejectsLogged = 0;
  private http: HealthServer | null = null;
  readonly rejectsPath: string;

  private constructor(o: GatewayOptions, serde: AvroSerde) {
    this.o = o;
    this.topic = o.topic ?? TOPICS.sensorReadings.name;
    this.serde = serde;
    this.spool = new Spool({ dir: join(o.stateDir, 'spool'), ...o.spool, log: o.log });
    this.metrics = createGatewayMetrics(this.spool);
    this.sink = o.sink ?? new KafkaSink({ brokers: o.brokers, topic: this.topic, clientId: `gateway-${o.gatewayId}`, compression: o.compression ?? 'gzip', log: o.log });
    const m = this.metrics;
    this.forwarder = new Forwarder({
      sink: this.sink,
      spool: this.spool,
      batchMax: o.batchMax,
      lingerMs: o.lingerMs,
      log: o.log,
      hooks: {
        sent: (n, path) => m.sent.inc({ path }, n),
        spooled: (n) => m.spooled.inc(n),
        sendFailed: () => m.sendFailures.inc(),
        modeChanged: (mode) => m.brokerUp.set(mode === 'direct' ? 1 : 0),
      },
    });
    m.brokerUp.set(this.forwarder.mode === 'direct' ? 1 : 0);
    this.rejectsPath = o.rejectsPath ?? join(o.stateDir, 'rejects.jsonl');
    mkdirSync(dirname(this.rejectsPath), { recursive: true });
    this.rejects = createWriteStream(this.rejectsPath, { flags: 'a' });
  }

  /** Registers the reading schema (or uses the id cached from an earlier run when the registry is down), opens the spool. */
  static async start(o: GatewayOptions): Promise<Gateway> {
    mkdirSync(o.stateDir, { recursive: true });
    const topic = o.topic ?? TOPICS.sensorReadings.name;
    const serde = await registerSchema(o, topic);
    const g = new Gateway(o, serde);
    if (o.metricsPort !== undefined) {
      g.http = await startHealthServer({ port: o.metricsPort, registry: g.metrics.registry, isReady: () => g.forwarder.mode === 'direct' });
      o.log.info({ port: g.http.port }, 'gateway metrics on /metrics, /healthz, /readyz');
    }
    return g;
  }

  get httpPort(): number | null {
    return this.http?.port ?? null;
  }

  /** Validates, encodes and forwards one item; resolves when the next may come (backpressure). */
  publish(item: SourceItem): Promise<void> | undefined {
    if (item.kind === 'reject') {
      this.reject('parse', item.reason, { line: item.line, raw: item.raw });
      return undefined;
    }
    this.metrics.readingsIn.inc();
    const reading = this.complete(item.reading);
    const now = Date.now();
    const problem = validateReading(reading, now, this.plants.rulesFor(reading.plant_id));
    if (problem) {
      this.reject('validation', problem, { line: item.line, reading });
      return undefined;
    }
    let value: Buffer;
    try {
      value = this.serde.encode(this.topic, reading);
    } catch (err) {
      this.reject('validation', (err as Error).message, { line: item.line, reading });
      return undefined;
    }
    return this.forwarder.write({ key: reading.arm_id, value, timestamp: now });
  }

  /** Publishes every item of a source; stops early when `signal` aborts, also while the source waits for input. */
  async run(source: AsyncIterable<SourceItem> | Iterable<SourceItem>, signal?: AbortSignal): Promise<void> {
    if (!signal) {
      for await (const item of source) {
        const wait = this.publish(item);
        if (wait) await wait;
      }
      return;
    }
    const it = Symbol.asyncIterator in source ? source[Symbol.asyncIterator]() : source[Symbol.iterator]();
    const aborted = new Promise<'aborted'>((resolve) => signal.addEventListener('abort', () => resolve('aborted'), { once: true }));
    while (!signal.aborted) {
      const next = await Promise.race([it.next(), aborted]);
      if (next === 'aborted' || next.done) return;
      const wait = this.publish(next.value);
      if (wait) await wait;
    }
  }

  /** Resolves once every reading published so far is acknowledged by the broker (the spool is empty). */
  drained(): Promise<void> {
    return this.forwarder.drained();
  }

  async summary(): Promise<GatewaySummary> {
    const m = this.metrics;
    const sent = (await m.sent.get()).values;
    return {
      read: await counterTotal(m.readingsIn),
      sent: sent.reduce((n, v) => n + v.value, 0),
      sentFromSpool: sent.filter((v) => v.labels.path === 'spool').reduce((n, v) => n + v.value, 0),
      spooled: await counterTotal(m.spooled),
      rejected: await counterTotal(m.rejected),
      dropped: this.spool.stats.dropped + this.spool.stats.corrupt,
      spoolPending: this.spool.pending,
    };
  }

  /** Buffered readings go to the spool (sent first at the next start); everything is closed. */
  async close(): Promise<void> {
    await this.forwarder.close();
    this.spool.close();
    if (this.sink instanceof KafkaSink) await this.sink.close();
    await new Promise<void>((resolve) => this.rejects.end(resolve));
    await this.http?.close();
  }

  private complete(r: SourceReading): SensorReading {
    let sequence = r.sequence;
    if (sequence === null) {
      sequence = this.nextSequence.get(r.arm_id) ?? 0;
      this.nextSequence.set(r.arm_id, sequence + 1);
    }
    return {
      arm_id: r.arm_id,
      sensor: r.sensor,
      value: r.value,
      unit: r.unit,
      event_time: r.event_time + (this.o.eventTimeShiftMs ?? 0),
      gateway_id: r.gateway_id ?? this.o.gatewayId,
      plant_id: r.plant_id ?? this.o.plantId,
      sequence,
      quality: r.quality,
      channel: r.channel,
      settings: r.settings,
    };
  }

  private reject(stage: 'parse' | 'validation', reason: string, detail: { line: number; raw?: string; reading?: SensorReading }): void {
    this.metrics.rejected.inc({ stage });
    this.rejects.write(`${JSON.stringify({ at: new Date().toISOString(), stage, reason, ...detail })}\n`);
    this.rejectsLogged++;
    if (this.rejectsLogged <= REJECT_LOG_LIMIT) this.o.log.warn({ stage, reason, line: detail.line, arm_id: detail.reading?.arm_id }, 'reading rejected, not sent');
    else if (this.rejectsLogged % 1000 === 0) this.o.log.warn({ rejected: this.rejectsLogged, rejectsFile: this.rejectsPath }, 'readings rejected so far (only the first are logged one by one)');
  }
}

/** Registers the value schema; if the registry is unreachable, reuses the id this gateway cached for the same registry and schema. */
async function registerSchema(o: GatewayOptions, topic: string): Promise<AvroSerde> {
  const schema = loadSchema(TOPICS.sensorReadings.schema);
  const cachePath = join(o.stateDir, 'schema-id.json');
  const key = { registry: o.schemaRegistryUrl, subject: subjectFor(topic), schema: JSON.stringify(schema) };
  try {
    const serde = new AvroSerde(o.schemaStore ?? new ConfluentSchemaStore(o.schemaRegistryUrl));
    const id = await serde.useTopic(topic, schema);
    writeFileSync(cachePath, `${JSON.stringify({ ...key, id })}\n`);
    return serde;
  } catch (err) {
    const cached = existsSync(cachePath) ? (JSON.parse(readFileSync(cachePath, 'utf8')) as typeof key & { id: number }) : null;
    if (!cached || cached.registry !== key.registry || cached.subject !== key.subject || cached.schema !== key.schema) throw err;
    o.log.warn({ err: (err as Error).message, schemaId: cached.id }, 'schema registry unreachable; using the schema id cached by an earlier run');
    const serde = new AvroSerde({ register: async () => cached.id, writerType: async () => { throw err; }, latestId: async () => cached.id, schemaJson: async () => schema });
    await serde.useTopic(topic, schema);
    return serde;
  }
}
