// Issue #12 §3, the retraining loop against the real MLflow and Kafka: a DriftAlert about a champion
// on models.drift-alerts.v1 starts a retraining whose trainer is a stub (a shell command that
// registers a committed fixture folder with `streamscore models register`, as `plant train` does at
// its end). The steward then walks the new version challenger (gates) -> shadow -> canary -> champion
// (gates, AUTO_PROMOTED) with 1.5 s windows, every step read back from models.lifecycle.v1 in order.
// Failure paths: the trainer exits 3; the new version is worse (promote refuses); a rollout
// controller rolls the challenger back during its shadow. Each ends in RETRAIN_FAILED with the reason
// and leaves the champion where it was. A restarted steward finishes a walk left in canary.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TOPICS, loadSchema } from '../../schemas/topics.ts';
import type { DriftAlert, ModelLifecycleEvent } from '../../schemas/generated/types.ts';
import { kafkaLifecyclePublisher, type LifecyclePublisher } from '../../streams/runtime/model-registry/lifecycle-events.ts';
import { MlflowClient } from '../../streams/runtime/model-registry/mlflow-client.ts';
import { loadPolicy } from '../../streams/runtime/model-registry/policy.ts';
import { TAG, registerModel, tagOf } from '../../streams/runtime/model-registry/register.ts';
import { rollBack } from '../../streams/runtime/model-registry/rollout.ts';
import { Steward } from '../../streams/runtime/model-registry/steward.ts';
import { startStewardFeed } from '../../streams/runtime/model-registry/steward-feed.ts';
import { readStewardState, writeStewardState } from '../../streams/runtime/model-registry/steward-state.ts';
import { ROLLOUT_TAG } from '../../streams/runtime/rollout/rollout-state.ts';
import { ConfluentSchemaStore } from '../../streams/runtime/schema-store.ts';
import { AvroSerde } from '../../streams/runtime/serde.ts';
import { waitUntil } from '../../infra/stack/process.ts';
import { codeVersionOf, failureKind, MODEL_KINDS } from '../../cli/model-kinds.ts';
import { retrainPlanner } from '../../cli/models-steward.ts';
import { fixtureCopy, fixturePolicy, type FixtureName } from '../../models/registry-fixtures/fixture-dirs.ts';
import { endpoints, mlflowTrackingUri, quietLog, runId, testKafka } from './helpers.ts';
import { lifecycleEvents } from './rollout-helpers.ts';

const WINDOW_MS = 1_500;
const id = runId();
const tmp = mkdtempSync(join(tmpdir(), 'steward-it-'));
const client = new MlflowClient({ trackingUri: mlflowTrackingUri(), attempts: 3 });
const kafka = testKafka();
const CLI = `'${process.execPath}' '${new URL('../../bin/streamscore.mjs', import.meta.url).pathname}'`;
/** The stub trainers: register a committed fixture folder (copied under the model's name), or fail. */
const registers = (fixture: FixtureName, name: string) => `${CLI} models register failure '${fixtureCopy(fixture, name, mkdtempSync(join(tmp, 'trained-')))}'`;
const models = {
  walk: { name: `${id}-steward-walk`, trainer: (n: string) => registers('good', n) },
  trainerFails: { name: `${id}-steward-trainer-fails`, trainer: () => `echo 'stub trainer: no history for this plant' >&2; exit 3` },
  worse: { name: `${id}-steward-worse`, trainer: (n: string) => registers('worse', n) },
  rolledBack: { name: `${id}-steward-rolled-back`, trainer: (n: string) => registers('good', n) },
};
let publisher: LifecyclePublisher;
let steward: Steward;
let stopFeed: () => Promise<void>;
const champions: Record<string, { version: string; modelVersion: string }> = {};

function stewardFor(policyFile: string): Steward {
  const policyRaw = JSON.parse(readFileSync(policyFile, 'utf8'));
  return new Steward({
    client, publisher, kinds: MODEL_KINDS, policy: loadPolicy(policyFile, '/'), policySource: policyFile, cacheDir: join(tmp, 'cache'),
    planFor: retrainPlanner(policyRaw, {}, tmp), windowsFor: () => ({ shadowCleanMs: WINDOW_MS, autoPromoteAfterMs: WINDOW_MS, canaryFraction: 0.1 }),
    debounceMs: 60_000, pollMs: 200, actor: 'models-steward/ci', log: quietLog,
  });
}

/** The fixture policy for every test model, each with its stub trainer as its retrain command. */
function fixturePolicyFor(): { rollout_defaults: object; retrained_rollout: object; models: Record<string, object> } {
  // A retrained version is judged without score_psi (the committed policy's retrained_rollout).
  const policy = { rollout_defaults: {}, retrained_rollout: { off: ['score_psi'] }, models: {} as Record<string, object> };
  for (const m of Object.values(models)) {
    const p = fixturePolicy(m.name) as { rollout_defaults: object; models: Record<string, object> };
    policy.rollout_defaults = p.rollout_defaults;
    policy.models[m.name] = { ...p.models[m.name], retrain: { command: m.trainer(m.name) } };
  }
  return policy;
}

async function sendDriftAlert(name: string, modelVersion: string): Promise<void> {
  const topic = TOPICS.driftAlerts.name;
  const serde = new AvroSerde(new ConfluentSchemaStore(endpoints().schemaRegistryUrl));
  await serde.useTopic(topic, loadSchema(TOPICS.driftAlerts.schema));
  const now = Date.now();
  const alert: DriftAlert = {
    alert_id: `maintenance-scorer/${name}/${modelVersion}/temperature_ema_6h/KS/${now}`, processor: 'maintenance-scorer', model_name: name, model_version: modelVersion,
    feature: 'temperature_ema_6h', statistic: 'KS', state: 'RAISED', value: 0.31, threshold: 0.17, p_value: 1e-12, p_threshold: 2.3e-5, consecutive_windows: 1,
    window_start: now - 7 * 86_400_000, window_end: now, window_records: 5_000, reference_records: 1_726_033, detected_at: now,
  };
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({ topic, messages: [{ key: name, value: serde.encode(topic, alert) }] }).finally(() => producer.disconnect());
}

const eventsUntil = (name: string, last: ModelLifecycleEvent['event']) => lifecycleEvents(kafka, name, (es) => es.some((e) => e.event === last), 60_000);
const aliasOf = async (name: string, alias: string) => (await client.getModelVersionByAlias(name, alias))?.version ?? null;

before(async () => {
  publisher = await kafkaLifecyclePublisher({ kafka, store: new ConfluentSchemaStore(endpoints().schemaRegistryUrl), log: quietLog });
  const policyFile = join(tmp, 'policy.json');
  writeFileSync(policyFile, JSON.stringify(fixturePolicyFor()));
  for (const m of Object.values(models)) {
    const r = await registerModel(client, { kind: failureKind, dir: fixtureCopy('champion', m.name, mkdtempSync(join(tmp, 'champion-'))), codeVersion: codeVersionOf(tmp) });
    await client.setAlias(m.name, 'champion', r.version);
    champions[m.name] = { version: r.version, modelVersion: r.modelVersion };
  }
  steward = stewardFor(policyFile);
  const feed = await startStewardFeed({
    kafka, store: new ConfluentSchemaStore(endpoints().schemaRegistryUrl), groupId: `${id}-steward`, performanceRule: () => ({ minPrecision: 0.5, minJudged: 10 }),
    maxAgeMs: 60_000, onTrigger: (t) => steward.onTrigger(t), log: quietLog,
  });
  stopFeed = feed.stop;
});

after(async () => {
  await stopFeed?.();
  await steward?.settled();
  await publisher?.close();
  rmSync(tmp, { recursive: true, force: true });
});

test('a drift alert retrains the champion and walks the new version to champion, every step audited in order', { timeout: 90_000 }, async (t) => {
  const { name } = models.walk;
  const started = Date.now();
  await sendDriftAlert(name, champions[name].modelVersion);
  const events = await eventsUntil(name, 'AUTO_PROMOTED');
  t.diagnostic(`walk: ${events.map((e) => `${e.event}${e.alias ? `(${e.alias})` : ''}`).join(' -> ')} in ${Date.now() - started} ms`);
  assert.deepEqual(events.map((e) => e.event), ['RETRAIN_STARTED', 'REGISTERED', 'PROMOTED', 'SHADOW_STARTED', 'CANARY_STARTED', 'AUTO_PROMOTED']);
  const [retrain, registered, challenger, shadow, canary, champion] = events;
  assert.equal(retrain.registry_version, champions[name].version);
  assert.equal(retrain.rule, 'drift:temperature_ema_6h/KS');
  assert.match(retrain.reason!, /^drift: KS 0\.310 > 0\.17 on temperature_ema_6h.*; retraining with: policy retrain\.command/);
  assert.equal(retrain.numbers.manual, 0);
  const candidate = registered.registry_version;
  assert.notEqual(candidate, champions[name].version);
  for (const e of [challenger, shadow, canary, champion]) assert.equal(e.registry_version, candidate);
  assert.equal(challenger.alias, 'challenger');
  assert.deepEqual(challenger.gates.map((g) => [g.name, g.ok]), [['signature', true], ['evaluation', true], ['card', true]]);
  assert.equal(canary.numbers.fraction, 0.1);
  // Both stages' rollout tags carried the retrained-version rules to the serving instances.
  for (const e of [shadow, canary]) assert.match(e.reason!, /; retrained-version rules \{"off":\["score_psi"\]\}$/);
  assert.equal(champion.alias, 'champion');
  assert.equal(champion.previous_version, champions[name].version);
  assert.deepEqual(champion.gates.map((g) => g.ok), [true, true, true], 'gates run again at promotion to champion');
  for (const e of [challenger, shadow, canary, champion]) assert.equal(e.actor, 'models-steward/ci');
  // Windows were waited: canary only after a clean shadow window, champion after a clean canary window.
  assert.ok(canary.occurred_at - shadow.occurred_at >= WINDOW_MS && champion.occurred_at - canary.occurred_at >= WINDOW_MS);

  await steward.settled();
  assert.equal(await aliasOf(name, 'champion'), candidate);
  assert.equal(await aliasOf(name, 'challenger'), null, 'the challenger alias is cleared once it is champion');
  assert.equal(tagOf((await client.getRegisteredModel(name))?.tags, ROLLOUT_TAG), '{"stage":"none"}');
  const state = await readStewardState(client, name);
  assert.equal(state?.phase, 'done');
  assert.equal(state?.candidate, candidate);
  // Debounced: another alert about the new champion within the period does not retrain.
  const again = await steward.onTrigger({ model: name, modelVersion: tagOf((await client.getModelVersion(name, candidate))!.tags, TAG.modelVersion)!, source: 'drift', rule: 'drift:x/PSI', detail: 'again', numbers: {}, at: Date.now() });
  assert.equal(again, 'debounced');
});

for (const [key, step, reason] of [
  ['trainerFails', 'retrain', /^the retrain command exited 3 after [\d.]+ s: stub trainer: no history for this plant/],
  ['worse', 'challenger', /^promote --to challenger refused version \d+: evaluation: pr_auc 0\.\d+ is not >= champion/],
] as const) {
  test(`a retraining whose ${step} step fails ends in RETRAIN_FAILED with the reason, no alias moved`, { timeout: 60_000 }, async () => {
    const { name } = models[key];
    await sendDriftAlert(name, champions[name].modelVersion);
    const events = await eventsUntil(name, 'RETRAIN_FAILED');
    assert.deepEqual(events.map((e) => e.event), key === 'worse' ? ['RETRAIN_STARTED', 'REGISTERED', 'REFUSED', 'RETRAIN_FAILED'] : ['RETRAIN_STARTED', 'RETRAIN_FAILED']);
    const failed = events.at(-1)!;
    assert.equal(failed.rule, step);
    assert.match(failed.reason!, reason);
    assert.equal(failed.event_id.split('/').at(-1), events[0].event_id.split('/').at(-1), 'RETRAIN_STARTED and RETRAIN_FAILED of one retraining share n');
    await steward.settled();
    assert.equal(await aliasOf(name, 'champion'), champions[name].version);
    assert.equal(await aliasOf(name, 'challenger'), null);
    assert.equal((await readStewardState(client, name))?.phase, 'failed');
  });
}

test('a challenger rolled back during its shadow ends the walk in RETRAIN_FAILED; the champion stays', { timeout: 60_000 }, async () => {
  const { name } = models.rolledBack;
  await sendDriftAlert(name, champions[name].modelVersion);
  const [shadow] = (await eventsUntil(name, 'SHADOW_STARTED')).filter((e) => e.event === 'SHADOW_STARTED');
  // What a serving instance's rollout controller does on a breach (rollout-controller.ts -> rollBack).
  await rollBack({ client, publisher, actor: 'rollout-controller/maintenance-scorer/ci' }, { model: name, version: shadow.registry_version, stage: 'shadow', rule: 'p99_latency', detail: 'p99 3.1 ms per record vs champion 0.2 ms', numbers: { challenger_p99_ms_per_record: 3.1 }, detectedAt: Date.now() });
  const events = await lifecycleEvents(kafka, name, (es) => es.some((e) => e.event === 'RETRAIN_FAILED') && es.some((e) => e.event === 'ROLLED_BACK'), 60_000);
  // Two writers (the controller, the steward): their last two events may land in either order.
  assert.deepEqual(events.slice(0, 4).map((e) => e.event), ['RETRAIN_STARTED', 'REGISTERED', 'PROMOTED', 'SHADOW_STARTED']);
  assert.deepEqual(events.slice(4).map((e) => e.event).sort(), ['RETRAIN_FAILED', 'ROLLED_BACK']);
  const failed = events.find((e) => e.event === 'RETRAIN_FAILED')!;
  assert.equal(failed.rule, 'shadow');
  assert.match(failed.reason!, /^rolled back in shadow by rollout-controller\/maintenance-scorer\/ci: p99_latency/);
  await steward.settled();
  assert.equal(await aliasOf(name, 'champion'), champions[name].version);
});

test('a restarted steward resumes a walk left in canary from the registry and promotes after what is left of the window', { timeout: 60_000 }, async () => {
  const { name } = models.walk; // champion now: the version the first test promoted; a later version plays the candidate
  const dir = fixtureCopy('good', name, mkdtempSync(join(tmp, 'resume-')));
  // Other bytes than the walk's version, so registration makes a new version rather than finding that one.
  writeFileSync(join(dir, 'model-meta.json'), JSON.stringify({ ...JSON.parse(readFileSync(join(dir, 'model-meta.json'), 'utf8')), note: 'resume test' }));
  const candidate = (await registerModel(client, { kind: failureKind, dir, codeVersion: 'resume-test' })).version;
  const previous = await aliasOf(name, 'champion');
  assert.notEqual(candidate, previous);
  await client.setAlias(name, 'challenger', candidate);
  await client.setRegisteredModelTag(name, ROLLOUT_TAG, JSON.stringify({ stage: 'canary', fraction: 0.1, salt: candidate }));
  const at = Date.now();
  await writeStewardState(client, name, { phase: 'canary', started_at: at - 5_000, trigger: { source: 'drift', rule: 'drift:x/KS', detail: 'before the restart' }, champion: previous, candidate, since: at - 1_000 });
  const restarted = stewardFor(join(tmp, 'policy.json'));
  assert.equal(await restarted.resume(), 1);
  await restarted.settled();
  const took = Date.now() - at;
  assert.ok(took >= WINDOW_MS - 1_000 - 50 && took < WINDOW_MS + 5_000, `waited what was left of the canary window (${took} ms)`);
  assert.equal(await aliasOf(name, 'champion'), candidate);
  assert.equal((await readStewardState(client, name))?.phase, 'done');
  assert.ok(await waitUntil(async () => (await eventsUntil(name, 'AUTO_PROMOTED')).filter((e) => e.event === 'AUTO_PROMOTED').length === 2, 10_000, 200));
});
