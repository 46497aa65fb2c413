import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseUpArgs } from '../../cli/spark.ts';
import { ConfigError } from '../stack/errors.ts';
import { embeddedPorts, loadSparkConfig, masterUiUrlOf, masterUrlOf, parseMemoryMb, workerShapeProblems } from './config.ts';

const REPO = '/repo';

describe('spark config', () => {
  it('defaults to an embedded cluster on 7077 / 8090 / 8091.. under <repo>/.data/spark', () => {
    const c = loadSparkConfig({}, REPO);
    assert.deepEqual(c.cluster, { managed: 'embedded', masterPort: 7077, uiPort: 8090, workerUiPort: 8091 });
    assert.equal(masterUrlOf(c), 'spark://127.0.0.1:7077');
    assert.equal(masterUiUrlOf(c), 'http://127.0.0.1:8090');
    assert.equal(c.paths.root, '/repo/.data/spark');
    assert.equal(c.paths.logs, '/repo/.data/spark/logs');
    assert.equal(c.python, '/repo/.venv/bin/python');
    assert.equal(c.daemonMemory, '512m');
  });

  it('follows STREAMSCORE_DATA_DIR, port variables and STREAMSCORE_PYTHON', () => {
    const c = loadSparkConfig({ STREAMSCORE_DATA_DIR: '/var/ss', STREAMSCORE_SPARK_MASTER_PORT: '17077', STREAMSCORE_SPARK_UI_PORT: '18080', STREAMSCORE_SPARK_WORKER_UI_PORT: '18081', STREAMSCORE_PYTHON: '/opt/py/bin/python' }, REPO);
    assert.equal(c.paths.root, '/var/ss/spark');
    assert.equal(masterUrlOf(c), 'spark://127.0.0.1:17077');
    assert.equal(masterUiUrlOf(c), 'http://127.0.0.1:18080');
    assert.equal(c.python, '/opt/py/bin/python');
  });

  it('uses SPARK_MASTER_URL as an external cluster, probed through SPARK_MASTER_UI when given', () => {
    const c = loadSparkConfig({ SPARK_MASTER_URL: 'spark://spark-master:7077', SPARK_MASTER_UI: 'http://spark-master:8080/' }, REPO);
    assert.deepEqual(c.cluster, { managed: 'external', masterUrl: 'spark://spark-master:7077', uiUrl: 'http://spark-master:8080' });
    assert.equal(masterUrlOf(c), 'spark://spark-master:7077');
    const noUi = loadSparkConfig({ SPARK_MASTER_URL: 'spark://m1:7077,m2:7077' }, REPO);
    assert.equal(masterUiUrlOf(noUi), undefined);
  });

  it('reports every bad setting at once', () => {
    assert.throws(() => loadSparkConfig({ SPARK_MASTER_URL: 'local[2]', SPARK_MASTER_UI: 'spark-master:8080', SPARK_DAEMON_MEMORY: 'lots', JAVA_HOME: 'jdk17' }, REPO), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.equal(err.problems.length, 4, err.message);
      assert.match(err.message, /SPARK_MASTER_URL="local\[2\]" is not a spark:\/\/host:port URL/);
      return true;
    });
    assert.throws(() => loadSparkConfig({ STREAMSCORE_SPARK_UI_PORT: '70000' }, REPO), /STREAMSCORE_SPARK_UI_PORT="70000" is not a TCP port/);
    assert.throws(() => loadSparkConfig({ STREAMSCORE_SPARK_UI_PORT: '7077' }, REPO), /must differ/);
  });

  it('parses Spark memory sizes', () => {
    assert.equal(parseMemoryMb('2g'), 2048);
    assert.equal(parseMemoryMb('512m'), 512);
    assert.equal(parseMemoryMb('1G'), 1024);
    assert.equal(parseMemoryMb('1gb'), 1024);
    assert.equal(parseMemoryMb('1t'), 1024 * 1024);
    for (const bad of ['2', '0g', '1.5g', 'g', '', '2 g']) assert.equal(parseMemoryMb(bad), null, bad);
  });

  it('checks the worker shape', () => {
    assert.deepEqual(workerShapeProblems({ workers: 2, workerCores: 1, workerMemory: '2g' }), []);
    assert.equal(workerShapeProblems({ workers: 0, workerCores: 0, workerMemory: '2' }).length, 3);
    assert.equal(workerShapeProblems({ workers: 17, workerCores: 1, workerMemory: '1g' }).length, 1);
  });

  it('labels the ports of the embedded cluster, one UI port per worker', () => {
    const c = loadSparkConfig({}, REPO);
    assert.ok(c.cluster.managed === 'embedded');
    assert.deepEqual(embeddedPorts(c.cluster, 3).map((p) => `${p.label}=${p.port}`), ['master=7077', 'master web UI=8090', 'worker 1 web UI=8091', 'worker 2 web UI=8092', 'worker 3 web UI=8093']);
  });
});

describe('`spark up` flags', () => {
  it('reads --workers, --worker-cores and --worker-memory, with or without =', () => {
    assert.deepEqual(parseUpArgs([]), {});
    assert.deepEqual(parseUpArgs(['--workers', '3', '--worker-cores=2', '--worker-memory', '1g']), { workers: 3, workerCores: 2, workerMemory: '1g' });
  });

  it('says what is wrong', () => {
    assert.equal(parseUpArgs(['--workers']), '--workers needs a value');
    assert.equal(parseUpArgs(['--workers', 'two']), '--workers "two": need a positive integer');
    assert.equal(parseUpArgs(['--json']), 'unknown option "--json"');
  });
});
