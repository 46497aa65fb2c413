// /metrics (Prometheus text), /healthz (the process is alive) and /readyz (the processor is in its
// consumer group and can make progress) on one small HTTP server per processor, built on the HTTP
// layer (streams/runtime/http/). Open by default, bound to 127.0.0.1 (METRICS_HOST widens it);
// STREAMSCORE_METRICS_AUTH=key and/or STREAMSCORE_HEALTH_AUTH=key require an API key with the
// `metrics` / `health` scope from the keys file (STREAMSCORE_API_KEYS_FILE, docs/security.md).
import type { Registry } from 'prom-client';
import { defaultKeyFilePath } from './http/api-keys.ts';
import { ApiKeyring } from './http/keyring.ts';
import { observabilityRoutes, protectionFromEnv, type ObservabilityAccess } from './http/observability.ts';
import { startHttpApi } from './http/server.ts';
import { createLogger, type Logger } from './logger.ts';

export interface HealthServer {
  port: number;
  close(): Promise<void>;
}

export interface HealthServerOptions {
  port: number;
  host?: string;
  registry: Registry;
  isReady: () => boolean;
  /** Default: from STREAMSCORE_METRICS_AUTH / STREAMSCORE_HEALTH_AUTH, both `open` when unset. */
  access?: ObservabilityAccess;
  /** Default: STREAMSCORE_API_KEYS_FILE or <data dir>/api-keys.json; read only when a route needs a key. */
  keysFile?: string;
  logger?: Logger;
  env?: NodeJS.ProcessEnv;
}

export async function startHealthServer(options: HealthServerOptions): Promise<HealthServer> {
  const env = options.env ?? process.env;
  const access = options.access ?? { metrics: protectionFromEnv(env, 'STREAMSCORE_METRICS_AUTH', 'open'), health: protectionFromEnv(env, 'STREAMSCORE_HEALTH_AUTH', 'open') };
  const logger = options.logger ?? createLogger({ component: 'health-server' });
  const needsKeys = access.metrics === 'key' || access.health === 'key';
  const keyring = needsKeys ? new ApiKeyring(options.keysFile ?? defaultKeyFilePath(env), { logger }) : null;
  const api = await startHttpApi({
    name: 'health-server',
    port: options.port,
    host: options.host ?? '127.0.0.1',
    routes: observabilityRoutes({ registry: options.registry, isReady: options.isReady, access }),
    keyring,
    maxInFlight: 8,
    logger,
  });
  return { port: api.port, close: () => api.close() };
}
