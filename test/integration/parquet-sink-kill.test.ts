// Acceptance (issue #4): Spark counts exactly the records produced although the sink was killed
// with SIGKILL twice in the middle of the stream. The sink runs as the real CLI in a child process.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { REPO_ROOT } from '../../infra/stack/config.ts';
import { datasetFiles } from '../../connectors/parquet-sink/lake-reader.ts';
import { runId, testKafka } from './helpers.ts';
import { billingEvent, billingSchemaV1, billingSerde, groupCaughtUp, produceEvents, throwawayBillingTopic, waitFor } from './lake-helpers.ts';

const PYTHON = process.env.STREAMSCORE_PYTHON ?? join(REPO_ROOT, '.venv', 'bin', 'python');
const TOTAL = 120_000;
const lakeDir = mkdtempSync(join(tmpdir(), 'lake-kill-'));
const children: ChildProcess[] = [];
const stderrTails: string[] = [];
after(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  rmSync(lakeDir, { recursive: true, force: true });
});

function startSink(topic: string, group: string): ChildProcess {
  const child = spawn(process.execPath, [join(REPO_ROOT, 'bin/streamscore.mjs'), 'lake', 'sink', '--topic', topic, '--group', group, '--lake', lakeDir, '--max-file-records', '4000', '--rotate', '2s', '--metrics-port', 'off'], {
    cwd: REPO_ROOT,
    env: { ...process.env, LOG_LEVEL: 'warn', STREAMSCORE_SESSION_TIMEOUT_MS: '8000' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const index = stderrTails.push('') - 1;
  child.stderr!.on('data', (chunk: Buffer) => (stderrTails[index] = (stderrTails[index] + chunk.toString()).slice(-3_000)));
  children.push(child);
  return child;
}

async function kill9(child: ChildProcess): Promise<void> {
  child.kill('SIGKILL');
  if (child.exitCode === null && child.signalCode === null) await once(child, 'exit');
}

/** Counts with Spark itself (local[2], explicitly): rows, distinct provenance, distinct event ids. */
function sparkCount(datasetDir: string): { rows: number; provenance: number; events: number } {
  const script = `
import json, sys
from pyspark.sql import SparkSession, functions as F
spark = (SparkSession.builder.master("local[2]").appName("lake-count").config("spark.ui.enabled", "false")
         .config("spark.sql.session.timeZone", "UTC").config("spark.driver.host", "127.0.0.1").getOrCreate())
spark.sparkContext.setLogLevel("ERROR")
df = spark.read.option("mergeSchema", "true").parquet(sys.argv[1])
row = df.agg(F.count(F.lit(1)).alias("rows"), F.countDistinct("kafka_partition", "kafka_offset").alias("provenance"), F.countDistinct("event_id").alias("events")).first()
print("RESULT " + json.dumps(row.asDict()))
spark.stop()
`;
  const r = spawnSync(PYTHON, ['-c', script, datasetDir], { encoding: 'utf8', timeout: 180_000 });
  const line = r.stdout.split('\n').find((l) => l.startsWith('RESULT '));
  if (!line) throw new Error(`spark count failed (exit ${r.status}): ${r.stderr.slice(-2_000)}`);
  return JSON.parse(line.slice('RESULT '.length));
}

/** waitFor, failing with what the sink processes printed. */
async function waitForSink(what: string, check: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  try {
    await waitFor(what, check, timeoutMs);
  } catch (err) {
    throw new Error(`${(err as Error).message}\n${stderrTails.map((t, i) => `--- sink run ${i + 1} stderr:\n${t}`).join('\n')}`);
  }
}

test('after two kill -9 of the sink mid-stream, Spark counts exactly the records produced', { timeout: 300_000 }, async () => {
  const id = runId();
  const spec = throwawayBillingTopic(id, 6);
  const group = `parquet-sink.${id}`;
  const kafka = testKafka();
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ waitForLeaders: true, topics: [{ topic: spec.name, numPartitions: spec.partitions }] });
  await admin.disconnect();
  const serde = await billingSerde(spec.name, billingSchemaV1());
  await produceEvents(kafka, spec.name, serde, Array.from({ length: TOTAL }, (_, i) => billingEvent(id, i, { days: 5 })));
  const datasetDir = join(lakeDir, 'telecom', 'billing_events');

  // First run: killed as soon as its first files are committed.
  const first = startSink(spec.name, group);
  await waitForSink('the first lake files', () => datasetFiles(datasetDir).length >= 2, 120_000);
  await kill9(first);
  const afterFirstKill = datasetFiles(datasetDir).length;
  assert.equal(await groupCaughtUp(kafka, group, spec.name), false, 'the kill came before the sink finished');

  // Second run: killed again once it has written more.
  const second = startSink(spec.name, group);
  await waitForSink('more lake files', () => datasetFiles(datasetDir).length >= afterFirstKill + 4, 120_000);
  await kill9(second);

  // Third run: drains to the end and stops cleanly on SIGTERM.
  const third = startSink(spec.name, group);
  await waitForSink('the sink to commit every offset', () => groupCaughtUp(kafka, group, spec.name), 180_000);
  third.kill('SIGTERM');
  const [code] = (await once(third, 'exit')) as [number | null];
  assert.equal(code, 0);

  const counted = sparkCount(datasetDir);
  assert.deepEqual(counted, { rows: TOTAL, provenance: TOTAL, events: TOTAL });
});
