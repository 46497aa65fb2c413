// The FactoryGuard part of `npm run demo`: the plant simulator (with failures due in the window)
// feeds the gateway -> sensor-validation -> maintenance-scorer; the alerts that come out are printed
// with their explanations, next to the simulator's ground truth.
import { randomInt } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TOPICS, loadSchema } from '../schemas/topics.ts';
import type { MaintenanceAlert } from '../schemas/generated/types.ts';
import { Gateway } from '../connectors/gateway/gateway.ts';
import { HOUR_MS, PlantSimulator } from '../connectors/plant-simulator.ts';
import { createKafka } from '../streams/runtime/kafka-client.ts';
import { startProcessor, type RuntimeOptions } from '../streams/runtime/kafka-runner.ts';
import { ConfluentSchemaStore } from '../streams/runtime/schema-store.ts';
import { AvroSerde } from '../streams/runtime/serde.ts';
import { failureModelDeclaration } from '../streams/maintenance/model.ts';
import { PROCESSORS } from '../streams/processors.ts';
import { formatAlert } from './alerts.ts';
import { serviceEnv } from './env.ts';

const HOURS = 48;
const ARMS = 24;

/** The wall-clock range in which the scorer took in this run's readings (what `replay` reads again). */
export interface ScoredRange { fromMs: number; toMs: number }

export async function demoFactoryGuard(options: RuntimeOptions, say: (line: string) => void): Promise<ScoredRange> {
  // The declaration only, for the threshold line: the processor serves `arm-failure-lgbm@champion`
  // from the MLflow registry (seeded from the committed folder), or the committed folder without one.
  const model = failureModelDeclaration();
  const env = serviceEnv();
  const scorer = await startProcessor(await PROCESSORS['maintenance-scorer'].load(), { ...options, metricsPort: 0, modelEnv: env });
  const served = env.MLFLOW_TRACKING_URI ? `${model.name}@champion from ${env.MLFLOW_TRACKING_URI}` : `${model.name} ${model.version}, committed`;
  say(`processor maintenance-scorer running (${served}; alert threshold ${model.meta.threshold.toFixed(3)}): http://127.0.0.1:${scorer.httpPort}/metrics`);
  // Fresh arm ids per run, so this run's windows do not meet an earlier run's state in Redis.
  const firstArm = 1000 + randomInt(0, 8_000);
  const start = Math.floor((Date.now() - HOURS * HOUR_MS - 120_000) / 60_000) * 60_000;
  // A short mean time between failures, so that failures (and their 24-72 h of wear) fall in the window.
  const simulator = new PlantSimulator({ arms: ARMS, firstArm, intervalMs: 60_000, start, durationMs: HOURS * HOUR_MS, seed: 20261123, mtbfDays: 5, plantId: 'plant-demo' });
  const stateDir = mkdtempSync(join(tmpdir(), 'streamscore-demo-gateway-'));
  const gateway = await Gateway.start({ gatewayId: 'gw-demo', plantId: 'plant-demo', brokers: options.kafkaBrokers, schemaRegistryUrl: options.schemaRegistryUrl, stateDir, spool: { policy: 'block' }, log: options.logger! });
  const t0 = Date.now();
  const fromMs = t0 - 1_000;
  await gateway.run((function* () {
    for (const r of simulator.readings()) yield { kind: 'reading' as const, reading: r, line: 0 };
  })());
  await gateway.drained();
  const sent = (await gateway.summary()).sent;
  await gateway.close();
  rmSync(stateDir, { recursive: true, force: true });
  say(`gateway: ${sent} simulated readings (${ARMS} arms x 3 sensors x ${HOURS} h at 1/min) sent in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

  const arms = new Set(simulator.arms.map((a) => a.id));
  const due = simulator.failuresInRange();
  // Wait until the scorer has taken in every reading (records in stop growing at or past `sent`).
  // (Its lag gauge cannot reach 0 here: transaction markers take offsets in its input topic.)
  const deadline = Date.now() + 180_000;
  let scoredIn = 0;
  for (let previous = -1; Date.now() < deadline; previous = scoredIn) {
    scoredIn = (await scorer.metrics.recordsIn.get()).values.reduce((n, v) => n + v.value, 0);
    if (scoredIn >= sent && scoredIn === previous) break;
    await new Promise((r) => setTimeout(r, 1_000));
  }
  const toMs = Date.now();
  const kafka = createKafka('streamscore-demo-alerts', options.kafkaBrokers, options.logger!);
  const serde = new AvroSerde(new ConfluentSchemaStore(options.schemaRegistryUrl));
  serde.useReader(TOPICS.maintenanceAlerts.name, loadSchema(TOPICS.maintenanceAlerts.schema));
  const alerts: MaintenanceAlert[] = [];
  const consumer = kafka.consumer({ groupId: `demo-alerts-${firstArm}-${Date.now()}`, readUncommitted: false });
  await consumer.connect();
  await consumer.subscribe({ topic: TOPICS.maintenanceAlerts.name, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      if (!arms.has(message.key?.toString() ?? '')) return;
      alerts.push((await serde.decode(TOPICS.maintenanceAlerts.name, message.value)) as MaintenanceAlert);
    },
  });
  await new Promise((r) => setTimeout(r, 5_000));
  await consumer.disconnect();
  await scorer.stop();

  say('');
  say(`simulator ground truth: ${due.length} failure(s) due in or just after the window`);
  for (const f of due) {
    // The episode that belongs to this failure: the latest alert raised during its wear.
    const raised = alerts.filter((a) => a.arm_id === f.arm_id && a.state === 'RAISED' && a.raised_at <= f.failure_time && a.raised_at >= f.onset).at(-1);
    const lead = raised ? `alert raised ${((f.failure_time - raised.raised_at) / HOUR_MS).toFixed(1)} h before` : f.failure_time > Date.now() ? 'not due yet; no alert so far' : 'no alert during its wear';
    say(`  ${f.arm_id} ${f.mode} failure at ${new Date(f.failure_time).toISOString()} (wear from ${new Date(f.onset).toISOString()}): ${lead}`);
  }
  say(`alerts on ${TOPICS.maintenanceAlerts.name} for this run's arms: ${alerts.length}`);
  for (const a of alerts.sort((x, y) => x.event_time - y.event_time)) say(formatAlert(a, process.stdout.isTTY));
  if (scoredIn < sent) say(`(the scorer had taken in ${scoredIn} of ${sent} readings when the demo stopped waiting)`);
  return { fromMs, toMs };
}
