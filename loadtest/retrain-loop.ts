// The retraining loop end to end on the embedded stack (docs/models.md "Retraining loop (steward)"):
//   plant simulator (sensor drift injected) -> validated readings -> maintenance scorer serving
//   arm-failure-lgbm@champion from MLflow, with its drift monitor -> DriftAlert -> models steward ->
//   real `plant train --from-topic` on the plant's history -> registered version -> challenger
//   (gates) -> shadow -> canary (judged live by the scorer's rollout controller) -> champion.
//   node loadtest/retrain-loop.ts [--arms 30] [--days 10] [--mtbf 25] [--drift temperature:+10@5d] [--trials 1] [--smote-trials 1]
//                                 [--windows 60s] [--timeout 40m] [--gate-margin M] [--out loadtest/results/retrain-loop.json]
// The simulation starts --days before now and is sent as fast as the scorer takes it (event time, so
// the 7-day drift windows fill in minutes). Then the same arms go on live, in real time, sampled
// every second instead of every minute, so the shadow and canary windows have readings to be judged
// on (the scorer dead-letters readings from the future, so the live part cannot be faster).
// --mtbf: the simulator's 200 days between failures per arm leave a 30-arm, 10-day history with one
// or two failures, too few to train on; 25 days gives about a dozen. Readings go to the validated topic
// directly (sensor validation is not what is tested); the failures to factory.failure-events.v1.
// The policy is the repository's, with two changes written to a copy: short windows (--windows),
// and `retrain.command` = the steward's default plant command plus `--trials N --smote-trials N`
// (Optuna trials of ~2 min each on the 2-core box). The gates are the repository's own: evaluation
// recomputed on the simulator plant's committed set (models/policy/eval/simulator-plant-01-300),
// and the steward's retrained-version rules (score_psi off) from the policy's retrained_rollout.
// --gate-margin M replaces the evaluation gate's margin in the copy (default: the policy's, 0.01): a
// run with a loose margin walks a candidate that the repository's gate refuses through shadow and
// canary to AUTO_PROMOTED, to exercise the rest of the walk; the results file records the margin.
// The script ends by running the repository policy's gates on the new version and printing them.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import avro from 'avsc';
import { serviceEnv } from '../cli/env.ts';
import { applyTopics } from '../cli/topics.ts';
import { failureKind } from '../cli/model-kinds.ts';
import { durationMs, retrainPlanner } from '../cli/models-steward.ts';
import { POLICY_FILE } from '../cli/models.ts';
import { DAY_MS, PlantSimulator } from '../connectors/plant-simulator.ts';
import { parseDriftOption } from '../connectors/simulator-drift.ts';
import { startFailureReporting } from '../connectors/failure-reporter.ts';
import { REPO_ROOT } from '../infra/stack/config.ts';
import { TOPICS, loadSchema } from '../schemas/topics.ts';
import type { DriftAlert, ModelLifecycleEvent } from '../schemas/generated/types.ts';
import { brokerList, createKafka } from '../streams/runtime/kafka-client.ts';
import { createLogger } from '../streams/runtime/logger.ts';
import { ArtifactCache } from '../streams/runtime/model-registry/artifact-cache.ts';
import { runGates } from '../streams/runtime/model-registry/gates.ts';
import { mlflowClientFromEnv } from '../streams/runtime/model-registry/mlflow-client.ts';
import { loadPolicy, policyFor } from '../streams/runtime/model-registry/policy.ts';
import { ConfluentSchemaStore } from '../streams/runtime/schema-store.ts';
import { AvroSerde } from '../streams/runtime/serde.ts';
import { writeResults } from './lib.ts';

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
};
const MODEL = 'arm-failure-lgbm';
const arms = Number(arg('arms', '30'));
const days = Number(arg('days', '10'));
const mtbfDays = Number(arg('mtbf', '25'));
const driftSpec = arg('drift', 'temperature:+10@5d');
const drift = parseDriftOption(driftSpec);
const windowMs = durationMs(arg('windows', '60s'), 'windows');
const timeoutMs = durationMs(arg('timeout', '40m'), 'timeout');
const out = arg('out', `loadtest/results/retrain-loop-${new Date().toISOString().slice(0, 10)}.json`);

const env = serviceEnv();
await applyTopics(env);
const log = createLogger({ component: 'retrain-loop' }).child({}, { level: 'warn' });
const t0 = Date.now();
const timeline: { s: number; what: string }[] = [];
const mark = (what: string) => {
  const s = Math.round((Date.now() - t0) / 100) / 10;
  timeline.push({ s, what });
  process.stdout.write(`[${s.toFixed(1).padStart(6)} s] ${what}\n`);
};
const work = join(process.env.STREAMSCORE_DATA_DIR ?? join(REPO_ROOT, '.data'), 'retrain-loop');
mkdirSync(work, { recursive: true });

// -- the policy copy (see the header)
const policy = JSON.parse(readFileSync(POLICY_FILE, 'utf8'));
const dataDir = process.env.STREAMSCORE_DATA_DIR ?? join(REPO_ROOT, '.data');
const plan = retrainPlanner({}, {}, dataDir)({ name: MODEL, kind: 'failure' });
if (plan.manual) throw new Error(`no default retraining for ${MODEL}: ${plan.reason}`);
policy.models[MODEL] = {
  ...policy.models[MODEL],
  // eval_file is repository-relative in the policy; the copy lives elsewhere.
  eval_file: join(REPO_ROOT, policy.models[MODEL].eval_file),
  margin: Number(arg('gate-margin', String(policy.models[MODEL].margin))),
  rollout: { shadow_clean_ms: windowMs, auto_promote_after_ms: windowMs },
  retrain: { command: `${plan.command} --trials ${arg('trials', '1')} --smote-trials ${arg('smote-trials', '1')}` },
};
const policyFile = join(work, 'policy.json');
writeFileSync(policyFile, JSON.stringify(policy, null, 1));

function child(name: string, args: string[], extraEnv: Record<string, string>, ready: string): Promise<ChildProcess> {
  const file = createWriteStream(join(work, `${name}.log`));
  const c = spawn(process.execPath, [join(REPO_ROOT, 'bin', 'streamscore.mjs'), ...args], { cwd: REPO_ROOT, env: { ...process.env, ...env, LOG_LEVEL: 'info', ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'] });
  c.stderr!.pipe(file);
  return new Promise((resolve, reject) => {
    createInterface({ input: c.stdout! }).on('line', (l) => {
      file.write(`${l}\n`);
      if (l.includes(ready)) resolve(c);
    });
    c.once('exit', (code) => reject(new Error(`${name} exited ${code} (log ${join(work, `${name}.log`)})`)));
  });
}

// -- watch the lifecycle topic (the drift alerts are read once at the end, see driftAlertsSince)
const kafka = createKafka('retrain-loop', brokerList(env.KAFKA_BROKERS!), log);
const lifecycleType = avro.Type.forSchema(loadSchema(TOPICS.modelLifecycle.schema) as avro.Schema);
const driftType = avro.Type.forSchema(loadSchema(TOPICS.driftAlerts.schema) as avro.Schema);
const events: ModelLifecycleEvent[] = [];
let finished: ModelLifecycleEvent | null = null;
const watcher = kafka.consumer({ groupId: `retrain-loop-watch-${t0}` });
await watcher.connect();
await watcher.subscribe({ topics: [TOPICS.modelLifecycle.name], fromBeginning: true });
const joined = new Promise<void>((r) => watcher.on(watcher.events.GROUP_JOIN, () => r()));
await watcher.run({
  eachMessage: async ({ message }) => {
    if (message.key?.toString() !== MODEL || !message.value) return;
    const e = lifecycleType.fromBuffer(message.value.subarray(5)) as ModelLifecycleEvent;
    if (e.occurred_at < t0) return;
    events.push(e);
    mark(`${e.event}${e.alias ? ` ${e.alias}` : ''} version ${e.registry_version}${e.rule ? ` rule ${e.rule}` : ''}${e.reason ? `: ${e.reason.slice(0, 160)}` : ''}`);
    if (e.event === 'AUTO_PROMOTED' || e.event === 'RETRAIN_FAILED') finished = e;
  },
});
await joined;

const client = mlflowClientFromEnv(env);
const champion = await client.getModelVersionByAlias(MODEL, 'champion');
if (!champion) throw new Error(`${MODEL} has no champion: streamscore models seed first`);
mark(`${MODEL}@champion is version ${champion.version}; evaluation gate margin ${policy.models[MODEL].margin}; starting the scorer and the steward`);
const scorer = await child('scorer', ['run', 'maintenance-scorer'], { STREAMSCORE_MODEL_POLL_MS: '2000' }, 'joined consumer group');
const steward = await child('steward', ['models', 'steward', '--debounce', '6h', '--poll', '2s', '--policy', policyFile, '--group', `retrain-loop-steward-${t0}`], {}, 'models steward: watching');
mark('scorer and steward up');

// -- the plant: backlog as fast as it goes, then live
const topic = TOPICS.sensorReadingsValidated.name;
const serde = new AvroSerde(new ConfluentSchemaStore(env.SCHEMA_REGISTRY_URL!));
await serde.useTopic(topic, loadSchema(TOPICS.sensorReadingsValidated.schema));
const failures = await startFailureReporting({ brokers: brokerList(env.KAFKA_BROKERS!), schemaRegistryUrl: env.SCHEMA_REGISTRY_URL!, plantId: 'plant-01', delayMs: 0, log });
const start = Math.floor((Date.now() - days * DAY_MS) / 60_000) * 60_000;
const backlog = new PlantSimulator({ arms, seed: 31, start, intervalMs: 60_000, durationMs: Infinity, mtbfDays, drift, onEvent: failures.reporter.onEvent });
/** The live part: the same arms from now on, one sample per second, the drift already in force (it started before now). */
const liveFrom = (at: number) => new PlantSimulator({ arms, seed: 32, start: at, intervalMs: 1_000, durationMs: Infinity, mtbfDays, drift: drift.map((d) => ({ ...d, startAtMs: 0 })) });
const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
await producer.connect();
let sent = 0;
let live = false;
const deadline = t0 + timeoutMs;
let readings = backlog.readings();
let batch: { key: string; value: Buffer }[] = [];
while (!finished && Date.now() < deadline) {
  const r = readings.next().value!;
  batch.push({ key: r.arm_id, value: serde.encode(topic, r) });
  if (batch.length < arms * 3 * 10) continue; // ten samples of every arm per send
  if (live) await new Promise((res) => setTimeout(res, Math.max(0, r.event_time - Date.now()))); // real time
  await producer.send({ topic, messages: batch });
  if (!live) await failures.reporter.release(r.event_time);
  sent += batch.length;
  batch = [];
  if (!live && r.event_time >= Date.now() - 60_000) {
    live = true;
    readings = liveFrom(Date.now()).readings();
    mark(`backlog sent: ${sent.toLocaleString('en')} readings, ${days} days of ${arms} arms (drift ${driftSpec}), ${failures.reporter.reported} failures reported; now live in real time, 1 sample/s per sensor`);
  }
}
mark(finished ? `walk over: ${(finished as ModelLifecycleEvent).event}` : 'timed out');

// -- what the repository's own policy says of the new version
const candidate = events.find((e) => e.event === 'REGISTERED')?.registry_version;
let repoGates: unknown = null;
if (candidate) {
  const cache = new ArtifactCache({ client, dir: join(work, 'cache') });
  const mv = (await client.getModelVersion(MODEL, candidate))!;
  const outcome = await runGates({ client, kind: failureKind, policy: policyFor(loadPolicy(POLICY_FILE, REPO_ROOT), MODEL, POLICY_FILE), candidate: { mv, dir: await cache.fetch(mv) }, champion: { mv: champion, dir: await cache.fetch(champion) } });
  repoGates = outcome.gates;
  for (const g of outcome.gates) mark(`repository policy gate ${g.name}: ${g.ok ? 'PASS' : 'FAIL'} ${g.detail}`);
}
await producer.disconnect();
await failures.close();
await watcher.disconnect();
for (const c of [steward, scorer]) {
  const exited = new Promise((r) => c.once('exit', r));
  c.kill('SIGTERM');
  await exited;
}
const alerts = await driftAlertsSince(t0);
for (const a of alerts) mark(`(drift alert detected at ${((a.detected_at - t0) / 1000).toFixed(1)} s) ${a.state} ${a.statistic} ${a.value.toFixed(3)} on ${a.feature}, window ${new Date(a.window_start).toISOString()}..${new Date(a.window_end).toISOString()} (${a.window_records} records)`);
writeResults(out, { arms, days, mtbfDays, drift, windowMs, gateMargin: policy.models[MODEL].margin, readingsSent: sent, failuresReported: failures.reporter.reported, driftAlerts: alerts.map((a) => ({ s: (a.detected_at - t0) / 1000, state: a.state, statistic: a.statistic, feature: a.feature, value: a.value })), outcome: (finished as ModelLifecycleEvent | null)?.event ?? 'timeout', timeline, events, repoGates, logs: work });
mark(`results in ${out}; logs in ${work}`);
/** The model's drift alerts detected since `since`, read to the topic's end by a fresh group. */
async function driftAlertsSince(since: number): Promise<DriftAlert[]> {
  const topic = TOPICS.driftAlerts.name;
  const a = kafka.admin();
  await a.connect();
  const [{ high }] = await a.fetchTopicOffsets(topic);
  await a.disconnect();
  const found: DriftAlert[] = [];
  const reader = kafka.consumer({ groupId: `retrain-loop-drift-${Date.now()}` });
  await reader.connect();
  await reader.subscribe({ topic, fromBeginning: true });
  let seen = 0;
  const done = new Promise<void>((resolve) => {
    void reader.run({ eachMessage: async ({ message }) => {
      const alert = driftType.fromBuffer(message.value!.subarray(5)) as DriftAlert;
      if (alert.model_name === MODEL && alert.detected_at >= since) found.push(alert);
      if (++seen >= Number(high)) resolve();
    } });
  });
  if (Number(high) > 0) await Promise.race([done, new Promise((r) => setTimeout(r, 30_000))]);
  await reader.disconnect();
  return found;
}

process.exit(finished && (finished as ModelLifecycleEvent).event === 'AUTO_PROMOTED' ? 0 : 1);
