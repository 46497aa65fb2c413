// Image clean-up before OCR, as separate steps so each one's effect on the character error rate is
// measured on its own (models/documents/ocr_eval, docs/documents-ocr.md) and only the steps that
// help are on by default. All steps work on 8-bit gray, one byte per pixel.
import sharp, { type Sharp } from 'sharp';
import type { GrayImage } from './render.ts';

/** `denoise-if-speckled`: the median filter only on a page with speckle (it thins small print on a clean page). */
export type CleanupStep = 'deskew' | 'denoise' | 'denoise-if-speckled' | 'binarize';
export const CLEANUP_STEPS: readonly CleanupStep[] = ['deskew', 'denoise', 'denoise-if-speckled', 'binarize'];
/** Share of isolated-speck pixels above which a page counts as speckled: measured 1e-6 on clean 300 dpi renders and
 *  on linn.png, <= 2.5e-5 on the OCRmyPDF scans, 1.5e-4 on the eval's made-to-look-scanned pages (docs/documents-ocr.md). */
export const SPECKLE_THRESHOLD = 0.00005;

const raw = (image: GrayImage) => sharp(image.pixels, { raw: { width: image.width, height: image.height, channels: 1 } });
async function toGray(pipeline: Sharp): Promise<GrayImage> {
  const { data, info } = await pipeline.toColourspace('b-w').raw().toBuffer({ resolveWithObject: true });
  if (info.channels !== 1) throw new Error(`expected 1 channel after clean-up, got ${info.channels}`);
  return { pixels: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height };
}

/** Any image sharp reads (PNG, JPEG, TIFF; first page), flattened on white and turned to gray. */
export async function decodeToGray(bytes: Uint8Array, maxPixels: number): Promise<GrayImage> {
  return toGray(sharp(bytes, { limitInputPixels: maxPixels, failOn: 'error' }).rotate().flatten({ background: '#ffffff' }).grayscale());
}

/** Otsu's threshold: the gray level that best separates ink from paper (maximum between-class variance). */
export function otsuThreshold(pixels: Uint8Array): number {
  const histogram = new Float64Array(256);
  for (const p of pixels) histogram[p]++;
  const total = pixels.length;
  let sumAll = 0;
  for (let i = 0; i < 256; i++) sumAll += i * histogram[i];
  let sumBelow = 0;
  let weightBelow = 0;
  let best = 0;
  let threshold = 127;
  for (let t = 0; t < 256; t++) {
    weightBelow += histogram[t];
    if (weightBelow === 0) continue;
    const weightAbove = total - weightBelow;
    if (weightAbove === 0) break;
    sumBelow += t * histogram[t];
    const meanBelow = sumBelow / weightBelow;
    const meanAbove = (sumAll - sumBelow) / weightAbove;
    const between = weightBelow * weightAbove * (meanBelow - meanAbove) ** 2;
    if (between > best) {
      best = between;
      threshold = t;
    }
  }
  return threshold;
}

/**
 * The skew of the text lines in degrees (positive: lines fall to the right, as after a clockwise
 * turn; the clean-up turns the page back by the negative), by projection profiles: ink pixels
 * of a reduced copy are projected onto the vertical axis at trial angles, and the angle whose
 * row histogram is most peaked (sum of squares) wins.
 * Coarse 0.5 degree steps over +-maxDegrees, then 0.05 degree steps around the best.
 */
export async function estimateSkewDegrees(image: GrayImage, maxDegrees = 5): Promise<number> {
  const scale = Math.min(1, 1000 / image.width);
  const small = scale < 1 ? await toGray(raw(image).resize({ width: Math.round(image.width * scale), kernel: 'linear' })) : image;
  const threshold = otsuThreshold(small.pixels);
  const xs: number[] = [];
  const ys: number[] = [];
  for (let y = 0; y < small.height; y++) {
    for (let x = 0; x < small.width; x++) {
      if (small.pixels[y * small.width + x] < threshold) {
        xs.push(x);
        ys.push(y);
      }
    }
  }
  if (xs.length < 100) return 0;
  const rows = new Float64Array(small.height + small.width + 2);
  const score = (degrees: number) => {
    const t = Math.tan((degrees * Math.PI) / 180);
    rows.fill(0);
    const offset = small.width;
    for (let i = 0; i < xs.length; i++) rows[Math.round(ys[i] - xs[i] * t) + offset]++;
    let s = 0;
    for (const r of rows) s += r * r;
    return s;
  };
  const search = (from: number, to: number, step: number) => {
    let best = 0;
    let bestScore = -1;
    for (let a = from; a <= to + 1e-9; a += step) {
      const s = score(a);
      if (s > bestScore) {
        bestScore = s;
        best = a;
      }
    }
    return best;
  };
  const coarse = search(-maxDegrees, maxDegrees, 0.5);
  return Math.round(search(coarse - 0.5, coarse + 0.5, 0.05) * 100) / 100 + 0;
}

/**
 * Share of the image's pixels that are isolated specks: ink (below Otsu's threshold) with no ink
 * among its 8 neighbours. Print has no one-pixel dots at 300 dpi; scanner dust and sensor noise do.
 */
export function speckleShare(image: GrayImage): number {
  const { pixels, width, height } = image;
  const t = otsuThreshold(pixels);
  let specks = 0;
  for (let y = 1; y < height - 1; y++) {
    for (let x = 1; x < width - 1; x++) {
      const i = y * width + x;
      if (pixels[i] > t) continue;
      if (
        pixels[i - 1] > t && pixels[i + 1] > t &&
        pixels[i - width - 1] > t && pixels[i - width] > t && pixels[i - width + 1] > t &&
        pixels[i + width - 1] > t && pixels[i + width] > t && pixels[i + width + 1] > t
      ) specks++;
    }
  }
  return specks / (width * height);
}

/** `image` with the steps applied in a fixed order: deskew, denoise (3x3 median; always or only if speckled), binarize (Otsu). */
export async function cleanUpImage(image: GrayImage, steps: readonly CleanupStep[]): Promise<GrayImage> {
  let out = image;
  if (steps.includes('deskew')) {
    const skew = await estimateSkewDegrees(out);
    // Below 0.1 degrees a rotation only blurs (resampling) without straightening anything visible.
    if (Math.abs(skew) >= 0.1) out = await toGray(raw(out).rotate(-skew, { background: { r: 255, g: 255, b: 255 } }));
  }
  if (steps.includes('denoise') || (steps.includes('denoise-if-speckled') && speckleShare(out) > SPECKLE_THRESHOLD)) out = await toGray(raw(out).median(3));
  if (steps.includes('binarize')) {
    const t = otsuThreshold(out.pixels);
    const pixels = new Uint8Array(out.pixels.length);
    for (let i = 0; i < pixels.length; i++) pixels[i] = out.pixels[i] > t ? 255 : 0;
    out = { pixels, width: out.width, height: out.height };
  }
  return out;
}

/** Binary PGM (P5): leptonica reads it without decoding, which PNG would cost both sides. */
export function toPgm(image: GrayImage): Buffer {
  return Buffer.concat([Buffer.from(`P5\n${image.width} ${image.height}\n255\n`, 'latin1'), image.pixels]);
}
