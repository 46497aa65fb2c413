// The running side of the fuzz table: per input topic, the processor that reads it (how to start
// it, its consumer group, the name its dead letters carry) and how its output shows that a record
// passed. A new pipeline adds a target to fuzzTargets() and a table in fuzz-table.ts
// (docs/fault-suite.md, "Adding a pipeline").
import { join } from 'node:path';
import type { Kafka } from 'kafkajs';
import { TOPICS, loadSchema, type TopicSpec } from '../../schemas/topics.ts';
import type { BillingEvent, CameraFrame, DocumentUpload, ExtractedEntities, QcResult, SensorReading } from '../../schemas/generated/types.ts';
import { readLake } from '../integration/lake-helpers.ts';
import { rollingWindows } from '../../streams/maintenance/rolling-windows.ts';
import type { RedisState } from '../../streams/runtime/state/redis-state.ts';
import type { AvroSerde } from '../../streams/runtime/serde.ts';
import { LocalBlobStore } from '../../streams/documents/blob-store.ts';
import { DOCUMENT_UPLOADS, seedBlobStore } from './fuzz-table-documents.ts';
import { BILLING_EVENTS, CAMERA_FRAMES, RAW_READINGS, VALIDATED_READINGS, type FuzzTable } from './fuzz-table.ts';
import { coordinateKey, readToEnd, type Coordinates } from './kafka-io.ts';
import type { FuzzRecord } from './malformed.ts';
import { startDocuments, startScorer, startSink, startValidation, startVision, type Endpoints, type Watched } from './pipeline.ts';

/** What an observer gets: the run, the services, and what was sent where. */
export interface FuzzEnv {
  run: string;
  kafka: Kafka;
  redis: RedisState;
  /** Reads the output topics (reader schemas set by the runner). */
  serde: AvroSerde;
  /** End offsets of the output topics when the run began: reading starts there. */
  from: Map<string, Map<number, number>>;
  /** Coordinates of every record the run sent itself (the validated topic is an input and an output). */
  sentDirectly: Set<string>;
}

/** Per run: its id and a temp dir it may write (the lake). */
export interface RunContext {
  run: string;
  dir: string;
}

export interface Sent {
  record: FuzzRecord;
  at: Coordinates;
}

export interface FuzzTarget<V extends object = any> {
  label: string;
  table: FuzzTable<V>;
  /** The input topic (the billing target gets a throwaway copy per run). */
  topic: TopicSpec;
  /** The `processor` its dead letters name. */
  processor: string;
  /** Its consumer group: the run waits until it has committed past every record sent. */
  groupId: string;
  /** Topics it writes (besides its DLQ): observers read them from where they ended when the run began. */
  outputs: string[];
  /** At most this many kind instances, whatever the run asks for (a processor that takes seconds per record). */
  perTarget?: number;
  /** Starts the processor (in this process). */
  start(endpoints: Endpoints): Promise<Watched>;
  /** How passed records are counted: by the table's marker, or by Kafka coordinates (the lake keeps them). */
  passKey: 'marker' | 'coordinates';
  /** How many times each pass key came out, for every record this run sent to the topic; plus anything else wrong. */
  observe(env: FuzzEnv, sent: Sent[]): Promise<{ counts: Map<string, number>; problems: string[] }>;
}

function count(keys: string[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const k of keys) m.set(k, (m.get(k) ?? 0) + 1);
  return m;
}

/**
 * For a processor that writes each passed record on to an output topic: decodes the run's records
 * there (those whose bytes hold the run id and that the run did not send itself), counts them by
 * `markerOf` (null: another run's), and reports each not keyed by `expectedKey`.
 */
async function countOutputs<V>(env: FuzzEnv, topic: string, o: { markerOf(v: V): string | null; expectedKey(v: V): string; describe(marker: string): string; keyedBy: string }): Promise<{ counts: Map<string, number>; problems: string[]; values: V[] }> {
  const marker = Buffer.from(env.run);
  const records = await readToEnd(env.kafka, [topic], (r) => !!r.value?.includes(marker) && !env.sentDirectly.has(coordinateKey(r)), { from: env.from, timeoutMs: 90_000 });
  const keys: string[] = [];
  const values: V[] = [];
  const problems: string[] = [];
  for (const r of records) {
    const v = (await env.serde.decode(topic, r.value)) as V;
    const key = o.markerOf(v);
    if (key === null) continue;
    keys.push(key);
    values.push(v);
    if (r.key?.toString('utf8') !== o.expectedKey(v)) problems.push(`${o.describe(key)} is keyed ${JSON.stringify(r.key?.toString('utf8').slice(0, 80))}, not by its ${o.keyedBy}`);
  }
  return { counts: count(keys), problems, values };
}

/** Every input topic of the system, with its processor: what the fuzz runs. */
export function fuzzTargets(c: RunContext): FuzzTarget[] {
  return [validationTarget, scorerTarget, sinkTarget(c), visionTarget, documentsTarget(c)];
}

/** sensor-validation forwards a valid reading unchanged: count the run's readings on the validated topic. */
const validationTarget: FuzzTarget<SensorReading> = {
  label: 'sensor-validation <- factory.sensor-readings.v1',
  table: RAW_READINGS,
  topic: TOPICS.sensorReadings,
  processor: 'sensor-validation',
  groupId: 'sensor-validation',
  outputs: [TOPICS.sensorReadingsValidated.name],
  start: (ep) => startValidation(ep),
  passKey: 'marker',
  observe: (env) =>
    countOutputs<SensorReading>(env, TOPICS.sensorReadingsValidated.name, {
      markerOf: (v) => (v.gateway_id === env.run ? RAW_READINGS.markerOf(v) : null),
      expectedKey: (v) => v.arm_id,
      describe: (marker) => `validated reading ${marker}`,
      keyedBy: 'arm',
    }),
};

/**
 * The scorer keeps no record, so the windows tell: every reading has an arm of its own, and the
 * arm's 12 h window count in Redis is how many of its readings were applied. Every arm with an
 * applied reading must also have had a prediction, and no other arm.
 */
const scorerTarget: FuzzTarget<SensorReading> = {
  label: 'maintenance-scorer <- factory.sensor-readings-validated.v1',
  table: VALIDATED_READINGS,
  topic: TOPICS.sensorReadingsValidated,
  processor: 'maintenance-scorer',
  groupId: 'maintenance-scorer',
  outputs: [TOPICS.maintenancePredictions.name],
  start: (ep) => startScorer(ep),
  passKey: 'marker',
  async observe(env, sent) {
    const arms = [...new Set(sent.map((s) => s.record.marker))];
    const windows = rollingWindows().open({ kind: 'redis', redis: env.redis }, 'maintenance-scorer:windows');
    const counts = new Map<string, number>();
    for (let i = 0; i < arms.length; i += 200) {
      // offset -1: a probe reading is never applied (every arm has applied a higher offset, or none).
      const { arms: found } = await windows.apply(arms.slice(i, i + 200).map((arm) => ({ arm, sensor: 'VIBRATION' as const, value: 0, eventTime: 0, offset: -1 })));
      for (const [arm, agg] of found) {
        const n = Object.values(agg.channels).reduce((sum, s) => sum + (s?.windows[2].n ?? 0), 0);
        if (n > 0) counts.set(arm, n);
      }
    }
    const mine = new Set(arms);
    const predictions = TOPICS.maintenancePredictions.name;
    const predicted = new Set((await readToEnd(env.kafka, [predictions], (r) => mine.has(r.key?.toString('utf8') ?? ''), { from: env.from, timeoutMs: 90_000 })).map((r) => r.key!.toString('utf8')));
    const problems: string[] = [];
    for (const arm of arms) {
      if (counts.has(arm) && !predicted.has(arm)) problems.push(`arm ${arm.slice(0, 80)} has applied readings but no prediction`);
      if (!counts.has(arm) && predicted.has(arm)) problems.push(`arm ${arm.slice(0, 80)} has a prediction but no applied reading`);
    }
    return { counts, problems };
  },
};

/**
 * The lake sink on a throwaway copy of telecom.billing-events.v1 (its own group and lake dir, so the
 * lake holds this run's records only). The lake keeps each record's Kafka coordinates
 * (kafka_partition, kafka_offset): count rows per coordinate.
 */
function sinkTarget(c: RunContext): FuzzTarget<BillingEvent> {
  const topic: TopicSpec = { ...TOPICS.billingEvents, name: `faults.billing-events.${c.run}` };
  const groupId = `parquet-sink.${c.run}`;
  const lakeDir = join(c.dir, 'lake');
  return {
    label: `parquet-sink <- ${topic.name} (a copy of ${TOPICS.billingEvents.name})`,
    table: BILLING_EVENTS,
    topic,
    processor: groupId,
    groupId,
    outputs: [],
    start: (ep) => startSink(ep, topic, lakeDir, groupId),
    passKey: 'coordinates',
    async observe() {
      const rows = readLake(join(lakeDir, 'telecom', 'billing_events'));
      return { counts: count(rows.map((r) => coordinateKey({ topic: topic.name, partition: Number(r.row.kafka_partition), offset: Number(r.row.kafka_offset) }))), problems: [] };
    },
  };
}

/** vision-qc writes one result per inspected frame, carrying its frame_id: count the run's results by frame_id. */
const visionTarget: FuzzTarget<CameraFrame> = {
  label: 'vision-qc <- vision.frames.v1',
  table: CAMERA_FRAMES,
  topic: TOPICS.cameraFrames,
  processor: 'vision-qc',
  groupId: 'vision-qc',
  outputs: [TOPICS.qcResults.name],
  start: (ep) => startVision(ep),
  passKey: 'marker',
  observe: (env) =>
    countOutputs<QcResult>(env, TOPICS.qcResults.name, {
      markerOf: (v) => (v.frame_id.startsWith(`${env.run}-`) ? v.frame_id : null),
      expectedKey: (v) => v.camera_id,
      describe: (frameId) => `result for ${frameId}`,
      keyedBy: 'camera',
    }),
};

/**
 * documents with a LocalBlobStore of its own in the run's dir (seeded with what the claim-check
 * kinds refer to). Each upload costs a PDF read and an NER pass, so the target sends at most 80
 * instances (every kind once, ~10 good uploads among them). A passed upload is an
 * ExtractedEntities on docs.entities.v1 with its document_id; the review topic must hold a copy of
 * exactly the flagged ones.
 */
function documentsTarget(c: RunContext): FuzzTarget<DocumentUpload> {
  const blobs = new LocalBlobStore({ root: join(c.dir, 'blobs'), minFreeBytes: 0 });
  const entities = TOPICS.documentEntities.name;
  const review = TOPICS.documentReview.name;
  const mine = (env: FuzzEnv) => (v: ExtractedEntities) => (v.document_id.startsWith(`${env.run}-`) ? v.document_id : null);
  const read = (env: FuzzEnv, topic: string) => countOutputs<ExtractedEntities>(env, topic, { markerOf: mine(env), expectedKey: (v) => v.document_id, describe: (id) => `${topic} result for ${id.slice(0, 80)}`, keyedBy: 'document_id' });
  return {
    label: 'documents <- docs.uploads.v1',
    table: DOCUMENT_UPLOADS,
    topic: TOPICS.documentUploads,
    processor: 'documents',
    groupId: 'documents',
    perTarget: 80,
    outputs: [entities, review],
    start: async (ep) => {
      await seedBlobStore(blobs);
      return startDocuments(ep, blobs);
    },
    passKey: 'marker',
    async observe(env, sent) {
      const results = await read(env, entities);
      const copies = await read(env, review);
      const problems = [...results.problems, ...copies.problems];
      const flagged = count(results.values.filter((v) => v.needs_review).map((v) => v.document_id));
      for (const id of new Set([...flagged.keys(), ...copies.counts.keys()])) {
        if ((flagged.get(id) ?? 0) !== (copies.counts.get(id) ?? 0)) problems.push(`${id.slice(0, 80)}: ${flagged.get(id) ?? 0} results flagged needs_review, ${copies.counts.get(id) ?? 0} copies on ${review}`);
      }
      // How the pages were read: the native contract from its text layer, the scan by OCR.
      const kindOf = new Map(sent.map((s) => [s.record.marker, s.record.kind]));
      for (const v of results.values) {
        const kind = kindOf.get(v.document_id);
        if (kind === 'good' && (v.pages !== 3 || v.ocr_used)) problems.push(`${v.document_id}: the native contract came out as ${v.pages} pages, ocr_used ${v.ocr_used}`);
        if (kind === 'scanned-page' && (v.pages !== 1 || !v.ocr_used)) problems.push(`${v.document_id}: the scanned page came out as ${v.pages} pages, ocr_used ${v.ocr_used}`);
      }
      for (const v of results.values) if (!(v.text_blob_uri && (await blobs.has(v.text_blob_uri).catch(() => false)))) problems.push(`${v.document_id.slice(0, 80)}: its page texts (${v.text_blob_uri}) are not in the blob store`);
      return { counts: results.counts, problems };
    },
  };
}

/** Reader schemas for the outputs the observers decode. */
export function useOutputReaders(serde: AvroSerde): void {
  serde.useReader(TOPICS.sensorReadingsValidated.name, loadSchema(TOPICS.sensorReadingsValidated.schema));
  serde.useReader(TOPICS.qcResults.name, loadSchema(TOPICS.qcResults.schema));
  serde.useReader(TOPICS.documentEntities.name, loadSchema(TOPICS.documentEntities.schema));
  serde.useReader(TOPICS.documentReview.name, loadSchema(TOPICS.documentReview.schema));
}
