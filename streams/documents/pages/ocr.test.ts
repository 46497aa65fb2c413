// OCR of one small rendered page and one page image with the local English model (no network),
// and the rejections of images that cannot or must not be read.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { DocumentRejectedError } from './errors.ts';
import { closeTesseract, ocrImage, ocrPdfPage } from './ocr.ts';
import { SCAN_LINES } from './fixtures/make-fixtures.ts';

const fixture = (name: string) => readFileSync(join(import.meta.dirname, 'fixtures', name));
const EXPECTED = SCAN_LINES.join('\n');

/** Levenshtein distance / reference length: the character error rate. */
function cer(hypothesis: string, reference: string): number {
  let prev = Array.from({ length: hypothesis.length + 1 }, (_, j) => j);
  for (let i = 1; i <= reference.length; i++) {
    const row = [i];
    for (let j = 1; j <= hypothesis.length; j++) row[j] = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (reference[i - 1] === hypothesis[j - 1] ? 0 : 1));
    prev = row;
  }
  return prev[hypothesis.length] / reference.length;
}

async function rejection(p: Promise<unknown>): Promise<DocumentRejectedError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof DocumentRejectedError, `expected DocumentRejectedError, got ${(err as Error).name}: ${(err as Error).message}`);
    return err;
  }
  assert.fail('accepted');
}

after(closeTesseract);

describe('OCR', () => {
  it('a scanned PDF page: rendered, deskewed, recognised', async () => {
    const page = await ocrPdfPage(fixture('scan.pdf'), 1);
    assert.equal(page.page, 1);
    assert.equal(page.source, 'ocr');
    assert.ok(cer(page.text, EXPECTED) < 0.03, `CER ${cer(page.text, EXPECTED)}: ${JSON.stringify(page.text)}`);
    assert.ok(page.ocrConfidence! > 0.8 && page.ocrConfidence! <= 1, `confidence ${page.ocrConfidence}`);
  });

  it('a page image, turned 2 degrees as a scanner would, with every clean-up step', async () => {
    const skewed = await sharp(fixture('scan-page.png')).rotate(2, { background: '#ffffff' }).jpeg({ quality: 80 }).toBuffer();
    const page = await ocrImage(skewed, { cleanup: ['deskew', 'denoise', 'binarize'] });
    assert.equal(page.source, 'image-ocr');
    assert.ok(cer(page.text, EXPECTED) < 0.05, `CER ${cer(page.text, EXPECTED)}: ${JSON.stringify(page.text)}`);
  });
});

describe('OCR input that is refused', () => {
  it('a page number the PDF does not have', async () => {
    assert.equal((await rejection(ocrPdfPage(fixture('scan.pdf'), 2))).message, 'corrupt: page 2 does not exist; the PDF has 1 pages');
  });

  it('a page too large to render, before anything is allocated', async () => {
    assert.equal((await rejection(ocrPdfPage(fixture('oversized-page.pdf'), 1))).rejection, 'page too large');
  });

  it('an encrypted PDF', async () => {
    assert.equal((await rejection(ocrPdfPage(fixture('encrypted-user-password.pdf'), 1))).rejection, 'encrypted');
  });

  it('an image larger than maxPagePixels (read from its header, not decoded)', async () => {
    const huge = await sharp({ create: { width: 8000, height: 6000, channels: 3, background: '#ffffff' } }).grayscale().png({ compressionLevel: 1 }).toBuffer();
    assert.equal((await rejection(ocrImage(huge))).message, 'page too large: the image is 8000 x 6000 pixels (48.0 Mpx), more than the 36.0 Mpx an OCR job may read');
  });

  it('a multi-page TIFF (one OCR job reads one page)', async () => {
    const page = sharp({ create: { width: 40, height: 40, channels: 3, background: '#ffffff' } });
    const tiff = await sharp([await page.png().toBuffer(), await page.png().toBuffer()], { join: { animated: true } }).tiff().toBuffer();
    assert.match((await rejection(ocrImage(tiff))).message, /^unsupported type: the image has 2 pages \(a multi-page TIFF\); send a PDF, or one image per page$/);
  });

  it('bytes that do not decode as an image', async () => {
    const png = fixture('scan-page.png');
    const err = await rejection(ocrImage(png.subarray(0, 200)));
    assert.equal(err.rejection, 'corrupt');
    assert.match(err.message, /^corrupt: the image could not be decoded: /);
    assert.equal((await rejection(ocrImage(new Uint8Array(0)))).rejection, 'empty');
  });
});
