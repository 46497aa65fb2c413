// The local stack as a whole: `up` (Kafka, then the registry, then Redis, then MLflow, one at a time
// on a small box), `down` (only what `up` started, found by our pid files) and `status`. External
// services (KAFKA_BROKERS / SCHEMA_REGISTRY_URL / REDIS_URL / MLFLOW_TRACKING_URI) are probed, never
// started or stopped.
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LOOPBACK, loadStackConfig } from './config.ts';
import type { Managed, StackConfig } from './config.ts';
import { StackError } from './errors.ts';
import type { ServiceName } from './errors.ts';
import { kafkaService } from './kafka.ts';
import { mlflowService } from './mlflow.ts';
import { ensureDir, ownedPid, portFree, seconds, stderrLog, waitUntil, withFileLock } from './process.ts';
import type { Log } from './process.ts';
import { redisService } from './redis.ts';
import { registryService } from './registry.ts';
import type { Service } from './service.ts';

/** Start order; `down` stops in reverse. */
export const SERVICES: readonly Service[] = [kafkaService, registryService, redisService, mlflowService];

const UNHEALTHY_RUNNING_WAIT_MS = 90_000;
/** Long enough for a cold `up` (downloads included) on a 2-core box. */
const LOCK_WAIT_MS = 600_000;

export interface ServiceStatus {
  service: ServiceName;
  endpoint: string;
  pid: number | null;
  managed: Managed;
  healthy: boolean;
  detail: string;
}

/** `<data>/stack.json`: what `infra up` started, kept for `status` and as a record for humans. */
interface StackRecord {
  services: Partial<Record<ServiceName, { pid: number; startedAt: string; endpoint: string }>>;
}

export interface StackOptions {
  config?: StackConfig;
  log?: Log;
}

/** Client endpoints for the current config, e.g. for test and demo runners' child processes. */
export function endpointsEnv(config: StackConfig = loadStackConfig()): { KAFKA_BROKERS: string; SCHEMA_REGISTRY_URL: string; REDIS_URL: string; MLFLOW_TRACKING_URI: string } {
  return { KAFKA_BROKERS: config.kafkaBrokers, SCHEMA_REGISTRY_URL: config.schemaRegistryUrl, REDIS_URL: config.redisUrl, MLFLOW_TRACKING_URI: config.mlflowTrackingUri };
}

export async function up({ config = loadStackConfig(), log = stderrLog }: StackOptions = {}): Promise<ServiceStatus[]> {
  const started = Date.now();
  await withLock(config.dataDir, log, async () => {
    const toStart: Service[] = [];
    for (const service of SERVICES) {
      if (service.managed(config) === 'external') continue;
      const pid = ownedPid(service.identity(config));
      if (pid === null) toStart.push(service);
      else await awaitRunning(service, config, pid, readRecord(config).services[service.name]?.endpoint, log);
    }
    // Install everything first: a missing JDK or download fails before anything is started.
    for (const service of toStart) await service.ensureInstalled(config, log);
    for (const service of toStart) {
      const pid = await service.start(config, log);
      updateRecord(config, (record) => {
        record.services[service.name] = { pid, startedAt: new Date().toISOString(), endpoint: service.endpoint(config) };
      });
    }
  });

  const statuses = await status({ config });
  for (const s of statuses.filter((x) => x.managed === 'external')) {
    log(`${s.service}: external at ${s.endpoint}, ${s.healthy ? 'healthy' : 'UNHEALTHY'} (${s.detail})`);
  }
  const unhealthy = statuses.filter((s) => !s.healthy);
  if (unhealthy.length > 0) {
    throw new StackError(`stack is up but unhealthy: ${unhealthy.map((s) => `${s.service} at ${s.endpoint}: ${s.detail}`).join('; ')}`);
  }
  log(`stack up in ${seconds(started)}`);
  return statuses;
}

async function awaitRunning(service: Service, config: StackConfig, pid: number, recordedEndpoint: string | undefined, log: Log): Promise<void> {
  const endpoint = service.endpoint(config);
  if (recordedEndpoint !== undefined && recordedEndpoint !== endpoint) {
    throw new StackError(`${service.name}: pid ${pid} was started for ${recordedEndpoint}, but the config now says ${endpoint}`, {
      service: service.name,
      hint: 'run `streamscore infra down`, then `streamscore infra up`',
    });
  }
  let health = await service.health(config);
  if (!health.healthy) {
    log(`${service.name}: running (pid ${pid}) but not healthy yet (${health.detail}); waiting...`);
    await waitUntil(async () => (health = await service.health(config)).healthy, UNHEALTHY_RUNNING_WAIT_MS, 1000);
    if (!health.healthy) {
      throw new StackError(`${service.name}: pid ${pid} is running but not healthy: ${health.detail}`, {
        service: service.name,
        hint: 'run `streamscore infra down` then `streamscore infra up`',
      });
    }
  }
  log(`${service.name}: already running (pid ${pid}), ${health.detail}`);
}

/** `only`: stop just these services (a runner stops what it started and leaves what was up before it). */
export async function down({ config = loadStackConfig(), log = stderrLog, only }: StackOptions & { only?: readonly string[] } = {}): Promise<void> {
  await withLock(config.dataDir, log, async () => {
    for (const service of [...SERVICES].reverse()) {
      if (only && !only.includes(service.name)) continue;
      // Our pid file + matching command line is the proof we started it; the current mode does not
      // matter (REDIS_URL may now point at the Redis an earlier `up` started).
      const stopped = await service.stop(config, log);
      const external = service.managed(config) === 'external';
      if (stopped !== null) log(`${service.name}: stopped (pid ${stopped})${external ? ' [embedded instance from an earlier `infra up`]' : ''}`);
      else log(`${service.name}: ${external ? `external at ${service.endpoint(config)}, left alone` : 'not running'}`);
      updateRecord(config, (record) => {
        delete record.services[service.name];
      });
    }
  });
  for (const [name, port] of embeddedPorts(config)) {
    if (!(await portFree(port, LOOPBACK))) log(`warning: ${LOOPBACK}:${port} (${name}) is still in use by a process streamscore did not start`);
  }
}

export async function status({ config = loadStackConfig() }: StackOptions = {}): Promise<ServiceStatus[]> {
  const record = readRecord(config);
  return Promise.all(SERVICES.map(async (service): Promise<ServiceStatus> => {
    const managed = service.managed(config);
    const running = ownedPid(service.identity(config));
    const health = await service.health(config);
    let detail = health.detail;
    const since = record.services[service.name]?.startedAt;
    if (managed === 'embedded' && running !== null && since !== undefined) detail += `, up since ${since}`;
    if (managed === 'external' && running !== null) detail += `; an embedded ${service.name} (pid ${running}) from an earlier \`infra up\` is still running, \`infra down\` stops it`;
    return {
      service: service.name,
      endpoint: service.endpoint(config),
      pid: managed === 'embedded' ? running : null,
      managed,
      healthy: health.healthy,
      detail,
    };
  }));
}

function embeddedPorts(config: StackConfig): [string, number][] {
  const ports: [string, number][] = [];
  if (config.kafka.managed === 'embedded') ports.push(['kafka', config.kafka.port], ['kafka controller', config.kafka.controllerPort]);
  if (config.registry.managed === 'embedded') ports.push(['schema-registry', config.registry.port], ['schema-registry management', config.registry.managementPort]);
  if (config.redis.managed === 'embedded') ports.push(['redis', config.redis.port]);
  if (config.mlflow.managed === 'embedded') ports.push(['mlflow', config.mlflow.port]);
  return ports;
}

function recordPath(config: StackConfig): string {
  return join(config.dataDir, 'stack.json');
}

function readRecord(config: StackConfig): StackRecord {
  try {
    const parsed = JSON.parse(readFileSync(recordPath(config), 'utf8')) as Partial<StackRecord>;
    return { services: parsed.services ?? {} };
  } catch {
    return { services: {} };
  }
}

function updateRecord(config: StackConfig, change: (record: StackRecord) => void): void {
  const record = readRecord(config);
  change(record);
  const path = recordPath(config);
  ensureDir(config.dataDir);
  writeFileSync(`${path}.tmp`, `${JSON.stringify(record, null, 2)}\n`);
  renameSync(`${path}.tmp`, path);
}

/**
 * One `infra up`/`down` at a time per data dir: a second one waits (two test runners may both call
 * `up`), and a lock left by a dead process is taken over.
 */
function withLock<T>(dataDir: string, log: Log, fn: () => Promise<T>): Promise<T> {
  return withFileLock({ lock: join(ensureDir(dataDir), 'stack.lock'), what: '`streamscore infra` command', waitMs: LOCK_WAIT_MS, log }, fn);
}
