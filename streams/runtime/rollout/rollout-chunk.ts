// One chunk with a challenger beside the champion (the batch loop and the test driver call this in
// place of processBatch; with no active challenger it is processBatch).
//   shadow: the champion handles the chunk; then the challenger handles the same records with its
//     own state namespace; its outputs are re-topicked to <topic>.shadow and delivered in the SAME
//     transaction or commit as the live ones. Its rejections are counted, never dead-lettered; a
//     failure or a run over shadowTimeoutMs drops that chunk's shadow outputs and never fails the
//     live chunk.
//     The two runs alternate order from chunk to chunk, so neither role's handle time always pays
//     (or gains) for running second (caches, the other run's garbage).
//   canary: the chunk's records are split by key hash (rollout-state.ts inCanary): canary keys go to
//     the challenger, the rest to the champion, and the outputs are merged in source-offset order.
//     The champion also scores the canary's records as a reference (challenger.ts CanaryReference):
//     on its own state namespace, outputs and failures discarded, so the rules compare both models
//     on the same records (a canary's keys are other entities than the champion's, whose scores
//     differ by the entities alone). The reference and the challenger alternate order too.
// After delivery, observe() feeds the metrics and the rollout controller.
import { CHUNK_HEADER, SOURCE_HEADER, chunkHeaderValues, processBatch, type BatchContext, type BatchResult, type EncodedMessage, type Failure, type RawRecord } from '../batch.ts';
import type { Logger } from '../logger.ts';
import { MODEL_HEADER } from '../models.ts';
import type { OutputRecord, ProcessorDefinition } from '../processor.ts';
import { errorLine } from '../retry.ts';
import type { AvroSerde } from '../serde.ts';
import type { ServingSet } from '../serving-set.ts';
import { PREDICTION } from '../drift/reference.ts';
import type { Challenger } from './challenger.ts';
import type { RolloutMetrics } from './rollout-metrics.ts';
import { ROLE_HEADER, SHADOW_SUFFIX, inCanary, shadowSpec } from './rollout-state.ts';

/** What one role did with its share of a chunk. */
export interface RoleSample {
  records: number;
  /** Records the handler rejected or failed on (processing stage; decode/validation failures are the input's, not the model's). */
  errors: number;
  ms: number;
  /** The challenger slot's predictions (drift samples' `prediction`), for the distribution rule. */
  scores: number[];
}

export interface ChunkRollout {
  challenger: Challenger;
  /** What the champion did with the records it served (for a shadow: all of them; for a canary: the keys not hashed in). */
  champion: RoleSample;
  /**
   * Canary only: the champion's reference run on the canary's records, which the rules judge the
   * challenger against (same records, same count per chunk); null when that run failed or timed out
   * (the chunk is then not judged); undefined for a shadow.
   */
  reference?: RoleSample | null;
  /** Null when the shadow run failed or timed out (all its records then count as errors). */
  challengerSample: RoleSample;
  compared: { topic: string; agree: boolean; delta?: number }[];
}

export type RolloutBatchResult = BatchResult & { rollout?: ChunkRollout };

export interface RolloutObserver {
  observe(rollout: ChunkRollout): void;
}

export const DEFAULT_SHADOW_TIMEOUT_MS = 10_000;

export interface RolloutRunnerOptions {
  processor: string;
  log: Logger;
  metrics: RolloutMetrics | null;
  controller: RolloutObserver | null;
  shadowTimeoutMs?: number;
}

export class RolloutRunner {
  private readonly o: RolloutRunnerOptions;
  /** Chunks run with a challenger: its parity picks which role runs first. */
  private chunks = 0;

  constructor(o: RolloutRunnerOptions) {
    this.o = o;
  }

  async runChunk(set: ServingSet, ctx: BatchContext, serde: AvroSerde, raws: RawRecord[]): Promise<RolloutBatchResult> {
    const c = set.rollout?.challenger;
    if (!c?.active) return processBatch(set.def, ctx, serde, raws);
    return c.stage.stage === 'shadow' ? this.shadow(set.def, c, ctx, serde, raws) : this.canary(set.def, c, ctx, serde, raws, c.stage.salt, c.stage.fraction);
  }

  /** Metrics and the controller, once the chunk is delivered (an attempt that failed is not counted). */
  observe(result: RolloutBatchResult): void {
    const r = result.rollout;
    if (!r) return;
    const m = this.o.metrics;
    if (m) {
      const role = r.challenger.stage.stage;
      const model = r.challenger.slot;
      m.records.inc({ processor: this.o.processor, model, role: 'champion' }, r.champion.records);
      m.records.inc({ processor: this.o.processor, model, role }, r.challengerSample.records);
      if (r.champion.records) m.latency.observe({ model, version: 'champion', role: 'champion' }, r.champion.ms / 1000 / r.champion.records);
      if (r.challengerSample.records) m.latency.observe({ model, version: r.challenger.version, role }, r.challengerSample.ms / 1000 / r.challengerSample.records);
      for (const cmp of r.compared) {
        m.agreement.inc({ processor: this.o.processor, model, role, agree: String(cmp.agree) });
        if (cmp.delta !== undefined) m.scoreDelta.observe({ processor: this.o.processor, model, topic: cmp.topic }, cmp.delta);
      }
    }
    this.o.controller?.observe(r);
  }

  /** Runs `a` and `b` one after the other, `b` first on every other chunk; each one's own time. */
  private async alternate<A, B>(a: () => Promise<A>, b: () => Promise<B>): Promise<[{ value: A; ms: number }, { value: B; ms: number }]> {
    const timed = async <T>(f: () => Promise<T>) => {
      const started = performance.now();
      const value = await f();
      return { value, ms: performance.now() - started };
    };
    if (this.chunks++ % 2 === 0) {
      const ra = await timed(a);
      return [ra, await timed(b)];
    }
    const rb = await timed(b);
    return [await timed(a), rb];
  }

  /** A run whose outputs are never delivered (shadow, canary reference): its failure or timeout is counted and logged, never the chunk's. */
  private async sideRun(c: Challenger, ctx: BatchContext, what: 'shadow' | 'reference', run: () => Promise<BatchResult>): Promise<BatchResult | null> {
    try {
      return await withTimeout(run(), this.o.shadowTimeoutMs ?? c.def.shadowTimeoutMs ?? DEFAULT_SHADOW_TIMEOUT_MS);
    } catch (err) {
      const reason = `${what === 'shadow' ? '' : 'reference_'}${err instanceof ShadowTimeoutError ? 'timeout' : 'error'}`;
      this.o.metrics?.shadowErrors.inc({ processor: this.o.processor, model: c.slot, reason });
      ctx.log.warn({ challenger: `${c.slot} version ${c.version}`, reason, err: errorLine(err) }, what === 'shadow'
        ? 'shadow run failed: its outputs of this chunk are dropped, the live chunk goes on'
        : 'the champion\'s reference run on the canary records failed: this chunk is not judged, the live chunk goes on');
      return null;
    }
  }

  private async shadow(def: ProcessorDefinition, c: Challenger, ctx: BatchContext, serde: AvroSerde, raws: RawRecord[]): Promise<RolloutBatchResult> {
    const [{ value: live, ms: championMs }, { value: shadow, ms: shadowMs }] = await this.alternate(
      () => processBatch(def, ctx, serde, raws),
      () => this.sideRun(c, ctx, 'shadow', () => processBatch(c.def, { ...ctx, state: c.state, models: c.models, pool: c.pool }, serde, raws)),
    );
    const shadowMessages = shadow ? shadowOutputs(c, shadow.outputs) : [];
    const rejects = shadow?.failures.filter(modelFailure).length ?? 0;
    if (rejects) this.o.metrics?.shadowRejects.inc({ processor: this.o.processor, model: c.slot }, rejects);
    const outputs = [...live.outputs, ...shadowMessages];
    assertLiveUntouched(outputs);
    return {
      ...live,
      outputs,
      rollout: {
        challenger: c,
        champion: sample(live, raws.length, championMs, c.slot),
        challengerSample: shadow ? sample(shadow, raws.length, shadowMs, c.slot) : { records: raws.length, errors: raws.length, ms: shadowMs, scores: [] },
        compared: shadow ? compare(def, c.slot, live.handled ?? [], shadow.handled ?? []) : [],
      },
    };
  }

  private async canary(def: ProcessorDefinition, c: Challenger, ctx: BatchContext, serde: AvroSerde, raws: RawRecord[], salt: string, fraction: number): Promise<RolloutBatchResult> {
    // A record without a key has no entity to hash: the champion serves it.
    const toCanary = raws.map((r) => r.key !== null && inCanary(salt, r.key.toString('utf8'), fraction));
    const canaryRaws = raws.filter((_, i) => toCanary[i]);
    const liveRaws = raws.filter((_, i) => !toCanary[i]);
    const empty: BatchResult = { outputs: [], failures: [], drift: [], handled: [] };
    let started = performance.now();
    const live = liveRaws.length ? await processBatch(def, ctx, serde, liveRaws) : empty;
    const championMs = performance.now() - started;
    // The reference reads a copy of the canary entities' live state taken before the challenger writes to it.
    const reference = canaryRaws.length && c.reference ? c.reference : null;
    const seeded = reference ? await this.sideRun(c, ctx, 'reference', async () => (await reference.seed(canaryRaws.map((r) => r.key!.toString('utf8'))), empty)) : null;
    const [{ value: canary, ms: canaryMs }, { value: referenceResult, ms: referenceMs }] = await this.alternate(
      // Live records: the challenger's failures are dead-lettered and its retriable errors retry the chunk, as the champion's do.
      () => (canaryRaws.length ? processBatch(c.def, { ...ctx, models: c.models, pool: c.pool }, serde, canaryRaws) : Promise.resolve(empty)),
      // The champion on the same records, its own state; nothing of it is delivered.
      async () => (reference && seeded ? this.sideRun(c, ctx, 'reference', () => processBatch(def, { ...ctx, state: reference.state }, serde, canaryRaws)) : null),
    );
    // Each half computed its chunk header from its own records: every output names the whole chunk.
    const chunks = chunkHeaderValues(raws);
    const canaryOut = canary.outputs.map((m): EncodedMessage => ({ ...m, headers: { ...m.headers, [ROLE_HEADER]: 'canary' } }));
    const outputs: EncodedMessage[] = [...live.outputs, ...canaryOut].sort((a, b) => compareOffsets(a.sourceOffset, b.sourceOffset));
    for (const m of outputs) {
      const source = String(m.headers[SOURCE_HEADER] ?? '');
      const chunk = chunks.get(source.slice(0, source.lastIndexOf('/')));
      if (chunk) m.headers[CHUNK_HEADER] = chunk;
    }
    assertLiveUntouched(outputs);
    return {
      outputs,
      failures: [...live.failures, ...canary.failures].sort((a: Failure, b: Failure) => compareOffsets(a.record.offset, b.record.offset)),
      drift: [...live.drift, ...canary.drift],
      handled: [...(live.handled ?? []), ...(canary.handled ?? [])],
      rollout: {
        challenger: c,
        champion: sample(live, liveRaws.length, championMs, c.slot),
        challengerSample: sample(canary, canaryRaws.length, canaryMs, c.slot),
        // No canary records in this chunk: nothing to compare, and the chunk adds only the champion's side.
        reference: !canaryRaws.length ? undefined : referenceResult ? sample(referenceResult, canaryRaws.length, referenceMs, c.slot) : null,
        compared: [],
      },
    };
  }
}

const modelFailure = (f: Failure) => f.error.stage === 'processing';

function sample(result: BatchResult, records: number, ms: number, slot: string): RoleSample {
  const scores = result.drift.filter((d) => d.model === slot && Number.isFinite(d.values[PREDICTION])).map((d) => d.values[PREDICTION]);
  return { records, errors: result.failures.filter(modelFailure).length, ms, scores };
}

/** The challenger's outputs on the shadow twins of their topics, marked; one over its topic's size limit is dropped (it must not dead-letter a live record). */
function shadowOutputs(c: Challenger, outputs: EncodedMessage[]): EncodedMessage[] {
  const specs = new Map(c.def.outputs.map((t) => [t.name, shadowSpec(t)]));
  return outputs.flatMap((m) => {
    const spec = specs.get(m.topic);
    if (!spec || m.value.length > spec.maxMessageBytes) return [];
    return [{ ...m, topic: spec.name, headers: { ...m.headers, [ROLE_HEADER]: 'shadow' } }];
  });
}

/** The guard of the live topics: a shadow output never leaves a .shadow topic, and a .shadow topic holds only shadow outputs. */
export function assertLiveUntouched(messages: readonly EncodedMessage[]): void {
  for (const m of messages) {
    const shadowTopic = m.topic.endsWith(SHADOW_SUFFIX);
    const shadowOutput = String(m.headers[ROLE_HEADER] ?? '') === 'shadow';
    if (shadowTopic !== shadowOutput) throw new Error(`rollout bug: a ${shadowOutput ? 'shadow' : 'live'} output was about to be written to ${m.topic}; the chunk is refused rather than let a challenger reach a live topic`);
  }
}

/**
 * Pairs the champion's and the shadow's outputs for the same input (topic, key, source offset) of
 * the challenger's model, and applies the processor's compare per topic; an output one side made and
 * the other did not (an alert raised by one only) disagrees.
 */
function compare(def: ProcessorDefinition, slot: string, live: OutputRecord[], shadow: OutputRecord[]): ChunkRollout['compared'] {
  if (!def.compare) return [];
  const ofSlot = (o: OutputRecord) => !o.headers?.[MODEL_HEADER] || o.headers[MODEL_HEADER].startsWith(`${slot}@`);
  const keyOf = (o: OutputRecord) => `${o.topic.name}|${o.key}|${o.source.topic}/${o.source.partition}/${o.source.offset}`;
  const shadowByKey = new Map(shadow.filter(ofSlot).map((o) => [keyOf(o), o]));
  const out: ChunkRollout['compared'] = [];
  for (const l of live.filter(ofSlot)) {
    const fn = def.compare[l.topic.name];
    if (!fn) continue;
    const s = shadowByKey.get(keyOf(l));
    shadowByKey.delete(keyOf(l));
    out.push(s ? { topic: l.topic.name, ...fn(l.value, s.value) } : { topic: l.topic.name, agree: false });
  }
  for (const s of shadowByKey.values()) if (def.compare[s.topic.name]) out.push({ topic: s.topic.name, agree: false });
  return out;
}

class ShadowTimeoutError extends Error {}

/** The shadow run is abandoned (not cancelled: its state writes may still land, in its own namespace) after `ms`. */
function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new ShadowTimeoutError(`shadow run over ${ms} ms`)), ms)));
  p.catch(() => undefined);
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

function compareOffsets(a: string, b: string): number {
  const d = BigInt(a) - BigInt(b);
  return d < 0n ? -1 : d > 0n ? 1 : 0;
}
