// `streamscore billing produce`: synthetic subscribers or the IBM Telco table as BillingEvents on
// telecom.billing-events.v1 (or a JSON-lines file). See docs/billing-producer.md.
import { existsSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { TOPICS } from '../schemas/topics.ts';
import type { BillingEvent } from '../schemas/generated/types.ts';
import { produceBillingEvents, type BillingDestination, type Compression } from '../connectors/billing/producer.ts';
import { DEFAULT_SUBSCRIBER_OPTIONS, checkSubscriberOptions, subscriberEvents } from '../connectors/billing/subscriber-simulator.ts';
import { DEFAULT_CUTOFF, TelcoCsvError, defaultTelcoCsv, readTelcoCsv, telcoEvents } from '../connectors/billing/telco-events.ts';
import { OptionError, parseNumber } from '../connectors/options.ts';
import { CustomerMappingError, cutoffOf, loadCustomerMapping } from '../connectors/billing/customer-mapping.ts';
import { readCustomerTable } from '../connectors/billing/customer-rows.ts';
import { customerTableEvents } from '../connectors/billing/customer-table.ts';
import { brokerList } from '../streams/runtime/kafka-client.ts';
import { createLogger } from '../streams/runtime/logger.ts';
import { serviceEnv } from './env.ts';

const isoDate = (ms: number) => new Date(ms).toISOString().slice(0, 10);

const USAGE = `usage: streamscore billing produce --source synthetic [--users N] [--days D] [--start YYYY-MM-DD] [--seed S] [options]
       streamscore billing produce --source telco [--csv FILE] [--cutoff YYYY-MM-DD] [--limit N] [options]
       streamscore billing produce --source table --mapping M.json --csv FILE [--cutoff YYYY-MM-DD] [--limit N] [options]

  --source synthetic    simulated subscribers with churn behaviour
    --users N           subscribers (default ${DEFAULT_SUBSCRIBER_OPTIONS.users})
    --days D            simulated days (default ${DEFAULT_SUBSCRIBER_OPTIONS.days})
    --start DATE        first simulated day (default ${isoDate(DEFAULT_SUBSCRIBER_OPTIONS.start)})
    --seed S            integer seed (default ${DEFAULT_SUBSCRIBER_OPTIONS.seed}); same seed, same events
  --source telco        the IBM Telco Customer Churn table, one event stream per row
    --csv FILE          (default ../shared/data/telco-churn-ibm/Telco-Customer-Churn.csv when present,
                        else connectors/samples/telco-churn-sample.csv)
    --cutoff DATE       C: bills end at C, usage covers the 90 days up to C, churners cancel in
                        (C, C+30] (default ${isoDate(DEFAULT_CUTOFF)})
    --limit N           only the first N rows
  --source table        any churn table through a customer mapping (docs/customer-tables.md)
    --mapping M.json    e.g. connectors/mappings/customers/bigml-orange.json
    --csv FILE          the table; --cutoff (default: the mapping's) and --limit as for telco
    --rejects FILE      rows the mapping cannot read, one JSON line each (default: counted only)

options:
  --rate N              events per second (default: as fast as the broker takes them)
  --topic T             (default ${TOPICS.billingEvents.name}; created if missing)
  --out FILE.jsonl      write JSON lines to FILE instead of producing to Kafka
  --compression C       gzip (default) or none
  --batch N             events per send (default 4000)
`;

const OPTIONS = {
  source: { type: 'string' },
  users: { type: 'string' },
  days: { type: 'string' },
  start: { type: 'string' },
  seed: { type: 'string' },
  csv: { type: 'string' },
  cutoff: { type: 'string' },
  limit: { type: 'string' },
  mapping: { type: 'string' },
  rejects: { type: 'string' },
  rate: { type: 'string' },
  topic: { type: 'string' },
  out: { type: 'string' },
  compression: { type: 'string' },
  batch: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

const SYNTHETIC_ONLY = ['users', 'days', 'start', 'seed'] as const;
const TELCO_ONLY = ['csv', 'cutoff', 'limit'] as const;
const TABLE_ONLY = ['mapping', 'rejects'] as const;

export async function run(args: string[]): Promise<number> {
  const [mode, ...rest] = args;
  if (mode === undefined || mode === '--help' || mode === '-h' || mode === 'help') {
    process.stdout.write(USAGE);
    return mode === undefined ? 2 : 0;
  }
  if (mode !== 'produce') {
    process.stderr.write(`streamscore billing: unknown subcommand ${JSON.stringify(mode)}\n\n${USAGE}`);
    return 2;
  }
  let v;
  try {
    ({ values: v } = parseArgs({ args: rest, options: OPTIONS, strict: true }));
  } catch (err) {
    process.stderr.write(`streamscore billing: ${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (v.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const abort = new AbortController();
  const stop = () => abort.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    const source = v.source;
    if (source !== 'synthetic' && source !== 'telco' && source !== 'table') throw new OptionError('--source must be synthetic, telco or table');
    const notFor = { synthetic: [...TELCO_ONLY, ...TABLE_ONLY], telco: [...SYNTHETIC_ONLY, ...TABLE_ONLY], table: SYNTHETIC_ONLY }[source];
    const misplaced = notFor.filter((k) => v[k] !== undefined);
    let rejected: number | undefined;
    if (misplaced.length) throw new OptionError(`${misplaced.map((k) => `--${k}`).join(', ')}: not for --source ${source}`);
    let events: Iterable<BillingEvent>;
    if (source === 'synthetic') {
      const o = {
        ...DEFAULT_SUBSCRIBER_OPTIONS,
        ...(v.users !== undefined && { users: parseNumber('users', v.users, { integer: true, min: 1 }) }),
        ...(v.days !== undefined && { days: parseNumber('days', v.days, { integer: true, min: 1 }) }),
        ...(v.start !== undefined && { start: parseDate('start', v.start) }),
        ...(v.seed !== undefined && { seed: parseNumber('seed', v.seed, { integer: true, min: -(2 ** 31) }) }),
      };
      const problems = checkSubscriberOptions(o);
      if (problems.length) throw new OptionError(problems.join('; '));
      events = subscriberEvents(o);
    } else if (source === 'table') {
      if (v.mapping === undefined || v.csv === undefined) throw new OptionError('--source table needs --mapping M.json and --csv FILE');
      if (!existsSync(v.csv)) throw new OptionError(`${v.csv}: no such file`);
      const mapping = loadCustomerMapping(v.mapping);
      const limit = v.limit === undefined ? Infinity : parseNumber('limit', v.limit, { integer: true, min: 1 });
      const table = readCustomerTable(v.csv, mapping, limit);
      rejected = table.rejects.length;
      if (v.rejects !== undefined) writeFileSync(v.rejects, table.rejects.map((r) => `${JSON.stringify(r)}\n`).join(''));
      events = customerTableEvents(table.customers, mapping, v.cutoff === undefined ? cutoffOf(mapping) : parseDate('cutoff', v.cutoff));
    } else {
      const csv = v.csv ?? defaultTelcoCsv();
      if (!existsSync(csv)) throw new OptionError(`${csv}: no such file`);
      const limit = v.limit === undefined ? Infinity : parseNumber('limit', v.limit, { integer: true, min: 1 });
      const cutoff = v.cutoff === undefined ? DEFAULT_CUTOFF : parseDate('cutoff', v.cutoff);
      events = telcoEvents(readTelcoCsv(csv, limit), cutoff);
    }
    const compression = v.compression ?? 'gzip';
    if (compression !== 'gzip' && compression !== 'none') throw new OptionError(`--compression must be gzip or none, got ${JSON.stringify(compression)}`);
    if (v.out !== undefined && v.compression !== undefined) throw new OptionError('--compression is for Kafka, not --out');
    let destination: BillingDestination;
    if (v.out !== undefined) destination = { kind: 'jsonl', path: v.out };
    else {
      const env = serviceEnv();
      destination = { kind: 'kafka', brokers: brokerList(env.KAFKA_BROKERS ?? ''), schemaRegistryUrl: env.SCHEMA_REGISTRY_URL ?? '', compression: compression as Compression };
    }
    const topic = v.topic ?? TOPICS.billingEvents.name;
    const log = createLogger({ component: 'billing-producer' });
    const summary = await produceBillingEvents(events, {
      destination,
      topic,
      rate: v.rate === undefined ? Infinity : parseNumber('rate', v.rate, { min: 0.001 }),
      batchSize: v.batch === undefined ? undefined : parseNumber('batch', v.batch, { integer: true, min: 1 }),
      log,
      signal: abort.signal,
    });
    const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());
    process.stdout.write(`${JSON.stringify({
      source,
      to: v.out ?? topic,
      produced: summary.produced,
      churners: summary.cancellations,
      ...(rejected !== undefined && { rejectedRows: rejected }),
      firstEventTime: iso(summary.firstEventTime),
      lastEventTime: iso(summary.lastEventTime),
      seconds: Math.round(summary.seconds * 10) / 10,
      eventsPerSecond: summary.eventsPerSecond,
      ...(summary.stopped && { stopped: 'interrupted before the end of the source' }),
    })}\n`);
    return 0;
  } catch (err) {
    if (err instanceof OptionError || err instanceof TelcoCsvError || err instanceof CustomerMappingError) {
      process.stderr.write(`streamscore billing: ${err.message}\n\n${USAGE}`);
      return 2;
    }
    throw err;
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}

/** `2026-06-30` -> epoch ms at 00:00 UTC. */
function parseDate(name: string, raw: string): number {
  const t = /^\d{4}-\d{2}-\d{2}$/.test(raw) ? Date.parse(`${raw}T00:00:00Z`) : NaN;
  if (!Number.isFinite(t) || isoDate(t) !== raw) throw new OptionError(`--${name} ${JSON.stringify(raw)} is not a date (YYYY-MM-DD)`);
  return t;
}
