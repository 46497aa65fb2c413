// A typed client for the parts of MLflow's REST API (3.17) that streamscore uses: experiments and
// runs for lineage, the model registry (models, versions, tags, aliases) for what is served, and the
// proxied artifact store for the model files. No Python at runtime. Shapes were checked against a
// running `mlflow server` 3.17.2 (mlflow-client.test.ts pins them); the HTTP, auth and error
// handling is in mlflow-http.ts.
import { MlflowError, MlflowHttp, isNotFound, type MlflowClientOptions } from './mlflow-http.ts';
import type {
  ArtifactFile, DatasetInput, Experiment, Metric, ModelVersion, Page, RegisteredModel, Run, RunInfo, RunStatus, SearchOptions, Tag,
} from './mlflow-types.ts';

export { MlflowError, isNotFound, mlflowAuthHeaders, mlflowErrorOf, type MlflowClientOptions } from './mlflow-http.ts';
export type * from './mlflow-types.ts';

const API = '/api/2.0/mlflow';
const ARTIFACTS = '/api/2.0/mlflow-artifacts/artifacts';

function query(params: Record<string, string | number | string[] | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (Array.isArray(v)) for (const item of v) q.append(k, item);
    else if (v !== undefined) q.set(k, String(v));
  }
  const text = q.toString();
  return text === '' ? '' : `?${text}`;
}

/**
 * The segments of a path inside the proxied artifact store (outer slashes dropped). Empty, `.` and
 * `..` segments are refused here: the server would resolve them, and a typo must not reach another
 * run's files.
 */
export function artifactPathSegments(path: string): string[] {
  const segments = path.replace(/^\/+|\/+$/g, '').split('/');
  if (segments.some((s) => s === '' || s === '.' || s === '..')) throw new Error(`artifact path ${JSON.stringify(path)} must be relative and non-empty, without empty, . or .. segments`);
  return segments;
}

const encodedArtifactPath = (path: string) => artifactPathSegments(path).map(encodeURIComponent).join('/');

export class MlflowClient {
  private readonly http: MlflowHttp;

  constructor(options: MlflowClientOptions) {
    this.http = new MlflowHttp(options);
  }

  get trackingUri(): string {
    return this.http.baseUrl;
  }

  private post<T>(path: string, json: object, what: string): Promise<T> {
    return this.http.json<T>({ method: 'POST', path: `${API}/${path}`, json }, what);
  }

  private get<T>(path: string, params: Record<string, string | number | string[] | undefined>, what: string): Promise<T> {
    return this.http.json<T>({ method: 'GET', path: `${API}/${path}${query(params)}` }, what);
  }

  /** One page of `<resource>/search`; the items are under `key` (absent when there are none). */
  private async search<T>(resource: string, key: string, o: SearchOptions): Promise<Page<T>> {
    const params = { filter: o.filter, max_results: o.maxResults, order_by: o.orderBy, page_token: o.pageToken };
    const r = await this.get<Record<string, unknown>>(`${resource}/search`, params, `searching ${resource}`);
    return { items: (r[key] as T[] | undefined) ?? [], nextPageToken: (r.next_page_token as string | undefined) || undefined };
  }

  /** Null when the answer is "does not exist"; every other failure throws. */
  private async orNull<T>(p: Promise<T>): Promise<T | null> {
    try {
      return await p;
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }

  // -- experiments and runs

  async createExperiment(name: string, tags: Tag[] = []): Promise<string> {
    return (await this.post<{ experiment_id: string }>('experiments/create', { name, tags }, `creating experiment ${name}`)).experiment_id;
  }

  async getExperimentByName(name: string): Promise<Experiment | null> {
    const r = await this.orNull(this.get<{ experiment: Experiment }>('experiments/get-by-name', { experiment_name: name }, `reading experiment ${name}`));
    return r?.experiment ?? null;
  }

  async createRun(o: { experimentId: string; runName?: string; startTime?: number; tags?: Tag[] }): Promise<Run> {
    const body = { experiment_id: o.experimentId, run_name: o.runName, start_time: o.startTime ?? Date.now(), tags: o.tags ?? [] };
    return (await this.post<{ run: Run }>('runs/create', body, `creating a run in experiment ${o.experimentId}`)).run;
  }

  async getRun(runId: string): Promise<Run> {
    return (await this.get<{ run: Run }>('runs/get', { run_id: runId }, `reading run ${runId}`)).run;
  }

  /** MLflow takes at most 1000 metrics, 100 params and 100 tags per call (params up to 6000 characters). */
  async logBatch(runId: string, o: { metrics?: Metric[]; params?: Tag[]; tags?: Tag[] }): Promise<void> {
    await this.post('runs/log-batch', { run_id: runId, metrics: o.metrics ?? [], params: o.params ?? [], tags: o.tags ?? [] }, `logging to run ${runId}`);
  }

  /** Data lineage: the datasets a run read. */
  async logInputs(runId: string, datasets: DatasetInput[]): Promise<void> {
    await this.post('runs/log-inputs', { run_id: runId, datasets }, `logging inputs of run ${runId}`);
  }

  async updateRun(runId: string, status: RunStatus, endTime: number = Date.now()): Promise<RunInfo> {
    return (await this.post<{ run_info: RunInfo }>('runs/update', { run_id: runId, status, end_time: endTime }, `marking run ${runId} ${status}`)).run_info;
  }

  // -- registered models

  async createRegisteredModel(name: string, o: { description?: string; tags?: Tag[] } = {}): Promise<RegisteredModel> {
    const body = { name, description: o.description, tags: o.tags ?? [] };
    return (await this.post<{ registered_model: RegisteredModel }>('registered-models/create', body, `registering model ${name}`)).registered_model;
  }

  async getRegisteredModel(name: string): Promise<RegisteredModel | null> {
    const r = await this.orNull(this.get<{ registered_model: RegisteredModel }>('registered-models/get', { name }, `reading registered model ${name}`));
    return r?.registered_model ?? null;
  }

  searchRegisteredModels(o: SearchOptions = {}): Promise<Page<RegisteredModel>> {
    return this.search<RegisteredModel>('registered-models', 'registered_models', o);
  }

  async setRegisteredModelTag(name: string, key: string, value: string): Promise<void> {
    await this.post('registered-models/set-tag', { name, key, value }, `tagging model ${name}`);
  }

  async setAlias(name: string, alias: string, version: string): Promise<void> {
    await this.post('registered-models/alias', { name, alias, version }, `pointing ${name}@${alias} at version ${version}`);
  }

  /** The version an alias points at; null when the alias (or the model) does not exist. */
  async getModelVersionByAlias(name: string, alias: string): Promise<ModelVersion | null> {
    try {
      return (await this.get<{ model_version: ModelVersion }>('registered-models/alias', { name, alias }, `resolving ${name}@${alias}`)).model_version;
    } catch (err) {
      // MLflow 3.17 answers a missing alias with 400 INVALID_PARAMETER_VALUE "Registered model alias X not found".
      if (isNotFound(err) || (err instanceof MlflowError && err.errorCode === 'INVALID_PARAMETER_VALUE' && /alias .* not found/i.test(err.message))) return null;
      throw err;
    }
  }

  async deleteAlias(name: string, alias: string): Promise<void> {
    // MLflow reads DELETE's parameters from a JSON body here; query parameters are refused.
    await this.http.json({ method: 'DELETE', path: `${API}/registered-models/alias`, json: { name, alias } }, `deleting ${name}@${alias}`);
  }

  // -- model versions

  async createModelVersion(o: { name: string; source: string; runId?: string; tags?: Tag[]; description?: string }): Promise<ModelVersion> {
    const body = { name: o.name, source: o.source, run_id: o.runId, tags: o.tags ?? [], description: o.description };
    return (await this.post<{ model_version: ModelVersion }>('model-versions/create', body, `creating a version of ${o.name}`)).model_version;
  }

  async getModelVersion(name: string, version: string): Promise<ModelVersion | null> {
    const r = await this.orNull(this.get<{ model_version: ModelVersion }>('model-versions/get', { name, version }, `reading ${name} version ${version}`));
    return r?.model_version ?? null;
  }

  searchModelVersions(o: SearchOptions = {}): Promise<Page<ModelVersion>> {
    return this.search<ModelVersion>('model-versions', 'model_versions', o);
  }

  async setModelVersionTag(name: string, version: string, key: string, value: string): Promise<void> {
    await this.post('model-versions/set-tag', { name, version, key, value }, `tagging ${name} version ${version}`);
  }

  /** The version's source as stored, e.g. runs:/<run>/model (artifactPathOf() resolves it). */
  async getModelVersionDownloadUri(name: string, version: string): Promise<string> {
    return (await this.get<{ artifact_uri: string }>('model-versions/get-download-uri', { name, version }, `locating ${name} version ${version}`)).artifact_uri;
  }

  // -- artifacts (the server's proxied store: `mlflow server --artifacts-destination`)

  /**
   * The proxied-store path of an artifact URI: mlflow-artifacts:/1/<run>/artifacts/model, or
   * runs:/<run>/model resolved through the run's artifact_uri. Other schemes (s3://, file:) mean the
   * server does not proxy artifacts, which this client needs.
   */
  async artifactPathOf(uri: string): Promise<string> {
    const runs = /^runs:\/([^/]+)(?:\/(.*))?$/.exec(uri);
    if (runs) {
      const base = await this.artifactPathOf((await this.getRun(runs[1])).info.artifact_uri);
      return runs[2] ? `${base}/${runs[2].replace(/^\/+|\/+$/g, '')}` : base;
    }
    const proxied = /^mlflow-artifacts:(?:\/\/[^/]*)?\/(.*)$/.exec(uri);
    if (!proxied) throw new Error(`artifact URI ${uri} is not served by the tracking server (start it with --artifacts-destination, or use mlflow-artifacts:/ URIs)`);
    return proxied[1].replace(/\/+$/, '');
  }

  async uploadArtifact(path: string, bytes: Uint8Array): Promise<void> {
    await this.http.request({ method: 'PUT', path: `${ARTIFACTS}/${encodedArtifactPath(path)}`, bytes, artifact: true }, `uploading artifact ${path}`);
  }

  async downloadArtifact(path: string): Promise<Buffer> {
    return this.http.request({ method: 'GET', path: `${ARTIFACTS}/${encodedArtifactPath(path)}`, artifact: true }, `downloading artifact ${path}`);
  }

  /** The folder's direct entries; [] for a folder that does not exist (MLflow does not tell them apart). */
  async listArtifacts(path: string): Promise<ArtifactFile[]> {
    const listed = query({ path: artifactPathSegments(path).join('/') });
    const r = await this.http.json<{ files?: ArtifactFile[] }>({ method: 'GET', path: `${ARTIFACTS}${listed}` }, `listing artifacts under ${path}`);
    return r.files ?? [];
  }
}

/** A client for MLFLOW_TRACKING_URI; throws naming the variable when it is not set. */
export function mlflowClientFromEnv(env: NodeJS.ProcessEnv = process.env, options: Omit<MlflowClientOptions, 'trackingUri' | 'env'> = {}): MlflowClient {
  const trackingUri = env.MLFLOW_TRACKING_URI?.trim();
  if (!trackingUri) throw new Error('MLFLOW_TRACKING_URI is not set: `streamscore infra up` starts MLflow and its runners export it, or point it at your tracking server');
  return new MlflowClient({ ...options, trackingUri, env });
}
