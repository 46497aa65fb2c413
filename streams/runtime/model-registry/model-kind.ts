// What the registry needs to know about one kind of model (failure, vision, ner, churn) without
// knowing the pipeline: the pipeline's own "directory -> declaration" loader turns a model folder
// into a ModelDescription, and says whether a folder fits what its processor consumes. The kinds are
// built in cli/model-kinds.ts and passed in, so the runtime never imports a pipeline.
import type { ModelSpec } from '../models.ts';

/** A dataset a model was trained or evaluated on (MLflow run inputs: data lineage). */
export interface DatasetRef {
  name: string;
  /** sha256 of the data as the trainer recorded it. */
  sha256: string;
  /** Where it came from (a path, a simulator config, a lake), as text. */
  source: string;
  context: 'training' | 'evaluation';
}

/** MLflow's signature entries (the `signature:` block of an MLmodel file). */
export type MlflowSignatureEntry =
  | { name: string; type: 'tensor'; 'tensor-spec': { dtype: string; shape: number[] } }
  | { name: string; type: string; required?: boolean };

export interface ModelDescription {
  kind: string;
  /** The processor that serves it: the MLflow experiment its runs go to. */
  processor: string;
  /** Registered model name (model-meta.json model_name). */
  name: string;
  /** The model's own version string (model-meta.json model_version), which outputs carry. */
  modelVersion: string;
  meta: Record<string, unknown>;
  /** The ONNX spec the processor declares for this folder; null for a model that is not ONNX (churn's Spark pipeline). */
  spec: ModelSpec | null;
  signature: { inputs: MlflowSignatureEntry[]; outputs: MlflowSignatureEntry[] };
  /** Hyper-parameters and feature spec, flattened to text. */
  params: Record<string, string>;
  /** Run metrics: the numbers of the folder's metrics/card JSON files, flattened (flattenMetrics). */
  metrics: Record<string, number>;
  /** Per-epoch history (training-history.json): logged as stepped metrics. */
  history?: Record<string, number>[];
  datasets: DatasetRef[];
  /** Said when the meta does not record the training data (or only part of it). */
  datasetNote?: string;
  /** Identifies the data the reported metrics were computed on (streamscore.eval_set). */
  evalSet: string;
  /** Files kept outside the folder that belong to the version, e.g. the model card beside artifacts/: artifact name -> path. */
  extraFiles: Record<string, string>;
}

export interface ModelKind {
  kind: string;
  processor: string;
  /** Runs the pipeline's loader on `dir`; throws a clear error when the folder is not a model of this kind. */
  describe(dir: string): ModelDescription;
  /**
   * Every difference between the model in `dir` and what the processor consumes (the signature gate):
   * ONNX kinds build the spec through their loader and check it against the graph; [] when compatible.
   */
  compatibility(dir: string): Promise<string[]>;
  /** The policy metric recomputed on a committed evaluation set, when that is cheap and deterministic. */
  evaluate?(dir: string, evalSetFile: string): Promise<number>;
}

export function kindByName(kinds: readonly ModelKind[], kind: string): ModelKind {
  const found = kinds.find((k) => k.kind === kind);
  if (!found) throw new Error(`unknown model kind ${JSON.stringify(kind)}: one of ${kinds.map((k) => k.kind).join(', ')}`);
  return found;
}

/**
 * The numeric leaves of a metrics JSON as flat MLflow metric keys (a.b.c). Arrays (curves, per-row
 * lists) are skipped: a run metric is one number. MLflow keys allow letters, digits and _-. / space.
 */
export function flattenMetrics(value: unknown, prefix = '', out: Record<string, number> = {}): Record<string, number> {
  if (typeof value === 'number' && Number.isFinite(value) && prefix) out[prefix.replace(/[^A-Za-z0-9_\-. /]/g, '_')] = value;
  else if (value && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) flattenMetrics(v, prefix ? `${prefix}.${k}` : k, out);
  }
  return out;
}
