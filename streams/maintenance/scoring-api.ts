// Real-time scoring API: POST /v1/score with an arm's recent readings (JSON) -> failure probability
// within 24 h and its explanation. The features come from the same window code as the stream
// (the in-memory twin, one fresh store per request), so an API answer equals what the stream would
// score for the same readings. Input is schema-validated (ajv) with clear 400s; bodies over the
// limit get 413. /metrics, /healthz.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Ajv } from 'ajv';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { validateReading } from '../sensor-validation/rules.ts';
import { describedContributions, summarize } from './explain.ts';
import { FEATURE_NAMES, SENSORS, writeFeatures } from './features.ts';
import type { FailureModel } from './model.ts';
import { MemoryRollingWindows } from './rolling-windows.ts';

export const MAX_BODY_BYTES = 1024 * 1024;
export const MAX_READINGS = 20_000;

const requestSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['arm_id', 'readings'],
  properties: {
    arm_id: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$' },
    readings: {
      type: 'array',
      minItems: 1,
      maxItems: MAX_READINGS,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['sensor', 'value', 'unit', 'event_time'],
        properties: {
          sensor: { enum: [...SENSORS] },
          value: { type: 'number' },
          unit: { type: 'string' },
          event_time: { type: 'integer', minimum: 0 },
        },
      },
    },
  },
} as const;

interface ScoreRequest {
  arm_id: string;
  readings: { sensor: (typeof SENSORS)[number]; value: number; unit: string; event_time: number }[];
}

export interface ScoringApi {
  port: number;
  registry: Registry;
  close(): Promise<void>;
}

class HttpError extends Error {
  readonly status: number;
  readonly details: string[];
  constructor(status: number, message: string, details: string[] = []) {
    super(message);
    this.status = status;
    this.details = details;
  }
}

export async function startScoringApi(model: FailureModel, options: { port: number; host?: string }): Promise<ScoringApi> {
  const validate = new Ajv({ allErrors: true }).compile<ScoreRequest>(requestSchema);
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const latency = new Histogram({ name: 'streamscore_api_request_duration_seconds', help: 'Scoring API request duration', labelNames: ['route', 'status'] as const, buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1], registers: [registry] });
  const scored = new Counter({ name: 'streamscore_api_scores_total', help: 'Arms scored by the API', labelNames: ['alert'] as const, registers: [registry] });
  const rules = { threshold: model.meta.threshold };

  async function score(body: ScoreRequest) {
    const problems: string[] = [];
    body.readings.forEach((r, i) => {
      const reason = validateReading({ arm_id: body.arm_id, sensor: r.sensor, value: r.value, unit: r.unit, event_time: r.event_time, gateway_id: 'api', plant_id: 'api', sequence: i, quality: null }, Date.now());
      if (reason) problems.push(`readings[${i}]: ${reason}`);
    });
    if (problems.length) throw new HttpError(400, 'invalid readings', problems.slice(0, 20));
    const windows = new MemoryRollingWindows();
    // Sorted by event time: the API has the whole history at once, so nothing is late.
    const readings = [...body.readings].sort((a, b) => a.event_time - b.event_time);
    const { arms } = await windows.apply(readings.map((r, i) => ({ arm: body.arm_id, sensor: r.sensor, value: r.value, eventTime: r.event_time, offset: i })));
    const row = new Float64Array(FEATURE_NAMES.length);
    writeFeatures(arms.get(body.arm_id)!, row);
    const [p] = await model.predict(Float32Array.from(row), 1);
    const top = describedContributions(FEATURE_NAMES, row, model.explain(row), 5);
    const alert = p >= rules.threshold;
    scored.inc({ alert: String(alert) });
    return {
      arm_id: body.arm_id,
      failure_probability: p,
      horizon_hours: 24,
      alert,
      threshold: rules.threshold,
      model_name: model.name,
      model_version: model.version,
      features_at: new Date(readings[readings.length - 1].event_time).toISOString(),
      explanation: top,
      summary: summarize(body.arm_id, p, top),
    };
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<[string, number]> {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && path === '/metrics') {
      send(res, 200, await registry.metrics(), registry.contentType);
      return ['metrics', 200];
    }
    if (req.method === 'GET' && path === '/healthz') {
      send(res, 200, JSON.stringify({ status: 'ok', model: `${model.name} ${model.version}` }));
      return ['healthz', 200];
    }
    if (path !== '/v1/score') throw new HttpError(404, `no route ${req.method} ${path}; POST /v1/score`);
    if (req.method !== 'POST') throw new HttpError(405, 'use POST');
    if (!/^application\/json\b/.test(req.headers['content-type'] ?? '')) throw new HttpError(415, 'content-type must be application/json');
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > MAX_BODY_BYTES) throw new HttpError(413, `body of ${declared} bytes is over the ${MAX_BODY_BYTES}-byte limit`);
    const raw = await readBody(req);
    let body: unknown;
    try {
      body = JSON.parse(raw);
    } catch (err) {
      throw new HttpError(400, `body is not JSON: ${(err as Error).message}`);
    }
    if (!validate(body)) throw new HttpError(400, 'body does not match the request schema', (validate.errors ?? []).slice(0, 20).map((e) => `${e.instancePath || '(body)'} ${e.message}`));
    send(res, 200, JSON.stringify(await score(body)));
    return ['score', 200];
  }

  const server: Server = createServer((req, res) => {
    const end = latency.startTimer();
    handle(req, res).then(
      ([route, status]) => end({ route, status }),
      (err: unknown) => {
        const e = err instanceof HttpError ? err : new HttpError(500, (err as Error).message);
        if (!res.headersSent) send(res, e.status, JSON.stringify({ error: e.message, details: e.details }));
        end({ route: 'score', status: e.status });
        if (e.status === 413) req.destroy();
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '127.0.0.1', () => resolve());
  });
  return { port: (server.address() as AddressInfo).port, registry, close: () => new Promise((r) => server.close(() => r())) };
}

function send(res: ServerResponse, status: number, body: string, contentType = 'application/json'): void {
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body) }).end(body);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        reject(new HttpError(413, `body is over the ${MAX_BODY_BYTES}-byte limit`));
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
