// LexiScan speed on this machine (docs/benchmarks.md), each against a baseline measured in the same run:
//   1. text-layer documents/s: readPdfPages (pdf.js, per-page text-layer verdict) on CUAD PDFs, one
//      thread, against poppler's `pdftotext` CLI on the same files;
//   2. NER tokens/s: runNer (tokenise, chunk, ONNX, merge) on CUAD contract texts, one ORT thread,
//      against bare onnxruntime runs of the same chunk tensors (the model alone);
//   3. upload -> JSON latency p50/p99 through the documents API, Kafka and the documents processor
//      (2 pool threads, the defaults on 2 cores) for the native 10-page and the scanned 3-page
//      fixtures, one upload at a time, against `documents extract`'s in-process steps on the same file.
// OCR pages/s against the native tesseract CLI is loadtest/ocr-eval.ts.
//   node loadtest/documents-e2e.ts [--pdfs 40] [--texts 20] [--native 12] [--scans 6] [--out loadtest/results/x.json]
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { serviceEnv } from '../cli/env.ts';
import { applyTopics } from '../cli/topics.ts';
import { startDocumentsService } from '../connectors/documents-api/service.ts';
import { up } from '../infra/stack/stack.ts';
import { LocalBlobStore } from '../streams/documents/blob-store.ts';
import { extractDocument } from '../streams/documents/extract.ts';
import { inProcessSteps } from '../streams/documents/extract-files.ts';
import { chunkIds, chunkStarts, tokenize } from '../streams/documents/ner/chunking.ts';
import { nerModelSpec, nerWordPieces } from '../streams/documents/ner/model.ts';
import { chunkFeeds, runNer } from '../streams/documents/ner/ner.ts';
import { closeTesseract, readPdfPages } from '../streams/documents/pages/index.ts';
import { documentsProcessor } from '../streams/documents/topology.ts';
import { runtimeOptionsFromEnv } from '../streams/runtime/config.ts';
import { startProcessor } from '../streams/runtime/kafka-runner.ts';
import { createLogger } from '../streams/runtime/logger.ts';
import { loadModels } from '../streams/runtime/models.ts';
import { LatencyRecorder, writeResults } from './lib.ts';

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
};
const root = new URL('..', import.meta.url).pathname;
const cuad = join(root, '..', 'shared', 'data', 'cuad');
const out = arg('out', `loadtest/results/documents-e2e-${new Date().toISOString().slice(0, 10)}.json`);
const log = (line: string) => process.stderr.write(`${line}\n`);
const seconds = (ms: number) => Math.round(ms) / 1000;
if (!existsSync(cuad)) throw new Error(`needs CUAD at ${cuad} (../shared/data/cuad next to the repository)`);
// Other work on the machine shows in every number: recorded, with the baselines measured in the same run.
const loadAtStart = loadavg()[0];

// --- 1. text layer ---------------------------------------------------------------------------------
const pdfDir = join(cuad, 'full_contract_pdf');
const pdfs = readdirSync(pdfDir).filter((f) => /\.pdf$/i.test(f)).sort().slice(0, Number(arg('pdfs', '40'))).map((f) => join(pdfDir, f));
let pages = 0;
let t = performance.now();
for (const f of pdfs) pages += (await readPdfPages(new Uint8Array(readFileSync(f)), {}, { ocr: 'never' })).pageCount;
const pdfjsMs = performance.now() - t;
t = performance.now();
for (const f of pdfs) execFileSync('pdftotext', ['-q', f, '-'], { maxBuffer: 64 * 1024 * 1024 });
const popplerMs = performance.now() - t;
const textLayer = { documents: pdfs.length, pages, pdfjs: { seconds: seconds(pdfjsMs), docsPerSecond: (pdfs.length / pdfjsMs) * 1000, pagesPerSecond: (pages / pdfjsMs) * 1000 }, pdftotext: { seconds: seconds(popplerMs), docsPerSecond: (pdfs.length / popplerMs) * 1000 }, ratio: pdfjsMs / popplerMs };
log(`text layer: ${pdfs.length} PDFs (${pages} pages): pdf.js ${textLayer.pdfjs.docsPerSecond.toFixed(1)} docs/s, pdftotext ${textLayer.pdftotext.docsPerSecond.toFixed(1)} docs/s (x${textLayer.ratio.toFixed(2)} the time)`);

// --- 2. NER ----------------------------------------------------------------------------------------
const spec = nerModelSpec();
const model = (await loadModels([spec], { intraOpThreads: 1 }))[spec.name];
const txtDir = join(cuad, 'full_contract_txt');
const texts = readdirSync(txtDir).sort().slice(0, Number(arg('texts', '20'))).map((f) => readFileSync(join(txtDir, f), 'utf8'));
let tokens = 0;
t = performance.now();
for (const text of texts) tokens += (await runNer(model, spec, text)).tokens;
const nerMs = performance.now() - t;
// The model alone on the same chunks, batches of 8 as runNer sends them.
const pieces = nerWordPieces(spec);
const batches: Record<string, ort.Tensor>[] = [];
for (const text of texts) {
  const tok = tokenize(text, pieces);
  const rows = chunkIds(tok.ids, chunkStarts(tok.ids.length, spec.meta.max_length, spec.meta.stride), spec.meta.max_length, pieces);
  const width = Math.max(...rows.map((r) => r.length));
  for (let b = 0; b < rows.length; b += 8) batches.push(chunkFeeds(rows.slice(b, b + 8), width, pieces.padId));
}
t = performance.now();
for (const feeds of batches) await model.run(feeds);
const ortMs = performance.now() - t;
const ner = { texts: texts.length, tokens, runNer: { seconds: seconds(nerMs), tokensPerSecond: (tokens / nerMs) * 1000 }, onnxOnly: { seconds: seconds(ortMs), tokensPerSecond: (tokens / ortMs) * 1000 }, ratio: nerMs / ortMs };
log(`NER: ${tokens} tokens: runNer ${ner.runNer.tokensPerSecond.toFixed(0)} tokens/s, ONNX alone ${ner.onnxOnly.tokensPerSecond.toFixed(0)} tokens/s (x${ner.ratio.toFixed(2)} the time)`);

// --- 3. upload -> JSON --------------------------------------------------------------------------------
const fixtures = { native: join(root, 'streams/documents/fixtures/native-servicing-10p.pdf'), scanned: join(root, 'streams/documents/fixtures/scanned-sponsorship-3p.pdf') };
const counts = { native: Number(arg('native', '12')), scanned: Number(arg('scans', '6')) };
const steps = inProcessSteps(model, spec);
const inProcess: Record<string, ReturnType<LatencyRecorder['summary']>> = {};
for (const kind of ['native', 'scanned'] as const) {
  const rec = new LatencyRecorder();
  const bytes = new Uint8Array(readFileSync(fixtures[kind]));
  for (let i = 0; i < Math.max(2, Math.ceil(counts[kind] / 3)); i++) {
    const s = performance.now();
    await extractDocument(bytes, 'auto', steps);
    rec.add(performance.now() - s);
  }
  inProcess[kind] = rec.summary();
  log(`in-process extract, ${kind}: p50 ${inProcess[kind].p50.toFixed(0)} ms`);
}
await closeTesseract();
await model.close();

await up();
const env = serviceEnv();
await applyTopics(env);
const dir = mkdtempSync(join(tmpdir(), 'documents-bench-'));
const blobs = new LocalBlobStore({ root: join(dir, 'blobs'), minFreeBytes: 0 });
const logger = createLogger({ component: 'documents-bench' }).child({}, { level: 'warn' });
const options = { ...runtimeOptionsFromEnv({ ...env, METRICS_PORT: '0' }), logger };
const processor = await startProcessor(documentsProcessor(spec, blobs), options);
const service = await startDocumentsService({ brokers: options.kafkaBrokers, schemaRegistryUrl: options.schemaRegistryUrl, port: 0, keyring: null, access: { metrics: 'open', health: 'open' }, blobs, logger, env: { ...env, DOCUMENTS_INDEX_PATH: join(dir, 'documents.sqlite') } });
const base = `http://127.0.0.1:${service.api.port}`;
for (let i = 0; i < 60 && (await fetch(`${base}/readyz`)).status !== 200; i++) await new Promise((r) => setTimeout(r, 500));
const endToEnd: Record<string, ReturnType<LatencyRecorder['summary']>> = {};
for (const kind of ['native', 'scanned'] as const) {
  const rec = new LatencyRecorder();
  const bytes = readFileSync(fixtures[kind]);
  for (let i = -1; i < counts[kind]; i++) {
    const s = performance.now();
    // Each upload a different document (one changed byte in a PDF comment line): no cached result.
    const body = Buffer.concat([bytes, Buffer.from(`\n%bench ${kind} ${i} ${Date.now()}\n`)]);
    const res = await fetch(`${base}/v1/documents`, { method: 'POST', headers: { 'content-type': 'application/pdf' }, body });
    const { document_id } = (await res.json()) as { document_id: string };
    let status = 'queued';
    while (status === 'queued') status = ((await (await fetch(`${base}/v1/documents/${document_id}?wait=60`)).json()) as { status: string }).status;
    if (status !== 'done') throw new Error(`${kind} upload ${i}: ${status}`);
    if (i >= 0) rec.add(performance.now() - s); // the first is warm-up (workers load the model and tesseract)
  }
  endToEnd[kind] = rec.summary();
  log(`upload -> JSON, ${kind}: p50 ${endToEnd[kind].p50.toFixed(0)} ms, p99 ${endToEnd[kind].p99.toFixed(0)} ms (in-process ${inProcess[kind].p50.toFixed(0)} ms)`);
}
await service.close();
await processor.stop();
rmSync(dir, { recursive: true, force: true });

writeResults(out, {
  textLayer,
  ner,
  uploadToJson: Object.fromEntries((['native', 'scanned'] as const).map((k) => [k, { endToEnd: endToEnd[k], inProcessExtract: inProcess[k], p50Ratio: endToEnd[k].p50 / inProcess[k].p50 }])),
  loadAverage1m: { start: loadAtStart, end: loadavg()[0] },
  settings: { poolThreads: options.workers?.threads, ortThreads: options.workers?.ortThreads, model: `${spec.name}@${spec.version}` },
});
log(`results: ${out}`);
