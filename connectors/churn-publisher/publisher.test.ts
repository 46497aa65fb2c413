// Against the real broker and registry: partitions written by real Spark (local[2], the batch job's
// Parquet settings), published to a throwaway topic and read back read_committed with AvroSerde.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Kafka } from 'kafkajs';
import { sparkSubmitEnv } from '../../infra/spark/cluster.ts';
import { REPO_ROOT } from '../../infra/stack/config.ts';
import type { ChurnPrediction } from '../../schemas/generated/types.ts';
import { TOPICS, loadSchema } from '../../schemas/topics.ts';
import { ConfluentSchemaStore } from '../../streams/runtime/schema-store.ts';
import { AvroSerde } from '../../streams/runtime/serde.ts';
import { collect, endpoints, quietLog, runId, testKafka } from '../../test/integration/helpers.ts';
import { PublishError } from './errors.ts';
import { MANIFEST_FILE, readManifest } from './manifest.ts';
import { partitionDir, scoreDateDays } from './partition.ts';
import { publishPredictions } from './publisher.ts';
import type { PublishOptions } from './publisher.ts';

type LakeRow = Omit<ChurnPrediction, 'score_date'>;

const DAY = '2025-03-01';
const UNFINISHED_DAY = '2025-03-02';
const SCORED_AT = Date.UTC(2025, 2, 2, 1, 15, 30, 123);

const v1: LakeRow[] = [
  { user_id: 'u-001', churn_probability: 0.91, model_name: 'churn-gbt', model_version: '1', scored_at: SCORED_AT, segment: 'consumer-prepaid', high_value: true, top_reasons: ['3 network complaints in 30 days', 'late payment'] },
  { user_id: 'u-002', churn_probability: 0.05, model_name: 'churn-gbt', model_version: '1', scored_at: SCORED_AT, segment: null, high_value: false, top_reasons: null },
  { user_id: 'u-003', churn_probability: 0.5, model_name: 'churn-gbt', model_version: '1', scored_at: SCORED_AT + 1, segment: 'business', high_value: false, top_reasons: [] },
  { user_id: 'u-004', churn_probability: 0.333, model_name: 'churn-gbt', model_version: '1', scored_at: SCORED_AT, segment: 'consumer-postpaid', high_value: true, top_reasons: ['data usage down 60%'] },
  { user_id: 'u-005', churn_probability: 0.0, model_name: 'churn-gbt', model_version: '1', scored_at: SCORED_AT, segment: 'consumer-prepaid', high_value: false, top_reasons: null },
];
/** The same day re-scored by a new model version. */
const v2: LakeRow[] = v1.map((r, i) => ({ ...r, model_version: '2', churn_probability: Math.round((1 - r.churn_probability) * 1000) / 1000, top_reasons: i === 1 ? ['new plan'] : r.top_reasons }));

function writeWithSpark(partitions: { dir: string; rows: LakeRow[]; files: number }[]): void {
  const python = process.env.STREAMSCORE_PYTHON ?? join(REPO_ROOT, '.venv', 'bin', 'python');
  const r = spawnSync(python, [join(import.meta.dirname, 'fixtures', 'write-predictions.py')], {
    input: JSON.stringify({ partitions }),
    env: { ...process.env, ...sparkSubmitEnv() },
    encoding: 'utf8',
    timeout: 180_000,
  });
  assert.equal(r.status, 0, `Spark writer failed:\n${r.stderr.slice(-3000)}`);
}

describe('churn predictions publisher', () => {
  const run = runId();
  const topic = `it-churn-predictions-${run}`;
  let lake: string;
  let kafka: Kafka;
  let serde: AvroSerde;
  let options: PublishOptions;

  before(() => {
    lake = mkdtempSync(join(tmpdir(), 'streamscore-lake-'));
    writeWithSpark([
      { dir: partitionDir(lake, DAY), rows: v1, files: 2 },
      { dir: join(lake, 'rescored', `score_date=${DAY}`), rows: v2, files: 3 },
      { dir: partitionDir(lake, UNFINISHED_DAY), rows: v1, files: 1 },
    ]);
    // A job that died mid-write leaves part files but no _SUCCESS.
    rmSync(join(partitionDir(lake, UNFINISHED_DAY), '_SUCCESS'));
    const { kafkaBrokers, schemaRegistryUrl } = endpoints();
    kafka = testKafka();
    serde = new AvroSerde(new ConfluentSchemaStore(schemaRegistryUrl));
    serde.useReader(topic, loadSchema(TOPICS.churnPredictions.schema));
    options = { lakeDir: lake, date: DAY, brokers: kafkaBrokers, registryUrl: schemaRegistryUrl, topic, log: () => {}, logger: quietLog };
  });

  after(async () => {
    const admin = kafka?.admin();
    if (admin) {
      await admin.connect();
      await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
      await admin.disconnect();
    }
    if (lake) rmSync(lake, { recursive: true, force: true });
  });

  /** Every record on the topic, decoded, in offset order per partition. */
  async function topicRecords(expected: number): Promise<{ key: string | null; value: ChurnPrediction }[]> {
    const seen = await collect(kafka, [topic], () => true, (all) => all.length >= expected, 60_000, 1_500);
    return Promise.all(seen.map(async (m) => ({ key: m.key, value: { ...(await serde.decode(topic, m.value) as ChurnPrediction) } })));
  }

  const expected = (rows: LakeRow[]) => rows.map((r) => ({ ...r, score_date: scoreDateDays(DAY) }));
  const byUser = (a: { user_id: string }, b: { user_id: string }) => a.user_id.localeCompare(b.user_id);

  let firstHash: string;

  it('publishes every row of the day, keyed by user_id, and records it in _PUBLISHED.json', async () => {
    const result = await publishPredictions(options);
    assert.deepEqual({ published: result.published, skipped: result.skipped, rows: result.rows, topic: result.topic }, { published: 5, skipped: false, rows: 5, topic });
    assert.match(result.hash, /^[0-9a-f]{64}$/);
    firstHash = result.hash;

    const records = await topicRecords(5);
    assert.equal(records.length, 5);
    assert.ok(records.every((r) => r.key === r.value.user_id));
    assert.deepEqual(records.map((r) => r.value).sort(byUser), expected(v1));

    const manifest = readManifest(partitionDir(lake, DAY));
    assert.equal(manifest?.content_sha256, result.hash);
    assert.equal(manifest?.rows, 5);
    assert.equal(manifest?.topic, topic);
  });

  it('publishes nothing when the partition is unchanged since it was published', async () => {
    const lines: string[] = [];
    const result = await publishPredictions({ ...options, log: (l) => lines.push(l) });
    assert.deepEqual([result.published, result.skipped, result.hash], [0, true, firstHash]);
    assert.ok(lines.some((l) => /nothing to publish: already published/.test(l)), lines.join('\n'));
    assert.equal((await topicRecords(5)).length, 5);
  });

  it('republishes an unchanged partition with force', async () => {
    const result = await publishPredictions({ ...options, force: true });
    assert.deepEqual([result.published, result.skipped, result.hash], [5, false, firstHash]);
    assert.equal((await topicRecords(10)).length, 10);
  });

  it('publishes again when the day is re-scored, whatever the file layout', async () => {
    // Swap in the re-scored files but keep our manifest, so only the content hash can tell.
    const dir = partitionDir(lake, DAY);
    for (const name of readdirSync(dir).filter((n) => n !== MANIFEST_FILE)) rmSync(join(dir, name));
    const rescored = join(lake, 'rescored', `score_date=${DAY}`);
    for (const name of readdirSync(rescored)) copyFileSync(join(rescored, name), join(dir, name));
    assert.ok(existsSync(join(dir, MANIFEST_FILE)));

    const result = await publishPredictions(options);
    assert.equal(result.published, 5);
    assert.notEqual(result.hash, firstHash);
    const records = await topicRecords(15);
    assert.equal(records.length, 15);
    // Per key, the latest record (what compaction keeps) is the re-scored one.
    const latest = new Map(records.map((r) => [r.key, r.value]));
    assert.deepEqual([...latest.values()].sort(byUser), expected(v2));
    assert.equal(readManifest(dir)?.content_sha256, result.hash);
  });

  it('refuses a partition without _SUCCESS and publishes nothing', async () => {
    await assert.rejects(publishPredictions({ ...options, date: UNFINISHED_DAY }), (err: unknown) => {
      assert.ok(err instanceof PublishError);
      assert.match(err.message, /has no _SUCCESS/);
      return true;
    });
    assert.equal(existsSync(join(partitionDir(lake, UNFINISHED_DAY), MANIFEST_FILE)), false);
    assert.equal((await topicRecords(15)).length, 15);
  });
});
