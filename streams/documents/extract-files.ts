// `streamscore documents extract FILE... [--json] [--ocr auto|always|never] [--model DIR]`: the
// documents processor's steps (extract.ts) run in-process on files, no stack needed — for batch
// use and evaluation. One result per file: a JSON line with the ExtractedEntities fields, or a
// readable summary; a bad file is reported and the rest go on, and the exit code is 1 at the end if
// any file failed.
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { batchFiles } from '../runtime/file-list.ts';
import { FileModelSource, type LoadedModel } from '../runtime/models.ts';
import { analyzePages } from './analyze.ts';
import { extractDocument, OCR_MODES, type Extraction, type ExtractionSteps, type OcrMode } from './extract.ts';
import { DEFAULT_NER_MODEL_DIR, nerModelSpec, type NerModelSpec } from './ner/model.ts';
import { documentDriftValues } from './drift.ts';
import { closeTesseract, DEFAULT_DOCUMENT_LIMITS, DocumentRejectedError, ocrImage, ocrPdfPage, readPdfPages } from './pages/index.ts';

export const EXTRACT_USAGE = `usage: streamscore documents extract FILE... [--files-from LIST|-] [--json] [--ocr auto|always|never] [--model DIR] [--pages-out DIR]

  FILE          a PDF (native or scanned), an image of a page (PNG, JPEG, TIFF) or UTF-8 text;
                the type is read from the bytes, not the name
  --json        one JSON object per file on stdout (a failed file: {"file", "error"})
  --ocr MODE    auto (default): OCR only the PDF pages without a real text layer;
                always: OCR every page; never: text layers only
  --model DIR   model-meta.json + legal-ner.onnx + tokenizer.json (default models/documents/artifacts)
  --pages-out DIR  also write each file's cleaned page texts (what the offsets point into) to
                DIR/NAME.txt, pages separated by form feeds: to read what OCR saw, or to run the
                NER again on the same text without OCR (extract DIR/NAME.txt)
  --files-from LIST  also the files listed in LIST, one path a line (- for stdin); the command
                uses it itself when its command line is long (a long one crashes onnxruntime)
`;

/** The JSON object of one file: ExtractedEntities' fields plus what a batch run needs to know. */
export function reportOf(file: string, r: Extraction, spec: NerModelSpec, ms: number) {
  return {
    file,
    kind: r.kind,
    pages: r.pageCount,
    ocr_used: r.ocrUsed,
    page_sources: r.pageSources,
    contract_type: r.contractType,
    contract_type_confidence: r.contractTypeConfidence,
    entities: r.entities,
    needs_review: r.needsReview,
    validation_errors: r.validationErrors,
    model_name: spec.name,
    model_version: spec.version,
    ner_tokens: r.nerTokens,
    // The processor's drift sample of this document (drift.ts; NaN is written as null): what a reference is made of.
    drift: documentDriftValues(r),
    elapsed_ms: Math.round(ms),
  };
}

function summary(report: ReturnType<typeof reportOf>): string {
  const lines = [`${report.file}: ${report.kind}, ${report.pages} page(s)${report.ocr_used ? ', OCR' : ''}, ${report.contract_type ?? 'unknown type'} (${(report.contract_type_confidence ?? 0).toFixed(2)}), ${report.entities.length} entities, ${report.elapsed_ms} ms${report.needs_review ? ', NEEDS REVIEW' : ''}`];
  for (const e of report.entities) {
    const text = e.text.length > 90 ? `${e.text.slice(0, 87)}...` : e.text;
    lines.push(`  ${e.label.padEnd(28)} p${e.page} ${e.confidence.toFixed(2)}  ${JSON.stringify(text)}${e.normalized && e.normalized !== e.text ? ` -> ${e.normalized}` : ''}${e.problems.length ? `  [${e.problems.join('; ')}]` : ''}`);
  }
  for (const p of report.validation_errors) lines.push(`  ! ${p}`);
  return lines.join('\n');
}

function readDocument(file: string): Uint8Array {
  let size: number;
  try {
    const st = statSync(file);
    if (!st.isFile()) throw new DocumentRejectedError('unsupported type', 'not a regular file');
    size = st.size;
  } catch (err) {
    if (err instanceof DocumentRejectedError) throw err;
    throw new DocumentRejectedError('corrupt', `cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  // Checked before reading, so a 50 GB file is refused without being loaded.
  if (size > DEFAULT_DOCUMENT_LIMITS.maxBytes) throw new DocumentRejectedError('too large', `file is ${size} bytes, over the limit of ${DEFAULT_DOCUMENT_LIMITS.maxBytes}`);
  return new Uint8Array(readFileSync(file));
}

/** The documents processor's steps run in this thread, one after another (one OCR engine). */
export function inProcessSteps(model: Pick<LoadedModel, 'run'>, spec: NerModelSpec): ExtractionSteps {
  return {
    readPdf: (bytes, ocr) => readPdfPages(bytes, {}, { ocr }),
    ocrPdfPage: (bytes, page) => ocrPdfPage(bytes, page),
    ocrImage: (bytes) => ocrImage(bytes),
    analyze: (pages) => analyzePages(pages, model, spec),
  };
}

export interface ExtractIo {
  out(line: string): void;
  err(line: string): void;
}

export async function runExtract(args: string[], io: ExtractIo = { out: (l) => process.stdout.write(`${l}\n`), err: (l) => process.stderr.write(`${l}\n`) }): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args, allowPositionals: true, strict: true, tokens: true, options: { json: { type: 'boolean' }, 'files-from': { type: 'string' }, ocr: { type: 'string', default: 'auto' }, model: { type: 'string' }, 'pages-out': { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  } catch (err) {
    io.err(`streamscore documents extract: ${(err as Error).message}\n\n${EXTRACT_USAGE}`);
    return 2;
  }
  const { values, positionals, tokens } = parsed;
  if (values.help) {
    io.out(EXTRACT_USAGE);
    return 0;
  }
  const ocr = values.ocr as OcrMode;
  if (!OCR_MODES.includes(ocr)) {
    io.err(`streamscore documents extract: --ocr must be one of ${OCR_MODES.join(', ')}, got ${JSON.stringify(values.ocr)}\n\n${EXTRACT_USAGE}`);
    return 2;
  }
  // A long command line crashes onnxruntime's session creation: the same command again, the files on its stdin.
  const files = await batchFiles(['documents', 'extract'], args, { positionals, tokens }, values['files-from'], io.err);
  if (typeof files === 'number') return files;
  if (files.length === 0) {
    io.err(`streamscore documents extract: no FILE given\n\n${EXTRACT_USAGE}`);
    return 2;
  }
  const pagesOut = values['pages-out'] ? resolve(values['pages-out']) : null;
  if (pagesOut) mkdirSync(pagesOut, { recursive: true });
  const spec = nerModelSpec(values.model ?? DEFAULT_NER_MODEL_DIR);
  const model = await new FileModelSource().load(spec, { intraOpThreads: availableParallelism() });
  const steps = inProcessSteps(model, spec);
  let failed = 0;
  try {
    for (const file of files) {
      const started = performance.now();
      try {
        const r = await extractDocument(readDocument(file), ocr, steps);
        if (!r) throw new Error('extraction stopped without a result'); // in-process steps never answer null
        const report = reportOf(file, r, spec, performance.now() - started);
        if (pagesOut) writeFileSync(join(pagesOut, `${basename(file)}.txt`), r.pageTexts.join('\f'));
        io.out(values.json ? JSON.stringify(report) : summary(report));
      } catch (err) {
        // A document's own fault is reported and the run goes on; anything else (the model) ends it.
        if (!(err instanceof DocumentRejectedError)) throw err;
        failed++;
        if (values.json) io.out(JSON.stringify({ file, error: err.message }));
        io.err(`${file}: ${err.message}`);
      }
    }
  } finally {
    await Promise.all([model.close(), closeTesseract()]);
  }
  if (failed) io.err(`${failed} of ${files.length} file${files.length > 1 ? 's' : ''} could not be read`);
  return failed ? 1 : 0;
}
