// The registry's view of every model the repo ships, without services: each committed folder goes
// through its pipeline's loader (describe) and fits its processor (the signature gate's check); the
// churn columns are read from features.py; the policy names every shipped model; and the recomputed
// evaluation in TypeScript (ONNX) equals LightGBM's score of the same committed evaluation set.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { REPO_ROOT } from '../infra/stack/config.ts';
import { averagePrecision } from '../streams/runtime/model-registry/eval-set.ts';
import { kindByName } from '../streams/runtime/model-registry/model-kind.ts';
import { loadPolicy } from '../streams/runtime/model-registry/policy.ts';
import { COMMITTED_MODELS, MODEL_KINDS, churnKind, churnScoredColumns, failureKind } from './model-kinds.ts';
import { POLICY_FILE } from './models.ts';

test('every committed model folder is described by its kind and fits its processor', async () => {
  const names: string[] = [];
  for (const m of COMMITTED_MODELS) {
    const kind = kindByName(MODEL_KINDS, m.kind);
    const d = kind.describe(m.dir);
    names.push(d.name);
    assert.ok(d.modelVersion && d.signature.inputs.length > 0 && d.signature.outputs.length > 0, `${m.dir}: version and signature`);
    assert.ok(Object.keys(d.metrics).length > 0, `${d.name}: metrics to log`);
    assert.ok(d.extraFiles['MODEL_CARD.md']?.endsWith('MODEL_CARD.md'), `${d.name}: a model card is found`);
    assert.ok(d.datasets.length > 0 || d.datasetNote, `${d.name}: data lineage, or a note saying why not`);
    assert.deepEqual(await kind.compatibility(m.dir), [], `${d.name} fits ${kind.processor}`);
  }
  assert.deepEqual(names.sort(), ['arm-failure-lgbm', 'churn-30d-rf', 'cmapss-fd001-failure-lgbm', 'cmapss-fd002-failure-lgbm', 'legal-ner-minilm', 'pcb-qc-mobilenetv2']);
  assert.deepEqual(Object.keys(loadPolicy(POLICY_FILE, REPO_ROOT).models).sort(), names, 'policy.json names every shipped model');
});

test("churn's signature check compares the meta's columns with what score.py selects", async () => {
  const cols = churnScoredColumns();
  assert.deepEqual(cols.categorical, ['plan_latest', 'payment_method_latest']);
  const meta = JSON.parse(readFileSync(join(REPO_ROOT, 'models/churn/artifacts/model-meta.json'), 'utf8'));
  assert.deepEqual(cols.numeric, meta.numeric_features);
  assert.throws(() => churnKind.describe(join(REPO_ROOT, 'models/vision/artifacts')), /no churn model in .*pipeline-model/);
});

test('average precision equals scikit-learn, ties taken together', () => {
  // sklearn.metrics.average_precision_score([1,0,1,1,0], [0.9,0.9,0.5,0.2,0.2]) = 0.58888...
  assert.ok(Math.abs(averagePrecision([0.9, 0.9, 0.5, 0.2, 0.2], [1, 0, 1, 1, 0]) - 0.5888888888888889) < 1e-12);
  assert.equal(averagePrecision([0.1, 0.2, 0.3], [0, 0, 1]), 1);
  assert.throws(() => averagePrecision([0.5], [0]), /at least one positive/);
});

test("the recomputed PR-AUC of each plant model on its committed evaluation set equals LightGBM's (make_eval_sets.py)", async () => {
  const policy = loadPolicy(POLICY_FILE, REPO_ROOT);
  const manifest = JSON.parse(readFileSync(join(REPO_ROOT, 'models/policy/eval/manifest.json'), 'utf8')) as Record<string, { model: string; sample_pr_auc_lightgbm: number }>;
  for (const plant of ['cmapss-fd001', 'cmapss-fd002']) {
    const p = policy.models[`${plant}-failure-lgbm`];
    assert.equal(p.evaluation, 'recomputed');
    const expected = manifest[`${plant}-test-300.jsonl.gz`].sample_pr_auc_lightgbm;
    const got = await failureKind.evaluate!(join(REPO_ROOT, 'models/maintenance/plants', plant), p.eval_file!);
    assert.ok(Math.abs(got - expected) < 1e-6, `${plant}: ONNX in TypeScript ${got}, LightGBM ${expected}`);
  }
  // A model of another plant does not take these rows.
  await assert.rejects(failureKind.evaluate!(join(REPO_ROOT, 'models/maintenance/artifacts'), policy.models['cmapss-fd001-failure-lgbm'].eval_file!), /has 196 features per row, the model takes 42/);
});
