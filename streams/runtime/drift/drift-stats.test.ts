// PSI and KS against numbers computed by scipy/numpy (fixtures/drift-stats.json, made by
// models/common/make_drift_fixtures.py): the TypeScript statistics are the ones the alerts use.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { binIndex, kolmogorovSf, ksStatistic, ksTwoSample, psi } from './drift-stats.ts';

interface Case { name: string; reference: number[]; observed: number[]; ks_d: number; ks_p_asymp: number; edges: number[]; proportions: number[]; psi: number }
const fixture = JSON.parse(readFileSync(new URL('./fixtures/drift-stats.json', import.meta.url), 'utf8')) as { cases: Case[] };

test('KS D equals scipy.stats.ks_2samp on every fixture case (ties included)', () => {
  assert.ok(fixture.cases.length >= 9);
  for (const c of fixture.cases) assert.ok(Math.abs(ksStatistic(c.reference, c.observed) - c.ks_d) < 1e-12, `${c.name}: D ${ksStatistic(c.reference, c.observed)} vs scipy ${c.ks_d}`);
});

test('KS asymptotic p-value: within 6 % (relative) of scipy ks_2samp(method="asymp") for p >= 1e-8, the same decision at every Bonferroni level', () => {
  for (const c of fixture.cases) {
    const { p } = ksTwoSample(c.reference, c.observed);
    if (c.ks_p_asymp >= 1e-8) {
      const rel = Math.abs(p - c.ks_p_asymp) / c.ks_p_asymp;
      assert.ok(rel < 0.06, `${c.name}: p ${p} vs scipy ${c.ks_p_asymp} (relative difference ${rel.toFixed(3)})`);
    } else assert.ok(p < 1e-8, `${c.name}: p ${p} where scipy gives ${c.ks_p_asymp}`);
    for (const features of [1, 10, 43, 200]) {
      const alpha = 0.001 / features;
      assert.equal(p < alpha, c.ks_p_asymp < alpha, `${c.name}: decision at p < 0.001/${features}`);
    }
  }
  // The range the cases cover, so the check above is not only about p near 1.
  const ps = fixture.cases.map((c) => c.ks_p_asymp);
  assert.ok(Math.min(...ps) < 1e-20 && Math.max(...ps) > 0.3, `p range ${Math.min(...ps)}..${Math.max(...ps)}`);
});

test('PSI over the reference bins equals numpy (reference.py psi), empty bins smoothed', () => {
  for (const c of fixture.cases) {
    const counts = new Array(c.proportions.length).fill(0);
    for (const v of c.observed) counts[binIndex(c.edges, v)]++;
    const value = psi(c.proportions, counts);
    assert.ok(Math.abs(value - c.psi) < 1e-9, `${c.name}: PSI ${value} vs numpy ${c.psi}`);
  }
  assert.ok(fixture.cases.some((c) => c.edges.length < 9), 'a case with merged cut points (ties) is covered');
});

test('binIndex matches numpy.searchsorted(side="right") at and between edges', () => {
  const edges = [0, 0.5, 2];
  assert.deepEqual([-1, 0, 0.25, 0.5, 1, 2, 3].map((v) => binIndex(edges, v)), [0, 1, 1, 2, 2, 3, 3]);
});

test('Kolmogorov survival function: known values and bounds', () => {
  assert.equal(kolmogorovSf(0), 1);
  assert.ok(Math.abs(kolmogorovSf(1.3581) - 0.05) < 1e-4, `Q(1.3581) = ${kolmogorovSf(1.3581)}`);
  assert.ok(Math.abs(kolmogorovSf(1.6276) - 0.01) < 1e-4, `Q(1.6276) = ${kolmogorovSf(1.6276)}`);
  assert.ok(kolmogorovSf(10) >= 0 && kolmogorovSf(10) < 1e-80);
});

test('empty samples give NaN, not a crash or a false alarm', () => {
  assert.ok(Number.isNaN(ksTwoSample([], [1, 2]).p));
  assert.ok(Number.isNaN(psi([0.5, 0.5], [0, 0])));
  assert.throws(() => psi([0.5, 0.5], [1]), /2 reference bins but 1 observed/);
});
