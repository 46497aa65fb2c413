// Gateway throughput against a throwaway single-node Kafka (free ports, temp dir; the shared stack
// is not touched): simulator readings at full speed, validated, Avro-encoded and produced with the
// idempotent producer, once with GZIP and once without. Prints readings/s (acknowledged).
//   node connectors/gateway/bench.ts [readings=300000] [batch=1000]
// Needs SCHEMA_REGISTRY_URL (or the embedded registry running) for the schema id.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadStackConfig } from '../../infra/stack/config.ts';
import { kafkaService } from '../../infra/stack/kafka.ts';
import { TOPICS } from '../../schemas/topics.ts';
import { createKafka } from '../../streams/runtime/kafka-client.ts';
import { createLogger } from '../../streams/runtime/logger.ts';
import { ensureTopics } from '../../streams/runtime/topics-admin.ts';
import { Gateway } from './gateway.ts';
import { simulatorSource } from './sources.ts';

const readings = Number(process.argv[2] ?? 300_000);
const batchMax = Number(process.argv[3] ?? 1000);
const log = createLogger({ bench: 'gateway' }).child({}, { level: 'warn' });
const freePort = async () => {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as { port: number };
  await new Promise((r) => s.close(r));
  return port;
};

const dir = mkdtempSync(join(tmpdir(), 'ss-gateway-bench-'));
const config = loadStackConfig({ ...process.env, KAFKA_BROKERS: undefined, STREAMSCORE_DATA_DIR: join(dir, 'broker'), STREAMSCORE_KAFKA_PORT: String(await freePort()), STREAMSCORE_KAFKA_CONTROLLER_PORT: String(await freePort()) });
const quiet = () => {};
try {
  await kafkaService.ensureInstalled(config, quiet);
  await kafkaService.start(config, quiet);
  const admin = createKafka('bench', [config.kafkaBrokers], log).admin();
  await admin.connect();
  await ensureTopics(admin, [TOPICS.sensorReadings], log);
  await admin.disconnect();
  const arms = 500;
  const intervalMs = 100;
  const durationMs = Math.ceil(readings / (arms * 3)) * intervalMs;
  const results: Record<string, unknown>[] = [];
  for (const compression of ['gzip', 'none', 'gzip', 'none'] as const) {
    const g = await Gateway.start({ gatewayId: `bench-${compression}`, plantId: 'plant-bench', brokers: [config.kafkaBrokers], schemaRegistryUrl: process.env.SCHEMA_REGISTRY_URL ?? config.schemaRegistryUrl, stateDir: join(dir, `gw-${compression}-${results.length}`), compression, batchMax, log });
    const started = process.hrtime.bigint();
    await g.run(simulatorSource({ arms, intervalMs, durationMs, start: Date.now() - durationMs - 60_000, seed: 1 }));
    await g.drained();
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const s = await g.summary();
    await g.close();
    results.push({ compression, batchMax, readings: s.sent, seconds: Math.round(seconds * 100) / 100, readingsPerSecond: Math.round(s.sent / seconds) });
    process.stderr.write(`${JSON.stringify(results[results.length - 1])}\n`);
  }
  process.stdout.write(`${JSON.stringify(results)}\n`);
} finally {
  await kafkaService.stop(config, quiet).catch(() => {});
  rmSync(dir, { recursive: true, force: true });
}
