// The documents API against the real Kafka and registry: uploads (raw and multipart) become
// DocumentUpload records on docs.uploads.v1 (inline below the threshold, claim check above it, the
// blob verified), refusals are 4xx with reasons, and the status follows the topics — queued, done
// when an ExtractedEntities record for the document arrives on docs.entities.v1 (produced here: the
// processor is tested on its own), rejected with the reason of a dead letter on docs.uploads.v1.dlq —
// and search finds the document by party, governing law and full text.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import type { Producer } from 'kafkajs';
import type { DocumentUpload } from '../../schemas/generated/types.ts';
import { DEAD_LETTER_SCHEMA, TOPICS, dlqSpec, dlqTopic, loadSchema } from '../../schemas/topics.ts';
import { extractedEntities } from '../../connectors/document-index/test-results.ts';
import { startDocumentsService, type DocumentsService } from '../../connectors/documents-api/service.ts';
import { sha256Hex } from '../../streams/documents/blob-store.ts';
import { deadLetterMessage } from '../../streams/runtime/batch.ts';
import { ProcessingError } from '../../streams/runtime/errors.ts';
import { ConfluentSchemaStore } from '../../streams/runtime/schema-store.ts';
import { AvroSerde } from '../../streams/runtime/serde.ts';
import { ensureTopics } from '../../streams/runtime/topics-admin.ts';
import { collect, endpoints, quietLog, runId, testKafka } from './helpers.ts';

const INLINE_MAX = 64 * 1024;
const MAX_BYTES = 1024 * 1024;

/** A small but well-formed one-page PDF (xref offsets computed); `padding` bytes of comment make it larger. */
function pdf(text: string, padding = 0): Buffer {
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>',
    `<< /Length ${text.length + 33} >>\nstream\nBT /F1 12 Tf 72 720 Td (${text}) Tj ET\nendstream`,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
  ];
  let body = `%PDF-1.4\n%${'x'.repeat(padding)}\n`;
  const offsets = objects.map((o, i) => {
    const at = Buffer.byteLength(body);
    body += `${i + 1} 0 obj\n${o}\nendobj\n`;
    return at;
  });
  const xref = Buffer.byteLength(body);
  body += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n${offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`).join('')}`;
  body += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(body, 'latin1');
}

let service: DocumentsService;
let base: string;
let producer: Producer;
const serde = new AvroSerde(new ConfluentSchemaStore(endpoints().schemaRegistryUrl));
const kafka = testKafka();

before(async () => {
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, [TOPICS.documentUploads, dlqSpec(TOPICS.documentUploads), TOPICS.documentEntities], quietLog);
  await admin.disconnect();
  await serde.useTopic(TOPICS.documentEntities.name, loadSchema(TOPICS.documentEntities.schema));
  await serde.useTopic(dlqTopic(TOPICS.documentUploads.name), loadSchema(DEAD_LETTER_SCHEMA));
  serde.useReader(TOPICS.documentUploads.name, loadSchema(TOPICS.documentUploads.schema));
  const dir = mkdtempSync(join(tmpdir(), 'documents-api-'));
  service = await startDocumentsService({
    ...endpoints(),
    brokers: endpoints().kafkaBrokers,
    port: 0,
    keyring: null,
    access: { metrics: 'open', health: 'open' },
    maxBytes: MAX_BYTES,
    inlineMaxBytes: INLINE_MAX,
    logger: quietLog,
    env: { DOCUMENTS_INDEX_PATH: join(dir, 'documents.sqlite'), STREAMSCORE_BLOB_DIR: join(dir, 'blobs'), STREAMSCORE_BLOB_MIN_FREE_MB: '0' },
  });
  base = `http://127.0.0.1:${service.api.port}`;
  producer = kafka.producer();
  await producer.connect();
  // Ready once the follower is in its group (and so will see what is produced from here on).
  for (let i = 0; i < 60 && (await fetch(`${base}/readyz`)).status !== 200; i++) await new Promise((r) => setTimeout(r, 500));
});
after(async () => {
  await producer?.disconnect();
  await service?.close();
});

const postRaw = (body: Buffer, type: string, name = 'contract.pdf') => fetch(`${base}/v1/documents?filename=${encodeURIComponent(name)}`, { method: 'POST', headers: { 'content-type': type }, body });
const postForm = (body: Buffer, type: string, name: string) => {
  const form = new FormData();
  form.append('file', new Blob([body], { type }), name);
  return fetch(`${base}/v1/documents`, { method: 'POST', body: form });
};
const json = async (r: Response) => ({ status: r.status, body: (await r.json()) as Record<string, any> });

test('raw and multipart uploads: 202, inline or claim check on docs.uploads.v1; done when the result arrives; search finds it', { timeout: 60_000 }, async () => {
  const id = runId();
  const small = pdf(`Services Agreement ${id} between Acme Widgets Inc and Globex`);
  const large = pdf(`Distribution Agreement ${id}`, 200_000);
  const raw = await json(await postRaw(small, 'application/pdf'));
  assert.equal(raw.status, 202, JSON.stringify(raw.body));
  assert.equal(raw.body.status, 'queued');
  assert.equal(raw.body.sha256, sha256Hex(small));
  assert.equal(raw.body.transport, 'inline');
  const form = await json(await postForm(large, 'application/pdf', 'distribution.pdf'));
  assert.equal(form.status, 202, JSON.stringify(form.body));
  assert.equal(form.body.transport, 'claim_check');

  const uploads = await collect(kafka, [TOPICS.documentUploads.name], (m) => m.key === raw.body.document_id || m.key === form.body.document_id, (all) => all.length >= 2);
  const records = new Map<string, DocumentUpload>();
  for (const m of uploads) records.set(m.key!, (await serde.decode(TOPICS.documentUploads.name, m.value)) as DocumentUpload);
  const inline = records.get(raw.body.document_id)!;
  assert.deepEqual(inline.content, small);
  assert.equal(inline.blob_uri, null);
  assert.equal(inline.filename, 'contract.pdf');
  assert.equal(inline.content_type, 'application/pdf');
  assert.equal(inline.source, 'upload-api');
  const claim = records.get(form.body.document_id)!;
  assert.equal(claim.content, null);
  assert.equal(claim.blob_uri, `blob:sha256:${sha256Hex(large)}`);
  assert.equal(claim.size_bytes, large.length);
  assert.equal(claim.filename, 'distribution.pdf');
  assert.deepEqual(await service.blobs.get(claim.blob_uri!), large);

  const queued = await json(await fetch(`${base}/v1/documents/${raw.body.document_id}`));
  assert.equal(queued.status, 202);
  assert.equal(queued.body.status, 'queued');
  // A waiting client is answered as soon as the result is indexed.
  const waiting = fetch(`${base}/v1/documents/${raw.body.document_id}?wait=20`).then(json);
  const text = await service.blobs.put(Buffer.from(JSON.stringify([`This Services Agreement ${id} is made between Acme Widgets, Inc. and Globex Corporation.`, 'Either party may terminate for convenience.'])));
  const result = extractedEntities(raw.body.document_id, {
    parties: ['Acme Widgets, Inc.', 'Globex Corporation'],
    law: ['the laws of the State of New York', 'US-NY'],
    dates: [['EFFECTIVE_DATE', '2019-03-01']],
    contractType: 'services',
    needsReview: true,
    validationErrors: ['EXPIRATION_DATE missing'],
    textBlobUri: text.uri,
  });
  const started = Date.now();
  await producer.send({ topic: TOPICS.documentEntities.name, messages: [{ key: result.document_id, value: serde.encode(TOPICS.documentEntities.name, result) }] });
  const done = await waiting;
  assert.equal(done.status, 200);
  assert.ok(Date.now() - started < 15_000, 'the waiter was answered within the wait');
  assert.equal(done.body.status, 'done');
  assert.equal(done.body.contract_type, 'services');
  assert.equal(done.body.needs_review, true);
  assert.deepEqual(done.body.validation_errors, ['EXPIRATION_DATE missing']);
  assert.deepEqual(done.body.entities.map((e: { label: string; text: string }) => `${e.label}:${e.text}`), ['PARTY:Acme Widgets, Inc.', 'PARTY:Globex Corporation', 'EFFECTIVE_DATE:2019-03-01', 'GOVERNING_LAW:the laws of the State of New York']);
  assert.equal(done.body.filename, 'contract.pdf');

  const byParty = await json(await fetch(`${base}/v1/search?party=${encodeURIComponent('acme widgets')}&q=${id.replaceAll('-', ' ')}`));
  assert.deepEqual(byParty.body.documents.map((d: { document_id: string }) => d.document_id), [raw.body.document_id]);
  const byLaw = await json(await fetch(`${base}/v1/search?law=US-NY&q=${encodeURIComponent(`${id.replaceAll('-', ' ')} convenience`)}`));
  assert.deepEqual(byLaw.body.documents.map((d: { document_id: string }) => d.document_id), [raw.body.document_id]);
  assert.deepEqual(byLaw.body.documents[0].governing_law, ['US-NY']);
  const byLawName = await json(await fetch(`${base}/v1/search?law=new+york&party=globex&type=services`));
  assert.ok(byLawName.body.documents.some((d: { document_id: string }) => d.document_id === raw.body.document_id));
  const none = await json(await fetch(`${base}/v1/search?law=GB-ENG&q=${id.replaceAll('-', ' ')}`));
  assert.equal(none.body.total, 0);
});

test('a dead letter for an upload makes it rejected, with the reason', { timeout: 60_000 }, async () => {
  const id = runId();
  const bytes = pdf(`Encrypted contract ${id}`);
  const accepted = await json(await postRaw(bytes, 'application/pdf'));
  assert.equal(accepted.status, 202);
  const documentId = accepted.body.document_id as string;
  const waiting = fetch(`${base}/v1/documents/${documentId}?wait=20`).then(json);
  // The dead letter as the runtime writes it for a task's DocumentRejectedError.
  const failure = {
    record: { topic: TOPICS.documentUploads.name, partition: 0, offset: '0', key: Buffer.from(documentId), value: bytes, timestamp: Date.now(), headers: {} },
    error: new ProcessingError('encrypted: the PDF needs a password to open'),
  };
  const dead = deadLetterMessage(serde, 'documents', failure, Date.now());
  // An undecodable result record is skipped (counted), not a stall of the follower.
  await producer.send({ topic: TOPICS.documentEntities.name, messages: [{ key: documentId, value: Buffer.from(`not avro ${id}`) }] });
  await producer.send({ topic: dead.topic, messages: [{ key: dead.key, value: dead.value, headers: dead.headers }] });
  const rejected = await waiting;
  assert.equal(rejected.status, 200);
  assert.equal(rejected.body.status, 'rejected');
  assert.equal(rejected.body.reason, 'encrypted: the PDF needs a password to open');
  assert.equal(rejected.body.sha256, sha256Hex(bytes));
  let metrics = '';
  for (let i = 0; i < 40 && !/kind="skipped"\} [1-9]/.test(metrics); i++) {
    await new Promise((r) => setTimeout(r, 250));
    metrics = await (await fetch(`${base}/metrics`)).text();
  }
  assert.match(metrics, /streamscore_documents_status_updates_total\{kind="skipped"\} [1-9]/);
  assert.match(metrics, /streamscore_documents_status_updates_total\{kind="rejected"\} [1-9]/);
});

test('refusals: 413 too large (raw and multipart), 415 not a document or a mismatching type, 400 empty, 404 unknown, 400 bad search', { timeout: 30_000 }, async () => {
  const tooLarge = pdf('big', MAX_BYTES);
  const raw413 = await json(await postRaw(tooLarge, 'application/pdf'));
  assert.equal(raw413.status, 413);
  assert.match(raw413.body.error, /^too large: the document is over the 1048576 byte limit/);
  const form413 = await json(await postForm(tooLarge, 'application/pdf', 'big.pdf'));
  assert.equal(form413.status, 413);
  const garbage = await json(await postRaw(Buffer.from([0x00, 0x01, 0x02, 0xfe, 0xff, 0x10, 0x80, 0x81, 0x00, 0x00]), 'application/octet-stream', 'x.bin'));
  assert.equal(garbage.status, 415);
  assert.match(garbage.body.error, /^unsupported type: .*\(first bytes 00 01 02 fe ff 10 80 81\)/);
  const png = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');
  const mismatch = await json(await postForm(png, 'application/pdf', 'fake.pdf'));
  assert.equal(mismatch.status, 415);
  assert.match(mismatch.body.error, /^declared type mismatch: declared application\/pdf but the content is image\/png/);
  const word = await json(await postRaw(Buffer.from('PK\u0003\u0004word'), 'application/msword', 'x.doc'));
  assert.equal(word.status, 415);
  const empty = await json(await postRaw(Buffer.alloc(0), 'application/pdf'));
  assert.equal(empty.status, 400);
  assert.equal(empty.body.error, 'empty: the document has 0 bytes');
  const noFile = new FormData();
  noFile.append('note', 'no file here');
  const formWithoutFile = await json(await fetch(`${base}/v1/documents`, { method: 'POST', body: noFile }));
  assert.equal(formWithoutFile.status, 400);
  assert.match(formWithoutFile.body.error, /no file part/);
  assert.equal((await fetch(`${base}/v1/documents/00000000-0000-0000-0000-000000000000`)).status, 404);
  assert.equal((await fetch(`${base}/v1/documents/${encodeURIComponent('../etc')}`)).status, 400);
  const badWait = await json(await fetch(`${base}/v1/documents/x?wait=forever`));
  assert.equal(badWait.status, 400);
  const badSearch = await json(await fetch(`${base}/v1/search?from=2021-02-30`));
  assert.equal(badSearch.status, 400);
  assert.match(badSearch.body.error, /from="2021-02-30" must be a date YYYY-MM-DD/);
  assert.equal((await fetch(`${base}/v1/search?partyy=acme`)).status, 400);

  const metrics = await (await fetch(`${base}/metrics`)).text();
  assert.match(metrics, /streamscore_documents_uploads_total\{outcome="too_large"\} [2-9]/);
  assert.match(metrics, /streamscore_documents_uploads_total\{outcome="unsupported"\} [3-9]/);
  assert.match(metrics, /streamscore_documents_uploads_total\{outcome="empty"\} 1/);
  assert.match(metrics, /streamscore_documents_follower_up 1/);
});

test('the same flow on the PostgreSQL index (DATABASE_URL; pg over the wire to PGlite)', { timeout: 60_000 }, async () => {
  const pglite = await PGlite.create();
  const server = new PGLiteSocketServer({ db: pglite, port: 0, host: '127.0.0.1' });
  await server.start();
  const dir = mkdtempSync(join(tmpdir(), 'documents-api-pg-'));
  // PGlite is one database session: pooled connections would share it (and its transactions), so one.
  const pgService = await startDocumentsService({
    brokers: endpoints().kafkaBrokers,
    schemaRegistryUrl: endpoints().schemaRegistryUrl,
    port: 0,
    keyring: null,
    logger: quietLog,
    env: { DATABASE_URL: `postgres://postgres@${server.getServerConn()}/postgres`, DATABASE_POOL_MAX: '1', STREAMSCORE_BLOB_DIR: join(dir, 'blobs'), STREAMSCORE_BLOB_MIN_FREE_MB: '0' },
  });
  try {
    assert.match(pgService.index.description, /^PostgreSQL 127\.0\.0\.1:\d+\/postgres$/);
    const url = `http://127.0.0.1:${pgService.api.port}`;
    const id = runId();
    const accepted = await json(await fetch(`${url}/v1/documents`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: `License Agreement ${id} between Initech GmbH and Soylent Corp. Governed by English law.` }));
    assert.equal(accepted.status, 202);
    const documentId = accepted.body.document_id as string;
    const waiting = fetch(`${url}/v1/documents/${documentId}?wait=30`).then(json);
    const text = await pgService.blobs.put(Buffer.from(JSON.stringify([`License Agreement ${id} between Initech GmbH and Soylent Corp. Governed by English law.`])));
    const result = extractedEntities(documentId, { parties: ['Initech GmbH', 'Soylent Corp.'], law: ['English law', 'GB-ENG'], contractType: 'license', textBlobUri: text.uri });
    await producer.send({ topic: TOPICS.documentEntities.name, messages: [{ key: documentId, value: serde.encode(TOPICS.documentEntities.name, result) }] });
    const done = await waiting;
    assert.equal(done.body.status, 'done');
    assert.equal(done.body.content_type, 'text/plain; charset=utf-8');
    // The index is written beside the status (not before it): look until it has the document.
    let found = await json(await fetch(`${url}/v1/search?party=initech&law=GB&q=${id.replaceAll('-', ' ')}`));
    for (let i = 0; i < 50 && found.body.documents.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 100));
      found = await json(await fetch(`${url}/v1/search?party=initech&law=GB&q=${id.replaceAll('-', ' ')}`));
    }
    assert.deepEqual(found.body.documents.map((d: { document_id: string }) => d.document_id), [documentId]);
    assert.match(found.body.documents[0].snippet, /\[/);
  } finally {
    await pgService.close();
    await server.stop();
    await pglite.close();
  }
});
