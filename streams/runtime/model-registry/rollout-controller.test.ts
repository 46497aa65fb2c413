// The rollout controller's rules on hand-made windows (pure logic; the integration test
// test/integration/rollout-rollback.test.ts runs them on real chunks): a constant scorer breaks the
// PSI rule, a slow one the p99 rule, a failing one the error rule; a challenger like its champion
// breaks none; nothing is judged before the minimum sample or during the warm-up time; a canary is
// judged against the champion's reference run on its own records; rules switched off (policy or
// rollout tag) are not judged; a breach stops the challenger locally at once and asks for the
// registry rollback once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger } from '../logger.ts';
import type { Challenger } from '../rollout/challenger.ts';
import type { ChunkRollout, RoleSample } from '../rollout/rollout-chunk.ts';
import { RolloutController, effectiveRules, judge, policyRolloutRules, scorePsi, type RollbackRequest } from './rollout-controller.ts';
import { parsePolicy, type RolloutRules } from './policy.ts';
import { parseRolloutTag } from '../rollout/rollout-state.ts';

/** Chunks come 100 ms apart in these tests (controller()'s clock): a 250 ms warm-up skips the first 3. */
const WARMUP_CHUNKS = 3;
const RULES: RolloutRules = { window_ms: 2_000, min_records: 200, warmup_ms: 250, max_error_rate_increase: 0.01, max_p99_latency_ratio: 2, max_score_psi: 0.25, canary_fraction: 0.1 };
const log = createLogger({ test: true }).child({}, { level: 'silent' });
/** Deterministic scores spread like a failure model's: mostly low, a tail. */
const scores = (n: number, seed: number) => Array.from({ length: n }, (_, i) => (((Math.sin(i * 12.9898 + seed) * 43758.5453) % 1) + 1) % 1 * 0.3);
const role = (o: Partial<RoleSample> = {}, seed = 1): RoleSample => ({ records: 100, errors: 0, ms: 10, scores: scores(50, seed), ...o });

function controller(coldUntil = 0, stepMs = 100) {
  let t = 0;
  const requests: RollbackRequest[] = [];
  const c = new RolloutController({ processor: 'p', rulesFor: () => RULES, rollBack: async (r) => void requests.push(r), log, now: () => (t += stepMs) });
  const challenger = { slot: 'm', version: '2', stage: { stage: 'shadow' }, active: true, coldUntil } as unknown as Challenger;
  const chunk = (ch: Partial<RoleSample>, seed: number): ChunkRollout => ({ challenger, champion: role({}, seed), challengerSample: role(ch, seed + 1000), compared: [] });
  return { c, challenger, requests, chunk };
}

test('a challenger like its champion breaks no rule over many windows', () => {
  const { c, challenger, requests, chunk } = controller();
  for (let i = 0; i < 200; i++) c.observe(chunk({}, i));
  assert.equal(challenger.active, true);
  assert.equal(requests.length, 0);
});

test('a constant scorer is rolled back on score_psi once both roles have the minimum sample, after the warm-up chunks', () => {
  const { c, challenger, requests, chunk } = controller();
  const observed: number[] = [];
  for (let i = 0; i < 20 && challenger.active; i++) {
    c.observe(chunk({ scores: new Array(50).fill(0.5) }, i));
    observed.push(i);
  }
  assert.equal(challenger.active, false, 'stopped locally at once');
  // Warm-up chunks are skipped, then 2 chunks of 100 records reach min_records 200.
  assert.equal(observed.length, WARMUP_CHUNKS + 2);
  assert.equal(requests.length, 1);
  assert.equal(requests[0].rule, 'score_psi');
  assert.ok(requests[0].numbers.score_psi > 1, `PSI ${requests[0].numbers.score_psi}`);
  c.observe(chunk({ scores: new Array(50).fill(0.5) }, 99));
  assert.equal(requests.length, 1, 'asked for once');
  assert.equal(c.rolledBack('m', '2'), true);
});

test('a shadow whose own state is still filling is not judged on its score distribution, only on errors and latency', () => {
  const { c, challenger, requests, chunk } = controller(Date.now() + 3_600_000);
  for (let i = 0; i < 20; i++) c.observe(chunk({ scores: new Array(50).fill(0.5) }, i));
  assert.equal(challenger.active, true);
  c.observe(chunk({ ms: 100 }, 30));
  assert.equal(requests[0]?.rule, 'p99_latency');
});

test('slow (p99 per record over 2x) and failing (error rate over +1 pp) challengers are named by their rule', () => {
  const slow = judge(stats({ ms: 0.1 }), stats({ ms: 1 }), RULES);
  assert.equal(slow?.rule, 'p99_latency');
  assert.equal(judge(stats({ ms: 0.1 }), stats({ ms: 0.19 }), RULES), null, 'under 2x is fine');
  assert.equal(judge(stats({ errors: 0.01 }), stats({ errors: 0.03 }), RULES)?.rule, 'error_rate');
  assert.equal(judge(stats({ errors: 0.01 }), stats({ errors: 0.019 }), RULES), null, 'within 1 pp is fine');
});

test('PSI: equal samples ~0, a constant against a spread >> 1, two constants equal 0; none without scores', () => {
  assert.ok(scorePsi(scores(500, 1), scores(500, 2))! < 0.1);
  assert.ok(scorePsi(scores(500, 1), new Array(100).fill(0.5))! > 1);
  assert.equal(scorePsi(new Array(100).fill(0.2), new Array(100).fill(0.2)), 0);
  assert.equal(scorePsi([], [1]), null);
});

test('the committed policy gives every model rules (defaults for a model without its own)', () => {
  const rulesFor = policyRolloutRules();
  assert.equal(rulesFor('arm-failure-lgbm').window_ms, 30_000);
  assert.equal(rulesFor('churn-30d-rf').window_ms, 86_400_000);
  assert.equal(rulesFor('a-test-model').max_score_psi, 0.25);
});

function stats(o: { ms?: number; errors?: number }) {
  return { records: 1000, errors: Math.round((o.errors ?? 0) * 1000), errorRate: o.errors ?? 0, p99MsPerRecord: o.ms ?? 0.1, meanMsPerRecord: o.ms ?? 0.1, scores: scores(200, 3) };
}

test('a canary is judged on its own window, not on the scores its version made in a cold shadow', () => {
  const { c, challenger, requests, chunk } = controller(Date.now() + 3_600_000);
  // Shadow on a cold state: constant scores, not judged on PSI (cold), and nothing else breached.
  for (let i = 0; i < 10; i++) c.observe(chunk({ scores: new Array(50).fill(0.5) }, i));
  assert.equal(requests.length, 0);
  // The same version moves to canary (stage changes on the same challenger) and scores like the champion.
  (challenger as unknown as { stage: { stage: string }; coldUntil: number }).stage = { stage: 'canary' };
  (challenger as unknown as { coldUntil: number }).coldUntil = 0;
  // A canary is judged against the champion's reference run on the canary's records.
  for (let i = 0; i < 40; i++) c.observe({ ...chunk({}, 100 + i), reference: role({}, 100 + i) });
  assert.equal(requests.length, 0, `rolled back on ${requests[0]?.rule}: the shadow's scores leaked into the canary's window`);
  assert.equal(challenger.active, true);
});

test('the warm-up is a time, not a number of chunks: fast chunks are not judged until warmup_ms has passed', () => {
  // Chunks 10 ms apart: a slow challenger (10x) is not judged for 250 ms, i.e. 25 chunks, then at once.
  const { c, challenger, requests, chunk } = controller(0, 10);
  let chunks = 0;
  for (; chunks < 100 && challenger.active; chunks++) c.observe(chunk({ ms: 100 }, chunks));
  assert.equal(requests[0]?.rule, 'p99_latency');
  assert.ok(chunks >= 25 && chunks <= 28, `judged after ${chunks} chunks (25 are within the warm-up, then 2 fill min_records)`);
});

test('a canary is judged against the champion\'s reference run on the same records, not the other keys the champion served', () => {
  const { c, challenger, requests } = controller();
  (challenger as unknown as { stage: unknown }).stage = { stage: 'canary', fraction: 0.5, salt: '2' };
  // The champion's own keys score high (other entities); the canary keys score low for both models.
  const own = role({ scores: new Array(50).fill(0.9) });
  const canaryChunk = (i: number, reference: RoleSample | null | undefined): ChunkRollout => ({ challenger, champion: own, challengerSample: role({}, i), reference, compared: [] });
  for (let i = 0; i < 40; i++) c.observe(canaryChunk(i, role({}, i + 500)));
  assert.equal(requests.length, 0, `rolled back on ${requests[0]?.rule}: judged against the champion's other keys`);
  // A chunk whose reference failed (null) or had no canary record (undefined) adds nothing: a constant challenger is not judged on it.
  for (let i = 0; i < 40; i++) c.observe({ ...canaryChunk(i, i % 2 ? null : undefined), challengerSample: role({ scores: new Array(50).fill(0.5) }) });
  assert.equal(requests.length, 0);
  // Against a reference, a constant challenger breaks score_psi.
  for (let i = 0; i < 40 && challenger.active; i++) c.observe({ ...canaryChunk(i, role({}, i + 900)), challengerSample: role({ scores: new Array(50).fill(0.5) }) });
  assert.equal(requests[0]?.rule, 'score_psi');
});

test('rules switched off by the rollout tag (a retrained version) are not judged; the others still are', () => {
  const { c, challenger, requests, chunk } = controller();
  (challenger as unknown as { stage: unknown }).stage = parseRolloutTag('{"stage":"shadow","rules":{"off":["score_psi"]}}');
  for (let i = 0; i < 40; i++) c.observe(chunk({ scores: new Array(50).fill(0.5) }, i));
  assert.equal(requests.length, 0, 'a constant scorer is not rolled back on score_psi when it is off');
  c.observe(chunk({ ms: 100 }, 99));
  assert.equal(requests[0]?.rule, 'p99_latency');
  assert.deepEqual(effectiveRules({ ...RULES, off: ['precision'] }, { stage: 'shadow', rules: { off: ['score_psi'], max_p99_latency_ratio: 3 } }), { ...RULES, off: ['precision', 'score_psi'], max_p99_latency_ratio: 3 });
});

test('the policy: warmup_ms is a number >= 0 (10 s when absent), retrained_rollout names known rules, the committed policy turns score_psi off for retrained versions', () => {
  const model = { metric: 'm', direction: 'higher', margin: 0, evaluation: 'reported', eval_set: 's' };
  const defaults = { ...RULES };
  assert.throws(() => parsePolicy({ models: { a: model }, rollout_defaults: { ...defaults, warmup_ms: -1 } }, '/'), /warmup_ms must be a finite number of milliseconds >= 0/);
  assert.throws(() => parsePolicy({ models: { a: model }, rollout_defaults: { ...defaults, warmup_ms: '10s' } }, '/'), /warmup_ms must be a finite number of milliseconds >= 0/);
  assert.equal(parsePolicy({ models: { a: model }, rollout_defaults: { ...defaults, warmup_ms: undefined } }, '/').models.a.rollout.warmup_ms, 10_000, 'a policy without warmup_ms gets the default');
  assert.throws(() => parsePolicy({ models: { a: model }, rollout_defaults: defaults, retrained_rollout: { off: ['score'] } }, '/'), /retrained_rollout\.off must list rules among error_rate, p99_latency, score_psi, precision/);
  assert.throws(() => parsePolicy({ models: { a: { ...model, retrained_rollout: { max_score_psi: 'x' } } }, rollout_defaults: defaults }, '/'), /models\.a\.retrained_rollout\.max_score_psi must be a finite number >= 0/);
  const p = parsePolicy({ models: { a: { ...model, retrained_rollout: { max_score_psi: 2 } } }, rollout_defaults: defaults, retrained_rollout: { off: ['score_psi'] } }, '/');
  assert.deepEqual(p.models.a.retrained_rollout, { off: ['score_psi'], max_score_psi: 2 });
  assert.equal(policyRolloutRules()('arm-failure-lgbm').warmup_ms, 10_000);
  assert.throws(() => parseRolloutTag('{"stage":"canary","fraction":0.1,"salt":"2","rules":{"off":["psi"]}}'), /rules\.off must list rules/);
});
