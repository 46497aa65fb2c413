// `streamscore replay`: runs a processor's own handler again over a time range of its input and
// compares the result with what the live processor published for it. The inputs are read with a
// throwaway group (range-reader.ts) through processBatch, the runner's decode/validate/handle/encode;
// state lives in the real Redis under a scratch namespace (scratch-state.ts), warmed by the full
// handler over the processor's rebuild lookback before the range with its outputs discarded, so
// windows and alert episodes are warm too; the live chunks are cut again from the live outputs'
// headers (chunk-plan.ts), and ctx.now() returns the live run's stamp of each chunk. Outputs go to a
// file or `.replay` topics, never a live topic. Times are Kafka record timestamps of the input.
import type { Admin } from 'kafkajs';
import { SOURCE_HEADER, processBatch, prepareSerde, type BatchContext, type EncodedMessage } from '../batch.ts';
import { createKafka } from '../kafka-client.ts';
import type { Logger } from '../logger.ts';
import { openProcessorModels } from '../processor-models.ts';
import { offsetsAtTime, readRanges } from '../range-reader.ts';
import { ConfluentSchemaStore } from '../schema-store.ts';
import { AvroSerde } from '../serde.ts';
import { committedDirs, type ServedProcessor } from '../served-processor.ts';
import { openStores } from '../state/state-spec.ts';
import { DEFAULT_WORKER_SETTINGS, type WorkerSettings } from '../kafka-runner.ts';
import { PartitionChunker, parseCoordinates, partitionKey } from './chunk-plan.ts';
import { diffOutputs, type ComparedOutput, type ReplayDiff } from './diff.ts';
import { readLiveOutputs, type InputRange } from './live-outputs.ts';
import type { ProgressReporter } from './progress.ts';
import { mlflowClientOrNull, replayModels, type ReplayModel } from './replay-models.ts';
import { ScratchRedisState, scratchNamespace } from './scratch-state.ts';
import { openFileSink, openTopicSink, parseReplayOut, type ReplaySink } from './sink.ts';

/** Live outputs are looked for until this long after the range's end (a lagging live processor published later). */
export const DEFAULT_LIVE_LAG_MS = 3_600_000;

export interface ReplayOptions {
  served: ServedProcessor;
  /** Input record timestamps [fromMs, toMs). */
  fromMs: number;
  toMs: number;
  /** `NAME@VERSION` / `NAME@alias`; other slots replay the version the live outputs name. */
  models?: string[];
  /** A JSONL file, or NAME.replay (topics NAME.<output topic>.replay); null: compare only. */
  out?: string | null;
  kafkaBrokers: string[];
  schemaRegistryUrl: string;
  redisUrl: string;
  /** MLFLOW_TRACKING_URI and STREAMSCORE_MODEL_CACHE_DIR; process.env by default. */
  env?: NodeJS.ProcessEnv;
  liveLagMs?: number;
  /** How far before fromMs the state is warmed; the processor's rebuild lookback by default (exact windows). */
  warmUpMs?: number;
  /** Records per chunk where no live chunk says otherwise (the runner's STREAMSCORE_MAX_BATCH_RECORDS). */
  maxBatchRecords?: number;
  workers?: WorkerSettings;
  log: Logger;
  progress?: ProgressReporter | null;
}

export interface ReplayReport {
  processor: string;
  fromMs: number;
  toMs: number;
  warmUpMs: number;
  models: ReplayModel[];
  /** `name@version` of live outputs in the range whose model this processor build has no slot for. */
  liveModelsNotServed: string[];
  inputs: (InputRange & { readEnd: number })[];
  /** Input records run before the range (warm-up), in it, and after it (the rest of a live chunk that straddles T2); only the range's outputs count. */
  warmRecords: number;
  comparedRecords: number;
  pastEndRecords: number;
  /** Chunks holding compared records, cut as the live run cut them or by default; chunks of warm-up records only; overlapping live chunks ignored. */
  chunks: { live: number; default: number; warmUp: number; conflicts: number };
  liveOutputs: number;
  replayOutputs: number;
  /** Records of the compared range the replay dead-lettered (nothing is written to a dead-letter topic). */
  rejected: number;
  diff: ReplayDiff;
  out: string[];
  scratchKeysRemoved: number;
  seconds: number;
}

export async function replay(o: ReplayOptions): Promise<ReplayReport> {
  const started = Date.now();
  if (!(Number.isFinite(o.fromMs) && Number.isFinite(o.toMs) && o.fromMs < o.toMs)) throw new Error(`replay needs --from before --to (got ${o.fromMs} and ${o.toMs})`);
  const env = o.env ?? process.env;
  const log = o.log;
  const base = o.served.build(committedDirs(o.served));
  const warmUpMs = o.warmUpMs ?? base.rebuild?.lookbackMs ?? 0;
  if (!(Number.isFinite(warmUpMs) && warmUpMs >= 0)) throw new Error(`replay warm-up must be a duration >= 0 (got ${warmUpMs})`);
  // The output names are checked before anything is read: a live topic is never written.
  const out = o.out ? parseReplayOut(o.out) : null;
  const kafka = createKafka(`${base.name}-replay`, o.kafkaBrokers, log);
  const admin = kafka.admin();
  await admin.connect();
  const closers: (() => Promise<unknown>)[] = [() => admin.disconnect()];
  try {
    const inputs = await inputRanges(admin, base.inputs.map((t) => t.name), o.fromMs - warmUpMs, o.fromMs, o.toMs, log);
    const serde = new AvroSerde(new ConfluentSchemaStore(o.schemaRegistryUrl, { log }));
    await prepareSerde(base, serde);
    const live = await readLiveOutputs({ kafka, admin, def: base, serde, inputs, warmFromMs: o.fromMs - warmUpMs, toMs: o.toMs, liveLagMs: o.liveLagMs ?? DEFAULT_LIVE_LAG_MS, log });
    // Read whole live chunks at both edges: a chunk cut short would score other records together.
    const ranges = inputs.map((r) => ({ ...r, warmStart: Math.min(r.warmStart, live.plan.chunkStart(r.topic, r.partition, r.compareStart)), readEnd: r.end > r.warmStart ? live.plan.chunkEnd(r.topic, r.partition, r.end - 1) + 1 : r.end }));
    const byInput = new Map(ranges.map((r) => [partitionKey(r.topic, r.partition), r]));
    const compared = (source: string) => {
      const c = parseCoordinates(source);
      const r = c && byInput.get(partitionKey(c.topic, c.partition));
      return !!r && c.first >= r.compareStart && c.first < r.end;
    };
    const liveCompared = live.outputs.filter((x) => compared(x.source));

    const liveModels = new Set(liveCompared.flatMap((x) => x.models));
    // Live outputs made by a model this build does not serve (another build ran live): said in the report.
    const slotNames = new Set(o.served.slots.map((s) => s.name));
    const liveModelsNotServed = [...liveModels].filter((m) => !slotNames.has(m.slice(0, m.lastIndexOf('@')))).sort();
    const models = await replayModels({ served: o.served, refs: o.models ?? [], liveModels, client: mlflowClientOrNull(env), cacheDir: env.STREAMSCORE_MODEL_CACHE_DIR?.trim() || undefined, log });
    for (const m of models) log.info({ model: m.name, version: m.version, dir: m.dir, why: m.why }, 'replaying with');
    const def = o.served.build(Object.fromEntries(models.map((m) => [m.name, m.dir])));
    const opened = await openProcessorModels(def, o.workers ?? DEFAULT_WORKER_SETTINGS, log);
    closers.unshift(() => opened.close());
    const stateful = !!def.state && Object.keys(def.state).length > 0;
    const redis = stateful ? new ScratchRedisState(o.redisUrl) : null;
    const namespace = scratchNamespace(def.name);
    let scratchKeysRemoved = 0;
    if (redis) {
      await redis.connect();
      closers.unshift(async () => {
        scratchKeysRemoved = await redis.removeNamespace(namespace);
        await redis.close();
      });
    }
    const sink: ReplaySink | null = out ? (out.kind === 'file' ? await openFileSink(out.path) : await openTopicSink(kafka, serde, out.name, def.outputs)) : null;
    if (sink) closers.unshift(() => sink.close());

    let chunkNow = Date.now();
    const ctx: BatchContext = {
      processor: def.name,
      state: openStores(def.state, redis ? { kind: 'redis', redis } : { kind: 'memory' }, namespace),
      log,
      now: () => chunkNow,
      models: opened.models,
      pool: opened.pool,
      reject: () => {
        throw new Error('reject() is bound per batch by processBatch');
      },
      offload: () => {
        throw new Error('offload() is bound per batch by processBatch');
      },
    };
    const counts = { warm: 0, compared: 0, pastEnd: 0, liveChunks: 0, defaultChunks: 0, warmUpChunks: 0, outputs: 0, rejected: 0 };
    const replayed: ComparedOutput[] = [];
    const chunkers = new Map<string, PartitionChunker>();
    const total = ranges.reduce((n, r) => n + Math.max(0, r.readEnd - r.warmStart), 0);
    let done = 0;
    const run = async (chunk: ReturnType<PartitionChunker['flush']>[number]) => {
      const r = byInput.get(partitionKey(chunk.records[0].topic, chunk.records[0].partition))!;
      // The live run's clock for a live chunk; the newest input's timestamp (as if on time) for another.
      chunkNow = chunk.live?.now ?? Math.max(...chunk.records.map((x) => x.timestamp));
      const before = chunk.records.filter((x) => Number(x.offset) < r.compareStart).length;
      const inRange = chunk.records.filter((x) => Number(x.offset) >= r.compareStart && Number(x.offset) < r.end).length;
      counts.warm += before;
      counts.compared += inRange;
      counts.pastEnd += chunk.records.length - before - inRange;
      if (inRange === 0) counts.warmUpChunks++;
      else if (chunk.live) counts.liveChunks++;
      else counts.defaultChunks++;
      const result = await processBatch(def, ctx, serde, chunk.records);
      counts.rejected += result.failures.filter((f) => Number(f.record.offset) >= r.compareStart && Number(f.record.offset) < r.end).length;
      for (const m of result.outputs) {
        const source = String(m.headers[SOURCE_HEADER] ?? '');
        if (!compared(source)) continue;
        const value = (await serde.decode(m.topic, m.value)) as Record<string, unknown>;
        replayed.push({ topic: m.topic, key: m.key?.toString() ?? null, source, value });
        counts.outputs++;
        await sink?.write(m as EncodedMessage, value);
      }
    };
    await readRanges({
      kafka,
      admin,
      ranges: ranges.map((r) => ({ topic: r.topic, partition: r.partition, start: r.warmStart, end: r.readEnd })),
      groupPrefix: `${def.name}-replay`,
      log,
      onRecords: async (tp, raws) => {
        const key = partitionKey(tp.topic, tp.partition);
        let chunker = chunkers.get(key);
        if (!chunker) chunkers.set(key, (chunker = new PartitionChunker(live.plan.chunks(tp.topic, tp.partition), o.maxBatchRecords ?? 2_000, [byInput.get(key)!.compareStart])));
        for (const chunk of chunker.push(raws)) await run(chunk);
        done += raws.length;
        o.progress?.update('replaying', done, total);
      },
    });
    for (const chunker of chunkers.values()) for (const chunk of chunker.flush()) await run(chunk);
    o.progress?.finish();

    const diff = diffOutputs(liveCompared, replayed, def.outputs.map((t) => t.name));
    const targets = sink?.targets ?? [];
    // Closed here, not in `finally`, so the sink's last flush and the scratch clean-up are reported (and a failure in them fails the replay).
    await closeAll(closers.splice(0), (err) => {
      throw err;
    });
    return {
      processor: def.name, fromMs: o.fromMs, toMs: o.toMs, warmUpMs, models, liveModelsNotServed, inputs: ranges,
      warmRecords: counts.warm, comparedRecords: counts.compared, pastEndRecords: counts.pastEnd,
      chunks: { live: counts.liveChunks, default: counts.defaultChunks, warmUp: counts.warmUpChunks, conflicts: live.plan.conflicts },
      liveOutputs: liveCompared.length, replayOutputs: counts.outputs, rejected: counts.rejected,
      diff, out: targets, scratchKeysRemoved, seconds: (Date.now() - started) / 1000,
    };
  } finally {
    // On a failure: whatever was opened is closed, and the scratch keys removed, all the same.
    await closeAll(closers, (err) => log.warn({ err: err.message }, 'closing after replay failed'));
  }
}

/** Runs every closer even when one fails; `onError` hears of the first failure once all have run. */
async function closeAll(closers: (() => Promise<unknown>)[], onError: (err: Error) => void): Promise<void> {
  const failed: { first?: Error } = {};
  for (const close of closers) await close().catch((err: unknown) => void (failed.first ??= err instanceof Error ? err : new Error(String(err))));
  if (failed.first) onError(failed.first);
}

/** Per input partition: offsets at the warm-up start, the range start and the range end. */
async function inputRanges(admin: Admin, topics: string[], warmFromMs: number, fromMs: number, toMs: number, log: Logger): Promise<InputRange[]> {
  const ranges: InputRange[] = [];
  for (const topic of topics) {
    const [warm, from, to] = [await offsetsAtTime(admin, topic, warmFromMs, log), await offsetsAtTime(admin, topic, fromMs, log), await offsetsAtTime(admin, topic, toMs, log)];
    for (const [partition, warmStart] of warm) ranges.push({ topic, partition, warmStart, compareStart: from.get(partition) ?? warmStart, end: to.get(partition) ?? warmStart });
  }
  return ranges;
}
