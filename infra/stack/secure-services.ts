// Optional security of the embedded services, for trying out and testing what a real deployment
// uses (docs/security.md): an extra SASL_SSL listener on the broker (PEM certificate, PLAIN users in
// the listener's JAAS config, SCRAM users written at storage-format time) and a Redis with a
// password and/or TLS. Off unless its env vars are set; the default stack stays PLAINTEXT, no password.
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';

export const SASL_MECHANISMS = ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'] as const;
export type SaslMechanism = (typeof SASL_MECHANISMS)[number];

export interface SaslUser {
  mechanism: SaslMechanism;
  name: string;
  password: string;
}

/** STREAMSCORE_KAFKA_SASL_SSL_PORT, _SSL_CERT_FILE, _SSL_KEY_FILE, _SASL_USERS. */
export interface KafkaSecureListener {
  port: number;
  certFile: string;
  keyFile: string;
  users: SaslUser[];
}

/** STREAMSCORE_REDIS_PASSWORD, STREAMSCORE_REDIS_TLS_CERT_FILE + _KEY_FILE. */
export interface RedisSecurity {
  password: string | undefined;
  tls: { certFile: string; keyFile: string } | undefined;
}

type Value = (name: string) => string | undefined;

const LISTENER_VARS = ['STREAMSCORE_KAFKA_SASL_SSL_PORT', 'STREAMSCORE_KAFKA_SSL_CERT_FILE', 'STREAMSCORE_KAFKA_SSL_KEY_FILE', 'STREAMSCORE_KAFKA_SASL_USERS'] as const;
/** Characters that would break the JAAS string or StorageTool's `[name=..,password=..]` syntax. */
const UNSAFE = /[\s,"'\\[\]=;]/;

/** The SASL_SSL listener the env asks for, or undefined; problems are appended, one per variable. */
export function kafkaSecureListenerFromEnv(value: Value, problems: string[]): KafkaSecureListener | undefined {
  const set = LISTENER_VARS.filter((name) => value(name) !== undefined);
  if (set.length === 0) return undefined;
  const missing = LISTENER_VARS.filter((name) => value(name) === undefined);
  if (missing.length > 0) {
    problems.push(`${set.join(', ')} set but ${missing.join(', ')} not: the SASL_SSL listener needs all four`);
    return undefined;
  }
  const rawPort = value('STREAMSCORE_KAFKA_SASL_SSL_PORT')!;
  const port = /^\d+$/.test(rawPort) ? Number(rawPort) : NaN;
  if (!(port >= 1 && port <= 65535)) problems.push(`STREAMSCORE_KAFKA_SASL_SSL_PORT=${JSON.stringify(rawPort)} is not a TCP port (an integer 1-65535)`);
  const certFile = pemFile('STREAMSCORE_KAFKA_SSL_CERT_FILE', value, 'CERTIFICATE', problems);
  // Kafka's PEM keystore reads PKCS#8 keys only (`openssl genpkey` writes them; `BEGIN PRIVATE KEY`).
  const keyFile = pemFile('STREAMSCORE_KAFKA_SSL_KEY_FILE', value, 'PRIVATE KEY', problems);
  const users = parseSaslUsers(value('STREAMSCORE_KAFKA_SASL_USERS')!, problems);
  return { port, certFile, keyFile, users };
}

/** `MECHANISM:name:password[,...]`, e.g. `SCRAM-SHA-512:app:s3cret,PLAIN:ops:pw`. */
export function parseSaslUsers(raw: string, problems: string[]): SaslUser[] {
  const users: SaslUser[] = [];
  for (const entry of raw.split(',').map((s) => s.trim()).filter((s) => s !== '')) {
    const [mechanism, name, ...rest] = entry.split(':');
    const password = rest.join(':');
    const known = SASL_MECHANISMS.find((m) => m === mechanism?.toUpperCase());
    if (!known || !name || !password) {
      problems.push(`STREAMSCORE_KAFKA_SASL_USERS entry ${JSON.stringify(entry.replace(/^([^:]*:[^:]*:).*/, '$1***'))} is not MECHANISM:name:password with MECHANISM one of ${SASL_MECHANISMS.join(', ')}`);
      continue;
    }
    if (UNSAFE.test(name) || UNSAFE.test(password)) {
      problems.push(`STREAMSCORE_KAFKA_SASL_USERS: user ${JSON.stringify(name)}: names and passwords may not contain spaces or any of , " ' \\ [ ] = ;`);
      continue;
    }
    users.push({ mechanism: known, name, password });
  }
  if (users.length === 0 && !problems.some((p) => p.startsWith('STREAMSCORE_KAFKA_SASL_USERS'))) problems.push('STREAMSCORE_KAFKA_SASL_USERS names no user');
  return users;
}

/** The embedded Redis' password and TLS, or undefined when neither is asked for. */
export function redisSecurityFromEnv(value: Value, problems: string[]): RedisSecurity | undefined {
  const password = value('STREAMSCORE_REDIS_PASSWORD');
  if (password !== undefined && /[\s"'\\]/.test(password)) problems.push('STREAMSCORE_REDIS_PASSWORD may not contain spaces, quotes or backslashes');
  const cert = value('STREAMSCORE_REDIS_TLS_CERT_FILE');
  const key = value('STREAMSCORE_REDIS_TLS_KEY_FILE');
  if ((cert === undefined) !== (key === undefined)) {
    problems.push(`${cert === undefined ? 'STREAMSCORE_REDIS_TLS_KEY_FILE' : 'STREAMSCORE_REDIS_TLS_CERT_FILE'} is set alone: a TLS Redis needs STREAMSCORE_REDIS_TLS_CERT_FILE and STREAMSCORE_REDIS_TLS_KEY_FILE`);
    return undefined;
  }
  const tls = cert === undefined ? undefined : {
    certFile: pemFile('STREAMSCORE_REDIS_TLS_CERT_FILE', value, 'CERTIFICATE', problems),
    keyFile: pemFile('STREAMSCORE_REDIS_TLS_KEY_FILE', value, 'PRIVATE KEY', problems),
  };
  return password === undefined && tls === undefined ? undefined : { password, tls };
}

/** The URL clients use for the embedded Redis: rediss:// with TLS, the password in it. */
export function embeddedRedisUrl(host: string, port: number, security: RedisSecurity | undefined): string {
  const auth = security?.password === undefined ? '' : `:${encodeURIComponent(security.password)}@`;
  return `${security?.tls ? 'rediss' : 'redis'}://${auth}${host}:${port}`;
}

/** redis-server arguments for the port: TLS only (no plaintext port) when a certificate is configured. */
export function redisPortArgs(port: number, security: RedisSecurity | undefined): string[] {
  if (!security?.tls) return ['--port', String(port)];
  return ['--port', '0', '--tls-port', String(port), '--tls-cert-file', security.tls.certFile, '--tls-key-file', security.tls.keyFile, '--tls-auth-clients', 'no'];
}

/** The redis.conf that carries the password: a private file, so it is not in argv (ps) either. */
export function redisPasswordConfig(password: string): string {
  return `requirepass "${password}"\n`;
}

/**
 * server.properties entries for the SASL_SSL listener, merged over the PLAINTEXT ones: the listener
 * is added beside PLAINTEXT (inter-broker and controller traffic stay PLAINTEXT on loopback).
 */
export function secureListenerProperties(base: Record<string, string | number | boolean>, host: string, listener: KafkaSecureListener, keystoreFile: string): Record<string, string> {
  const plain = listener.users.filter((u) => u.mechanism === 'PLAIN');
  const endpoint = `SASL_SSL://${host.includes(':') ? `[${host}]` : host}:${listener.port}`;
  const props: Record<string, string> = {
    'listeners': `${base.listeners},${endpoint}`,
    'advertised.listeners': `${base['advertised.listeners']},${endpoint}`,
    'listener.security.protocol.map': `${base['listener.security.protocol.map']},SASL_SSL:SASL_SSL`,
    'sasl.enabled.mechanisms': SASL_MECHANISMS.join(','),
    'listener.name.sasl_ssl.ssl.keystore.type': 'PEM',
    'listener.name.sasl_ssl.ssl.keystore.location': keystoreFile,
    // PLAIN users live in the JAAS config (no metadata); SCRAM users in the cluster metadata.
    'listener.name.sasl_ssl.plain.sasl.jaas.config':
      `org.apache.kafka.common.security.plain.PlainLoginModule required${plain.map((u) => ` user_${u.name}="${u.password}"`).join('')};`,
    'listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config': 'org.apache.kafka.common.security.scram.ScramLoginModule required;',
    'listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config': 'org.apache.kafka.common.security.scram.ScramLoginModule required;',
  };
  return props;
}

/** StorageTool format arguments that create the SCRAM users (only at format time). */
export function scramFormatArgs(users: SaslUser[]): string[] {
  return users.filter((u) => u.mechanism !== 'PLAIN').flatMap((u) => ['--add-scram', `${u.mechanism}=[name=${u.name},password=${u.password}]`]);
}

/** A PEM keystore file as Kafka reads it: the private key, then the certificate chain; private (0600). */
export function writePemKeystore(listener: KafkaSecureListener, file: string): void {
  writePrivateFile(file, `${readFileSync(listener.keyFile, 'utf8').trim()}\n${readFileSync(listener.certFile, 'utf8').trim()}\n`);
}

export function writePrivateFile(file: string, text: string): void {
  writeFileSync(file, text, { mode: 0o600 });
  chmodSync(file, 0o600); // an existing file keeps its mode on write
}

/** Replaces every password of `users` (and the Redis password) in a message with ***. */
export function redactSecrets(text: string, secrets: (string | undefined)[]): string {
  let out = text;
  for (const s of secrets) if (s) out = out.split(s).join('***');
  return out;
}

function pemFile(name: string, value: Value, label: 'CERTIFICATE' | 'PRIVATE KEY', problems: string[]): string {
  const file = value(name)!;
  if (!existsSync(file)) {
    problems.push(`${name}=${file} does not exist`);
  } else if (!readFileSync(file, 'utf8').includes(`-----BEGIN ${label}-----`)) {
    problems.push(`${name}=${file} holds no PEM ${label.toLowerCase()} (-----BEGIN ${label}-----)`);
  }
  return file;
}
