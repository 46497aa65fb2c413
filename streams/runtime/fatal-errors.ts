// Which Kafka errors end a processor instead of restarting its session. Everything else (a broker
// restart, a coordinator that moved or is loading, a transaction left half-ended by an outage, a
// dependency down through every retry) is worth another session from the last commit.
const FATAL_TYPES = new Set([
  // A newer instance with the same transactional id took over: this one is a zombie and must stop.
  'INVALID_PRODUCER_EPOCH',
  'PRODUCER_FENCED',
  'INVALID_PRODUCER_ID_MAPPING',
  // Credentials or ACLs: no retry changes them.
  'SASL_AUTHENTICATION_FAILED',
  'TOPIC_AUTHORIZATION_FAILED',
  'GROUP_AUTHORIZATION_FAILED',
  'CLUSTER_AUTHORIZATION_FAILED',
  'TRANSACTIONAL_ID_AUTHORIZATION_FAILED',
]);
const FATAL_NAMES = new Set(['KafkaJSSASLAuthenticationError', 'KafkaJSInvalidVarIntError']);

/** True when `err` (or an error it wraps) is one that restarting the consumer session cannot fix. */
export function fatalKafkaError(err: unknown): boolean {
  for (let e = err as { name?: string; type?: string; cause?: unknown; originalError?: unknown } | undefined, depth = 0; e && depth < 5; depth++) {
    if ((e.type && FATAL_TYPES.has(e.type)) || (e.name && FATAL_NAMES.has(e.name))) return true;
    e = (e.cause ?? e.originalError) as typeof e;
  }
  return false;
}
