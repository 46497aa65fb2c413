// The topic catalogue: every Kafka topic of the system, with its schema and broker settings.
// Topic admin (infra), processors and tests read topics from here, never from string literals.
// Names follow `<domain>.<entity>.v<major>`; dead letters are `<topic>.dlq`.
import { readFileSync } from 'node:fs';
import { resolve, sep } from 'node:path';

export interface TopicSpec {
  name: string;
  /** Path of the value's .avsc relative to schemas/, e.g. 'factory/sensor-reading.avsc'. */
  schema: string;
  /** What the (plain UTF-8 string) key is, e.g. 'arm_id'; decides ordering and partitioning. */
  key: string;
  partitions: number;
  retentionMs: number;
  cleanupPolicy: 'delete' | 'compact' | 'compact,delete';
  /** Topic max.message.bytes; producers need max.request.size at least this large. */
  maxMessageBytes: number;
  /** Written in transactions by a read-process-write processor; consumers read_committed. */
  exactlyOnce?: boolean;
  doc: string;
}

const HOUR_MS = 60 * 60 * 1000;
const DAY_MS = 24 * HOUR_MS;
const MIB = 1024 * 1024;
/** Kafka's own default max.message.bytes (1 MiB + 12 bytes of record-batch overhead). */
const DEFAULT_MAX_MESSAGE_BYTES = MIB + 12;

export const TOPICS = {
  sensorReadings: {
    name: 'factory.sensor-readings.v1',
    schema: 'factory/sensor-reading.avsc',
    key: 'arm_id',
    // Keyed by arm: per-arm order matters for rolling features and sequence-gap checks, and
    // 6 partitions leave room to scale the scorer to 6 instances.
    partitions: 6,
    // Feature state (rolling windows) is rebuilt by replaying this topic, so retention must
    // exceed the longest window plus time to notice and fix an outage.
    retentionMs: 7 * DAY_MS,
    cleanupPolicy: 'delete',
    maxMessageBytes: DEFAULT_MAX_MESSAGE_BYTES,
    doc: 'Raw readings from robot-arm gateways, one record per sample per sensor.',
  },
  sensorReadingsValidated: {
    name: 'factory.sensor-readings-validated.v1',
    schema: 'factory/sensor-reading.avsc',
    key: 'arm_id',
    // Same key and partition count as the raw topic (co-partitioned), so an arm's raw and
    // validated readings live on the same partition number.
    partitions: 6,
    retentionMs: 7 * DAY_MS,
    cleanupPolicy: 'delete',
    maxMessageBytes: DEFAULT_MAX_MESSAGE_BYTES,
    // Downstream windows would count a duplicated reading twice.
    exactlyOnce: true,
    doc: 'Readings that passed validation (range, unit, ordering checks), unchanged; the scorer reads these.',
  },
  maintenancePredictions: {
    name: 'factory.maintenance-predictions.v1',
    schema: 'factory/maintenance-prediction.avsc',
    key: 'arm_id',
    partitions: 3,
    // Kept longer than readings: scores are small and are compared with later failures to
    // evaluate the model.
    retentionMs: 30 * DAY_MS,
    cleanupPolicy: 'delete',
    maxMessageBytes: DEFAULT_MAX_MESSAGE_BYTES,
    exactlyOnce: true,
    doc: 'Failure-probability scores per robot arm.',
  },
  maintenanceAlerts: {
    name: 'factory.maintenance-alerts.v1',
    schema: 'factory/maintenance-alert.avsc',
    key: 'arm_id',
    partitions: 3,
    // Alert history is the audit trail of what engineers were told and when.
    retentionMs: 90 * DAY_MS,
    cleanupPolicy: 'delete',
    maxMessageBytes: DEFAULT_MAX_MESSAGE_BYTES,
    // A duplicated RAISED would page an engineer twice.
    exactlyOnce: true,
    doc: 'RAISED / CLEARED alert state changes per robot arm, with explanations.',
  },
  failureEvents: {
    name: 'factory.failure-events.v1',
    schema: 'factory/failure-event.avsc',
    key: 'arm_id',
    // A few events per machine per year: 3 partitions is plenty.
    partitions: 3,
    // The labels a plant's failure model is trained on: keep years of them, like a CMMS does.
    retentionMs: 5 * 365 * DAY_MS,
    cleanupPolicy: 'delete',
    maxMessageBytes: DEFAULT_MAX_MESSAGE_BYTES,
    doc: 'Failures and maintenance stops per machine, from the plant\'s maintenance system: the training labels of its failure model.',
  },
  documentUploads: {
    name: 'docs.uploads.v1',
    schema: 'docs/document-upload.avsc',
    key: 'document_id',
    partitions: 3,
    // The blob store is the system of record for documents; the topic only carries work.
    retentionMs: 7 * DAY_MS,
    cleanupPolicy: 'delete',
    // Documents up to ~16 MiB travel inline; larger ones go by claim check (blob_uri).
    maxMessageBytes: 16 * MIB,
    doc: 'Documents submitted for entity extraction, inline or by claim check.',
  },
  documentEntities: {
    name: 'docs.entities.v1',
    schema: 'docs/extracted-entities.avsc',
    key: 'document_id',
    partitions: 3,
    retentionMs: 30 * DAY_MS,
    cleanupPolicy: 'delete',
    maxMessageBytes: DEFAULT_MAX_MESSAGE_BYTES,
    doc: 'Entities extracted from every processed document (those needing review too, flagged by needs_review).',
  },
  documentReview: {
    name: 'docs.entities-review.v1',
    schema: 'docs/extracted-entities.avsc',
    key: 'document_id',
    partitions: 3,
    // A human work queue: long enough to survive holidays and a backlog.
    retentionMs: 30 * DAY_MS,
    cleanupPolicy: 'delete',
    maxMessageBytes: DEFAULT_MAX_MESSAGE_BYTES,
    doc: 'Extraction results with needs_review = true, for a human to check.',
  },
  cameraFrames: {
    name: 'vision.frames.v1',
    schema: 'vision/camera-frame.avsc',
    key: 'camera_id',
    // Inference is the bottleneck and a partition feeds one consumer, so more partitions
    // than the default 3 let more inference workers run.
    partitions: 6,
    // Frames are large and only useful until inspected; anything kept for audit or training
    // is copied to object storage. One day covers an overnight outage.
    retentionMs: 1 * DAY_MS,
    cleanupPolicy: 'delete',
    maxMessageBytes: 8 * MIB,
    doc: 'Still images from inspection cameras.',
  },
  qcResults: {
    name: 'vision.qc-results.v1',
    schema: 'vision/qc-result.avsc',
    key: 'camera_id',
    partitions: 3,
    retentionMs: 30 * DAY_MS,
    cleanupPolicy: 'delete',
    // heatmap_png is a frame-sized PNG overlay, so a result can be as large as a frame.
    maxMessageBytes: 8 * MIB,
    doc: 'QC verdicts per frame, with defect boxes and an optional Grad-CAM heatmap.',
  },
  billingEvents: {
    name: 'telecom.billing-events.v1',
    schema: 'telecom/billing-event.avsc',
    key: 'user_id',
    // Usage records (calls, data sessions) are the highest-volume stream after frames.
    partitions: 6,
    // Per-user feature state covers up to 30 days of events and is rebuilt by replaying this
    // topic, so retention is the longest window plus slack.
    retentionMs: 35 * DAY_MS,
    cleanupPolicy: 'delete',
    maxMessageBytes: DEFAULT_MAX_MESSAGE_BYTES,
    doc: 'Calls, data sessions, SMS, complaints, bills, payments and plan changes per subscriber.',
  },
  churnPredictions: {
    name: 'telecom.churn-predictions.v1',
    schema: 'telecom/churn-prediction.avsc',
    key: 'user_id',
    partitions: 3,
    // compact keeps the latest score per user for lookups; delete then drops users that
    // have not been scored for 30 days (closed accounts). History lives in the Parquet sink.
    retentionMs: 30 * DAY_MS,
    cleanupPolicy: 'compact,delete',
    maxMessageBytes: DEFAULT_MAX_MESSAGE_BYTES,
    doc: 'Daily churn-risk score per subscriber; the latest per key is current.',
  },
  driftAlerts: {
    name: 'models.drift-alerts.v1',
    schema: 'models/drift-alert.avsc',
    // Keyed by model: one model's RAISED and CLEARED stay in order.
    key: 'model_name',
    partitions: 1,
    // Drift history is compared with later retraining and performance; alerts are few.
    retentionMs: 90 * DAY_MS,
    cleanupPolicy: 'delete',
    maxMessageBytes: DEFAULT_MAX_MESSAGE_BYTES,
    doc: 'Drift of a served model version: a feature or the prediction moved away from its training reference (PSI, KS).',
  },
  modelLifecycle: {
    name: 'models.lifecycle.v1',
    schema: 'models/model-lifecycle-event.avsc',
    // Keyed by model: one model's registrations, promotions and rollbacks stay in order.
    key: 'model_name',
    partitions: 1,
    // The audit trail of who promoted what and why: kept as long as the failure events (5 years).
    retentionMs: 5 * 365 * DAY_MS,
    cleanupPolicy: 'delete',
    maxMessageBytes: DEFAULT_MAX_MESSAGE_BYTES,
    doc: 'Audit trail of registered model versions: registered, promoted or refused (with the policy gate results), rolled out, rolled back, retrained.',
  },
  modelPerformance: {
    name: 'models.performance.v1',
    schema: 'models/model-performance.avsc',
    // Keyed by model: one model's tallies stay in order, so the latest per (version, day) is current.
    key: 'model_name',
    partitions: 1,
    // Precision over time is compared across versions and with retraining: a year of daily tallies.
    retentionMs: 365 * DAY_MS,
    cleanupPolicy: 'delete',
    maxMessageBytes: DEFAULT_MAX_MESSAGE_BYTES,
    doc: 'Precision and recall per model version per day, from delayed labels (failures, cancellations) joined to past predictions; the latest record per (version, day) is current.',
  },
} as const satisfies Record<string, TopicSpec>;

export type TopicKey = keyof typeof TOPICS;

export const DEAD_LETTER_SCHEMA = 'runtime/dead-letter.avsc';
/** Dead letters are kept long enough for someone to notice, fix the cause and replay. */
const DLQ_RETENTION_MS = 30 * DAY_MS;
/** Room for the dead-letter envelope around the original record (headers, error text). */
const DLQ_ENVELOPE_BYTES = MIB;

export function dlqTopic(topic: string): string {
  return `${topic}.dlq`;
}

/** The dead-letter topic for a source topic. */
export function dlqSpec(source: TopicSpec): TopicSpec {
  return {
    name: dlqTopic(source.name),
    schema: DEAD_LETTER_SCHEMA,
    key: `original key of the failed record (${source.key})`,
    // As many partitions as the source, so a flood of failures (a bad deploy) drains as fast
    // as the source is read instead of queueing on one partition.
    partitions: source.partitions,
    retentionMs: DLQ_RETENTION_MS,
    cleanupPolicy: 'delete',
    // The dead letter wraps the exact original bytes, so it must fit the largest source record.
    maxMessageBytes: source.maxMessageBytes + DLQ_ENVELOPE_BYTES,
    doc: `Records from ${source.name} that a processor could not handle, with the error.`,
  };
}

/**
 * Every topic to create: the catalogue plus one dead-letter topic per catalogue topic. Every
 * catalogue topic is read by some processor or sink, and any reader can meet a poison record.
 */
export function allTopicSpecs(): TopicSpec[] {
  const sources: TopicSpec[] = Object.values(TOPICS);
  return [...sources, ...sources.map(dlqSpec)];
}

/** Schema-registry subject of a topic's values (TopicNameStrategy); keys are not registered. */
export function subjectFor(topic: string): string {
  return `${topic}-value`;
}

const SCHEMAS_DIR = import.meta.dirname;

/** Reads and parses an .avsc file given relative to schemas/, e.g. 'factory/sensor-reading.avsc'. */
export function loadSchema(relPath: string): object {
  const path = resolve(SCHEMAS_DIR, relPath);
  if (!path.startsWith(SCHEMAS_DIR + sep) || !path.endsWith('.avsc')) {
    throw new Error(`loadSchema: '${relPath}' is not an .avsc file inside schemas/`);
  }
  return JSON.parse(readFileSync(path, 'utf8')) as object;
}
