// What a processor serves at one time: the definition built from one set of model directories, its
// loaded sessions (or its worker pool, whose threads load them) and the registry versions they came
// from. The batch loop takes the current set at the start of each chunk and keeps it for every
// attempt of that chunk, so a chunk is scored, delivered and committed (one transaction for
// exactly-once) by one set: a swap is a reference assignment between chunks and can neither drop a
// record nor score one twice. The old set is closed when the last chunk holding it lets go (a
// count, since partitionsConsumedConcurrently may run several chunks at once).
import type { Logger } from './logger.ts';
import type { ModelSource } from './models.ts';
import type { LoadedModel } from './models.ts';
import { openProcessorModels } from './processor-models.ts';
import type { ProcessorDefinition } from './processor.ts';
import type { ResolvedSlot } from './model-registry/resolver.ts';
import { topologyChange, type ServedProcessor } from './served-processor.ts';
import type { WorkerPool } from './worker-pool.ts';
import type { PoolMetricsRecorder } from './worker-pool-metrics.ts';
import type { WorkerSettings } from './kafka-runner.ts';
import type { SetRollout } from './rollout/challenger.ts';

export interface ServingSet {
  /** 1 for the set the processor started with, then one more per swap. */
  readonly id: number;
  readonly def: ProcessorDefinition;
  readonly models: Record<string, LoadedModel>;
  readonly pool: WorkerPool | null;
  /** The registry version (null: committed directory) and directory of each model slot. */
  readonly slots: readonly ResolvedSlot[];
  /** The challenger the registry asks for (shadow or canary) and, if it could be opened, the one served with this set (rollout/). */
  readonly rollout?: SetRollout;
  close(): Promise<void>;
}

/** A candidate set that may not replace the serving one (its topology differs); the alias move is not followed. */
export class ServingRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ServingRefusedError';
  }
}

export interface OpenServingOptions {
  served: ServedProcessor;
  settings: WorkerSettings;
  log: Logger;
  source?: ModelSource;
  metrics?: PoolMetricsRecorder;
}

/**
 * Builds the definition from `resolved` and loads its models (signatures checked) or starts and
 * warms its worker pool. With `current`, the candidate must keep current's topology apart from the
 * model versions; that is checked before any session is loaded.
 */
export async function openServingSet(o: OpenServingOptions, resolved: readonly ResolvedSlot[], id: number, current?: ProcessorDefinition): Promise<ServingSet> {
  const def = o.served.build(Object.fromEntries(resolved.map((r) => [r.name, r.dir])));
  if (def.name !== o.served.name) throw new ServingRefusedError(`the models built processor ${def.name}, not ${o.served.name}`);
  // A registered version must hold the model of its name: another model's files would serve under a wrong name.
  const declared = new Set((def.models ?? []).map((m) => m.name));
  const strangers = resolved.filter((r) => !declared.has(r.name));
  if (strangers.length) throw new ServingRefusedError(`the directories served for ${strangers.map((r) => `${r.name} (${r.dir})`).join(', ')} hold no model of that name (the processor declares ${[...declared].join(', ') || 'none'})`);
  const change = current ? topologyChange(current, def) : null;
  if (change) throw new ServingRefusedError(change);
  const opened = await openProcessorModels(def, o.settings, o.log, o.source, o.metrics);
  return { id, def, models: opened.models, pool: opened.pool, slots: resolved, close: opened.close };
}

/** The serving sets of one processor: the current one, and old ones until their last chunk ends. */
export class ServingSets {
  private serving: ServingSet;
  private readonly holds = new Map<ServingSet, number>();
  private readonly closing = new Set<Promise<void>>();
  private readonly retired = new WeakSet<ServingSet>();
  private readonly log: Logger;

  constructor(first: ServingSet, log: Logger) {
    this.serving = first;
    this.log = log;
  }

  current(): ServingSet {
    return this.serving;
  }

  /** The current set for one chunk; call release() once when the chunk is delivered or given up. */
  acquire(): { set: ServingSet; release: () => void } {
    const set = this.serving;
    this.holds.set(set, (this.holds.get(set) ?? 0) + 1);
    let released = false;
    return {
      set,
      release: () => {
        if (released) return;
        released = true;
        const left = (this.holds.get(set) ?? 1) - 1;
        if (left > 0) return void this.holds.set(set, left);
        this.holds.delete(set);
        if (set !== this.serving) this.retire(set);
      },
    };
  }

  /** Chunks that start from now on get `next`; the old set closes when no chunk holds it. */
  swap(next: ServingSet): ServingSet {
    const old = this.serving;
    this.serving = next;
    if (!this.holds.has(old)) this.retire(old);
    return old;
  }

  /** Closes the current set and waits for every retired one (the processor is stopping). */
  async close(): Promise<void> {
    this.retire(this.serving);
    await Promise.all([...this.closing]);
  }

  private retire(set: ServingSet): void {
    if (this.retired.has(set)) return;
    this.retired.add(set);
    const p: Promise<void> = set.close()
      .catch((err: unknown) => this.log.warn({ set: set.id, err: err instanceof Error ? err.message : String(err) }, 'closing a retired model set failed'))
      .finally(() => this.closing.delete(p));
    this.closing.add(p);
  }
}
