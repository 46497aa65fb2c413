// The failure model as the stream uses it: LightGBM exported to ONNX and declared as a ModelSpec,
// so the runtime loads it once, checks its signature and names it on every output
// (streams/runtime/models.ts); plus the same trees (LightGBM's JSON dump) for exact TreeSHAP.
// Artifacts and their meta (threshold, version, feature order) come from models/maintenance/.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { FileModelSource, type LoadedModel, type ModelSpec } from '../runtime/models.ts';
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

/** What a processor needs to declare the model: its ModelSpec, meta and the TreeSHAP explainer (no ONNX session). */
export interface FailureModelDeclaration {
  name: string;
  version: string;
  meta: ModelMeta;
  spec: ModelSpec;
  /** Exact TreeSHAP contributions (log-odds) of one row; last entry is the expected value. */
  explain(row: Float64Array): Float64Array;
}

export interface FailureModel extends FailureModelDeclaration {
  /** Probabilities of failure within 24 h for `rows` feature vectors laid out row-major in `x`. */
  predict(x: Float32Array, rows: number): Promise<Float32Array>;
}

/**
 * Reads the meta and the tree dump; the ONNX graph itself is loaded by the runtime (or
 * loadFailureModel). `featureNames`: what the stream computes for the model's plant (its profile's
 * feature spec; the simulator plant's 42 by default), which the model must have been trained on.
 */
export function failureModelDeclaration(dir = DEFAULT_ARTIFACTS_DIR, featureNames: readonly string[] = FEATURE_NAMES): FailureModelDeclaration {
  const meta = JSON.parse(readFileSync(join(dir, 'model-meta.json'), 'utf8')) as ModelMeta;
  if (JSON.stringify(meta.feature_names) !== JSON.stringify(featureNames)) {
    throw new Error(`model ${meta.model_name} ${meta.model_version} (${dir}) expects features ${meta.feature_names.join(',')} but the stream computes ${featureNames.join(',')}`);
  }
  const spec: ModelSpec = {
    name: meta.model_name,
    version: meta.model_version,
    file: join(dir, 'model.onnx'),
    meta,
    // skl2onnx's LightGBM classifier: the feature rows in, [N, 2] class probabilities out (a `label` output too, unused).
    signature: {
      inputs: { features: { type: 'float32', shape: ['N', featureNames.length] } },
      outputs: { probabilities: { type: 'float32', shape: ['N', 2] } },
    },
  };
  const trees: LightGbmModel = parseLightGbmDump(JSON.parse(readFileSync(join(dir, 'model-dump.json'), 'utf8')));
  const shap = new TreeShap(trees);
  return { name: meta.model_name, version: meta.model_version, meta, spec, explain: (row) => shap.explain(row) };
}

/** Failure probabilities from the loaded graph: the positive class of each row of `width` features. */
export function predictWith(loaded: LoadedModel, width = FEATURE_NAMES.length): FailureModel['predict'] {
  return async (x, rows) => {
    if (rows === 0) return new Float32Array(0);
    const result = await loaded.run({ features: new ort.Tensor('float32', x, [rows, width]) });
    const probs = result.probabilities.data as Float32Array;
    return Float32Array.from({ length: rows }, (_, i) => probs[i * 2 + 1]);
  };
}

/**
 * The model outside a processor (the scoring API, tests, the fault suite): the declaration plus an
 * ONNX session loaded through the runtime's model source, so its signature is checked the same way.
 */
export async function loadFailureModel(dir = DEFAULT_ARTIFACTS_DIR, featureNames: readonly string[] = FEATURE_NAMES): Promise<FailureModel> {
  return loadDeclaredModel(failureModelDeclaration(dir, featureNames));
}

/** A declaration (e.g. a plant's, plant-scoring.ts) with its ONNX session. */
export async function loadDeclaredModel(declaration: FailureModelDeclaration): Promise<FailureModel> {
  // One intra-op thread: the stream runs several processors on a 2-core machine, and batches are small.
  const loaded = await new FileModelSource().load(declaration.spec, { intraOpThreads: 1 });
  return { ...declaration, predict: predictWith(loaded, declaration.meta.feature_names.length) };
}
