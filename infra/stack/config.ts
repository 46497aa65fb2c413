// Typed configuration of the local stack (Kafka, schema registry, Redis, MLflow), read from the
// environment once and validated up front. Each service is either `embedded` (started by `streamscore
// infra up` on 127.0.0.1) or `external` (KAFKA_BROKERS / SCHEMA_REGISTRY_URL / REDIS_URL /
// MLFLOW_TRACKING_URI set: never started, only probed).
import { isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from './errors.ts';
import { embeddedRedisUrl, kafkaSecureListenerFromEnv, redisSecurityFromEnv, type KafkaSecureListener, type RedisSecurity } from './secure-services.ts';
import { formatHostPort, parseBrokers, type HostPort } from '../../streams/runtime/broker-address.ts';

export type Managed = 'embedded' | 'external';

// Broker addresses are parsed by the runtime (which must not import the dev stack); re-exported here.
export { formatHostPort, parseBrokers, type HostPort } from '../../streams/runtime/broker-address.ts';

export type KafkaConfig =
  | { managed: 'embedded'; port: number; controllerPort: number; secureListener?: KafkaSecureListener }
  | { managed: 'external'; brokers: HostPort[] };

export type RegistryConfig =
  | { managed: 'embedded'; port: number; managementPort: number }
  | { managed: 'external'; url: string };

export type RedisConfig =
  | { managed: 'embedded'; port: number; security?: RedisSecurity }
  | { managed: 'external'; url: string };

export type MlflowConfig =
  | { managed: 'embedded'; port: number }
  | { managed: 'external'; url: string };

export interface StackConfig {
  repoRoot: string;
  /** Runtime state: Kafka logs, registry H2 files, Redis, the MLflow database and artifacts, pid files, stack.json. */
  dataDir: string;
  /** Downloaded artifacts: Kafka jars, Apicurio distribution. */
  cacheDir: string;
  kafka: KafkaConfig;
  registry: RegistryConfig;
  redis: RedisConfig;
  mlflow: MlflowConfig;
  /** JDK home of the JVM that runs Kafka (Java >= 17); undefined: `java` on PATH. */
  javaHome: string | undefined;
  /** Java (a JDK home or a java binary) for the registry, which needs Java >= 21. */
  registryJava: string | undefined;
  /** Endpoints clients use, whichever way each service is managed. */
  kafkaBrokers: string;
  schemaRegistryUrl: string;
  redisUrl: string;
  mlflowTrackingUri: string;
}

export const DEFAULT_PORTS = {
  STREAMSCORE_KAFKA_PORT: 9092,
  STREAMSCORE_KAFKA_CONTROLLER_PORT: 9093,
  STREAMSCORE_REGISTRY_PORT: 8085,
  STREAMSCORE_REGISTRY_MANAGEMENT_PORT: 8086,
  STREAMSCORE_REDIS_PORT: 6390,
  // 8090/8091 are Spark's, 8095-8097 the scoring APIs'.
  STREAMSCORE_MLFLOW_PORT: 8098,
} as const;

type PortVar = keyof typeof DEFAULT_PORTS;

/** Every embedded service listens here; never `localhost` (Node may resolve it to ::1 first). */
export const LOOPBACK = '127.0.0.1';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url)).replace(/\/$/, '');

type Env = Record<string, string | undefined>;

/** Reads and validates the stack configuration; throws ConfigError listing every problem. */
export function loadStackConfig(env: Env = process.env, repoRoot: string = REPO_ROOT): StackConfig {
  const problems: string[] = [];
  const value = (name: string): string | undefined => {
    const v = env[name]?.trim();
    return v === undefined || v === '' ? undefined : v;
  };
  const port = (name: PortVar): number => {
    const raw = value(name);
    if (raw === undefined) return DEFAULT_PORTS[name];
    const n = /^\d+$/.test(raw) ? Number(raw) : NaN;
    if (!(n >= 1 && n <= 65535)) {
      problems.push(`${name}=${JSON.stringify(raw)} is not a TCP port (an integer 1-65535)`);
      return DEFAULT_PORTS[name];
    }
    return n;
  };

  const dataDir = resolve(repoRoot, value('STREAMSCORE_DATA_DIR') ?? '.data');
  const cacheDir = join(repoRoot, '.cache');

  const brokersRaw = value('KAFKA_BROKERS');
  let kafka: KafkaConfig;
  if (brokersRaw !== undefined) {
    const brokers = parseBrokers(brokersRaw, problems);
    kafka = { managed: 'external', brokers };
  } else {
    kafka = { managed: 'embedded', port: port('STREAMSCORE_KAFKA_PORT'), controllerPort: port('STREAMSCORE_KAFKA_CONTROLLER_PORT') };
    const secureListener = kafkaSecureListenerFromEnv(value, problems); // optional SASL_SSL listener (secure-services.ts)
    if (secureListener) kafka.secureListener = secureListener;
  }

  const registryRaw = value('SCHEMA_REGISTRY_URL');
  const registry: RegistryConfig = registryRaw !== undefined
    ? { managed: 'external', url: parseUrl('SCHEMA_REGISTRY_URL', registryRaw, ['http:', 'https:'], problems) }
    : { managed: 'embedded', port: port('STREAMSCORE_REGISTRY_PORT'), managementPort: port('STREAMSCORE_REGISTRY_MANAGEMENT_PORT') };

  const redisRaw = value('REDIS_URL');
  const redisSecurity = redisRaw === undefined ? redisSecurityFromEnv(value, problems) : undefined; // optional password / TLS (secure-services.ts)
  const redis: RedisConfig = redisRaw !== undefined
    ? { managed: 'external', url: parseUrl('REDIS_URL', redisRaw, ['redis:', 'rediss:'], problems) }
    : { managed: 'embedded', port: port('STREAMSCORE_REDIS_PORT'), ...(redisSecurity ? { security: redisSecurity } : {}) };

  const mlflowRaw = value('MLFLOW_TRACKING_URI');
  const mlflow: MlflowConfig = mlflowRaw !== undefined
    ? { managed: 'external', url: parseUrl('MLFLOW_TRACKING_URI', mlflowRaw, ['http:', 'https:'], problems) }
    : { managed: 'embedded', port: port('STREAMSCORE_MLFLOW_PORT') };

  checkDistinctPorts(kafka, registry, redis, mlflow, problems);

  const javaHome = value('JAVA_HOME');
  const registryJava = value('STREAMSCORE_REGISTRY_JAVA');
  for (const [name, v] of [['JAVA_HOME', javaHome], ['STREAMSCORE_REGISTRY_JAVA', registryJava]] as const) {
    if (v !== undefined && !isAbsolute(v)) problems.push(`${name}=${JSON.stringify(v)} must be an absolute path`);
  }

  if (problems.length > 0) throw new ConfigError(problems);

  return {
    repoRoot,
    dataDir,
    cacheDir,
    kafka,
    registry,
    redis,
    mlflow,
    javaHome,
    registryJava,
    kafkaBrokers: kafka.managed === 'external'
      ? kafka.brokers.map(formatHostPort).join(',')
      : `${LOOPBACK}:${kafka.port}`,
    schemaRegistryUrl: registry.managed === 'external'
      ? registry.url
      : `http://${LOOPBACK}:${registry.port}/apis/ccompat/v7`,
    redisUrl: redis.managed === 'external' ? redis.url : embeddedRedisUrl(LOOPBACK, redis.port, redis.security),
    mlflowTrackingUri: mlflow.managed === 'external' ? mlflow.url : `http://${LOOPBACK}:${mlflow.port}`,
  };
}

function parseUrl(name: string, raw: string, protocols: string[], problems: string[]): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    problems.push(`${name}=${JSON.stringify(raw)} is not a URL`);
    return raw;
  }
  if (!protocols.includes(url.protocol) || url.hostname === '') {
    problems.push(`${name}=${JSON.stringify(raw)} must be a ${protocols.map((p) => `${p}//host:port`).join(' or ')} URL`);
  }
  return raw.replace(/\/+$/, '');
}

function checkDistinctPorts(kafka: KafkaConfig, registry: RegistryConfig, redis: RedisConfig, mlflow: MlflowConfig, problems: string[]): void {
  const used: [string, number][] = [];
  if (kafka.managed === 'embedded') {
    used.push(['STREAMSCORE_KAFKA_PORT', kafka.port], ['STREAMSCORE_KAFKA_CONTROLLER_PORT', kafka.controllerPort]);
    if (kafka.secureListener) used.push(['STREAMSCORE_KAFKA_SASL_SSL_PORT', kafka.secureListener.port]);
  }
  if (registry.managed === 'embedded') {
    used.push(['STREAMSCORE_REGISTRY_PORT', registry.port], ['STREAMSCORE_REGISTRY_MANAGEMENT_PORT', registry.managementPort]);
  }
  if (redis.managed === 'embedded') used.push(['STREAMSCORE_REDIS_PORT', redis.port]);
  if (mlflow.managed === 'embedded') used.push(['STREAMSCORE_MLFLOW_PORT', mlflow.port]);
  for (let i = 0; i < used.length; i++) {
    for (let j = i + 1; j < used.length; j++) {
      if (used[i][1] === used[j][1]) problems.push(`${used[i][0]} and ${used[j][0]} are both ${used[i][1]}; each service needs its own port`);
    }
  }
}

/** The URL with its password replaced by ***, for display. */
export function redactUrl(raw: string): string {
  try {
    const url = new URL(raw);
    if (url.password === '') return raw;
    url.password = '***';
    return url.toString().replace(/\/$/, '');
  } catch {
    return raw;
  }
}
