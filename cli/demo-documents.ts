// The LexiScan part of `npm run demo`: the documents processor (pdf.js text layer or tesseract.js
// OCR per page, the legal NER model and the rules, on the worker pool) and the upload API; a native
// 10-page contract and a scanned 3-page contract (CUAD test-split contracts the model never saw)
// are uploaded through the API and their validated entities printed; then where to look.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { REPO_ROOT } from '../infra/stack/config.ts';
import { startDocumentsService, type DocumentsService } from '../connectors/documents-api/service.ts';
import { blobStoreFromEnv } from '../streams/documents/blob-store.ts';
import { nerModelSpec } from '../streams/documents/ner/model.ts';
import { documentsProcessor } from '../streams/documents/topology.ts';
import { startProcessor, type RuntimeOptions } from '../streams/runtime/kafka-runner.ts';

const FIXTURES = join(REPO_ROOT, 'streams', 'documents', 'fixtures');
const DEMO_CONTRACTS = [
  { file: 'native-servicing-10p.pdf', what: 'native 10-page servicing agreement' },
  { file: 'scanned-sponsorship-3p.pdf', what: 'scanned 3-page sponsorship agreement' },
];
const API_PORT = 8097;

interface EntityView { label: string; text: string; normalized: string | null; confidence: number; page: number; problems: string[] }
interface StatusView { status: string; reason?: string; pages?: number; ocr_used?: boolean; contract_type?: string | null; contract_type_confidence?: number | null; entities?: EntityView[]; needs_review?: boolean; validation_errors?: string[] }

export interface DocumentsDemo {
  ok: boolean;
  apiUrl: string;
  stop(): Promise<void>;
}

export async function demoDocuments(options: RuntimeOptions, say: (line: string) => void): Promise<DocumentsDemo> {
  const model = nerModelSpec();
  const blobs = blobStoreFromEnv();
  const processor = await startProcessor(documentsProcessor(model, blobs), { ...options, metricsPort: 0 });
  say(`processor documents running (${model.name} ${model.version}, tesseract.js OCR): http://127.0.0.1:${processor.httpPort}/metrics`);
  const serviceOptions = { brokers: options.kafkaBrokers, schemaRegistryUrl: options.schemaRegistryUrl, keyring: null, access: { metrics: 'open', health: 'open' } as const, blobs, logger: options.logger! };
  const service: DocumentsService = await startDocumentsService({ ...serviceOptions, port: API_PORT }).catch((err: Error & { code?: string }) => {
    if (err.code !== 'EADDRINUSE' && !/EADDRINUSE/.test(err.message)) throw err;
    return startDocumentsService({ ...serviceOptions, port: 0 });
  });
  const base = `http://127.0.0.1:${service.api.port}`;
  for (const deadline = Date.now() + 30_000; (await fetch(`${base}/readyz`)).status !== 200 && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 300));
  say(`documents API (no keys: demo on loopback): ${base}/v1/documents`);

  let ok = true;
  const t0 = Date.now();
  const ids = await Promise.all(
    DEMO_CONTRACTS.map(async (c) => {
      const res = await fetch(`${base}/v1/documents?filename=${encodeURIComponent(c.file)}`, { method: 'POST', headers: { 'content-type': 'application/pdf' }, body: await readFile(join(FIXTURES, c.file)) });
      return ((await res.json()) as { document_id: string }).document_id;
    }),
  );
  say(`uploaded ${DEMO_CONTRACTS.map((c, i) => `${c.what} (${ids[i]})`).join(' and ')} -> docs.uploads.v1`);
  for (const [i, id] of ids.entries()) {
    let body: StatusView = { status: 'queued' };
    for (let tries = 0; tries < 8 && body.status === 'queued'; tries++) body = (await (await fetch(`${base}/v1/documents/${id}?wait=30`)).json()) as StatusView;
    if (body.status !== 'done') {
      ok = false;
      say(`  ${DEMO_CONTRACTS[i].what}: ${body.status}${body.reason ? ` (${body.reason})` : ''}`);
      continue;
    }
    say(`  ${DEMO_CONTRACTS[i].what}: ${body.pages} pages${body.ocr_used ? ' (OCR)' : ' (text layer)'}, type ${body.contract_type} (${(body.contract_type_confidence ?? 0).toFixed(2)}), ${body.entities!.length} entities${body.needs_review ? ', sent to review' : ''}, after ${((Date.now() - t0) / 1000).toFixed(1)} s:`);
    const shown = new Set<string>();
    // Entities the rules could normalise first (a date, a jurisdiction, a party's defined name), then by confidence.
    const ruleProblems = (e: EntityView) => e.problems.filter((p) => !p.startsWith('low confidence')).length;
    const ranked = [...body.entities!].sort((a, b) => ruleProblems(a) - ruleProblems(b) || Number(b.normalized !== null) - Number(a.normalized !== null) || b.confidence - a.confidence);
    for (const e of ranked) {
      const line = `${e.label} ${e.normalized ?? e.text}`;
      if (shown.has(line) || shown.size >= 14) continue;
      shown.add(line);
      const text = e.text.length > 70 ? `${e.text.slice(0, 67)}...` : e.text;
      say(`    ${e.label.padEnd(28)} p${e.page} ${e.confidence.toFixed(2)} ${JSON.stringify(text)}${e.normalized && e.normalized !== e.text ? ` -> ${e.normalized.slice(0, 60)}` : ''}`);
    }
    for (const p of body.validation_errors ?? []) say(`    ! ${p}`);
  }
  return {
    ok,
    apiUrl: base,
    async stop() {
      await service.close();
      await processor.stop();
    },
  };
}
