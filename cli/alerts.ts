// `streamscore alerts tail [--from-beginning] [--limit N]`: maintenance alerts as they arrive, for
// a person at a terminal. Reads committed records only and never commits (a throwaway group).
import { randomUUID } from 'node:crypto';
import { TOPICS, loadSchema } from '../schemas/topics.ts';
import type { MaintenanceAlert } from '../schemas/generated/types.ts';
import { brokerList, createKafka } from '../streams/runtime/kafka-client.ts';
import { createLogger } from '../streams/runtime/logger.ts';
import { ConfluentSchemaStore } from '../streams/runtime/schema-store.ts';
import { AvroSerde } from '../streams/runtime/serde.ts';
import { serviceEnv } from './env.ts';

const iso = (t: number) => new Date(t).toISOString().replace('T', ' ').slice(0, 19);

export function formatAlert(a: MaintenanceAlert, color = false): string {
  const paint = (code: number, s: string) => (color ? `\u001b[${code}m${s}\u001b[0m` : s);
  const head = a.state === 'RAISED' ? paint(31, 'RAISED ') : paint(32, 'CLEARED');
  const lines = [
    `${iso(a.state === 'RAISED' ? a.raised_at : (a.cleared_at ?? a.event_time))}  ${head}  ${paint(1, a.arm_id)}  p=${a.failure_probability.toFixed(2)} (threshold ${a.threshold.toFixed(2)})  ${a.model_name} ${a.model_version}  [${a.alert_id}]`,
    `    ${a.summary}`,
  ];
  for (const c of a.explanation) lines.push(`      ${c.contribution >= 0 ? '+' : '−'}${Math.abs(c.contribution).toFixed(2)}  ${c.description}`);
  return lines.join('\n');
}

export async function run(args: string[]): Promise<number> {
  if (args[0] !== 'tail') {
    process.stderr.write('usage: streamscore alerts tail [--from-beginning] [--limit N]\n');
    return 2;
  }
  const fromBeginning = args.includes('--from-beginning');
  const limitAt = args.indexOf('--limit');
  const limit = limitAt >= 0 ? Number(args[limitAt + 1]) : Number.POSITIVE_INFINITY;
  const env = serviceEnv();
  const log = createLogger({ command: 'alerts' }).child({}, { level: 'warn' });
  const serde = new AvroSerde(new ConfluentSchemaStore(env.SCHEMA_REGISTRY_URL ?? ''));
  serde.useReader(TOPICS.maintenanceAlerts.name, loadSchema(TOPICS.maintenanceAlerts.schema));
  const consumer = createKafka('streamscore-alerts-tail', brokerList(env.KAFKA_BROKERS ?? ''), log).consumer({ groupId: `alerts-tail-${randomUUID()}`, readUncommitted: false });
  await consumer.connect();
  await consumer.subscribe({ topic: TOPICS.maintenanceAlerts.name, fromBeginning });
  let shown = 0;
  const done = new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
    void consumer.run({
      autoCommit: false,
      eachMessage: async ({ message }) => {
        if (shown >= limit) return;
        try {
          process.stdout.write(`${formatAlert((await serde.decode(TOPICS.maintenanceAlerts.name, message.value)) as MaintenanceAlert, process.stdout.isTTY)}\n`);
        } catch (err) {
          process.stdout.write(`(undecodable alert at offset ${message.offset}: ${(err as Error).message})\n`);
        }
        if (++shown >= limit) resolve();
      },
    });
  });
  process.stderr.write(`tailing ${TOPICS.maintenanceAlerts.name}${fromBeginning ? ' from the beginning' : ''} (Ctrl-C to stop)\n`);
  await done;
  await consumer.disconnect();
  return 0;
}
