// Model outputs -> what a QcResult says: defect probability and verdict, defect boxes in frame
// pixels, the normalised Grad-CAM heatmap and its refined peak. Pure functions over typed arrays,
// identical for the stream and `vision inspect` (contract A in the vision notes says the rules).
import type { DefectBox, QcVerdict } from '../../schemas/generated/types.ts';

/** The rules of one model, from its meta. */
export interface PostprocessRules {
  threshold: number;
  boxThreshold: number;
  maxBoxes: number;
  /** Model-input pixels per heatmap cell. */
  stride: number;
  classes: string[];
  inputWidth: number;
  inputHeight: number;
}

/** One image's outputs, batch dimension removed; layouts are row-major as ONNX returns them. */
export interface ModelOutputs {
  defectLogit: number;
  /** [classes, rows, cols] box-centre probabilities. */
  centers: Float32Array;
  /** [2, rows, cols]: width, height in model-input pixels. */
  sizes: Float32Array;
  /** [2, rows, cols]: x, y offset of the centre inside its cell, in cells. */
  offsets: Float32Array;
  /** [rows, cols] raw Grad-CAM (>= 0, not normalised). */
  gradcam: Float32Array;
  rows: number;
  cols: number;
}

export interface FrameSize {
  width: number;
  height: number;
}

export interface Point {
  x: number;
  y: number;
}

export interface Inspection {
  defectProbability: number;
  verdict: QcVerdict;
  boxes: DefectBox[];
  /** [rows, cols] Grad-CAM divided by its maximum (all zeros stays zeros). */
  heatmap: Float32Array;
  /** Heatmap peak in frame pixels; null when the heatmap is all zeros. */
  peak: Point | null;
}

/** Thrown when the model's outputs cannot be read (wrong length, NaN): the frame gets no result. */
export class ModelOutputError extends Error {}

export function sigmoid(x: number): number {
  // Two branches so a large |x| never overflows exp().
  return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
}

export function postprocess(out: ModelOutputs, rules: PostprocessRules, frame: FrameSize): Inspection {
  checkOutputs(out, rules.classes.length);
  const defectProbability = sigmoid(out.defectLogit);
  const heatmap = normaliseHeatmap(out.gradcam);
  const scale = { x: frame.width / rules.inputWidth, y: frame.height / rules.inputHeight };
  const cell = heatmapPeakCell(heatmap, out.rows, out.cols);
  const verdict = defectProbability >= rules.threshold ? 'DEFECT' : 'PASS';
  return {
    defectProbability,
    verdict,
    // Boxes go with the verdict: a PASS frame's faint peaks would only be noise to an operator,
    // and on DEFECT frames the box threshold can then be low enough to keep the recall of boxes
    // (models/vision/MODEL_CARD.md: box threshold and mAP on validation).
    boxes: verdict === 'DEFECT' ? findBoxes(out, rules, frame) : [],
    heatmap,
    peak: cell && { x: (cell.j + 0.5) * rules.stride * scale.x, y: (cell.i + 0.5) * rules.stride * scale.y },
  };
}

function checkOutputs(out: ModelOutputs, classes: number): void {
  const cells = out.rows * out.cols;
  const lengths: [string, number, number][] = [
    ['center_heatmap', out.centers.length, classes * cells],
    ['box_size', out.sizes.length, 2 * cells],
    ['box_offset', out.offsets.length, 2 * cells],
    ['gradcam', out.gradcam.length, cells],
  ];
  for (const [name, got, want] of lengths) {
    if (got !== want) throw new ModelOutputError(`model output ${name} has ${got} values, expected ${want} (${classes} classes, ${out.rows}x${out.cols} grid)`);
  }
  if (!Number.isFinite(out.defectLogit)) throw new ModelOutputError(`model output defect_logit is ${out.defectLogit}`);
  for (const [name, values] of [['center_heatmap', out.centers], ['box_size', out.sizes], ['box_offset', out.offsets], ['gradcam', out.gradcam]] as const) {
    const bad = values.findIndex((v) => !Number.isFinite(v));
    if (bad !== -1) throw new ModelOutputError(`model output ${name} has ${values[bad]} at index ${bad}`);
  }
}

/**
 * CenterNet decoding: a cell is a peak of class c when its score is the maximum of its 3x3
 * neighbourhood in that class and at least the box threshold; the top `maxBoxes` peaks become boxes
 * around (cell + offset) * stride with the predicted size, scaled to the frame and clamped to it.
 */
export function findBoxes(out: ModelOutputs, rules: PostprocessRules, frame: FrameSize): DefectBox[] {
  const { rows, cols } = out;
  const cells = rows * cols;
  const peaks: { c: number; i: number; j: number; score: number }[] = [];
  for (let c = 0; c < rules.classes.length; c++) {
    const base = c * cells;
    for (let i = 0; i < rows; i++) {
      for (let j = 0; j < cols; j++) {
        const score = out.centers[base + i * cols + j];
        if (score >= rules.boxThreshold && isLocalMax(out.centers, base, rows, cols, i, j, score)) peaks.push({ c, i, j, score });
      }
    }
  }
  // Stable sort: equal scores keep class, row, column order, so the result is deterministic.
  peaks.sort((a, b) => b.score - a.score);
  const sx = frame.width / rules.inputWidth;
  const sy = frame.height / rules.inputHeight;
  return peaks.slice(0, rules.maxBoxes).map(({ c, i, j, score }) => {
    const at = i * cols + j;
    const cx = (j + out.offsets[at]) * rules.stride;
    const cy = (i + out.offsets[cells + at]) * rules.stride;
    const w = out.sizes[at];
    const h = out.sizes[cells + at];
    const x0 = clamp(Math.round((cx - w / 2) * sx), 0, frame.width - 1);
    const y0 = clamp(Math.round((cy - h / 2) * sy), 0, frame.height - 1);
    const x1 = clamp(Math.round((cx + w / 2) * sx), x0 + 1, frame.width);
    const y1 = clamp(Math.round((cy + h / 2) * sy), y0 + 1, frame.height);
    return { x: x0, y: y0, width: x1 - x0, height: y1 - y0, score, defect_class: rules.classes[c] };
  });
}

function isLocalMax(values: Float32Array, base: number, rows: number, cols: number, i: number, j: number, v: number): boolean {
  for (let di = -1; di <= 1; di++) {
    const r = i + di;
    if (r < 0 || r >= rows) continue;
    for (let dj = -1; dj <= 1; dj++) {
      const q = j + dj;
      if (q < 0 || q >= cols || (di === 0 && dj === 0)) continue;
      if (values[base + r * cols + q] > v) return false;
    }
  }
  return true;
}

/** cam / max(cam); negative values (none by contract) count as 0; an all-zero map stays zeros. */
export function normaliseHeatmap(cam: Float32Array): Float32Array {
  let max = 0;
  for (const v of cam) if (v > max) max = v;
  const out = new Float32Array(cam.length);
  if (max > 0) for (let k = 0; k < cam.length; k++) out[k] = Math.max(cam[k], 0) / max;
  return out;
}

/**
 * The strongest cell (the first in row-major order on ties), refined by the weighted centroid of
 * its 3x3 neighbourhood, as fractional (i, j) cell indices; null for an all-zero heatmap.
 */
export function heatmapPeakCell(heatmap: Float32Array, rows: number, cols: number): { i: number; j: number } | null {
  let best = -1;
  let bestValue = 0;
  for (let k = 0; k < heatmap.length; k++) {
    if (heatmap[k] > bestValue) {
      bestValue = heatmap[k];
      best = k;
    }
  }
  if (best === -1) return null;
  const bi = Math.floor(best / cols);
  const bj = best % cols;
  let sum = 0;
  let si = 0;
  let sj = 0;
  for (let i = Math.max(0, bi - 1); i <= Math.min(rows - 1, bi + 1); i++) {
    for (let j = Math.max(0, bj - 1); j <= Math.min(cols - 1, bj + 1); j++) {
      const w = heatmap[i * cols + j];
      sum += w;
      si += w * i;
      sj += w * j;
    }
  }
  return { i: si / sum, j: sj / sum };
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(Math.max(v, lo), hi);
}

/** The rules of a model meta (see model.ts). */
export function rulesOf(meta: { threshold: number; box_threshold: number; max_boxes: number; stride: number; classes: string[]; input: { width: number; height: number } }): PostprocessRules {
  return { threshold: meta.threshold, boxThreshold: meta.box_threshold, maxBoxes: meta.max_boxes, stride: meta.stride, classes: meta.classes, inputWidth: meta.input.width, inputHeight: meta.input.height };
}
