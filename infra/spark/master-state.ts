// The master's and workers' JSON (`<web UI>/json/`, Spark's JsonProtocol.writeMasterState /
// writeWorkerState) parsed into the few fields health and status need. Unknown or missing fields
// never throw: a malformed answer reads as an unhealthy master.

export interface SparkWorkerState {
  id: string;
  host: string;
  webUiUrl: string;
  state: string;
  cores: number;
  coresUsed: number;
  memoryMb: number;
  memoryUsedMb: number;
}

export interface SparkAppState {
  id: string;
  name: string;
  state: string;
  cores: number;
}

export interface SparkMasterState {
  url: string;
  status: string;
  aliveWorkers: number;
  workers: SparkWorkerState[];
  cores: number;
  coresUsed: number;
  memoryMb: number;
  memoryUsedMb: number;
  activeApps: SparkAppState[];
  completedApps: SparkAppState[];
}

/** One executor a worker ran or runs, from the worker's own JSON. */
export interface SparkExecutorState {
  appId: string;
  executorId: number;
  finished: boolean;
}

type Json = Record<string, unknown>;

const str = (o: Json, k: string): string => (typeof o[k] === 'string' ? (o[k] as string) : '');
const num = (o: Json, k: string): number => (typeof o[k] === 'number' ? (o[k] as number) : 0);
const objects = (v: unknown): Json[] => (Array.isArray(v) ? v.filter((x): x is Json => typeof x === 'object' && x !== null) : []);

export function parseMasterState(text: string): SparkMasterState {
  let o: unknown;
  try {
    o = JSON.parse(text);
  } catch {
    throw new Error(`master UI answered non-JSON: ${JSON.stringify(text.slice(0, 80))}`);
  }
  if (typeof o !== 'object' || o === null || Array.isArray(o)) throw new Error('master UI JSON is not an object');
  const m = o as Json;
  const app = (a: Json): SparkAppState => ({ id: str(a, 'id'), name: str(a, 'name'), state: str(a, 'state'), cores: num(a, 'cores') });
  return {
    url: str(m, 'url'),
    status: str(m, 'status'),
    aliveWorkers: num(m, 'aliveworkers'),
    workers: objects(m.workers).map((w) => ({
      id: str(w, 'id'),
      host: str(w, 'host'),
      webUiUrl: str(w, 'webuiaddress'),
      state: str(w, 'state'),
      cores: num(w, 'cores'),
      coresUsed: num(w, 'coresused'),
      memoryMb: num(w, 'memory'),
      memoryUsedMb: num(w, 'memoryused'),
    })),
    cores: num(m, 'cores'),
    coresUsed: num(m, 'coresused'),
    memoryMb: num(m, 'memory'),
    memoryUsedMb: num(m, 'memoryused'),
    activeApps: objects(m.activeapps).map(app),
    completedApps: objects(m.completedapps).map(app),
  };
}

/** Executors in a worker's JSON: `executors` (running) and `finishedexecutors`. */
export function parseWorkerExecutors(text: string): SparkExecutorState[] {
  const w = JSON.parse(text) as Json;
  const list = (key: string, finished: boolean) => objects(w[key]).map((e) => ({ appId: str(e, 'appid'), executorId: num(e, 'id'), finished }));
  return [...list('executors', false), ...list('finishedexecutors', true)];
}

/** Healthy = the master says ALIVE and exactly the expected number of workers are alive. */
export function masterHealth(state: SparkMasterState, expectedWorkers: number | null): { healthy: boolean; detail: string } {
  const workers = expectedWorkers === null ? `${state.aliveWorkers} workers alive` : `${state.aliveWorkers}/${expectedWorkers} workers alive`;
  if (state.status !== 'ALIVE') return { healthy: false, detail: `master status ${state.status || '(none)'}, ${workers}` };
  const enough = expectedWorkers === null ? state.aliveWorkers > 0 : state.aliveWorkers === expectedWorkers;
  return { healthy: enough, detail: `ALIVE, ${workers}` };
}

/** GET `<ui>/json/` with a timeout; resolves with the body or rejects with a one-line reason. */
export async function fetchJson(uiUrl: string, timeoutMs = 3_000): Promise<string> {
  const url = `${uiUrl.replace(/\/+$/, '')}/json/`;
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), redirect: 'follow' });
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code;
    throw new Error(`${url}: ${cause ?? (err as Error).message}`);
  }
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return res.text();
}

export async function fetchMasterState(uiUrl: string, timeoutMs?: number): Promise<SparkMasterState> {
  return parseMasterState(await fetchJson(uiUrl, timeoutMs));
}
