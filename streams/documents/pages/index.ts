// Pages to text (LexiScan, issue #10): the names the processor imports (notes: lexiscan-contract.md).
// Step 1, one job per document: sniffDocument, then readPdfPages (text layer per page, null = OCR).
// Step 2, one job per page without a real text layer: ocrPdfPage (or ocrImage for page images).
// Then cleanPageTexts over all pages of the document; entity offsets point into its output.
export { DocumentRejectedError, type DocumentRejection } from './errors.ts';
export { DEFAULT_DOCUMENT_LIMITS, documentLimits, type DocumentLimits } from './limits.ts';
export { sniffDocument, decodeTextDocument, type DocumentKind, type SniffedDocument } from './sniff.ts';
export { readPdfPages, type PdfPages, type ReadPdfOptions } from './read-pdf.ts';
export { readTextPages } from './text-file.ts';
export { ocrPdfPage, ocrImage, closeTesseract, DEFAULT_CLEANUP, type OcrOptions } from './ocr.ts';
export { CLEANUP_STEPS, type CleanupStep } from './image-cleanup.ts';
export { cleanPageTexts } from './clean-text.ts';
export type { OcrMode, PageSource, PageText } from './types.ts';
