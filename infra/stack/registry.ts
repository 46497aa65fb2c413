// Embedded schema registry: Apicurio Registry (Quarkus) from Maven Central, serving the
// Confluent-compatible API at /apis/ccompat/v7. File-backed H2 keeps schema ids across restarts,
// as Kafka's data (which embeds those ids) persists too. Needs Java >= 21.
import { existsSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { LOOPBACK, redactUrl } from './config.ts';
import type { StackConfig } from './config.ts';
import { StackError } from './errors.ts';
import { registryJava } from './java.ts';
import {
  assertPortsFree, awaitDaemon, ensureDir, ownedPid, runTool, seconds, spawnDetached, startFailureMessage, stopOwned, writePidFile,
} from './process.ts';
import type { Log, ProcessIdentity } from './process.ts';
import { errorMessage } from './service.ts';
import type { Health, Service } from './service.ts';
import { registryAuthHeaders } from '../../streams/runtime/connection-security.ts';

export const APICURIO_VERSION = '3.3.3';
const ARTIFACT = `io.apicurio:apicurio-registry-app:${APICURIO_VERSION}:tar.gz:all`;
const READY_TIMEOUT_MS = 90_000;
const STOP_GRACE_MS = 20_000;
const PROBE_TIMEOUT_MS = 3_000;

function paths(config: StackConfig) {
  const cache = join(config.cacheDir, 'apicurio');
  const dir = join(config.dataDir, 'registry');
  return {
    cache,
    tarball: join(cache, `apicurio-registry-app-${APICURIO_VERSION}-all.tar.gz`),
    app: join(cache, 'app'),
    runJar: join(cache, 'app', 'quarkus-run.jar'),
    versionJar: join(cache, 'app', 'app', `apicurio-registry-app-${APICURIO_VERSION}.jar`),
    dir,
    h2: join(dir, 'h2', 'registry'),
    tmp: join(dir, 'tmp'),
    pidFile: join(dir, 'registry.pid'),
    out: join(dir, 'registry.log'),
  };
}

function embedded(config: StackConfig) {
  if (config.registry.managed !== 'embedded') throw new StackError('schema registry is external (SCHEMA_REGISTRY_URL is set); nothing to manage', { service: 'schema-registry' });
  return config.registry;
}

function identity(config: StackConfig): ProcessIdentity {
  const p = paths(config);
  return { pidFile: p.pidFile, cmdlineNeedles: ['quarkus-run.jar', p.h2] };
}

async function ensureInstalled(config: StackConfig, log: Log): Promise<void> {
  registryJava(config.registryJava, config.javaHome);
  const p = paths(config);
  if (existsSync(p.runJar) && existsSync(p.versionJar)) return;
  const started = Date.now();
  ensureDir(p.cache);
  const downloaded = !existsSync(p.tarball);
  if (downloaded) {
    log(`fetching Apicurio Registry ${APICURIO_VERSION} from Maven Central (once, ~160 MB)...`);
    await runTool('mvn', ['-B', '-q', 'dependency:copy', `-Dartifact=${ARTIFACT}`, `-DoutputDirectory=${p.cache}`], {
      cwd: p.cache,
      missingHint: 'Maven fetches the registry: apt-get install -y maven',
    });
  }
  const staging = `${p.app}.partial`;
  rmSync(staging, { recursive: true, force: true });
  ensureDir(staging);
  await runTool('tar', ['-xzf', p.tarball, '-C', staging]);
  if (!existsSync(join(staging, 'quarkus-run.jar'))) throw new StackError(`${p.tarball} has no quarkus-run.jar`, { service: 'schema-registry' });
  rmSync(p.app, { recursive: true, force: true });
  renameSync(staging, p.app);
  if (downloaded) rmSync(p.tarball, { force: true }); // Maven keeps its own copy in ~/.m2
  log(`schema-registry: Apicurio ${APICURIO_VERSION} in ${p.app} (${seconds(started)})`);
}

async function start(config: StackConfig, log: Log): Promise<number> {
  const { port, managementPort } = embedded(config);
  const p = paths(config);
  const java = registryJava(config.registryJava, config.javaHome);
  for (const dir of [p.dir, join(p.dir, 'h2'), p.tmp]) ensureDir(dir);
  await assertPortsFree('schema-registry', LOOPBACK, [['STREAMSCORE_REGISTRY_PORT', port], ['STREAMSCORE_REGISTRY_MANAGEMENT_PORT', managementPort]]);

  const started = Date.now();
  log(`schema-registry: starting Apicurio on ${LOOPBACK}:${port} (java ${java.major ?? '?'})...`);
  const pid = spawnDetached(java.bin, [
    '-Xmx384m',
    `-Djava.io.tmpdir=${p.tmp}`,
    `-Dquarkus.http.host=${LOOPBACK}`,
    `-Dquarkus.http.port=${port}`,
    // The management interface (health) binds *:9000 unless told otherwise.
    `-Dquarkus.management.host=${LOOPBACK}`,
    `-Dquarkus.management.port=${managementPort}`,
    `-Dapicurio.datasource.url=jdbc:h2:file:${p.h2}`,
    '-jar', p.runJar,
  ], { logFile: p.out, cwd: p.dir });
  writePidFile(p.pidFile, pid);

  const outcome = await awaitDaemon(pid, identity(config), async () => (await health(config)).healthy, READY_TIMEOUT_MS);
  if (outcome !== 'ready') {
    await stopOwned(identity(config), 5_000); // also drops the pid file of a process that exited
    throw new StackError(await startFailureMessage('schema registry', pid, outcome === 'exited', READY_TIMEOUT_MS, p.out), { service: 'schema-registry' });
  }
  log(`schema-registry ready in ${seconds(started)} (pid ${pid})`);
  return pid;
}

async function stop(config: StackConfig): Promise<number | null> {
  return (await stopOwned(identity(config), STOP_GRACE_MS))?.pid ?? null;
}

/**
 * GET with a timeout and the registry credentials clients use (SCHEMA_REGISTRY_TOKEN or _USER/_PASSWORD);
 * credentials in the URL become a Basic Authorization header (fetch refuses them inline).
 */
async function get(rawUrl: string): Promise<{ status: number; body: string }> {
  const url = new URL(rawUrl);
  const headers: Record<string, string> = { accept: 'application/json', ...registryAuthHeaders() };
  if (url.username !== '' || url.password !== '') {
    headers.authorization = `Basic ${Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString('base64')}`;
    url.username = '';
    url.password = '';
  }
  const response = await fetch(url, { headers, signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) });
  return { status: response.status, body: await response.text() };
}

async function subjects(baseUrl: string): Promise<Health> {
  const { status, body } = await get(`${baseUrl}/subjects`);
  if (status !== 200) return { healthy: false, detail: `GET /subjects: HTTP ${status}` };
  const list: unknown = JSON.parse(body);
  return Array.isArray(list)
    ? { healthy: true, detail: `${list.length} subject${list.length === 1 ? '' : 's'}` }
    : { healthy: false, detail: 'GET /subjects did not return a JSON array' };
}

async function health(config: StackConfig): Promise<Health> {
  try {
    if (config.registry.managed === 'external') return await subjects(config.schemaRegistryUrl);
    if (ownedPid(identity(config)) === null) return { healthy: false, detail: 'not running' };
    const ready = await get(`http://${LOOPBACK}:${config.registry.managementPort}/health/ready`);
    if (ready.status !== 200 || !/"status"\s*:\s*"UP"/.test(ready.body)) return { healthy: false, detail: `not ready (HTTP ${ready.status})` };
    const s = await subjects(config.schemaRegistryUrl);
    return s.healthy ? { healthy: true, detail: `ready, ${s.detail}` } : s;
  } catch (err) {
    return { healthy: false, detail: errorMessage(err) };
  }
}

export const registryService: Service = {
  name: 'schema-registry',
  managed: (config) => config.registry.managed,
  endpoint: (config) => redactUrl(config.schemaRegistryUrl),
  identity,
  ensureInstalled,
  start,
  stop,
  health,
};
