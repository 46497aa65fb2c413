// How much of a document the pages step reads before it refuses it. The numbers bound memory and
// time per worker job: a page is rendered at `ocrDpi` into an 8-bit gray buffer (one byte per pixel,
// plus pdfjs' RGBA canvas at four), so `maxPagePixels` caps one OCR job's memory at ~5 x that.

export interface DocumentLimits {
  /** Bytes of one uploaded document (PDF, image or text). */
  maxBytes: number;
  /** Pages of one PDF; a longer one is refused from its page count, before any page is parsed. */
  maxPages: number;
  /** Pixels (width x height) of one page rendered at `ocrDpi`, or of one uploaded image. */
  maxPagePixels: number;
  /** Resolution pages are rendered at for OCR (tesseract is trained on ~300 dpi text). */
  ocrDpi: number;
  /**
   * Wall time for reading one PDF's text layer, checked between pages; under the processor's 2-minute
   * job deadline (the hard stop) so the rejection says why. The slowest CUAD PDF (154 pages, tables of
   * 340,000 operators a page) takes ~10 s on an idle core, ~45 s on a host loaded 3x over.
   */
  readTimeoutMs: number;
}

export const DEFAULT_DOCUMENT_LIMITS: DocumentLimits = Object.freeze({
  maxBytes: 50 * 1024 * 1024,
  maxPages: 500,
  // A3 / US tabloid at 300 dpi is ~17.4 Mpx; this allows up to ~A2 (35 Mpx) and refuses posters and drawings.
  maxPagePixels: 36_000_000,
  ocrDpi: 300,
  readTimeoutMs: 100_000,
});

/** `partial` over the defaults, each value checked (a limit of NaN or 0 would accept or refuse everything). */
export function documentLimits(partial: Partial<DocumentLimits> = {}): DocumentLimits {
  const limits = { ...DEFAULT_DOCUMENT_LIMITS, ...partial };
  for (const [name, value] of Object.entries(limits)) {
    if (!Number.isFinite(value) || value <= 0) throw new Error(`document limit ${name} must be a positive number, got ${value}`);
  }
  return limits;
}
