// Issue #12 acceptance 1: shadow outputs land only on shadow topics. The maintenance scorer
// (exactly-once) serves NAME@champion = v1, and `models rollout NAME --stage shadow` (startRollout)
// puts NAME@challenger = v2 in shadow. Counted from Kafka (read_committed): the live topics carry
// only the champion's outputs (its model header, no role header), the .shadow topics only the
// challenger's, one shadow prediction per live prediction (same source coordinates, so they were
// delivered in the same transactions), every compared output agrees (same trees) in /metrics, and
// SHADOW_STARTED is on models.lifecycle.v1.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { TOPICS } from '../../schemas/topics.ts';
import type { MaintenancePrediction } from '../../schemas/generated/types.ts';
import { SOURCE_HEADER } from '../../streams/runtime/batch.ts';
import { startProcessor } from '../../streams/runtime/kafka-runner.ts';
import { MODEL_HEADER } from '../../streams/runtime/models.ts';
import { ArtifactCache } from '../../streams/runtime/model-registry/artifact-cache.ts';
import { kafkaLifecyclePublisher } from '../../streams/runtime/model-registry/lifecycle-events.ts';
import { policyRolloutRules } from '../../streams/runtime/model-registry/rollout-controller.ts';
import { ModelResolver } from '../../streams/runtime/model-registry/resolver.ts';
import { startRollout } from '../../streams/runtime/model-registry/rollout.ts';
import { ROLE_HEADER, shadowSpec } from '../../streams/runtime/rollout/rollout-state.ts';
import { ConfluentSchemaStore } from '../../streams/runtime/schema-store.ts';
import { servedMaintenanceScorer } from '../../streams/maintenance/served.ts';
import { waitUntil } from '../../infra/stack/process.ts';
import { collect, endpoints, quietLog, runId, runtimeOptions, testKafka } from './helpers.ts';
import { armReadings, consumedSince, lifecycleEvents, produceReadings, registerPair } from './rollout-helpers.ts';

test('in shadow, the challenger\'s outputs land only on the .shadow topics and the live topics carry the champion\'s only', { timeout: 90_000 }, async (t) => {
  const started = Date.now();
  const id = runId();
  const pair = await registerPair(id, 'shadow');
  const { name, client } = pair;
  const kafka = testKafka();
  const publisher = await kafkaLifecyclePublisher({ kafka, store: new ConfluentSchemaStore(endpoints().schemaRegistryUrl), log: quietLog });
  const rollout = await startRollout({ client, publisher, name, stage: 'shadow', by: 'ci', reason: 'shadow test' }).finally(() => publisher.close());
  assert.equal(rollout.version, pair.challenger.version);

  const resolver = new ModelResolver({ client, cache: new ArtifactCache({ client, dir: join(pair.tmp, 'cache') }), log: quietLog });
  const scorer = await startProcessor(servedMaintenanceScorer(undefined, join(pair.tmp, 'v1')), runtimeOptions({
    modelResolver: resolver, modelPollMs: 500, maxBatchRecords: 300,
    // This test is about where outputs land, so nothing may stop the shadow midway: a shadow chunk
    // over its timeout is dropped by design, and the same model in shadow was measured at 2.08x the
    // champion's p99 per record (it runs after the champion in the chunk) and rolled back on
    // p99_latency in CI; the rollback rules have their own tests (rollout-rollback.test.ts).
    rollout: { shadowTimeoutMs: 60_000, rulesFor: (model) => ({ ...policyRolloutRules()(model), max_p99_latency_ratio: Number.MAX_VALUE }) },
  }));
  try {
    const readings = armReadings(id, 30, 40); // 3,600 readings
    const consumed = await consumedSince(kafka);
    await produceReadings(kafka, readings);
    assert.ok(await waitUntil(async () => (await consumed()) >= readings.length, 60_000, 200), 'the scorer commits every reading');
    const mine = (m: { key: string | null }) => (m.key ?? '').startsWith(`${id}-`);
    const live = [TOPICS.maintenancePredictions.name, TOPICS.maintenanceAlerts.name];
    const shadow = live.map((n) => `${n}.shadow`);
    assert.deepEqual(shadow, [shadowSpec(TOPICS.maintenancePredictions).name, shadowSpec(TOPICS.maintenanceAlerts).name]);
    const isPrediction = (topic: string) => topic.startsWith(TOPICS.maintenancePredictions.name);
    // Committed: every chunk's live and shadow outputs are readable (same transactions); 2 s more for strays.
    const out = await collect(kafka, [...live, ...shadow], mine, (all) => {
      const preds = all.filter((m) => isPrediction(m.topic));
      const livePreds = preds.filter((m) => m.topic === live[0]).length;
      return livePreds > 0 && preds.length === 2 * livePreds;
    }, 60_000, 2_000);
    const count = (topic: string) => out.filter((m) => m.topic === topic);
    const [livePreds, liveAlerts, shadowPreds, shadowAlerts] = [count(live[0]), count(live[1]), count(shadow[0]), count(shadow[1])];
    t.diagnostic(`${readings.length} readings: live ${livePreds.length} predictions + ${liveAlerts.length} alerts, shadow ${shadowPreds.length} predictions + ${shadowAlerts.length} alerts; ${((Date.now() - started) / 1000).toFixed(1)} s`);

    const championHeader = `${name}@${pair.champion.modelVersion}`;
    const challengerHeader = `${name}@${pair.challenger.modelVersion}`;
    assert.ok(livePreds.length >= 30, 'the live scorer predicted for every arm');
    for (const m of [...livePreds, ...liveAlerts]) {
      assert.equal(m.headers[MODEL_HEADER], championHeader, `live ${m.topic} carries the champion's header only`);
      assert.equal(m.headers[ROLE_HEADER], undefined, 'no role header on a live topic');
    }
    for (const m of [...shadowPreds, ...shadowAlerts]) {
      assert.equal(m.headers[MODEL_HEADER], challengerHeader, `shadow ${m.topic} carries the challenger's header`);
      assert.equal(m.headers[ROLE_HEADER], 'shadow');
    }
    assert.equal(out.filter((m) => m.headers[MODEL_HEADER] === challengerHeader && !m.topic.endsWith('.shadow')).length, 0, '0 challenger outputs on live topics');
    assert.deepEqual(shadowPreds.map((m) => m.headers[SOURCE_HEADER]).sort(), livePreds.map((m) => m.headers[SOURCE_HEADER]).sort(), 'one shadow prediction per live prediction, same source records');

    const metrics = await (await fetch(`http://127.0.0.1:${scorer.httpPort}/metrics`)).text();
    const agreed = Number(new RegExp(`streamscore_model_agreement_total\\{processor="maintenance-scorer",model="${name}",role="shadow",agree="true"\\} (\\d+)`).exec(metrics)?.[1] ?? 0);
    const disagreed = Number(new RegExp(`streamscore_model_agreement_total\\{processor="maintenance-scorer",model="${name}",role="shadow",agree="false"\\} (\\d+)`).exec(metrics)?.[1] ?? 0);
    t.diagnostic(`agreement: ${agreed} agree, ${disagreed} disagree`);
    assert.ok(agreed >= livePreds.length, `every compared prediction agrees (${agreed})`);
    assert.equal(disagreed, 0);
    assert.match(metrics, new RegExp(`streamscore_model_latency_seconds_count\\{model="${name}",version="${pair.challenger.version}",role="shadow"\\} [1-9]`));
    assert.equal((await client.getModelVersionByAlias(name, 'challenger'))?.version, pair.challenger.version, 'a challenger like its champion is not rolled back');

    const events = await lifecycleEvents(kafka, name, (es) => es.some((e) => e.event === 'SHADOW_STARTED'));
    const startedEvent = events.find((e) => e.event === 'SHADOW_STARTED')!;
    assert.deepEqual([startedEvent.registry_version, startedEvent.alias, startedEvent.actor, startedEvent.reason], [pair.challenger.version, 'challenger', 'ci', 'shadow test']);
  } finally {
    await scorer.stop();
    rmSync(pair.tmp, { recursive: true, force: true });
  }
});
