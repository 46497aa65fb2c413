// A fixed evaluation set committed in the repo (feature rows and labels, JSON lines, gzip) and the
// metric the policy recomputes on it. Recomputing, rather than trusting the number a run reported,
// means every candidate and its champion are measured on the same rows with the same code.
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';

export interface EvalSet {
  rows: Float32Array;
  width: number;
  labels: Uint8Array;
}

/** Reads `{"features": [...], "label": 0|1}` lines (null features are NaN); every row must have the same width. */
export function readEvalSet(file: string): EvalSet {
  const raw = readFileSync(file);
  const text = (file.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8');
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  if (lines.length === 0) throw new Error(`evaluation set ${file} has no rows`);
  let width = -1;
  const labels = new Uint8Array(lines.length);
  let rows = new Float32Array(0);
  lines.forEach((line, i) => {
    let row: { features?: unknown; label?: unknown };
    try {
      row = JSON.parse(line) as typeof row;
    } catch (err) {
      throw new Error(`evaluation set ${file} line ${i + 1}: not JSON (${(err as Error).message})`);
    }
    const valid = Array.isArray(row.features) && row.features.every((v) => v === null || typeof v === 'number') && (row.label === 0 || row.label === 1);
    if (!valid) throw new Error(`evaluation set ${file} line ${i + 1}: expected {"features": [numbers or null], "label": 0|1}`);
    const features = row.features as (number | null)[];
    if (width === -1) {
      width = features.length;
      rows = new Float32Array(lines.length * width);
    }
    if (features.length !== width) throw new Error(`evaluation set ${file} line ${i + 1}: ${features.length} features, the first row has ${width}`);
    // null is a feature the stream could not compute (e.g. a lag at the start of a history): NaN, as the model sees it.
    rows.set(features.map((v) => v ?? Number.NaN), i * width);
    labels[i] = row.label as number;
  });
  return { rows, width, labels };
}

/**
 * Average precision (the area under the precision-recall curve as scikit-learn's
 * average_precision_score computes it): sum over score thresholds of (R_k - R_k-1) * P_k, with
 * tied scores taken together.
 */
export function averagePrecision(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  const order = Array.from({ length: scores.length }, (_, i) => i).sort((a, b) => scores[b] - scores[a]);
  let positives = 0;
  for (let i = 0; i < labels.length; i++) positives += labels[i] ? 1 : 0;
  if (positives === 0) throw new Error('average precision needs at least one positive label');
  let tp = 0;
  let seen = 0;
  let lastRecall = 0;
  let ap = 0;
  for (let i = 0; i < order.length; ) {
    const score = scores[order[i]];
    for (; i < order.length && scores[order[i]] === score; i++) {
      seen++;
      tp += labels[order[i]] ? 1 : 0;
    }
    const recall = tp / positives;
    ap += (recall - lastRecall) * (tp / seen);
    lastRecall = recall;
  }
  return ap;
}
