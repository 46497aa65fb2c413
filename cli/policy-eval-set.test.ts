// The simulator plant's committed evaluation set (models/policy/eval/simulator-plant-01-300.jsonl.gz,
// made by models/policy/make_eval_sets.py --simulation from a seeded simulation of arms training never
// saw): the policy recomputes arm-failure-lgbm's gate on it, and the committed champion's PR-AUC there,
// through ONNX in TypeScript, equals LightGBM's as the manifest records it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { failureKind } from './model-kinds.ts';
import { POLICY_FILE } from './models.ts';
import { REPO_ROOT } from '../infra/stack/config.ts';
import { loadPolicy } from '../streams/runtime/model-registry/policy.ts';
import { readEvalSet } from '../streams/runtime/model-registry/eval-set.ts';

test("arm-failure-lgbm's gate is recomputed on the simulator set, and the champion scores there what LightGBM scored", async () => {
  const p = loadPolicy(POLICY_FILE, REPO_ROOT).models['arm-failure-lgbm'];
  assert.equal(p.evaluation, 'recomputed');
  assert.equal(p.eval_file, join(REPO_ROOT, 'models/policy/eval/simulator-plant-01-300.jsonl.gz'));
  const set = readEvalSet(p.eval_file!);
  const manifest = JSON.parse(readFileSync(join(REPO_ROOT, 'models/policy/eval/manifest.json'), 'utf8'))['simulator-plant-01-300.jsonl.gz'];
  assert.equal(set.labels.length, manifest.rows);
  assert.equal(set.labels.reduce((n, l) => n + l, 0), manifest.positives);
  const got = await failureKind.evaluate!(join(REPO_ROOT, 'models/maintenance/artifacts'), p.eval_file!);
  assert.ok(Math.abs(got - manifest.sample_pr_auc_lightgbm) < 1e-6, `ONNX in TypeScript ${got}, LightGBM ${manifest.sample_pr_auc_lightgbm}`);
});
