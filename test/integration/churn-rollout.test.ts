// Issue #12 for the churn batch, against the real MLflow and Kafka: `churn score`'s rollout steps
// (cli/churn-score-rollout.ts) read a canary from the registry (alias challenger + streamscore.rollout,
// under a test's own model name), hand score.py the challenger's cached folder with the stage,
// fraction, salt and rules, and roll a breached challenger back as the serving controller does: the
// alias deleted, streamscore.rollback.1, stage none, ROLLED_BACK on models.lifecycle.v1. The Spark
// side (a constant-score canary breaching score_psi on a lake) is models/churn/tests/test_churn_rollout.py;
// here the batch's verdict is the summary score.py writes. The delayed-label precision rule is judged
// before the batch from models.performance.v1 and rolls back without scoring.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { publishPerformance } from '../../connectors/churn-publisher/performance.ts';
import type { ModelPerformance } from '../../schemas/generated/types.ts';
import { listModelFiles } from '../../streams/runtime/model-registry/artifact-files.ts';
import { kafkaLifecyclePublisher } from '../../streams/runtime/model-registry/lifecycle-events.ts';
import { MlflowClient } from '../../streams/runtime/model-registry/mlflow-client.ts';
import { rollbacksOf, startRollout } from '../../streams/runtime/model-registry/rollout.ts';
import { policyRolloutRules } from '../../streams/runtime/model-registry/rollout-controller.ts';
import { ROLLOUT_TAG } from '../../streams/runtime/rollout/rollout-state.ts';
import { ConfluentSchemaStore } from '../../streams/runtime/schema-store.ts';
import { COMMITTED_CHURN_DIR } from '../../cli/churn-serving.ts';
import { prepareRollout, type PreparedRollout } from '../../cli/churn-score-rollout.ts';
import { endpoints, mlflowTrackingUri, quietLog, runId, testKafka } from './helpers.ts';
import { lifecycleEvents } from './rollout-helpers.ts';
import { registerModelDir } from './registered-models.ts';

const COMMITTED_VERSION = (JSON.parse(readFileSync(join(COMMITTED_CHURN_DIR, 'model-meta.json'), 'utf8')) as { model_version: string }).model_version;

/** The committed churn model as v1 (champion) and, with another model_version, v2 in a canary of 10 %. */
async function canaryOfTwoVersions(id: string, tmp: string) {
  const name = `${id}-churn-30d-rf`;
  const client = new MlflowClient({ trackingUri: mlflowTrackingUri(), attempts: 3 });
  const challengerDir = join(tmp, 'v2');
  cpSync(COMMITTED_CHURN_DIR, challengerDir, { recursive: true });
  const meta = JSON.parse(readFileSync(join(challengerDir, 'model-meta.json'), 'utf8'));
  writeFileSync(join(challengerDir, 'model-meta.json'), JSON.stringify({ ...meta, model_name: name, model_version: `${id}-v2` }));
  const files = (dir: string) => listModelFiles(dir).map((f) => f.name);
  const v1 = await registerModelDir(client, { name, dir: COMMITTED_CHURN_DIR, files: files(COMMITTED_CHURN_DIR), experiment: `${id}-churn` });
  const v2 = await registerModelDir(client, { name, dir: challengerDir, files: files(challengerDir), experiment: `${id}-churn` });
  await client.setAlias(name, 'champion', v1);
  await client.setAlias(name, 'challenger', v2);
  const publisher = await kafkaLifecyclePublisher({ kafka: testKafka(), store: new ConfluentSchemaStore(endpoints().schemaRegistryUrl), log: quietLog });
  await startRollout({ client, publisher, name, stage: 'canary', fraction: 0.1, by: 'ci', reason: 'churn batch canary test' }).finally(() => publisher.close());
  const champion = { slot: { name, alias: 'champion', version: v1, dir: COMMITTED_CHURN_DIR } };
  return { name, client, v1, v2, champion };
}

async function assertRolledBack(client: MlflowClient, name: string, version: string, rule: string) {
  assert.equal(await client.getModelVersionByAlias(name, 'challenger'), null, 'the challenger alias is deleted');
  const record = rollbacksOf((await client.getModelVersion(name, version))!)[0];
  assert.equal(record?.record.rule, rule, 'streamscore.rollback.1 names the rule');
  assert.equal(record.record.stage, 'canary');
  assert.equal((await client.getRegisteredModel(name))?.tags?.find((t) => t.key === ROLLOUT_TAG)?.value, '{"stage":"none"}');
  const events = await lifecycleEvents(testKafka(), name, (es) => es.some((e) => e.event === 'ROLLED_BACK'));
  const event = events.find((e) => e.event === 'ROLLED_BACK')!;
  assert.equal(event.rule, rule);
  assert.equal(event.registry_version, version);
  assert.equal(event.event_id, `${name}/${version}/ROLLED_BACK/1`);
  return event;
}

test('a churn canary from the registry is handed to score.py, and its score_psi breach is rolled back in the registry', { timeout: 120_000 }, async () => {
  const id = runId();
  const tmp = mkdtempSync(join(tmpdir(), 'churn-rollout-it-'));
  try {
    const { name, client, v2, champion } = await canaryOfTwoVersions(id, tmp);
    const prepared = (await prepareRollout({ force: false }, champion, join(tmp, 'lake'), quietLog, name)) as PreparedRollout;
    const args = prepared.args;
    assert.deepEqual([args[2], args[3], args[4], args[5], args[6], args[7], args[8]], ['--rollout', 'canary', '--fraction', '0.1', '--salt', v2, '--rollout-rules']);
    const cached = JSON.parse(readFileSync(join(args[1], 'model-meta.json'), 'utf8')) as { model_version: string };
    assert.equal(cached.model_version, `${id}-v2`, 'the challenger folder is the registry version, from the artifact cache');
    assert.deepEqual(JSON.parse(args[9]), policyRolloutRules()(name), 'the policy\'s rules for the model (no overrides in this tag)');
    // What score.py writes for a constant canary (numbers of a run of test_churn_rollout.py's case).
    const summary = join(tmp, 'summary.json');
    const breach = { rule: 'score_psi', detail: 'PSI of the challenger\'s scores against the champion\'s 8.283 (> 0.25)', numbers: { champion_records: 563, challenger_records: 563, champion_error_rate: 0, challenger_error_rate: 0, score_psi: 8.283 } };
    writeFileSync(summary, JSON.stringify({ rollout: { stage: 'canary', compared_users: 563, judged: true, challenger_error: null, score_psi: 8.283, breach, served: { champion: 5636 }, challenger_model: { model_name: name, model_version: `${id}-v2` } } }));
    const started = Date.now();
    await prepared.after(summary);
    const event = await assertRolledBack(client, name, v2, 'score_psi');
    assert.equal(event.numbers.score_psi, 8.283);
    process.stdout.write(`# rolled back in ${Date.now() - started} ms after the batch's summary\n`);
    // The next batch finds no rollout: the champion scores alone.
    assert.deepEqual(((await prepareRollout({ force: false }, champion, join(tmp, 'lake'), quietLog, name)) as PreparedRollout).args, []);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

test('a churn canary whose delayed labels show worse precision is rolled back before the batch scores', { timeout: 120_000 }, async () => {
  const id = runId();
  const tmp = mkdtempSync(join(tmpdir(), 'churn-rollout-it-'));
  try {
    const { name, client, v2, champion } = await canaryOfTwoVersions(id, tmp);
    const day = '2026-06-30';
    const tally = (version: string, tp: number, fp: number): ModelPerformance => ({
      model_name: name, model_version: version, processor: 'churn-evaluate', day, label_source: 'lake: BillingEvent CANCELLATION', horizon_ms: 30 * 86_400_000, threshold: 0.24,
      true_positives: tp, false_positives: fp, false_negatives: 3, labels_caught: tp, pending: 0, precision: tp / (tp + fp), recall: 0.5, computed_at: Date.now() });
    await publishPerformance([tally(COMMITTED_VERSION, 45, 5), tally(`${id}-v2`, 6, 24)], { brokers: endpoints().kafkaBrokers, registryUrl: endpoints().schemaRegistryUrl, log: quietLog });
    const prepared = (await prepareRollout({ force: false }, champion, join(tmp, 'lake'), quietLog, name)) as PreparedRollout;
    assert.deepEqual(prepared.args, [], 'the batch scores with the champion alone');
    const event = await assertRolledBack(client, name, v2, 'precision');
    assert.ok(Math.abs(event.numbers.challenger_precision - 0.2) < 1e-9 && Math.abs(event.numbers.champion_precision - 0.9) < 1e-9, JSON.stringify(event.numbers));
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});
