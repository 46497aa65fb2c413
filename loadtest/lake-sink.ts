// Parquet sink benchmark (docs/benchmarks.md): throughput (events/s) and peak RSS as the volume
// grows. For each volume a fresh topic is filled with synthetic billing events (connectors/billing),
// then read to the end twice in the same run:
//   baseline  a raw kafkajs consumer that only counts records (no decode, no Parquet, no commits);
//   sink      the real `streamscore lake sink` CLI in a child process (decode, Arrow, ZSTD Parquet,
//             fsync+rename, commits), timed from spawn until its committed offsets reach the end;
//             peak RSS is the child's VmHWM from /proc.
//   node loadtest/lake-sink.ts [--volumes 250000,500000,1000000,2000000] [--out loadtest/results/x.json]
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { TOPICS } from '../schemas/topics.ts';
import { serviceEnv } from '../cli/env.ts';
import { up } from '../infra/stack/stack.ts';
import { produceBillingEvents } from '../connectors/billing/producer.ts';
import { subscriberEvents } from '../connectors/billing/subscriber-simulator.ts';
import { datasetFiles } from '../connectors/parquet-sink/lake-reader.ts';
import { brokerList, createKafka } from '../streams/runtime/kafka-client.ts';
import { createLogger } from '../streams/runtime/logger.ts';
import { groupCommittedToEnd } from '../streams/runtime/topics-admin.ts';

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
};
const volumes = arg('volumes', '250000,500000,1000000,2000000').split(',').map(Number);
// A lake at most 5 s behind the topic; file size and memory limits are the sink's defaults.
const SINK_FLAGS = ['--rotate', arg('rotate', '5s')];
const out = arg('out', `loadtest/results/lake-sink-${new Date().toISOString().slice(0, 10)}.json`);
const root = new URL('..', import.meta.url).pathname;
const PARTITIONS = TOPICS.billingEvents.partitions;

await up();
const env = serviceEnv();
const log = createLogger({ bench: 'lake-sink' }).child({}, { level: 'warn' });
const kafka = createKafka('bench-lake', brokerList(env.KAFKA_BROKERS!), log);
const admin = kafka.admin();
await admin.connect();

function* firstN<T>(items: Iterable<T>, n: number): Generator<T> {
  let i = 0;
  for (const item of items) {
    if (i++ >= n) return;
    yield item;
  }
}

/** Raw consumer: reads every record of the topic and counts it. */
async function baselineSeconds(topic: string, total: number): Promise<number> {
  const consumer = kafka.consumer({ groupId: `bench-raw-${randomUUID()}`, maxBytesPerPartition: TOPICS.billingEvents.maxMessageBytes });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const started = performance.now();
  let seen = 0;
  await new Promise<void>((resolve) => {
    void consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        seen += batch.messages.length;
        if (seen >= total) resolve();
      },
    });
  });
  const seconds = (performance.now() - started) / 1000;
  await consumer.disconnect();
  return seconds;
}

function vm(pid: number, field: 'VmHWM' | 'VmRSS'): number {
  const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

async function sinkRun(topic: string): Promise<{ seconds: number; peakRssBytes: number; files: number; parquetBytes: number }> {
  const lakeDir = mkdtempSync(join(tmpdir(), 'bench-lake-'));
  const groupId = `bench-sink-${randomUUID()}`;
  const started = performance.now();
  const child = spawn(process.execPath, [join(root, 'bin/streamscore.mjs'), 'lake', 'sink', '--topic', topic, '--group', groupId, '--lake', lakeDir, '--metrics-port', 'off', ...SINK_FLAGS], {
    cwd: root,
    env: { ...process.env, ...env, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  let peak = 0;
  try {
    while (!(await groupCommittedToEnd(admin, groupId, topic))) {
      if (child.exitCode !== null) throw new Error(`the sink exited ${child.exitCode}`);
      peak = Math.max(peak, vm(child.pid!, 'VmHWM'));
      await sleep(200);
    }
    const seconds = (performance.now() - started) / 1000;
    peak = Math.max(peak, vm(child.pid!, 'VmHWM'));
    const files = datasetFiles(join(lakeDir, 'telecom', 'billing_events'));
    const parquetBytes = files.reduce((n, f) => n + readFileSync(f.path).length, 0);
    return { seconds, peakRssBytes: peak, files: files.length, parquetBytes };
  } finally {
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
    rmSync(lakeDir, { recursive: true, force: true });
  }
}

const results = [];
for (const volume of volumes) {
  const topic = `loadtest.billing-events.${volume}.${randomUUID().slice(0, 6)}`;
  await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: PARTITIONS }] });
  // Enough subscribers that a volume is ~45 days of their traffic (about 7.5 events per subscriber-day).
  const users = Math.max(1_000, Math.ceil(volume / 45 / 7.5));
  const produced = await produceBillingEvents(firstN(subscriberEvents({ users, days: 90, seed: 11 }), volume), {
    destination: { kind: 'kafka', brokers: brokerList(env.KAFKA_BROKERS!), schemaRegistryUrl: env.SCHEMA_REGISTRY_URL!, compression: 'none' },
    topic,
    log,
  });
  const baseline = await baselineSeconds(topic, produced.produced);
  const sink = await sinkRun(topic);
  const row = {
    volume: produced.produced,
    users,
    baselineEventsPerSecond: Math.round(produced.produced / baseline),
    sinkEventsPerSecond: Math.round(produced.produced / sink.seconds),
    ratioToBaseline: Number((baseline / sink.seconds).toFixed(3)),
    sinkSeconds: Number(sink.seconds.toFixed(2)),
    peakRssMiB: Math.round(sink.peakRssBytes / 1024 / 1024),
    files: sink.files,
    parquetMiB: Number((sink.parquetBytes / 1024 / 1024).toFixed(1)),
    bytesPerEvent: Number((sink.parquetBytes / produced.produced).toFixed(1)),
  };
  results.push(row);
  process.stdout.write(`${JSON.stringify(row)}\n`);
  await admin.deleteTopics({ topics: [topic] });
}
await admin.disconnect();

const report = {
  benchmark: 'lake-sink',
  date: new Date().toISOString(),
  machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, memoryGiB: Math.round(totalmem() / 2 ** 30) },
  command: `node loadtest/lake-sink.ts --volumes ${volumes.join(',')} ${SINK_FLAGS.join(' ')}`,
  settings: `sink ${SINK_FLAGS.join(' ')} (defaults otherwise: --max-file-records 500000, --max-file-mb 128, --max-buffer-mb 384); 6 partitions; uncompressed Kafka batches`,
  results,
};
mkdirSync(join(root, 'loadtest', 'results'), { recursive: true });
writeFileSync(join(root, out), `${JSON.stringify(report, null, 2)}\n`);
process.stdout.write(`\n| events | sink events/s | raw consumer events/s | sink / raw | peak RSS MiB | files | Parquet MiB | bytes/event |\n|---:|---:|---:|---:|---:|---:|---:|---:|\n`);
for (const r of results) process.stdout.write(`| ${r.volume.toLocaleString('en')} | ${r.sinkEventsPerSecond.toLocaleString('en')} | ${r.baselineEventsPerSecond.toLocaleString('en')} | ${r.ratioToBaseline} | ${r.peakRssMiB} | ${r.files} | ${r.parquetMiB} | ${r.bytesPerEvent} |\n`);
process.stdout.write(`\nwrote ${out}\n`);
