// A LightGBM tree model read from its JSON dump (Python `booster.dump_model()`), kept as flat typed
// arrays per tree, and its raw score. Routing copies LightGBM's Tree::NumericalDecision exactly:
//   - an input with |x| <= kZeroThreshold (1e-35f) is 0 (the C API drops such values from a row);
//   - NaN on a split whose missing_type is not 'NaN' is 0;
//   - missing_type 'Zero': 0 (and so NaN) takes the default direction; 'NaN': NaN does;
//   - otherwise left iff x <= threshold, the threshold being the dump's double, unrounded, except
//     that the dump writes an infinite threshold as +-1e300 (Common::AvoidInf) while LightGBM splits
//     on the infinity itself (a "NaN vs any value" split has threshold +inf): +-1e300 reads as +-inf.
// Only numerical splits of single-output models (binary, regression) are supported; categorical
// splits, linear trees and multiclass dumps are refused when parsing, with the path of the cause.

/** LightGBM's kZeroThreshold: a float 1e-35 compared as a double. */
export const K_ZERO_THRESHOLD = Math.fround(1e-35);
export const MISSING_NONE = 0;
export const MISSING_ZERO = 1;
export const MISSING_NAN = 2;
const MISSING_TYPES: Record<string, number> = { None: MISSING_NONE, Zero: MISSING_ZERO, NaN: MISSING_NAN };

/**
 * One tree in LightGBM's own layout: internal nodes 0..numLeaves-2 (the dump's split_index), leaves
 * 0..numLeaves-1 (leaf_index); a child >= 0 is an internal node, a child < 0 is the leaf ~child.
 */
export interface LightGbmTree {
  readonly numLeaves: number;
  readonly splitFeature: Int32Array;
  readonly threshold: Float64Array;
  readonly missingType: Uint8Array;
  readonly defaultLeft: Uint8Array;
  readonly leftChild: Int32Array;
  readonly rightChild: Int32Array;
  /** Training rows that reached the node (internal_count): TreeSHAP's cover. */
  readonly internalCount: Float64Array;
  /** Leaf outputs with shrinkage applied, as LightGBM adds them. */
  readonly leafValue: Float64Array;
  readonly leafCount: Float64Array;
  /** Depth of the deepest leaf; the root is depth 0. */
  readonly maxDepth: number;
}

export interface LightGbmModel {
  /** As dumped, e.g. 'binary sigmoid:1'. */
  readonly objective: string;
  readonly featureNames: readonly string[];
  readonly numFeatures: number;
  /** boosting='rf': the model's margin is the mean of the trees, not their sum (see predictMargin). */
  readonly averageOutput: boolean;
  readonly numIterations: number;
  readonly trees: readonly LightGbmTree[];
  /** Largest maxDepth over the trees. */
  readonly maxDepth: number;
  /**
   * Sum of the leaf values reached: LightGBM's predict(raw_score=True), which pred_contrib adds up
   * to. For boosting='rf' LightGBM does not average here either.
   */
  predictRaw(x: ArrayLike<number>): number;
  /** The margin the objective's link applies to (log-odds for binary): predictRaw, averaged in rf mode. */
  predictMargin(x: ArrayLike<number>): number;
}

export class LightGbmModelError extends Error {
  /** Where in the dump, e.g. `tree_info[3].tree_structure.left_child`. */
  readonly path: string;
  constructor(path: string, message: string) {
    super(`LightGBM dump ${path}: ${message}`);
    this.name = 'LightGbmModelError';
    this.path = path;
  }
}

/**
 * Copies a feature row into `out` the way LightGBM's C API reads a dense row (|x| <= 1e-35 becomes
 * 0; NaN stays NaN). Throws unless the row has exactly one value per model feature.
 */
export function toLightGbmRow(x: ArrayLike<number>, out: Float64Array): Float64Array {
  if (x.length !== out.length) throw new RangeError(`row has ${x.length} values, the model has ${out.length} features`);
  for (let i = 0; i < out.length; i++) {
    const v = x[i];
    out[i] = v <= K_ZERO_THRESHOLD && v >= -K_ZERO_THRESHOLD ? 0 : v;
  }
  return out;
}

/** The child of internal `node` that value `v` (from toLightGbmRow) goes to: Tree::NumericalDecision. */
export function nextNode(tree: LightGbmTree, node: number, v: number): number {
  const missing = tree.missingType[node];
  if (v !== v) {
    if (missing === MISSING_NAN) return tree.defaultLeft[node] === 1 ? tree.leftChild[node] : tree.rightChild[node];
    v = 0;
  }
  if (missing === MISSING_ZERO && v >= -K_ZERO_THRESHOLD && v <= K_ZERO_THRESHOLD) {
    return tree.defaultLeft[node] === 1 ? tree.leftChild[node] : tree.rightChild[node];
  }
  return v <= tree.threshold[node] ? tree.leftChild[node] : tree.rightChild[node];
}

/** The leaf index `row` (from toLightGbmRow) reaches. */
export function leafIndex(tree: LightGbmTree, row: Float64Array): number {
  if (tree.numLeaves === 1) return 0;
  let node = 0;
  while (node >= 0) node = nextNode(tree, node, row[tree.splitFeature[node]]);
  return ~node;
}

/** Parses `booster.dump_model()` (the object or its JSON text). */
export function parseLightGbmDump(dump: unknown): LightGbmModel {
  const d = asObject(typeof dump === 'string' ? JSON.parse(dump) : dump, '(root)');
  const perIteration = d.num_tree_per_iteration ?? 1;
  if (perIteration !== 1) {
    throw new LightGbmModelError('num_tree_per_iteration', `is ${String(perIteration)}; only single-output models (binary, regression) are supported, not multiclass`);
  }
  const numFeatures = integer(d.max_feature_idx, 'max_feature_idx', 0) + 1;
  const names = d.feature_names;
  if (!Array.isArray(names) || names.length !== numFeatures || !names.every((n) => typeof n === 'string')) {
    throw new LightGbmModelError('feature_names', `must be ${numFeatures} strings (max_feature_idx + 1)`);
  }
  if (typeof d.objective !== 'string') throw new LightGbmModelError('objective', 'must be a string');
  if (d.average_output !== undefined && typeof d.average_output !== 'boolean') throw new LightGbmModelError('average_output', 'must be a boolean');
  if (!Array.isArray(d.tree_info) || d.tree_info.length === 0) throw new LightGbmModelError('tree_info', 'must be a non-empty array');
  const trees = d.tree_info.map((t: unknown, i: number) => parseTree(t, `tree_info[${i}]`, numFeatures));
  const averageOutput = d.average_output === true;
  const numIterations = trees.length;
  const row = new Float64Array(numFeatures);
  const predictRaw = (x: ArrayLike<number>): number => {
    toLightGbmRow(x, row);
    let sum = 0;
    for (let t = 0; t < trees.length; t++) sum += trees[t].leafValue[leafIndex(trees[t], row)];
    return sum;
  };
  return {
    objective: d.objective,
    featureNames: Object.freeze([...(names as string[])]),
    numFeatures,
    averageOutput,
    numIterations,
    trees,
    maxDepth: trees.reduce((m: number, t: LightGbmTree) => Math.max(m, t.maxDepth), 0),
    predictRaw,
    predictMargin: (x) => (averageOutput ? predictRaw(x) / numIterations : predictRaw(x)),
  };
}

function parseTree(raw: unknown, path: string, numFeatures: number): LightGbmTree {
  const info = asObject(raw, path);
  const numLeaves = integer(info.num_leaves, `${path}.num_leaves`, 1);
  if (typeof info.num_cat === 'number' && info.num_cat > 0) throw new LightGbmModelError(`${path}.num_cat`, 'categorical splits are not supported');
  if (info.is_linear === true || info.is_linear === 1) throw new LightGbmModelError(`${path}.is_linear`, 'linear trees are not supported');
  const n = numLeaves - 1;
  const tree = {
    numLeaves,
    splitFeature: new Int32Array(n),
    threshold: new Float64Array(n),
    missingType: new Uint8Array(n),
    defaultLeft: new Uint8Array(n),
    leftChild: new Int32Array(n),
    rightChild: new Int32Array(n),
    internalCount: new Float64Array(n),
    leafValue: new Float64Array(numLeaves),
    leafCount: new Float64Array(numLeaves),
    maxDepth: 0,
  };
  const seenSplit = new Uint8Array(n);
  const seenLeaf = new Uint8Array(numLeaves);

  const visit = (rawNode: unknown, at: string, depth: number): number => {
    const node = asObject(rawNode, at);
    if (node.leaf_value !== undefined) {
      if (node.leaf_coeff !== undefined) throw new LightGbmModelError(at, 'linear trees are not supported');
      const leaf = numLeaves === 1 && node.leaf_index === undefined ? 0 : integer(node.leaf_index, `${at}.leaf_index`, 0, n);
      if (seenLeaf[leaf]++) throw new LightGbmModelError(at, `leaf_index ${leaf} appears twice`);
      tree.leafValue[leaf] = finite(node.leaf_value, `${at}.leaf_value`);
      tree.leafCount[leaf] = numLeaves === 1 && node.leaf_count === undefined ? 0 : count(node.leaf_count, `${at}.leaf_count`);
      tree.maxDepth = Math.max(tree.maxDepth, depth);
      return ~leaf;
    }
    const split = integer(node.split_index, `${at}.split_index`, 0, n - 1);
    if (seenSplit[split]++) throw new LightGbmModelError(at, `split_index ${split} appears twice`);
    if (node.decision_type === '==') throw new LightGbmModelError(`${at}.decision_type`, 'categorical splits are not supported');
    if (node.decision_type !== '<=') throw new LightGbmModelError(`${at}.decision_type`, `must be '<=', got ${JSON.stringify(node.decision_type)}`);
    const missing = typeof node.missing_type === 'string' ? MISSING_TYPES[node.missing_type] : undefined;
    if (missing === undefined) throw new LightGbmModelError(`${at}.missing_type`, `must be 'None', 'Zero' or 'NaN', got ${JSON.stringify(node.missing_type)}`);
    if (typeof node.default_left !== 'boolean') throw new LightGbmModelError(`${at}.default_left`, 'must be a boolean');
    tree.splitFeature[split] = integer(node.split_feature, `${at}.split_feature`, 0, numFeatures - 1);
    tree.threshold[split] = unavoidInf(finite(node.threshold, `${at}.threshold`));
    tree.missingType[split] = missing;
    tree.defaultLeft[split] = node.default_left ? 1 : 0;
    tree.internalCount[split] = count(node.internal_count, `${at}.internal_count`);
    tree.leftChild[split] = visit(node.left_child, `${at}.left_child`, depth + 1);
    tree.rightChild[split] = visit(node.right_child, `${at}.right_child`, depth + 1);
    return split;
  };

  const root = visit(info.tree_structure, `${path}.tree_structure`, 0);
  if (numLeaves > 1 && root !== 0) throw new LightGbmModelError(`${path}.tree_structure`, 'the root must be split_index 0');
  if (seenLeaf.includes(0) || seenSplit.includes(0)) throw new LightGbmModelError(path, `num_leaves is ${numLeaves} but the structure has other nodes`);
  return tree;
}

/** Undoes Common::AvoidInf, which the dump applies to thresholds (the model itself keeps the infinity). */
function unavoidInf(threshold: number): number {
  return threshold >= 1e300 ? Infinity : threshold <= -1e300 ? -Infinity : threshold;
}

function asObject(v: unknown, path: string): Record<string, any> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new LightGbmModelError(path, 'must be an object');
  return v as Record<string, any>;
}

function integer(v: unknown, path: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw new LightGbmModelError(path, `must be an integer in [${min}, ${max}], got ${JSON.stringify(v)}`);
  return v;
}

function finite(v: unknown, path: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new LightGbmModelError(path, `must be a finite number, got ${JSON.stringify(v)}`);
  return v;
}

function count(v: unknown, path: string): number {
  if (typeof v !== 'number' || !(v >= 0)) throw new LightGbmModelError(path, `must be a count >= 0, got ${JSON.stringify(v)}`);
  return v;
}
