// Registers a model directory in MLflow the way `streamscore models register` does, for the serving
// tests, with the client alone: a run in an experiment, the files uploaded under the run's `model/`
// folder, and a version (source runs:/<run>/model) tagged with `streamscore.files` (JSON: relative
// path -> sha256) and `streamscore.model_version`. Kept independent of the register command so the
// runtime's tests do not depend on it; `upload` lets a test store other bytes than it registers.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FILES_TAG, filesManifest } from '../../streams/runtime/model-registry/artifact-cache.ts';
import type { MlflowClient } from '../../streams/runtime/model-registry/mlflow-client.ts';

export interface RegisterDirOptions {
  name: string;
  dir: string;
  /** Relative paths of the files to register. */
  files: string[];
  experiment: string;
  /** The bytes uploaded for a file (default: the file's own): a test of a tampered store changes one. */
  upload?: (path: string, bytes: Buffer) => Buffer;
}

export async function registerModelDir(client: MlflowClient, o: RegisterDirOptions): Promise<string> {
  const experimentId = (await client.getExperimentByName(o.experiment))?.experiment_id ?? (await client.createExperiment(o.experiment));
  const run = await client.createRun({ experimentId, runName: `${o.name} ${o.dir}` });
  const root = await client.artifactPathOf(run.info.artifact_uri);
  for (const f of o.files) {
    const bytes = readFileSync(join(o.dir, f));
    await client.uploadArtifact(`${root}/model/${f}`, o.upload ? o.upload(f, bytes) : bytes);
  }
  await client.updateRun(run.info.run_id, 'FINISHED');
  if (!(await client.getRegisteredModel(o.name))) await client.createRegisteredModel(o.name);
  const meta = JSON.parse(readFileSync(join(o.dir, 'model-meta.json'), 'utf8')) as { model_version?: string };
  const version = await client.createModelVersion({
    name: o.name,
    source: `runs:/${run.info.run_id}/model`,
    runId: run.info.run_id,
    tags: [{ key: FILES_TAG, value: await filesManifest(o.dir, o.files) }, { key: 'streamscore.model_version', value: meta.model_version ?? '' }],
  });
  return version.version;
}
