// Exact TreeSHAP for a LightGBM model: Lundberg, Erion & Lee (2018), "Consistent Individualized
// Feature Attribution for Tree Ensembles", Algorithm 2 (the polynomial-time path algorithm with
// EXTEND / UNWIND), as LightGBM runs it for predict(pred_contrib=True) (src/io/tree.cpp,
// Tree::TreeSHAP): node covers are the training counts (internal_count / leaf_count) and the branch
// the row takes is chosen by the same missing-value routing as the prediction (lightgbm-model.ts).
//
// Output layout is pred_contrib's: one value per feature, then the expected value (bias) last; the
// sum equals model.predictRaw(x). Nothing is allocated per row or node. Against LightGBM's own code
// three things are reorganised for speed; they change results only in the last bits (~1e-15):
//   - the path's feature / fractions live in one stack (a node that UNWINDs puts the element back
//     when done) and EXTEND writes a node's weights from its parent's, instead of copying the path;
//   - the divisions by path-length ratios are multiplications by tabulated ratios;
//   - at a leaf, the unwound sum of every element the row did not follow (one fraction 0) is one
//     shared sum divided by its zero fraction, so only the followed elements cost O(depth) each.
import { nextNode, toLightGbmRow } from './lightgbm-model.ts';
import type { LightGbmModel, LightGbmTree } from './lightgbm-model.ts';

/** Explains rows of one model; not re-entrant (one explain at a time), as JavaScript runs anyway. */
export class TreeShap {
  /** numFeatures + 1: the length of a contribution vector. */
  readonly size: number;
  readonly #explain: (x: ArrayLike<number>, out: Float64Array) => Float64Array;

  constructor(model: LightGbmModel) {
    this.size = model.numFeatures + 1;
    this.#explain = createExplainer(model);
  }

  /** Contributions of each feature of `x`, then the bias; written into `out` when given. */
  explain(x: ArrayLike<number>, out: Float64Array = new Float64Array(this.size)): Float64Array {
    if (out.length !== this.size) throw new RangeError(`contribution buffer has ${out.length} slots, needs ${this.size}`);
    return this.#explain(x, out);
  }
}

export interface Contribution {
  name: string;
  /** The feature value (NaN when missing). */
  value: number;
  contribution: number;
}

function createExplainer(model: LightGbmModel): (x: ArrayLike<number>, out: Float64Array) => Float64Array {
  const { trees, numFeatures } = model;
  const size = numFeatures + 1;
  // A unique path has at most maxDepth + 1 elements (element 0 is the root's placeholder).
  const W = model.maxDepth + 2;
  const feature = new Int32Array(W);
  const zero = new Float64Array(W);
  const one = new Float64Array(W);
  const weight = new Float64Array((model.maxDepth + 1) * W); // the permutation weights of each tree level's path
  // Ratios for a path of depth d (d + 1 elements) at element i < d, at [d * W + i].
  const up = new Float64Array(W * W); // (i + 1) / (d + 1)
  const down = new Float64Array(W * W); // (d - i) / (d + 1)
  const hotRatio = new Float64Array(W * W); // (d + 1) / (i + 1)
  const coldRatio = new Float64Array(W * W); // (d + 1) / (d - i)
  const hotDown = new Float64Array(W * W); // (d - i) / (i + 1)
  for (let d = 1; d < W; d++) {
    for (let i = 0; i < d; i++) {
      up[d * W + i] = (i + 1) / (d + 1);
      down[d * W + i] = (d - i) / (d + 1);
      hotRatio[d * W + i] = (d + 1) / (i + 1);
      coldRatio[d * W + i] = (d + 1) / (d - i);
      hotDown[d * W + i] = (d - i) / (i + 1);
    }
  }
  const expected = Float64Array.from(trees, expectedValue);
  const row = new Float64Array(numFeatures);
  let tree: LightGbmTree = trees[0];
  let phi: Float64Array = new Float64Array(size);

  // EXTEND the parent's path (weights at q) by (zeroFraction, oneFraction, f) into this level's (at p).
  function extend(p: number, depth: number, zeroFraction: number, oneFraction: number, f: number): void {
    feature[depth] = f;
    zero[depth] = zeroFraction;
    one[depth] = oneFraction;
    if (depth === 0) {
      weight[p] = 1;
      return;
    }
    const q = p - W;
    const b = depth * W;
    if (oneFraction === 0) {
      weight[p + depth] = 0;
      for (let i = depth - 1; i >= 0; i--) weight[p + i] = zeroFraction * weight[q + i] * down[b + i];
    } else {
      let carry = 0; // the zero-fraction part of element i + 1
      for (let i = depth - 1; i >= 0; i--) {
        const w = weight[q + i];
        weight[p + i + 1] = carry + oneFraction * w * up[b + i];
        carry = zeroFraction * w * down[b + i];
      }
      weight[p] = carry;
    }
  }

  // UNWIND element k of the path at p (LightGBM's arithmetic; only when a feature repeats on a path).
  function unwind(p: number, depth: number, k: number): void {
    const oneFraction = one[k];
    const zeroFraction = zero[k];
    let nextOnePortion = weight[p + depth];
    for (let i = depth - 1; i >= 0; i--) {
      if (oneFraction !== 0) {
        const tmp = weight[p + i];
        weight[p + i] = (nextOnePortion * (depth + 1)) / ((i + 1) * oneFraction);
        nextOnePortion = tmp - (weight[p + i] * zeroFraction * (depth - i)) / (depth + 1);
      } else {
        weight[p + i] = (weight[p + i] * (depth + 1)) / (zeroFraction * (depth - i));
      }
    }
    for (let i = k; i < depth; i++) {
      feature[i] = feature[i + 1];
      zero[i] = zero[i + 1];
      one[i] = one[i + 1];
    }
  }

  // Undo unwind's shift once the children are done, so the ancestors see their path again.
  function rewind(depth: number, k: number, f: number, zeroFraction: number, oneFraction: number): void {
    for (let i = depth; i > k; i--) {
      feature[i] = feature[i - 1];
      zero[i] = zero[i - 1];
      one[i] = one[i - 1];
    }
    feature[k] = f;
    zero[k] = zeroFraction;
    one[k] = oneFraction;
  }

  // At a leaf: phi[feature] += (unwound path sum without the element) * (one - zero) * leaf value.
  function leaf(p: number, depth: number, value: number): void {
    const b = depth * W;
    let coldSum = -1; // not computed yet (a computed one is >= 0)
    for (let k = 1; k <= depth; k++) {
      const o = one[k];
      const z = zero[k];
      let total = 0;
      if (o === 0) {
        if (coldSum < 0) {
          coldSum = 0;
          for (let i = depth - 1; i >= 0; i--) coldSum += weight[p + i] * coldRatio[b + i];
        }
        total = coldSum / z;
      } else {
        // LightGBM's recurrence on m = nextOnePortion / o: tmp = m (d+1)/(i+1), then
        // m' = w_i / o - m z (d-i) / ((i+1) o), two operations on the dependency chain.
        const inv = 1 / o;
        const zo = z * inv;
        let m = weight[p + depth] * inv;
        for (let i = depth - 1; i >= 0; i--) {
          total += m * hotRatio[b + i];
          m = weight[p + i] * inv - m * (zo * hotDown[b + i]);
        }
      }
      phi[feature[k]] += total * (o - z) * value;
    }
  }

  function recurse(node: number, level: number, depth: number, zeroFraction: number, oneFraction: number, f: number): void {
    const p = level * W;
    extend(p, depth, zeroFraction, oneFraction, f);
    if (node < 0) {
      leaf(p, depth, tree.leafValue[~node]);
      return;
    }
    const split = tree.splitFeature[node];
    const hot = nextNode(tree, node, row[split]);
    const cold = hot === tree.leftChild[node] ? tree.rightChild[node] : tree.leftChild[node];
    const cover = tree.internalCount[node];
    const hotZero = (hot >= 0 ? tree.internalCount[hot] : tree.leafCount[~hot]) / cover;
    const coldZero = (cold >= 0 ? tree.internalCount[cold] : tree.leafCount[~cold]) / cover;
    let k = 1;
    while (k <= depth && feature[k] !== split) k++;
    if (k > depth) {
      recurse(hot, level + 1, depth + 1, hotZero, 1, split);
      recurse(cold, level + 1, depth + 1, coldZero, 0, split);
      return;
    }
    // Already split on this feature above: undo that split so this node redoes it.
    const incomingZero = zero[k];
    const incomingOne = one[k];
    unwind(p, depth, k);
    recurse(hot, level + 1, depth, hotZero * incomingZero, incomingOne, split);
    recurse(cold, level + 1, depth, coldZero * incomingZero, 0, split);
    rewind(depth, k, split, incomingZero, incomingOne);
  }

  return (x, out) => {
    toLightGbmRow(x, row);
    out.fill(0);
    phi = out;
    for (let t = 0; t < trees.length; t++) {
      tree = trees[t];
      out[numFeatures] += expected[t];
      if (tree.numLeaves > 1) recurse(0, 0, 0, 1, 1, -1);
    }
    return out;
  };
}

/** Tree::ExpectedValue: the cover-weighted mean leaf value, summed in leaf order. */
function expectedValue(tree: LightGbmTree): number {
  if (tree.numLeaves === 1) return tree.leafValue[0];
  const total = tree.internalCount[0];
  let sum = 0;
  for (let i = 0; i < tree.numLeaves; i++) sum += (tree.leafCount[i] / total) * tree.leafValue[i];
  return sum;
}

/**
 * The k features with the largest |contribution|, largest first (ties: feature order). `contribs` may
 * carry the bias last (pred_contrib layout); it is not a feature and is never returned.
 */
export function topContributions(names: readonly string[], values: ArrayLike<number>, contribs: ArrayLike<number>, k: number): Contribution[] {
  const n = names.length;
  if (values.length !== n) throw new RangeError(`${values.length} values for ${n} feature names`);
  if (contribs.length !== n && contribs.length !== n + 1) throw new RangeError(`${contribs.length} contributions for ${n} features (expected ${n} or ${n + 1} with the bias)`);
  const order = Array.from({ length: n }, (_, i) => i);
  order.sort((a, b) => Math.abs(contribs[b]) - Math.abs(contribs[a]) || a - b);
  return order.slice(0, Math.max(0, Math.min(k, n))).map((i) => ({ name: names[i], value: values[i], contribution: contribs[i] }));
}

