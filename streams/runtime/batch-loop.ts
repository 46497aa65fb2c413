// The eachBatch handler of a processor's consumer: cuts poll batches into chunks, runs each chunk
// through decode/validate/handle (batch.ts), fenced by its partition's state marker when the
// processor has Redis state (state-guard.ts), delivers and commits (delivery.ts), keeps metrics.
// A chunk that fails for a reason that is not its records' fault (state lost, Redis or the
// registry unreachable) is run again in place, with backoff, while the partition's session stays
// alive; after IN_PLACE_ATTEMPTS the error goes up and the consumer session is restarted.
import type { EachBatchPayload } from 'kafkajs';
import { DLQ_HEADERS, deadLetterMessage, processBatch, toRawRecord, type BatchContext, type Failure } from './batch.ts';
import { deliver, nextOffset, type DeliveryReport, type DeliveryTarget } from './delivery.ts';
import type { InFlightGate } from './backpressure.ts';
import { StreamError, StateLostError } from './errors.ts';
import type { Logger } from './logger.ts';
import type { RuntimeMetrics } from './metrics.ts';
import { personalData } from './personal-data.ts';
import type { ProcessorDefinition } from './processor.ts';
import { errorLine } from './retry.ts';
import type { AvroSerde } from './serde.ts';
import type { StateGuard } from './state-guard.ts';
import type { DriftHook } from './drift/drift-publisher.ts';
import type { ServingSets } from './serving-set.ts';
import type { RolloutBatchResult, RolloutRunner } from './rollout/rollout-chunk.ts';
import { loadSchema } from '../../schemas/topics.ts';

/** Attempts of one chunk in place (backoff 250 ms doubling to 10 s: ~1.5 min) before the session restarts. */
export const IN_PLACE_ATTEMPTS = 12;

export interface BatchLoopDeps {
  def: ProcessorDefinition;
  ctx: BatchContext;
  serde: AvroSerde;
  guard: StateGuard | null;
  metrics: RuntimeMetrics;
  log: Logger;
  now: () => number;
  gate: InFlightGate;
  chunkSize: number;
  /** max.message.bytes of each input's dead-letter topic. */
  dlqMaxBytes: Map<string, number>;
  /** The current session's producer and consumer (they are replaced when a session restarts). */
  target: () => Omit<DeliveryTarget, 'deadLetter'>;
  /** Partitions whose chunk is being retried in place: the processor is not ready while any is. */
  stalled: Set<string>;
  /** The processor's drift monitors, fed once per delivered chunk (drift/drift-publisher.ts). */
  drift?: DriftHook | null;
  /**
   * The model sets the processor serves (serving-set.ts): each chunk runs with the set current at
   * its start, for every attempt, so a model swap falls between chunks. Without it, `def` and `ctx`.
   */
  serving?: ServingSets;
  /** Runs a chunk with the set's challenger beside the champion (shadow or canary) and observes it once delivered (rollout/). */
  rollout?: RolloutRunner | null;
}

export function createBatchLoop(d: BatchLoopDeps): (payload: EachBatchPayload) => Promise<void> {
  const { def, metrics, log } = d;
  const deadLetter = (f: Failure, o?: { minimal?: boolean }) => {
    const m = deadLetterMessage(d.serde, def.name, f, d.now(), { maxBytes: d.dlqMaxBytes.get(f.record.topic), minimal: o?.minimal });
    if (m.headers[DLQ_HEADERS.truncated]) metrics.dlqTruncated.inc({ processor: def.name, topic: f.record.topic });
    return m;
  };
  // Error messages may quote the record (validators do): logs never carry its personal fields.
  const personal = new Map(def.inputs.map((t) => [t.name, personalData(loadSchema(t.schema))]));
  const loggable = (f: Failure): string => personal.get(f.record.topic)?.scrub(errorLine(f.error), f.value) ?? errorLine(f.error);

  const recordDelivery = (report: DeliveryReport, failures: Failure[], topic: string, batchLog: Logger): void => {
    const ackedAt = d.now();
    for (const m of report.delivered) {
      if (m.topic.endsWith('.dlq')) continue;
      metrics.recordsOut.inc({ processor: def.name, topic: m.topic });
      metrics.eventToOutputLatency.observe({ processor: def.name, topic: m.topic }, Math.max(0, ackedAt - m.sourceTimestamp) / 1000);
    }
    const failed = [...failures, ...report.produceFailures];
    for (const f of failed) {
      metrics.recordFailed(def.name, topic, f.error.stage);
      batchLog.info({ offset: f.record.offset, stage: f.error.stage, errorClass: f.error.name, err: loggable(f), traceparent: f.record.headers.traceparent?.toString() }, 'record dead-lettered');
    }
    // One warning per batch, not per record: a flood of bad input must not become a flood of logs.
    if (failed.length) batchLog.warn({ deadLettered: failed.length, first: { offset: failed[0].record.offset, errorClass: failed[0].error.name, err: loggable(failed[0]) } }, 'records dead-lettered');
  };

  return async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
    const { topic, partition } = batch;
    const labels = { processor: def.name, topic };
    const tp = { topic, partition };
    for (let i = 0; i < batch.messages.length; i += d.chunkSize) {
      if (!isRunning() || isStale()) return;
      const chunk = batch.messages.slice(i, i + d.chunkSize);
      const raws = chunk.map((m) => toRawRecord(topic, partition, m));
      const endTimer = metrics.batchDuration.startTimer(labels);
      const batchLog = log.child({ topic, partition, firstOffset: raws[0].offset });
      // Keeps the group session alive while a slow handler, offloaded work (worker-pool.ts), a
      // rebuild or a retry awaits: the event loop is free, so this fires every 2 s.
      const keepAlive = setInterval(() => heartbeat().catch(() => undefined), 2_000);
      d.gate.acquire(raws.length);
      // The swap point: this chunk is handled, delivered and committed by one model set, whatever
      // the watcher swaps in meanwhile; the set is released (and closed, if retired) after it.
      const lease = d.serving?.acquire();
      const served = lease ? lease.set.def : def;
      const servedCtx: BatchContext = lease ? { ...d.ctx, models: lease.set.models, pool: lease.set.pool } : d.ctx;
      try {
        metrics.recordsIn.inc(labels, raws.length);
        for (let attempt = 1; ; attempt++) {
          try {
            const run = (): Promise<RolloutBatchResult> => (lease && d.rollout ? d.rollout.runChunk(lease.set, { ...servedCtx, log: batchLog }, d.serde, raws) : processBatch(served, { ...servedCtx, log: batchLog }, d.serde, raws));
            const result = d.guard ? await d.guard.run(tp, run) : await run();
            const messages = [...result.outputs, ...result.failures.map((f) => deadLetter(f))];
            const commitMetadata = JSON.stringify({ ts: Math.max(...raws.map((r) => r.timestamp)) });
            const report = await deliver({ ...d.target(), deadLetter }, { topic, partition, commitMetadata }, raws, messages);
            recordDelivery(report, result.failures, topic, batchLog);
            d.drift?.observe(result.drift);
            d.rollout?.observe(result);
            break;
          } catch (err) {
            // Not the records' fault: run the chunk again here, after the state is rebuilt or the
            // service is back, rather than restart the session (and rejoin the group) for it.
            if (!(err instanceof StreamError && err.retriable) || attempt >= IN_PLACE_ATTEMPTS || !isRunning() || isStale()) throw err;
            d.stalled.add(`${topic}/${partition}`);
            metrics.batchRetries.inc({ processor: def.name, topic, reason: err.name });
            const delay = err instanceof StateLostError ? 0 : Math.min(10_000, 250 * 2 ** (attempt - 1));
            batchLog.warn({ attempt, retryInMs: delay, errorClass: err.name, err: errorLine(err) }, err instanceof StateLostError ? 'state lost in Redis: rebuilding the partition, then running the batch again' : 'batch failed for a transient reason; running it again');
            if (delay) await new Promise((r) => setTimeout(r, delay));
          }
        }
      } finally {
        lease?.release();
        d.stalled.delete(`${topic}/${partition}`);
        clearInterval(keepAlive);
        d.gate.release(raws.length);
        endTimer();
      }
      const last = chunk[chunk.length - 1].offset;
      resolveOffset(last);
      // After the last chunk, batch.offsetLag() also counts control records (transaction markers)
      // fetched with it, so the lag of a transactional input reaches 0 instead of staying at 1.
      const lag = i + d.chunkSize >= batch.messages.length ? Number(batch.offsetLag()) : Number(BigInt(batch.highWatermark) - BigInt(nextOffset(last)));
      metrics.consumerLag.set({ ...labels, partition: String(partition) }, Math.max(0, lag));
      await heartbeat();
    }
  };
}
