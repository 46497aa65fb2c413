// Issue #12 acceptance 6: `streamscore replay` of an hour of FactoryGuard. The maintenance scorer
// (exactly-once, small chunks) serves NAME@champion from MLflow and scores an hour of the plant
// simulator (20 arms, one reading per sensor a minute), produced in six sends so that the hour spans
// distinct record timestamps. The champion is the registry fixture `good` (LightGBM over the
// stream's 42 features, trained on synthetic data): on this plant it raises alerts within the hour,
// so the exactness check covers alert hysteresis, not only predictions. Version 2 is the committed
// FactoryGuard model (other trees, other alert rules). Then:
//  - the whole hour replayed with the version the live outputs name (found in the registry by its
//    model_version tag) reproduces every live output exactly: values bit-identical apart from
//    scored_at, none missing, none extra;
//  - the middle of the hour, its state warmed by the hour's first records, also exactly;
//  - the hour with --model NAME@2 changes predictions and lists the alerts it raised or cleared
//    differently.
// The model is registered under a name unique to this run, so a shared MLflow is never confused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { TOPICS, loadSchema } from '../../schemas/topics.ts';
import { HOUR_MS, PlantSimulator } from '../../connectors/plant-simulator.ts';
import { startProcessor } from '../../streams/runtime/kafka-runner.ts';
import { ArtifactCache } from '../../streams/runtime/model-registry/artifact-cache.ts';
import { MlflowClient } from '../../streams/runtime/model-registry/mlflow-client.ts';
import { ModelResolver } from '../../streams/runtime/model-registry/resolver.ts';
import { ConfluentSchemaStore } from '../../streams/runtime/schema-store.ts';
import { AvroSerde } from '../../streams/runtime/serde.ts';
import { replay, type ReplayOptions } from '../../streams/runtime/replay/replay.ts';
import { DEFAULT_ARTIFACTS_DIR, failureModelDeclaration } from '../../streams/maintenance/model.ts';
import { servedMaintenanceScorer } from '../../streams/maintenance/served.ts';
import { writeModelVersion } from '../../streams/maintenance/test-model-version.ts';
import { waitUntil } from '../../infra/stack/process.ts';
import { fixtureCopy } from '../../models/registry-fixtures/fixture-dirs.ts';
import { endpoints, mlflowTrackingUri, quietLog, runId, runtimeOptions, testKafka } from './helpers.ts';
import { registerModelDir } from './registered-models.ts';

const ARMS = 20;
const SENDS = 6; // ten simulated minutes each

test('replay of an hour of FactoryGuard: the live model reproduces every output exactly, another version shows its differences', { timeout: 180_000 }, async (t) => {
  const started = Date.now();
  const id = runId();
  const name = `${id}-arm-failure-lgbm`;
  const tmp = mkdtempSync(join(tmpdir(), 'replay-'));
  const client = new MlflowClient({ trackingUri: mlflowTrackingUri(), attempts: 3 });
  const championDir = fixtureCopy('good', name, tmp);
  const champion = await registerModelDir(client, { name, dir: championDir, files: ['model.onnx', 'model-meta.json', 'model-dump.json'], experiment: `${id}-replay` });
  await client.setAlias(name, 'champion', champion);
  // The committed FactoryGuard model under this run's name: the slot's committed directory, and version 2.
  const committedDir = join(tmp, 'committed');
  const files = writeModelVersion(DEFAULT_ARTIFACTS_DIR, committedDir, failureModelDeclaration().version, name);
  const other = await registerModelDir(client, { name, dir: committedDir, files, experiment: `${id}-replay` });
  const served = servedMaintenanceScorer(undefined, committedDir);
  const resolver = new ModelResolver({ client, cache: new ArtifactCache({ client, dir: join(tmp, 'live-cache') }), log: quietLog });
  const scorer = await startProcessor(served, runtimeOptions({ modelResolver: resolver, maxBatchRecords: 150 }));
  const kafka = testKafka();
  const scratch = new Redis(endpoints().redisUrl);
  const admin = kafka.admin();
  await admin.connect();
  try {
    const topic = TOPICS.sensorReadingsValidated.name;
    const serde = new AvroSerde(new ConfluentSchemaStore(endpoints().schemaRegistryUrl));
    await serde.useTopic(topic, loadSchema(TOPICS.sensorReadingsValidated.schema));
    const start = Math.floor((Date.now() - HOUR_MS - 10 * 60_000) / 60_000) * 60_000;
    const readings = [...new PlantSimulator({ arms: ARMS, intervalMs: 60_000, start, durationMs: HOUR_MS, seed: 12, plantId: 'plant-it' }).readings()].map((r) => ({ ...r, arm_id: `${id}-${r.arm_id}` }));
    const startOffsets = new Map((await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, Number(p.high)]));
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    // Record timestamps between the sends: the replayed ranges' edges.
    const marks: number[] = [];
    const per = Math.ceil(readings.length / SENDS);
    for (let i = 0; i < SENDS; i++) {
      await sleep(30);
      marks.push(Date.now());
      await sleep(30);
      await producer.send({ topic, messages: readings.slice(i * per, (i + 1) * per).map((r) => ({ key: r.arm_id, value: serde.encode(topic, r) })) });
      await sleep(300);
    }
    await sleep(30);
    marks.push(Date.now());
    await producer.disconnect();
    const committed = async () => {
      const [c] = await admin.fetchOffsets({ groupId: 'maintenance-scorer', topics: [topic] });
      return c.partitions.reduce((n, p) => n + Math.max(0, Number(p.offset) - (startOffsets.get(p.partition) ?? 0)), 0);
    };
    assert.ok(await waitUntil(async () => (await committed()) === readings.length, 90_000, 250), `the live scorer commits every reading (${await committed()} of ${readings.length})`);
    const liveSeconds = (Date.now() - started) / 1000;

    const options: Omit<ReplayOptions, 'fromMs' | 'toMs'> = { served, ...endpoints(), env: { ...process.env, STREAMSCORE_MODEL_CACHE_DIR: join(tmp, 'cache') }, log: quietLog, liveLagMs: 10 * 60_000 };
    // No warm-up for the whole hour: its arms have no earlier records (and the scorer's 71 h lookback
    // would read every earlier test's readings on the shared topic).
    const hour = await replay({ ...options, fromMs: marks[0], toMs: marks[SENDS], warmUpMs: 0 });
    const [predictions, alerts] = hour.diff.topics;
    t.diagnostic(`live: ${readings.length} readings scored in ${liveSeconds.toFixed(1)} s; replay of the hour (${hour.seconds.toFixed(1)} s): ${hour.comparedRecords} records, ${hour.chunks.live} live chunks + ${hour.chunks.default} default (+ ${hour.chunks.warmUp} of warm-up), ${hour.liveOutputs} live / ${hour.replayOutputs} replayed outputs; predictions ${JSON.stringify(predictions)}, alerts ${JSON.stringify(alerts)}; scratch keys removed ${hour.scratchKeysRemoved}`);
    assert.equal(hour.comparedRecords, readings.length, 'the hour is every reading of this run');
    assert.equal(hour.models[0].version, champion, 'the default model is the version the live outputs name');
    assert.ok(predictions.same >= hour.chunks.live, `predictions were compared (${predictions.same}, at least one per chunk)`);
    assert.deepEqual({ changed: predictions.changed, onlyLive: predictions.onlyLive, onlyReplay: predictions.onlyReplay }, { changed: 0, onlyLive: 0, onlyReplay: 0 }, 'every prediction reproduced exactly');
    assert.ok(alerts.same > 0, `the live run raised alerts (${alerts.same})`);
    assert.deepEqual({ changed: alerts.changed, onlyLive: alerts.onlyLive, onlyReplay: alerts.onlyReplay }, { changed: 0, onlyLive: 0, onlyReplay: 0 }, 'every alert reproduced exactly');
    assert.ok(hour.diff.identical);
    assert.ok(hour.chunks.live > 1 && hour.chunks.default === 0, 'the live chunks were cut again');
    assert.ok(hour.scratchKeysRemoved > 0, 'the scratch state was used and removed');

    // The middle of the hour: the state (windows and alert episodes) is warmed by the first sends.
    const middle = await replay({ ...options, fromMs: marks[2], toMs: marks[4], warmUpMs: marks[2] - marks[0], out: `${id}.replay` });
    t.diagnostic(`middle (${middle.seconds.toFixed(1)} s): ${middle.warmRecords} warm-up + ${middle.comparedRecords} compared records; ${JSON.stringify(middle.diff.topics)}; out ${middle.out.join(', ')}`);
    assert.deepEqual([middle.warmRecords, middle.comparedRecords], [2 * per, 2 * per], 'warmed by the two sends before, compared on the two after');
    assert.ok(middle.diff.identical && middle.diff.topics[0].same > 0, 'the middle reproduced exactly');
    assert.deepEqual(middle.out, [`${id}.${TOPICS.maintenancePredictions.name}.replay`, `${id}.${TOPICS.maintenanceAlerts.name}.replay`]);
    const written = (await admin.fetchTopicOffsets(middle.out[0])).reduce((n, p) => n + Number(p.high), 0);
    assert.equal(written, middle.diff.topics[0].same, 'the replayed predictions are on the replay topic');

    // Version 2: the committed FactoryGuard model.
    const file = join(tmp, 'other.jsonl');
    const second = await replay({ ...options, fromMs: marks[0], toMs: marks[SENDS], models: [`${name}@${other}`], out: file, warmUpMs: 0 });
    const [p2, a2] = second.diff.topics;
    t.diagnostic(`version ${other} (${second.seconds.toFixed(1)} s): predictions ${JSON.stringify(p2)}; alerts ${JSON.stringify(a2)}; ${second.diff.alerts.length} alert differences, first: ${second.diff.alerts.slice(0, 3).map((a) => `${a.key} ${a.side} ${a.live ?? a.replay}`).join('; ')}`);
    assert.equal(second.models[0].version, other);
    assert.equal(p2.onlyLive + p2.onlyReplay, 0, 'the same inputs make the same set of predictions');
    assert.ok(p2.changed > 0 && p2.numeric.some((n) => n.field === 'failure_probability' && n.over > 0), 'another model changes the failure probabilities');
    assert.ok(second.diff.alerts.length > 0, 'alerts raised or cleared differently are listed');
    assert.ok(!second.diff.identical);
    assert.equal(readFileSync(file, 'utf8').trim().split('\n').length, second.replayOutputs, 'every replayed output is in the file');
    // Models that cannot be replayed are refused with the reason, and leave no scratch state behind.
    await assert.rejects(replay({ ...options, fromMs: marks[0], toMs: marks[1], warmUpMs: 0, models: ['no-such-model@1'] }), /serves no model no-such-model/);
    await assert.rejects(replay({ ...options, fromMs: marks[0], toMs: marks[1], warmUpMs: 0, models: [`${name}@no-such-alias`] }), /has no alias no-such-alias/);
    const [, leftover] = await scratch.scan('0', 'MATCH', 'ss:maintenance-scorer~replay~*', 'COUNT', 10_000);
    assert.deepEqual(leftover, [], 'no scratch key is left');
    t.diagnostic(`total ${((Date.now() - started) / 1000).toFixed(1)} s`);
  } finally {
    await admin.disconnect();
    await scorer.stop();
    scratch.disconnect();
    rmSync(tmp, { recursive: true, force: true });
  }
});
