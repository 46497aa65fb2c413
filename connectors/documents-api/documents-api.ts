// The LexiScan upload API on the project's HTTP layer (streams/runtime/http/: keys with the
// `documents` scope, rate limits, a bound on requests in flight, JSON errors):
//   POST /v1/documents          raw body or multipart -> checked (size, magic bytes) -> blob store ->
//                               index (queued) -> DocumentUpload on docs.uploads.v1 -> 202
//   GET  /v1/documents/{id}     queued (202) | done with the entities (200) | rejected with the
//                               reason (200) | 404; ?wait=S blocks up to S seconds for done/rejected
//   GET  /v1/search?...         documents by party, law, type, dates, amounts, full text
//   GET  /metrics /healthz /readyz
// The status comes from the index, which the StatusFollower fills from docs.entities.v1 and the
// uploads' dead letters; `notify` wakes the waiters of a document when it changes.
import { randomUUID } from 'node:crypto';
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { DocumentUpload } from '../../schemas/generated/types.ts';
import { BlobStoreFullError, type BlobStore } from '../../streams/documents/blob-store.ts';
import { HttpError } from '../../streams/runtime/http/errors.ts';
import type { ApiKeyring } from '../../streams/runtime/http/keyring.ts';
import { observabilityRoutes, type ObservabilityAccess } from '../../streams/runtime/http/observability.ts';
import { startHttpApi, type Access, type ApiRequest, type Reply } from '../../streams/runtime/http/server.ts';
import type { Logger } from '../../streams/runtime/logger.ts';
import { InflightLimiter } from '../../streams/runtime/inflight-limiter.ts';
import { errorLine } from '../../streams/runtime/retry.ts';
import type { DocumentIndex, DocumentRecord } from '../document-index/document-index.ts';
import { SearchQueryError } from '../document-index/search-sql.ts';
import { checkDocument } from './content-check.ts';
import { SearchParamError, parseSearchParams } from './search-params.ts';
import { readUpload, refuseDeclaredOverLimit } from './upload-body.ts';
import type { UploadSink } from './upload-producer.ts';

export interface DocumentsApiOptions {
  port: number;
  host?: string;
  keyring: ApiKeyring | null;
  /** Default: /metrics needs a key with the `metrics` scope, health is open (as the scoring API). */
  access?: ObservabilityAccess;
  index: DocumentIndex;
  blobs: BlobStore;
  sink: UploadSink;
  /** Whether the status follower is in its group (part of /readyz); absent: not checked. */
  followerReady?: () => boolean;
  /** Largest document accepted (413 above). */
  maxBytes: number;
  /** Documents up to this size travel inline in the record; larger ones by claim check. */
  inlineMaxBytes: number;
  /**
   * Upload bodies are held in memory while checked and stored: uploads beyond this many bytes (by
   * Content-Length, or maxBytes when unknown) wait, their bodies unread, until others finish.
   * Default 256 MiB.
   */
  uploadBufferBytes?: number;
  /** Longest ?wait= honoured, in seconds. */
  maxWaitSeconds?: number;
  maxInFlight?: number;
  logger: Logger;
}

export interface DocumentsApi {
  port: number;
  registry: Registry;
  /** A document's status changed in the index: wake its waiters. */
  notify(documentId: string): void;
  close(): Promise<void>;
}

const DOCUMENT_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
/** Waiters also re-read the index this often: another instance may index the result (shared PostgreSQL). */
const WAIT_POLL_MS = 1_000;
const DOCUMENTS_PATH = '/v1/documents';

export async function startDocumentsApi(o: DocumentsApiOptions): Promise<DocumentsApi> {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];
  const uploads = new Counter({ name: 'streamscore_documents_uploads_total', help: 'Upload requests by outcome: accepted, or the refusal (too_large, unsupported, empty, bad_request, unavailable)', labelNames: ['outcome'] as const, registers });
  const uploadBytes = new Counter({ name: 'streamscore_documents_upload_bytes_total', help: 'Bytes of accepted documents by how they travel on docs.uploads.v1: inline or claim_check', labelNames: ['transport'] as const, registers });
  const buffer = new InflightLimiter(o.maxInFlight ?? 64, o.uploadBufferBytes ?? 256 * 1024 * 1024);
  new Gauge({ name: 'streamscore_documents_upload_buffer_bytes', help: 'Bytes reserved by uploads being read and stored (by Content-Length, or the size limit when unknown)', registers, collect() { this.set(buffer.bytes); } });
  new Gauge({ name: 'streamscore_documents_uploads_waiting', help: 'Uploads waiting for room in the upload buffer (bodies unread)', registers, collect() { this.set(buffer.queued); } });
  const waiters = new Map<string, Set<() => void>>();
  /** Set on close: waiting requests answer with the status they have instead of holding the shutdown up. */
  let closing = false;
  const maxWait = o.maxWaitSeconds ?? 60;
  const access: Access = { scope: 'documents' };

  function refusal(err: unknown): string {
    if (!(err instanceof HttpError)) return 'error';
    if (err.status === 413) return 'too_large';
    if (err.status === 415) return 'unsupported';
    if (err.status === 503 || err.status === 507) return 'unavailable';
    return err.message.startsWith('empty') ? 'empty' : 'bad_request';
  }

  async function upload({ request, url }: ApiRequest): Promise<Reply> {
    try {
      refuseDeclaredOverLimit(request!, o.maxBytes);
    } catch (err) {
      uploads.inc({ outcome: refusal(err) });
      throw err;
    }
    const declared = Number(request!.headers['content-length']);
    const reserved = Number.isInteger(declared) && declared >= 0 ? Math.min(declared, o.maxBytes) : o.maxBytes;
    await buffer.acquire(reserved);
    try {
      if (request!.destroyed) throw new HttpError(400, 'the client closed the connection');
      const file = await readUpload(request!, url!, o.maxBytes);
      const { mime } = checkDocument(file.bytes, file.declaredType);
      let stored;
      try {
        stored = await o.blobs.put(file.bytes);
      } catch (err) {
        if (err instanceof BlobStoreFullError) throw new HttpError(507, `cannot store the document: ${err.message}`);
        throw err;
      }
      const documentId = randomUUID();
      const inline = file.bytes.length <= o.inlineMaxBytes;
      const record: DocumentUpload = {
        document_id: documentId,
        filename: file.filename,
        content_type: mime,
        size_bytes: file.bytes.length,
        sha256: stored.sha256,
        uploaded_at: Date.now(),
        source: 'upload-api',
        content: inline ? file.bytes : null,
        blob_uri: inline ? null : stored.uri,
      };
      // Indexed before it is produced, so a result can never arrive for a document the index has not seen queued.
      await o.index.upsertUpload({ documentId, filename: file.filename, contentType: mime, sizeBytes: file.bytes.length, sha256: stored.sha256, blobUri: stored.uri, uploadedAt: record.uploaded_at });
      try {
        await o.sink.send(record);
      } catch (err) {
        await o.index.markRejected(documentId, `not queued: Kafka did not accept the upload (${errorLine(err, 300)})`, Date.now()).catch(() => {});
        o.logger.error({ document_id: documentId, err: errorLine(err, 500) }, 'upload not produced to docs.uploads.v1');
        throw new HttpError(503, 'the document could not be queued (Kafka unavailable); retry shortly', { headers: { 'retry-after': '5' } });
      }
      uploads.inc({ outcome: 'accepted' });
      uploadBytes.inc({ transport: inline ? 'inline' : 'claim_check' }, file.bytes.length);
      o.logger.info({ document_id: documentId, bytes: file.bytes.length, type: mime, transport: inline ? 'inline' : 'claim_check' }, 'document queued');
      return {
        status: 202,
        json: { document_id: documentId, status: 'queued', sha256: stored.sha256, size_bytes: file.bytes.length, content_type: mime, transport: inline ? 'inline' : 'claim_check', links: { self: `${DOCUMENTS_PATH}/${documentId}` } },
      };
    } catch (err) {
      uploads.inc({ outcome: refusal(err) });
      throw err;
    } finally {
      buffer.release(reserved);
    }
  }

  /** Resolves when the document's status may have changed, or after `ms`. */
  function changeOrTimeout(documentId: string, ms: number): Promise<void> {
    return new Promise((resolve) => {
      const set = waiters.get(documentId) ?? new Set();
      waiters.set(documentId, set);
      const wake = () => {
        clearTimeout(timer);
        set.delete(wake);
        if (set.size === 0) waiters.delete(documentId);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      set.add(wake);
    });
  }

  async function status({ url, request }: ApiRequest): Promise<Reply> {
    const raw = url!.pathname.slice(DOCUMENTS_PATH.length + 1);
    let documentId: string;
    try {
      documentId = decodeURIComponent(raw);
    } catch {
      throw new HttpError(400, 'the document id is not valid URL encoding');
    }
    if (!DOCUMENT_ID.test(documentId)) throw new HttpError(400, `${JSON.stringify(documentId.slice(0, 140))} is not a document id`);
    const waitParam = url!.searchParams.get('wait');
    let waitMs = 0;
    if (waitParam !== null) {
      const s = Number(waitParam);
      if (waitParam.trim() === '' || !Number.isFinite(s) || s < 0 || s > maxWait) throw new HttpError(400, `wait=${JSON.stringify(waitParam)} must be a number of seconds from 0 to ${maxWait}`);
      waitMs = s * 1000;
    }
    const deadline = Date.now() + waitMs;
    let gone = false;
    request?.once('close', () => (gone = true));
    let doc = await o.index.get(documentId);
    while (doc && doc.status === 'queued' && !gone && !closing && Date.now() < deadline) {
      await changeOrTimeout(documentId, Math.min(WAIT_POLL_MS, deadline - Date.now()));
      doc = await o.index.get(documentId);
    }
    if (!doc) throw new HttpError(404, `no document ${documentId}`);
    return { status: doc.status === 'queued' ? 202 : 200, json: statusBody(doc) };
  }

  async function search({ url }: ApiRequest): Promise<Reply> {
    try {
      return { json: await o.index.search(parseSearchParams(url!.searchParams)) };
    } catch (err) {
      if (err instanceof SearchParamError || err instanceof SearchQueryError) throw new HttpError(400, err.message);
      throw err;
    }
  }

  const api = await startHttpApi({
    name: 'documents-api',
    port: o.port,
    host: o.host,
    keyring: o.keyring,
    // Waiting requests hold a slot each; the default of 32 would let 32 long polls block uploads.
    maxInFlight: o.maxInFlight ?? 64,
    // Uploads of tens of MB over a slow link need longer than the layer's 30 s default.
    timeouts: { requestMs: 120_000 },
    logger: o.logger,
    registry,
    routes: [
      { name: 'upload', method: 'POST', path: DOCUMENTS_PATH, access, handle: upload },
      { name: 'status', method: 'GET', path: `${DOCUMENTS_PATH}/`, prefix: true, access, handle: status },
      { name: 'search', method: 'GET', path: '/v1/search', access, handle: search },
      ...observabilityRoutes({
        registry,
        access: o.access ?? { metrics: 'key', health: 'open' },
        isReady: () => o.sink.healthy() && (o.followerReady?.() ?? true),
        health: () => ({ index: o.index.description, blobs: o.blobs.describe() }),
      }),
    ],
  });
  return {
    port: api.port,
    registry,
    notify(documentId) {
      for (const wake of [...(waiters.get(documentId) ?? [])]) wake();
    },
    close: async () => {
      closing = true;
      for (const set of [...waiters.values()]) for (const wake of [...set]) wake();
      await api.close();
    },
  };
}

/** The GET body: what the client needs for each status, with the extraction result when done. */
export function statusBody(doc: DocumentRecord): Record<string, unknown> {
  const base = { document_id: doc.document_id, status: doc.status, filename: doc.filename, content_type: doc.content_type, size_bytes: doc.size_bytes, sha256: doc.sha256, uploaded_at: doc.uploaded_at };
  if (doc.status === 'rejected') return { ...base, reason: doc.reason, rejected_at: doc.updated_at };
  if (doc.status === 'queued' || !doc.result) return base;
  const r = doc.result;
  return {
    ...base,
    extracted_at: new Date(r.extracted_at).toISOString(),
    model: { name: r.model_name, version: r.model_version },
    pages: r.pages,
    ocr_used: r.ocr_used,
    page_sources: r.page_sources ?? [],
    contract_type: r.contract_type ?? null,
    contract_type_confidence: r.contract_type_confidence ?? null,
    needs_review: r.needs_review,
    validation_errors: r.validation_errors,
    entities: r.entities,
  };
}
