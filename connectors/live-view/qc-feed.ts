// The live view's Kafka side: one consumer reads vision.qc-results.v1 (and, unless turned off,
// vision.frames.v1, to show the frame of a result that carries no heatmap) from the LATEST offsets,
// read_committed.
// The group id is unique per live-view process and offsets are never committed: every screen must
// see every result (a shared group would split the partitions between screens), and a view that
// restarts wants what happens now, not the backlog since it stopped.
// A record that does not decode is counted and skipped: a viewer has no dead-letter duty (the
// processor that wrote it does).
import { randomUUID } from 'node:crypto';
import type { Consumer } from 'kafkajs';
import { TOPICS, loadSchema } from '../../schemas/topics.ts';
import type { CameraFrame, QcResult } from '../../schemas/generated/types.ts';
import { createKafka, groupConsumerConfig } from '../../streams/runtime/kafka-client.ts';
import type { Logger } from '../../streams/runtime/logger.ts';
import { ConfluentSchemaStore } from '../../streams/runtime/schema-store.ts';
import { AvroSerde } from '../../streams/runtime/serde.ts';

export interface QcFeedOptions {
  brokers: string[];
  schemaRegistryUrl: string;
  log: Logger;
  /** Also read frames (default true). */
  frames: boolean;
  onResult: (result: QcResult) => void;
  onFrame: (frame: CameraFrame) => void;
  onUndecodable: (topic: string, err: Error) => void;
  /** Default: streamscore-live-view-<random>. */
  groupId?: string;
}

export class QcFeed {
  readonly groupId: string;
  private readonly consumer: Consumer;
  private joined = false;
  private fetched = false;

  private constructor(consumer: Consumer, groupId: string) {
    this.consumer = consumer;
    this.groupId = groupId;
  }

  /** True once the group is joined and a first fetch has run (the latest offsets are resolved). */
  get ready(): boolean {
    return this.joined && this.fetched;
  }

  static async start(o: QcFeedOptions): Promise<QcFeed> {
    const serde = new AvroSerde(new ConfluentSchemaStore(o.schemaRegistryUrl));
    const results = TOPICS.qcResults;
    const frames = TOPICS.cameraFrames;
    serde.useReader(results.name, loadSchema(results.schema));
    if (o.frames) serde.useReader(frames.name, loadSchema(frames.schema));
    const groupId = o.groupId ?? `streamscore-live-view-${randomUUID().slice(0, 8)}`;
    const kafka = createKafka(groupId, o.brokers, o.log);
    const inputs = o.frames ? [results, frames] : [results];
    const consumer = kafka.consumer({ ...groupConsumerConfig(groupId, inputs, 10_000) });
    const feed = new QcFeed(consumer, groupId);
    consumer.on(consumer.events.GROUP_JOIN, () => {
      feed.joined = true;
      feed.fetched = false;
    });
    consumer.on(consumer.events.FETCH, () => {
      if (feed.joined) feed.fetched = true;
    });
    consumer.on(consumer.events.CRASH, (e) => {
      feed.joined = false;
      o.log.warn({ err: e.payload.error.message, restart: e.payload.restart }, 'live view consumer crashed');
    });
    await consumer.connect();
    await consumer.subscribe({ topics: inputs.map((t) => t.name), fromBeginning: false });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch, heartbeat }) => {
        for (const m of batch.messages) {
          let value: unknown;
          try {
            value = await serde.decode(batch.topic, m.value);
          } catch (err) {
            o.onUndecodable(batch.topic, err as Error);
            continue;
          }
          if (value === null) continue;
          if (batch.topic === results.name) o.onResult(value as QcResult);
          else o.onFrame(value as CameraFrame);
        }
        await heartbeat();
      },
    });
    return feed;
  }

  async stop(): Promise<void> {
    await this.consumer.disconnect();
  }
}
