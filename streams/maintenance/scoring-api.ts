// Real-time scoring API: POST /v1/score with an arm's recent readings (JSON) -> failure probability
// within 24 h and its explanation. The features come from the same window code as the stream
// (the in-memory twin, one fresh store per request), so an API answer equals what the stream would
// score for the same readings. Served by the HTTP layer (streams/runtime/http/): an API key with the
// `score` scope, per-key rate limits, a bounded number of requests in flight, and a body whose size,
// depth and array length are checked while it streams in. Every bad input is a 4xx with a message.
import { Ajv, type ErrorObject } from 'ajv';
import { Counter, Registry, collectDefaultMetrics } from 'prom-client';
import { EARLIEST_EVENT_TIME, formatEventTime, validateReading } from '../../schemas/factory/sensor-reading-rules.ts';
import { defaultPlantRegistry, type PlantRegistry } from '../../schemas/factory/plant-registry.ts';
import type { SensorReading } from '../../schemas/generated/types.ts';
import { HttpError } from '../runtime/http/errors.ts';
import type { ApiKeyring } from '../runtime/http/keyring.ts';
import { observabilityRoutes, type ObservabilityAccess } from '../runtime/http/observability.ts';
import { startHttpApi } from '../runtime/http/server.ts';
import { createLogger, type Logger } from '../runtime/logger.ts';
import { describedContributions, summarize } from './explain.ts';
import { RING_BUCKETS, SENSORS, SIMULATOR_SPEC, writeFeatures } from './features.ts';
import type { FailureModel } from './model.ts';
import { windowReadingOf, type PlantScoring } from './plant-scoring.ts';
import { MemoryRollingWindows } from './rolling-windows.ts';

/**
 * The features look back 12 h (RING_BUCKETS one-minute buckets) over 3 sensors, and the model was
 * trained on one reading per sensor per minute: 2,160 readings. Twice that leaves room for faster
 * gateways; more only costs CPU (each reading walks the 12 h ring) for no better answer.
 */
export const MAX_READINGS = RING_BUCKETS * SENSORS.length * 2;
/** 4,320 readings of ~90 bytes of JSON each fit with room for whitespace. */
export const MAX_BODY_BYTES = 512 * 1024;
/** `{"readings": [{...}]}` is 3 levels deep; 4 allows nothing deeper than the schema needs but one. */
const MAX_DEPTH = 4;
/** Problems listed per 400: the client fixes them all the same way; listing 4,320 costs for nothing. */
const MAX_PROBLEMS = 20;
/** Event times beyond this are not readings of this century (the schema's sanity bound). */
const LATEST_EVENT_TIME = Date.UTC(2100, 0, 1);

const requestSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['arm_id', 'readings'],
  properties: {
    arm_id: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$' },
    plant_id: { type: 'string', minLength: 1, maxLength: 64 },
    readings: {
      type: 'array',
      minItems: 1,
      maxItems: MAX_READINGS,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['sensor', 'value', 'unit', 'event_time'],
        properties: {
          sensor: { enum: [...SENSORS, 'OTHER'] },
          channel: { type: 'string', maxLength: 32 },
          settings: { type: 'array', maxItems: 16, items: { type: 'number' } },
          value: { type: 'number' },
          unit: { type: 'string', maxLength: 16 },
          event_time: { type: 'integer', minimum: EARLIEST_EVENT_TIME, maximum: LATEST_EVENT_TIME },
        },
      },
    },
  },
} as const;

interface ScoreRequest {
  arm_id: string;
  /** The plant whose model scores the arm (its profile's channels and model); absent: the default plant (the simulator's). */
  plant_id?: string;
  readings: { sensor: SensorReading['sensor']; channel?: string; settings?: number[]; value: number; unit: string; event_time: number }[];
}

/** A plant the API scores: its scoring entry (plant-scoring.ts) and its loaded model. */
export interface ServedPlant {
  scoring: PlantScoring;
  predict: FailureModel['predict'];
}

export interface ScoringApiOptions {
  port: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** The API keys in force; null serves without keys, which the HTTP layer allows on loopback only. */
  keyring: ApiKeyring | null;
  /** Default: /metrics needs a key with the `metrics` scope, /healthz and /readyz are open. */
  access?: ObservabilityAccess;
  maxInFlight?: number;
  logger?: Logger;
  /** Profiled plants with a trained model, scored when a request names them (plant_id). */
  plants?: ServedPlant[];
  /** The plant profiles requests are checked against (default: connectors/plants/). */
  registry?: PlantRegistry;
}

export interface ScoringApi {
  port: number;
  registry: Registry;
  close(): Promise<void>;
}

/** One line per schema problem: where, what, and the allowed values or the unexpected name. */
function describeSchemaError(e: ErrorObject): string {
  const where = e.instancePath || '(body)';
  if (e.keyword === 'enum') return `${where} must be equal to one of the allowed values: ${(e.params as { allowedValues: string[] }).allowedValues.join(', ')}`;
  if (e.keyword === 'additionalProperties') return `${where} has an unexpected property ${JSON.stringify((e.params as { additionalProperty: string }).additionalProperty)}`;
  if (e.instancePath.endsWith('/event_time') && (e.keyword === 'minimum' || e.keyword === 'maximum')) return `${where} must be epoch milliseconds between 2000 and 2100 (${formatEventTime(EARLIEST_EVENT_TIME)} .. ${formatEventTime(LATEST_EVENT_TIME)})`;
  return `${where} ${e.message}`;
}

export async function startScoringApi(model: FailureModel, options: ScoringApiOptions): Promise<ScoringApi> {
  // allErrors off: the validator stops at the first problem. With it on, a body of 500k wrong
  // items made 500k error objects per request (~80 MB of heap, 100+ ms), kept on validate.errors.
  const validate = new Ajv({ allErrors: false }).compile<ScoreRequest>(requestSchema);
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const scored = new Counter({ name: 'streamscore_api_scores_total', help: 'Arms scored by the API', labelNames: ['alert'] as const, registers: [registry] });
  const defaultThreshold = model.meta.threshold;

  const plants = options.registry ?? defaultPlantRegistry();
  const served = new Map((options.plants ?? []).map((p) => [p.scoring.plantId, p]));

  /** The plant entry a request is scored by, or a 404/409 saying why there is none. */
  function plantOf(plantId: string | undefined): ServedPlant | null {
    if (plantId === undefined) return null;
    const plant = served.get(plantId);
    if (plant) return plant;
    if (plants.profile(plantId)) throw new HttpError(409, `plant ${plantId} has a profile but no trained model is served yet (streamscore plant train)`);
    throw new HttpError(404, `no plant profile for plant_id ${JSON.stringify(plantId)} (connectors/plants/)`);
  }

  async function score(body: ScoreRequest) {
    const plant = plantOf(body.plant_id);
    const rules = body.plant_id === undefined ? null : plants.rulesFor(body.plant_id);
    const problems: string[] = [];
    const now = Date.now();
    const given = body.readings.map((r, i): SensorReading => ({
      arm_id: body.arm_id, sensor: r.sensor, value: r.value, unit: r.unit, event_time: r.event_time, gateway_id: 'api', plant_id: body.plant_id ?? 'api', sequence: i, quality: null, channel: r.channel ?? null, settings: r.settings ?? null,
    }));
    for (let i = 0; i < given.length && problems.length < MAX_PROBLEMS; i++) {
      const reason = validateReading(given[i], now, rules);
      if (reason) problems.push(`readings[${i}]: ${reason}`);
    }
    if (problems.length) throw new HttpError(400, 'invalid readings', { details: problems });
    const s = plant?.scoring;
    const spec = s?.spec ?? SIMULATOR_SPEC;
    const windows = new MemoryRollingWindows(spec);
    // Sorted by event time: the API has the whole history at once, so nothing is late.
    const readings = given.sort((a, b) => a.event_time - b.event_time);
    const { arms } = await windows.apply(readings.map((r, i) => windowReadingOf(r, i, s?.regimes ?? null)));
    const row = new Float64Array(spec.names.length);
    writeFeatures(arms.get(body.arm_id)!, row);
    const explainer = s?.model ?? model;
    const [p] = await (plant?.predict ?? model.predict)(Float32Array.from(row), 1);
    const words = s ? { channels: s.channels, spec, regimes: s.regimes !== null } : undefined;
    const top = describedContributions(spec.names, row, explainer.explain(row), 5, words);
    const threshold = s?.rules.threshold ?? defaultThreshold;
    const horizon = s?.horizonHours ?? 24;
    const alert = p >= threshold;
    scored.inc({ alert: String(alert) });
    return {
      arm_id: body.arm_id,
      ...(body.plant_id === undefined ? {} : { plant_id: body.plant_id }),
      failure_probability: p,
      horizon_hours: horizon,
      alert,
      threshold,
      model_name: explainer.name,
      model_version: explainer.version,
      features_at: formatEventTime(readings[readings.length - 1].event_time),
      explanation: top,
      summary: summarize(body.arm_id, p, top, horizon),
    };
  }

  const api = await startHttpApi({
    name: 'scoring-api',
    port: options.port,
    host: options.host,
    keyring: options.keyring,
    maxInFlight: options.maxInFlight ?? 16,
    logger: options.logger ?? createLogger({ component: 'scoring-api' }),
    registry,
    routes: [
      {
        name: 'score',
        method: 'POST',
        path: '/v1/score',
        access: { scope: 'score' },
        json: { maxBytes: MAX_BODY_BYTES, maxDepth: MAX_DEPTH, maxArrayItems: MAX_READINGS },
        handle: async ({ body }) => {
          if (!validate(body)) throw new HttpError(400, 'body does not match the request schema', { details: (validate.errors ?? []).map(describeSchemaError) });
          return { json: await score(body) };
        },
      },
      ...observabilityRoutes({ registry, isReady: () => true, access: options.access ?? { metrics: 'key', health: 'open' }, health: () => ({ model: `${model.name} ${model.version}` }) }),
    ],
  });
  return { port: api.port, registry, close: () => api.close() };
}
