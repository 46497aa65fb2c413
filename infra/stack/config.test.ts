import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadStackConfig, parseBrokers, redactUrl } from './config.ts';
import { ConfigError } from './errors.ts';

const ROOT = '/repo';

function problemsOf(env: Record<string, string>): readonly string[] {
  try {
    loadStackConfig(env, ROOT);
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    return err.problems;
  }
  assert.fail('expected a ConfigError');
}

describe('loadStackConfig', () => {
  it('defaults to an embedded stack on 127.0.0.1 under <repo>/.data', () => {
    const c = loadStackConfig({}, ROOT);
    assert.equal(c.dataDir, '/repo/.data');
    assert.equal(c.cacheDir, '/repo/.cache');
    assert.deepEqual(c.kafka, { managed: 'embedded', port: 9092, controllerPort: 9093 });
    assert.deepEqual(c.registry, { managed: 'embedded', port: 8085, managementPort: 8086 });
    assert.deepEqual(c.redis, { managed: 'embedded', port: 6390 });
    assert.equal(c.kafkaBrokers, '127.0.0.1:9092');
    assert.equal(c.schemaRegistryUrl, 'http://127.0.0.1:8085/apis/ccompat/v7');
    assert.equal(c.redisUrl, 'redis://127.0.0.1:6390');
  });

  it('reads ports and the data dir from the environment', () => {
    const c = loadStackConfig({
      STREAMSCORE_KAFKA_PORT: '19092', STREAMSCORE_KAFKA_CONTROLLER_PORT: '19093', STREAMSCORE_REGISTRY_PORT: '18085',
      STREAMSCORE_REGISTRY_MANAGEMENT_PORT: '18086', STREAMSCORE_REDIS_PORT: ' 16390 ', STREAMSCORE_DATA_DIR: 'tmp/data',
    }, ROOT);
    assert.equal(c.kafkaBrokers, '127.0.0.1:19092');
    assert.deepEqual(c.registry, { managed: 'embedded', port: 18085, managementPort: 18086 });
    assert.equal(c.redisUrl, 'redis://127.0.0.1:16390');
    assert.equal(c.dataDir, '/repo/tmp/data');
  });

  it('makes each service external on its own when its URL is set', () => {
    const onlyRedis = loadStackConfig({ REDIS_URL: 'redis://cache:6379/' }, ROOT);
    assert.deepEqual(onlyRedis.redis, { managed: 'external', url: 'redis://cache:6379' });
    assert.equal(onlyRedis.kafka.managed, 'embedded');
    assert.equal(onlyRedis.registry.managed, 'embedded');

    const c = loadStackConfig({ KAFKA_BROKERS: 'b1:9092, b2:9093', SCHEMA_REGISTRY_URL: 'https://sr.example:8081' }, ROOT);
    assert.deepEqual(c.kafka, { managed: 'external', brokers: [{ host: 'b1', port: 9092 }, { host: 'b2', port: 9093 }] });
    assert.equal(c.kafkaBrokers, 'b1:9092,b2:9093');
    assert.equal(c.schemaRegistryUrl, 'https://sr.example:8081');
    assert.equal(c.redis.managed, 'embedded');
  });

  it('treats empty variables as unset', () => {
    const c = loadStackConfig({ KAFKA_BROKERS: '', REDIS_URL: '  ', STREAMSCORE_KAFKA_PORT: '' }, ROOT);
    assert.equal(c.kafkaBrokers, '127.0.0.1:9092');
    assert.equal(c.redis.managed, 'embedded');
  });

  it('reports every invalid value at once', () => {
    const problems = problemsOf({
      STREAMSCORE_KAFKA_PORT: 'abc', STREAMSCORE_REDIS_PORT: '70000', SCHEMA_REGISTRY_URL: 'ftp://x', JAVA_HOME: 'relative/jdk',
    });
    assert.equal(problems.length, 4, problems.join('\n'));
    assert.match(problems[0], /STREAMSCORE_KAFKA_PORT="abc" is not a TCP port/);
    assert.match(problems.join('\n'), /STREAMSCORE_REDIS_PORT="70000"/);
    assert.match(problems.join('\n'), /SCHEMA_REGISTRY_URL="ftp:\/\/x" must be a http:\/\/host:port or https:\/\/host:port URL/);
    assert.match(problems.join('\n'), /JAVA_HOME="relative\/jdk" must be an absolute path/);
  });

  it('rejects two embedded services on one port, but not a port of an external one', () => {
    assert.deepEqual(problemsOf({ STREAMSCORE_REDIS_PORT: '9092' }), [
      'STREAMSCORE_KAFKA_PORT and STREAMSCORE_REDIS_PORT are both 9092; each service needs its own port',
    ]);
    assert.doesNotThrow(() => loadStackConfig({ STREAMSCORE_REDIS_PORT: '9092', KAFKA_BROKERS: 'k:9092' }, ROOT));
  });

  it('embeds MLflow on STREAMSCORE_MLFLOW_PORT (default 8098) unless MLFLOW_TRACKING_URI names a server', () => {
    const c = loadStackConfig({}, ROOT);
    assert.deepEqual(c.mlflow, { managed: 'embedded', port: 8098 });
    assert.equal(c.mlflowTrackingUri, 'http://127.0.0.1:8098');
    assert.equal(loadStackConfig({ STREAMSCORE_MLFLOW_PORT: '18398' }, ROOT).mlflowTrackingUri, 'http://127.0.0.1:18398');

    const external = loadStackConfig({ MLFLOW_TRACKING_URI: 'https://mlflow.example/base/', STREAMSCORE_MLFLOW_PORT: '9092' }, ROOT);
    assert.deepEqual(external.mlflow, { managed: 'external', url: 'https://mlflow.example/base' });
    assert.equal(external.mlflowTrackingUri, 'https://mlflow.example/base');
    assert.equal(external.kafka.managed, 'embedded', 'the port of an external MLflow clashes with nothing');
  });

  it('rejects an MLflow port another embedded service uses, and a tracking URI that is not a server', () => {
    assert.deepEqual(problemsOf({ STREAMSCORE_MLFLOW_PORT: '6390' }), [
      'STREAMSCORE_REDIS_PORT and STREAMSCORE_MLFLOW_PORT are both 6390; each service needs its own port',
    ]);
    assert.match(problemsOf({ STREAMSCORE_MLFLOW_PORT: '0' })[0], /STREAMSCORE_MLFLOW_PORT="0" is not a TCP port/);
    // MLflow also accepts file: and databricks URIs; the stack and the runtime client speak only to a server.
    assert.match(problemsOf({ MLFLOW_TRACKING_URI: 'file:///tmp/mlruns' })[0], /MLFLOW_TRACKING_URI="file:\/\/\/tmp\/mlruns" must be a http:\/\/host:port or https:\/\/host:port URL/);
  });

  it('rejects a malformed REDIS_URL', () => {
    assert.match(problemsOf({ REDIS_URL: 'not a url' })[0], /REDIS_URL="not a url" is not a URL/);
    assert.match(problemsOf({ REDIS_URL: 'http://h:1' })[0], /must be a redis:\/\/host:port or rediss:\/\/host:port URL/);
  });
});

describe('parseBrokers', () => {
  it('accepts listener prefixes and IPv6', () => {
    const problems: string[] = [];
    assert.deepEqual(parseBrokers('PLAINTEXT://k1:9092,[::1]:9094,', problems), [{ host: 'k1', port: 9092 }, { host: '::1', port: 9094 }]);
    assert.deepEqual(problems, []);
  });

  it('reports entries without a port', () => {
    const problems: string[] = [];
    parseBrokers('k1, k2:0', problems);
    assert.deepEqual(problems, ['KAFKA_BROKERS entry "k1" is not host:port', 'KAFKA_BROKERS entry "k2:0" is not host:port']);
  });

  it('reports a list with no broker', () => {
    const problems: string[] = [];
    parseBrokers(' , ', problems);
    assert.deepEqual(problems, ['KAFKA_BROKERS=" , " names no broker']);
  });
});

describe('redactUrl', () => {
  it('hides passwords only', () => {
    assert.equal(redactUrl('redis://:s3cret@h:6379'), 'redis://:***@h:6379');
    assert.equal(redactUrl('https://u:p@sr:8081/apis/ccompat/v7'), 'https://u:***@sr:8081/apis/ccompat/v7');
    assert.equal(redactUrl('redis://127.0.0.1:6390'), 'redis://127.0.0.1:6390');
  });
});
