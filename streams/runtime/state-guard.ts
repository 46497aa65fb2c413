// Keeps a stateful processor from computing anything from state that Redis lost, and rebuilds it.
// Each input partition has a state marker in Redis, `ss:<processor>:__state:<topic>:<partition>`,
// holding `ready:<token>` once the partition's state is complete. Every batch runs fenced by its
// partition's marker (redis-state.ts withFence): each state script checks the marker atomically
// before it writes, so after a FLUSHALL, a restart without persistence or a failover the very
// next state write fails with StateLostError and nothing of the batch is written or produced.
// The runner then asks for the fence again, which rebuilds the partition from Kafka (marker set
// to `rebuilding:<token>`, replay fenced by that, then ready:<token> only if the marker is still
// ours) and the batch runs again on exact state. Partitions are rebuilt in the processor, without
// a restart; a partition's batches wait for its rebuild, the others go on.
import { randomUUID } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import type { HandlerContext, ProcessorDefinition } from './processor.ts';
import type { AvroSerde } from './serde.ts';
import type { Logger } from './logger.ts';
import { StateLostError, StateStoreError } from './errors.ts';
import { withFence, type RedisState, type StateFence } from './state/redis-state.ts';
import { replayIntoState, replayRanges, type TopicPartition } from './state-rebuild.ts';

/** Sets the marker to the final value only if it still holds the rebuild's own token. */
const COMPARE_AND_SET = `if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('SET', KEYS[1], ARGV[2]) return 1 end return 0`;

/** The Redis key of a partition's state marker. */
export function stateMarkerKey(redis: RedisState, processor: string, tp: TopicPartition): string {
  return redis.key(processor, `__state:${tp.topic}:${tp.partition}`);
}

/** Declares partitions' state complete as it is (a benchmark that starts from empty state on purpose). */
export async function markStateReady(redis: RedisState, processor: string, tps: TopicPartition[], note: string): Promise<void> {
  for (const tp of tps) await redis.client.set(stateMarkerKey(redis, processor, tp), `ready:${note}`);
}

export interface StateGuardDeps {
  def: ProcessorDefinition;
  redis: RedisState;
  kafka: Kafka;
  serde: AvroSerde;
  /** The context rebuild.apply gets (its stores). */
  ctx: HandlerContext<unknown>;
  log: Logger;
  /** Called when a partition's state is found missing, before it is rebuilt (metrics). */
  onRebuild?: (tp: TopicPartition, replayed: number) => void;
}

export class StateGuard {
  private readonly d: StateGuardDeps;
  private readonly tokens = new Map<string, string>();
  private readonly rebuilding = new Map<string, Promise<StateFence>>();

  constructor(deps: StateGuardDeps) {
    this.d = deps;
  }

  markerKey(tp: TopicPartition): string {
    return stateMarkerKey(this.d.redis, this.d.def.name, tp);
  }

  /** The fence for a partition's next batch; rebuilds the partition's state first if Redis lost it. */
  async fence(tp: TopicPartition): Promise<StateFence> {
    const id = `${tp.topic}/${tp.partition}`;
    const token = this.tokens.get(id);
    if (token) return { key: this.markerKey(tp), token };
    let pending = this.rebuilding.get(id);
    if (!pending) {
      pending = this.adoptOrRebuild(tp).finally(() => this.rebuilding.delete(id));
      this.rebuilding.set(id, pending);
    }
    const fence = await pending;
    this.tokens.set(id, fence.token);
    return fence;
  }

  /** Forget a partition's token after a StateLostError (or when the partition is revoked). */
  forget(tp: TopicPartition): void {
    this.tokens.delete(`${tp.topic}/${tp.partition}`);
  }

  /** Runs a batch fenced by its partition's marker. */
  async run<T>(tp: TopicPartition, fn: () => Promise<T>): Promise<T> {
    const fence = await this.fence(tp);
    try {
      return await withFence(fence, fn);
    } catch (err) {
      if (err instanceof StateLostError) this.forget(tp);
      throw err;
    }
  }

  private async adoptOrRebuild(tp: TopicPartition): Promise<StateFence> {
    const { def, redis, log } = this.d;
    const key = this.markerKey(tp);
    const current = await this.redisCall(() => redis.client.get(key));
    if (current?.startsWith('ready:')) return { key, token: current };
    const rebuildToken = `rebuilding:${randomUUID()}`;
    await this.redisCall(() => redis.client.set(key, rebuildToken));
    let replayed = 0;
    const admin = this.d.kafka.admin();
    await admin.connect();
    try {
      const ranges = await replayRanges(def, admin, [tp], log);
      if (ranges.length && !def.rebuild) {
        log.error({ ...tp }, `state of ${def.name} lost in Redis and the processor declares no rebuild: it continues from empty state for this partition`);
      }
      replayed = await replayIntoState(def, this.d.kafka, admin, ranges, this.d.serde, this.d.ctx, log.child({ ...tp }), { key, token: rebuildToken });
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
    const ready = `ready:${randomUUID()}`;
    const swapped = await this.redisCall(() => redis.client.eval(COMPARE_AND_SET, 1, key, rebuildToken, ready));
    if (swapped !== 1) throw new StateLostError(`state marker ${key} changed during the rebuild (Redis lost the state again, or another instance took the partition)`);
    if (current !== null || replayed > 0) this.d.onRebuild?.(tp, replayed);
    if (current !== null || replayed > 0) log.warn({ ...tp, replayed, previousMarker: current }, 'partition state ready after rebuild');
    return { key, token: ready };
  }

  private async redisCall<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw new StateStoreError(`Redis unavailable while checking the state marker: ${(err as Error).message}`, err);
    }
  }
}
