// The documents API as one service: index (SQLite or PostgreSQL), blob store, the upload producer,
// the status follower and the HTTP API, started in that order and closed in reverse. The follower's
// consumer group is named after the index's id, so each new index is rebuilt from the start of the
// topics, and API instances sharing one PostgreSQL index share one group (each result indexed once).
import { Counter, Gauge } from 'prom-client';
import { blobStoreFromEnv, type BlobStore } from '../../streams/documents/blob-store.ts';
import { DEFAULT_DOCUMENT_LIMITS } from '../../streams/documents/pages/limits.ts';
import type { ApiKeyring } from '../../streams/runtime/http/keyring.ts';
import type { ObservabilityAccess } from '../../streams/runtime/http/observability.ts';
import { createKafka } from '../../streams/runtime/kafka-client.ts';
import type { Logger } from '../../streams/runtime/logger.ts';
import { ConfluentSchemaStore } from '../../streams/runtime/schema-store.ts';
import type { DocumentIndex } from '../document-index/document-index.ts';
import { openDocumentIndex } from '../document-index/open-index.ts';
import { startDocumentsApi, type DocumentsApi } from './documents-api.ts';
import { ENTITIES_TOPIC, StatusFollower, UPLOADS_DLQ_TOPIC } from './status-follower.ts';
import { KafkaUploadSink } from './upload-producer.ts';

/**
 * Documents up to 1 MiB travel inline on docs.uploads.v1, larger ones by claim check (the reasons
 * are in docs/documents-api.md): most contracts' text-layer PDFs are under it, scans are not.
 */
export const DEFAULT_INLINE_MAX_BYTES = 1024 * 1024;

export interface DocumentsServiceOptions {
  brokers: string[];
  schemaRegistryUrl: string;
  port: number;
  host?: string;
  keyring: ApiKeyring | null;
  access?: ObservabilityAccess;
  maxBytes?: number;
  inlineMaxBytes?: number;
  uploadBufferBytes?: number;
  maxWaitSeconds?: number;
  logger: Logger;
  /** Defaults from the environment: openDocumentIndex(), blobStoreFromEnv(). */
  index?: DocumentIndex;
  blobs?: BlobStore;
  env?: NodeJS.ProcessEnv;
}

export interface DocumentsService {
  api: DocumentsApi;
  index: DocumentIndex;
  blobs: BlobStore;
  follower: StatusFollower;
  close(): Promise<void>;
}

export async function startDocumentsService(o: DocumentsServiceOptions): Promise<DocumentsService> {
  const env = o.env ?? process.env;
  const index = o.index ?? (await openDocumentIndex(env));
  const blobs = o.blobs ?? blobStoreFromEnv(env);
  const schemaStore = new ConfluentSchemaStore(o.schemaRegistryUrl, { log: o.logger });
  const closers: (() => Promise<void>)[] = [() => index.close()];
  const closeAll = async () => {
    for (const close of closers.reverse()) await close().catch((err) => o.logger.warn({ err: (err as Error).message }, 'error while closing the documents API'));
  };
  try {
    const sink = await KafkaUploadSink.start({ brokers: o.brokers, schemaStore, log: o.logger });
    closers.push(() => sink.close());
    let follower: StatusFollower | null = null;
    const api = await startDocumentsApi({
      port: o.port,
      host: o.host,
      keyring: o.keyring,
      access: o.access,
      index,
      blobs,
      sink,
      followerReady: () => follower?.ready() ?? false,
      maxBytes: o.maxBytes ?? DEFAULT_DOCUMENT_LIMITS.maxBytes,
      inlineMaxBytes: o.inlineMaxBytes ?? DEFAULT_INLINE_MAX_BYTES,
      uploadBufferBytes: o.uploadBufferBytes,
      maxWaitSeconds: o.maxWaitSeconds,
      logger: o.logger,
    });
    closers.push(() => api.close());
    const updates = new Counter({ name: 'streamscore_documents_status_updates_total', help: 'Records the status follower indexed: done (results), rejected (dead letters), skipped (undecodable)', labelNames: ['kind'] as const, registers: [api.registry] });
    const groupId = `documents-api-index-${await index.indexId()}`;
    follower = new StatusFollower({
      kafka: createKafka('documents-api-follower', o.brokers, o.logger),
      schemaStore,
      index,
      blobs,
      groupId,
      log: o.logger,
      onUpdate: (kind, documentId) => {
        updates.inc({ kind });
        if (documentId) api.notify(documentId);
      },
    });
    const started = follower;
    new Gauge({ name: 'streamscore_documents_follower_up', help: '1 while the status follower is in its consumer group', registers: [api.registry], collect() { this.set(started.ready() ? 1 : 0); } });
    closers.push(() => started.close());
    await follower.start().catch((err: Error) => {
      const missing = /does not host this topic|UNKNOWN_TOPIC/i.test(`${err.message} ${(err as { type?: string }).type ?? ''}`);
      throw missing ? new Error(`${err.message}: ${ENTITIES_TOPIC} or ${UPLOADS_DLQ_TOPIC} does not exist; create the topics with \`npx streamscore topics apply\``, { cause: err }) : err;
    });
    o.logger.info({ port: api.port, index: index.description, blobs: blobs.describe(), group: groupId }, 'documents API started');
    return { api, index, blobs, follower, close: closeAll };
  } catch (err) {
    await closeAll();
    throw err;
  }
}
