// The HTTP layer of the MLflow client: where requests go (MLFLOW_TRACKING_URI), how they
// authenticate (MLflow's own env names), and how an answer that is not a success becomes one
// MlflowError that says whether retrying can help. Requests are retried through the runtime's one
// retry policy (retry.ts), like the schema registry's.
import { bearerOrBasicAuth } from '../connection-security.ts';
import type { Logger } from '../logger.ts';
import { RetriesExhaustedError, errorLine, withRetry } from '../retry.ts';

const REQUEST_TIMEOUT_MS = 30_000;
/** Artifacts are whole model files (the documents model is ~110 MB). */
const ARTIFACT_TIMEOUT_MS = 300_000;

export interface MlflowClientOptions {
  /** The tracking server, e.g. http://127.0.0.1:8098 (credentials in it become a Basic header). */
  trackingUri: string;
  /** Per request; default 30 s (artifacts: artifactTimeoutMs, default 300 s). */
  requestTimeoutMs?: number;
  artifactTimeoutMs?: number;
  /** Attempts per request, the first included; default 4. */
  attempts?: number;
  /** Give up retrying a request after this long; default 30 s. */
  maxRetryMs?: number;
  log?: Logger;
  /** Where MLFLOW_TRACKING_TOKEN / _USERNAME / _PASSWORD are read; default process.env. */
  env?: NodeJS.ProcessEnv;
}

/**
 * A failed MLflow request. `status` is null when no HTTP answer came (connection refused, timeout);
 * `errorCode` is MLflow's own (RESOURCE_DOES_NOT_EXIST, INVALID_PARAMETER_VALUE, ...) when it sent one.
 */
export class MlflowError extends Error {
  readonly status: number | null;
  readonly errorCode: string | null;
  /** Worth another attempt: no answer, 5xx or 429. Any other 4xx is the request's own fault. */
  readonly retriable: boolean;

  constructor(message: string, o: { status: number | null; errorCode: string | null; retriable: boolean; cause?: unknown }) {
    super(message, { cause: o.cause });
    this.name = 'MlflowError';
    this.status = o.status;
    this.errorCode = o.errorCode;
    this.retriable = o.retriable;
  }
}

/** MLflow answers a missing experiment, model, version or artifact with 404 RESOURCE_DOES_NOT_EXIST. */
export function isNotFound(err: unknown): boolean {
  return err instanceof MlflowError && (err.status === 404 || err.errorCode === 'RESOURCE_DOES_NOT_EXIST');
}

/** The error for an HTTP answer that is not 2xx, from its status and body (MLflow's JSON error or anything else). */
export function mlflowErrorOf(status: number, body: string, request: string): MlflowError {
  let errorCode: string | null = null;
  let detail = body.trim().slice(0, 300);
  try {
    const parsed = JSON.parse(body) as { error_code?: unknown; message?: unknown };
    if (typeof parsed.error_code === 'string') errorCode = parsed.error_code;
    if (typeof parsed.message === 'string') detail = parsed.message;
  } catch {
    // not JSON (a proxy's HTML page): keep the text
  }
  const hint = status === 401 || status === 403 ? ' (check MLFLOW_TRACKING_TOKEN or MLFLOW_TRACKING_USERNAME/_PASSWORD)' : '';
  const code = errorCode ? ` ${errorCode}` : '';
  return new MlflowError(`MLflow answered ${status}${code} to ${request}: ${detail || '(empty body)'}${hint}`, {
    status,
    errorCode,
    retriable: status >= 500 || status === 429,
  });
}

/** The Authorization header MLflow's clients send: Bearer MLFLOW_TRACKING_TOKEN, or Basic from _USERNAME/_PASSWORD. */
export function mlflowAuthHeaders(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  return bearerOrBasicAuth(env, { token: 'MLFLOW_TRACKING_TOKEN', user: 'MLFLOW_TRACKING_USERNAME', password: 'MLFLOW_TRACKING_PASSWORD' });
}

/**
 * Where a tracking URI's requests go and the headers they carry: MLflow's auth variables, or
 * credentials inside the URI (MLflow's Python client accepts them; fetch refuses them inline) as Basic.
 */
export function mlflowTarget(trackingUri: string, env: NodeJS.ProcessEnv = process.env): { baseUrl: string; headers: Record<string, string> } {
  let url: URL;
  try {
    url = new URL(trackingUri);
  } catch {
    throw new Error(`MLflow tracking URI ${JSON.stringify(trackingUri)} is not a URL (expected http(s)://host:port)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new Error(`MLflow tracking URI ${JSON.stringify(trackingUri)} must be http(s)://host:port: only a tracking server's REST API is supported`);
  }
  const headers: Record<string, string> = { accept: 'application/json', ...mlflowAuthHeaders(env) };
  if (url.username !== '' || url.password !== '') {
    headers.authorization = `Basic ${Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString('base64')}`;
    url.username = '';
    url.password = '';
  }
  return { baseUrl: url.toString().replace(/\/+$/, ''), headers };
}

export interface MlflowRequest {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** From the server root, e.g. /api/2.0/mlflow/runs/create (query string included). */
  path: string;
  json?: object;
  bytes?: Uint8Array;
  /** The body is an artifact: the longer timeout applies. */
  artifact?: boolean;
}

/** One tracking server: base URL, auth headers, timeouts, retries. */
export class MlflowHttp {
  readonly baseUrl: string;
  private readonly headers: Record<string, string>;
  private readonly options: MlflowClientOptions;

  constructor(options: MlflowClientOptions) {
    this.options = options;
    ({ baseUrl: this.baseUrl, headers: this.headers } = mlflowTarget(options.trackingUri, options.env));
  }

  /** The raw body of a successful answer; every failure is an MlflowError (retried first when retriable). */
  async request(req: MlflowRequest, what: string): Promise<Buffer> {
    const timeoutMs = req.artifact ? this.options.artifactTimeoutMs ?? ARTIFACT_TIMEOUT_MS : this.options.requestTimeoutMs ?? REQUEST_TIMEOUT_MS;
    const described = `${req.method} ${req.path.split('?')[0]}`;
    // Creates are retried too, as MLflow's own clients do: a create whose answer was lost may then
    // report RESOURCE_ALREADY_EXISTS (names) or make a second run/version (callers check by tags).
    try {
      return await withRetry(() => this.once(req, described, timeoutMs), {
        what,
        attempts: this.options.attempts ?? 4,
        maxElapsedMs: this.options.maxRetryMs ?? 30_000,
        retriable: (err) => err instanceof MlflowError && err.retriable,
        log: this.options.log,
      });
    } catch (err) {
      // Callers tell failures apart by MlflowError's fields, whether or not retries ran out first.
      if (err instanceof RetriesExhaustedError && err.cause instanceof MlflowError) {
        throw new MlflowError(err.message, { status: err.cause.status, errorCode: err.cause.errorCode, retriable: true, cause: err });
      }
      throw err;
    }
  }

  private async once(req: MlflowRequest, described: string, timeoutMs: number): Promise<Buffer> {
    const contentType = req.json ? 'application/json' : req.bytes ? 'application/octet-stream' : undefined;
    let res: Response;
    try {
      res = await fetch(`${this.baseUrl}${req.path}`, {
        method: req.method,
        headers: contentType ? { ...this.headers, 'content-type': contentType } : this.headers,
        body: req.json ? JSON.stringify(req.json) : req.bytes,
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      const reason = (err as Error).name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : errorLine(err);
      throw new MlflowError(`MLflow at ${this.baseUrl} unreachable (${described}): ${reason}`, { status: null, errorCode: null, retriable: true, cause: err });
    }
    const body = Buffer.from(await res.arrayBuffer());
    if (!res.ok) throw mlflowErrorOf(res.status, body.toString('utf8'), described);
    return body;
  }

  async json<T>(req: MlflowRequest, what: string): Promise<T> {
    const body = await this.request(req, what);
    return (body.length === 0 ? {} : JSON.parse(body.toString('utf8'))) as T;
  }
}
