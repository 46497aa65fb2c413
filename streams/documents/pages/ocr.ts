// Step 2 of a document (one worker job per page that needs it): OCR with tesseract.js and the local
// English LSTM model of @tesseract.js-data/eng (never the CDN: langPath is a directory on disk, so
// tesseract.js reads the file instead of fetching it). One tesseract worker per thread that calls
// this module (a pool thread), created on first use and reused for every page after.
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import sharp from 'sharp';
import { createWorker, OEM, PSM, type Worker } from 'tesseract.js';
import { DocumentRejectedError } from './errors.ts';
import { cleanUpImage, decodeToGray, toPgm, type CleanupStep } from './image-cleanup.ts';
import { documentLimits, type DocumentLimits } from './limits.ts';
import { renderPdfPage, type GrayImage } from './render.ts';
import type { PageText } from './types.ts';

/**
 * The clean-up steps on by default, kept because they lowered the character error rate
 * (docs/documents-ocr.md): deskew (scanned-looking CUAD pages 11.7% -> 4.9%) and the median filter
 * on speckled pages only (-> 1.0%; on every page it raised clean pages from 0.7% to 2.8%). Otsu
 * binarisation is left out: tesseract binarises itself, and it changed nothing or made it worse.
 */
export const DEFAULT_CLEANUP: readonly CleanupStep[] = ['deskew', 'denoise-if-speckled'];

export type TesseractModel = '4.0.0_best_int' | '4.0.0';
export interface OcrOptions {
  /** Clean-up steps before OCR (default DEFAULT_CLEANUP). */
  cleanup?: readonly CleanupStep[];
  /** Rendering resolution and size limits (default DEFAULT_DOCUMENT_LIMITS). */
  limits?: Partial<DocumentLimits>;
  /** Resolution of an uploaded image when its file does not say (most scans do). */
  imageDpi?: number;
}

const ENG_DATA_ROOT = dirname(createRequire(import.meta.url).resolve('@tesseract.js-data/eng/package.json'));
/** The LSTM model of tessdata_best, integer-quantised (2.9 MB): the same CER as `4.0.0` here, which adds the legacy engine's data (10.9 MB) we never use. */
export const TESSERACT_MODEL: TesseractModel = '4.0.0_best_int';

/** A new tesseract.js worker with the local English model (the pool keeps one per thread: tesseractWorker()). */
export function createTesseractWorker(model: TesseractModel = TESSERACT_MODEL): Promise<Worker> {
  return createWorker('eng', OEM.LSTM_ONLY, {
    langPath: join(ENG_DATA_ROOT, model),
    gzip: true,
    cachePath: join(tmpdir(), 'streamscore-tesseract'),
    // No cache: tesseract.js writes it with a plain writeFile, and another pool thread starting at
    // the same time could read it half-written. Gunzipping the model instead costs ~0.2 s per thread, once.
    cacheMethod: 'none',
    errorHandler: () => {},
  });
}

let worker: Promise<Worker> | null = null;

/** This thread's tesseract worker (started on first use, started again if starting failed). */
export function tesseractWorker(): Promise<Worker> {
  worker ??= createTesseractWorker().catch((err) => {
    worker = null;
    throw err;
  });
  return worker;
}

/** Ends this thread's tesseract worker (tests, shutdown); the next OCR starts a new one. */
export async function closeTesseract(): Promise<void> {
  const w = worker;
  worker = null;
  if (w) await (await w).terminate();
}

export interface OcrResult {
  text: string;
  /** Mean word confidence, 0..1. */
  confidence: number;
}

/** Tesseract on one gray image at `dpi`, fully automatic page segmentation (on `w`, default this thread's worker). */
export async function recognizeGray(image: GrayImage, dpi: number, w?: Worker): Promise<OcrResult> {
  const own = w === undefined;
  const engine = w ?? (await tesseractWorker());
  try {
    await engine.setParameters({ tessedit_pageseg_mode: PSM.AUTO, user_defined_dpi: String(Math.round(dpi)) });
    const { data } = await engine.recognize(toPgm(image));
    return { text: data.text.replace(/[ \t]+$/gmu, '').trim(), confidence: Math.max(0, Math.min(1, data.confidence / 100)) };
  } catch (err) {
    // A failed recognition may leave the wasm instance broken (out of memory): the next page gets a new worker.
    if (own) await closeTesseract().catch(() => {});
    throw err;
  }
}

/** Page `pageNumber` of a PDF rendered at the OCR resolution, cleaned up and OCR'd. */
export async function ocrPdfPage(bytes: Uint8Array, pageNumber: number, options: OcrOptions = {}): Promise<PageText> {
  const limits = documentLimits(options.limits);
  const rendered = await renderPdfPage(bytes, pageNumber, limits);
  const cleaned = await cleanUpImage(rendered, options.cleanup ?? DEFAULT_CLEANUP);
  const { text, confidence } = await recognizeGray(cleaned, limits.ocrDpi);
  return { page: pageNumber, text, source: 'ocr', ocrConfidence: confidence };
}

/** An uploaded page image (PNG, JPEG, TIFF), cleaned up and OCR'd; it is page 1. */
export async function ocrImage(bytes: Uint8Array, options: OcrOptions = {}): Promise<PageText> {
  const limits = documentLimits(options.limits);
  if (bytes.length === 0) throw new DocumentRejectedError('empty', 'the image has 0 bytes');
  if (bytes.length > limits.maxBytes) throw new DocumentRejectedError('too large', `the image has ${bytes.length} bytes, the limit is ${limits.maxBytes}`);
  let gray: GrayImage;
  let dpi: number;
  try {
    const meta = await sharp(bytes, { limitInputPixels: false }).metadata();
    const pixels = (meta.width ?? 0) * (meta.height ?? 0);
    if (pixels > limits.maxPagePixels) {
      throw new DocumentRejectedError('page too large', `the image is ${meta.width} x ${meta.height} pixels (${(pixels / 1e6).toFixed(1)} Mpx), more than the ${(limits.maxPagePixels / 1e6).toFixed(1)} Mpx an OCR job may read`);
    }
    if ((meta.pages ?? 1) > 1) {
      throw new DocumentRejectedError('unsupported type', `the image has ${meta.pages} pages (a multi-page ${meta.format?.toUpperCase()}); send a PDF, or one image per page`);
    }
    // Scanners write their resolution; a missing or implausible one falls back to `imageDpi`.
    dpi = meta.density && meta.density >= 70 && meta.density <= 1200 ? meta.density : (options.imageDpi ?? limits.ocrDpi);
    gray = await decodeToGray(bytes, limits.maxPagePixels);
  } catch (err) {
    if (err instanceof DocumentRejectedError) throw err;
    throw new DocumentRejectedError('corrupt', `the image could not be decoded: ${(err as Error).message}`, { cause: err });
  }
  const cleaned = await cleanUpImage(gray, options.cleanup ?? DEFAULT_CLEANUP);
  const { text, confidence } = await recognizeGray(cleaned, dpi);
  return { page: 1, text, source: 'image-ocr', ocrConfidence: confidence };
}
