// The failure model as the stream uses it: LightGBM exported to ONNX, scored with onnxruntime-node
// in process (one run per poll batch), and the same trees (LightGBM's JSON dump) for exact TreeSHAP.
// Artifacts and their meta (threshold, version, feature order) come from models/maintenance/.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { FEATURE_NAMES } from './features.ts';
import { parseLightGbmDump, type LightGbmModel } from './lightgbm-model.ts';
import { TreeShap } from './treeshap.ts';

export const DEFAULT_ARTIFACTS_DIR = new URL('../../models/maintenance/artifacts/', import.meta.url).pathname;

export interface ModelMeta {
  model_name: string;
  model_version: string;
  feature_names: string[];
  threshold: number;
  clear_threshold: number;
  [key: string]: unknown;
}

export interface FailureModel {
  name: string;
  version: string;
  meta: ModelMeta;
  /** Probabilities of failure within 24 h for `rows` feature vectors laid out row-major in `x`. */
  predict(x: Float32Array, rows: number): Promise<Float32Array>;
  /** Exact TreeSHAP contributions (log-odds) of one row; last entry is the expected value. */
  explain(row: Float64Array): Float64Array;
}

export async function loadFailureModel(dir = DEFAULT_ARTIFACTS_DIR): Promise<FailureModel> {
  const meta = JSON.parse(readFileSync(join(dir, 'model-meta.json'), 'utf8')) as ModelMeta;
  if (JSON.stringify(meta.feature_names) !== JSON.stringify(FEATURE_NAMES)) {
    throw new Error(`model ${meta.model_name} ${meta.model_version} expects features ${meta.feature_names.join(',')} but the stream computes ${FEATURE_NAMES.join(',')}`);
  }
  // One intra-op thread: the stream runs several processors on a 2-core machine, and batches are small.
  const session = await ort.InferenceSession.create(join(dir, 'model.onnx'), { intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential' });
  const input = session.inputNames[0];
  const output = session.outputNames.find((n) => /prob/i.test(n)) ?? session.outputNames[session.outputNames.length - 1];
  const trees: LightGbmModel = parseLightGbmDump(JSON.parse(readFileSync(join(dir, 'model-dump.json'), 'utf8')));
  const shap = new TreeShap(trees);
  const width = FEATURE_NAMES.length;
  return {
    name: meta.model_name,
    version: meta.model_version,
    meta,
    async predict(x, rows) {
      if (rows === 0) return new Float32Array(0);
      const result = await session.run({ [input]: new ort.Tensor('float32', x, [rows, width]) });
      const probs = result[output].data as Float32Array;
      // [rows, 2] class probabilities, or [rows] already for the positive class.
      if (probs.length === rows * 2) return Float32Array.from({ length: rows }, (_, i) => probs[i * 2 + 1]);
      return probs;
    },
    explain(row) {
      return shap.explain(row);
    },
  };
}
