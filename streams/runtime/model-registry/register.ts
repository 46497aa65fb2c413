// `models register KIND DIR`: one MLflow run that records how a model folder was made (parameters,
// metrics, training data, code version, the whole folder as artifacts plus an MLmodel file with its
// signature), then a registered model version pointing at it (source runs:/<run>/model). The
// version's streamscore.files tag (sha256 per file) is its identity: registering the same bytes
// again prints the existing version and writes nothing.
import { basename } from 'node:path';
import { readFileSync } from 'node:fs';
import { fileDigests, listModelFiles, type ArtifactFileEntry } from './artifact-files.ts';
import { MlflowError, type MlflowClient, type ModelVersion, type Tag } from './mlflow-client.ts';
import { mlmodelText } from './mlmodel.ts';
import type { ModelDescription, ModelKind } from './model-kind.ts';

export const TAG = {
  codeVersion: 'streamscore.code_version',
  dataSha256: 'streamscore.data_sha256',
  modelVersion: 'streamscore.model_version',
  files: 'streamscore.files',
  signature: 'streamscore.signature',
  evalSet: 'streamscore.eval_set',
  kind: 'streamscore.kind',
  processor: 'streamscore.processor',
  promotionPrefix: 'streamscore.promotion.',
} as const;

export interface RegisterOptions {
  kind: ModelKind;
  dir: string;
  /** git HEAD, with -dirty when the folder differs from it (the CLI works it out). */
  codeVersion: string;
  /** One line per step and per upload. */
  progress?: (line: string) => void;
  now?: () => number;
}

export interface RegisterResult {
  name: string;
  /** The MLflow version number. */
  version: string;
  modelVersion: string;
  runId: string;
  /** False when the same files were registered before (nothing written). */
  created: boolean;
  description: ModelDescription;
}

export const tagOf = (tags: Tag[] | undefined, key: string) => tags?.find((t) => t.key === key)?.value;

/** Every version of a registered model (all pages), oldest first. */
export async function allVersions(client: MlflowClient, name: string): Promise<ModelVersion[]> {
  const out: ModelVersion[] = [];
  let pageToken: string | undefined;
  do {
    const page = await client.searchModelVersions({ filter: `name='${name.replace(/'/g, "\\'")}'`, maxResults: 200, pageToken });
    out.push(...page.items);
    pageToken = page.nextPageToken;
  } while (pageToken);
  return out.sort((a, b) => Number(a.version) - Number(b.version));
}

async function experimentFor(client: MlflowClient, processor: string): Promise<string> {
  const existing = await client.getExperimentByName(processor);
  if (existing) return existing.experiment_id;
  try {
    return await client.createExperiment(processor, [{ key: TAG.processor, value: processor }]);
  } catch (err) {
    // Two registrations at once: the other one created it.
    if (err instanceof MlflowError && err.errorCode === 'RESOURCE_ALREADY_EXISTS') return (await client.getExperimentByName(processor))!.experiment_id;
    throw err;
  }
}

async function ensureRegisteredModel(client: MlflowClient, d: ModelDescription): Promise<void> {
  if (await client.getRegisteredModel(d.name)) return;
  try {
    await client.createRegisteredModel(d.name, { description: `${d.kind} model served by ${d.processor}`, tags: [{ key: TAG.kind, value: d.kind }, { key: TAG.processor, value: d.processor }] });
  } catch (err) {
    if (!(err instanceof MlflowError && err.errorCode === 'RESOURCE_ALREADY_EXISTS')) throw err;
  }
}

/** MLflow takes at most 100 params and 1000 metrics per log-batch call. */
async function logRunData(client: MlflowClient, runId: string, d: ModelDescription, at: number): Promise<void> {
  const params = Object.entries(d.params).map(([key, value]) => ({ key, value: value.slice(0, 6000) }));
  for (let i = 0; i < params.length; i += 100) await client.logBatch(runId, { params: params.slice(i, i + 100) });
  const metrics = Object.entries(d.metrics).map(([key, value]) => ({ key, value, timestamp: at, step: 0 }));
  (d.history ?? []).forEach((row, step) => {
    for (const [key, value] of Object.entries(row)) metrics.push({ key: `history.${key}`, value, timestamp: at, step });
  });
  for (let i = 0; i < metrics.length; i += 1000) await client.logBatch(runId, { metrics: metrics.slice(i, i + 1000) });
  if (d.datasets.length) {
    await client.logInputs(runId, d.datasets.map((ds) => ({
      dataset: { name: ds.name, digest: ds.sha256.slice(0, 36), source_type: 'local', source: JSON.stringify({ uri: ds.source, sha256: ds.sha256 }) },
      tags: [{ key: 'mlflow.data.context', value: ds.context }],
    })));
  }
}

const size = (bytes: number) => (bytes >= 1e6 ? `${(bytes / 1e6).toFixed(1)} MB` : `${(bytes / 1e3).toFixed(1)} KB`);

async function uploadFolder(client: MlflowClient, root: string, files: ArtifactFileEntry[], extra: Record<string, string>, progress: (l: string) => void): Promise<void> {
  const all = [...files.map((f) => ({ name: f.name, path: f.path, bytes: f.bytes })), ...Object.entries(extra).map(([name, path]) => ({ name, path, bytes: readFileSync(path).length }))];
  const total = all.reduce((s, f) => s + f.bytes, 0);
  let sent = 0;
  for (const [i, f] of all.entries()) {
    const started = Date.now();
    await client.uploadArtifact(`${root}/model/${f.name}`, readFileSync(f.path));
    sent += f.bytes;
    progress(`  uploaded ${i + 1}/${all.length} ${f.name} (${size(f.bytes)}, ${((Date.now() - started) / 1000).toFixed(1)} s), ${size(sent)} of ${size(total)}`);
  }
}

export async function registerModel(client: MlflowClient, o: RegisterOptions): Promise<RegisterResult> {
  const progress = o.progress ?? (() => {});
  const now = o.now ?? Date.now;
  const d = o.kind.describe(o.dir);
  const files = listModelFiles(o.dir);
  const extraNames = Object.keys(d.extraFiles).filter((n) => !files.some((f) => f.name === n));
  const extra = Object.fromEntries(extraNames.map((n) => [n, d.extraFiles[n]]));
  const digests = await fileDigests([...files, ...extraNames.map((n) => ({ name: n, path: extra[n], bytes: 0 }))]);
  const filesTag = JSON.stringify(Object.fromEntries(Object.entries(digests).sort(([a], [b]) => (a < b ? -1 : 1))));

  await ensureRegisteredModel(client, d);
  const same = (await allVersions(client, d.name)).find((v) => tagOf(v.tags, TAG.files) === filesTag);
  if (same) {
    progress(`${d.name}: these files are version ${same.version} already (${tagOf(same.tags, TAG.modelVersion)}); nothing written`);
    return { name: d.name, version: same.version, modelVersion: d.modelVersion, runId: same.run_id ?? '', created: false, description: d };
  }

  const startedAt = now();
  const experimentId = await experimentFor(client, d.processor);
  const dataSha = d.datasets.find((ds) => ds.context === 'training')?.sha256 ?? 'unrecorded';
  const run = await client.createRun({
    experimentId, runName: `${d.name} ${d.modelVersion}`, startTime: startedAt,
    tags: [
      { key: TAG.codeVersion, value: o.codeVersion },
      { key: TAG.dataSha256, value: dataSha },
      { key: TAG.modelVersion, value: d.modelVersion },
      { key: TAG.kind, value: d.kind },
      { key: 'mlflow.source.name', value: basename(o.dir) },
      ...(d.datasetNote ? [{ key: 'streamscore.data_note', value: d.datasetNote }] : []),
    ],
  });
  const runId = run.info.run_id;
  progress(`${d.name} ${d.modelVersion}: run ${runId} in experiment ${d.processor}`);
  try {
    await logRunData(client, runId, d, startedAt);
    const root = await client.artifactPathOf(run.info.artifact_uri);
    await uploadFolder(client, root, files, extra, progress);
    await client.uploadArtifact(`${root}/model/MLmodel`, Buffer.from(mlmodelText(d, { runId, createdAt: new Date(startedAt), files: digests })));
    await client.updateRun(runId, 'FINISHED', now());
  } catch (err) {
    await client.updateRun(runId, 'FAILED', now()).catch(() => {});
    throw err;
  }
  const signature = d.spec ? JSON.stringify(d.spec.signature) : JSON.stringify(d.signature);
  const version = await client.createModelVersion({
    name: d.name, source: `runs:/${runId}/model`, runId, description: `${d.modelVersion} (${d.kind}, ${d.processor})`,
    tags: [
      { key: TAG.modelVersion, value: d.modelVersion },
      { key: TAG.files, value: filesTag },
      { key: TAG.signature, value: signature },
      { key: TAG.evalSet, value: d.evalSet },
      { key: TAG.codeVersion, value: o.codeVersion },
    ],
  });
  progress(`${d.name}: registered version ${version.version} (${d.modelVersion}) from run ${runId}`);
  return { name: d.name, version: version.version, modelVersion: d.modelVersion, runId, created: true, description: d };
}
