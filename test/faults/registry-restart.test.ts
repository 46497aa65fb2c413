// Fault suite: the schema registry is stopped and started under load. While it is down, records
// arrive written with writer schemas the processors have never seen (a newer, BACKWARD-compatible
// version with one more optional field), so each processor needs the registry to decode them: it
// must wait and retry, never dead-letter a good record for it and never exit (0 lost, 0 duplicated).
// And a processor started while the registry is unreachable must give up within a bound, saying why.
// The registry is the stack's embedded one when this checkout started it, else a throwaway one.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { TOPICS } from '../../schemas/topics.ts';
import { startProcessor } from '../../streams/runtime/kafka-runner.ts';
import { sensorValidation } from '../../streams/sensor-validation/topology.ts';
import { endpoints, runId, runtimeOptions, testKafka } from '../integration/helpers.ts';
import { PipelineLoad, newerWriter, type Encode } from './pipeline-load.ts';
import { serviceLog, serviceUnderTest, type ServiceUnderTest } from './services.ts';
import { freePort } from '../integration/helpers.ts';

const stackLog = serviceLog();
let registry: ServiceUnderTest;
let load: PipelineLoad | undefined;
before(async () => {
  registry = await serviceUnderTest('SCHEMA_REGISTRY_URL', stackLog.log);
});
after(async () => {
  await load?.stop();
  await registry?.dispose();
});

test('registry stopped and started under load, with unseen writer schemas arriving meanwhile: 0 lost, 0 duplicated, nothing dead-lettered', { timeout: 300_000 }, async (t) => {
  t.diagnostic(`registry: ${registry.origin} at ${registry.endpoint}`);
  const ep = { ...endpoints(), schemaRegistryUrl: registry.endpoint };
  load = new PipelineLoad(testKafka(), ep, runId(), { arms: 8, minutes: 60, billingEvents: 3_000 });
  const reading = await newerWriter(ep.schemaRegistryUrl, TOPICS.sensorReadings.schema, 'faults.sensor-reading-newer-writer-value');
  const billing = await newerWriter(ep.schemaRegistryUrl, TOPICS.billingEvents.schema, 'faults.billing-event-newer-writer-value');
  const newer: Encode = (topic, value) => (topic === TOPICS.sensorReadings.name ? reading : billing).encode(value);
  await load.start();
  await load.send(0, 0.3);

  const down = Date.now();
  await registry.stop();
  t.diagnostic(`registry stopped in ${Date.now() - down} ms`);
  await load.send(0.3, 0.7, newer);
  await sleep(5_000); // the processors meet the unseen schema ids while the registry is down
  await registry.start();
  t.diagnostic(`registry back after ${Date.now() - down} ms`);
  await load.send(0.7, 1);

  const { problems, counts } = await load.verify(150_000);
  const retried = load.processors.map((p) => [p.name, p.lines.filter((l) => /registry/i.test(JSON.stringify(l))).length] as const);
  t.diagnostic(`${counts}; log lines about the registry: ${retried.map(([name, n]) => `${name} ${n}`).join(', ')}`);
  assert.deepEqual(problems, [], `after a registry restart (stack log:\n${stackLog.lines.slice(-6).join('\n')})`);
  assert.ok(retried.some(([, n]) => n > 0), 'no processor met the registry outage (nothing logged about it): the case tested nothing');
});

test('a processor whose registry is unreachable at start gives up within a bound, naming the registry', { timeout: 150_000 }, async (t) => {
  const unreachable = `http://127.0.0.1:${await freePort()}/apis/ccompat/v7`;
  const started = Date.now();
  const outcome = await startProcessor(sensorValidation, runtimeOptions({ schemaRegistryUrl: unreachable })).then(
    async (p) => {
      await p.stop();
      return null;
    },
    (err: Error) => err,
  );
  const ms = Date.now() - started;
  t.diagnostic(`startProcessor ${outcome ? `failed after ${ms} ms: ${outcome.message.slice(0, 300)}` : `started after ${ms} ms`}`);
  assert.ok(outcome, 'startProcessor succeeded without a registry');
  assert.match(outcome.message, /127\.0\.0\.1:\d+|registry/i, 'the error names the registry');
  assert.ok(ms < 120_000, `giving up took ${ms} ms`);
});
