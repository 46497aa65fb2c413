// Fault suite: maintenance-scorer (the real CLI, in a child process) is killed with SIGKILL twice
// under load and restarted. Exactly-once means: every reading counted once in the arm's windows
// (none lost, none applied twice), no prediction twice, every prediction equal to what the arm's
// complete history gives (a batch whose transaction died must not leave state ahead of what is
// committed), and no alert state change twice. The other processors' kill -9 cases are
// test/integration/kill-restart.test.ts (sensor-validation) and parquet-sink-kill.test.ts (the sink).
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { TOPICS, loadSchema } from '../../schemas/topics.ts';
import type { MaintenanceAlert } from '../../schemas/generated/types.ts';
import { rollingWindows } from '../../streams/maintenance/rolling-windows.ts';
import { RedisState } from '../../streams/runtime/state/redis-state.ts';
import { endpoints } from '../integration/helpers.ts';
import { endOffsets, produceTracked, readToEnd, waitForCommits, type Coordinates } from './kafka-io.ts';
import { failureModel } from './pipeline.ts';
import { checkPredictions, readPredictions, scorerRun } from './predictions.ts';

const CLI = new URL('../../bin/streamscore.mjs', import.meta.url).pathname;
const ARMS = 10;
const MINUTES = 120; // x 3 sensors x 10 arms = 3,600 readings
const CHUNKS = 24;

interface Child {
  proc: ChildProcess;
  joined: Promise<void>;
  output: string[];
}

const children: Child[] = [];
after(() => {
  for (const c of children) if (c.proc.exitCode === null && c.proc.signalCode === null) c.proc.kill('SIGKILL');
});

function startScorerProcess(): Child {
  const proc = spawn(process.execPath, [CLI, 'run', 'maintenance-scorer'], {
    env: { ...process.env, METRICS_PORT: '0', STREAMSCORE_SESSION_TIMEOUT_MS: '10000', STREAMSCORE_MAX_BATCH_RECORDS: '100', LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  let markJoined!: () => void;
  const joined = new Promise<void>((r) => (markJoined = r));
  const keep = (line: string) => {
    output.push(line.slice(0, 400));
    if (output.length > 200) output.shift();
  };
  createInterface({ input: proc.stdout! }).on('line', (line) => {
    if (line.includes('joined consumer group')) markJoined();
    if (/"level":(4|5|6)0/.test(line)) keep(line);
  });
  createInterface({ input: proc.stderr! }).on('line', keep);
  const child = { proc, joined, output };
  children.push(child);
  return child;
}

async function kill9(child: Child): Promise<void> {
  child.proc.kill('SIGKILL');
  if (child.proc.exitCode === null && child.proc.signalCode === null) await once(child.proc, 'exit');
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
