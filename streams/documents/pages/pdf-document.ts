// Opening a PDF with pdfjs-dist (legacy build, for Node) offline: fonts, CMaps,
// ICC profiles and image decoders (JBIG2, JPEG 2000 as wasm) come from the pdfjs-dist package on
// disk, never from the web. pdfjs' own errors become DocumentRejectedErrors with a reason.
// No eval: pdfjs-dist 6 has no `isEvalSupported` option any more because neither its display nor its
// worker build contains `new Function`/`eval` (checked in node_modules; CVE-2024-4367 was that path).
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as pdfjs from 'pdfjs-dist/legacy/build/pdf.mjs';
import type { PDFDocumentProxy } from 'pdfjs-dist/types/src/display/api.d.ts';
import { DocumentRejectedError } from './errors.ts';

export { pdfjs };
export type { PDFDocumentProxy };

const PDFJS_ROOT = dirname(createRequire(import.meta.url).resolve('pdfjs-dist/package.json'));
/** pdfjs reads these with fs in Node when they are paths (with the trailing slash it asks for). */
const ASSETS = {
  standardFontDataUrl: join(PDFJS_ROOT, 'standard_fonts') + '/',
  cMapUrl: join(PDFJS_ROOT, 'cmaps') + '/',
  iccUrl: join(PDFJS_ROOT, 'iccs') + '/',
  wasmUrl: join(PDFJS_ROOT, 'wasm') + '/',
};

/** Decoded images above this many pixels are not drawn (a decompression bomb in an image XObject). */
const MAX_IMAGE_PIXELS = 100_000_000;

export interface OpenedPdf {
  doc: PDFDocumentProxy;
  close(): Promise<void>;
}

/** The PDF in `bytes`, opened; a DocumentRejectedError if it needs a password, is not a PDF or is broken beyond repair. */
export async function openPdf(bytes: Uint8Array, timeoutMs: number): Promise<OpenedPdf> {
  const task = pdfjs.getDocument({
    // A copy: pdfjs may detach the buffer it is given, and it refuses Node Buffers.
    data: new Uint8Array(bytes),
    enableXfa: false,
    useSystemFonts: false,
    disableFontFace: true,
    useWorkerFetch: false,
    isOffscreenCanvasSupported: false,
    isImageDecoderSupported: false,
    maxImageSize: MAX_IMAGE_PIXELS,
    verbosity: pdfjs.VerbosityLevel.ERRORS,
    ...ASSETS,
  });
  const close = () => task.destroy();
  try {
    const doc = await withDeadline(task.promise, timeoutMs, 'opening the PDF');
    return { doc, close };
  } catch (err) {
    await close().catch(() => {});
    throw pdfRejection(err, 'the PDF could not be opened');
  }
}

/** A DocumentRejectedError for an error pdfjs threw (or the error itself when it already is one). */
export function pdfRejection(err: unknown, context: string): DocumentRejectedError {
  if (err instanceof DocumentRejectedError) return err;
  const e = err as { name?: string; message?: string; code?: number };
  if (e?.name === 'PasswordException') {
    const detail = e.code === pdfjs.PasswordResponses.INCORRECT_PASSWORD ? 'the password given is wrong' : 'the PDF needs a password to open';
    return new DocumentRejectedError('encrypted', `${detail}; send it without the password protection`, { cause: err });
  }
  return new DocumentRejectedError('corrupt', `${context}: ${e?.message ?? String(err)}`, { cause: err });
}

/** `promise`, or a 'timed out' rejection after `ms` (the worker pool's deadline stops work that never yields). */
export async function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DocumentRejectedError('timed out', `${what} took longer than ${ms} ms`)), ms);
  });
  // The loser of the race still settles later (rejected when the document is closed): observed here, so it is no unhandled rejection.
  promise.catch(() => {});
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
