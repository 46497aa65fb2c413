// `streamscore scoring-api`: the FactoryGuard real-time scoring API (docs/factoryguard.md).
import { loadDeclaredModel, loadFailureModel } from '../streams/maintenance/model.ts';
import { plantScoringPlan } from '../streams/maintenance/plant-scoring.ts';
import { defaultPlantRegistry } from '../schemas/factory/plant-registry.ts';
import { startScoringApi } from '../streams/maintenance/scoring-api.ts';
import { defaultKeyFilePath } from '../streams/runtime/http/api-keys.ts';
import { ApiConfigError, ApiKeyFileError } from '../streams/runtime/http/errors.ts';
import { ApiKeyring } from '../streams/runtime/http/keyring.ts';
import { protectionFromEnv, type Protection } from '../streams/runtime/http/observability.ts';
import { isLoopback } from '../streams/runtime/http/server.ts';
import { createLogger } from '../streams/runtime/logger.ts';

const USAGE = `usage: streamscore scoring-api [--port 8095] [--host 127.0.0.1] [--keys FILE] [--no-auth]
                                [--metrics key|open] [--health open|key] [--max-in-flight 16]
  POST /v1/score needs an API key with the "score" scope (Authorization: Bearer <key>);
  create one with: npx streamscore api-keys create --name NAME --scopes score
  --keys FILE       API keys file (STREAMSCORE_API_KEYS_FILE; default <data dir>/api-keys.json)
  --no-auth         serve without keys: only on a loopback host (the demo and benchmarks)
  --metrics, --health  who may read /metrics and /healthz,/readyz: "key" (a key with the metrics /
                    health scope) or "open" (SCORING_API_METRICS_AUTH: key, SCORING_API_HEALTH_AUTH: open)
  env: SCORING_API_PORT, SCORING_API_HOST
`;

export async function run(args: string[]): Promise<number> {
  const flag = (name: string) => {
    const at = args.indexOf(`--${name}`);
    return at >= 0 ? args[at + 1] : undefined;
  };
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(USAGE);
    return 0;
  }
  const port = Number(flag('port') ?? process.env.SCORING_API_PORT ?? 8095);
  const host = flag('host') ?? process.env.SCORING_API_HOST ?? '127.0.0.1';
  const maxInFlight = Number(flag('max-in-flight') ?? 16);
  const noAuth = args.includes('--no-auth');
  const logger = createLogger({ component: 'scoring-api' });
  try {
    const access = { metrics: protection(flag('metrics'), 'SCORING_API_METRICS_AUTH', 'key'), health: protection(flag('health'), 'SCORING_API_HEALTH_AUTH', 'open') };
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ApiConfigError(`--port ${JSON.stringify(flag('port') ?? process.env.SCORING_API_PORT)} is not a port number`);
    if (!Number.isInteger(maxInFlight) || maxInFlight < 1) throw new ApiConfigError(`--max-in-flight ${JSON.stringify(flag('max-in-flight'))} is not a whole number >= 1`);
    if (noAuth && !isLoopback(host)) throw new ApiConfigError(`--no-auth is refused on ${host}`, 'without keys the API may only listen on a loopback host (127.0.0.1, ::1); drop --no-auth and create a key with `npx streamscore api-keys create`');
    const keyring = noAuth ? null : new ApiKeyring(flag('keys') ?? defaultKeyFilePath(), { logger });
    const model = await loadFailureModel();
    // Every profiled plant with a trained model is scored too, when a request names it (plant_id).
    const plan = plantScoringPlan(defaultPlantRegistry(), model);
    const plants = await Promise.all(plan.scorings.filter((s) => !s.isDefault).map(async (scoring) => ({ scoring, predict: (await loadDeclaredModel(scoring.model)).predict })));
    const api = await startScoringApi(model, { port, host, keyring, access, maxInFlight, logger, plants });
    const auth = keyring ? `keys from ${keyring.path} (${keyring.describe().length} in force)` : 'NO AUTH (loopback only)';
    process.stderr.write(`scoring API (${model.name} ${model.version}${plants.length ? `; plants ${plants.map((p) => p.scoring.plantId).join(', ')}` : ''}) on http://${host}:${api.port}: POST /v1/score, GET /metrics (${access.metrics}), GET /healthz /readyz (${access.health}); ${auth}\n`);
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    await api.close();
    return 0;
  } catch (err) {
    if (!(err instanceof ApiConfigError || err instanceof ApiKeyFileError)) throw err;
    process.stderr.write(`streamscore scoring-api: ${err.message}\n${err.hint ? `  hint: ${err.hint}\n` : ''}`);
    return 1;
  }
}

function protection(value: string | undefined, envName: string, fallback: Protection): Protection {
  if (value === undefined) return protectionFromEnv(process.env, envName, fallback);
  if (value !== 'open' && value !== 'key') throw new ApiConfigError(`--${envName.includes('METRICS') ? 'metrics' : 'health'} ${JSON.stringify(value)} must be "open" or "key"`);
  return value;
}
