// `models register` and `models seed` against the real MLflow of the stack (MLFLOW_TRACKING_URI) and
// Kafka (REGISTERED events of the training hook): one version per distinct set of files, and a run that carries the
// lineage (params, metrics, datasets, code version, data sha256), every file of the folder plus an
// MLmodel with the signature. Model names are unique per run (fixture-dirs.ts).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { MlflowClient } from '../streams/runtime/model-registry/mlflow-client.ts';
import { TAG, allVersions, registerModel, tagOf } from '../streams/runtime/model-registry/register.ts';
import { seedModels } from '../streams/runtime/model-registry/seed.ts';
import { codeVersionOf, failureKind, MODEL_KINDS } from './model-kinds.ts';
import { registerAfterTraining } from './models.ts';
import { fixtureCopy } from '../models/registry-fixtures/fixture-dirs.ts';
import { collect, mlflowTrackingUri, runId, testKafka } from '../test/integration/helpers.ts';
import avro from 'avsc';
import { TOPICS, loadSchema } from '../schemas/topics.ts';
import type { ModelLifecycleEvent } from '../schemas/generated/types.ts';

const client = new MlflowClient({ trackingUri: mlflowTrackingUri(), attempts: 2 });
const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

describe('models register', () => {
  const name = `${runId()}-failure`;
  const dir = fixtureCopy('champion', name);

  it('registers a folder once: the same files again give the same version and write nothing', async () => {
    const lines: string[] = [];
    const first = await registerModel(client, { kind: failureKind, dir, codeVersion: codeVersionOf(dir), progress: (l) => lines.push(l) });
    assert.equal(first.created, true);
    assert.equal(first.version, '1');
    assert.ok(lines.some((l) => /uploaded 5\/5 model\.onnx \(4\.7 KB/.test(l)), `an upload progress line per file:\n${lines.join('\n')}`);
    const runsBefore = (await client.getRun(first.runId)).info.run_id;
    const again = await registerModel(client, { kind: failureKind, dir, codeVersion: codeVersionOf(dir) });
    assert.deepEqual([again.created, again.version, again.runId], [false, '1', runsBefore]);
    assert.deepEqual((await allVersions(client, name)).map((v) => v.version), ['1'], 'one version only');

    // Another file content is another version.
    writeFileSync(join(dir, 'metrics.json'), JSON.stringify({ synthetic: { trees: 16 } }));
    const changed = await registerModel(client, { kind: failureKind, dir, codeVersion: 'abc-dirty' });
    assert.deepEqual([changed.created, changed.version], [true, '2']);
  });

  it('the version carries its lineage tags; the run its params, metrics, datasets, code version, files and MLmodel signature', async () => {
    const mv = (await client.getModelVersion(name, '1'))!;
    assert.equal(mv.source, `runs:/${mv.run_id}/model`);
    assert.equal(tagOf(mv.tags, TAG.modelVersion), 'fixture.1-champion');
    const files = JSON.parse(tagOf(mv.tags, TAG.files)!);
    assert.deepEqual(Object.keys(files), ['MODEL_CARD.md', 'metrics.json', 'model-dump.json', 'model-meta.json', 'model.onnx']);
    assert.equal(files['model.onnx'], sha256(join(new URL('../models/registry-fixtures/champion/', import.meta.url).pathname, 'model.onnx')));
    assert.deepEqual(JSON.parse(tagOf(mv.tags, TAG.signature)!).inputs, { features: { type: 'float32', shape: ['N', 42] } });
    const meta = JSON.parse(readFileSync(join(dir, 'model-meta.json'), 'utf8'));
    assert.equal(tagOf(mv.tags, TAG.evalSet), 'unrecorded', 'the fixture meta names no held-out data');

    const run = await client.getRun(mv.run_id!);
    assert.equal(run.info.status, 'FINISHED');
    assert.match(tagOf(run.data.tags, TAG.codeVersion)!, /^[0-9a-f]{40}/);
    assert.equal(tagOf(run.data.tags, TAG.dataSha256), meta.training_data.readings_sha256);
    const params = Object.fromEntries((run.data.params ?? []).map((p) => [p.key, p.value]));
    assert.equal(params['lgbm.num_leaves'], '4');
    assert.equal(params.features, '42');
    assert.equal(run.data.metrics?.find((m) => m.key === 'metrics.synthetic.trees')?.value, 15);
    const input = run.inputs?.dataset_inputs?.find((d) => tagOf(d.tags, 'mlflow.data.context') === 'training');
    assert.equal(JSON.parse(input!.dataset.source).sha256, meta.training_data.readings_sha256);

    const root = await client.artifactPathOf(mv.source);
    const listed = (await client.listArtifacts(root)).map((f) => f.path).sort();
    assert.deepEqual(listed, ['MLmodel', 'MODEL_CARD.md', 'metrics.json', 'model-dump.json', 'model-meta.json', 'model.onnx']);
    assert.ok((await client.downloadArtifact(`${root}/model.onnx`)).equals(readFileSync(join(dir, 'model.onnx'))));
    const mlmodel = (await client.downloadArtifact(`${root}/MLmodel`)).toString('utf8');
    assert.match(mlmodel, /^signature:\n {2}inputs: '\[\{"name":"features","type":"tensor","tensor-spec":\{"dtype":"float32","shape":\[-1,42\]\}\}\]'/m);
    assert.match(mlmodel, /outputs: '\[\{"name":"probabilities","type":"tensor","tensor-spec":\{"dtype":"float32","shape":\[-1,2\]\}\}\]'/);
    assert.match(mlmodel, new RegExp(`run_id: ${mv.run_id}`));
  });

  it('a folder its loader refuses is not registered, with the loader\'s reason', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'registry-empty-'));
    await assert.rejects(registerModel(client, { kind: failureKind, dir: empty, codeVersion: 'x' }), /model-meta\.json/);
    const vision = MODEL_KINDS.find((k) => k.kind === 'vision')!;
    await assert.rejects(registerModel(client, { kind: vision, dir, codeVersion: 'x' }), /vision model|model-meta\.json/);
  });
});

describe('models seed', () => {
  it('registers a folder as version 1 with alias champion and a promotion record, once', async () => {
    const name = `${runId()}-seeded`;
    const models = [{ kind: 'failure', dir: fixtureCopy('good', name) }];
    const first = await seedModels({ client, kinds: MODEL_KINDS, models, codeVersionOf });
    assert.deepEqual(first.map((r) => [r.name, r.outcome, r.version]), [[name, 'seeded', '1']]);
    assert.equal((await client.getModelVersionByAlias(name, 'champion'))?.version, '1');
    const record = JSON.parse(tagOf((await client.getModelVersion(name, '1'))!.tags, `${TAG.promotionPrefix}1`)!);
    assert.deepEqual([record.to, record.by, record.promoted], ['champion', 'streamscore models seed', true]);
    const second = await seedModels({ client, kinds: MODEL_KINDS, models, codeVersionOf });
    assert.deepEqual(second.map((r) => r.outcome), ['skipped']);
    assert.deepEqual((await allVersions(client, name)).map((v) => v.version), ['1']);
  });
});

describe('training hooks', () => {
  it('register the trained folder when MLflow answers, and send REGISTERED to models.lifecycle.v1', async () => {
    const name = `${runId()}-trained`;
    const dir = fixtureCopy('good', name);
    const said: string[] = [];
    await registerAfterTraining('failure', dir, (l) => said.push(l));
    assert.deepEqual(said, [`registered ${name} version 1 (fixture.2-good): streamscore models promote ${name} 1 --to challenger --reason "..."`]);
    const type = avro.Type.forSchema(loadSchema(TOPICS.modelLifecycle.schema) as avro.Schema);
    const [event] = (await collect(testKafka(), [TOPICS.modelLifecycle.name], (m) => m.key === name, (all) => all.length >= 1, 30_000)).map((m) => type.fromBuffer(m.value.subarray(5)) as ModelLifecycleEvent);
    assert.deepEqual([event.event, event.registry_version, event.model_version, event.event_id], ['REGISTERED', '1', 'fixture.2-good', `${name}/1/REGISTERED/1`]);
  });

  it('say in one line that the model was not registered when no tracking server answers', async () => {
    const saved = process.env.MLFLOW_TRACKING_URI;
    const written: string[] = [];
    process.env.MLFLOW_TRACKING_URI = 'http://127.0.0.1:9';
    try {
      await registerAfterTraining('failure', '/tmp/some-model', (l) => written.push(l));
    } finally {
      process.env.MLFLOW_TRACKING_URI = saved;
    }
    assert.equal(written.length, 1);
    assert.match(written[0], /^model in \/tmp\/some-model not registered: no MLflow tracking server answers at http:\/\/127\.0\.0\.1:9/);
  });
});
