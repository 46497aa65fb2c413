// State store kind `latest-by-key`: per key, the entry with the highest order number, plus the
// previous order returned on every update (so callers can see gaps and out-of-order arrivals).
import type { StateBackend, StateSpec } from './state-spec.ts';
import type { RedisState } from './redis-state.ts';
import { StateStoreError } from '../errors.ts';

export interface LatestEntry {
  key: string;
  order: number;
  payload: string;
}

export interface LatestByKeyStore {
  /** Applies all entries in one round trip; returns each entry's previous stored order (null if none). */
  update(entries: LatestEntry[]): Promise<(number | null)[]>;
  get(key: string): Promise<{ order: number; payload: string } | null>;
}

const SCRIPT = 'streamscoreLatestByKey';

class RedisLatestByKey implements LatestByKeyStore {
  private readonly redis: RedisState;
  private readonly namespace: string;
  private readonly ttlMs: number;
  constructor(redis: RedisState, namespace: string, ttlMs: number) {
    this.redis = redis;
    this.namespace = namespace;
    this.ttlMs = ttlMs;
    redis.defineScript(SCRIPT, new URL('./latest-by-key.lua', import.meta.url));
  }
  async update(entries: LatestEntry[]): Promise<(number | null)[]> {
    if (entries.length === 0) return [];
    const keys = entries.map((e) => this.redis.key(this.namespace, e.key));
    const args: (string | number)[] = [this.ttlMs];
    for (const e of entries) args.push(e.order, e.payload);
    const previous = (await this.redis.runScript(SCRIPT, keys, args)) as string[];
    return previous.map((p) => (p === '-1' ? null : Number(p)));
  }
  async get(key: string): Promise<{ order: number; payload: string } | null> {
    const h = await this.redis.client.hgetall(this.redis.key(this.namespace, key)).catch((err: Error) => {
      throw new StateStoreError(`Redis read failed: ${err.message}`, err);
    });
    return h.order === undefined ? null : { order: Number(h.order), payload: h.payload };
  }
}

class MemoryLatestByKey implements LatestByKeyStore {
  private readonly entries = new Map<string, { order: number; payload: string }>();
  async update(entries: LatestEntry[]): Promise<(number | null)[]> {
    return entries.map((e) => {
      const stored = this.entries.get(e.key);
      if (!stored || e.order > stored.order) this.entries.set(e.key, { order: e.order, payload: e.payload });
      return stored ? stored.order : null;
    });
  }
  async get(key: string): Promise<{ order: number; payload: string } | null> {
    return this.entries.get(key) ?? null;
  }
}

export function latestByKey(options: { ttlMs: number }): StateSpec<LatestByKeyStore> {
  return {
    kind: 'latest-by-key',
    detail: `highest-order entry per key, TTL ${Math.round(options.ttlMs / 3_600_000)} h`,
    open(backend: StateBackend, namespace: string) {
      return backend.kind === 'redis' ? new RedisLatestByKey(backend.redis, namespace, options.ttlMs) : new MemoryLatestByKey();
    },
  };
}
