import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { loadStackConfig } from './config.ts';
import { ConfigError } from './errors.ts';
import { embeddedRedisUrl, parseSaslUsers, redisPortArgs, scramFormatArgs, secureListenerProperties } from './secure-services.ts';

const dir = mkdtempSync(join(tmpdir(), 'ss-secure-services-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const cert = join(dir, 'server.pem');
const key = join(dir, 'server.key');
writeFileSync(cert, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
writeFileSync(key, '-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n');
const LISTENER = { STREAMSCORE_KAFKA_SASL_SSL_PORT: '19094', STREAMSCORE_KAFKA_SSL_CERT_FILE: cert, STREAMSCORE_KAFKA_SSL_KEY_FILE: key, STREAMSCORE_KAFKA_SASL_USERS: 'SCRAM-SHA-256:app:a:b,PLAIN:ops:pw' };

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadStackConfig(env, dir);
  } catch (err) {
    if (err instanceof ConfigError) return [...err.problems];
    throw err;
  }
  return [];
}

describe('embedded SASL_SSL listener config', () => {
  it('is off by default, so the default stack is unchanged', () => {
    const c = loadStackConfig({}, dir);
    assert.deepEqual(c.kafka, { managed: 'embedded', port: 9092, controllerPort: 9093 });
    assert.equal(c.redisUrl, 'redis://127.0.0.1:6390');
  });

  it('reads port, PEM files and users (a password may contain colons)', () => {
    const c = loadStackConfig(LISTENER, dir);
    assert.ok(c.kafka.managed === 'embedded' && c.kafka.secureListener);
    assert.equal(c.kafka.secureListener.port, 19094);
    assert.deepEqual(c.kafka.secureListener.users, [{ mechanism: 'SCRAM-SHA-256', name: 'app', password: 'a:b' }, { mechanism: 'PLAIN', name: 'ops', password: 'pw' }]);
  });

  it('lists every problem: a missing variable, a clashing port, a bad user entry (password hidden)', () => {
    assert.match(problemsOf({ STREAMSCORE_KAFKA_SASL_SSL_PORT: '19094' })[0], /STREAMSCORE_KAFKA_SASL_SSL_PORT set but .*STREAMSCORE_KAFKA_SASL_USERS not/);
    assert.match(problemsOf({ ...LISTENER, STREAMSCORE_KAFKA_SASL_SSL_PORT: '9092' })[0], /STREAMSCORE_KAFKA_PORT and STREAMSCORE_KAFKA_SASL_SSL_PORT are both 9092/);
    const bad = problemsOf({ ...LISTENER, STREAMSCORE_KAFKA_SASL_USERS: 'GSSAPI:app:secret', STREAMSCORE_KAFKA_SSL_CERT_FILE: key });
    assert.ok(bad.some((p) => /STREAMSCORE_KAFKA_SSL_CERT_FILE=.* holds no PEM certificate/.test(p)), bad.join('\n'));
    assert.ok(bad.some((p) => /entry "GSSAPI:app:\*\*\*" is not MECHANISM:name:password/.test(p)), bad.join('\n'));
    assert.ok(!bad.join('').includes('secret'));
  });

  it('refuses characters that would break the JAAS or --add-scram syntax', () => {
    const problems: string[] = [];
    assert.deepEqual(parseSaslUsers('PLAIN:ops:p"w,SCRAM-SHA-512:x:a]b', problems), []);
    assert.equal(problems.length, 2);
  });

  it('adds a SASL_SSL listener beside PLAINTEXT, PLAIN users in JAAS, SCRAM users as format arguments', () => {
    const users = parseSaslUsers('PLAIN:ops:pw,SCRAM-SHA-512:app:s3cret', []);
    const base = { 'listeners': 'PLAINTEXT://127.0.0.1:9092,CONTROLLER://127.0.0.1:9093', 'advertised.listeners': 'PLAINTEXT://127.0.0.1:9092', 'listener.security.protocol.map': 'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT' };
    const props = secureListenerProperties(base, '127.0.0.1', { port: 19094, certFile: cert, keyFile: key, users }, '/k.pem');
    assert.equal(props.listeners, 'PLAINTEXT://127.0.0.1:9092,CONTROLLER://127.0.0.1:9093,SASL_SSL://127.0.0.1:19094');
    assert.equal(props['listener.security.protocol.map'], 'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SASL_SSL:SASL_SSL');
    assert.equal(props['listener.name.sasl_ssl.plain.sasl.jaas.config'], 'org.apache.kafka.common.security.plain.PlainLoginModule required user_ops="pw";');
    assert.deepEqual(scramFormatArgs(users), ['--add-scram', 'SCRAM-SHA-512=[name=app,password=s3cret]']);
  });
});

describe('embedded Redis security', () => {
  it('puts the password in the URL and switches to rediss:// and a TLS-only port with a certificate', () => {
    const c = loadStackConfig({ STREAMSCORE_REDIS_PASSWORD: 'p@ss', STREAMSCORE_REDIS_TLS_CERT_FILE: cert, STREAMSCORE_REDIS_TLS_KEY_FILE: key }, dir);
    assert.equal(c.redisUrl, 'rediss://:p%40ss@127.0.0.1:6390');
    assert.ok(c.redis.managed === 'embedded');
    assert.deepEqual(redisPortArgs(6390, c.redis.security).slice(0, 4), ['--port', '0', '--tls-port', '6390']);
    assert.deepEqual(redisPortArgs(6390, undefined), ['--port', '6390']);
    assert.equal(embeddedRedisUrl('127.0.0.1', 1, { password: 'x', tls: undefined }), 'redis://:x@127.0.0.1:1');
  });

  it('needs both TLS files', () => {
    assert.match(problemsOf({ STREAMSCORE_REDIS_TLS_CERT_FILE: cert })[0], /STREAMSCORE_REDIS_TLS_CERT_FILE is set alone/);
  });
});
