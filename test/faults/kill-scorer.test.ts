// Fault suite: maintenance-scorer (the real CLI, in a child process) is killed with SIGKILL twice
// under load and restarted. Exactly-once means: every reading counted once in the arm's windows
// (none lost, none applied twice), no prediction twice, every prediction equal to what the arm's
// complete history gives (a batch whose transaction died must not leave state ahead of what is
// committed), and no alert state change twice. The other processors' kill -9 cases are
// test/integration/kill-restart.test.ts (sensor-validation) and parquet-sink-kill.test.ts (the sink).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { TOPICS, loadSchema } from '../../schemas/topics.ts';
import type { MaintenanceAlert } from '../../schemas/generated/types.ts';
import { rollingWindows } from '../../streams/maintenance/rolling-windows.ts';
import { RedisState } from '../../streams/runtime/state/redis-state.ts';
import { endpoints } from '../integration/helpers.ts';
import { kill9, startCliProcessor, type CliProcessor } from './cli-process.ts';
import { endOffsets, produceTracked, readToEnd, waitForCommits, type Coordinates } from './kafka-io.ts';
import { failureModel } from './pipeline.ts';
import { checkPredictions, readPredictions, scorerRun } from './predictions.ts';

const ARMS = 10;
const MINUTES = 120; // x 3 sensors x 10 arms = 3,600 readings
const CHUNKS = 24;

function startScorerProcess(): CliProcessor {
  return startCliProcessor('maintenance-scorer', { STREAMSCORE_SESSION_TIMEOUT_MS: '10000', STREAMSCORE_MAX_BATCH_RECORDS: '100' });
}

test('kill -9 of maintenance-scorer twice under load: windows count each reading once, predictions exact and not repeated', { timeout: 300_000 }, async (t) => {
  const { run, kafka, topic, serde, readings, from } = await scorerRun(ARMS, MINUTES);

  let child = startScorerProcess();
  await child.joined;
  const sent: Coordinates[] = [];
  const size = Math.ceil(readings.length / CHUNKS);
  for (let c = 0; c < CHUNKS; c++) {
    sent.push(...(await produceTracked(kafka, topic.name, topic.partitions, readings.slice(c * size, (c + 1) * size).map((r) => ({ key: r.arm_id, value: serde.encode(topic.name, r) })))));
    await sleep(100);
    if (c === Math.floor(CHUNKS / 3) || c === Math.floor((2 * CHUNKS) / 3)) {
      await kill9(child);
      t.diagnostic(`killed after ${sent.length} readings`);
      child = startScorerProcess();
    }
  }
  const last = child;
  const exitedEarly = once(last.proc, 'exit').then(([code, signal]) => `exited (${code ?? signal}) before the end`);
  const done = waitForCommits(kafka, 'maintenance-scorer', topic.name, endOffsets(sent, topic.name), 150_000);
  const outcome = await Promise.race([done.then(() => null, (e: Error) => e.message), exitedEarly]);
  assert.equal(outcome, null, `the restarted scorer did not finish the load:\n${last.output.slice(-20).join('\n')}`);

  // Every reading applied exactly once: each arm's 12 h window holds one count per reading of each sensor.
  const redis = new RedisState(endpoints().redisUrl);
  await redis.connect();
  const arms = [...new Set(readings.map((r) => r.arm_id))];
  const windows = rollingWindows().open({ kind: 'redis', redis }, 'maintenance-scorer:windows');
  const { arms: state } = await windows.apply(arms.map((arm) => ({ arm, sensor: 'VIBRATION' as const, value: 0, eventTime: 0, offset: -1 })));
  await redis.close();
  const miscounted = arms.flatMap((arm) => (['VIBRATION', 'TEMPERATURE', 'PRESSURE'] as const).map((s) => [arm, s, state.get(arm)?.channels[s.toLowerCase()]?.windows[2].n ?? 0] as const)).filter(([, , n]) => n !== MINUTES);
  assert.deepEqual(miscounted, [], `window counts per (arm, sensor) should be ${MINUTES}, one per reading`);

  const predictions = await readPredictions(kafka, serde, run, from);
  const check = await checkPredictions(await failureModel(), readings, predictions);
  serde.useReader(TOPICS.maintenanceAlerts.name, loadSchema(TOPICS.maintenanceAlerts.schema));
  const alertRecords = await readToEnd(kafka, [TOPICS.maintenanceAlerts.name], (r) => r.key?.toString('utf8').startsWith(`${run}-`) ?? false, { from, timeoutMs: 60_000 });
  const alerts = await Promise.all(alertRecords.map(async (r) => (await serde.decode(TOPICS.maintenanceAlerts.name, r.value)) as MaintenanceAlert));
  const transitions = alerts.map((a) => `${a.alert_id} ${a.state}`);
  t.diagnostic(`${readings.length} readings, ${predictions.length} predictions (${check.checked} checked), ${alerts.length} alert changes`);
  assert.deepEqual(check.problems, [], 'predictions after two kill -9');
  assert.deepEqual(transitions.filter((x, i) => transitions.indexOf(x) !== i), [], 'an alert state change sent twice');

  last.proc.kill('SIGTERM');
  const [code] = (await once(last.proc, 'exit')) as [number | null];
  assert.equal(code, 0, 'SIGTERM stops the restarted scorer gracefully');
});
