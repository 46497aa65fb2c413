// The embedded MLflow of `streamscore infra up`, on a port and data dir of its own: the test's stack
// takes Kafka, the registry and Redis from the env (external: probed, untouched) so `up` starts only
// MLflow. It checks what `infra up/status/down` promise: healthy at the pinned version, listed with
// its pid, stopped with no process left (uvicorn included, even when the server itself was killed),
// and an external MLFLOW_TRACKING_URI probed, never started, with a warning for another version.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { REPO_ROOT, loadStackConfig } from '../../infra/stack/config.ts';
import { pinnedMlflowVersion, processGroupMembers } from '../../infra/stack/mlflow.ts';
import { isAlive, portFree, readPidFile, waitUntil } from '../../infra/stack/process.ts';
import { down, endpointsEnv, status, up } from '../../infra/stack/stack.ts';
import { endpoints, freePort } from './helpers.ts';

const PINNED = pinnedMlflowVersion(readFileSync(join(REPO_ROOT, 'infra', 'mlflow', 'requirements.txt'), 'utf8'));
const dataDir = mkdtempSync(join(tmpdir(), 'streamscore-mlflow-'));
const lines: string[] = [];
const log = (line: string) => lines.push(line);

function stackConfig(port: number, extra: Record<string, string> = {}) {
  const e = endpoints();
  return loadStackConfig({
    KAFKA_BROKERS: e.kafkaBrokers.join(','), SCHEMA_REGISTRY_URL: e.schemaRegistryUrl, REDIS_URL: e.redisUrl,
    STREAMSCORE_DATA_DIR: dataDir, STREAMSCORE_MLFLOW_PORT: String(port), ...extra,
  });
}

async function mlflowStatus(config: ReturnType<typeof stackConfig>) {
  const s = (await status({ config })).find((x) => x.service === 'mlflow');
  assert.ok(s, 'infra status lists mlflow');
  return s;
}

describe('embedded MLflow (infra up / status / down)', () => {
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  it('starts on its own port at the pinned version, serves the API and UI, and stops with its uvicorn child', async (t) => {
    const port = await freePort();
    const config = stackConfig(port);
    t.after(() => down({ config, log }));
    await up({ config, log });

    const s = await mlflowStatus(config);
    assert.deepEqual([s.managed, s.endpoint, s.healthy], ['embedded', `http://127.0.0.1:${port}`, true]);
    assert.match(s.detail, new RegExp(`^MLflow ${PINNED.replaceAll('.', '\\.')}, up since `));
    assert.equal(endpointsEnv(config).MLFLOW_TRACKING_URI, `http://127.0.0.1:${port}`);
    assert.equal(await (await fetch(`http://127.0.0.1:${port}/version`)).text(), PINNED);
    assert.equal((await fetch(`http://127.0.0.1:${port}/`)).status, 200, 'the UI answers');

    const pid = s.pid;
    assert.ok(pid !== null);
    const group = processGroupMembers(pid);
    assert.ok(group.length >= 2, `the server and its uvicorn worker run (group ${group.join(', ')})`);
    assert.deepEqual(lines.filter((l) => /: starting/.test(l)).map((l) => l.split(':')[0]), ['mlflow'], 'only MLflow was started');

    await down({ config, log });
    assert.deepEqual(processGroupMembers(pid), [], 'no process of the server is left');
    assert.ok(await portFree(port, '127.0.0.1'), 'its port is free again');
    const after = await mlflowStatus(config);
    assert.deepEqual([after.pid, after.healthy, after.detail], [null, false, 'not running']);
  });

  it('a server killed outright leaves no uvicorn behind after `infra down`', async (t) => {
    const port = await freePort();
    const config = stackConfig(port);
    t.after(() => down({ config, log }));
    await up({ config, log });
    const pid = readPidFile(join(dataDir, 'mlflow', 'mlflow.pid'));
    assert.ok(pid !== null);
    const [uvicorn] = processGroupMembers(pid).filter((p) => p !== pid);
    assert.ok(uvicorn !== undefined, 'uvicorn runs next to the server');

    process.kill(pid, 'SIGKILL');
    await waitUntil(() => !isAlive(pid), 5_000, 50);
    assert.ok(isAlive(uvicorn), 'uvicorn outlives its killed parent: an orphan that only `infra down` removes');
    await down({ config, log });
    assert.deepEqual(processGroupMembers(pid), [], 'the orphaned uvicorn was stopped too');
    assert.ok(await portFree(port, '127.0.0.1'));
  });

  it('MLFLOW_TRACKING_URI: probed, never started, and another version is flagged', async (t) => {
    // A stand-in answering like an MLflow of another version: the real one runs at the pin.
    const other = createServer((req, res) => res.end(req.url === '/version' ? '9.9.9' : 'OK'));
    await new Promise<void>((r) => other.listen(0, '127.0.0.1', r));
    t.after(() => other.close());
    const uri = `http://127.0.0.1:${(other.address() as AddressInfo).port}`;
    const config = stackConfig(await freePort(), { MLFLOW_TRACKING_URI: uri });

    await up({ config, log });
    const s = await mlflowStatus(config);
    assert.deepEqual([s.managed, s.endpoint, s.pid, s.healthy], ['external', uri, null, true]);
    assert.equal(s.detail, `MLflow 9.9.9 (WARNING: streamscore is tested with ${PINNED}; infra/mlflow/requirements.txt)`);
    assert.equal(readPidFile(join(dataDir, 'mlflow', 'mlflow.pid')), null, 'nothing was started');
    assert.ok(lines.some((l) => l.startsWith(`mlflow: external at ${uri}, healthy (MLflow 9.9.9 (WARNING`)), lines.join('\n'));
  });
});
