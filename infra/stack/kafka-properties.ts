// server.properties of the embedded single-node KRaft broker (combined broker + controller),
// rendered from code so ports and paths follow the stack config.

/** Fixed cluster id: storage is formatted once and reused across `infra up` runs. */
export const CLUSTER_ID = 'MkU3OEVBNTcwNTJENDM2Qk';

/** Documents are up to 16 MiB; 1 MiB headroom for the key, headers and record-batch overhead. */
export const MAX_MESSAGE_BYTES = 16 * 1024 * 1024 + 1024 * 1024;

export interface KafkaPropertiesInput {
  host: string;
  port: number;
  controllerPort: number;
  logDirs: string;
}

export function kafkaServerProperties({ host, port, controllerPort, logDirs }: KafkaPropertiesInput): Record<string, string | number | boolean> {
  return {
    'process.roles': 'broker,controller',
    'node.id': 1,
    // Static quorum: `StorageTool format` without --standalone works on every Kafka 3.9 / 4.x.
    'controller.quorum.voters': `1@${host}:${controllerPort}`,
    'listeners': `PLAINTEXT://${host}:${port},CONTROLLER://${host}:${controllerPort}`,
    'advertised.listeners': `PLAINTEXT://${host}:${port}`,
    'controller.listener.names': 'CONTROLLER',
    'inter.broker.listener.name': 'PLAINTEXT',
    'listener.security.protocol.map': 'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
    'log.dirs': logDirs,

    // One broker: every internal topic must have replication factor 1, or it is never created.
    'num.partitions': 1,
    'default.replication.factor': 1,
    'offsets.topic.replication.factor': 1,
    // One partition: with a single broker every __consumer_offsets partition has the same leader,
    // so more partitions would not spread commit load, only slow the first coordinator load.
    'offsets.topic.num.partitions': 1,
    'transaction.state.log.replication.factor': 1,
    'transaction.state.log.min.isr': 1,
    'transaction.state.log.num.partitions': 1,
    'share.coordinator.state.topic.replication.factor': 1,
    'share.coordinator.state.topic.min.isr': 1,
    'group.initial.rebalance.delay.ms': 0,

    // Topics are declared in code; a typo must fail, not create a topic.
    'auto.create.topics.enable': false,
    'message.max.bytes': MAX_MESSAGE_BYTES,
    'replica.fetch.max.bytes': MAX_MESSAGE_BYTES,
    // Default is 5 min; check retention every minute so short-retention test topics shrink promptly.
    'log.retention.check.interval.ms': 60_000,
    // Each partition's offset and time indexes are preallocated at this size (default 10 MiB each):
    // sparse files on ext4, but real bytes on a file system without holes, where a test run's few
    // hundred partitions would take gigabytes. 1 MiB indexes a 512 MiB segment at the default
    // 4 KiB interval; a segment whose index fills just rolls early.
    'log.index.size.max.bytes': 1_048_576,
  };
}

/** Java properties text; values here never need escaping beyond backslashes. */
export function renderProperties(props: Record<string, string | number | boolean>, header: string): string {
  const lines = [`# ${header}`];
  for (const [key, value] of Object.entries(props)) lines.push(`${key}=${String(value).replaceAll('\\', '\\\\')}`);
  return `${lines.join('\n')}\n`;
}
