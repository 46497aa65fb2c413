// The gateway's Kafka side: one idempotent producer (acks=all, one request in flight, so the broker
// de-duplicates a batch resent after a lost acknowledgement), GZIP or no compression, and a short
// retry budget so an unreachable broker surfaces as an error within about a second and readings go
// to the spool instead of waiting in memory. Connects lazily: a gateway starts while the broker is down.
import { CompressionTypes, type Producer } from 'kafkajs';
import { createKafka } from '../../streams/runtime/kafka-client.ts';
import type { Logger } from '../../streams/runtime/logger.ts';
import type { RecordSink } from './forwarder.ts';
import type { SpoolRecord } from './spool.ts';

export type Compression = 'gzip' | 'none';

export interface KafkaSinkOptions {
  brokers: string[];
  topic: string;
  clientId: string;
  compression: Compression;
  log: Logger;
  /** Retries kafkajs makes inside one send before it fails (and the gateway spools). */
  retries?: number;
}

/** Errors after which the producer id is useless (the broker lost or rejected its state): start a new one. */
const RESET_PRODUCER = new Set(['OUT_OF_ORDER_SEQUENCE_NUMBER', 'UNKNOWN_PRODUCER_ID', 'INVALID_PRODUCER_EPOCH', 'INVALID_PRODUCER_ID_MAPPING']);

export class KafkaSink implements RecordSink {
  private readonly o: KafkaSinkOptions;
  private readonly kafka;
  private producer: Producer;
  private connected = false;

  constructor(o: KafkaSinkOptions) {
    this.o = o;
    // The retry budget is limited on purpose; the forwarder keeps exactly-once by resending a failed
    // batch unchanged (docs/gateway.md).
    this.kafka = createKafka(o.clientId, o.brokers, o.log, { boundedIdempotentRetries: true });
    this.producer = this.newProducer();
  }

  private newProducer(): Producer {
    return this.kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      retry: { retries: this.o.retries ?? 2, initialRetryTime: 100, maxRetryTime: 1000 },
    });
  }

  async send(records: SpoolRecord[]): Promise<void> {
    if (!this.connected) {
      await this.producer.connect();
      this.connected = true;
    }
    try {
      await this.producer.sendBatch({
        acks: -1,
        compression: this.o.compression === 'gzip' ? CompressionTypes.GZIP : CompressionTypes.None,
        topicMessages: [{ topic: this.o.topic, messages: records.map((r) => ({ key: r.key, value: r.value, timestamp: String(r.timestamp) })) }],
      });
    } catch (err) {
      const type = (err as { type?: string; cause?: { type?: string } }).type ?? (err as { cause?: { type?: string } }).cause?.type;
      if (type && RESET_PRODUCER.has(type)) {
        // Only at-least-once for the batch in hand from here: a new producer id cannot be de-duplicated against the old one.
        this.o.log.warn({ type }, 'broker rejected the producer state; starting a new idempotent producer');
        await this.producer.disconnect().catch(() => {});
        this.producer = this.newProducer();
        this.connected = false;
      }
      throw err;
    }
  }

  async close(): Promise<void> {
    if (this.connected) await this.producer.disconnect().catch(() => {});
    this.connected = false;
  }
}
