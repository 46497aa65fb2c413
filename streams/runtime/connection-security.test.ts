import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { runtimeOptionsFromEnv } from './config.ts';
import { ConnectionConfigError, explainRedisError, kafkaConnectionHint, kafkaSecurityFromEnv, redisTlsOptions, registryAuthHeaders } from './connection-security.ts';

const dir = mkdtempSync(join(tmpdir(), 'ss-conn-sec-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const CERT = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
const KEY = '-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n';
const caFile = join(dir, 'ca.pem');
const keyFile = join(dir, 'client.key');
const notPem = join(dir, 'notes.txt');
writeFileSync(caFile, CERT);
writeFileSync(keyFile, KEY);
writeFileSync(notPem, 'hello');

const SCRAM = { KAFKA_SECURITY_PROTOCOL: 'SASL_SSL', KAFKA_SASL_MECHANISM: 'SCRAM-SHA-512', KAFKA_SASL_USERNAME: 'app', KAFKA_SASL_PASSWORD: 'pw' };

/** The one-line ConnectionConfigError the env produces. */
function kafkaError(env: Record<string, string>): string {
  try {
    kafkaSecurityFromEnv(env);
  } catch (err) {
    assert.ok(err instanceof ConnectionConfigError, String(err));
    assert.doesNotMatch(err.message, /\n/);
    return err.message;
  }
  assert.fail(`no error for ${JSON.stringify(env)}`);
}

describe('kafkaSecurityFromEnv', () => {
  it('defaults to PLAINTEXT with neither ssl nor sasl', () => {
    assert.deepEqual(kafkaSecurityFromEnv({}), { protocol: 'PLAINTEXT' });
  });

  it('SASL_SSL with SCRAM: kafkajs mechanism names, the CA read from the file', () => {
    const s = kafkaSecurityFromEnv({ ...SCRAM, KAFKA_SSL_CA_FILE: caFile });
    assert.equal(s.protocol, 'SASL_SSL');
    assert.deepEqual(s.sasl, { mechanism: 'scram-sha-512', username: 'app', password: 'pw' });
    assert.deepEqual(s.ssl, { ca: CERT });
  });

  it('SSL without a CA file uses the system CAs; SASL_PLAINTEXT has no TLS', () => {
    assert.deepEqual(kafkaSecurityFromEnv({ KAFKA_SECURITY_PROTOCOL: 'ssl' }), { protocol: 'SSL', ssl: {} });
    const plain = kafkaSecurityFromEnv({ ...SCRAM, KAFKA_SECURITY_PROTOCOL: 'SASL_PLAINTEXT', KAFKA_SASL_MECHANISM: 'plain' });
    assert.equal(plain.ssl, undefined);
    assert.equal(plain.sasl?.mechanism, 'plain');
  });

  it('a client certificate needs both files; the key password goes with them', () => {
    const s = kafkaSecurityFromEnv({ KAFKA_SECURITY_PROTOCOL: 'SSL', KAFKA_SSL_CERT_FILE: caFile, KAFKA_SSL_KEY_FILE: keyFile, KAFKA_SSL_KEY_PASSWORD: 'k' });
    assert.deepEqual(s.ssl, { cert: CERT, key: KEY, passphrase: 'k' });
    assert.match(kafkaError({ KAFKA_SECURITY_PROTOCOL: 'SSL', KAFKA_SSL_CERT_FILE: caFile }), /^KAFKA_SSL_CERT_FILE is set but KAFKA_SSL_KEY_FILE is not/);
  });

  it('names the variable of every bad setting', () => {
    assert.match(kafkaError({ KAFKA_SECURITY_PROTOCOL: 'TLS' }), /^KAFKA_SECURITY_PROTOCOL="TLS" is not one of PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL/);
    assert.match(kafkaError({ ...SCRAM, KAFKA_SASL_MECHANISM: 'GSSAPI' }), /^KAFKA_SASL_MECHANISM="GSSAPI" is not one of PLAIN, SCRAM-SHA-256, SCRAM-SHA-512/);
    assert.match(kafkaError({ ...SCRAM, KAFKA_SASL_MECHANISM: '' }), /^KAFKA_SASL_MECHANISM is not set/);
    assert.match(kafkaError({ ...SCRAM, KAFKA_SASL_PASSWORD: '' }), /^KAFKA_SASL_PASSWORD is not set; .* needs the password of app/);
    assert.match(kafkaError({ ...SCRAM, KAFKA_SASL_USERNAME: ' ' }), /^KAFKA_SASL_USERNAME is not set/);
    assert.match(kafkaError({ ...SCRAM, KAFKA_SSL_CA_FILE: join(dir, 'missing.pem') }), /^KAFKA_SSL_CA_FILE=.*missing\.pem does not exist$/);
    assert.match(kafkaError({ ...SCRAM, KAFKA_SSL_CA_FILE: notPem }), /^KAFKA_SSL_CA_FILE=.*notes\.txt holds no PEM certificate/);
    assert.match(kafkaError({ ...SCRAM, KAFKA_SSL_CA_FILE: dir }), /^KAFKA_SSL_CA_FILE=.* cannot be read/);
  });

  it('refuses settings the protocol would silently ignore', () => {
    assert.match(kafkaError({ KAFKA_SASL_USERNAME: 'app' }), /^KAFKA_SASL_USERNAME is set but KAFKA_SECURITY_PROTOCOL=PLAINTEXT/);
    assert.match(kafkaError({ ...SCRAM, KAFKA_SECURITY_PROTOCOL: 'SASL_PLAINTEXT', KAFKA_SSL_CA_FILE: caFile }), /^KAFKA_SSL_CA_FILE is set but KAFKA_SECURITY_PROTOCOL=SASL_PLAINTEXT/);
  });
});

describe('kafkaConnectionHint', () => {
  it('points at the setting to change, and stays quiet for a broker that is down', () => {
    assert.match(kafkaConnectionHint('PLAINTEXT', { message: '' }, true)!, /set it to SSL or SASL_SSL/);
    assert.match(kafkaConnectionHint('SASL_SSL', { code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', message: 'unable to verify' })!, /KAFKA_SSL_CA_FILE/);
    assert.match(kafkaConnectionHint('SSL', { message: 'Client network socket disconnected before secure TLS connection was established' })!, /PLAINTEXT or SASL_PLAINTEXT listener/);
    assert.equal(kafkaConnectionHint('SASL_SSL', { code: 'ECONNREFUSED', message: 'connect ECONNREFUSED' }), undefined);
  });
});

describe('redisTlsOptions', () => {
  it('is off for redis://, on for rediss:// with the CA file', () => {
    assert.equal(redisTlsOptions('redis://:pw@cache:6379', {}), undefined);
    assert.deepEqual(redisTlsOptions('rediss://cache:6380', {}), {});
    assert.deepEqual(redisTlsOptions('rediss://cache:6380', { REDIS_TLS_CA_FILE: caFile }), { ca: CERT });
  });

  it('refuses TLS files with a redis:// URL and a CA file that is missing', () => {
    assert.throws(() => redisTlsOptions('redis://cache:6379', { REDIS_TLS_CA_FILE: caFile }), /^ConnectionConfigError: REDIS_TLS_CA_FILE is set but REDIS_URL is redis:\/\/; use rediss:\/\/ for TLS$/);
    assert.throws(() => redisTlsOptions('rediss://cache:6380', { REDIS_TLS_CA_FILE: join(dir, 'nope') }), /REDIS_TLS_CA_FILE=.*nope does not exist/);
    assert.throws(() => redisTlsOptions('rediss://cache:6380', { REDIS_TLS_KEY_FILE: keyFile }), /REDIS_TLS_KEY_FILE is set but REDIS_TLS_CERT_FILE is not/);
  });
});

describe('explainRedisError', () => {
  it('says which part of REDIS_URL to fix, never the password', () => {
    const url = 'rediss://app:hunter2@cache:6380';
    const wrong = explainRedisError(url, new Error('WRONGPASS invalid username-password pair or user is disabled.'));
    assert.match(wrong, /^Redis at rediss:\/\/cache:6380 refused the user\/password in REDIS_URL/);
    assert.match(explainRedisError(url, new Error('NOAUTH Authentication required.')), /requires a password: put it in REDIS_URL/);
    assert.match(explainRedisError(url, Object.assign(new Error('self-signed certificate'), { code: 'SELF_SIGNED_CERT_IN_CHAIN' })), /set REDIS_TLS_CA_FILE/);
    for (const m of [wrong, explainRedisError(url, new Error('connect ECONNREFUSED'))]) assert.doesNotMatch(m, /hunter2/);
  });
});

describe('registryAuthHeaders', () => {
  it('Bearer from a token, Basic from user and password, nothing by default', () => {
    assert.deepEqual(registryAuthHeaders({}), {});
    assert.deepEqual(registryAuthHeaders({ SCHEMA_REGISTRY_TOKEN: 't0k' }), { authorization: 'Bearer t0k' });
    assert.deepEqual(registryAuthHeaders({ SCHEMA_REGISTRY_USER: 'u', SCHEMA_REGISTRY_PASSWORD: 'p' }), { authorization: `Basic ${Buffer.from('u:p').toString('base64')}` });
    assert.throws(() => registryAuthHeaders({ SCHEMA_REGISTRY_USER: 'u', SCHEMA_REGISTRY_TOKEN: 't' }), /either SCHEMA_REGISTRY_TOKEN or SCHEMA_REGISTRY_USER/);
  });
});

describe('runtimeOptionsFromEnv', () => {
  it('lists connection problems together with the other configuration problems, before anything connects', () => {
    const env = { KAFKA_BROKERS: 'k:9092', SCHEMA_REGISTRY_URL: 'http://r:8081', REDIS_URL: 'redis://c:6379', KAFKA_SECURITY_PROTOCOL: 'SASL_SSL', REDIS_TLS_CA_FILE: caFile, STREAMSCORE_SESSION_TIMEOUT_MS: '1' };
    assert.throws(() => runtimeOptionsFromEnv(env), (e: Error) =>
      /KAFKA_SASL_MECHANISM is not set/.test(e.message) && /REDIS_TLS_CA_FILE is set but REDIS_URL is redis:\/\//.test(e.message) && /STREAMSCORE_SESSION_TIMEOUT_MS/.test(e.message));
  });
});
