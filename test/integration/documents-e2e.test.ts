// LexiScan end to end against the real Kafka, registry and blob store: contracts uploaded through
// the documents API (a native PDF inline, a scanned PDF by claim check) go through the documents
// processor (pdf.js text layer, tesseract.js OCR per page, the committed NER model, the rules) and
// come back from GET /v1/documents/{id}?wait= as validated JSON; bad PDFs come back rejected with
// their reason (the processor's dead letters, followed by the API); search finds the contracts by
// party and by governing law.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDocumentsService, type DocumentsService } from '../../connectors/documents-api/service.ts';
import { LocalBlobStore } from '../../streams/documents/blob-store.ts';
import { nerModelSpec } from '../../streams/documents/ner/model.ts';
import { documentsProcessor } from '../../streams/documents/topology.ts';
import { startProcessor, type RunningProcessor } from '../../streams/runtime/kafka-runner.ts';
import { endpoints, quietLog, runtimeOptions } from './helpers.ts';

const fixture = (path: string) => readFileSync(new URL(`../../streams/documents/${path}`, import.meta.url));
const NATIVE = fixture('fixtures/native-servicing-10p.pdf');
const SCANNED = fixture('fixtures/scanned-sponsorship-3p.pdf');

let dir: string;
let service: DocumentsService;
let processor: RunningProcessor;
let base: string;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'documents-e2e-'));
  const env = { DOCUMENTS_INDEX_PATH: join(dir, 'documents.sqlite'), STREAMSCORE_BLOB_DIR: join(dir, 'blobs'), STREAMSCORE_BLOB_MIN_FREE_MB: '0' };
  const blobs = new LocalBlobStore({ root: env.STREAMSCORE_BLOB_DIR, minFreeBytes: 0 });
  processor = await startProcessor(documentsProcessor(nerModelSpec(), blobs), runtimeOptions({ workers: { threads: 2, ortThreads: 1, maxInflight: 8, maxInflightBytes: 512 * 1024 * 1024 } }));
  service = await startDocumentsService({
    ...endpoints(),
    brokers: endpoints().kafkaBrokers,
    port: 0,
    keyring: null,
    access: { metrics: 'open', health: 'open' },
    // The scan (~740 KB) goes by claim check, the native contract (~130 KB) inline.
    inlineMaxBytes: 256 * 1024,
    blobs,
    logger: quietLog,
    env,
  });
  base = `http://127.0.0.1:${service.api.port}`;
  for (let i = 0; i < 60 && (await fetch(`${base}/readyz`)).status !== 200; i++) await new Promise((r) => setTimeout(r, 500));
});

after(async () => {
  await service?.close();
  await processor?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function upload(bytes: Buffer, name: string): Promise<string> {
  const res = await fetch(`${base}/v1/documents?filename=${encodeURIComponent(name)}`, { method: 'POST', headers: { 'content-type': 'application/pdf' }, body: bytes });
  const body = (await res.json()) as { document_id: string; status: string };
  assert.equal(res.status, 202, JSON.stringify(body));
  return body.document_id;
}

interface StatusBody {
  status: string;
  reason?: string;
  entities: { label: string; text: string; normalized: string | null; page: number; start_offset: number; end_offset: number; confidence: number }[];
  page_sources: { page: number; source: string }[];
  ocr_used: boolean;
  pages: number;
  contract_type: string | null;
}

async function waitFor(id: string): Promise<StatusBody> {
  // ?wait is capped by the API; ask again until the processor answered (a scan takes ~10-30 s on 2 cores).
  for (let i = 0; i < 12; i++) {
    const res = await fetch(`${base}/v1/documents/${encodeURIComponent(id)}?wait=30`);
    const body = (await res.json()) as StatusBody;
    if (body.status !== 'queued') return body;
  }
  assert.fail(`document ${id} was still queued after 6 minutes`);
}

test('a native and a scanned contract: upload -> validated JSON -> searchable by party and governing law', { timeout: 420_000 }, async () => {
  const [nativeId, scannedId] = [await upload(NATIVE, 'servicing.pdf'), await upload(SCANNED, 'sponsorship-scan.pdf')];
  const [native, scanned] = await Promise.all([waitFor(nativeId), waitFor(scannedId)]);
  assert.equal(native.status, 'done', JSON.stringify(native).slice(0, 500));
  assert.equal(scanned.status, 'done', JSON.stringify(scanned).slice(0, 500));
  const [n, s] = [native, scanned];
  assert.deepEqual([n.pages, n.ocr_used, new Set(n.page_sources.map((p) => p.source))], [10, false, new Set(['text-layer'])]);
  assert.deepEqual([s.pages, s.ocr_used, s.page_sources.map((p) => p.source)], [3, true, ['ocr', 'ocr', 'ocr']]);
  for (const r of [n, s]) {
    for (const label of ['PARTY', 'GOVERNING_LAW']) assert.ok(r.entities.some((e) => e.label === label), `${label} found: ${JSON.stringify(r.entities.map((e) => [e.label, e.text.slice(0, 40)]))}`);
  }
  // The scan's governing-law clause names Texas; parties are Boyd Enterprises and Cano Petroleum.
  const laws = s.entities.filter((e) => e.label === 'GOVERNING_LAW');
  assert.ok(laws.some((e) => e.normalized === 'US-TX'), JSON.stringify(laws));
  assert.ok(s.entities.some((e) => e.label === 'PARTY' && /cano/i.test(e.text)), JSON.stringify(s.entities.filter((e) => e.label === 'PARTY')));

  const search = async (q: string) => ((await (await fetch(`${base}/v1/search?${q}`)).json()) as { documents: { document_id: string }[] }).documents.map((d) => d.document_id);
  assert.ok((await search('law=US-TX')).includes(scannedId), 'found by governing law (code)');
  assert.ok((await search('law=Texas')).includes(scannedId), 'found by governing law (name)');
  assert.ok((await search('party=Cano%20Petroleum')).includes(scannedId), 'found by party');
  assert.ok(!(await search('party=Cano%20Petroleum')).includes(nativeId));
  // The scan's 3 OCR'd pages went through the page-text memo, whose counts are on the processor's /metrics.
  const metrics = await (await fetch(`http://127.0.0.1:${processor.httpPort}/metrics`)).text();
  const series = (name: string) => Number(new RegExp(`^${name}\\{processor="${processor.name}"\\} (\\S+)$`, 'm').exec(metrics)?.[1]);
  assert.ok(series('streamscore_documents_page_memo_misses_total') >= 3, metrics.split('\n').filter((l) => l.includes('page_memo')).join('\n'));
  assert.ok(series('streamscore_documents_page_memo_entries') >= 3 && series('streamscore_documents_page_memo_bytes') > 0);
});

test('bad PDFs come back rejected with the reason; the processor goes on', { timeout: 180_000 }, async () => {
  const cases: [string, RegExp][] = [
    ['encrypted-user-password.pdf', /^encrypted: /],
    ['contract-truncated.pdf', /^corrupt: /],
    ['many-pages-2000.pdf', /^too many pages: /],
    ['oversized-page.pdf', /^page too large: /],
  ];
  const ids = await Promise.all(cases.map(([file]) => upload(fixture(`pages/fixtures/${file}`), file)));
  const answers = await Promise.all(ids.map(waitFor));
  answers.forEach((a, k) => {
    assert.equal(a.status, 'rejected', `${cases[k][0]}: ${JSON.stringify(a)}`);
    assert.match(a.reason ?? '', cases[k][1], cases[k][0]);
  });
  // Refused at the door, before Kafka: not a PDF, and empty.
  for (const body of [Buffer.from('PK\u0003\u0004 not a pdf'), Buffer.alloc(0)]) {
    const res = await fetch(`${base}/v1/documents`, { method: 'POST', headers: { 'content-type': 'application/pdf' }, body });
    assert.ok(res.status === 400 || res.status === 415, `status ${res.status}`);
    assert.ok(((await res.json()) as { error?: string }).error, 'a reason in the body');
  }
  // Still healthy: a good document right after.
  const after = await waitFor(await upload(fixture('pages/fixtures/contract.pdf'), 'contract.pdf'));
  assert.equal(after.status, 'done');
});
