// The MLflow 3.17 REST entities the client reads and writes, as the server sends them (snake_case,
// optional fields absent rather than null). mlflow-client.test.ts pins them against a real server.

export interface Tag {
  key: string;
  value: string;
}

export interface Experiment {
  experiment_id: string;
  name: string;
  artifact_location: string;
  lifecycle_stage: string;
  tags?: Tag[];
}

export type RunStatus = 'RUNNING' | 'SCHEDULED' | 'FINISHED' | 'FAILED' | 'KILLED';

export interface RunInfo {
  run_id: string;
  experiment_id: string;
  run_name: string;
  status: RunStatus;
  start_time: number;
  end_time?: number;
  /** mlflow-artifacts:/<experiment>/<run>/artifacts on a server that proxies artifacts. */
  artifact_uri: string;
}

export interface Metric {
  key: string;
  value: number;
  /** Milliseconds since the epoch. */
  timestamp: number;
  step?: number;
}

export interface Dataset {
  name: string;
  digest: string;
  source_type: string;
  /** JSON text, e.g. {"uri": "..."}. */
  source: string;
  schema?: string;
  profile?: string;
}

export interface DatasetInput {
  dataset: Dataset;
  /** e.g. mlflow.data.context = training | evaluation. */
  tags?: Tag[];
}

export interface Run {
  info: RunInfo;
  data: { metrics?: Metric[]; params?: Tag[]; tags?: Tag[] };
  inputs?: { dataset_inputs?: DatasetInput[] };
}

export interface ModelVersion {
  name: string;
  version: string;
  source: string;
  run_id?: string;
  status: string;
  creation_timestamp: number;
  description?: string;
  tags?: Tag[];
  aliases?: string[];
}

export interface RegisteredModel {
  name: string;
  creation_timestamp: number;
  description?: string;
  tags?: Tag[];
  aliases?: { alias: string; version: string }[];
  latest_versions?: ModelVersion[];
}

export interface Page<T> {
  items: T[];
  /** Pass as pageToken for the next page; undefined on the last. */
  nextPageToken: string | undefined;
}

export interface SearchOptions {
  /** MLflow's filter syntax, e.g. name='churn-30d-rf' or tags.`streamscore.files`='...'. */
  filter?: string;
  maxResults?: number;
  orderBy?: string[];
  pageToken?: string;
}

export interface ArtifactFile {
  /** Relative to the listed folder. */
  path: string;
  is_dir: boolean;
  file_size?: number;
}
