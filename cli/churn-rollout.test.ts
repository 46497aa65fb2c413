// The batch rollout's pure parts: the controller's scorePsi gives the numbers of score.py's twin
// (models/churn/rollout_rules.py) on the cases both suites read; the hand-given stage is checked;
// the runtime's precision rule judges the tallies the way `churn score` feeds it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ModelPerformance } from '../schemas/generated/types.ts';
import { createLogger } from '../streams/runtime/logger.ts';
import { scorePsi } from '../streams/runtime/model-registry/rollout-controller.ts';
import { challengerArgs, describeBatchRollout, judgePrecision, rolloutRulesFor } from './churn-rollout.ts';
import { stageFromArgs } from './churn-score-rollout.ts';

const CASES = new URL('../models/churn/tests/fixtures/score-psi-cases.json', import.meta.url);
const log = createLogger({ component: 'churn-rollout-test' }).child({}, { level: 'silent' });

test('scorePsi equals the Python twin on the shared cases', () => {
  const { cases } = JSON.parse(readFileSync(CASES, 'utf8')) as { cases: { name: string; champion: number[]; challenger: number[]; psi: number }[] };
  assert.ok(cases.length >= 4);
  for (const c of cases) {
    const got = scorePsi(c.champion, c.challenger);
    assert.ok(got !== null && Math.abs(got - c.psi) < 1e-12, `${c.name}: TS ${got} vs Python ${c.psi}`);
  }
});

test('a hand-given challenger needs its stage, and a canary its fraction and salt', () => {
  const base = { force: false, 'challenger-dir': '/m' };
  assert.deepEqual(stageFromArgs({ ...base, rollout: 'shadow' }), { stage: 'shadow' });
  assert.deepEqual(stageFromArgs({ ...base, rollout: 'canary', fraction: '0.2', salt: '4' }), { stage: 'canary', fraction: 0.2, salt: '4' });
  assert.match(stageFromArgs({ force: false, rollout: 'shadow' }) as string, /go together/);
  assert.match(stageFromArgs({ ...base, rollout: 'blue' }) as string, /shadow or canary/);
  assert.match(stageFromArgs({ ...base, rollout: 'canary', fraction: '1', salt: '4' }) as string, /fraction in \(0, 1\)/);
  assert.match(stageFromArgs({ ...base, rollout: 'canary', fraction: '0.1' }) as string, /--salt/);
});

function tally(version: string, day: string, tp: number, fp: number, computedAt = 1): ModelPerformance {
  return { model_name: 'churn-30d-rf', model_version: version, processor: 'churn-evaluate', day, label_source: 'lake', horizon_ms: 30 * 86_400_000, threshold: 0.4,
    true_positives: tp, false_positives: fp, false_negatives: 0, labels_caught: tp, pending: 0, precision: tp / (tp + fp), recall: null, computed_at: computedAt };
}

test('the precision rule compares the challenger with the champion on the challenger\'s days, from the latest tallies', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'churn-rollout-'));
  try {
    const meta = (v: string) => {
      const d = join(dir, v);
      mkdirSync(d);
      writeFileSync(join(d, 'model-meta.json'), JSON.stringify({ model_version: v }));
      return d;
    };
    const rules = rolloutRulesFor('churn-30d-rf', { stage: 'canary', fraction: 0.1, salt: '7' });
    const o = { model: 'churn-30d-rf', registryVersion: '7', championDir: meta('v-champ'), challengerDir: meta('v-chall'), rules, log };
    // 2026-06-01 only the champion has; the challenger's day is 06-02: 6/30 against 27/30 there.
    const tallies = [tally('v-champ', '2026-06-01', 1, 29), tally('v-champ', '2026-06-02', 27, 3), tally('v-chall', '2026-06-02', 20, 10), tally('v-chall', '2026-06-02', 6, 24, 2)];
    const breach = await judgePrecision(tallies, o);
    assert.equal(breach?.rule, 'precision');
    assert.ok(Math.abs(breach!.numbers.challenger_precision - 0.2) < 1e-12 && Math.abs(breach!.numbers.champion_precision - 0.9) < 1e-12, JSON.stringify(breach!.numbers));
    // Fewer judged predictions than min_judged_alerts (20): not judged, however bad.
    assert.equal(await judgePrecision([tally('v-champ', '2026-06-02', 27, 3), tally('v-chall', '2026-06-02', 1, 9)], o), null);
    // Switched off by the rollout tag's rules (as the steward writes for a retrained version): not judged.
    const off = rolloutRulesFor('churn-30d-rf', { stage: 'canary', fraction: 0.1, salt: '7', rules: { off: ['precision'] } });
    assert.equal(await judgePrecision(tallies, { ...o, rules: off }), null);
    // Within the margin (0.1): holds.
    assert.equal(await judgePrecision([tally('v-champ', '2026-06-02', 27, 3), tally('v-chall', '2026-06-02', 25, 5)], o), null);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the batch verdict line names the stage, the PSI, the breach and who served', () => {
  const line = describeBatchRollout({ stage: 'canary', compared_users: 560, judged: true, challenger_error: null, score_psi: 8.28,
    breach: { rule: 'score_psi', detail: 'PSI 8.283 (> 0.25)', numbers: {} }, served: { champion: 5636 }, challenger_model: { model_name: 'churn-30d-rf', model_version: 'x' } });
  assert.equal(line, 'churn score: canary of x on 560 users, score PSI 8.280; BREACH score_psi: PSI 8.283 (> 0.25); served: 5636 champion');
});

test('a registry rollout passes its effective rules to score.py: the tag\'s own over the policy\'s', () => {
  const stage = { stage: 'canary' as const, fraction: 0.1, salt: '7', rules: { off: ['score_psi'], min_records: 100 } };
  const args = challengerArgs('/cache/v7', stage, rolloutRulesFor('churn-30d-rf', stage));
  assert.deepEqual(args.slice(0, 8), ['--challenger-dir', '/cache/v7', '--rollout', 'canary', '--fraction', '0.1', '--salt', '7']);
  const rules = JSON.parse(args[9]);
  assert.equal(args[8], '--rollout-rules');
  assert.equal(rules.min_records, 100);
  assert.equal(rules.window_ms, 86_400_000, 'churn\'s own window from the policy');
  assert.deepEqual(rules.off, ['score_psi']);
});
