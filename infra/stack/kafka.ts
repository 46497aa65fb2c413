// Embedded Apache Kafka: a single KRaft node (broker + controller) run straight from the Maven
// Central jars (`infra/maven/kafka-pom.xml`), no distribution tarball, no Docker. PLAINTEXT on
// STREAMSCORE_KAFKA_PORT; optionally an extra SASL_SSL listener (secure-services.ts).
import { existsSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import type { ConnectionOptions } from 'node:tls';
import { LOOPBACK, formatHostPort } from './config.ts';
import type { StackConfig } from './config.ts';
import { StackError } from './errors.ts';
import { kafkaJava } from './java.ts';
import { CLUSTER_ID, kafkaServerProperties, renderProperties } from './kafka-properties.ts';
import { requestApiVersions } from '../../streams/runtime/kafka-protocol.ts';
import {
  assertPortsFree, awaitDaemon, ensureDir, fileContains, ownedPid, runTool, seconds, spawnDetached, startFailureMessage, stopOwned, writePidFile,
} from './process.ts';
import type { Log, ProcessIdentity } from './process.ts';
import { errorMessage } from './service.ts';
import type { Health, Service } from './service.ts';
import { redactSecrets, scramFormatArgs, secureListenerProperties, writePemKeystore, writePrivateFile } from './secure-services.ts';
import { kafkaConnectionHint, kafkaSecurityFromEnv, type KafkaSecurity } from '../../streams/runtime/connection-security.ts';

const READY_TIMEOUT_MS = 90_000;
const STOP_GRACE_MS = 30_000;
const STARTED_MESSAGE = 'Kafka Server started';

/** `<artifactId>kafka_2.13</artifactId>` and `<kafka.version>` of the pinned pom. */
export function pinnedKafka(pomXml: string): { artifactId: string; version: string } {
  const artifactId = /<artifactId>(kafka_[0-9.]+)<\/artifactId>/.exec(pomXml)?.[1];
  const version = /<kafka\.version>\s*([^<\s]+)\s*<\/kafka\.version>/.exec(pomXml)?.[1];
  if (!artifactId || !version) throw new StackError('infra/maven/kafka-pom.xml: cannot find the kafka_2.x artifact and <kafka.version>', { service: 'kafka' });
  return { artifactId, version };
}

function paths(config: StackConfig) {
  const dir = join(config.dataDir, 'kafka');
  return {
    pom: join(config.repoRoot, 'infra', 'maven', 'kafka-pom.xml'),
    log4j: join(config.repoRoot, 'infra', 'kafka', 'log4j2.properties'),
    lib: join(config.cacheDir, 'kafka-lib'),
    dir,
    properties: join(dir, 'server.properties'),
    keystore: join(dir, 'sasl-ssl-keystore.pem'),
    logDirs: join(dir, 'logs'),
    appLogs: join(dir, 'applogs'),
    tmp: join(dir, 'tmp'),
    pidFile: join(dir, 'kafka.pid'),
    out: join(dir, 'kafka.out'),
  };
}

function embedded(config: StackConfig) {
  if (config.kafka.managed !== 'embedded') throw new StackError('kafka is external (KAFKA_BROKERS is set); nothing to manage', { service: 'kafka' });
  return config.kafka;
}

function identity(config: StackConfig): ProcessIdentity {
  const p = paths(config);
  return { pidFile: p.pidFile, cmdlineNeedles: ['kafka.Kafka', p.properties] };
}

async function ensureInstalled(config: StackConfig, log: Log): Promise<void> {
  kafkaJava(config.javaHome);
  const p = paths(config);
  const { artifactId, version } = pinnedKafka(readFileSync(p.pom, 'utf8'));
  if (existsSync(join(p.lib, `${artifactId}-${version}.jar`))) return;
  const started = Date.now();
  log(`fetching Kafka ${version} jars from Maven Central (once)...`);
  // Into a fresh folder, then swapped in whole: jars of an older version must not stay on the classpath.
  const staging = `${p.lib}.partial`;
  rmSync(staging, { recursive: true, force: true });
  await runTool('mvn', ['-B', '-q', '-f', p.pom, 'dependency:copy-dependencies', '-DincludeScope=runtime', `-DoutputDirectory=${staging}`], {
    missingHint: 'Maven fetches the Kafka jars: apt-get install -y maven',
  });
  if (!existsSync(join(staging, `${artifactId}-${version}.jar`))) throw new StackError(`mvn finished but ${artifactId}-${version}.jar is missing in ${staging}`, { service: 'kafka' });
  rmSync(p.lib, { recursive: true, force: true });
  renameSync(staging, p.lib);
  log(`kafka: jars in ${p.lib} (${seconds(started)})`);
}

function jvmArgs(config: StackConfig, heap: string[]): string[] {
  const p = paths(config);
  return [
    ...heap,
    '-Djava.awt.headless=true',
    `-Dkafka.logs.dir=${p.appLogs}`,
    `-Dlog4j2.configurationFile=${p.log4j}`,
    `-DZstdTempFolder=${p.tmp}`,
    `-Dorg.xerial.snappy.tempdir=${p.tmp}`,
    '-cp', `${p.lib}/*`,
  ];
}

async function start(config: StackConfig, log: Log): Promise<number> {
  const { port, controllerPort, secureListener } = embedded(config);
  const p = paths(config);
  const java = kafkaJava(config.javaHome);
  await assertPortsFree('kafka', LOOPBACK, [
    ['STREAMSCORE_KAFKA_PORT', port], ['STREAMSCORE_KAFKA_CONTROLLER_PORT', controllerPort],
    ...(secureListener ? [['STREAMSCORE_KAFKA_SASL_SSL_PORT', secureListener.port] as [string, number]] : []),
  ]);
  for (const dir of [p.dir, p.logDirs, p.appLogs, p.tmp]) ensureDir(dir);
  let props: Record<string, string | number | boolean> = kafkaServerProperties({ host: LOOPBACK, port, controllerPort, logDirs: p.logDirs });
  if (secureListener) {
    writePemKeystore(secureListener, p.keystore);
    props = { ...props, ...secureListenerProperties(props, LOOPBACK, secureListener, p.keystore) };
  }
  // Private: with a SASL_SSL listener it holds the PLAIN users' passwords.
  writePrivateFile(p.properties, renderProperties(props, 'Written by `streamscore infra up` (infra/stack/kafka.ts) on every start; edits are lost.'));
  const secrets = secureListener?.users.map((u) => u.password) ?? [];
  const scramArgs = scramFormatArgs(secureListener?.users ?? []);

  if (!existsSync(join(p.logDirs, 'meta.properties'))) {
    const formatStarted = Date.now();
    log(`kafka: formatting storage in ${p.logDirs} (once)${scramArgs.length ? ` with ${scramArgs.length / 2} SCRAM user(s)` : ''}...`);
    await runTool(java.bin, [
      ...jvmArgs(config, ['-Xmx256m']),
      'kafka.tools.StorageTool', 'format', '-t', CLUSTER_ID, '-c', p.properties, '--ignore-formatted', ...scramArgs,
    ]).catch((err: Error) => {
      throw new StackError(redactSecrets(err.message, secrets), { service: 'kafka' });
    });
    log(`kafka: storage formatted (${seconds(formatStarted)})`);
  } else if (scramArgs.length) {
    log(`kafka: storage in ${p.logDirs} was formatted before; SCRAM users are only written at format time: add new ones with kafka-configs (docs/security.md) or use a fresh STREAMSCORE_DATA_DIR`);
  }

  const started = Date.now();
  log(`kafka: starting on ${LOOPBACK}:${port}${secureListener ? ` (+ SASL_SSL on ${LOOPBACK}:${secureListener.port})` : ''} (java ${java.major ?? '?'})...`);
  const pid = spawnDetached(java.bin, [
    ...jvmArgs(config, [
      '-Xms512m', '-Xmx1g', '-XX:+UseG1GC', '-XX:MaxGCPauseMillis=20', '-XX:InitiatingHeapOccupancyPercent=35',
      '-XX:+ExplicitGCInvokesConcurrent', '-XX:ActiveProcessorCount=2',
    ]),
    'kafka.Kafka', p.properties,
  ], { logFile: p.out, cwd: p.dir });
  writePidFile(p.pidFile, pid);

  const outcome = await awaitDaemon(pid, identity(config), async () => fileContains(p.out, STARTED_MESSAGE) && (await probe(LOOPBACK, port)).healthy, READY_TIMEOUT_MS);
  if (outcome !== 'ready') {
    await stopOwned(identity(config), 5_000); // also drops the pid file of a process that exited
    throw new StackError(await startFailureMessage('kafka', pid, outcome === 'exited', READY_TIMEOUT_MS, p.out), { service: 'kafka' });
  }
  log(`kafka ready in ${seconds(started)} (pid ${pid})`);
  return pid;
}

async function stop(config: StackConfig): Promise<number | null> {
  const stopped = await stopOwned(identity(config), STOP_GRACE_MS);
  return stopped?.pid ?? null;
}

/** ApiVersions, over TLS when `tls` is given (an external SSL / SASL_SSL cluster). */
async function probe(host: string, port: number, tls?: ConnectionOptions): Promise<Health> {
  try {
    const response = await requestApiVersions(host, port, undefined, tls && { ...(isIP(host) ? {} : { servername: host }), ...tls });
    return response.errorCode === 0
      ? { healthy: true, detail: `ApiVersions ok (${response.apis.length} APIs)` }
      : { healthy: false, detail: `ApiVersions error code ${response.errorCode}` };
  } catch (err) {
    return { healthy: false, detail: errorMessage(err) };
  }
}

async function health(config: StackConfig): Promise<Health> {
  if (config.kafka.managed === 'external') {
    const failures: string[] = [];
    let security: KafkaSecurity;
    try {
      security = kafkaSecurityFromEnv();
    } catch (err) {
      return { healthy: false, detail: errorMessage(err) };
    }
    for (const broker of config.kafka.brokers) {
      const h = await probe(broker.host, broker.port, security.ssl);
      const hint = h.healthy ? undefined : kafkaConnectionHint(security.protocol, { message: h.detail }, h.detail.includes('with a TLS alert'));
      if (hint) h.detail += `; ${hint}`;
      if (h.healthy) return { healthy: true, detail: `${formatHostPort(broker)}: ${h.detail}` };
      failures.push(`${formatHostPort(broker)}: ${h.detail}`);
    }
    return { healthy: false, detail: failures.join('; ') };
  }
  if (ownedPid(identity(config)) === null) return { healthy: false, detail: 'not running' };
  return probe(LOOPBACK, config.kafka.port);
}

export const kafkaService: Service = {
  name: 'kafka',
  managed: (config) => config.kafka.managed,
  endpoint: (config) => config.kafkaBrokers,
  identity,
  ensureInstalled,
  start,
  stop,
  health,
};
