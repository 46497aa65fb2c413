// `streamscore infra up | down | status [--json]`: the embedded default stack (infra/stack/).
import { down, status, up } from '../infra/stack/stack.ts';
import type { ServiceStatus } from '../infra/stack/stack.ts';

const USAGE = `usage: streamscore infra <up | down | status [--json]>

  up      start Kafka, the schema registry and Redis on 127.0.0.1 (idempotent); services whose
          KAFKA_BROKERS / SCHEMA_REGISTRY_URL / REDIS_URL is set are used as they are; then the
          committed models are seeded into MLflow once (streamscore models seed)
  down    stop what \`infra up\` started
  status  one line per service; --json prints the array. Exit code 1 when any is unhealthy

env: STREAMSCORE_KAFKA_PORT (9092) STREAMSCORE_KAFKA_CONTROLLER_PORT (9093) STREAMSCORE_REGISTRY_PORT (8085)
     STREAMSCORE_REGISTRY_MANAGEMENT_PORT (8086) STREAMSCORE_REDIS_PORT (6390) STREAMSCORE_DATA_DIR (<repo>/.data)
     STREAMSCORE_REGISTRY_JAVA (a JDK >= 21 for the registry) JAVA_HOME (Java >= 17 for Kafka)
`;

export async function run(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  const json = rest.includes('--json');
  const unknown = rest.filter((a) => a !== '--json' || sub !== 'status');
  if (unknown.length > 0 || !['up', 'down', 'status'].includes(sub ?? '')) {
    if (sub === 'help' || sub === '--help' || sub === '-h') {
      process.stdout.write(USAGE);
      return 0;
    }
    process.stderr.write(USAGE);
    return 2;
  }
  if (sub === 'up') {
    process.stdout.write(formatTable(await up()));
    // The committed models become version 1 / champion in MLflow the first time (cli/models.ts).
    await (await import('./models.ts')).seedAfterUp((line) => process.stdout.write(`${line}\n`));
    return 0;
  }
  if (sub === 'down') {
    await down();
    return 0;
  }
  const statuses = await status();
  process.stdout.write(json ? `${JSON.stringify(statuses, null, 2)}\n` : formatTable(statuses));
  return statuses.every((s) => s.healthy) ? 0 : 1;
}

export function formatTable(statuses: ServiceStatus[]): string {
  const rows = [
    ['SERVICE', 'MANAGED', 'ENDPOINT', 'PID', 'HEALTHY', 'DETAIL'],
    ...statuses.map((s) => [s.service, s.managed, s.endpoint, s.pid === null ? '-' : String(s.pid), s.healthy ? 'yes' : 'NO', s.detail]),
  ];
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return `${rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]))).join('  ')).join('\n')}\n`;
}
