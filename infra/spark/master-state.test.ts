import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { workerIndexOf } from './cluster.ts';
import { masterHealth, parseMasterState, parseWorkerExecutors } from './master-state.ts';

// Captured from a pyspark 4.0.1 master (`curl http://127.0.0.1:8090/json/`) with one worker
// registered, one stopped, and one finished application.
const MASTER_JSON = `{
  "url" : "spark://127.0.0.1:7077",
  "workers" : [ {
    "id" : "worker-20261129202306-127.0.0.1-33777", "host" : "127.0.0.1", "port" : 33777,
    "webuiaddress" : "http://127.0.0.1:8092", "cores" : 1, "coresused" : 0, "coresfree" : 1,
    "memory" : 2048, "memoryused" : 0, "memoryfree" : 2048, "resources" : { }, "resourcesused" : { },
    "resourcesfree" : { }, "state" : "DEAD", "lastheartbeat" : 1795983787796
  }, {
    "id" : "worker-20261129202306-127.0.0.1-41185", "host" : "127.0.0.1", "port" : 41185,
    "webuiaddress" : "http://127.0.0.1:8091", "cores" : 1, "coresused" : 1, "coresfree" : 0,
    "memory" : 2048, "memoryused" : 512, "memoryfree" : 1536, "resources" : { }, "resourcesused" : { },
    "resourcesfree" : { }, "state" : "ALIVE", "lastheartbeat" : 1795983787730
  } ],
  "aliveworkers" : 1, "cores" : 1, "coresused" : 1, "memory" : 2048, "memoryused" : 512,
  "resources" : [ { } ], "resourcesused" : [ { } ],
  "activeapps" : [ { "id" : "app-20261129202314-0001", "starttime" : 1795983794000, "name" : "churn-score", "cores" : 1, "user" : "root", "memoryperexecutor" : 512, "submitdate" : "x", "state" : "RUNNING", "duration" : 100 } ],
  "completedapps" : [ { "id" : "app-20261129202314-0000", "starttime" : 1795983794000, "name" : "streamscore-distributed-count", "cores" : 2, "user" : "root", "memoryperexecutor" : 512, "submitdate" : "x", "state" : "FINISHED", "duration" : 9000 } ],
  "activedrivers" : [ ], "completeddrivers" : [ ], "status" : "ALIVE"
}`;

const WORKER_JSON = `{
  "id" : "worker-20261129202306-127.0.0.1-41185", "masterurl" : "spark://127.0.0.1:7077", "cores" : 1, "coresused" : 1,
  "executors" : [ { "id" : 1, "memory" : 512, "resources" : { }, "appid" : "app-20261129202314-0001", "appdesc" : { "name" : "churn-score" } } ],
  "finishedexecutors" : [ { "id" : 0, "memory" : 512, "resources" : { }, "appid" : "app-20261129202314-0000", "appdesc" : { "name" : "streamscore-distributed-count" } } ]
}`;

describe('master JSON', () => {
  it('parses workers, totals and applications', () => {
    const s = parseMasterState(MASTER_JSON);
    assert.equal(s.url, 'spark://127.0.0.1:7077');
    assert.equal(s.status, 'ALIVE');
    assert.equal(s.aliveWorkers, 1);
    assert.deepEqual(s.workers.map((w) => [w.webUiUrl, w.state, w.cores, w.coresUsed, w.memoryMb, w.memoryUsedMb]), [
      ['http://127.0.0.1:8092', 'DEAD', 1, 0, 2048, 0],
      ['http://127.0.0.1:8091', 'ALIVE', 1, 1, 2048, 512],
    ]);
    assert.deepEqual([s.cores, s.coresUsed, s.memoryMb, s.memoryUsedMb], [1, 1, 2048, 512]);
    assert.deepEqual(s.activeApps, [{ id: 'app-20261129202314-0001', name: 'churn-score', state: 'RUNNING', cores: 1 }]);
    assert.deepEqual(s.completedApps.map((a) => a.state), ['FINISHED']);
  });

  it('reads missing fields as empty instead of throwing, and rejects non-JSON', () => {
    const s = parseMasterState('{"status":"STANDBY"}');
    assert.deepEqual([s.status, s.aliveWorkers, s.workers, s.activeApps], ['STANDBY', 0, [], []]);
    assert.throws(() => parseMasterState('<html>proxy error</html>'), /non-JSON/);
    assert.throws(() => parseMasterState('[1]'), /not an object/);
  });

  it('is healthy only when ALIVE with exactly the expected workers', () => {
    const s = parseMasterState(MASTER_JSON);
    assert.deepEqual(masterHealth(s, 1), { healthy: true, detail: 'ALIVE, 1/1 workers alive' });
    assert.deepEqual(masterHealth(s, 2), { healthy: false, detail: 'ALIVE, 1/2 workers alive' });
    assert.equal(masterHealth({ ...s, status: 'RECOVERING' }, 1).healthy, false);
    // An external cluster: the expected count is unknown, any alive worker will do.
    assert.deepEqual(masterHealth(s, null), { healthy: true, detail: 'ALIVE, 1 workers alive' });
    assert.equal(masterHealth({ ...s, aliveWorkers: 0 }, null).healthy, false);
  });
});

describe('worker JSON', () => {
  it('lists running and finished executors with their application', () => {
    assert.deepEqual(parseWorkerExecutors(WORKER_JSON), [
      { appId: 'app-20261129202314-0001', executorId: 1, finished: false },
      { appId: 'app-20261129202314-0000', executorId: 0, finished: true },
    ]);
  });

  it('maps a worker web UI address to our worker number', () => {
    assert.equal(workerIndexOf('http://127.0.0.1:8091', 8091), 1);
    assert.equal(workerIndexOf('http://127.0.0.1:8092/', 8091), 2);
    assert.equal(workerIndexOf('http://127.0.0.1:8090', 8091), null);
    assert.equal(workerIndexOf('http://10.0.0.5:8081', 8091), null);
  });
});
