import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runtimeOptionsFromEnv } from './config.ts';

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
