// Publishes one day of churn predictions from the lake to telecom.churn-predictions.v1:
// read the committed partition -> validate every row against the Avro schema -> hash -> (unless the
// manifest says this content is already on the topic) produce all rows, keyed by user_id, in ONE
// Kafka transaction -> write `_PUBLISHED.json`. Consumers reading read_committed see the whole day
// or nothing. A crash after the commit but before the manifest is written means the next run
// publishes the same records again: harmless on a topic compacted by user_id.
import { hostname } from 'node:os';
import { basename } from 'node:path';
import avro from 'avsc';
import type { Producer } from 'kafkajs';
import { stderrLog } from '../../infra/stack/process.ts';
import type { Log } from '../../infra/stack/process.ts';
import type { ChurnPrediction } from '../../schemas/generated/types.ts';
import { TOPICS, loadSchema } from '../../schemas/topics.ts';
import type { TopicSpec } from '../../schemas/topics.ts';
import { createKafka } from '../../streams/runtime/kafka-client.ts';
import { createLogger } from '../../streams/runtime/logger.ts';
import type { Logger } from '../../streams/runtime/logger.ts';
import { ConfluentSchemaStore } from '../../streams/runtime/schema-store.ts';
import { AvroSerde } from '../../streams/runtime/serde.ts';
import { ensureTopics } from '../../streams/runtime/topics-admin.ts';
import { PublishError } from './errors.ts';
import { contentHash, encodeRows, publishDecision, readManifest, writeManifest } from './manifest.ts';
import type { EncodedRow } from './manifest.ts';
import { defaultLakeDir } from '../parquet-sink/datasets.ts';
import { listPartFiles, partitionDir, readPartFile, scoreDateDays } from './partition.ts';

/** Messages per produce request inside the transaction (~200 B each: well under 1 MiB per batch). */
const SEND_BATCH = 2_000;
/** Well under the broker's transaction.max.timeout.ms (15 min); a crashed run's open transaction is aborted by the next run's init anyway. */
const TRANSACTION_TIMEOUT_MS = 300_000;
const MAX_REPORTED_INVALID = 5;

export interface PublishOptions {
  /** Lake root; default STREAMSCORE_LAKE_DIR or <repo>/.data/lake. */
  lakeDir?: string;
  /** The partition's day, YYYY-MM-DD. */
  date: string;
  /** kafkajs broker list, e.g. brokerList(KAFKA_BROKERS). */
  brokers: string[];
  /** Confluent-API schema registry URL. */
  registryUrl: string;
  /** Default telecom.churn-predictions.v1; another name gets the same settings (tests use throwaway topics). */
  topic?: string;
  /** Publish even when the manifest says this content is already on the topic. */
  force?: boolean;
  /** Progress lines for humans. */
  log?: Log;
  /** Structured logger for kafkajs and topic creation; default pino at LOG_LEVEL or warn. */
  logger?: Logger;
}

export interface PublishResult {
  /** Records produced in the committed transaction (0 when skipped). */
  published: number;
  /** True when the manifest showed the same content already published to this topic. */
  skipped: boolean;
  /** sha256 of the partition's rows (see manifest.ts). */
  hash: string;
  rows: number;
  topic: string;
  partitionDir: string;
}

export async function publishPredictions(options: PublishOptions): Promise<PublishResult> {
  const { date, force = false, log = stderrLog } = options;
  const spec: TopicSpec = { ...TOPICS.churnPredictions, name: options.topic ?? TOPICS.churnPredictions.name };
  const schema = loadSchema(spec.schema);
  const type = avro.Type.forSchema(schema as avro.Schema);
  const dir = partitionDir(options.lakeDir ?? defaultLakeDir(), date);
  const scoreDate = scoreDateDays(date);

  const started = Date.now();
  const files = listPartFiles(dir);
  const rows: ChurnPrediction[] = [];
  const invalid = { count: 0, examples: [] as string[] };
  for (const [i, file] of files.entries()) {
    const part = readPartFile(file, scoreDate);
    collectInvalid(type, part.rows, basename(file), invalid);
    for (const row of part.rows) rows.push(row);
    if (part.defaulted.length) log(`churn-publisher: ${file} has no ${part.defaulted.join(', ')} column(s); their Avro defaults are used`);
    if (files.length > 4 && (i + 1) % Math.ceil(files.length / 4) === 0) log(`churn-publisher: read ${i + 1}/${files.length} files (${rows.length} rows)`);
  }
  if (invalid.count > 0) {
    throw new PublishError(`${invalid.count} of ${rows.length} rows in ${dir} are not valid ChurnPrediction records; nothing was published:\n  ${invalid.examples.join('\n  ')}`, {
      hint: 'fix the scoring job (models/churn/score.py) and re-score the day',
    });
  }
  const encoded = encodeRows(type, rows);
  const hash = contentHash(encoded);
  log(`churn-publisher: ${dir}: ${rows.length} rows in ${files.length} file(s), sha256 ${hash.slice(0, 12)}, read in ${Date.now() - started} ms`);

  const decision = publishDecision(readManifest(dir), hash, spec.name, force);
  const result = { hash, rows: rows.length, topic: spec.name, partitionDir: dir };
  if (!decision.publish) {
    log(`churn-publisher: nothing to publish: ${decision.reason}`);
    return { ...result, published: 0, skipped: true };
  }
  log(`churn-publisher: publishing ${rows.length} records to ${spec.name}: ${decision.reason}`);

  const logger = options.logger ?? createLogger({ component: 'churn-publisher' }).child({}, { level: process.env.LOG_LEVEL ?? 'warn' });
  // Bounded retries keep a dead broker from hanging the batch job; a send that fails after them
  // aborts the whole transaction, so no partial day is ever visible.
  const kafka = createKafka(`churn-publisher-${hostname()}`, options.brokers, logger, { boundedIdempotentRetries: true });
  const serde = new AvroSerde(new ConfluentSchemaStore(options.registryUrl));
  const schemaId = await serde.useTopic(spec.name, schema);
  const admin = kafka.admin();
  await admin.connect();
  try {
    await ensureTopics(admin, [spec], logger);
  } finally {
    await admin.disconnect();
  }

  // Per topic and day: a second publisher of the same day fences the first (its commit fails), and
  // initTransactions aborts whatever a crashed earlier run of that day left open.
  const transactionalId = `churn-publisher.${spec.name}.${date}`;
  const producer = kafka.producer({ transactionalId, idempotent: true, maxInFlightRequests: 1, transactionTimeout: TRANSACTION_TIMEOUT_MS });
  await producer.connect();
  try {
    await sendInOneTransaction(producer, spec.name, encoded, (row) => serde.encode(spec.name, row.record), log);
  } finally {
    await producer.disconnect();
  }
  writeManifest(dir, {
    content_sha256: hash,
    rows: rows.length,
    topic: spec.name,
    score_date: date,
    schema_id: schemaId,
    transactional_id: transactionalId,
    published_at: new Date().toISOString(),
  });
  log(`churn-publisher: committed ${rows.length} records to ${spec.name} in ${Date.now() - started} ms`);
  return { ...result, published: rows.length, skipped: false };
}

async function sendInOneTransaction<T>(producer: Producer, topic: string, rows: readonly EncodedRow<T>[], value: (row: EncodedRow<T>) => Buffer, log: Log): Promise<void> {
  if (rows.length === 0) return; // an empty day: nothing to commit, the manifest still records it
  const txn = await producer.transaction();
  try {
    let nextReport = rows.length / 10;
    for (let from = 0; from < rows.length; from += SEND_BATCH) {
      const batch = rows.slice(from, from + SEND_BATCH);
      await txn.send({ topic, acks: -1, messages: batch.map((r) => ({ key: r.key, value: value(r) })) });
      const sent = from + batch.length;
      if (rows.length > SEND_BATCH && (sent >= nextReport || sent === rows.length)) {
        log(`churn-publisher: sent ${sent}/${rows.length} (${Math.round((100 * sent) / rows.length)}%), not yet committed`);
        nextReport = sent + rows.length / 10;
      }
    }
    await txn.commit();
  } catch (err) {
    await txn.abort().catch(() => undefined);
    throw err;
  }
}

/** Adds the rows that are not valid ChurnPrediction records to `invalid` (the first few with what is wrong). */
function collectInvalid(type: avro.Type, rows: readonly ChurnPrediction[], file: string, invalid: { count: number; examples: string[] }): void {
  for (const [i, row] of rows.entries()) {
    const paths: string[] = [];
    if (type.isValid(row, { errorHook: (path, v) => paths.push(`${path.join('.')}=${JSON.stringify(v)?.slice(0, 60)}`) })) continue;
    invalid.count++;
    if (invalid.examples.length < MAX_REPORTED_INVALID) invalid.examples.push(`${file} row ${i} (user_id ${JSON.stringify(row.user_id)}): ${paths.join(', ')}`);
  }
}
