// Keeps the index's document status current: consumes docs.entities.v1 (results: status done, the
// entities, and the full text read from the blob store through text_blob_uri) and
// docs.uploads.v1.dlq (the processor's dead letters for uploads: status rejected, with the reason
// from the dead letter's `streamscore.error.message` header). Its own consumer group, named after
// the index's id (documents-api.ts), so a new index is filled from the start of both topics and API
// instances sharing one PostgreSQL index share one group. Offsets are committed after the index
// writes (at least once; the writes are idempotent). A record that does not decode is logged and
// skipped: this is a reader of results, not their processor, and it must not stall on one.
import type { Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import type { ExtractedEntities } from '../../schemas/generated/types.ts';
import { TOPICS, dlqTopic, loadSchema } from '../../schemas/topics.ts';
import type { BlobStore } from '../../streams/documents/blob-store.ts';
import { DLQ_HEADERS } from '../../streams/runtime/batch.ts';
import type { Logger } from '../../streams/runtime/logger.ts';
import type { SchemaStore } from '../../streams/runtime/schema-store.ts';
import { AvroSerde } from '../../streams/runtime/serde.ts';
import { pageTextsToFullText, type DocumentIndex } from '../document-index/document-index.ts';

export const ENTITIES_TOPIC = TOPICS.documentEntities.name;
export const UPLOADS_DLQ_TOPIC = dlqTopic(TOPICS.documentUploads.name);

export type StatusUpdate = 'done' | 'rejected' | 'skipped';

/** Ids the index can hold (no control characters, bounded); a record with another id is skipped, not retried forever. */
// eslint-disable-next-line no-control-regex
const INDEXABLE_ID = /^[^\u0000-\u001f\u007f]{1,256}$/;

export interface StatusFollowerOptions {
  kafka: Kafka;
  schemaStore: SchemaStore;
  index: DocumentIndex;
  blobs: BlobStore;
  groupId: string;
  log: Logger;
  /** Called after each record is indexed (or skipped), with the document id when known. */
  onUpdate?: (kind: StatusUpdate, documentId: string | null) => void;
}

export class StatusFollower {
  private readonly o: StatusFollowerOptions;
  private readonly serde: AvroSerde;
  private readonly consumer: Consumer;
  private joined = false;
  private crashed: string | null = null;

  constructor(o: StatusFollowerOptions) {
    this.o = o;
    this.serde = new AvroSerde(o.schemaStore);
    this.serde.useReader(ENTITIES_TOPIC, loadSchema(TOPICS.documentEntities.schema));
    this.consumer = o.kafka.consumer({ groupId: o.groupId, sessionTimeout: 30_000, heartbeatInterval: 3_000, allowAutoTopicCreation: false });
    this.consumer.on(this.consumer.events.GROUP_JOIN, () => {
      this.joined = true;
      this.crashed = null;
    });
    this.consumer.on(this.consumer.events.CRASH, (e) => {
      this.joined = false;
      this.crashed = (e.payload.error as Error).message;
      o.log.error({ err: this.crashed, restart: e.payload.restart }, 'status follower consumer crashed');
    });
  }

  async start(): Promise<void> {
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: [ENTITIES_TOPIC, UPLOADS_DLQ_TOPIC], fromBeginning: true });
    await this.consumer.run({ eachBatchAutoResolve: false, eachBatch: (payload) => this.handleBatch(payload) });
  }

  /** In its group with partitions to read (the API's /readyz). */
  ready(): boolean {
    return this.joined;
  }

  describe(): { group: string; joined: boolean; crashed: string | null } {
    return { group: this.o.groupId, joined: this.joined, crashed: this.crashed };
  }

  async close(): Promise<void> {
    await this.consumer.disconnect().catch(() => {});
  }

  private async handleBatch({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload): Promise<void> {
    for (const m of batch.messages) {
      if (!isRunning() || isStale()) return;
      if (batch.topic === ENTITIES_TOPIC) await this.indexResult(m.value, batch.partition, m.offset);
      else await this.indexRejection(m.key?.toString() ?? null, m.headers ?? {}, Number(m.timestamp));
      resolveOffset(m.offset);
      await heartbeat();
    }
  }

  private async indexResult(value: Buffer | null, partition: number, offset: string): Promise<void> {
    let result: ExtractedEntities;
    try {
      result = (await this.serde.decode(ENTITIES_TOPIC, value)) as ExtractedEntities;
    } catch (err) {
      this.o.log.warn({ topic: ENTITIES_TOPIC, partition, offset, err: (err as Error).message }, 'result record does not decode; skipped');
      this.o.onUpdate?.('skipped', null);
      return;
    }
    if (!INDEXABLE_ID.test(result.document_id)) {
      this.o.log.warn({ topic: ENTITIES_TOPIC, partition, offset }, 'result record with an unusable document id; skipped');
      this.o.onUpdate?.('skipped', null);
      return;
    }
    const fullText = await this.fullText(result);
    // An index failure (database down) throws out of the batch: kafkajs retries it, nothing is committed past it.
    await this.o.index.upsertResult(result, fullText);
    this.o.onUpdate?.('done', result.document_id);
  }

  /** The cleaned page texts behind text_blob_uri; null (indexed without full text) when absent or unreadable. */
  private async fullText(result: ExtractedEntities): Promise<string | null> {
    const uri = result.text_blob_uri ?? null;
    if (!uri) return null;
    try {
      return pageTextsToFullText((await this.o.blobs.get(uri)).toString('utf8'));
    } catch (err) {
      this.o.log.warn({ document_id: result.document_id, err: (err as Error).message }, 'full text of a result not readable from the blob store; indexed without it');
      return null;
    }
  }

  private async indexRejection(documentId: string | null, headers: Record<string, unknown>, timestamp: number): Promise<void> {
    const header = (name: string) => {
      const v = headers[name];
      const one = Array.isArray(v) ? v[v.length - 1] : v;
      return one === undefined || one === null ? null : String(one);
    };
    if (!documentId || !INDEXABLE_ID.test(documentId)) {
      this.o.log.warn({ topic: UPLOADS_DLQ_TOPIC }, 'dead letter without a usable document id key; skipped');
      this.o.onUpdate?.('skipped', null);
      return;
    }
    const message = header(DLQ_HEADERS.errorMessage) ?? 'rejected by the processor (the dead letter carries no reason)';
    const stage = header(DLQ_HEADERS.stage);
    const reason = stage && stage !== 'PROCESSING' ? `${message} (stage ${stage})` : message;
    await this.o.index.markRejected(documentId, reason, Number.isFinite(timestamp) ? timestamp : Date.now());
    this.o.onUpdate?.('rejected', documentId);
  }
}
