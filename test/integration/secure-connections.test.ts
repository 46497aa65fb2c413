// Acceptance (issue #8, connections a real deployment needs): every client is configured by the
// documented env vars only (docs/security.md) and works against real secured services started here:
// a throwaway broker with a SASL_SSL listener (certificate from a CA made here with openssl; SCRAM
// users written at format time, a PLAIN user in JAAS), a Redis with a password on a TLS-only port, and
// the shared schema registry behind a small proxy that demands Basic or Bearer credentials. Wrong
// settings fail at once, in one line that says what to fix. Nothing of the shared stack is touched.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Kafka } from 'kafkajs';
import { pino } from 'pino';
import { loadStackConfig, type StackConfig } from '../../infra/stack/config.ts';
import { kafkaService } from '../../infra/stack/kafka.ts';
import { parseRedisUrl, pingRedis, redisService } from '../../infra/stack/redis.ts';
import { TOPICS, loadSchema } from '../../schemas/topics.ts';
import type { SensorReading } from '../../schemas/generated/types.ts';
import { checkKafkaSecurity, createKafka } from '../../streams/runtime/kafka-client.ts';
import { startProcessor } from '../../streams/runtime/kafka-runner.ts';
import { ConfluentSchemaStore } from '../../streams/runtime/schema-store.ts';
import { AvroSerde } from '../../streams/runtime/serde.ts';
import { RedisState } from '../../streams/runtime/state/redis-state.ts';
import { sensorValidation } from '../../streams/sensor-validation/topology.ts';
import { freePort, collect, quietLog, reading, runId } from './helpers.ts';

const REGISTRY = process.env.SCHEMA_REGISTRY_URL ?? 'http://127.0.0.1:8085/apis/ccompat/v7';
const USERS = { PLAIN: ['plain-user', 'plain-pw'], 'SCRAM-SHA-256': ['scram256-user', 'pw-256'], 'SCRAM-SHA-512': ['scram512-user', 'pw-512'] } as const;
type Mechanism = keyof typeof USERS;
const REGISTRY_BASIC = `Basic ${Buffer.from('reg-user:reg-pw').toString('base64')}`;
const REGISTRY_BEARER = 'Bearer reg-token';
/** Every variable this file sets; each test sets exactly the ones it needs (setEnv). */
const SECURITY_VARS = ['KAFKA_SECURITY_PROTOCOL', 'KAFKA_SASL_MECHANISM', 'KAFKA_SASL_USERNAME', 'KAFKA_SASL_PASSWORD', 'KAFKA_SSL_CA_FILE',
  'SCHEMA_REGISTRY_USER', 'SCHEMA_REGISTRY_PASSWORD', 'SCHEMA_REGISTRY_TOKEN', 'REDIS_TLS_CA_FILE'];
const savedEnv = Object.fromEntries(SECURITY_VARS.map((k) => [k, process.env[k]]));

let dir: string;
let ca: string;
let stack: StackConfig;
let saslBroker: string;
let plaintextBroker: string;
let proxy: Server;
let proxyUrl: string;
const proxySeen: string[] = [];

function setEnv(vars: Record<string, string>): void {
  for (const k of SECURITY_VARS) delete process.env[k];
  Object.assign(process.env, vars);
}

function saslEnv(mechanism: Mechanism, password: string = USERS[mechanism][1]): Record<string, string> {
  return { KAFKA_SECURITY_PROTOCOL: 'SASL_SSL', KAFKA_SASL_MECHANISM: mechanism, KAFKA_SASL_USERNAME: USERS[mechanism][0], KAFKA_SASL_PASSWORD: password, KAFKA_SSL_CA_FILE: ca, REDIS_TLS_CA_FILE: ca };
}

/** A CA and a server certificate for IP 127.0.0.1 signed by it (PKCS#8 key, as Kafka's PEM keystore wants). */
function makeCertificates(into: string): { ca: string; cert: string; key: string } {
  const run = (...args: string[]) => execFileSync('openssl', args, { cwd: into, stdio: 'pipe' });
  run('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=streamscore test CA');
  run('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1');
  writeFileSync(join(into, 'san.ext'), 'subjectAltName=IP:127.0.0.1\n');
  run('x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem', '-days', '2', '-extfile', 'san.ext');
  return { ca: join(into, 'ca.pem'), cert: join(into, 'server.pem'), key: join(into, 'server.key') };
}

/** Forwards to the shared registry only requests with the expected Basic or Bearer credentials; 401 otherwise. */
async function startAuthProxy(): Promise<void> {
  proxy = createHttpServer(async (req, res) => {
    const auth = req.headers.authorization ?? '';
    proxySeen.push(auth);
    if (auth !== REGISTRY_BASIC && auth !== REGISTRY_BEARER) {
      res.writeHead(401, { 'content-type': 'application/json', 'www-authenticate': 'Basic realm="registry"' }).end('{"error_code":401,"message":"Unauthorized"}');
      return;
    }
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const upstream = await fetch(`${REGISTRY}${req.url}`, {
      method: req.method,
      headers: { 'content-type': req.headers['content-type'] ?? 'application/json', accept: req.headers.accept ?? 'application/json' },
      body: chunks.length ? Buffer.concat(chunks) : undefined,
    });
    res.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'application/json' }).end(Buffer.from(await upstream.arrayBuffer()));
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  proxyUrl = `http://127.0.0.1:${(proxy.address() as { port: number }).port}`;
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ss-secure-it-'));
  const certs = makeCertificates(dir);
  ca = certs.ca;
  const [kafkaPort, controllerPort, saslPort, redisPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
  stack = loadStackConfig({
    ...process.env, KAFKA_BROKERS: undefined, REDIS_URL: undefined, STREAMSCORE_DATA_DIR: join(dir, 'stack'),
    STREAMSCORE_KAFKA_PORT: String(kafkaPort), STREAMSCORE_KAFKA_CONTROLLER_PORT: String(controllerPort),
    STREAMSCORE_KAFKA_SASL_SSL_PORT: String(saslPort), STREAMSCORE_KAFKA_SSL_CERT_FILE: certs.cert, STREAMSCORE_KAFKA_SSL_KEY_FILE: certs.key,
    STREAMSCORE_KAFKA_SASL_USERS: Object.entries(USERS).map(([m, [u, p]]) => `${m}:${u}:${p}`).join(','),
    STREAMSCORE_REDIS_PORT: String(redisPort), STREAMSCORE_REDIS_PASSWORD: 'redis-pw', STREAMSCORE_REDIS_TLS_CERT_FILE: certs.cert, STREAMSCORE_REDIS_TLS_KEY_FILE: certs.key,
  });
  saslBroker = `127.0.0.1:${saslPort}`;
  plaintextBroker = `127.0.0.1:${kafkaPort}`;
  setEnv({ REDIS_TLS_CA_FILE: ca }); // the Redis readiness probe verifies the server certificate
  const log = () => {};
  await kafkaService.ensureInstalled(stack, log);
  await Promise.all([kafkaService.start(stack, log), redisService.start(stack, log)]);
  await startAuthProxy();
});

after(async () => {
  if (stack) await Promise.all([kafkaService.stop(stack, () => {}).catch(() => {}), redisService.stop(stack, () => {}).catch(() => {})]);
  proxy?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
  setEnv(Object.fromEntries(Object.entries(savedEnv).filter((e): e is [string, string] => e[1] !== undefined)));
});

async function roundTrip(kafka: Kafka, topic: string, values: string[]): Promise<string[]> {
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 1, replicationFactor: 1 }] });
  await admin.disconnect();
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({ topic, messages: values.map((value) => ({ key: 'k', value })) });
  await producer.disconnect();
  const got = await collect(kafka, [topic], () => true, (all) => all.length >= values.length, 30_000);
  return got.map((m) => m.value.toString());
}

test('SASL_SSL with PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512: produce and consume through createKafka set up by env vars only', { timeout: 90_000 }, async () => {
  for (const mechanism of Object.keys(USERS) as Mechanism[]) {
    setEnv(saslEnv(mechanism));
    const values = [1, 2, 3].map((i) => `${mechanism}-${i}`);
    assert.deepEqual(await roundTrip(createKafka(`secure-it-${mechanism}`, [saslBroker], quietLog), `secure-it-${mechanism.toLowerCase()}`, values), values);
  }
});

test('a wrong password is refused at once with an authentication error', { timeout: 30_000 }, async () => {
  for (const mechanism of ['PLAIN', 'SCRAM-SHA-256'] as const) {
    setEnv(saslEnv(mechanism, 'not-the-password'));
    const started = Date.now();
    const admin = createKafka('secure-it-wrong', [saslBroker], quietLog.child({}, { level: 'fatal' })).admin();
    await assert.rejects(admin.connect(), (err: Error) => err.name === 'KafkaJSSASLAuthenticationError' && /authentication failed.*(invalid credentials|invalid username or password)/i.test(err.message));
    assert.ok(Date.now() - started < 10_000, `${mechanism}: refused after ${Date.now() - started} ms`);
  }
});

test('a security mismatch fails at once, naming the setting to change', { timeout: 30_000 }, async () => {
  setEnv({});
  await assert.rejects(checkKafkaSecurity([saslBroker]), /answered with a TLS alert.*KAFKA_SECURITY_PROTOCOL=PLAINTEXT: set it to SSL or SASL_SSL/);
  // kafkajs itself (used by every client, not only processors) reports the same on its first attempt.
  const lines: string[] = [];
  const capture = pino({ level: 'error' }, { write: (line: string) => void lines.push(line) });
  const admin = createKafka('secure-it-plaintext', [saslBroker], capture).admin();
  const connecting = admin.connect().catch(() => undefined);
  const deadline = Date.now() + 5_000;
  while (!lines.some((l) => l.includes('set it to SSL or SASL_SSL')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  assert.ok(lines.some((l) => l.includes('answered with a TLS alert')), `kafkajs logged: ${lines.join('\n')}`);
  void admin.disconnect().then(() => connecting);

  setEnv({ ...saslEnv('SCRAM-SHA-512'), KAFKA_SSL_CA_FILE: '' });
  await assert.rejects(checkKafkaSecurity([saslBroker]), /certificate is not trusted .*set KAFKA_SSL_CA_FILE/);
  setEnv({ KAFKA_SECURITY_PROTOCOL: 'SSL', KAFKA_SSL_CA_FILE: ca });
  await assert.rejects(checkKafkaSecurity([plaintextBroker]), /TLS handshake.*PLAINTEXT or SASL_PLAINTEXT listener/);
  setEnv({ ...saslEnv('SCRAM-SHA-512'), KAFKA_SASL_MECHANISM: 'GSSAPI' });
  assert.throws(() => createKafka('secure-it-bad-config', [saslBroker], quietLog), /^ConnectionConfigError: KAFKA_SASL_MECHANISM="GSSAPI" is not one of/);
});

test('Redis with a password over TLS: the right URL connects, wrong settings fail in one clear line', { timeout: 30_000 }, async () => {
  setEnv({ REDIS_TLS_CA_FILE: ca });
  assert.match(stack.redisUrl, /^rediss:\/\/:redis-pw@127\.0\.0\.1:\d+$/);
  const redis = new RedisState(stack.redisUrl);
  await redis.connect();
  try {
    assert.equal(await redis.client.set('secure-it', 'ok'), 'OK');
    assert.equal(await redis.client.call('ACL', 'SETUSER', 'app-user', 'on', '>app-pw', '~*', '+@all'), 'OK');
  } finally {
    await redis.close();
  }
  const { host, port } = parseRedisUrl(stack.redisUrl);
  const aclUser = new RedisState(`rediss://app-user:app-pw@${host}:${port}`);
  await aclUser.connect();
  assert.equal(await aclUser.client.get('secure-it'), 'ok');
  await aclUser.close();
  assert.deepEqual(await redisService.health(stack), { healthy: true, detail: 'PONG' });

  const refused = async (url: string, pattern: RegExp) => {
    const started = Date.now();
    const r = new RedisState(url);
    await assert.rejects(r.connect(), pattern);
    await r.close();
    assert.ok(Date.now() - started < 5_000, `${url}: failed after ${Date.now() - started} ms`);
  };
  await refused(`rediss://:wrong@${host}:${port}`, /^Error: Redis at rediss:\/\/127\.0\.0\.1:\d+ refused the user\/password in REDIS_URL \(WRONGPASS/);
  await refused(`rediss://${host}:${port}`, /requires a password: put it in REDIS_URL/);
  // The stack's health probe (raw RESP over node:tls) says the same.
  await assert.rejects(pingRedis(parseRedisUrl(`rediss://:wrong@${host}:${port}`), 3_000, { ca: readFileSync(ca, 'utf8') }), /WRONGPASS.* to AUTH: check the user and password in REDIS_URL/);
  setEnv({});
  await refused(stack.redisUrl, /TLS to Redis at .* failed .*set REDIS_TLS_CA_FILE/);
});

test('schema registry behind Basic or Bearer auth: registers and fetches with the env vars set, a clear 401 without', { timeout: 60_000 }, async () => {
  const subject = 'streamscore.test.secure-connections-value';
  const schema = { type: 'record', name: 'SecureConnectionsProbe', namespace: 'streamscore.test', fields: [{ name: 'id', type: 'string' }] };
  setEnv({ SCHEMA_REGISTRY_USER: 'reg-user', SCHEMA_REGISTRY_PASSWORD: 'reg-pw' });
  const basic = new ConfluentSchemaStore(proxyUrl);
  const id = await basic.register(subject, schema);
  assert.equal(await basic.latestId(subject), id);
  assert.deepEqual(await basic.schemaJson(id), schema);
  setEnv({ SCHEMA_REGISTRY_TOKEN: 'reg-token' });
  assert.equal(await new ConfluentSchemaStore(proxyUrl).latestId(subject), id);
  assert.ok(proxySeen.includes(REGISTRY_BASIC) && proxySeen.includes(REGISTRY_BEARER));

  for (const env of [{}, { SCHEMA_REGISTRY_USER: 'reg-user', SCHEMA_REGISTRY_PASSWORD: 'wrong' }] as Record<string, string>[]) {
    setEnv(env);
    await assert.rejects(new ConfluentSchemaStore(proxyUrl, { attempts: 1 }).register(subject, schema), /schema registry answered 401 .*check SCHEMA_REGISTRY_USER\/_PASSWORD or SCHEMA_REGISTRY_TOKEN/);
  }
});

test('sensor-validation end to end over SASL_SSL (SCRAM-SHA-512), state in the TLS Redis, schemas through the authenticated registry', { timeout: 90_000 }, async () => {
  setEnv({ ...saslEnv('SCRAM-SHA-512'), SCHEMA_REGISTRY_USER: 'reg-user', SCHEMA_REGISTRY_PASSWORD: 'reg-pw' });
  const seenBefore = proxySeen.length;
  const processor = await startProcessor(sensorValidation, {
    kafkaBrokers: [saslBroker], schemaRegistryUrl: proxyUrl, redisUrl: stack.redisUrl, metricsPort: null, logger: quietLog, sessionTimeoutMs: 10_000, instanceId: 'secure-it',
  });
  try {
    const id = runId();
    const kafka = createKafka('secure-it-e2e', [saslBroker], quietLog);
    const serde = new AvroSerde(new ConfluentSchemaStore(proxyUrl));
    await serde.useTopic(TOPICS.sensorReadings.name, loadSchema(TOPICS.sensorReadings.schema));
    const readings = Array.from({ length: 20 }, (_, i) => reading(id, i % 4, Math.floor(i / 4)));
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    await producer.send({ topic: TOPICS.sensorReadings.name, messages: readings.map((r) => ({ key: r.arm_id, value: serde.encode(TOPICS.sensorReadings.name, r) })) });
    await producer.disconnect();

    const out = await collect(kafka, [TOPICS.sensorReadingsValidated.name], (m) => m.value.includes(Buffer.from(id)), (all) => all.length >= readings.length, 60_000);
    serde.useReader(TOPICS.sensorReadingsValidated.name, loadSchema(TOPICS.sensorReadingsValidated.schema));
    const decoded = await Promise.all(out.map(async (m) => (await serde.decode(TOPICS.sensorReadingsValidated.name, m.value)) as SensorReading));
    assert.deepEqual(decoded.map((r) => `${r.arm_id}/${r.sequence}`).sort(), readings.map((r) => `${r.arm_id}/${r.sequence}`).sort());
    assert.ok(proxySeen.slice(seenBefore).every((a) => a === REGISTRY_BASIC), 'every registry request carried the credentials');

    const redis = new RedisState(stack.redisUrl);
    await redis.connect();
    const stateKeys = await redis.client.keys('ss:sensor-validation:*');
    await redis.close();
    assert.ok(stateKeys.length >= 4, `per-arm state in the TLS Redis: ${stateKeys.join(', ')}`);
  } finally {
    await processor.stop();
  }
});
