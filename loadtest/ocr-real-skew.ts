// Deskew on real scans: OCRmyPDF's skew.pdf and rotated_skew.pdf are linn.png scanned at a slant
// (the second also turned by the page's /Rotate), and linn.txt is their transcription. Character
// error rate of ocrPdfPage without clean-up and with the default one (docs/documents-ocr.md).
//   node loadtest/ocr-real-skew.ts [--out loadtest/results/ocr-real-skew-DATE.json]
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { estimateSkewDegrees } from '../streams/documents/pages/image-cleanup.ts';
import { closeTesseract, DEFAULT_CLEANUP, ocrPdfPage } from '../streams/documents/pages/ocr.ts';
import { renderPdfPage } from '../streams/documents/pages/render.ts';

const { values: args } = parseArgs({ options: { out: { type: 'string' } } });
const SCANS = new URL('../../shared/data/ocr-scans-ocrmypdf/', import.meta.url).pathname;
const normalize = (text: string) => text.normalize('NFKC').replace(/\s+/gu, ' ').trim();
function editDistance(a: string, b: string): number {
  let prev = new Uint32Array(b.length + 1).map((_, j) => j);
  let row = new Uint32Array(b.length + 1);
  for (let i = 1; i <= a.length; i++) {
    row[0] = i;
    for (let j = 1; j <= b.length; j++) row[j] = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    [prev, row] = [row, prev];
  }
  return prev[b.length];
}

const reference = normalize(readFileSync(join(SCANS, 'linn.txt'), 'utf8'));
const results = [];
for (const file of ['skew.pdf', 'rotated_skew.pdf']) {
  const bytes = readFileSync(join(SCANS, file));
  const skew = await estimateSkewDegrees(await renderPdfPage(bytes, 1, { ocrDpi: 300, maxPagePixels: 60e6, readTimeoutMs: 60_000 }));
  for (const cleanup of [[], DEFAULT_CLEANUP]) {
    const page = await ocrPdfPage(bytes, 1, { cleanup });
    const cer = editDistance(normalize(page.text), reference) / reference.length;
    results.push({ file, estimatedSkewDegrees: skew, cleanup: cleanup.join(' + ') || 'none', cer, confidence: page.ocrConfidence });
    console.log(`${file} (skew ${skew} degrees), clean-up ${cleanup.join(' + ') || 'none'}: CER ${(cer * 100).toFixed(2)}%, confidence ${page.ocrConfidence}`);
  }
}
await closeTesseract();
const out = args.out ?? `loadtest/results/ocr-real-skew-${new Date().toISOString().slice(0, 10)}.json`;
writeFileSync(out, JSON.stringify({ command: 'node loadtest/ocr-real-skew.ts', referenceChars: reference.length, results }, null, 2) + '\n');
