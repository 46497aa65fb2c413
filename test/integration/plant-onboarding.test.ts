// Acceptance (issue #11): a plant onboarded by a profile and a mapping alone. The bundled C-MAPSS
// sample (two FD001 engines) goes through the engine mapping -> the gateway (in process) ->
// sensor-validation -> maintenance-scorer, and every engine is scored by the plant's own model
// (models/maintenance/plants/cmapss-fd001), named on the record and in its header, while a legacy
// gateway's reading in the same stream is still scored by the default model. A reading of a
// channel the profile does not declare is dead-lettered with that reason.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../../infra/stack/config.ts';
import { TOPICS, dlqTopic, loadSchema } from '../../schemas/topics.ts';
import type { MaintenancePrediction } from '../../schemas/generated/types.ts';
import { Gateway } from '../../connectors/gateway/gateway.ts';
import { loadMapping } from '../../connectors/gateway/mapping.ts';
import { fileSource, type SourceItem } from '../../connectors/gateway/sources.ts';
import { exportHistory } from '../../connectors/plants/history.ts';
import { topicFailureEvents, topicReadings } from '../../connectors/plants/topic-history.ts';
import { ensureTopics } from '../../streams/runtime/topics-admin.ts';
import { loadPlantProfile } from '../../schemas/factory/plant-profile.ts';
import { startProcessor, type RunningProcessor } from '../../streams/runtime/kafka-runner.ts';
import { MODEL_HEADER } from '../../streams/runtime/models.ts';
import { sensorValidation } from '../../streams/sensor-validation/topology.ts';
import { failureModelDeclaration } from '../../streams/maintenance/model.ts';
import { maintenanceScorer } from '../../streams/maintenance/topology.ts';
import { collect, endpoints, quietLog, reading, readingMessage, readingSerde, runId, runtimeOptions, testKafka } from './helpers.ts';

const SAMPLE = join(REPO_ROOT, 'connectors', 'samples', 'cmapss-fd001-units1-2.txt');
const PLANT_MODEL = 'cmapss-fd001-failure-lgbm';
let validation: RunningProcessor;
let scorer: RunningProcessor;
const dir = mkdtempSync(join(tmpdir(), 'plant-onboarding-'));

before(async () => {
  validation = await startProcessor(sensorValidation, runtimeOptions());
  scorer = await startProcessor(maintenanceScorer(failureModelDeclaration()), runtimeOptions());
});
after(async () => {
  await scorer?.stop();
  await validation?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('engines of a profiled plant are scored by the plant\'s own model, legacy arms by the default one', { timeout: 240_000 }, async () => {
  const id = runId();
  // The shipped mapping, with this run's engine ids (the windows of earlier runs' engines would make these readings late).
  const mapping = { ...loadMapping(join(REPO_ROOT, 'connectors', 'mappings', 'cmapss-fd001-engines.json')), arm_id: `${id}-e{unit:03}` };
  const gateway = await Gateway.start({
    gatewayId: `gw-${id}`, plantId: 'unused', brokers: endpoints().kafkaBrokers, schemaRegistryUrl: endpoints().schemaRegistryUrl,
    stateDir: join(dir, 'gateway'), batchMax: 500, lingerMs: 20, log: quietLog,
  });
  try {
    await gateway.run(fileSource(SAMPLE, mapping));
    await gateway.drained();
    const s = await gateway.summary();
    assert.equal(s.rejected, 0, 'every mapped reading is valid under the profile');
    assert.equal(s.sent, 479 * 14);
  } finally {
    await gateway.close();
  }
  // A legacy gateway's arm (no profile: plant-it) and a reading of a channel cmapss-fd001 does not declare.
  const serde = await readingSerde();
  const producer = testKafka().producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const stray = { ...reading(`gw-${id}`, 0, 0), arm_id: `${id}-e001`, plant_id: 'cmapss-fd001', sensor: 'OTHER' as const, channel: 'oil_temp', unit: 'degC', settings: [0, 0, 100] };
  await producer.send({ topic: TOPICS.sensorReadings.name, messages: [readingMessage(serde, { ...reading(`gw-${id}`, 0, 0), arm_id: `${id}-legacy` }), readingMessage(serde, stray)] });
  await producer.disconnect();

  const reader = await readingSerde();
  reader.useReader(TOPICS.maintenancePredictions.name, loadSchema(TOPICS.maintenancePredictions.schema));
  const mine = (m: { key: string | null }) => (m.key ?? '').startsWith(id);
  const out = await collect(
    testKafka(), [TOPICS.maintenancePredictions.name, dlqTopic(TOPICS.sensorReadings.name)], mine,
    (all) => all.some((m) => m.topic.endsWith('.dlq')) && ['e001', 'e002', 'legacy'].every((s) => all.some((m) => m.key === `${id}-${s}`)),
    180_000, 2_000,
  );
  const predictions = await Promise.all(out.filter((m) => m.topic === TOPICS.maintenancePredictions.name).map(async (m) => ({ header: m.headers[MODEL_HEADER], p: (await reader.decode(m.topic, m.value)) as MaintenancePrediction })));
  for (const engine of ['e001', 'e002']) {
    const own = predictions.filter((x) => x.p.arm_id === `${id}-${engine}`);
    assert.ok(own.length > 0, `${engine} scored`);
    for (const { header, p } of own) {
      assert.equal(p.model_name, PLANT_MODEL);
      assert.equal(header, `${PLANT_MODEL}@${p.model_version}`, 'the header names the one model that made the output');
      assert.ok(p.failure_probability >= 0 && p.failure_probability <= 1);
    }
  }
  // Engine 1 of FD001 fails after cycle 192: its last predictions are far riskier than its first.
  const e1 = predictions.filter((x) => x.p.arm_id === `${id}-e001`).sort((a, b) => a.p.event_time - b.p.event_time);
  assert.ok(e1.at(-1)!.p.failure_probability > e1[0].p.failure_probability, 'risk rises towards the failure');
  const legacy = predictions.filter((x) => x.p.arm_id === `${id}-legacy`);
  assert.ok(legacy.length > 0 && legacy.every((x) => x.p.model_name === 'arm-failure-lgbm' && x.header.startsWith('arm-failure-lgbm@')));
  const dead = out.filter((m) => m.topic.endsWith('.dlq'));
  assert.equal(dead.length, 1);
  assert.equal(dead[0].headers['streamscore.error.stage'], 'VALIDATION');

  // Its maintenance system reports engine 1's failure; the trainer's labels come from that topic.
  const admin = testKafka().admin();
  await admin.connect();
  await ensureTopics(admin, [TOPICS.failureEvents], quietLog);
  await admin.disconnect();
  const events = await readingSerde();
  await events.useTopic(TOPICS.failureEvents.name, loadSchema(TOPICS.failureEvents.schema));
  const failed = { arm_id: `${id}-e001`, plant_id: 'cmapss-fd001', kind: 'FAILURE' as const, failure_time: Date.UTC(2024, 0, 1) + 192 * 3_600_000, mode: 'hpc-degradation', repaired_at: null, source: 'it' };
  const eventProducer = testKafka().producer({ idempotent: true, maxInFlightRequests: 1 });
  await eventProducer.connect();
  await eventProducer.send({ topic: TOPICS.failureEvents.name, messages: [{ key: failed.arm_id, value: events.encode(TOPICS.failureEvents.name, failed) }] });
  await eventProducer.disconnect();
  const labels = (await topicFailureEvents({ brokers: endpoints().kafkaBrokers, registryUrl: endpoints().schemaRegistryUrl, plantId: 'cmapss-fd001', log: quietLog })).filter((e) => e.arm_id.startsWith(id));
  assert.deepEqual(labels, [failed]);

  // What the plant sent, read back for training: this run's engines, every reading the validation passed.
  // (The shared topic also holds other tests' poison records: they come back as rejects, left out here.)
  const source = { brokers: endpoints().kafkaBrokers, registryUrl: endpoints().schemaRegistryUrl, plantId: 'cmapss-fd001', log: quietLog };
  const items: SourceItem[] = [];
  for await (const item of topicReadings(source)) items.push(item);
  // The read is streamed (at most 20,000 records ahead of the export); leaving the loop early ends it.
  let firstOnly = 0;
  for await (const item of topicReadings(source)) {
    assert.ok(item.kind === 'reading' || item.kind === 'reject');
    if (++firstOnly === 1) break;
  }
  assert.equal(firstOnly, 1);
  const profileFile = join(REPO_ROOT, 'connectors', 'plants', 'cmapss-fd001.json');
  const summary = await exportHistory(items.filter((i) => i.kind === 'reading' && i.reading.arm_id.startsWith(id)), {
    profile: loadPlantProfile(profileFile), profileText: readFileSync(profileFile, 'utf8'), out: join(dir, 'history'), source: 'topic', failureEvents: labels,
  });
  assert.equal(summary.failures, 1);
  assert.deepEqual({ readings: summary.readings, arms: summary.arms, rejected: summary.rejected }, { readings: 479 * 14, arms: 2, rejected: 0 });
  assert.match(dead[0].headers['streamscore.error.message'], /plant cmapss-fd001's profile declares no channel "oil_temp"/);
});
