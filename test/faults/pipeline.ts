// The processors under fault, run in this process: sensor-validation, maintenance-scorer (with the
// committed ONNX model), the Parquet lake sink, vision-qc and documents. Each logs into a buffer (a failing case prints
// its tail) and is watched: `alive()` names why one is not running and ready any more, and
// `crashes()` counts consumer crashes, so "never exits, never crash-loops" is checked, not assumed.
import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';
import type { TopicSpec } from '../../schemas/topics.ts';
import { LAKE_DATASETS } from '../../connectors/parquet-sink/datasets.ts';
import { startParquetSink, type RunningSink } from '../../connectors/parquet-sink/sink.ts';
import { startProcessor, type RunningProcessor, type RuntimeOptions } from '../../streams/runtime/kafka-runner.ts';
import { loadFailureModel, type FailureModel } from '../../streams/maintenance/model.ts';
import { maintenanceScorer } from '../../streams/maintenance/topology.ts';
import { sensorValidation } from '../../streams/sensor-validation/topology.ts';
import { visionModelSpec } from '../../streams/vision/model.ts';
import { visionQc } from '../../streams/vision/topology.ts';
import type { BlobStore } from '../../streams/documents/blob-store.ts';
import { nerModelSpec } from '../../streams/documents/ner/model.ts';
import { documentsProcessor } from '../../streams/documents/topology.ts';

export interface LogLine {
  level: number;
  msg: string;
  [field: string]: unknown;
}

/** A pino logger that keeps its lines (warn and above unless LOG_LEVEL says more) instead of printing them. */
export function capturedLogger(name: string): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const text of chunk.toString('utf8').split('\n')) {
        if (!text) continue;
        try {
          lines.push(JSON.parse(text) as LogLine);
        } catch {
          lines.push({ level: 50, msg: text });
        }
        if (lines.length > 5_000) lines.splice(0, 1_000);
      }
      done();
    },
  });
  const level = process.env.LOG_LEVEL === 'debug' || process.env.LOG_LEVEL === 'info' ? process.env.LOG_LEVEL : 'warn';
  return { logger: pino({ level, base: { component: name } }, sink), lines };
}

export interface Watched {
  name: string;
  lines: LogLine[];
  /** Null while running and ready; else what happened (stopped, crashed with a message, not ready). */
  alive(): string | null;
  crashes(): number;
  /** The last `n` captured log lines, one per line, for a failure message. */
  tail(n?: number): string;
  stop(): Promise<void>;
}

function watch(name: string, lines: LogLine[], running: { isReady(): boolean; stopped: Promise<void>; stop(): Promise<void> }): Watched {
  let ended: string | null = null;
  running.stopped.then(
    () => (ended ??= 'stopped'),
    (err: Error) => (ended ??= `stopped after a fatal error: ${err.message}`),
  );
  return {
    name,
    lines,
    alive: () => ended ?? (running.isReady() ? null : 'running but not ready'),
    crashes: () => lines.filter((l) => /consumer crashed/.test(l.msg)).length,
    tail: (n = 15) => {
      // kafkajs logs each refused connection while a service is down: the lines around them say more.
      const noise = (l: LogLine) => l.namespace === 'Connection' || /ECONNREFUSED|Connection error/.test(l.msg);
      const shown = lines.filter((l) => !noise(l)).slice(-n);
      const hidden = lines.filter(noise).length;
      return [...shown.map((l) => `  ${name}: ${JSON.stringify(l).slice(0, 400)}`), ...(hidden ? [`  ${name}: (${hidden} connection-error lines not shown)`] : [])].join('\n');
    },
    stop: async () => {
      ended ??= 'stopped';
      await running.stop();
    },
  };
}

export type Endpoints = Pick<RuntimeOptions, 'kafkaBrokers' | 'schemaRegistryUrl' | 'redisUrl'>;

function options(endpoints: Endpoints, logger: Logger, overrides: Partial<RuntimeOptions>): RuntimeOptions {
  return { ...endpoints, metricsPort: 0, logger, sessionTimeoutMs: 10_000, maxBatchRecords: 500, ...overrides };
}

export async function startValidation(endpoints: Endpoints, overrides: Partial<RuntimeOptions> = {}): Promise<Watched & { processor: RunningProcessor }> {
  const { logger, lines } = capturedLogger('sensor-validation');
  const processor = await startProcessor(sensorValidation, options(endpoints, logger, overrides));
  return { ...watch('sensor-validation', lines, processor), processor };
}

let model: Promise<FailureModel> | undefined;
/** The committed model (models/maintenance/artifacts), loaded once per test file. */
export function failureModel(): Promise<FailureModel> {
  model ??= loadFailureModel();
  return model;
}

export async function startScorer(endpoints: Endpoints, overrides: Partial<RuntimeOptions> = {}): Promise<Watched & { processor: RunningProcessor }> {
  const { logger, lines } = capturedLogger('maintenance-scorer');
  const processor = await startProcessor(maintenanceScorer(await failureModel()), options(endpoints, logger, overrides));
  return { ...watch('maintenance-scorer', lines, processor), processor };
}

/** vision-qc with the committed model, one worker thread (one ONNX thread) as on a small host. */
export async function startVision(endpoints: Endpoints, overrides: Partial<RuntimeOptions> = {}): Promise<Watched & { processor: RunningProcessor }> {
  const { logger, lines } = capturedLogger('vision-qc');
  const processor = await startProcessor(visionQc(visionModelSpec()), options(endpoints, logger, { workers: { threads: 1, ortThreads: 1, maxInflight: 2, maxInflightBytes: 64 * 1024 * 1024 }, ...overrides }));
  return { ...watch('vision-qc', lines, processor), processor };
}

/** documents (LexiScan) with the committed NER model and `blobs` as its claim-check store, two worker threads (one ONNX thread each). */
export async function startDocuments(endpoints: Endpoints, blobs: BlobStore, overrides: Partial<RuntimeOptions> = {}): Promise<Watched & { processor: RunningProcessor }> {
  const { logger, lines } = capturedLogger('documents');
  const processor = await startProcessor(documentsProcessor(nerModelSpec(), blobs), options(endpoints, logger, { workers: { threads: 1, ortThreads: 1, maxInflight: 2, maxInflightBytes: 128 * 1024 * 1024 }, ...overrides }));
  return { ...watch('documents', lines, processor), processor };
}

/** The billing-events lake sink on `topic` (a throwaway copy of telecom.billing-events.v1), flushing every second. */
export async function startSink(endpoints: Endpoints, topic: TopicSpec, lakeDir: string, groupId: string): Promise<Watched & { sink: RunningSink }> {
  const { logger, lines } = capturedLogger('parquet-sink');
  const sink = await startParquetSink({
    ...LAKE_DATASETS['billing-events'],
    topic,
    brokers: endpoints.kafkaBrokers,
    registryUrl: endpoints.schemaRegistryUrl,
    lakeDir,
    groupId,
    rotateMs: 1_000,
    metricsPort: 0,
    sessionTimeoutMs: 10_000,
    log: logger,
  });
  return { ...watch('parquet-sink', lines, sink), sink };
}

/** Problems of processors that are not running and ready, or that crashed more than `maxCrashes` times. */
export function liveness(processors: Watched[], maxCrashes = 0): string[] {
  const out: string[] = [];
  for (const p of processors) {
    const why = p.alive();
    if (why) out.push(`${p.name} is not running and ready: ${why}\n${p.tail()}`);
    if (p.crashes() > maxCrashes) out.push(`${p.name}: its consumer crashed ${p.crashes()} times (allowed ${maxCrashes})\n${p.tail()}`);
  }
  return out;
}

export async function stopAll(processors: (Watched | undefined)[]): Promise<void> {
  for (const p of processors) await p?.stop().catch(() => undefined);
}

/** Runs `step`; if it fails, the error carries the processors' last log lines (what they were doing). */
export async function explained<T>(processors: (Watched | undefined)[], step: Promise<T>, lines = 25): Promise<T> {
  try {
    return await step;
  } catch (err) {
    const tails = processors.filter((p): p is Watched => !!p).map((p) => `${p.name} (${p.alive() ?? 'running'}, ${p.crashes()} crashes):\n${p.tail(lines)}`);
    throw new Error(`${(err as Error).message}\n${tails.join('\n')}`, { cause: err });
  }
}

/** For waitForCommits' giveUp: the first of `processors` that has stopped (a crash-looping one keeps trying). */
export function anyStopped(processors: (Watched | undefined)[]): () => string | null {
  return () => {
    for (const p of processors) {
      const why = p?.alive();
      if (why && why !== 'running but not ready') return `${p!.name} ${why}`;
    }
    return null;
  };
}
