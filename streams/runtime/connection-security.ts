// Credentials and TLS for the connections a real deployment needs, read from documented env vars in
// one place (docs/security.md): the registry (basic auth or a bearer token), Kafka (TLS, SASL PLAIN /
// SCRAM) and Redis (AUTH from REDIS_URL, TLS for rediss://). Each reader validates everything it reads
// and throws a ConnectionConfigError whose one line names the variable, before anything connects.
import { readFileSync, statSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import type { SASLOptions } from 'kafkajs';

type Env = Record<string, string | undefined>;

/** A connection setting that is missing, unknown or inconsistent; the message names the variable. */
export class ConnectionConfigError extends Error {
  override name = 'ConnectionConfigError';
}

/**
 * An Authorization header from a service's credential variables: Bearer from the token variable, or
 * Basic from the user and password variables; none when neither is set, refused when both are.
 */
export function bearerOrBasicAuth(env: NodeJS.ProcessEnv, vars: { token: string; user: string; password: string }): Record<string, string> {
  const token = env[vars.token];
  const user = env[vars.user];
  if (token && user) throw new ConnectionConfigError(`set either ${vars.token} or ${vars.user}/${vars.password}, not both`);
  if (token) return { authorization: `Bearer ${token}` };
  if (user) return { authorization: `Basic ${Buffer.from(`${user}:${env[vars.password] ?? ''}`).toString('base64')}` };
  return {};
}

/** Headers every schema-registry request carries: Basic (SCHEMA_REGISTRY_USER/_PASSWORD) or Bearer (SCHEMA_REGISTRY_TOKEN). */
export function registryAuthHeaders(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  return bearerOrBasicAuth(env, { token: 'SCHEMA_REGISTRY_TOKEN', user: 'SCHEMA_REGISTRY_USER', password: 'SCHEMA_REGISTRY_PASSWORD' });
}

export const KAFKA_SECURITY_PROTOCOLS = ['PLAINTEXT', 'SSL', 'SASL_PLAINTEXT', 'SASL_SSL'] as const;
export type KafkaSecurityProtocol = (typeof KAFKA_SECURITY_PROTOCOLS)[number];
export const KAFKA_SASL_MECHANISMS = ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'] as const;
export type KafkaSaslMechanism = (typeof KAFKA_SASL_MECHANISMS)[number];

/** What createKafka() adds to every kafkajs client: `ssl` for SSL/SASL_SSL, `sasl` for SASL_*. */
export interface KafkaSecurity {
  protocol: KafkaSecurityProtocol;
  ssl?: ConnectionOptions;
  sasl?: SASLOptions;
}

const KAFKA_SASL_VARS = ['KAFKA_SASL_MECHANISM', 'KAFKA_SASL_USERNAME', 'KAFKA_SASL_PASSWORD'] as const;
const KAFKA_SSL_VARS = ['KAFKA_SSL_CA_FILE', 'KAFKA_SSL_CERT_FILE', 'KAFKA_SSL_KEY_FILE', 'KAFKA_SSL_KEY_PASSWORD'] as const;

/**
 * KAFKA_SECURITY_PROTOCOL (PLAINTEXT, the default, | SSL | SASL_PLAINTEXT | SASL_SSL),
 * KAFKA_SASL_MECHANISM / _USERNAME / _PASSWORD for SASL_*, and for SSL/SASL_SSL optionally
 * KAFKA_SSL_CA_FILE (PEM; default: the system CAs) and KAFKA_SSL_CERT_FILE + KAFKA_SSL_KEY_FILE
 * (+ KAFKA_SSL_KEY_PASSWORD) for brokers that require client certificates. A variable that the
 * protocol would ignore is an error rather than silently unused.
 */
export function kafkaSecurityFromEnv(env: Env = process.env): KafkaSecurity {
  const get = (name: string) => nonEmpty(env[name]);
  const rawProtocol = get('KAFKA_SECURITY_PROTOCOL') ?? 'PLAINTEXT';
  const protocol = KAFKA_SECURITY_PROTOCOLS.find((p) => p === rawProtocol.toUpperCase());
  if (!protocol) throw new ConnectionConfigError(`KAFKA_SECURITY_PROTOCOL=${JSON.stringify(rawProtocol)} is not one of ${KAFKA_SECURITY_PROTOCOLS.join(', ')}`);
  const usesSasl = protocol.startsWith('SASL_');
  const usesTls = protocol === 'SSL' || protocol === 'SASL_SSL';
  for (const name of usesSasl ? [] : KAFKA_SASL_VARS) {
    if (get(name) !== undefined) throw new ConnectionConfigError(`${name} is set but KAFKA_SECURITY_PROTOCOL=${protocol}; SASL needs SASL_SSL (or SASL_PLAINTEXT)`);
  }
  for (const name of usesTls ? [] : KAFKA_SSL_VARS) {
    if (get(name) !== undefined) throw new ConnectionConfigError(`${name} is set but KAFKA_SECURITY_PROTOCOL=${protocol}; TLS needs SSL or SASL_SSL`);
  }
  const security: KafkaSecurity = { protocol };
  if (usesTls) {
    security.ssl = tlsFiles(env, { ca: 'KAFKA_SSL_CA_FILE', cert: 'KAFKA_SSL_CERT_FILE', key: 'KAFKA_SSL_KEY_FILE', keyPassword: 'KAFKA_SSL_KEY_PASSWORD' });
  }
  if (usesSasl) {
    const rawMechanism = get('KAFKA_SASL_MECHANISM');
    if (rawMechanism === undefined) throw new ConnectionConfigError(`KAFKA_SASL_MECHANISM is not set; KAFKA_SECURITY_PROTOCOL=${protocol} needs one of ${KAFKA_SASL_MECHANISMS.join(', ')}`);
    const mechanism = KAFKA_SASL_MECHANISMS.find((m) => m === rawMechanism.toUpperCase());
    if (!mechanism) throw new ConnectionConfigError(`KAFKA_SASL_MECHANISM=${JSON.stringify(rawMechanism)} is not one of ${KAFKA_SASL_MECHANISMS.join(', ')}`);
    const username = get('KAFKA_SASL_USERNAME');
    // A password is taken as given (spaces included); only unset or empty is missing.
    const password = env.KAFKA_SASL_PASSWORD;
    if (username === undefined) throw new ConnectionConfigError(`KAFKA_SASL_USERNAME is not set; KAFKA_SASL_MECHANISM=${mechanism} needs a user name`);
    if (!password) throw new ConnectionConfigError(`KAFKA_SASL_PASSWORD is not set; KAFKA_SASL_MECHANISM=${mechanism} needs the password of ${username}`);
    const lower = mechanism.toLowerCase() as 'plain' | 'scram-sha-256' | 'scram-sha-512';
    security.sasl = { mechanism: lower, username, password } as SASLOptions;
  }
  return security;
}

/** Node's codes for a server certificate the client cannot verify. */
const CERT_ERROR = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER|ERR_TLS_CERT_ALTNAME_INVALID/;

/**
 * What to fix when a connection to a broker failed in a way that points at the security settings
 * rather than at a broker that is down; undefined otherwise. `tlsAlert`: the plaintext connection
 * was answered with a TLS alert record.
 */
export function kafkaConnectionHint(protocol: KafkaSecurityProtocol, err: { code?: string; message: string }, tlsAlert = false): string | undefined {
  const usesTls = protocol === 'SSL' || protocol === 'SASL_SSL';
  if (!usesTls && tlsAlert) return `the listener expects TLS but KAFKA_SECURITY_PROTOCOL=${protocol}: set it to SSL or SASL_SSL (and KAFKA_SSL_CA_FILE for a private CA)`;
  if (usesTls && CERT_ERROR.test(err.code ?? '')) return `the broker's certificate is not trusted (${err.code}): set KAFKA_SSL_CA_FILE to the PEM of the CA that signed it`;
  if (usesTls && /before secure TLS connection was established|before the TLS handshake finished/.test(err.message)) {
    return `the listener closed the TLS handshake: KAFKA_SECURITY_PROTOCOL=${protocol} speaks TLS; a PLAINTEXT or SASL_PLAINTEXT listener needs that protocol instead`;
  }
  return undefined;
}

/**
 * TLS options for the Redis of `redisUrl`, or undefined for redis://. TLS is on exactly when the
 * URL is rediss://; REDIS_TLS_CA_FILE (PEM; default: the system CAs) and REDIS_TLS_CERT_FILE +
 * REDIS_TLS_KEY_FILE (client certificate, for `tls-auth-clients yes`) apply only then. The password
 * (and ACL user) come from the URL: redis://[USER]:PASSWORD@host:port.
 */
export function redisTlsOptions(redisUrl: string, env: Env = process.env): ConnectionOptions | undefined {
  let url: URL;
  try {
    url = new URL(redisUrl);
  } catch {
    throw new ConnectionConfigError(`REDIS_URL=${JSON.stringify(redisUrl)} is not a URL`);
  }
  const names = { ca: 'REDIS_TLS_CA_FILE', cert: 'REDIS_TLS_CERT_FILE', key: 'REDIS_TLS_KEY_FILE' } as const;
  if (url.protocol !== 'rediss:') {
    for (const name of Object.values(names)) {
      if (nonEmpty(env[name]) !== undefined) throw new ConnectionConfigError(`${name} is set but REDIS_URL is ${url.protocol}//; use rediss:// for TLS`);
    }
    return undefined;
  }
  return tlsFiles(env, names);
}

/**
 * One clear line for a Redis connection that failed: ioredis' connect() only says "Connection is
 * closed." after the server refused AUTH, so the caller passes the last 'error' event it saw.
 */
export function explainRedisError(redisUrl: string, err: Error): string {
  const where = redactedEndpoint(redisUrl);
  const msg = err.message;
  if (msg.startsWith('WRONGPASS')) return `Redis at ${where} refused the user/password in REDIS_URL (${msg})`;
  if (msg.startsWith('NOAUTH')) return `Redis at ${where} requires a password: put it in REDIS_URL as redis://:PASSWORD@host:port or redis://USER:PASSWORD@host:port (${msg})`;
  const tlsCode = (err as { code?: string }).code ?? '';
  if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS|ERR_SSL/.test(tlsCode)) {
    return `TLS to Redis at ${where} failed (${tlsCode}: ${msg}); set REDIS_TLS_CA_FILE to the CA that signed the server certificate`;
  }
  return `cannot connect to Redis at ${where}: ${msg}`;
}

/** host:port of a URL, without credentials, for messages. */
function redactedEndpoint(raw: string): string {
  try {
    const url = new URL(raw);
    return `${url.protocol}//${url.host}`;
  } catch {
    return 'REDIS_URL';
  }
}

function nonEmpty(v: string | undefined): string | undefined {
  const t = v?.trim();
  return t === undefined || t === '' ? undefined : t;
}

/** Reads the PEM files the variables name; each must exist and hold what its name says. */
function tlsFiles(env: Env, names: { ca: string; cert: string; key: string; keyPassword?: string }): ConnectionOptions {
  const options: ConnectionOptions = {};
  const caFile = nonEmpty(env[names.ca]);
  if (caFile !== undefined) options.ca = readPem(names.ca, caFile, 'CERTIFICATE');
  const certFile = nonEmpty(env[names.cert]);
  const keyFile = nonEmpty(env[names.key]);
  if ((certFile === undefined) !== (keyFile === undefined)) {
    const [set, unset] = certFile === undefined ? [names.key, names.cert] : [names.cert, names.key];
    throw new ConnectionConfigError(`${set} is set but ${unset} is not; a client certificate needs both`);
  }
  if (certFile !== undefined && keyFile !== undefined) {
    options.cert = readPem(names.cert, certFile, 'CERTIFICATE');
    options.key = readPem(names.key, keyFile, 'PRIVATE KEY');
    const passphrase = names.keyPassword ? env[names.keyPassword] : undefined;
    if (passphrase) options.passphrase = passphrase;
  } else if (names.keyPassword && nonEmpty(env[names.keyPassword]) !== undefined) {
    throw new ConnectionConfigError(`${names.keyPassword} is set but ${names.key} is not`);
  }
  return options;
}

function readPem(name: string, file: string, label: 'CERTIFICATE' | 'PRIVATE KEY'): string {
  let text: string;
  try {
    if (!statSync(file).isFile()) throw new Error('not a file');
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'does not exist' : `cannot be read (${(err as Error).message})`;
    throw new ConnectionConfigError(`${name}=${file} ${reason}`);
  }
  // Matches "BEGIN CERTIFICATE" and, for keys, "BEGIN PRIVATE KEY" / "BEGIN RSA PRIVATE KEY" / "BEGIN ENCRYPTED PRIVATE KEY" / "BEGIN EC PRIVATE KEY".
  const pattern = label === 'CERTIFICATE' ? /-----BEGIN CERTIFICATE-----/ : /-----BEGIN [A-Z ]*PRIVATE KEY-----/;
  if (!pattern.test(text)) throw new ConnectionConfigError(`${name}=${file} holds no PEM ${label.toLowerCase()} (-----BEGIN ${label}-----)`);
  return text;
}
