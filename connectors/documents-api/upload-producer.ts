// Writes DocumentUpload records to docs.uploads.v1: Avro in the Confluent wire format (schema
// registered once at start), keyed by document_id, with one idempotent producer (acks=all) so an
// acknowledged upload is on every in-sync replica before the API answers 202. No compression: PDFs
// and images are compressed already, and the claim check keeps records small anyway.
import { CompressionTypes, type Producer } from 'kafkajs';
import type { DocumentUpload } from '../../schemas/generated/types.ts';
import { TOPICS, loadSchema } from '../../schemas/topics.ts';
import { createKafka } from '../../streams/runtime/kafka-client.ts';
import type { Logger } from '../../streams/runtime/logger.ts';
import type { SchemaStore } from '../../streams/runtime/schema-store.ts';
import { AvroSerde } from '../../streams/runtime/serde.ts';

export interface UploadSink {
  send(upload: DocumentUpload): Promise<void>;
  /** True while the last send succeeded (or none failed yet since connecting). */
  healthy(): boolean;
  close(): Promise<void>;
}

export class KafkaUploadSink implements UploadSink {
  private readonly serde: AvroSerde;
  private readonly producer: Producer;
  private readonly topic = TOPICS.documentUploads.name;
  private ok = false;

  private constructor(serde: AvroSerde, producer: Producer) {
    this.serde = serde;
    this.producer = producer;
  }

  static async start(o: { brokers: string[]; schemaStore: SchemaStore; log: Logger; clientId?: string }): Promise<KafkaUploadSink> {
    const serde = new AvroSerde(o.schemaStore);
    await serde.useTopic(TOPICS.documentUploads.name, loadSchema(TOPICS.documentUploads.schema));
    const kafka = createKafka(o.clientId ?? 'documents-api', o.brokers, o.log, { boundedIdempotentRetries: true });
    // A few quick retries inside kafkajs; past them the client gets a 503 and uploads again.
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false, retry: { retries: 3, initialRetryTime: 200, maxRetryTime: 2_000 } });
    await producer.connect();
    const sink = new KafkaUploadSink(serde, producer);
    sink.ok = true;
    return sink;
  }

  async send(upload: DocumentUpload): Promise<void> {
    const value = this.serde.encode(this.topic, upload);
    try {
      await this.producer.send({ topic: this.topic, acks: -1, compression: CompressionTypes.None, messages: [{ key: upload.document_id, value, timestamp: String(upload.uploaded_at) }] });
      this.ok = true;
    } catch (err) {
      this.ok = false;
      throw err;
    }
  }

  healthy(): boolean {
    return this.ok;
  }

  async close(): Promise<void> {
    await this.producer.disconnect().catch(() => {});
  }
}
