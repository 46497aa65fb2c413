// The plant simulator's maintenance system: its failures go to factory.failure-events.v1 as a plant's
// CMMS would record them, `delayMs` of event time after they happen (a technician files the work
// order after the repair, or the export runs nightly). The delay is what makes the labels delayed:
// maintenance-outcomes must wait for them (docs/models.md "Delayed labels"). Reports are released by
// the readings' event time as the simulation passes them, so a live simulation reports in real time
// and a fast replay reports as fast as it goes.
import type { Producer } from 'kafkajs';
import { TOPICS, loadSchema } from '../schemas/topics.ts';
import { createKafka } from '../streams/runtime/kafka-client.ts';
import type { Logger } from '../streams/runtime/logger.ts';
import { ConfluentSchemaStore } from '../streams/runtime/schema-store.ts';
import { AvroSerde } from '../streams/runtime/serde.ts';
import { ensureTopics } from '../streams/runtime/topics-admin.ts';
import type { FailureEvent } from '../schemas/generated/types.ts';
import type { SimEvent } from './plant-simulator.ts';

export const REPORT_SOURCE = 'plant-simulator';

/** The FailureEvent a plant reports at `reportedAt` for a simulated failure (repaired_at only once known). */
export function failureEventOf(e: SimEvent, plantId: string, reportedAt: number): FailureEvent {
  if (e.kind !== 'failure') throw new Error(`failureEventOf: a ${e.kind} event is not a failure`);
  return { arm_id: e.arm_id, plant_id: plantId, kind: 'FAILURE', failure_time: e.start, mode: e.detail || null, repaired_at: e.end <= reportedAt ? e.end : null, source: REPORT_SOURCE };
}

export interface FailureReporterOptions {
  plantId: string;
  /** Event time from a failure to its report (0: at once). */
  delayMs: number;
  /** Sends one batch of reports (a Kafka producer in the CLI, an array in tests). */
  send(events: FailureEvent[]): Promise<void>;
}

export class FailureReporter {
  private readonly o: FailureReporterOptions;
  /** Failures not yet reported, in the order they happened. */
  private readonly waiting: SimEvent[] = [];
  reported = 0;

  constructor(o: FailureReporterOptions) {
    if (!(Number.isFinite(o.delayMs) && o.delayMs >= 0)) throw new Error(`failure report delay must be a duration >= 0, got ${o.delayMs}`);
    this.o = o;
  }

  /** The simulator's onEvent: keeps failures, ignores the rest (disturbances, onsets, repairs). */
  readonly onEvent = (e: SimEvent): void => {
    if (e.kind === 'failure') this.waiting.push(e);
  };

  /** Reports every failure whose report is due by event time `now`. */
  async release(now: number): Promise<void> {
    const due: FailureEvent[] = [];
    while (this.waiting.length && this.waiting[0].start + this.o.delayMs <= now) {
      const e = this.waiting.shift()!;
      due.push(failureEventOf(e, this.o.plantId, e.start + this.o.delayMs));
    }
    if (!due.length) return;
    await this.o.send(due);
    this.reported += due.length;
  }

  get pending(): number {
    return this.waiting.length;
  }
}

/** A FailureReporter's `send` on a Kafka producer: keyed by arm, encoded with the topic's schema. */
export function producerSend(producer: Producer, encode: (topic: string, value: unknown) => Buffer): (events: FailureEvent[]) => Promise<void> {
  return async (events) => {
    await producer.send({ topic: TOPICS.failureEvents.name, messages: events.map((e) => ({ key: e.arm_id, value: encode(TOPICS.failureEvents.name, e) })) });
  };
}

/** A FailureReporter on its own producer (the topic is created if missing); `close` reports nothing more. */
export async function startFailureReporting(o: { brokers: string[]; schemaRegistryUrl: string; plantId: string; delayMs: number; log: Logger }): Promise<{ reporter: FailureReporter; close: () => Promise<void> }> {
  const kafka = createKafka('streamscore-failure-reports', o.brokers, o.log);
  const admin = kafka.admin();
  await admin.connect();
  try {
    await ensureTopics(admin, [TOPICS.failureEvents], o.log);
  } finally {
    await admin.disconnect();
  }
  const serde = new AvroSerde(new ConfluentSchemaStore(o.schemaRegistryUrl));
  await serde.useTopic(TOPICS.failureEvents.name, loadSchema(TOPICS.failureEvents.schema));
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const reporter = new FailureReporter({ plantId: o.plantId, delayMs: o.delayMs, send: producerSend(producer, (t, v) => serde.encode(t, v)) });
  return { reporter, close: () => producer.disconnect() };
}
