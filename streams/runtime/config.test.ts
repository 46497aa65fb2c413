import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runtimeOptionsFromEnv, workerSettingsFromEnv } from './config.ts';

const base = { KAFKA_BROKERS: 'PLAINTEXT://127.0.0.1:9092, k2:9093', SCHEMA_REGISTRY_URL: 'http://127.0.0.1:8085/apis/ccompat/v7', REDIS_URL: 'redis://127.0.0.1:6390' };

test('reads endpoints and tuning from the environment', () => {
  const o = runtimeOptionsFromEnv({ ...base, METRICS_PORT: '9464', STREAMSCORE_MAX_BATCH_RECORDS: '500', STREAMSCORE_INSTANCE_ID: 'edge-3' });
  assert.deepEqual(o.kafkaBrokers, ['127.0.0.1:9092', 'k2:9093']);
  assert.equal(o.metricsPort, 9464);
  assert.equal(o.maxBatchRecords, 500);
  assert.equal(o.instanceId, 'edge-3');
  assert.equal(runtimeOptionsFromEnv({ ...base, METRICS_PORT: 'off' }).metricsPort, null);
});

test('lists every problem at once', () => {
  assert.throws(
    () => runtimeOptionsFromEnv({ KAFKA_BROKERS: 'nohost', REDIS_URL: 'not a url', STREAMSCORE_SESSION_TIMEOUT_MS: '100' }),
    (e: Error) =>
      /SCHEMA_REGISTRY_URL is not set/.test(e.message) &&
      /"nohost" is not host:port/.test(e.message) &&
      /REDIS_URL=not a url is not a URL/.test(e.message) &&
      /STREAMSCORE_SESSION_TIMEOUT_MS=100 must be an integer >= 6000/.test(e.message),
  );
});

test('worker pool sizing: defaults fill the cores without oversubscribing them; an oversubscribed setting is refused', () => {
  const sized = (env: Record<string, string>, cores: number) => {
    const problems: string[] = [];
    return { settings: workerSettingsFromEnv(env, cores, problems), problems };
  };
  assert.deepEqual(sized({}, 2), { settings: { threads: 2, ortThreads: 1, maxInflight: 4, maxInflightBytes: 64 * 1024 * 1024 }, problems: [] });
  assert.deepEqual(sized({}, 8).settings, { threads: 8, ortThreads: 1, maxInflight: 16, maxInflightBytes: 64 * 1024 * 1024 });
  assert.deepEqual(sized({ STREAMSCORE_WORKER_THREADS: '1' }, 2).settings, { threads: 1, ortThreads: 2, maxInflight: 2, maxInflightBytes: 64 * 1024 * 1024 });
  assert.deepEqual(sized({}, 1).settings, { threads: 1, ortThreads: 1, maxInflight: 2, maxInflightBytes: 64 * 1024 * 1024 });
  assert.deepEqual(sized({ STREAMSCORE_WORKER_THREADS: '2', STREAMSCORE_MAX_INFLIGHT: '3', STREAMSCORE_MAX_INFLIGHT_BYTES: '1000' }, 2), { settings: { threads: 2, ortThreads: 1, maxInflight: 3, maxInflightBytes: 1000 }, problems: [] });
  assert.match(sized({ STREAMSCORE_WORKER_THREADS: '2', STREAMSCORE_ORT_THREADS: '2' }, 2).problems.join(), /2 x STREAMSCORE_ORT_THREADS=2 = 4 compute threads on 2 cores/);
  assert.throws(() => runtimeOptionsFromEnv({ ...base, STREAMSCORE_MAX_INFLIGHT: '0' }), /STREAMSCORE_MAX_INFLIGHT=0 must be an integer >= 1/);
  assert.ok(runtimeOptionsFromEnv(base).workers!.threads >= 1);
});
