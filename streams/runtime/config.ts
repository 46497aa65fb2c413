// Runtime settings, read once from the environment and validated before anything connects.
// The CLI fills KAFKA_BROKERS / SCHEMA_REGISTRY_URL / REDIS_URL from the embedded stack when unset.
import { availableParallelism, hostname } from 'node:os';
import { brokerList } from './kafka-client.ts';
import { kafkaSecurityFromEnv, redisTlsOptions, registryAuthHeaders } from './connection-security.ts';
import type { RuntimeOptions, WorkerSettings } from './kafka-runner.ts';

type Env = Record<string, string | undefined>;

export function runtimeOptionsFromEnv(env: Env = process.env): RuntimeOptions {
  const problems: string[] = [];
  const required = (name: string): string => {
    const v = env[name]?.trim();
    if (!v) problems.push(`${name} is not set`);
    return v ?? '';
  };
  const int = (name: string, fallback: number | null, min: number): number | null => {
    const raw = env[name]?.trim();
    if (raw === undefined || raw === '') return fallback;
    if (raw === 'off') return null;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min) problems.push(`${name}=${raw} must be an integer >= ${min}${fallback === null ? " or 'off'" : ''}`);
    return n;
  };
  let kafkaBrokers: string[] = [];
  const brokers = required('KAFKA_BROKERS');
  if (brokers) {
    try {
      kafkaBrokers = brokerList(brokers);
    } catch (err) {
      problems.push((err as Error).message);
    }
  }
  const schemaRegistryUrl = required('SCHEMA_REGISTRY_URL');
  const redisUrl = required('REDIS_URL');
  for (const [name, url] of [['SCHEMA_REGISTRY_URL', schemaRegistryUrl], ['REDIS_URL', redisUrl]] as const) {
    if (url && !URL.canParse(url)) problems.push(`${name}=${url} is not a URL`);
  }
  // Credentials and TLS (connection-security.ts): checked here too, so every problem is listed at once.
  const securityChecks = [() => kafkaSecurityFromEnv(env), () => registryAuthHeaders(env), () => redisUrl && URL.canParse(redisUrl) && redisTlsOptions(redisUrl, env)];
  for (const check of securityChecks) {
    try {
      check();
    } catch (err) {
      problems.push((err as Error).message);
    }
  }
  const options: RuntimeOptions = {
    kafkaBrokers,
    schemaRegistryUrl,
    redisUrl,
    metricsPort: int('METRICS_PORT', 0, 0),
    metricsHost: env.METRICS_HOST ?? '127.0.0.1',
    instanceId: env.STREAMSCORE_INSTANCE_ID ?? hostname(),
    maxBatchRecords: int('STREAMSCORE_MAX_BATCH_RECORDS', 2_000, 1) ?? 2_000,
    partitionsConsumedConcurrently: int('STREAMSCORE_PARTITION_CONCURRENCY', 1, 1) ?? 1,
    maxInFlightRecords: int('STREAMSCORE_MAX_IN_FLIGHT_RECORDS', 10_000, 1) ?? 10_000,
    sessionTimeoutMs: int('STREAMSCORE_SESSION_TIMEOUT_MS', 30_000, 6_000) ?? 30_000,
    workers: workerSettingsFromEnv(env, availableParallelism(), problems),
  };
  if (problems.length) throw new Error(`invalid runtime configuration:\n  - ${problems.join('\n  - ')}`);
  return options;
}

/**
 * The worker pool's size, sized so the CPU-bound work does not oversubscribe the cores: worker
 * threads (default one per core) times onnxruntime's intra-op threads per worker (default
 * floor(cores / workers), so 1) must not exceed the cores. One single-threaded model per core beats
 * fewer workers with more model threads: most of a job (decode, post-processing, PNG) is serial, and
 * the event loop's Kafka work is light (docs/benchmarks.md, VisionSpec: 2 x 1 keeps up with 30
 * frames/s on 2 cores, 1 x 2 falls behind). In flight: 2 jobs per worker and 64 MiB by default.
 */
export function workerSettingsFromEnv(env: Env, cores: number, problems: string[]): WorkerSettings {
  const int = (name: string, fallback: number): number => {
    const raw = env[name]?.trim();
    if (raw === undefined || raw === '') return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 1) {
      problems.push(`${name}=${raw} must be an integer >= 1`);
      return fallback;
    }
    return n;
  };
  const threads = int('STREAMSCORE_WORKER_THREADS', Math.max(1, cores));
  const ortThreads = int('STREAMSCORE_ORT_THREADS', Math.max(1, Math.floor(cores / threads)));
  if (threads * ortThreads > cores && cores > 1) {
    problems.push(`STREAMSCORE_WORKER_THREADS=${threads} x STREAMSCORE_ORT_THREADS=${ortThreads} = ${threads * ortThreads} compute threads on ${cores} cores: lower one of them so the product is at most ${cores}`);
  }
  return {
    threads,
    ortThreads,
    maxInflight: int('STREAMSCORE_MAX_INFLIGHT', 2 * threads),
    maxInflightBytes: int('STREAMSCORE_MAX_INFLIGHT_BYTES', 64 * 1024 * 1024),
  };
}
