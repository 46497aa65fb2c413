// Contract test of every MLflow endpoint the client uses, against the real tracking server of the
// stack (MLFLOW_TRACKING_URI, exported by test/run.ts): it pins the MLflow 3.17 behaviours the
// registry work relies on (response shapes, "not found" answers, DELETE with a JSON body, byte-exact
// proxied artifacts, runs:/ sources resolved through the run). Names are unique per run, so reruns
// and other people's data on the same server do not matter.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { before, describe, it } from 'node:test';
import { MlflowClient, MlflowError, isNotFound, type Run } from './mlflow-client.ts';
import { mlflowTrackingUri, runId } from '../../../test/integration/helpers.ts';

const id = runId();
const client = new MlflowClient({ trackingUri: mlflowTrackingUri(), attempts: 2 });
const tagValue = (tags: { key: string; value: string }[] | undefined, key: string) => tags?.find((t) => t.key === key)?.value;

async function rejectsWith(p: Promise<unknown>, check: (e: MlflowError) => void): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof MlflowError, `an MlflowError, got ${String(err)}`);
    check(err);
    return true;
  });
}

describe('MLflow REST contract (3.17)', () => {
  const experimentName = `${id}-experiment`;
  const modelName = `${id}-model`;
  let experimentId = '';
  let run: Run;

  before(async () => {
    experimentId = await client.createExperiment(experimentName, [{ key: 'streamscore.test', value: id }]);
    run = await client.createRun({ experimentId, runName: 'contract', startTime: 1_000, tags: [{ key: 'streamscore.code_version', value: 'abc123' }] });
  });

  it('experiments: create, get by name (with tags); a missing name is null, a duplicate is a 400 that is not retried', async () => {
    const experiment = await client.getExperimentByName(experimentName);
    assert.equal(experiment?.experiment_id, experimentId);
    assert.equal(tagValue(experiment?.tags, 'streamscore.test'), id);
    assert.equal(experiment?.artifact_location, `mlflow-artifacts:/${experimentId}`, 'the server proxies artifacts');
    assert.equal(await client.getExperimentByName(`${id}-missing`), null);
    await rejectsWith(client.createExperiment(experimentName), (e) => {
      assert.equal(e.status, 400);
      assert.equal(e.errorCode, 'RESOURCE_ALREADY_EXISTS');
      assert.equal(e.retriable, false);
    });
  });

  it('runs: create, log params/metrics/tags in a batch, log dataset inputs, finish; the run reads back whole', async () => {
    assert.equal(run.info.status, 'RUNNING');
    assert.equal(run.info.artifact_uri, `mlflow-artifacts:/${experimentId}/${run.info.run_id}/artifacts`);
    await client.logBatch(run.info.run_id, {
      params: [{ key: 'num_leaves', value: '31' }],
      metrics: [0.5, 0.4, 0.3].map((value, step) => ({ key: 'loss', value, timestamp: 2_000 + step, step })),
      tags: [{ key: 'streamscore.data_sha256', value: 'f'.repeat(64) }],
    });
    await client.logInputs(run.info.run_id, [{
      dataset: { name: 'fd001-train', digest: 'abcdef12', source_type: 'local', source: JSON.stringify({ uri: 'data/fd001.csv' }) },
      tags: [{ key: 'mlflow.data.context', value: 'training' }],
    }]);
    const finished = await client.updateRun(run.info.run_id, 'FINISHED', 5_000);
    assert.equal(finished.status, 'FINISHED');
    assert.equal(finished.end_time, 5_000);

    const back = await client.getRun(run.info.run_id);
    assert.equal(back.info.run_name, 'contract');
    assert.deepEqual(back.data.params, [{ key: 'num_leaves', value: '31' }]);
    // runs/get returns each metric's latest value; the history of steps stays in the store.
    assert.deepEqual(back.data.metrics, [{ key: 'loss', value: 0.3, timestamp: 2_002, step: 2 }]);
    assert.equal(tagValue(back.data.tags, 'streamscore.code_version'), 'abc123');
    assert.equal(tagValue(back.data.tags, 'streamscore.data_sha256'), 'f'.repeat(64));
    const input = back.inputs?.dataset_inputs?.[0];
    assert.equal(input?.dataset.digest, 'abcdef12');
    assert.equal(JSON.parse(input?.dataset.source ?? '{}').uri, 'data/fd001.csv');
    assert.equal(tagValue(input?.tags, 'mlflow.data.context'), 'training');
  });

  it('artifacts: PUT and GET byte-exact through the proxied store, list a folder, refuse .. paths', async () => {
    const root = await client.artifactPathOf(run.info.artifact_uri);
    assert.equal(root, `${experimentId}/${run.info.run_id}/artifacts`);
    const blob = randomBytes(300_000);
    await client.uploadArtifact(`${root}/model/sub dir/model.onnx`, blob);
    await client.uploadArtifact(`${root}/model/MLmodel`, Buffer.from('flavors: {}\n'));
    assert.ok((await client.downloadArtifact(`${root}/model/sub dir/model.onnx`)).equals(blob), 'the download equals the upload');

    const listed = await client.listArtifacts(`${root}/model`);
    assert.deepEqual(listed.map((f) => [f.path, f.is_dir, f.file_size]).sort(), [['MLmodel', false, 12], ['sub dir', true, undefined]]);
    assert.deepEqual(await client.listArtifacts(`${root}/no-such-folder`), [], 'a missing folder lists empty');
    await rejectsWith(client.downloadArtifact(`${root}/model/missing.bin`), (e) => {
      assert.equal(e.status, 404);
      assert.ok(isNotFound(e));
    });
    await assert.rejects(client.downloadArtifact(`${root}/../../etc/passwd`), /must be relative and non-empty, without empty, \. or \.\. segments/);
  });

  it('registered models and versions: create, get, search, tag, download URI; runs:/ sources resolve to the run folder', async () => {
    const created = await client.createRegisteredModel(modelName, { description: 'contract test', tags: [{ key: 'kind', value: 'failure' }] });
    assert.equal(created.name, modelName);
    assert.equal(await client.getRegisteredModel(`${id}-missing`), null);
    // Tag values may be long (the promotion records are JSON): 100,000 characters is MLflow's limit.
    const longValue = 'x'.repeat(100_000);
    await client.setRegisteredModelTag(modelName, 'streamscore.promotion.1', longValue);
    const model = await client.getRegisteredModel(modelName);
    assert.equal(tagValue(model?.tags, 'kind'), 'failure');
    assert.equal(tagValue(model?.tags, 'streamscore.promotion.1')?.length, 100_000);
    const found = await client.searchRegisteredModels({ filter: `name='${modelName}'`, maxResults: 10 });
    assert.deepEqual(found.items.map((m) => m.name), [modelName]);

    const source = `runs:/${run.info.run_id}/model`;
    const v1 = await client.createModelVersion({ name: modelName, source, runId: run.info.run_id, tags: [{ key: 'streamscore.files', value: '{"a":"1"}' }] });
    assert.equal(v1.version, '1');
    assert.equal(v1.status, 'READY');
    await client.setModelVersionTag(modelName, '1', 'streamscore.model_version', '2026.11.29-37ef010');
    const got = await client.getModelVersion(modelName, '1');
    assert.equal(got?.source, source);
    assert.equal(got?.run_id, run.info.run_id);
    assert.equal(tagValue(got?.tags, 'streamscore.model_version'), '2026.11.29-37ef010');
    assert.equal(await client.getModelVersion(modelName, '99'), null);

    const versions = await client.searchModelVersions({ filter: `name='${modelName}'` });
    assert.deepEqual(versions.items.map((v) => v.version), ['1']);
    assert.equal(versions.nextPageToken, undefined);

    const downloadUri = await client.getModelVersionDownloadUri(modelName, '1');
    assert.equal(downloadUri, source, 'MLflow 3.17 hands back the runs:/ source unresolved');
    assert.equal(await client.artifactPathOf(downloadUri), `${experimentId}/${run.info.run_id}/artifacts/model`);
    await assert.rejects(client.artifactPathOf('s3://bucket/model'), /not served by the tracking server/);
  });

  it('aliases: set, resolve to the version, delete (DELETE with a JSON body); a missing alias resolves to null', async () => {
    await client.setAlias(modelName, 'champion', '1');
    const champion = await client.getModelVersionByAlias(modelName, 'champion');
    assert.equal(champion?.version, '1');
    assert.deepEqual(champion?.aliases, ['champion']);
    assert.deepEqual((await client.getRegisteredModel(modelName))?.aliases, [{ alias: 'champion', version: '1' }]);

    await client.deleteAlias(modelName, 'champion');
    assert.equal(await client.getModelVersionByAlias(modelName, 'champion'), null);
    assert.equal(await client.getModelVersionByAlias(`${id}-missing`, 'champion'), null);
    await rejectsWith(client.setAlias(modelName, 'champion', '7'), (e) => {
      assert.equal(e.retriable, false);
      assert.ok(e.status !== null && e.status >= 400 && e.status < 500, `a 4xx, got ${e.status}`);
    });
  });
});
