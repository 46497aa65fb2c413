// A PDF page rendered for OCR: pdfjs draws it onto an @napi-rs/canvas at the OCR resolution, on
// white (a transparent page would read as black after the alpha is dropped), and it comes back as
// 8-bit gray, the input of the image clean-up and of tesseract.
import { createCanvas } from '@napi-rs/canvas';
import { DocumentRejectedError } from './errors.ts';
import type { DocumentLimits } from './limits.ts';
import { openPdf, pdfRejection, withDeadline } from './pdf-document.ts';
import { checkPagePixels, pagePixels } from './read-pdf.ts';

export interface GrayImage {
  /** One byte per pixel, row-major, 0 = black. */
  pixels: Uint8Array;
  width: number;
  height: number;
}

/** Luma (ITU-R BT.601) of RGBA pixels, in integer arithmetic. */
export function rgbaToGray(rgba: Uint8Array | Uint8ClampedArray, width: number, height: number): GrayImage {
  const pixels = new Uint8Array(width * height);
  for (let i = 0, j = 0; i < pixels.length; i++, j += 4) pixels[i] = (77 * rgba[j] + 150 * rgba[j + 1] + 29 * rgba[j + 2] + 128) >> 8;
  return { pixels, width, height };
}

export async function renderPdfPage(bytes: Uint8Array, pageNumber: number, limits: Pick<DocumentLimits, 'ocrDpi' | 'maxPagePixels' | 'readTimeoutMs'>): Promise<GrayImage> {
  const { doc, close } = await openPdf(bytes, limits.readTimeoutMs);
  try {
    if (!Number.isInteger(pageNumber) || pageNumber < 1 || pageNumber > doc.numPages) {
      throw new DocumentRejectedError('corrupt', `page ${pageNumber} does not exist; the PDF has ${doc.numPages} pages`);
    }
    const page = await doc.getPage(pageNumber);
    const size = pagePixels(page, limits.ocrDpi);
    checkPagePixels(pageNumber, size, limits);
    const viewport = page.getViewport({ scale: limits.ocrDpi / 72 });
    const canvas = createCanvas(size.width, size.height);
    const render = page.render({ canvas: canvas as unknown as Parameters<typeof page.render>[0]['canvas'], viewport, background: 'white', intent: 'print' });
    await withDeadline(render.promise, limits.readTimeoutMs, `rendering page ${pageNumber}`).catch((err) => {
      render.cancel();
      throw err;
    });
    const rgba = canvas.getContext('2d').getImageData(0, 0, size.width, size.height).data;
    page.cleanup();
    return rgbaToGray(rgba, size.width, size.height);
  } catch (err) {
    throw pdfRejection(err, `page ${pageNumber} could not be rendered`);
  } finally {
    await close();
  }
}
