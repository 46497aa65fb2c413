// Issue #12 acceptance: a hot swap under load loses and duplicates no record. The maintenance
// scorer (exactly-once) serves a failure model registered in MLflow as NAME@champion; 20k readings
// stream in, and about a third of the way through the champion alias moves from version 1 to
// version 2. Counted from the outputs' coordinate headers (streamscore-source, streamscore-chunk)
// and the consumer group's committed offsets: every input offset lies in exactly one committed
// chunk, no output's source repeats, both versions served, and on each partition no chunk scored by
// version 1 follows one scored by version 2.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TOPICS, loadSchema } from '../../schemas/topics.ts';
import { CHUNK_HEADER, SOURCE_HEADER } from '../../streams/runtime/batch.ts';
import { startProcessor } from '../../streams/runtime/kafka-runner.ts';
import { MODEL_HEADER } from '../../streams/runtime/models.ts';
import { ArtifactCache } from '../../streams/runtime/model-registry/artifact-cache.ts';
import { MlflowClient } from '../../streams/runtime/model-registry/mlflow-client.ts';
import { ModelResolver } from '../../streams/runtime/model-registry/resolver.ts';
import { ConfluentSchemaStore } from '../../streams/runtime/schema-store.ts';
import { AvroSerde } from '../../streams/runtime/serde.ts';
import { DEFAULT_ARTIFACTS_DIR, failureModelDeclaration } from '../../streams/maintenance/model.ts';
import { servedMaintenanceScorer } from '../../streams/maintenance/served.ts';
import { writeModelVersion } from '../../streams/maintenance/test-model-version.ts';
import { waitUntil } from '../../infra/stack/process.ts';
import { collect, endpoints, mlflowTrackingUri, quietLog, runId, runtimeOptions, testKafka, type Collected } from './helpers.ts';
import { registerModelDir } from './registered-models.ts';
import { armReadings } from './rollout-helpers.ts';

const ARMS = 40;
const MINUTES = 167; // x 40 arms x 3 sensors = 20,040 readings

test('the champion alias moves from v1 to v2 under load: 0 input offsets lost or in two chunks, 0 duplicated outputs, versions monotone', { timeout: 180_000 }, async (t) => {
  const started = Date.now();
  const id = runId();
  const name = `${id}-arm-failure-lgbm`;
  const tmp = mkdtempSync(join(tmpdir(), 'hot-swap-'));
  const committed = failureModelDeclaration();
  const [v1Version, v2Version] = [committed.version, `${committed.version}-hotswap2`];
  const files = writeModelVersion(DEFAULT_ARTIFACTS_DIR, join(tmp, 'v1'), v1Version, name);
  writeModelVersion(DEFAULT_ARTIFACTS_DIR, join(tmp, 'v2'), v2Version, name);
  const client = new MlflowClient({ trackingUri: mlflowTrackingUri(), attempts: 3 });
  const v1 = await registerModelDir(client, { name, dir: join(tmp, 'v1'), files, experiment: `${id}-hot-swap` });
  const v2 = await registerModelDir(client, { name, dir: join(tmp, 'v2'), files, experiment: `${id}-hot-swap` });
  await client.setAlias(name, 'champion', v1);

  const topic = TOPICS.sensorReadingsValidated.name;
  const resolver = new ModelResolver({ client, cache: new ArtifactCache({ client, dir: join(tmp, 'cache') }), log: quietLog });
  // Small chunks: many swap points. (One partition at a time: an exactly-once processor has one transactional producer.)
  const scorer = await startProcessor(servedMaintenanceScorer(undefined, join(tmp, 'v1')), runtimeOptions({ modelResolver: resolver, modelPollMs: 300, maxBatchRecords: 250 }));
  const kafka = testKafka();
  const admin = kafka.admin();
  await admin.connect();
  try {
    const startOffsets = new Map((await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, Number(p.high)]));
    const serde = new AvroSerde(new ConfluentSchemaStore(endpoints().schemaRegistryUrl));
    await serde.useTopic(topic, loadSchema(TOPICS.sensorReadingsValidated.schema));
    const all = armReadings(id, ARMS, MINUTES);
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    // Load: five minutes of the plant (600 readings) per send, without waiting for the scorer.
    const producing = (async () => {
      for (let i = 0; i < all.length; i += 600) {
        await producer.send({ topic, messages: all.slice(i, i + 600).map((r) => ({ key: r.arm_id, value: serde.encode(topic, r) })) });
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    const consumed = async () => {
      const [committedOffsets] = await admin.fetchOffsets({ groupId: 'maintenance-scorer', topics: [topic] });
      return committedOffsets.partitions.reduce((n, p) => n + Math.max(0, Number(p.offset) - (startOffsets.get(p.partition) ?? 0)), 0);
    };
    // The alias moves once the scorer has committed a third of the readings.
    assert.ok(await waitUntil(async () => (await consumed()) >= all.length / 3, 90_000, 100), 'the scorer consumes a third of the readings');
    const movedAt = await consumed();
    await client.setAlias(name, 'champion', v2);
    await producing;
    await producer.disconnect();
    const endOffsets = new Map((await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, Number(p.high)]));
    const produced = [...endOffsets].reduce((n, [p, end]) => n + end - startOffsets.get(p)!, 0);
    assert.equal(produced, all.length, 'only this test writes the topic meanwhile');
    assert.ok(await waitUntil(async () => (await consumed()) === all.length, 120_000, 250), `the group commits every offset (committed ${await consumed()} of ${all.length})`);

    // Every output of this run, read_committed, until its chunks cover every input offset (and 2 s more, for duplicates).
    const chunksOf = (out: Collected[]) => {
      const byPartition = new Map<number, Map<string, { first: number; last: number; versions: Set<string> }>>();
      for (const o of out) {
        const m = /\/(\d+)\/(\d+)-(\d+)$/.exec(o.headers[CHUNK_HEADER] ?? '');
        assert.ok(m, `output has a ${CHUNK_HEADER} header: ${JSON.stringify(o.headers)}`);
        const chunks = byPartition.get(Number(m[1])) ?? new Map();
        byPartition.set(Number(m[1]), chunks);
        const c = chunks.get(m[0]) ?? { first: Number(m[2]), last: Number(m[3]), versions: new Set<string>() };
        c.versions.add(o.headers[MODEL_HEADER]);
        chunks.set(m[0], c);
      }
      return new Map([...byPartition].map(([p, cs]) => [p, [...cs.values()].sort((a, b) => a.first - b.first)]));
    };
    /** Input offsets of [start, end) in no chunk, and in more than one. */
    const coverage = (out: Collected[]) => {
      let lost = 0;
      let twice = 0;
      const chunks = chunksOf(out);
      for (const [p, end] of endOffsets) {
        const cs = chunks.get(p) ?? [];
        for (let offset = startOffsets.get(p)!; offset < end; offset++) {
          const n = cs.filter((c) => c.first <= offset && offset <= c.last).length;
          if (n === 0) lost++;
          if (n > 1) twice++;
        }
      }
      return { lost, twice, chunks };
    };
    const outputs = await collect(kafka, [TOPICS.maintenancePredictions.name, TOPICS.maintenanceAlerts.name], (m) => (m.key ?? '').startsWith(`${id}-`), (out) => coverage(out).lost === 0, 60_000, 2_000);
    const { lost, twice, chunks } = coverage(outputs);
    const predictions = outputs.filter((o) => o.topic === TOPICS.maintenancePredictions.name);
    const sources = predictions.map((o) => o.headers[SOURCE_HEADER]);
    const duplicated = sources.length - new Set(sources).size;
    const versions = (c: { versions: Set<string> }) => [...c.versions].join(',');
    const regressions = [...chunks.values()].reduce((n, cs) => n + cs.filter((c, i) => i > 0 && versions(c) === `${name}@${v1Version}` && versions(cs[i - 1]) === `${name}@${v2Version}`).length, 0);
    const byVersion = (v: string) => predictions.filter((o) => o.headers[MODEL_HEADER] === `${name}@${v}`).length;
    const chunkCount = [...chunks.values()].reduce((n, cs) => n + cs.length, 0);
    t.diagnostic(`${all.length} readings, ${chunkCount} chunks, ${predictions.length} predictions (${byVersion(v1Version)} by v1, ${byVersion(v2Version)} by v2), alias moved after ${movedAt} committed; lost ${lost}, in two chunks ${twice}, duplicated sources ${duplicated}, version regressions ${regressions}; ${((Date.now() - started) / 1000).toFixed(1)} s`);

    assert.equal(lost, 0, 'every input offset is in a committed chunk');
    assert.equal(twice, 0, 'no input offset is in two committed chunks');
    assert.equal(duplicated, 0, 'no two predictions come from the same input record');
    assert.ok([...chunks.values()].every((cs) => cs.every((c) => c.versions.size === 1)), 'each chunk is scored by one version');
    assert.equal(regressions, 0, 'on each partition, version 2 is never followed by version 1');
    assert.ok(byVersion(v1Version) > 0 && byVersion(v2Version) > 0, 'both versions served');
    assert.equal(byVersion(v1Version) + byVersion(v2Version), predictions.length, 'every prediction names one of the two versions');
    assert.ok(predictions.length >= chunkCount, 'every chunk produced predictions');
  } finally {
    await admin.disconnect();
    await scorer.stop();
    rmSync(tmp, { recursive: true, force: true });
  }
});
