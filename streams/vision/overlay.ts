// The operator's picture: the normalised Grad-CAM upsampled to the frame (bilinear), coloured with
// the jet map and blended over the grayscale frame (contract A), PNG-encoded by sharp. Boxes are
// not drawn: the live view draws them from the result's boxes, so they stay sharp and selectable.
import sharp from 'sharp';
import type { DecodedFrame } from './frame-image.ts';

export const OVERLAY_ALPHA = 0.45;
/**
 * Longest side of an overlay. Frames up to this are overlaid at their own size; larger frames get
 * an overlay scaled down (aspect kept), so one result stays far under the topic's 8 MiB whatever the
 * camera. Boxes and the peak stay in frame pixels: a viewer scales by frame width / overlay width.
 */
export const OVERLAY_MAX_SIDE = 1280;
/**
 * zlib level 3 without adaptive filtering: on a DeepPCB overlay 71 KB in ~4 ms; level 6 saves 25 %
 * for 6x the time (55 KB, 24 ms), level 1 doubles the size (115 KB, 2 ms). Measured in docs/vision.md.
 */
const PNG_OPTIONS = { compressionLevel: 3, adaptiveFiltering: false } as const;

/** jet colour map (MATLAB's): 256 RGB triples, index = round(value * 255). */
export const JET: Uint8Array = (() => {
  const lut = new Uint8Array(256 * 3);
  const ramp = (x: number) => Math.round(255 * Math.min(Math.max(1.5 - Math.abs(x), 0), 1));
  for (let k = 0; k < 256; k++) {
    const v = k / 255;
    lut[k * 3] = ramp(4 * v - 3);
    lut[k * 3 + 1] = ramp(4 * v - 2);
    lut[k * 3 + 2] = ramp(4 * v - 1);
  }
  return lut;
})();

/**
 * Bilinear resize of a [rows, cols] map to [height, width], pixel centres aligned (as
 * torch.nn.functional.interpolate with align_corners=False and OpenCV's INTER_LINEAR).
 */
export function upsampleBilinear(map: Float32Array, rows: number, cols: number, width: number, height: number): Float32Array {
  const out = new Float32Array(width * height);
  const fx = cols / width;
  const fy = rows / height;
  const xs = new Int32Array(width * 2);
  const wx = new Float32Array(width);
  for (let x = 0; x < width; x++) {
    const sx = Math.min(Math.max((x + 0.5) * fx - 0.5, 0), cols - 1);
    const x0 = Math.floor(sx);
    xs[x * 2] = x0;
    xs[x * 2 + 1] = Math.min(x0 + 1, cols - 1);
    wx[x] = sx - x0;
  }
  for (let y = 0; y < height; y++) {
    const sy = Math.min(Math.max((y + 0.5) * fy - 0.5, 0), rows - 1);
    const y0 = Math.floor(sy);
    const y1 = Math.min(y0 + 1, rows - 1);
    const wy = sy - y0;
    const r0 = y0 * cols;
    const r1 = y1 * cols;
    for (let x = 0; x < width; x++) {
      const a = xs[x * 2];
      const b = xs[x * 2 + 1];
      const top = map[r0 + a] + (map[r0 + b] - map[r0 + a]) * wx[x];
      const bottom = map[r1 + a] + (map[r1 + b] - map[r1 + a]) * wx[x];
      out[y * width + x] = top + (bottom - top) * wy;
    }
  }
  return out;
}

/** Size of the overlay for a frame: the frame's own, or scaled to fit OVERLAY_MAX_SIDE. */
export function overlaySize(width: number, height: number, maxSide = OVERLAY_MAX_SIDE): { width: number; height: number } {
  const scale = Math.min(1, maxSide / Math.max(width, height));
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}

/** round(alpha * jet[k] + (1 - alpha) * g) for every gray level g and jet index k: one lookup per channel. */
const blendTables = new Map<number, Uint8Array>();
function blendTable(alpha: number): Uint8Array {
  let lut = blendTables.get(alpha);
  if (!lut) {
    lut = new Uint8Array(256 * 256 * 3);
    for (let g = 0; g < 256; g++) for (let k = 0; k < 256 * 3; k++) lut[g * 768 + k] = Math.round(alpha * JET[k] + (1 - alpha) * g);
    blendTables.set(alpha, lut);
  }
  return lut;
}

/** RGB pixels of the blend: alpha * jet(heat) + (1 - alpha) * gray, heat clamped to [0, 1]. */
export function blendJet(gray: Uint8Array, heat: Float32Array, alpha = OVERLAY_ALPHA): Buffer {
  const lut = blendTable(alpha);
  const rgb = Buffer.allocUnsafe(gray.length * 3);
  for (let p = 0; p < gray.length; p++) {
    const h = heat[p];
    const at = gray[p] * 768 + (h > 0 ? (h < 1 ? Math.round(h * 255) : 255) : 0) * 3;
    rgb[p * 3] = lut[at];
    rgb[p * 3 + 1] = lut[at + 1];
    rgb[p * 3 + 2] = lut[at + 2];
  }
  return rgb;
}

/** The overlay PNG of a frame and its normalised [rows, cols] heatmap. */
export async function renderOverlayPng(frame: DecodedFrame, heatmap: Float32Array, rows: number, cols: number): Promise<Buffer> {
  const size = overlaySize(frame.width, frame.height);
  let gray: Uint8Array = frame.gray;
  if (size.width !== frame.width || size.height !== frame.height) {
    gray = await sharp(frame.gray, { raw: { width: frame.width, height: frame.height, channels: 1 } }).resize(size.width, size.height, { fit: 'fill' }).raw().toBuffer();
  }
  const heat = upsampleBilinear(heatmap, rows, cols, size.width, size.height);
  return sharp(blendJet(gray, heat), { raw: { width: size.width, height: size.height, channels: 3 } }).png(PNG_OPTIONS).toBuffer();
}

/** The normalised heatmap itself at grid resolution, 8-bit grayscale (255 = its maximum). */
export function renderHeatmapPng(heatmap: Float32Array, rows: number, cols: number): Promise<Buffer> {
  const u8 = Buffer.from(Uint8Array.from(heatmap, (v) => Math.round(Math.min(Math.max(v, 0), 1) * 255)));
  return sharp(u8, { raw: { width: cols, height: rows, channels: 1 } }).toColourspace('b-w').png().toBuffer();
}
