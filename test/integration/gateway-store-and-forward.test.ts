// Acceptance (FactoryGuard gateway): the broker is stopped and restarted during a replay, and every
// reading arrives exactly once, in order per arm. Runs against a throwaway single-node Kafka started
// here (free ports, temp data dir) so the shared stack is never disturbed; the schema registry is
// the shared one (SCHEMA_REGISTRY_URL).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { loadStackConfig, type StackConfig } from '../../infra/stack/config.ts';
import { kafkaService } from '../../infra/stack/kafka.ts';
import { TOPICS } from '../../schemas/topics.ts';
import type { SensorReading } from '../../schemas/generated/types.ts';
import { Gateway } from '../../connectors/gateway/gateway.ts';
import { fileSource, paced } from '../../connectors/gateway/sources.ts';
import { createKafka } from '../../streams/runtime/kafka-client.ts';
import { ensureTopics } from '../../streams/runtime/topics-admin.ts';
import { freePort, collect, endpoints, quietLog, readingSerde } from './helpers.ts';

const ARMS = 20;
const STEPS = 100; // x 3 sensors = 300 readings per arm
const SPEED = 5; // 100 s of event time in 20 s: the broker is down and back within the replay

let config: StackConfig;
let dir: string;
const brokerLog: string[] = [];
const log = (line: string) => brokerLog.push(line);

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ss-gateway-it-'));
  const env = { ...process.env, KAFKA_BROKERS: undefined, STREAMSCORE_DATA_DIR: join(dir, 'broker'), STREAMSCORE_KAFKA_PORT: String(await freePort()), STREAMSCORE_KAFKA_CONTROLLER_PORT: String(await freePort()) };
  config = loadStackConfig(env);
  await kafkaService.ensureInstalled(config, log);
  await kafkaService.start(config, log);
});

after(async () => {
  if (config) await kafkaService.stop(config, log).catch(() => {});
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('broker stopped and restarted mid-replay: every reading arrives exactly once, in order per arm', { timeout: 120_000 }, async (t) => {
  const brokers = [config.kafkaBrokers];
  const kafka = createKafka('gateway-it', brokers, quietLog);
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, [TOPICS.sensorReadings], quietLog);
  await admin.disconnect();

  // 20 arms x 300 readings as JSON lines, one second of event time per step.
  const t0 = Date.now() - 3_600_000;
  const lines: string[] = [];
  for (let s = 0; s < STEPS; s++) {
    for (let a = 0; a < ARMS; a++) {
      (['VIBRATION', 'TEMPERATURE', 'PRESSURE'] as const).forEach((sensor, k) => {
        const unit = { VIBRATION: 'mm/s', TEMPERATURE: 'degC', PRESSURE: 'bar' }[sensor];
        lines.push(JSON.stringify({ arm_id: `arm-${String(a + 1).padStart(3, '0')}`, sensor, value: 1 + k + (s % 10) / 10, unit, event_time: t0 + s * 1000, sequence: s * 3 + k }));
      });
    }
  }
  const input = join(dir, 'readings.jsonl');
  writeFileSync(input, `${lines.join('\n')}\n`);

  const gateway = await Gateway.start({
    gatewayId: 'gw-it-saf',
    plantId: 'plant-it',
    brokers,
    schemaRegistryUrl: endpoints().schemaRegistryUrl,
    stateDir: join(dir, 'gateway'),
    batchMax: 200,
    lingerMs: 20,
    compression: 'gzip',
    // kafkajs logs every refused connection during the outage at error level; the summary says what happened.
    log: quietLog.child({}, { level: process.env.LOG_LEVEL === 'debug' ? 'debug' : 'fatal' }),
  });
  try {
    const replay = gateway.run(paced(fileSource(input), { speed: SPEED }));
    await new Promise((r) => setTimeout(r, 3_000));
    const sentBefore = (await gateway.summary()).sent;
    assert.ok(sentBefore > 0, 'readings flow before the outage');
    await kafkaService.stop(config, log);
    t.diagnostic(`broker stopped after ${sentBefore} readings`);
    await new Promise((r) => setTimeout(r, 1_500));
    await kafkaService.start(config, log);
    t.diagnostic(`broker restarted; spool holds ${gateway.spool.pending} readings`);
    await replay;
    await gateway.drained();
    const s = await gateway.summary();
    t.diagnostic(JSON.stringify(s));
    assert.equal(s.read, ARMS * STEPS * 3);
    assert.equal(s.rejected, 0);
    assert.ok(s.spooled > 0 && s.sentFromSpool > 0, 'readings went through the spool during the outage');
    assert.equal(s.sent, ARMS * STEPS * 3, 'each reading acknowledged once');
    assert.equal(s.spoolPending, 0);
    assert.ok(s.sent - s.sentFromSpool > sentBefore, 'after the spool drained, readings went directly again');
  } finally {
    await gateway.close();
  }

  // Read everything back (a fresh group, from the beginning), keep reading 2 s more to see duplicates.
  const serde = await readingSerde();
  const total = ARMS * STEPS * 3;
  const got = await collect(kafka, [TOPICS.sensorReadings.name], () => true, (all) => all.length >= total, 60_000, 2_000);
  assert.equal(got.length, total, 'no duplicates, nothing lost');
  const perArm = new Map<string, number[]>();
  for (const m of got) {
    const r = (await serde.decode(TOPICS.sensorReadings.name, m.value)) as SensorReading;
    assert.equal(m.key, r.arm_id);
    if (!perArm.has(r.arm_id)) perArm.set(r.arm_id, []);
    perArm.get(r.arm_id)!.push(r.sequence);
  }
  assert.equal(perArm.size, ARMS);
  for (const [arm, seqs] of perArm) assert.deepEqual(seqs, Array.from({ length: STEPS * 3 }, (_, i) => i), `${arm}: sequences 0..${STEPS * 3 - 1} once each, in order`);
});
