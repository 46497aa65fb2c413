// TreeSHAP and raw scores against LightGBM itself: the committed fixture (always), and a live
// LightGBM when STREAMSCORE_PYTHON names a python with lightgbm (the fixture models are retrained by
// models/maintenance/make_treeshap_fixture.py, which wrote the fixture). Plus exact small cases:
// hand-computed Shapley values, brute-force Shapley values, and LightGBM's missing-value rules.
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { LightGbmModelError, parseLightGbmDump } from './lightgbm-model.ts';
import type { LightGbmModel } from './lightgbm-model.ts';
import { TreeShap, topContributions } from './treeshap.ts';

const TOLERANCE = 1e-6;
const fixture = (name: string) => JSON.parse(readFileSync(new URL(`./fixtures/treeshap/${name}`, import.meta.url), 'utf8'));
const asRows = (rows: (number | null)[][]) => rows.map((r) => r.map((v) => (v === null ? Number.NaN : v)));
interface LightGbmSays { raw: number[]; prob: number[]; contrib: number[][] }
interface Case extends LightGbmSays { model: unknown; rows: (number | null)[][] }

const dump = fixture('model.json');
const { feature_names: featureNames, rows: rowsJson } = fixture('rows.json');
const expected: LightGbmSays & { lightgbm: string } = fixture('expected.json');
const extra: Record<'zero_as_missing' | 'random_forest', Case> & { lightgbm: string } = fixture('extra.json');
const rows = asRows(rowsJson);

/** Largest |ours - LightGBM| over every contribution and raw score; fails at the first one over TOLERANCE. */
function compare(model: LightGbmModel, xs: number[][], says: LightGbmSays, what: string) {
  const shap = new TreeShap(model);
  const phi = new Float64Array(shap.size);
  let contrib = 0, raw = 0, sum = 0, prob = 0;
  xs.forEach((x, i) => {
    const r = model.predictRaw(x);
    raw = Math.max(raw, Math.abs(r - says.raw[i]));
    assert.ok(Math.abs(r - says.raw[i]) <= TOLERANCE, `${what} row ${i}: raw ${r} vs LightGBM ${says.raw[i]}`);
    prob = Math.max(prob, Math.abs(1 / (1 + Math.exp(-model.predictMargin(x))) - says.prob[i]));
    shap.explain(x, phi);
    assert.equal(says.contrib[i].length, phi.length, `${what} row ${i}: pred_contrib layout`);
    for (let j = 0; j < phi.length; j++) {
      const err = Math.abs(phi[j] - says.contrib[i][j]);
      if (!(err <= TOLERANCE)) assert.fail(`${what} row ${i}, ${j < model.numFeatures ? model.featureNames[j] : 'bias'}: ${phi[j]} vs LightGBM ${says.contrib[i][j]}`);
      contrib = Math.max(contrib, err);
    }
    sum = Math.max(sum, Math.abs(phi.reduce((a, b) => a + b, 0) - r));
  });
  assert.ok(sum <= TOLERANCE, `${what}: contributions sum to predictRaw (max gap ${sum})`);
  assert.ok(prob <= 1e-12, `${what}: sigmoid(predictMargin) is LightGBM's predict() (max gap ${prob})`);
  return `${what}: ${xs.length} rows, max |contribution error| ${contrib.toExponential(2)}, raw ${raw.toExponential(2)}, |sum - raw| ${sum.toExponential(2)}`;
}

test('committed fixture: every contribution and raw score of 1,000 rows equal LightGBM pred_contrib to 1e-6', (t: TestContext) => {
  const model = parseLightGbmDump(dump);
  assert.deepEqual(model.featureNames, featureNames);
  assert.equal(rows.length, 1_000);
  assert.ok(rows.some((r) => r.some(Number.isNaN)), 'the fixture has rows with NaN');
  assert.ok(rows.some((r) => r.some((v) => v > 1e300)), 'the fixture has values above the dump\'s 1e300 (= +inf) thresholds');
  t.diagnostic(compare(model, rows, expected, `main model (${model.trees.length} trees)`));
  t.diagnostic(`compared with the committed fixture (LightGBM ${expected.lightgbm}); ${process.env.STREAMSCORE_PYTHON ? 'the live test compares with STREAMSCORE_PYTHON too' : 'set STREAMSCORE_PYTHON to a python with lightgbm to also compare live'}`);

  const shap = new TreeShap(model); // warm: compare() ran the same code
  const phi = new Float64Array(shap.size);
  const start = process.hrtime.bigint();
  for (const x of rows) shap.explain(x, phi);
  const us = Number(process.hrtime.bigint() - start) / 1e3 / rows.length;
  t.diagnostic(`TreeSHAP ${us.toFixed(1)} µs/row (${model.trees.length} trees, max depth ${model.maxDepth}, ${model.numFeatures} features)`);
});

test("committed fixture: missing_type 'Zero' (zero_as_missing) and boosting='rf' (average_output)", (t: TestContext) => {
  const zero = parseLightGbmDump(extra.zero_as_missing.model);
  assert.ok(zero.trees.every((tr) => tr.missingType.every((m) => m === 1)), "every split of this model is missing_type 'Zero'");
  t.diagnostic(compare(zero, asRows(extra.zero_as_missing.rows), extra.zero_as_missing, 'zero_as_missing'));
  const rf = parseLightGbmDump(extra.random_forest.model);
  assert.equal(rf.averageOutput, true);
  t.diagnostic(compare(rf, asRows(extra.random_forest.rows), extra.random_forest, 'random_forest'));
});

test('live: LightGBM from STREAMSCORE_PYTHON agrees on the retrained fixture models', { skip: process.env.STREAMSCORE_PYTHON ? false : 'STREAMSCORE_PYTHON is not set; the committed fixture was used' }, (t: TestContext) => {
  const python = process.env.STREAMSCORE_PYTHON as string;
  const script = 'import json, sys; sys.path.insert(0, sys.argv[1]); import make_treeshap_fixture as f; print(json.dumps(f.live(json.load(sys.stdin))))';
  const input = { main: rowsJson, zero_as_missing: extra.zero_as_missing.rows, random_forest: extra.random_forest.rows };
  const r = spawnSync(python, ['-B', '-c', script, fileURLToPath(new URL('../../models/maintenance/', import.meta.url))], {
    input: JSON.stringify(input), encoding: 'utf8', maxBuffer: 256 << 20, timeout: 300_000,
  });
  assert.equal(r.status, 0, `${python} failed: ${r.error ?? r.stderr}`);
  const live: Record<keyof typeof input, Case> & { lightgbm: string } = JSON.parse(r.stdout);
  for (const name of Object.keys(input) as (keyof typeof input)[]) {
    t.diagnostic(compare(parseLightGbmDump(live[name].model), asRows(input[name]), live[name], `live LightGBM ${live.lightgbm}, ${name}`));
  }
  const same = JSON.stringify(live.main.model) === JSON.stringify(dump);
  t.diagnostic(same ? 'the retrained main model is identical to the committed model.json' : `the retrained main model differs from model.json (LightGBM ${live.lightgbm} here, ${expected.lightgbm} for the fixture): compared on the retrained one`);
});

// ---- Small models built by hand (dump format) ----

type Node = { f: number; thr: number; left: Node; right: Node; missing?: 'None' | 'Zero' | 'NaN'; defaultLeft?: boolean } | { value: number; count: number };
const split = (f: number, thr: number, left: Node, right: Node, missing: 'None' | 'Zero' | 'NaN' = 'None', defaultLeft = true): Node => ({ f, thr, left, right, missing, defaultLeft });
const leaf = (value: number, count: number): Node => ({ value, count });

function handDump(numFeatures: number, roots: Node[], extraFields: Record<string, unknown> = {}) {
  const tree = (root: Node, i: number) => {
    let splits = 0, leaves = 0;
    const walk = (n: Node): { json: Record<string, unknown>; count: number } => {
      if ('value' in n) return { json: { leaf_index: leaves++, leaf_value: n.value, leaf_count: n.count }, count: n.count };
      const json: Record<string, unknown> = { split_index: splits++, split_feature: n.f, threshold: n.thr, decision_type: '<=', default_left: n.defaultLeft, missing_type: n.missing };
      const l = walk(n.left), r = walk(n.right);
      Object.assign(json, { internal_count: l.count + r.count, left_child: l.json, right_child: r.json });
      return { json, count: l.count + r.count };
    };
    const structure = walk(root).json;
    return { tree_index: i, num_leaves: leaves, num_cat: 0, shrinkage: 1, tree_structure: structure };
  };
  return {
    name: 'tree', version: 'v4', num_class: 1, num_tree_per_iteration: 1, max_feature_idx: numFeatures - 1, objective: 'binary sigmoid:1',
    average_output: false, feature_names: Array.from({ length: numFeatures }, (_, i) => `f${i}`), tree_info: roots.map(tree), ...extraFields,
  };
}

test('hand-checkable: two trees with Shapley values worked out on paper', () => {
  // Tree A: one split on f0 (covers 60/40), leaves 1 and 3: E = 0.6*1 + 0.4*3 = 1.8, phi0 = f(x) - 1.8.
  // Tree B: f1 <= 0 (50/50), then f2 <= 0 (25/25) with leaves 0 / 4, else leaf 2. E = 2. For x1 <= 0 < x2:
  // v({}) = 2, v({1}) = 2, v({2}) = 0.5*4 + 0.5*2 = 3, v({1,2}) = 4, so phi1 = ((2-2) + (4-3))/2 = 0.5
  // and phi2 = ((3-2) + (4-2))/2 = 1.5.
  const model = parseLightGbmDump(handDump(3, [
    split(0, 0.5, leaf(1, 60), leaf(3, 40), 'NaN', false),
    split(1, 0, split(2, 0, leaf(0, 25), leaf(4, 25)), leaf(2, 50)),
  ]));
  const shap = new TreeShap(model);
  const close = (got: Float64Array, want: number[]) => want.forEach((w, i) => assert.ok(Math.abs(got[i] - w) < 1e-12, `[${i}] ${got[i]} != ${w}`));
  close(shap.explain([0.7, -1, 1]), [1.2, 0.5, 1.5, 3.8]);
  assert.equal(model.predictRaw([0.7, -1, 1]), 7);
  close(shap.explain([Number.NaN, -1, 1]), [1.2, 0.5, 1.5, 3.8]); // NaN, missing_type 'NaN', default right
  // x1 > 0 ends in leaf 2 = E[B], yet v({2}) = 3 > v({1,2}) = 2: phi1 = (0 + (2-3))/2, phi2 = ((3-2) + 0)/2.
  close(shap.explain([0.2, 5, 1]), [-0.8, -0.5, 0.5, 3.8]);
  close(shap.explain([0.2, 5, 1]), [-0.8, -0.5, 0.5, 3.8]); // buffers reused: same answer
});

test('exact: equals brute-force Shapley values (path-dependent value function) on random trees with repeated features', () => {
  let seed = 7;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  const M = 4;
  const randomTree = (depth: number): Node =>
    depth === 0 || rand() < 0.2 ? leaf(Math.round((rand() - 0.5) * 200) / 100, 1 + Math.floor(rand() * 40))
      : split(Math.floor(rand() * M), Math.round((rand() - 0.5) * 4) / 2, randomTree(depth - 1), randomTree(depth - 1), (['None', 'Zero', 'NaN'] as const)[Math.floor(rand() * 3)], rand() < 0.5);
  for (let trial = 0; trial < 25; trial++) {
    const roots = [randomTree(5), randomTree(4), randomTree(3)].filter((r) => !('value' in r));
    const model = parseLightGbmDump(handDump(M, roots));
    const x = Array.from({ length: M }, () => [Number.NaN, 0, 0.5, -0.5, 1.5][Math.floor(rand() * 5)]);
    // v(S): expected tree output when only the features in S are known (Algorithm 1, EXPVALUE).
    const value = (S: number, n: Node): number => {
      if ('value' in n) return n.value;
      if (S & (1 << n.f)) return direction(n, x[n.f]) ? value(S, n.left) : value(S, n.right);
      const [l, r] = [cover(n.left), cover(n.right)];
      return (l * value(S, n.left) + r * value(S, n.right)) / (l + r);
    };
    const v = (S: number) => roots.reduce((a, r) => a + value(S, r), 0);
    const fact = (k: number): number => (k <= 1 ? 1 : k * fact(k - 1));
    const want = Array.from({ length: M }, (_, i) => {
      let phi = 0;
      for (let S = 0; S < 1 << M; S++) if (!(S & (1 << i))) phi += (fact(popcount(S)) * fact(M - popcount(S) - 1) / fact(M)) * (v(S | (1 << i)) - v(S));
      return phi;
    });
    const got = new TreeShap(model).explain(x);
    want.push(v(0));
    want.forEach((w, i) => assert.ok(Math.abs(got[i] - w) < 1e-9, `trial ${trial} [${i}]: ${got[i]} vs brute force ${w}`));
  }
  function cover(n: Node): number { return 'value' in n ? n.count : cover(n.left) + cover(n.right); }
  function popcount(s: number): number { let c = 0; for (; s; s &= s - 1) c++; return c; }
  // LightGBM's rule, written independently of lightgbm-model.ts: true = left.
  function direction(n: Extract<Node, { f: number }>, v: number): boolean {
    if (Number.isNaN(v)) { if (n.missing === 'NaN') return n.defaultLeft === true; v = 0; }
    if (n.missing === 'Zero' && v === 0) return n.defaultLeft === true;
    return v <= n.thr;
  }
});

test("missing values and tiny values route as LightGBM's NumericalDecision (left = -1, right = +1)", () => {
  const route = (missing: 'None' | 'Zero' | 'NaN', thr: number, defaultLeft: boolean, xs: number[]) => {
    const model = parseLightGbmDump(handDump(1, [split(0, thr, leaf(-1, 10), leaf(1, 10), missing, defaultLeft)]));
    return xs.map((x) => model.predictRaw([x]));
  };
  const NaN = Number.NaN;
  // None: NaN is 0; |x| <= 1e-35 is 0 (so -1e-36 is not <= -1e-38).
  assert.deepEqual(route('None', 0, false, [NaN, 0, 1e-36, 1e-30, -1e-30]), [-1, -1, -1, 1, -1]);
  assert.deepEqual(route('None', -1e-38, true, [NaN, -1e-36, -1e-30]), [1, 1, -1]);
  // Zero: 0, tiny and NaN take the default side whatever the threshold.
  assert.deepEqual(route('Zero', -1, false, [NaN, 0, -1e-36, -0.5, -2]), [1, 1, 1, 1, -1]);
  assert.deepEqual(route('Zero', 5, false, [NaN, 0, 1e-36, 1]), [1, 1, 1, -1]);
  // NaN: only NaN takes the default side; 0 compares with the threshold.
  assert.deepEqual(route('NaN', 0, false, [NaN, 0, 1e-36, 1]), [1, -1, -1, 1]);
  assert.deepEqual(route('NaN', -1, true, [NaN, 0]), [-1, 1]);
  // The threshold is compared as a double, inclusive.
  const thr = 0.1 + 0.2;
  assert.deepEqual(route('NaN', thr, true, [thr, 0.3, thr + 1e-16]), [-1, -1, 1]);
  // The dump writes an infinite threshold as +-1e300; LightGBM compares with the infinity.
  assert.deepEqual(route('NaN', 1e300, false, [2e300, Infinity, Number.MAX_VALUE, NaN]), [-1, -1, -1, 1]);
  assert.deepEqual(route('None', -1e300, true, [-Infinity, -2e300, NaN]), [-1, 1, 1]);
});

test('refuses what it cannot explain: categorical splits, multiclass, linear trees, bad rows', () => {
  const ok = handDump(2, [split(0, 1, leaf(0, 1), leaf(1, 1))]);
  const categorical = structuredClone(ok);
  (categorical.tree_info[0].tree_structure as Record<string, unknown>).decision_type = '==';
  assert.throws(() => parseLightGbmDump(categorical), (e: unknown) => e instanceof LightGbmModelError && /categorical/.test(e.message) && e.path === 'tree_info[0].tree_structure.decision_type');
  assert.throws(() => parseLightGbmDump({ ...ok, num_class: 3, num_tree_per_iteration: 3 }), /multiclass/);
  assert.throws(() => parseLightGbmDump({ ...ok, tree_info: [{ ...ok.tree_info[0], is_linear: 1 }] }), /linear trees/);
  assert.throws(() => parseLightGbmDump({ ...ok, feature_names: ['a'] }), /feature_names/);
  assert.throws(() => parseLightGbmDump(ok).predictRaw([1]), RangeError);
  assert.throws(() => new TreeShap(parseLightGbmDump(ok)).explain([1, 2], new Float64Array(2)), RangeError);
});

test('topContributions: the k largest |contributions|, largest first, never the bias', () => {
  const names = ['a', 'b', 'c', 'd'];
  const top = topContributions(names, [1, Number.NaN, 3, 4], [0.1, -0.5, 0.5, 0.01, 99], 3);
  assert.deepEqual(top, [
    { name: 'b', value: Number.NaN, contribution: -0.5 },
    { name: 'c', value: 3, contribution: 0.5 },
    { name: 'a', value: 1, contribution: 0.1 },
  ]);
  assert.equal(topContributions(names, [1, 2, 3, 4], [1, 2, 3, 4], 10).length, 4);
  assert.throws(() => topContributions(names, [1, 2, 3], [1, 2, 3, 4], 2), RangeError);
  const model = parseLightGbmDump(dump);
  const contribs = new TreeShap(model).explain(rows[0]);
  const [first] = topContributions(model.featureNames, rows[0], contribs, 1);
  assert.equal(Math.abs(first.contribution), Math.max(...Array.from(contribs.subarray(0, -1), Math.abs)));
});
