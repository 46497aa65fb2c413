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

/** Reads `{"features": [...], "label": 0|1}` lines; every row must have the same width. */
export function readEvalSet(file: string): EvalSet {
  const raw = readFileSync(file);
  const text = (file.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8');
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  if (lines.length === 0) throw new Error(`evaluation set ${file} has no rows`);
  let width = -1;
  const labels = new Uint8Array(lines.length);
  let rows = new Float32Array(0);
  lines.forEach((line, i) => {
    const row = JSON.parse(line) as { features?: unknown; label?: unknown };
    if (!Array.isArray(row.features) || (row.label !== 0 && row.label !== 1)) throw new Error(`evaluation set ${file} line ${i + 1}: expected {"features": [numbers], "label": 0|1}`);
    if (width === -1) {
      width = row.features.length;
      rows = new Float32Array(lines.length * width);
    }
    if (row.features.length !== width) throw new Error(`evaluation set ${file} line ${i + 1}: ${row.features.length} features, the first row has ${width}`);
    rows.set(row.features as number[], i * width);
    labels[i] = row.label;
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
