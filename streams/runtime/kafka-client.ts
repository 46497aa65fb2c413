// One place that builds kafkajs clients, so retry, timeouts, logging and connection security (TLS,
// SASL from KAFKA_SECURITY_PROTOCOL and friends: connection-security.ts) are the same everywhere.
// kafkajs logs through pino; its INFO chatter (joins, commits) is kept at debug level.
import { isIP, connect as tcpConnect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { Kafka, logLevel, type ConsumerConfig, type ISocketFactory, type LogEntry } from 'kafkajs';
import type { TopicSpec } from '../../schemas/topics.ts';
import type { Logger } from './logger.ts';
import { ConnectionConfigError, kafkaConnectionHint, kafkaSecurityFromEnv, type KafkaSecurityProtocol } from './connection-security.ts';
import { formatHostPort, parseBrokers } from './broker-address.ts';
import { isTlsAlert, requestApiVersions } from './kafka-protocol.ts';

// kafkajs v2 warns on every producer about its partitioner change; we use the default (murmur2,
// Java-compatible) partitioner knowingly.
process.env.KAFKAJS_NO_PARTITIONER_WARNING ??= '1';

/** kafkajs' warning for every idempotent producer whose retries are bounded. */
const BOUNDED_RETRY_WARNING = 'Limiting retries for the idempotent producer';

export interface KafkaClientOptions {
  /**
   * The caller bounds an idempotent producer's retries on purpose and never resends a failed batch
   * as a new one (it resends it unchanged, or fails the whole run or transaction): kafkajs' warning
   * that this "may invalidate EoS guarantees" does not apply, so it is logged at debug.
   */
  boundedIdempotentRetries?: boolean;
}

/** Throws ConnectionConfigError (naming the variable) when the Kafka security env vars are wrong. */
export function createKafka(clientId: string, brokers: string[], log: Logger, options: KafkaClientOptions = {}): Kafka {
  muteKafkajsTimerWarning();
  const { protocol, ssl, sasl } = kafkaSecurityFromEnv();
  return new Kafka({
    clientId,
    brokers,
    ...(ssl ? { ssl } : {}),
    ...(sasl ? { sasl } : {}),
    socketFactory: explainingSocketFactory(protocol),
    // A cold broker JVM on a 2-core machine can take seconds to answer the first requests.
    connectionTimeout: 5_000,
    requestTimeout: 30_000,
    retry: { initialRetryTime: 200, retries: 10, maxRetryTime: 10_000 },
    logLevel: logLevel.WARN,
    logCreator: () => (entry: LogEntry) => {
      const { message, ...extra } = entry.log;
      const fields = { component: 'kafkajs', namespace: entry.namespace, ...extra };
      // kafkajs logs each error response at ERROR before retrying it (coordinator loading, concurrent
      // transactions during startup); failures that survive its retries reach our code as exceptions.
      const retried = (entry.namespace === 'Connection' && message.startsWith('Response ')) || 'retryCount' in extra;
      if (retried || (options.boundedIdempotentRetries && message.startsWith(BOUNDED_RETRY_WARNING))) log.debug(fields, message);
      else if (entry.level === logLevel.ERROR) log.error(fields, message);
      else if (entry.level === logLevel.WARN) log.warn(fields, message);
      else log.debug(fields, message);
    },
  });
}

/**
 * kafkajs' own socket factory (keep-alive 60 s, SNI for host names), plus a hint in the error when a
 * failure points at the security settings: a TLS listener answering plaintext with an alert (kafkajs
 * would read it as a 350 MB frame and report only "Closed connection"), an untrusted certificate.
 */
function explainingSocketFactory(protocol: KafkaSecurityProtocol): ISocketFactory {
  return ({ host, port, ssl, onConnect }) => {
    const socket = ssl
      ? tlsConnect({ host, port, ...(isIP(host) ? {} : { servername: host }), ...ssl }, onConnect)
      : tcpConnect({ host, port }, onConnect);
    socket.setKeepAlive(true, 60_000);
    // Registered before kafkajs' own listeners, so the message is amended before kafkajs reads it.
    socket.on('error', (err: Error & { code?: string }) => {
      const hint = kafkaConnectionHint(protocol, err);
      if (hint && !err.message.includes(hint)) err.message = `${host}:${port}: ${err.message}; ${hint}`;
    });
    if (!ssl) {
      socket.once('data', (chunk: Buffer) => {
        if (isTlsAlert(chunk)) socket.destroy(new Error(`${host}:${port} answered with a TLS alert; ${kafkaConnectionHint(protocol, { message: '' }, true)}`));
      });
    }
    return socket;
  };
}

/**
 * One ApiVersions round trip to the first broker that answers, with the configured TLS: throws a
 * ConnectionConfigError when the answer shows the security settings do not match the listener
 * (plaintext to a TLS port, an untrusted certificate, TLS to a plaintext port), so a processor fails
 * at once with the fix instead of after kafkajs' retries. A broker that is down is not an error
 * here (kafkajs retries it). SASL credentials are checked by kafkajs itself, which fails fast on them.
 */
export async function checkKafkaSecurity(brokers: string[], env: NodeJS.ProcessEnv = process.env, timeoutMs = 5_000): Promise<void> {
  const { protocol, ssl } = kafkaSecurityFromEnv(env);
  for (const broker of brokers) {
    const parsed = parseBrokers(broker, [])[0];
    if (!parsed) continue;
    const { host, port } = parsed;
    try {
      await requestApiVersions(host, port, timeoutMs, ssl ? { ...(isIP(host) ? {} : { servername: host }), ...ssl } : undefined);
      return;
    } catch (err) {
      const e = err as Error & { code?: string };
      const hint = kafkaConnectionHint(protocol, e, e.message.includes('with a TLS alert'));
      if (hint) throw new ConnectionConfigError(`Kafka at ${broker}: ${e.message}; ${hint}`);
    }
  }
}

/**
 * Consumer settings shared by processors and sinks: read_committed; a session timeout (how long a
 * killed member holds its partitions) with heartbeats at a third of it, at most 3 s; a fetch size
 * that fits the largest record any input allows.
 */
export function groupConsumerConfig(groupId: string, inputs: TopicSpec[], sessionTimeoutMs = 30_000): ConsumerConfig {
  return {
    groupId,
    readUncommitted: false,
    sessionTimeout: sessionTimeoutMs,
    heartbeatInterval: Math.min(3_000, Math.floor(sessionTimeoutMs / 3)),
    maxBytesPerPartition: Math.max(1_048_576, ...inputs.map((t) => t.maxMessageBytes)),
  };
}

/** `host:port,...` (KAFKA_BROKERS) to the list kafkajs takes; the same parser the stack config uses. */
export function brokerList(raw: string): string[] {
  const problems: string[] = [];
  const brokers = parseBrokers(raw, problems);
  if (problems.length) throw new Error(problems.join('; '));
  return brokers.map(formatHostPort);
}

/**
 * kafkajs 2.2.4 schedules a timer with a negative delay whenever its request queue holds a request
 * (one request in flight), and Node >= 23 prints a TimeoutNegativeWarning for each; the timer works
 * (it fires at once). Every kafkajs client is made here, so it is muted here; every other warning
 * is still printed.
 */
let timerWarningMuted = false;
export function muteKafkajsTimerWarning(): void {
  if (timerWarningMuted) return;
  timerWarningMuted = true;
  const defaults = process.listeners('warning');
  process.removeAllListeners('warning');
  process.on('warning', (w) => {
    if (w.name === 'TimeoutNegativeWarning') return;
    for (const l of defaults) l.call(process, w);
  });
}
