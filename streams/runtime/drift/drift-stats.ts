// The two drift statistics, implemented once (the Python side only writes references): PSI over a
// reference's quantile bins and the two-sample Kolmogorov-Smirnov D with its asymptotic p-value.
// Both are checked against scipy in drift-stats.test.ts (fixtures/drift-stats.json, made by
// models/common/make_drift_fixtures.py).

/** PSI smoothing: an empty bin on either side counts as this share, so one empty bin cannot give +Infinity. */
export const PSI_EPSILON = 1e-4;

/**
 * The bin of `value` among ascending cut points: the number of edges <= value, so bin 0 is
 * (-inf, edges[0]) and bin edges.length is [edges[last], +inf). numpy.searchsorted(edges, v,
 * side="right") gives the same index, which is how models/common/reference.py counts training data.
 */
export function binIndex(edges: readonly number[], value: number): number {
  let lo = 0;
  let hi = edges.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (edges[mid] <= value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Population stability index of observed bin counts against the reference's bin proportions. */
export function psi(referenceProportions: readonly number[], observedCounts: readonly number[], epsilon = PSI_EPSILON): number {
  if (referenceProportions.length !== observedCounts.length) throw new Error(`psi: ${referenceProportions.length} reference bins but ${observedCounts.length} observed`);
  const total = observedCounts.reduce((a, b) => a + b, 0);
  if (total === 0) return NaN;
  let sum = 0;
  for (let i = 0; i < observedCounts.length; i++) {
    const expected = Math.max(referenceProportions[i], epsilon);
    const actual = Math.max(observedCounts[i] / total, epsilon);
    sum += (actual - expected) * Math.log(actual / expected);
  }
  return sum;
}

/** Two-sample KS D = sup |F_a - F_b| of two ascending samples (ties handled as scipy.stats.ks_2samp does). */
export function ksStatistic(sortedA: ArrayLike<number>, sortedB: ArrayLike<number>): number {
  const n = sortedA.length;
  const m = sortedB.length;
  let i = 0;
  let j = 0;
  let d = 0;
  while (i < n && j < m) {
    // Step past every copy of the smaller value in both samples before comparing the two CDFs.
    const x = Math.min(sortedA[i], sortedB[j]);
    while (i < n && sortedA[i] <= x) i++;
    while (j < m && sortedB[j] <= x) j++;
    d = Math.max(d, Math.abs(i / n - j / m));
  }
  return d;
}

/**
 * P(K > lambda) for the Kolmogorov distribution: 2 sum_{k>=1} (-1)^(k-1) exp(-2 k^2 lambda^2).
 * (scipy.stats.kstwobign.sf.) For small lambda the series converges slowly but the value is 1 to
 * double precision below 0.2.
 */
export function kolmogorovSf(lambda: number): number {
  if (!(lambda > 0.2)) return 1;
  let sum = 0;
  for (let k = 1; k <= 100; k++) {
    const term = Math.exp(-2 * k * k * lambda * lambda);
    sum += (k % 2 === 1 ? 1 : -1) * term;
    if (term < 1e-17 * Math.max(sum, 1e-300)) break;
  }
  return Math.min(1, Math.max(0, 2 * sum));
}

export interface KsResult {
  d: number;
  /** Asymptotic two-sided p-value. */
  p: number;
}

/**
 * D and its asymptotic p-value with Stephens' small-sample correction
 * Q((sqrt(en) + 0.12 + 0.11/sqrt(en)) D), en = nm/(n+m). scipy's ks_2samp(method="asymp") uses the
 * exact one-sample law kstwo(round(en)) instead; on the fixtures the two agree within 6 % (relative)
 * for p >= 1e-8 and make the same decision at p < 0.001/#features (the tail below is beside the point).
 */
export function ksTwoSample(sortedA: ArrayLike<number>, sortedB: ArrayLike<number>): KsResult {
  if (sortedA.length === 0 || sortedB.length === 0) return { d: NaN, p: NaN };
  const d = ksStatistic(sortedA, sortedB);
  const en = (sortedA.length * sortedB.length) / (sortedA.length + sortedB.length);
  const root = Math.sqrt(en);
  return { d, p: kolmogorovSf((root + 0.12 + 0.11 / root) * d) };
}
