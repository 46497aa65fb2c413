// The cameras' Kafka side: CameraFrames encoded as Avro (Confluent wire format, schema registered
// once) and sent to vision.frames.v1 keyed by camera_id by one idempotent producer (acks=all).
// Frames wait in a queue bounded by bytes; one send at a time takes everything queued, so at low
// rates a frame goes out alone at once and at high rates frames share a request.
// A camera has no store-and-forward (unlike the gateway): a frame that cannot be queued or sent is
// dropped and counted, because an inspection minutes late is worth nothing on a moving line.
import type { Producer } from 'kafkajs';
import { TOPICS, loadSchema } from '../../schemas/topics.ts';
import type { CameraFrame } from '../../schemas/generated/types.ts';
import { createKafka } from '../../streams/runtime/kafka-client.ts';
import type { Logger } from '../../streams/runtime/logger.ts';
import { ConfluentSchemaStore } from '../../streams/runtime/schema-store.ts';
import { AvroSerde } from '../../streams/runtime/serde.ts';

export interface FrameSenderOptions {
  brokers: string[];
  schemaRegistryUrl: string;
  clientId: string;
  log: Logger;
  /** Bytes of encoded frames that may wait for the broker (default 32 MiB). */
  maxQueuedBytes?: number;
  /** Most bytes in one request (default 4 MiB). */
  maxBatchBytes?: number;
  /** Called when frames are acknowledged, or dropped after a failed send. */
  onSent?: (frames: QueuedFrame[], ms: number) => void;
  onSendFailed?: (frames: QueuedFrame[], err: Error) => void;
}

export interface QueuedFrame {
  frame: CameraFrame;
  value: Buffer;
  headers: Record<string, string>;
}

export class FrameSender {
  readonly topic = TOPICS.cameraFrames.name;
  private readonly o: FrameSenderOptions;
  private readonly serde: AvroSerde;
  private readonly producer: Producer;
  private readonly queue: QueuedFrame[] = [];
  private queuedBytes = 0;
  private sending: Promise<void> | null = null;
  private lastSendOk = false;

  private constructor(o: FrameSenderOptions, serde: AvroSerde, producer: Producer) {
    this.o = o;
    this.serde = serde;
    this.producer = producer;
  }

  static async start(o: FrameSenderOptions): Promise<FrameSender> {
    const serde = new AvroSerde(new ConfluentSchemaStore(o.schemaRegistryUrl));
    await serde.useTopic(TOPICS.cameraFrames.name, loadSchema(TOPICS.cameraFrames.schema));
    const kafka = createKafka(o.clientId, o.brokers, o.log, { boundedIdempotentRetries: true });
    // A few retries only: a frame still unsent after about a second is stale anyway.
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false, retry: { retries: 3, initialRetryTime: 100, maxRetryTime: 1_000 } });
    await producer.connect();
    const sender = new FrameSender(o, serde, producer);
    sender.lastSendOk = true;
    return sender;
  }

  /** Largest encoded image a frame may carry: the topic's limit less room for the other fields. */
  static maxImageBytes(): number {
    return TOPICS.cameraFrames.maxMessageBytes - 64 * 1024;
  }

  get pendingBytes(): number {
    return this.queuedBytes;
  }

  get pendingFrames(): number {
    return this.queue.length;
  }

  /** True while the broker takes frames (the last send succeeded). */
  get healthy(): boolean {
    return this.lastSendOk;
  }

  /** Queues a frame; false (and nothing queued) when the queue is full. Throws on a frame the schema refuses. */
  offer(frame: CameraFrame, headers: Record<string, string> = {}): boolean {
    const value = this.serde.encode(this.topic, frame);
    if (this.queuedBytes + value.length > (this.o.maxQueuedBytes ?? 32 * 1024 * 1024)) return false;
    this.queue.push({ frame, value, headers });
    this.queuedBytes += value.length;
    this.sending ??= this.sendLoop().finally(() => (this.sending = null));
    return true;
  }

  /** Resolves when everything queued so far has been sent (or dropped after a failure). */
  async flushed(): Promise<void> {
    while (this.sending) await this.sending;
  }

  async close(): Promise<void> {
    await this.flushed();
    await this.producer.disconnect().catch(() => {});
  }

  private async sendLoop(): Promise<void> {
    const maxBatch = this.o.maxBatchBytes ?? 4 * 1024 * 1024;
    while (this.queue.length > 0) {
      let bytes = 0;
      let n = 0;
      while (n < this.queue.length && (n === 0 || bytes + this.queue[n].value.length <= maxBatch)) bytes += this.queue[n++].value.length;
      const batch = this.queue.splice(0, n);
      this.queuedBytes -= bytes;
      const started = performance.now();
      try {
        await this.producer.send({
          topic: this.topic,
          acks: -1,
          messages: batch.map((q) => ({ key: q.frame.camera_id, value: q.value, timestamp: String(q.frame.captured_at), headers: q.headers })),
        });
        this.lastSendOk = true;
        this.o.onSent?.(batch, performance.now() - started);
      } catch (err) {
        this.lastSendOk = false;
        this.o.onSendFailed?.(batch, err as Error);
      }
    }
  }
}
