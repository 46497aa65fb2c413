// A stop sent to the outermost process of `npx streamscore lake sink` (and of the bin re-exec on an
// old Node) reaches the sink: it flushes what it buffered, commits, and exits 0 within a bound.
// Before, `kill -INT <npx pid>` left it running (dash between npm and node swallows the signal) and
// a signal to the re-exec wrapper killed only the wrapper (cli/signals.ts, bin/streamscore.mjs).
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../../infra/stack/config.ts';
import { runId, testKafka } from './helpers.ts';
import { billingEvent, billingSerde, groupCaughtUp, produceEvents, readLake, throwawayBillingTopic, waitFor } from './lake-helpers.ts';
import { TOPICS, loadSchema } from '../../schemas/topics.ts';

const RECORDS = 400;
/** Signal to exit: the final flush and commit, leaving the group, and one idle fetch (1 s). */
const EXIT_BOUND_MS = 15_000;
const lakeDir = mkdtempSync(join(tmpdir(), 'lake-signals-'));
const children: ChildProcess[] = [];
after(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  rmSync(lakeDir, { recursive: true, force: true });
});

/** A Node older than 22.18 outside node_modules, for the re-exec path; null when the machine has none. */
function oldSystemNode(): string | null {
  for (const candidate of ['/usr/bin/node', '/usr/local/bin/node']) {
    const r = spawnSync(candidate, ['-p', 'process.versions.node'], { encoding: 'utf8' });
    if (r.status !== 0) continue;
    const [major, minor] = r.stdout.trim().split('.').map(Number);
    if (major < 22 || (major === 22 && minor < 18)) return candidate;
  }
  return null;
}

interface Case {
  name: string;
  command: (sinkArgs: string[]) => [string, string[]];
  /** Whom the signal goes to: the spawned pid only, or its whole process group (Ctrl-C in a terminal). */
  target: 'pid' | 'group';
  signal: NodeJS.Signals;
  skip?: string | false;
}

const oldNode = oldSystemNode();
const CASES: Case[] = [
  { name: 'kill -INT <npx pid>', command: (a) => ['npx', ['--offline', 'streamscore', ...a]], target: 'pid', signal: 'SIGINT' },
  { name: 'Ctrl-C on npx (SIGINT to the process group, so npm forwards a second one)', command: (a) => ['npx', ['--offline', 'streamscore', ...a]], target: 'group', signal: 'SIGINT' },
  { name: 'kill -TERM <pid of the re-exec wrapper on an old Node>', command: (a) => [oldNode ?? 'node', [join(REPO_ROOT, 'bin/streamscore.mjs'), ...a]], target: 'pid', signal: 'SIGTERM', skip: oldNode === null && 'no Node < 22.18 outside node_modules on this machine' },
];

for (const c of CASES) {
  test(`${c.name}: buffered records are committed to the lake and the process exits 0`, { timeout: 120_000, skip: c.skip }, async () => {
    const id = runId();
    const spec = throwawayBillingTopic(id);
    const kafka = testKafka();
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic: spec.name, numPartitions: spec.partitions }] });
    await admin.disconnect();
    const events = Array.from({ length: RECORDS }, (_, i) => billingEvent(id, i, { v2: true }));
    await produceEvents(kafka, spec.name, await billingSerde(spec.name, loadSchema(TOPICS.billingEvents.schema)), events);

    const group = `parquet-sink.${id}`;
    const myLake = join(lakeDir, id);
    // Nothing is flushed before the stop: no time or size rotation within the test.
    const sinkArgs = ['lake', 'sink', '--topic', spec.name, '--group', group, '--lake', myLake, '--rotate', '10m', '--max-file-records', '1000000', '--metrics-port', '0'];
    const [cmd, args] = c.command(sinkArgs);
    const child = spawn(cmd, args, { cwd: REPO_ROOT, env: { ...process.env, LOG_LEVEL: 'warn' }, stdio: ['ignore', 'ignore', 'pipe'], detached: c.target === 'group' });
    children.push(child);
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4_000)));
    const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;

    const metricsUrl = () => /metrics on (http:\/\/127\.0\.0\.1:\d+\/metrics)/.exec(stderr)?.[1];
    const buffered = async () => {
      const url = metricsUrl();
      if (!url) return 0;
      const text = await (await fetch(url)).text();
      return Number(/^streamscore_lake_buffered_records\{[^}]*\} (\d+)$/m.exec(text)?.[1] ?? 0);
    };
    await waitFor(`${RECORDS} records buffered by the sink`, async () => (await buffered()) === RECORDS, 60_000).catch((err: Error) => {
      throw new Error(`${err.message}; sink stderr:\n${stderr}`);
    });
    assert.deepEqual(readLake(join(myLake, 'telecom', 'billing_events')), [], 'nothing flushed before the signal');

    const signalledAt = Date.now();
    process.kill(c.target === 'group' ? -child.pid! : child.pid!, c.signal);
    const [code, signal] = await Promise.race([exited, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`still running ${EXIT_BOUND_MS} ms after ${c.signal}; stderr:\n${stderr}`)), EXIT_BOUND_MS))]);
    const tookMs = Date.now() - signalledAt;
    assert.deepEqual({ code, signal }, { code: 0, signal: null }, `exit after ${tookMs} ms; stderr:\n${stderr}`);

    const rows = readLake(join(myLake, 'telecom', 'billing_events'));
    assert.deepEqual(rows.map((r) => r.row.event_id).sort(), events.map((e) => e.event_id).sort());
    assert.equal(await groupCaughtUp(kafka, group, spec.name), true, 'the final flush was committed');
  });
}
