// The four kinds of model streamscore ships, as the registry sees them (ModelKind): each one runs its
// pipeline's own "directory -> declaration" loader (failureModelDeclaration, visionModelSpec,
// nerModelSpec, churn's model-meta.json as score.py reads it), so a registered folder is exactly one
// the processor can load. Pipeline knowledge lives here, not in streams/runtime/.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { REPO_ROOT } from '../infra/stack/config.ts';
import { loadPlantProfile } from '../schemas/factory/plant-profile.ts';
import { FEATURE_NAMES, featureSpecOf } from '../streams/maintenance/features.ts';
import { failureModelDeclaration, loadFailureModel } from '../streams/maintenance/model.ts';
import { visionModelSpec } from '../streams/vision/model.ts';
import { nerModelSpec } from '../streams/documents/ner/model.ts';
import { FileModelSource, ModelSignatureError, type ModelSpec } from '../streams/runtime/models.ts';
import { averagePrecision, readEvalSet } from '../streams/runtime/model-registry/eval-set.ts';
import { tensorEntries } from '../streams/runtime/model-registry/mlmodel.ts';
import { flattenMetrics, type DatasetRef, type ModelDescription, type ModelKind } from '../streams/runtime/model-registry/model-kind.ts';

const readJson = (file: string) => JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
const optionalJson = (file: string) => (existsSync(file) ? readJson(file) : undefined);

/** Scalars as text, nested objects as a.b keys, lists as JSON (MLflow params are strings of <= 6000 characters). */
function flattenParams(value: unknown, prefix: string, out: Record<string, string> = {}): Record<string, string> {
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) flattenParams(v, prefix ? `${prefix}.${k}` : k, out);
  } else if (value !== undefined && prefix) out[prefix.replace(/[^A-Za-z0-9_\-. /]/g, '_')] = typeof value === 'string' ? value : JSON.stringify(value);
  return out;
}

/**
 * The model card of a folder: its own MODEL_CARD.md, or, for the committed models, the card of the
 * model's home folder (models/<pipeline>/MODEL_CARD.md beside artifacts/). A folder outside models/
 * has only its own.
 */
function modelCard(dir: string): Record<string, string> {
  const own = join(dir, 'MODEL_CARD.md');
  if (existsSync(own)) return { 'MODEL_CARD.md': own };
  const models = join(REPO_ROOT, 'models');
  for (let up = dirname(resolve(dir)); up.startsWith(`${models}/`); up = dirname(up)) {
    if (existsSync(join(up, 'MODEL_CARD.md'))) return { 'MODEL_CARD.md': join(up, 'MODEL_CARD.md') };
  }
  return {};
}

/** Loads the ONNX graph the spec names and lists every signature mismatch with what the processor declares. */
async function onnxProblems(build: () => ModelSpec): Promise<string[]> {
  let spec: ModelSpec;
  try {
    spec = build();
  } catch (err) {
    return [`the loader refused the folder: ${(err as Error).message}`];
  }
  try {
    const loaded = await new FileModelSource().load(spec, { intraOpThreads: 1 });
    await loaded.close();
    return [];
  } catch (err) {
    if (err instanceof ModelSignatureError) return err.message.split('\n  - ').slice(1);
    return [(err as Error).message];
  }
}

const str = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v));

// -- failure (FactoryGuard: the simulator plant's model and one per onboarded plant)

/** The features the stream computes for the folder's plant: its profile's (meta.profile), else the simulator plant's 42. */
function plantFeatureNames(meta: Record<string, unknown>): readonly string[] {
  return typeof meta.profile === 'string' ? featureSpecOf(loadPlantProfile(join(REPO_ROOT, meta.profile))).names : FEATURE_NAMES;
}

function failureDatasets(meta: Record<string, unknown>): DatasetRef[] {
  const refs: DatasetRef[] = [];
  const add = (data: unknown, context: DatasetRef['context'], fallbackName: string) => {
    const d = data as Record<string, unknown> | undefined;
    if (!d || typeof d.readings_sha256 !== 'string') return;
    const { readings_sha256: sha, ...source } = d;
    refs.push({ name: typeof d.dir === 'string' ? d.dir : fallbackName, sha256: sha, source: JSON.stringify(source), context });
  };
  add(meta.training_data, 'training', 'simulator-training');
  add(meta.heldout_data ?? meta.evaluation_data, 'evaluation', 'simulator-heldout');
  return refs;
}

export const failureKind: ModelKind = {
  kind: 'failure',
  processor: 'maintenance-scorer',
  describe(dir) {
    const meta = readJson(join(dir, 'model-meta.json'));
    const d = failureModelDeclaration(dir, plantFeatureNames(meta));
    const metrics = { ...flattenMetrics(meta.metrics, 'meta'), ...flattenMetrics(optionalJson(join(dir, 'metrics.json')), 'metrics') };
    const datasets = failureDatasets(meta);
    const evaluation = datasets.find((x) => x.context === 'evaluation');
    return {
      kind: 'failure', processor: 'maintenance-scorer', name: d.name, modelVersion: d.version, meta, spec: d.spec,
      signature: { inputs: tensorEntries(d.spec.signature.inputs), outputs: tensorEntries(d.spec.signature.outputs) },
      params: { ...flattenParams(meta.params, 'lgbm'), threshold: str(meta.threshold), clear_threshold: str(meta.clear_threshold), features: String(d.meta.feature_names.length), ...flattenParams(meta.spec ?? meta.feature_spec, 'feature_spec') },
      metrics, datasets, evalSet: evaluation ? `${evaluation.name}:${evaluation.sha256}` : 'unrecorded',
      datasetNote: datasets.length ? undefined : 'model-meta.json records no training_data.readings_sha256',
      extraFiles: modelCard(dir),
    };
  },
  compatibility: async (dir) => onnxProblems(() => failureModelDeclaration(dir, plantFeatureNames(readJson(join(dir, 'model-meta.json')))).spec),
  async evaluate(dir, evalSetFile) {
    const set = readEvalSet(evalSetFile);
    const model = await loadFailureModel(dir, plantFeatureNames(readJson(join(dir, 'model-meta.json'))));
    if (set.width !== model.meta.feature_names.length) throw new Error(`evaluation set ${evalSetFile} has ${set.width} features per row, the model takes ${model.meta.feature_names.length}`);
    return averagePrecision(await model.predict(set.rows, set.labels.length), set.labels);
  },
};

// -- vision (VisionSpec PCB QC)

export const visionKind: ModelKind = {
  kind: 'vision',
  processor: 'vision-qc',
  describe(dir) {
    const spec = visionModelSpec(dir);
    const card = optionalJson(join(dir, 'card-metrics.json'));
    const run = optionalJson(join(dir, 'training-run.json'));
    const history = existsSync(join(dir, 'training-history.json'))
      ? (JSON.parse(readFileSync(join(dir, 'training-history.json'), 'utf8')) as Record<string, unknown>[]).map((row) => flattenMetrics(row))
      : undefined;
    const dataDir = (run?.args as Record<string, unknown> | undefined)?.deeppcb;
    return {
      kind: 'vision', processor: 'vision-qc', name: spec.name, modelVersion: spec.version, meta: spec.meta, spec,
      signature: { inputs: tensorEntries(spec.signature.inputs), outputs: tensorEntries(spec.signature.outputs) },
      params: { ...flattenParams(run?.args, 'train'), threshold: str(spec.meta.threshold), box_threshold: str(spec.meta.box_threshold), stride: str(spec.meta.stride) },
      metrics: { ...flattenMetrics(card, 'card') }, history, datasets: [],
      datasetNote: `the training data's sha256 is not recorded: training-run.json names only the DeepPCB folder (${str(dataDir ?? 'unknown')})`,
      evalSet: `deeppcb-val:${str((card?.val as Record<string, unknown> | undefined)?.frames ?? '?')}-frames`,
      extraFiles: modelCard(dir),
    };
  },
  compatibility: async (dir) => onnxProblems(() => visionModelSpec(dir)),
};

// -- ner (LexiScan: the whole folder, graph + tokenizer + rankers, is the model)

const DOCUMENTS_HOME = join(REPO_ROOT, 'models', 'documents');

export const nerKind: ModelKind = {
  kind: 'ner',
  processor: 'documents',
  describe(dir) {
    const spec = nerModelSpec(dir);
    const meta = spec.meta as unknown as Record<string, unknown>;
    // The committed folder's test results live in models/documents/reports/ (the evaluation needs OCR and the corpus).
    const committed = resolve(dir) === join(DOCUMENTS_HOME, 'artifacts');
    const report = committed ? optionalJson(join(DOCUMENTS_HOME, 'reports', 'pipeline-test-text.json')) : optionalJson(join(dir, 'card-metrics.json'));
    const splits = join(DOCUMENTS_HOME, 'splits.json');
    const splitsSha = existsSync(splits) ? execFileSync('sha256sum', [splits], { encoding: 'utf8' }).split(' ')[0] : 'unrecorded';
    return {
      kind: 'ner', processor: 'documents', name: spec.name, modelVersion: spec.version, meta, spec,
      signature: { inputs: tensorEntries(spec.signature.inputs), outputs: tensorEntries(spec.signature.outputs) },
      params: { ...flattenParams((meta.training as Record<string, unknown> | undefined)?.args, 'train'), max_length: str(meta.max_length), stride: str(meta.stride), weights: str(meta.weights) },
      metrics: flattenMetrics(report, 'test_text'), datasets: [],
      datasetNote: `the CUAD corpus split is named by models/documents/splits.json (sha256 ${splitsSha}); model-meta.json records no data sha256`,
      evalSet: `cuad-test:${splitsSha}`,
      extraFiles: modelCard(dir),
    };
  },
  compatibility: async (dir) => onnxProblems(() => nerModelSpec(dir)),
};

// -- churn (SparkScale: a Spark PipelineModel, scored by models/churn/score.py)

/** The feature columns score.py selects: NUMERIC_FEATURES and CATEGORICAL_FEATURES of models/churn/features.py, read without importing Spark. */
export function churnScoredColumns(featuresPy = join(REPO_ROOT, 'models', 'churn', 'features.py')): { numeric: string[]; categorical: string[] } {
  const program = 'import ast,json,sys\nt=ast.parse(open(sys.argv[1]).read())\nv={n.targets[0].id: ast.literal_eval(n.value) for n in t.body if isinstance(n, ast.Assign) and len(n.targets)==1 and getattr(n.targets[0],"id","") in ("NUMERIC_FEATURES","CATEGORICAL_FEATURES")}\nprint(json.dumps({"numeric": list(v["NUMERIC_FEATURES"]), "categorical": list(v["CATEGORICAL_FEATURES"])}))';
  return JSON.parse(execFileSync('python3', ['-c', program, featuresPy], { encoding: 'utf8' })) as { numeric: string[]; categorical: string[] };
}

function churnMeta(dir: string): Record<string, unknown> {
  const file = join(dir, 'model-meta.json');
  if (!existsSync(file) || !existsSync(join(dir, 'pipeline-model'))) throw new Error(`no churn model in ${resolve(dir)}: score.py needs model-meta.json and pipeline-model/`);
  const meta = readJson(file);
  for (const key of ['model_name', 'model_version'] as const) if (typeof meta[key] !== 'string' || meta[key] === '') throw new Error(`${file}: ${key} must be a non-empty string`);
  if (!Array.isArray(meta.numeric_features) || !Array.isArray(meta.categorical_features)) throw new Error(`${file}: numeric_features and categorical_features must be lists`);
  return meta;
}

export const churnKind: ModelKind = {
  kind: 'churn',
  processor: 'churn-score',
  describe(dir) {
    const meta = churnMeta(dir);
    const data = meta.training_data as Record<string, unknown> | undefined;
    const cols = [...(meta.numeric_features as string[]).map((name) => ({ name, type: 'double' })), ...(meta.categorical_features as string[]).map((name) => ({ name, type: 'string' }))];
    return {
      kind: 'churn', processor: 'churn-score', name: meta.model_name as string, modelVersion: meta.model_version as string, meta, spec: null,
      signature: { inputs: cols, outputs: [{ name: 'churn_probability', type: 'double' }] },
      params: { ...flattenParams(meta.params, 'rf'), estimator: str(meta.estimator), threshold: str(meta.threshold), ...flattenParams(meta.split, 'split') },
      // The chosen estimator's held-out numbers under one name, whichever estimator won (the policy metric).
      metrics: { ...flattenMetrics(meta.metrics, 'meta'), ...flattenMetrics((meta.metrics as Record<string, Record<string, unknown>> | undefined)?.[str(meta.chosen)]?.heldout, 'chosen.heldout') },
      datasets: typeof data?.sha256 === 'string' ? [{ name: 'billing-lake', sha256: data.sha256, source: JSON.stringify({ lake: data.lake, files: data.files, through: data.through_event_date }), context: 'training' }] : [],
      datasetNote: typeof data?.sha256 === 'string' ? undefined : 'model-meta.json records no training_data.sha256',
      evalSet: `churn-heldout:${str((meta.split as Record<string, unknown> | undefined)?.by ?? '?')}/${str((meta.split as Record<string, unknown> | undefined)?.heldout_percent ?? '?')}%:${str(data?.sha256 ?? '?')}`,
      extraFiles: modelCard(dir),
    };
  },
  async compatibility(dir) {
    let meta: Record<string, unknown>;
    try {
      meta = churnMeta(dir);
    } catch (err) {
      return [(err as Error).message];
    }
    const scored = churnScoredColumns();
    const problems: string[] = [];
    if (JSON.stringify(meta.numeric_features) !== JSON.stringify(scored.numeric)) problems.push(`numeric_features ${JSON.stringify(meta.numeric_features)} differ from what score.py selects ${JSON.stringify(scored.numeric)}`);
    if (JSON.stringify(meta.categorical_features) !== JSON.stringify(scored.categorical)) problems.push(`categorical_features ${JSON.stringify(meta.categorical_features)} differ from what score.py selects ${JSON.stringify(scored.categorical)}`);
    return problems;
  },
};

export const MODEL_KINDS: readonly ModelKind[] = [failureKind, visionKind, nerKind, churnKind];

/** Every model folder the repo ships, with its kind: what `models seed` registers. */
export const COMMITTED_MODELS: readonly { kind: string; dir: string }[] = [
  { kind: 'failure', dir: 'models/maintenance/artifacts' },
  { kind: 'failure', dir: 'models/maintenance/plants/cmapss-fd001' },
  { kind: 'failure', dir: 'models/maintenance/plants/cmapss-fd002' },
  { kind: 'churn', dir: 'models/churn/artifacts' },
  { kind: 'vision', dir: 'models/vision/artifacts' },
  { kind: 'ner', dir: 'models/documents/artifacts' },
].map((m) => ({ ...m, dir: join(REPO_ROOT, m.dir) }));

/** git HEAD, with -dirty when `dir` has changes against it (or `+untracked-dir` outside the repo). */
export function codeVersionOf(dir: string): string {
  try {
    const head = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: REPO_ROOT, encoding: 'utf8' }).trim();
    const rel = relative(REPO_ROOT, resolve(dir));
    if (rel.startsWith('..')) return `${head} (model folder outside the repository)`;
    const dirty = execFileSync('git', ['status', '--porcelain', '--', rel], { cwd: REPO_ROOT, encoding: 'utf8' }).trim() !== '';
    return dirty ? `${head}-dirty` : head;
  } catch {
    return 'unknown (not a git checkout)';
  }
}
