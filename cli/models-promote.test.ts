// `models promote` against the real MLflow (MLFLOW_TRACKING_URI) and Kafka (models.lifecycle.v1):
// a wrong-signature, a worse and a card-less model are refused, each with its failing gate recorded
// as a version tag and sent as REFUSED; a good one moves the alias and its PROMOTED event is read
// back from Kafka; list, show and history print what happened. Fixtures: make_fixtures.py.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import avro from 'avsc';
import { TOPICS, loadSchema } from '../schemas/topics.ts';
import type { ModelLifecycleEvent } from '../schemas/generated/types.ts';
import { kafkaLifecyclePublisher, type LifecyclePublisher } from '../streams/runtime/model-registry/lifecycle-events.ts';
import { MlflowClient } from '../streams/runtime/model-registry/mlflow-client.ts';
import { parsePolicy } from '../streams/runtime/model-registry/policy.ts';
import { promote, type Alias } from '../streams/runtime/model-registry/promote.ts';
import { TAG, registerModel, tagOf } from '../streams/runtime/model-registry/register.ts';
import { ConfluentSchemaStore } from '../streams/runtime/schema-store.ts';
import { codeVersionOf, failureKind, MODEL_KINDS } from './model-kinds.ts';
import { printHistory, printList, printShow } from './models-print.ts';
import { fixtureCopy, fixturePolicy, type FixtureName } from '../models/registry-fixtures/fixture-dirs.ts';
import { collect, endpoints, mlflowTrackingUri, quietLog, runId, testKafka } from '../test/integration/helpers.ts';

const client = new MlflowClient({ trackingUri: mlflowTrackingUri(), attempts: 2 });
const name = `${runId()}-promote`;
const policy = parsePolicy(fixturePolicy(name), '/', 'fixture policy');
const cacheDir = mkdtempSync(join(tmpdir(), 'registry-cache-'));
const root = mkdtempSync(join(tmpdir(), 'registry-fixtures-'));
const kafka = testKafka();
const versions: Partial<Record<FixtureName, string>> = {};
let publisher: LifecyclePublisher;

const promoteTo = (version: string, to: Alias, reason: string, p: LifecyclePublisher = publisher) =>
  promote({ client, kinds: MODEL_KINDS, policy, policySource: 'fixture policy', name, version, to, reason, by: 'ci-operator', cacheDir, publisher: p });

describe('models promote', () => {
  before(async () => {
    publisher = await kafkaLifecyclePublisher({ kafka, store: new ConfluentSchemaStore(endpoints().schemaRegistryUrl), log: quietLog });
    for (const f of ['champion', 'wrong-signature', 'worse', 'no-card', 'good'] as const) {
      versions[f] = (await registerModel(client, { kind: failureKind, dir: fixtureCopy(f, name, root), codeVersion: codeVersionOf(root) })).version;
    }
  });
  after(() => publisher?.close());

  it('the first champion passes every gate with nothing to compare with', async () => {
    const r = await promoteTo(versions.champion!, 'champion', 'first model');
    assert.equal(r.promoted, true, JSON.stringify(r.record.gates));
    assert.match(r.record.gates[1].detail, /^pr_auc 0\.\d{4} \(recomputed on synthetic-300\); no champion to compare with$/);
    assert.equal((await client.getModelVersionByAlias(name, 'champion'))?.version, versions.champion);
  });

  for (const [fixture, gate, detail] of [
    ['wrong-signature', 'signature', /input "features" has shape \[\?, 41\], the processor expects \[N, 42\]/],
    ['worse', 'evaluation', /^pr_auc 0\.\d+ is not >= champion 0\.\d+ - 0\.02 \(recomputed on synthetic-300\)$/],
    ['no-card', 'card', /MODEL_CARD\.md is not among the version's artifacts/],
  ] as const) {
    it(`refuses the ${fixture} model on its ${gate} gate, records it and leaves the champion`, async () => {
      const r = await promoteTo(versions[fixture]!, 'champion', `try ${fixture}`);
      assert.equal(r.promoted, false);
      const failed = r.record.gates.filter((g) => !g.ok);
      assert.ok(failed.some((g) => g.name === gate && detail.test(g.detail)), JSON.stringify(r.record.gates));
      if (fixture !== 'wrong-signature') assert.deepEqual(failed.map((g) => g.name), [gate], 'only its own gate fails');
      assert.equal((await client.getModelVersionByAlias(name, 'champion'))?.version, versions.champion, 'the alias did not move');
      const tag = JSON.parse(tagOf((await client.getModelVersion(name, versions[fixture]!))!.tags, r.tag)!);
      assert.deepEqual([tag.to, tag.by, tag.reason, tag.promoted, tag.previous_version], ['champion', 'ci-operator', `try ${fixture}`, false, versions.champion]);
      assert.ok(Date.now() - Date.parse(tag.at) < 60_000, 'at is when it happened');
      assert.deepEqual(tag.gates, r.record.gates);
    });
  }

  it('promotes a good model: the alias moves and the PROMOTED event is on models.lifecycle.v1 after the REFUSED ones', async () => {
    const r = await promoteTo(versions.good!, 'champion', 'retrained, at least as good');
    assert.equal(r.promoted, true, JSON.stringify(r.record.gates));
    assert.equal((await client.getModelVersionByAlias(name, 'champion'))?.version, versions.good);
    assert.ok(r.event.numbers.candidate >= r.event.numbers.champion - 0.02);

    const type = avro.Type.forSchema(loadSchema(TOPICS.modelLifecycle.schema) as avro.Schema);
    const records = await collect(kafka, [TOPICS.modelLifecycle.name], (m) => m.key === name, (all) => all.length >= 5, 30_000);
    const events = records.map((m) => type.fromBuffer(m.value.subarray(5)) as ModelLifecycleEvent);
    assert.deepEqual(events.map((e) => [e.event, e.registry_version, e.rule]), [
      ['PROMOTED', versions.champion, null],
      ['REFUSED', versions['wrong-signature'], 'signature,evaluation'],
      ['REFUSED', versions.worse, 'evaluation'],
      ['REFUSED', versions['no-card'], 'card'],
      ['PROMOTED', versions.good, null],
    ]);
    const last = events[4];
    assert.deepEqual([last.actor, last.reason, last.alias, last.previous_version, last.model_version], ['ci-operator', 'retrained, at least as good', 'champion', versions.champion, 'fixture.2-good']);
    assert.deepEqual(last.gates.map((g) => [g.name, g.ok]), [['signature', true], ['evaluation', true], ['card', true]]);
    assert.equal(last.event_id, `${name}/${versions.good}/PROMOTED/1`);
  });

  it('a promotion whose audit event cannot be sent fails, saying the record is in MLflow', async () => {
    const broken: LifecyclePublisher = { publish: async () => { throw new Error('broker down'); }, close: async () => {} };
    await assert.rejects(promoteTo(versions.good!, 'challenger', 'audit test', broken), /now points at version \d+ and recorded as tag streamscore\.promotion\.2, but the audit event was not sent to models\.lifecycle\.v1: broker down/);
  });

  it('list, show and history print the aliases, versions and promotion records; the CLI gives the same as JSON', async () => {
    const lines: string[] = [];
    await printList(client, false, (l) => lines.push(l));
    assert.ok(lines.some((l) => l.startsWith(name) && l.includes(`champion=v${versions.good}`) && l.includes(`challenger=v${versions.good}`)), lines.join('\n'));
    lines.length = 0;
    await printShow(client, name, false, (l) => lines.push(l));
    assert.match(lines.join('\n'), new RegExp(`v${versions.good} +fixture\\.2-good +challenger,champion`));
    lines.length = 0;
    await printHistory(client, name, false, (l) => lines.push(l));
    const text = lines.join('\n');
    assert.match(text, new RegExp(`v${versions.worse} \\(fixture\\.3-worse\\) -> champion: REFUSED by ci-operator \\(champion stays v${versions.champion}\\)\\n {4}why: try worse`));
    assert.match(text, /FAIL evaluation: pr_auc/);

    const cli = spawnSync(process.execPath, ['bin/streamscore.mjs', 'models', 'history', name, '--json'], { cwd: new URL('..', import.meta.url).pathname, encoding: 'utf8', env: process.env });
    assert.equal(cli.status, 0, cli.stderr);
    const history = JSON.parse(cli.stdout) as { version: string; to: string; promoted: boolean; by: string }[];
    assert.deepEqual(history.map((h) => [h.version, h.to, h.promoted]), [
      [versions.champion, 'champion', true], [versions['wrong-signature'], 'champion', false], [versions.worse, 'champion', false],
      [versions['no-card'], 'champion', false], [versions.good, 'champion', true], [versions.good, 'challenger', true],
    ]);
    const bad = spawnSync(process.execPath, ['bin/streamscore.mjs', 'models', 'promote', name, '1', '--to', 'champion'], { cwd: new URL('..', import.meta.url).pathname, encoding: 'utf8', env: process.env });
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /needs --to challenger\|champion and --reason/);
  });
});

