// The API's own logic over real HTTP, a real SQLite index and a real blob store, with the Kafka
// producer replaced by an in-memory sink (the Kafka path is test/integration/documents-api.test.ts):
// API keys and the `documents` scope, the inline/claim-check split, what a failed produce and a full
// disk answer, ?wait woken by notify, filename handling, and the status bodies.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import type { DocumentUpload } from '../../schemas/generated/types.ts';
import { LocalBlobStore, sha256Hex } from '../../streams/documents/blob-store.ts';
import { createApiKey, parseRateLimit } from '../../streams/runtime/http/api-keys.ts';
import { ApiKeyring } from '../../streams/runtime/http/keyring.ts';
import { SqliteDocumentIndex } from '../document-index/sqlite-index.ts';
import { extractedEntities } from '../document-index/test-results.ts';
import { startDocumentsApi, type DocumentsApi } from './documents-api.ts';
import type { UploadSink } from './upload-producer.ts';

class MemorySink implements UploadSink {
  readonly sent: DocumentUpload[] = [];
  failing = false;
  async send(upload: DocumentUpload): Promise<void> {
    if (this.failing) throw new Error('KafkaJSNumberOfRetriesExceeded: broker down');
    this.sent.push(upload);
  }
  healthy(): boolean {
    return !this.failing;
  }
  async close(): Promise<void> {}
}

const dir = mkdtempSync(join(tmpdir(), 'documents-api-unit-'));
const keysFile = join(dir, 'keys.json');
const writer = createApiKey(keysFile, { name: 'uploader', scopes: ['documents'], rateLimit: parseRateLimit('10000/s') });
const scorer = createApiKey(keysFile, { name: 'other', scopes: ['score'], rateLimit: parseRateLimit('10000/s') });
const sink = new MemorySink();
const index = new SqliteDocumentIndex(join(dir, 'documents.sqlite'));
const blobs = new LocalBlobStore({ root: join(dir, 'blobs'), minFreeBytes: 0 });
let api: DocumentsApi;
let base: string;

before(async () => {
  api = await startDocumentsApi({ port: 0, keyring: new ApiKeyring(keysFile), index, blobs, sink, maxBytes: 4096, inlineMaxBytes: 1024, logger: pino({ level: 'silent' }) });
  base = `http://127.0.0.1:${api.port}`;
});
after(async () => {
  await api?.close();
  await index.close();
});

const auth = (token = writer.token) => ({ authorization: `Bearer ${token}` });
const post = (body: Buffer | string, headers: Record<string, string> = {}, query = '') =>
  fetch(`${base}/v1/documents${query}`, { method: 'POST', headers: { 'content-type': 'application/pdf', ...auth(), ...headers }, body });
const pdfOf = (size: number) => Buffer.concat([Buffer.from('%PDF-1.7\n'), Buffer.alloc(size - 9, 0x41)]);

describe('documents API', { timeout: 20_000 }, () => {
  it('needs a key with the documents scope on every route but health', async () => {
    assert.equal((await fetch(`${base}/v1/documents`, { method: 'POST', body: 'x' })).status, 401);
    assert.equal((await post(pdfOf(100), auth(scorer.token))).status, 403);
    assert.equal((await fetch(`${base}/v1/search?q=x`)).status, 401);
    assert.equal((await fetch(`${base}/v1/documents/abc`)).status, 401);
    assert.equal((await fetch(`${base}/healthz`)).status, 200);
    assert.equal((await fetch(`${base}/metrics`)).status, 401);
  });

  it('small documents travel inline, larger ones by claim check; both are in the blob store', async () => {
    const small = pdfOf(1024);
    const large = pdfOf(1025);
    const a = (await (await post(small, { 'content-disposition': 'attachment; filename="../../etc/Master Agreement.pdf"' })).json()) as Record<string, string>;
    const b = (await (await post(large, {}, '?filename=big.pdf')).json()) as Record<string, string>;
    assert.equal(a.transport, 'inline');
    assert.equal(b.transport, 'claim_check');
    const [ra, rb] = [sink.sent.find((u) => u.document_id === a.document_id)!, sink.sent.find((u) => u.document_id === b.document_id)!];
    assert.deepEqual(ra.content, small);
    assert.equal(ra.blob_uri, null);
    assert.equal(ra.filename, 'Master Agreement.pdf');
    assert.equal(rb.content, null);
    assert.equal(rb.blob_uri, `blob:sha256:${sha256Hex(large)}`);
    assert.equal(rb.filename, 'big.pdf');
    assert.deepEqual(await blobs.get(rb.blob_uri!), large);
    assert.equal(await blobs.has(`blob:sha256:${sha256Hex(small)}`), true);
    const status = (await (await fetch(`${base}/v1/documents/${a.document_id}`, { headers: auth() })).json()) as Record<string, unknown>;
    assert.deepEqual(status, { document_id: a.document_id, status: 'queued', filename: 'Master Agreement.pdf', content_type: 'application/pdf', size_bytes: 1024, sha256: sha256Hex(small), uploaded_at: status.uploaded_at });
  });

  it('over the limit by Content-Length or by streamed bytes: 413', async () => {
    const r = await post(pdfOf(4097));
    assert.equal(r.status, 413);
    // Chunked: no Content-Length, refused when the stream passes the limit.
    const chunks = new ReadableStream({
      start(c) {
        c.enqueue(pdfOf(3000));
        c.enqueue(Buffer.alloc(3000, 0x41));
        c.close();
      },
    });
    const chunked = await fetch(`${base}/v1/documents`, { method: 'POST', headers: { 'content-type': 'application/pdf', ...auth() }, body: chunks, duplex: 'half' } as RequestInit);
    assert.equal(chunked.status, 413);
  });

  it('a produce failure answers 503 and leaves the document rejected, not queued forever', async () => {
    sink.failing = true;
    const before = (await index.search({ status: 'rejected' })).total;
    const r = await post(pdfOf(200));
    sink.failing = false;
    assert.equal(r.status, 503);
    assert.equal(r.headers.get('retry-after'), '5');
    assert.match(((await r.json()) as { error: string }).error, /could not be queued/);
    const rejected = await index.search({ status: 'rejected' });
    assert.equal(rejected.total, before + 1);
    assert.match((await index.get(rejected.documents[0].document_id))!.reason!, /^not queued: Kafka did not accept the upload \(.*broker down/);
  });

  it('?wait returns as soon as notify says the result is in, with the entities', async () => {
    const { document_id } = (await (await post(pdfOf(300))).json()) as { document_id: string };
    const started = Date.now();
    const waiting = fetch(`${base}/v1/documents/${document_id}?wait=30`, { headers: auth() });
    await new Promise((r) => setTimeout(r, 300));
    await index.upsertResult(extractedEntities(document_id, { parties: ['Initech GmbH'], law: ['English law', 'GB-ENG'], contractType: 'license' }), null);
    api.notify(document_id);
    const r = await waiting;
    assert.equal(r.status, 200);
    assert.ok(Date.now() - started < 1_500, `answered after ${Date.now() - started} ms`);
    const body = (await r.json()) as Record<string, any>;
    assert.equal(body.status, 'done');
    assert.equal(body.contract_type, 'license');
    assert.equal(body.contract_type_confidence, 0.88);
    assert.deepEqual(body.model, { name: 'legal-ner-test', version: '0.0.1' });
    assert.deepEqual(body.entities.map((e: { text: string }) => e.text), ['Initech GmbH', 'English law']);
    assert.equal(body.entities[0].page, 1);
  });

  it('?wait on a document that stays queued answers 202 queued after the wait', async () => {
    const { document_id } = (await (await post(pdfOf(400))).json()) as { document_id: string };
    const started = Date.now();
    const r = await fetch(`${base}/v1/documents/${document_id}?wait=0.5`, { headers: auth() });
    assert.equal(r.status, 202);
    assert.ok(Date.now() - started >= 450);
    assert.equal(((await r.json()) as { status: string }).status, 'queued');
    assert.equal((await fetch(`${base}/v1/documents/${document_id}?wait=61`, { headers: auth() })).status, 400);
  });

  it('uploads beyond the upload buffer wait, bodies unread, until earlier ones finish', async () => {
    const tight = await startDocumentsApi({ port: 0, keyring: null, access: { metrics: 'open', health: 'open' }, index, blobs, sink, maxBytes: 4096, inlineMaxBytes: 1024, uploadBufferBytes: 3000, logger: pino({ level: 'silent' }) });
    const url = `http://127.0.0.1:${tight.port}`;
    const gauge = async (name: string) => Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(await (await fetch(`${url}/metrics`)).text())?.[1]);
    try {
      // A chunked body (no Content-Length) reserves the whole size limit, and stays open.
      let finish!: () => void;
      const body = new ReadableStream({
        async start(c) {
          c.enqueue(pdfOf(100));
          await new Promise<void>((r) => (finish = r));
          c.close();
        },
      });
      const first = fetch(`${url}/v1/documents`, { method: 'POST', headers: { 'content-type': 'application/pdf' }, body, duplex: 'half' } as RequestInit);
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(await gauge('streamscore_documents_upload_buffer_bytes'), 4096);
      const second = fetch(`${url}/v1/documents`, { method: 'POST', headers: { 'content-type': 'application/pdf' }, body: pdfOf(500) });
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(await gauge('streamscore_documents_uploads_waiting'), 1);
      finish();
      assert.deepEqual([(await first).status, (await second).status], [202, 202]);
      assert.equal(await gauge('streamscore_documents_upload_buffer_bytes'), 0);
    } finally {
      await tight.close();
    }
  });

  it('closing answers waiting requests at once with the status they have', async () => {
    const other = await startDocumentsApi({ port: 0, keyring: null, index, blobs, sink, maxBytes: 4096, inlineMaxBytes: 1024, logger: pino({ level: 'silent' }) });
    const url = `http://127.0.0.1:${other.port}`;
    const { document_id } = (await (await fetch(`${url}/v1/documents`, { method: 'POST', headers: { 'content-type': 'application/pdf' }, body: pdfOf(500) })).json()) as { document_id: string };
    const waiting = fetch(`${url}/v1/documents/${document_id}?wait=30`);
    await new Promise((r) => setTimeout(r, 200));
    const started = Date.now();
    const closed = other.close();
    const r = await waiting;
    assert.equal(r.status, 202);
    assert.ok(Date.now() - started < 1_000, `answered ${Date.now() - started} ms after close`);
    await closed;
  });

  it('a full blob store disk answers 507 and queues nothing', async () => {
    const fullApi = await startDocumentsApi({ port: 0, keyring: null, index, blobs: new LocalBlobStore({ root: join(dir, 'full'), minFreeBytes: Number.MAX_SAFE_INTEGER }), sink, maxBytes: 4096, inlineMaxBytes: 1024, logger: pino({ level: 'silent' }) });
    try {
      const sent = sink.sent.length;
      const r = await fetch(`http://127.0.0.1:${fullApi.port}/v1/documents`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'This Agreement is governed by the laws of Delaware.' });
      assert.equal(r.status, 507);
      assert.match(((await r.json()) as { error: string }).error, /^cannot store the document: blob store .* free/);
      assert.equal(sink.sent.length, sent);
    } finally {
      await fullApi.close();
    }
  });
});
