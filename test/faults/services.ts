// The services a fault case stops and starts. If the endpoint the tests were given (KAFKA_BROKERS,
// SCHEMA_REGISTRY_URL, REDIS_URL) is the embedded service of this checkout's stack (our pid file in
// STREAMSCORE_DATA_DIR, same endpoint), the case restarts that one: `npm test` runs files one at a
// time, so nobody else is using it, and the case leaves it running and healthy. Otherwise (an
// external service, or STREAMSCORE_FAULTS_ISOLATED=1) the case gets a throwaway service of its own
// on free ports in a temp dir, as test/integration/gateway-store-and-forward.test.ts does.
import { freePort } from '../integration/helpers.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadStackConfig, type StackConfig } from '../../infra/stack/config.ts';
import { kafkaService } from '../../infra/stack/kafka.ts';
import { ownedPid, waitUntil, withFileLock, type Log } from '../../infra/stack/process.ts';
import { redisService } from '../../infra/stack/redis.ts';
import { registryService } from '../../infra/stack/registry.ts';
import type { Service } from '../../infra/stack/service.ts';

type EndpointVar = 'KAFKA_BROKERS' | 'SCHEMA_REGISTRY_URL' | 'REDIS_URL';

const SERVICES: Record<EndpointVar, { service: Service; ports: string[]; endpoint: (c: StackConfig) => string }> = {
  KAFKA_BROKERS: { service: kafkaService, ports: ['STREAMSCORE_KAFKA_PORT', 'STREAMSCORE_KAFKA_CONTROLLER_PORT'], endpoint: (c) => c.kafkaBrokers },
  SCHEMA_REGISTRY_URL: { service: registryService, ports: ['STREAMSCORE_REGISTRY_PORT', 'STREAMSCORE_REGISTRY_MANAGEMENT_PORT'], endpoint: (c) => c.schemaRegistryUrl },
  REDIS_URL: { service: redisService, ports: ['STREAMSCORE_REDIS_PORT'], endpoint: (c) => c.redisUrl },
};

export interface ServiceUnderTest {
  /** What the clients of this case connect to. */
  endpoint: string;
  /** 'shared': the stack's embedded service, restarted in place; 'throwaway': this case's own. */
  origin: 'shared' | 'throwaway';
  /** Stops the service (SIGTERM, then SIGKILL after the service's grace period). */
  stop(): Promise<void>;
  /** Starts it again on the same endpoint and data dir; resolves when it is healthy. */
  start(): Promise<void>;
  /** Throwaway: stopped and removed. Shared: started again if a failed case left it down. */
  dispose(): Promise<void>;
}

/**
 * The service behind `variable`, restartable by this case (see the file comment); `throwaway: true`
 * always gives a case its own (cheap for Redis, and its state is then the case's alone).
 */
export async function serviceUnderTest(variable: EndpointVar, log: Log, options: { throwaway?: boolean } = {}): Promise<ServiceUnderTest> {
  const { service } = SERVICES[variable];
  const shared = options.throwaway || process.env.STREAMSCORE_FAULTS_ISOLATED === '1' ? null : sharedEmbedded(variable);
  if (shared) {
    const lock = join(shared.dataDir, 'stack.lock');
    const locked = <T>(fn: () => Promise<T>) => withFileLock({ lock, what: `fault case restarting ${service.name}`, waitMs: 120_000, log }, fn);
    const start = () => locked(async () => {
      if (ownedPid(service.identity(shared)) === null) await service.start(shared, log);
    });
    return {
      endpoint: process.env[variable]!,
      origin: 'shared',
      stop: () => locked(async () => void (await service.stop(shared, log))),
      start,
      dispose: start,
    };
  }
  const dir = mkdtempSync(join(tmpdir(), `ss-faults-${service.name}-`));
  const env: Record<string, string | undefined> = { ...process.env, [variable]: undefined, STREAMSCORE_DATA_DIR: dir };
  for (const port of SERVICES[variable].ports) env[port] = String(await freePort());
  const config = loadStackConfig(env);
  await service.ensureInstalled(config, log);
  await service.start(config, log);
  return {
    endpoint: SERVICES[variable].endpoint(config),
    origin: 'throwaway',
    stop: async () => void (await service.stop(config, log)),
    start: async () => void (await service.start(config, log)),
    dispose: async () => {
      await service.stop(config, log).catch(() => null);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The stack config whose embedded service is the one at process.env[variable], if it is ours and running. */
function sharedEmbedded(variable: EndpointVar): StackConfig | null {
  const given = process.env[variable];
  if (!given) return null;
  const config = loadStackConfig({ ...process.env, [variable]: undefined });
  const { service, endpoint } = SERVICES[variable];
  const same = endpoint(config).replace(/\/+$/, '') === given.replace(/\/+$/, '');
  return same && ownedPid(service.identity(config)) !== null ? config : null;
}

/** Lines the stack helpers print, kept for a failure message instead of cluttering the test output. */
export function serviceLog(): { log: Log; lines: string[] } {
  const lines: string[] = [];
  return { log: (line) => lines.push(`${new Date().toISOString()} ${line}`), lines };
}

/** Waits until `check` holds, or fails naming `what`. */
export async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs: number, intervalMs = 250): Promise<void> {
  if (!(await waitUntil(check, timeoutMs, intervalMs))) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
}
